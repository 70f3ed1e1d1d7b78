/* i386 _TIME_BITS=64 entry points give what glibc's own give (looked up inside libc.so.6, so
 * this works under LD_PRELOAD and with libptcancel.a linked in). Non-blocking cases only: the
 * cancellation of these entry points is covered by the tests/c programs built with
 * -D_TIME_BITS=64. Build: gcc -m32 -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 ... -ldl
 * Prints one line per case; exits 0 iff all match.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#if !defined(__i386__) || _TIME_BITS != 64
#error "build with -m32 -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64"
#endif

#include "against_glibc.h"

/* A UDP datagram to ourselves with SO_TIMESTAMP and SO_TIMESTAMPNS on; receive it with `rx`
 * into a control buffer of `csize` bytes; returns the control bytes and flags seen. */
static int timestamp_socket(int ns)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    connect(s, (struct sockaddr *)&a, sizeof a);
    setsockopt(s, SOL_SOCKET, ns ? SO_TIMESTAMPNS_OLD : SO_TIMESTAMP_OLD, &one, sizeof one);
    return s;
}

static void recvmsg_case(const char *what, int ns, size_t csize, int use_mmsg)
{
    unsigned char c1[256], c2[256];
    struct msghdr m[2];
    int f[2];
    size_t len[2];
    for (int who = 0; who < 2; who++) {
        int s = timestamp_socket(ns);
        send(s, "x", 1, 0);
        char byte;
        struct iovec iov = {&byte, 1};
        unsigned char *c = who ? c2 : c1;
        memset(c, 0xee, 256);
        m[who] = (struct msghdr){.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = csize};
        if (use_mmsg) {
            struct mmsghdr mm = {.msg_hdr = m[who]};
            int (*f64)(int, struct mmsghdr *, unsigned, int, struct timespec *) =
                who ? glibc_fn("__recvmmsg64") : (void *)recvmmsg;
            f64(s, &mm, 1, 0, NULL);
            m[who] = mm.msg_hdr;
        } else {
            ssize_t (*f64)(int, struct msghdr *, int) = who ? glibc_fn("__recvmsg64") : (void *)recvmsg;
            f64(s, &m[who], 0);
        }
        f[who] = m[who].msg_flags;
        len[who] = m[who].msg_controllen;
        close(s);
    }
    /* The timestamps differ between the two datagrams: compare the layout, not the values. */
    int ok = f[0] == f[1] && len[0] == len[1];
    for (size_t at = 0; ok && at + 12 <= len[0];) {
        unsigned *h1 = (unsigned *)(c1 + at), *h2 = (unsigned *)(c2 + at);
        ok = h1[0] == h2[0] && h1[1] == h2[1] && h1[2] == h2[2];
        if (h1[0] < 12)
            break;
        at += (h1[0] + 3) & ~3u;
    }
    printf("%s: control length %zu, %s\n", what, len[0], f[0] & MSG_CTRUNC ? "MSG_CTRUNC" : "complete");
    check(what, ok);
}

