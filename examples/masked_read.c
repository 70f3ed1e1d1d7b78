/* masked_read: ptcancel linked into a program through pkg-config, and musl's
 * PTHREAD_CANCEL_MASKED, which glibc alone does not have.
 *
 * A worker blocks in read() on an empty pipe with cancellation MASKED. The
 * cancel does not kill it: read() fails with ECANCELED, the cancel state
 * becomes DISABLE, and the worker closes what it owns and returns normally,
 * with its result. Whatever the scheduling, the output is the same.
 *
 *   cc -O2 $(pkg-config --cflags ptcancel) masked_read.c \
 *      $(pkg-config --static --libs ptcancel) -o masked_read
 *   ./masked_read
 *
 * (32-bit: cc -m32 ..., with PKG_CONFIG_PATH=$PREFIX/lib/i386-linux-gnu/pkgconfig.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ptcancel.h>

static int fds[2];

static void *worker(void *arg)
{
    char byte;
    int old;
    (void)arg;
    if (pthread_setcancelstate(PTHREAD_CANCEL_MASKED, &old) != 0)
        return "no PTHREAD_CANCEL_MASKED: this is not ptcancel";
    /* Blocks: nothing is ever written. Or fails at once if the cancel came
     * first: either way the cancel is reported, not acted on. */
    if (read(fds[0], &byte, 1) != -1 || errno != ECANCELED)
        return "read() did not fail with ECANCELED";
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    if (old != PTHREAD_CANCEL_DISABLE)
        return "the state did not become DISABLE";
    close(fds[0]); /* not a cancellation point any more: cancellation is disabled */
    return "read() failed with ECANCELED; the worker closed its pipe and returned";
}

int main(void)
{
    pthread_t t;
    void *result;

    printf("ptcancel %s, syscall mode %s\n", ptcancel_version(), ptcancel_syscall_mode());
    if (pipe(fds) != 0 || pthread_create(&t, NULL, worker, NULL) != 0)
        return 2;
    pthread_cancel(t);
    pthread_join(t, &result);
    if (result == PTHREAD_CANCELED) {
        printf("the worker was cancelled\n");
        return 1;
    }
    printf("%s\n", (const char *)result);
    return strncmp(result, "read()", 6) == 0 ? 0 : 1;
}
