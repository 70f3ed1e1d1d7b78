/* A copy of libptcancel.so loaded with dlopen comes after libc, so it cannot interpose libc's
 * cancellation points. Its pthread_cancel must refuse with ENOTSUP (and say why on stderr)
 * instead of installing a signal-32 handler that threads blocked in libc could never honour.
 *
 * Usage: dlopen_copy /path/to/libptcancel.so
 * Prints the outcome; exits 0 iff the copy refused and glibc's own cancellation still works.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fds[2];

static void *reader(void *arg)
{
    char c;
    (void)arg;
    for (;;)
        read(fds[0], &c, 1); /* glibc's read: the program's reference binds to libc */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s libptcancel.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        /* glibc may refuse a static-TLS object in dlopen: also safe, nothing was touched. */
        printf("dlopen refused: %s\n", dlerror());
        return 0;
    }
    int (*copy_cancel)(pthread_t) = (int (*)(pthread_t))dlsym(lib, "pthread_cancel");
    if (!copy_cancel || copy_cancel == pthread_cancel) {
        printf("FAIL: no separate pthread_cancel in the dlopen'ed copy\n");
        return 1;
    }
    pipe(fds);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    usleep(20000);
    int copy_result = copy_cancel(t);
    printf("copy pthread_cancel: %s\n", copy_result == ENOTSUP ? "ENOTSUP" : strerror(copy_result));
    /* The process's own cancellation is intact: glibc's pthread_cancel still works. */
    int libc_result = pthread_cancel(t);
    void *value;
    pthread_join(t, &value);
    printf("libc pthread_cancel: %d, joined %s\n", libc_result,
           value == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "other");
    return copy_result == ENOTSUP && libc_result == 0 && value == PTHREAD_CANCELED ? 0 : 1;
}