int main(void)
{
    open_glibc();
    struct timespec bad = {-1, 0}, zero = {0, 0};
    /* With _TIME_BITS=64 these names are redirected to the __*64 entry points. */
    COMPARE_AS("nanosleep64 negative", nanosleep, "__nanosleep64", int, &bad, NULL);
    COMPARE_AS("nanosleep64 zero", nanosleep, "__nanosleep64", int, &zero, NULL);
    COMPARE_AS("clock_nanosleep64 bad clock", clock_nanosleep, "__clock_nanosleep_time64", int, 12345, 0, &zero, NULL);
    COMPARE_AS("clock_nanosleep64 thread cputime", clock_nanosleep, "__clock_nanosleep_time64", int,
               CLOCK_THREAD_CPUTIME_ID, 0, &zero, NULL);
    COMPARE_AS("clock_nanosleep64 negative", clock_nanosleep, "__clock_nanosleep_time64", int, CLOCK_MONOTONIC, 0,
               &bad, NULL);

    int p[2];
    pipe(p);
    write(p[1], "ab", 2);
    struct pollfd pfd = {p[0], POLLIN, 0};
    struct timespec ts1 = {0, 30000000}, ts2 = ts1;
    int (*g_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *) = glibc_fn("__ppoll64");
    int r1 = ppoll(&pfd, 1, &ts1, NULL), r2 = g_ppoll(&pfd, 1, &ts2, NULL);
    same("ppoll64 ready", r1, 0, r2, 0);
    check("ppoll64 timeout untouched", ts1.tv_nsec == 30000000 && ts2.tv_nsec == 30000000);

    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    int (*g_pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *) = glibc_fn("__pselect64");
    r1 = pselect(p[0] + 1, &rs, NULL, NULL, &ts1, NULL);
    FD_SET(p[0], &rs);
    r2 = g_pselect(p[0] + 1, &rs, NULL, NULL, &ts2, NULL);
    same("pselect64 ready", r1, 0, r2, 0);

    /* select64 normalises the timeval and writes back the time left. */
    int (*g_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *) = glibc_fn("__select64");
    struct timeval tv1 = {0, 2500000}, tv2 = tv1;
    FD_SET(p[0], &rs);
    r1 = select(p[0] + 1, &rs, NULL, NULL, &tv1);
    FD_SET(p[0], &rs);
    r2 = g_select(p[0] + 1, &rs, NULL, NULL, &tv2);
    same("select64 ready", r1, 0, r2, 0);
    check("select64 time left normalised alike", tv1.tv_sec == tv2.tv_sec && (tv1.tv_usec > 400000) == (tv2.tv_usec > 400000));
    struct timeval negative = {0, -1};
    errno = 0;
    r1 = select(0, NULL, NULL, NULL, &negative);
    int e1 = errno;
    errno = 0;
    r2 = g_select(0, NULL, NULL, NULL, &negative);
    same("select64 negative timeout", r1, e1, r2, errno);

    /* sigtimedwait64 reports a tgkill'ed signal as SI_USER, like glibc. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    siginfo_t i1, i2;
    int (*g_stw)(const sigset_t *, siginfo_t *, const struct timespec *) = glibc_fn("__sigtimedwait64");
    pthread_kill(pthread_self(), SIGUSR1);
    r1 = sigtimedwait(&set, &i1, &zero);
    pthread_kill(pthread_self(), SIGUSR1);
    r2 = g_stw(&set, &i2, &zero);
    same("sigtimedwait64 signal", r1, 0, r2, 0);
    check("sigtimedwait64 si_code", i1.si_code == i2.si_code);
    errno = 0;
    r1 = sigtimedwait(&set, &i1, &zero);
    e1 = errno;
    errno = 0;
    r2 = g_stw(&set, &i2, &zero);
    same("sigtimedwait64 nothing pending", r1, e1, r2, errno);

    /* wait4_time64 fills the 64-bit rusage. */
    pid_t (*g_wait4)(pid_t, int *, int, struct rusage *) = glibc_fn("__wait4_time64");
    for (int who = 0; who < 2; who++) {
        pid_t child = fork();
        if (child == 0)
            _exit(7);
        int status = 0;
        struct rusage ru;
        memset(&ru, 0xff, sizeof ru);
        pid_t got = who ? g_wait4(child, &status, 0, &ru) : wait4(child, &status, 0, &ru);
        printf("wait4_time64 (%s): %s status %d, rusage %s\n", who ? "glibc" : "ours", got == child ? "reaped" : "FAILED",
               WEXITSTATUS(status), ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec < 1000000 && ru.ru_maxrss > 0 ? "sane" : "WRONG");
        failures += got != child || WEXITSTATUS(status) != 7 || ru.ru_maxrss <= 0 || ru.ru_utime.tv_usec >= 1000000;
    }

    /* recvmsg64/recvmmsg64 append the 64-bit timestamp when there is room, else MSG_CTRUNC. */
    recvmsg_case("recvmsg64 SO_TIMESTAMP, room", 0, 256, 0);
    recvmsg_case("recvmsg64 SO_TIMESTAMPNS, room", 1, 256, 0);
    recvmsg_case("recvmsg64 SO_TIMESTAMP, no room", 0, 24, 0);
    recvmsg_case("recvmmsg64 SO_TIMESTAMP, room", 0, 256, 1);
    recvmsg_case("recvmmsg64 SO_TIMESTAMPNS, no room", 1, 28, 1);
    return failures != 0;
}
