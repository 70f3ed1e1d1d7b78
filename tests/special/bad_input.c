/* Bad input through ptcancel's entry points gets the kernel's errno, never a crash, and the
 * same result as glibc's own function (looked up inside libc.so.6 itself, which works both
 * under LD_PRELOAD and with libptcancel.a linked into the program).
 *
 * Prints one line per case; exits 0 iff every case matched glibc (or, where glibc itself would
 * crash on the bad pointer, returned EFAULT).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* volatile: keeps gcc from diagnosing the deliberately bad pointer at compile time */
static void *volatile bad_pointer = (void *)16;
#define BAD_PTR bad_pointer

static void *libc_handle;
static int failures;

static void *glibc_fn(const char *name)
{
    void *fn = dlsym(libc_handle, name);
    if (!fn) {
        fprintf(stderr, "no %s in libc.so.6\n", name);
        _exit(2);
    }
    return fn;
}

/* Compare (result, errno) of ours with glibc's. */
static void same(const char *what, long ours, int ours_errno, long theirs, int theirs_errno)
{
    int ok = ours == theirs && (ours != -1 || ours_errno == theirs_errno);
    printf("%s: %ld %s%s\n", what, ours, ours == -1 ? strerrorname_np(ours_errno) : "",
           ok ? "" : " MISMATCH");
    if (!ok) {
        fprintf(stderr, "FAIL %s: ours %ld/%d glibc %ld/%d\n", what, ours, ours_errno, theirs, theirs_errno);
        failures++;
    }
}

#define COMPARE(what, name, type, ...)                                     \
    do {                                                                   \
        type (*theirs)() = (type(*)())glibc_fn(#name);                     \
        errno = 0;                                                         \
        long r1 = name(__VA_ARGS__);                                       \
        int e1 = errno;                                                    \
        errno = 0;                                                         \
        long r2 = theirs(__VA_ARGS__);                                     \
        int e2 = errno;                                                    \
        same(what, r1, e1, r2, e2);                                        \
    } while (0)

int main(void)
{
    libc_handle = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!libc_handle)
        return 2;
    int p[2];
    pipe(p);
    char buf[4];

    COMPARE("read bad fd", read, ssize_t, -1, buf, 4);
    COMPARE("read bad buffer", read, ssize_t, p[0], BAD_PTR, 0); /* 0 bytes: no fault */
    write(p[1], "ab", 2);
    COMPARE("read into bad buffer", read, ssize_t, p[0], BAD_PTR, 1);
    COMPARE("write bad fd", write, ssize_t, 12345, buf, 1);
    COMPARE("write from bad buffer", write, ssize_t, p[1], BAD_PTR, 1);
    COMPARE("pread on a pipe", pread, ssize_t, p[0], buf, 1, 0);
    COMPARE("open bad path", open, int, BAD_PTR, O_RDONLY);
    COMPARE("open missing", open, int, "/nonexistent/x", O_RDONLY);
    COMPARE("openat bad dirfd", openat, int, 9999, "x", O_RDONLY);
    COMPARE("creat bad path", creat, int, BAD_PTR, 0600);
    COMPARE("close bad fd", close, int, 9999);
#ifdef __i386__
    /* glibc's i386 wrappers convert the timespec to 64 bits with a plain load and crash. */
    errno = 0;
    int r0 = nanosleep(BAD_PTR, NULL);
    same("nanosleep bad request", r0, errno, -1, EFAULT);
#else
    COMPARE("nanosleep bad request", nanosleep, int, BAD_PTR, NULL);
#endif
    struct timespec negative = {-1, 0};
    COMPARE("nanosleep negative", nanosleep, int, &negative, NULL);
    COMPARE("clock_nanosleep bad clock", clock_nanosleep, int, 12345, 0, &negative, NULL);
#ifdef __i386__
    r0 = clock_nanosleep(CLOCK_MONOTONIC, 0, BAD_PTR, NULL);
    same("clock_nanosleep bad request", r0, 0, EFAULT, 0);
#else
    COMPARE("clock_nanosleep bad request", clock_nanosleep, int, CLOCK_MONOTONIC, 0, BAD_PTR, NULL);
#endif
    COMPARE("clock_nanosleep thread cputime", clock_nanosleep, int, CLOCK_THREAD_CPUTIME_ID, 0, &negative, NULL);
    COMPARE("usleep 0", usleep, int, 0);
    COMPARE("poll bad fds", poll, int, BAD_PTR, 1, 0);
    COMPARE("select bad nfds", select, int, -1, NULL, NULL, NULL, NULL);
    COMPARE("accept bad fd", accept, int, -1, NULL, NULL);
    COMPARE("accept on a pipe", accept, int, p[0], NULL, NULL);
    COMPARE("accept4 bad flags", accept4, int, p[0], NULL, NULL, -1);
    COMPARE("connect bad address", connect, int, p[0], BAD_PTR, 16);
    COMPARE("recv on a pipe", recv, ssize_t, p[0], buf, 1, 0);
    COMPARE("send bad fd", send, ssize_t, -1, buf, 1, 0);
    COMPARE("sendmsg bad msg", sendmsg, ssize_t, p[1], BAD_PTR, 0);
    COMPARE("recvmsg bad msg", recvmsg, ssize_t, p[0], BAD_PTR, 0);

    /* glibc copies these timeouts with a plain load and would crash; ptcancel says EFAULT. */
    struct pollfd pfd = {p[0], POLLIN, 0};
    errno = 0;
    int r = ppoll(&pfd, 1, BAD_PTR, NULL);
    same("ppoll bad timeout", r, errno, -1, EFAULT);
    errno = 0;
    r = pselect(0, NULL, NULL, NULL, BAD_PTR, NULL);
    same("pselect bad timeout", r, errno, -1, EFAULT);

    /* The caller's timeout is not modified by ppoll/pselect, as with glibc. */
    struct timespec ts = {0, 20 * 1000 * 1000};
    sigset_t empty;
    sigemptyset(&empty);
    ppoll(&pfd, 0, &ts, &empty);
    pselect(0, NULL, NULL, NULL, &ts, &empty);
    int kept = ts.tv_sec == 0 && ts.tv_nsec == 20 * 1000 * 1000;
    printf("timeouts kept: %s\n", kept ? "yes" : "no");
    failures += !kept;

    /* sleep(0) succeeds and leaves errno alone, as glibc's does. */
    errno = EAGAIN;
    unsigned left = sleep(0);
    printf("sleep(0): %u errno kept: %s\n", left, errno == EAGAIN ? "yes" : "no");
    failures += left != 0 || errno != EAGAIN;

    /* Invalid states and types: EINVAL, old value untouched. */
    int old = 77;
    int e1 = pthread_setcancelstate(3, &old), e2 = pthread_setcancelstate(-1, &old);
    int e3 = pthread_setcanceltype(2, &old);
    int ok = e1 == EINVAL && e2 == EINVAL && e3 == EINVAL && old == 77;
    printf("invalid state/type: %s\n", ok ? "EINVAL, old untouched" : "WRONG");
    failures += !ok;
    return failures != 0;
}
