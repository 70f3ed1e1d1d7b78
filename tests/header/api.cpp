// Calls every function include/ptcancel.h declares, from C++ (tests/library.rs checks this
// file against the header's declarations): it links only if the header gives them C linkage.
// Deterministic: the worker waits at a barrier until the cancel has been sent.
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ptcancel.h>

static void check(bool ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        exit(1);
    }
}

struct Unwound {
    bool *ran;
    ~Unwound() { *ran = true; }
};

static pthread_barrier_t barrier;
static int fds[2];
static bool destructor_ran;

static void *worker(void *)
{
    Unwound guard = {&destructor_ran};
    int old = -1;
    check(pthread_setcancelstate(PTHREAD_CANCEL_MASKED, &old) == 0 && old == PTHREAD_CANCEL_ENABLE,
          "pthread_setcancelstate(PTHREAD_CANCEL_MASKED) from ENABLE");
    pthread_barrier_wait(&barrier); // main sends the cancel...
    pthread_barrier_wait(&barrier); // ...which is now pending
    char c;
    errno = 0;
    check(read(fds[0], &c, 1) == -1 && errno == ECANCELED, "read() under MASKED fails with ECANCELED");
    check(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old) == 0 && old == PTHREAD_CANCEL_DISABLE,
          "reporting ECANCELED switched the state to DISABLE");
    check(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old) == 0 && old == PTHREAD_CANCEL_DEFERRED,
          "pthread_setcanceltype(DEFERRED)");
    check(pthread_setcanceltype(99, &old) == EINVAL, "pthread_setcanceltype(99) is EINVAL");
    pthread_testcancel(); // the cancel is still pending: acts here
    check(false, "pthread_testcancel() returned with a cancel pending");
    return NULL;
}

int main(int argc, char **argv)
{
    const char *version = ptcancel_version();
    const char *mode = ptcancel_syscall_mode();
    check(version != NULL && mode != NULL, "ptcancel_version() and ptcancel_syscall_mode()");
    if (argc > 1)
        check(strcmp(version, argv[1]) == 0, "ptcancel_version() is the crate's version");
    check(pipe(fds) == 0, "pipe");
    check(pthread_barrier_init(&barrier, NULL, 2) == 0, "pthread_barrier_init");
    pthread_t t;
    check(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create");
    pthread_barrier_wait(&barrier);
    check(pthread_cancel(t) == 0, "pthread_cancel");
    pthread_barrier_wait(&barrier);
    void *ret = NULL;
    check(pthread_join(t, &ret) == 0 && ret == PTHREAD_CANCELED, "joined: PTHREAD_CANCELED");
    check(destructor_ran, "the C++ destructor ran during the cancellation");
    printf("ptcancel %s (%s): C++ calls every declared function\n", version, mode);
    return 0;
}
