/* Bad input through ptcancel's entry points gets the kernel's errno and the same result as
 * glibc's own function (against_glibc.h); where glibc reads a bad pointer itself and faults,
 * ptcancel faults the same way (checked in a child).
 *
 * Prints one line per case; exits 0 iff every case matched glibc (or, where glibc itself would
 * crash on a bad pointer it converts, returned EFAULT).
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
#include <aio.h>
#include <stdlib.h>
#include <termios.h>
#include <mqueue.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sched.h>

/* volatile: keeps gcc from diagnosing the deliberately bad pointer at compile time */
static void *volatile bad_pointer = (void *)16;
#define BAD_PTR bad_pointer

#include "against_glibc.h"

#if defined(__i386__) && defined(_TIME_BITS) && _TIME_BITS == 64
#define PPOLL_NAME "__ppoll64"
#define PSELECT_NAME "__pselect64"
#else
#define PPOLL_NAME "ppoll"
#define PSELECT_NAME "pselect"
#endif

extern int __xpg_sigpause(int sig); /* glibc's XSI sigpause, what _XOPEN_SOURCE selects */

/* Whether fn() dies of SIGSEGV (in a child). */
static int faults(void (*fn)(void))
{
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static void call_ppoll_bad(void) { ppoll(NULL, 0, BAD_PTR, NULL); }
static void call_pselect_bad(void) { pselect(0, NULL, NULL, NULL, BAD_PTR, NULL); }
static void call_glibc_ppoll_bad(void)
{
    int (*glibc_ppoll)() = (int (*)())glibc_fn(PPOLL_NAME);
    glibc_ppoll(NULL, 0, BAD_PTR, NULL);
}
static void call_glibc_pselect_bad(void)
{
    int (*glibc_pselect)() = (int (*)())glibc_fn(PSELECT_NAME);
    glibc_pselect(0, NULL, NULL, NULL, BAD_PTR, NULL);
}

int main(void)
{
    open_glibc();
    int p[2];
    pipe(p);
    char buf[4];

    COMPARE("read bad fd", read, ssize_t, -1, buf, 4);
    COMPARE("read bad buffer", read, ssize_t, p[0], BAD_PTR, 0); /* 0 bytes: no fault */
    write(p[1], "ab", 2);
    COMPARE("read into bad buffer", read, ssize_t, p[0], BAD_PTR, 1);
    COMPARE("write bad fd", write, ssize_t, 12345, buf, 1);
    COMPARE("write from bad buffer", write, ssize_t, p[1], BAD_PTR, 1);
    COMPARE("pread on a pipe", pread, ssize_t, p[0], buf, 1, (off_t)0);
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

    /* The rest of the cancellation points, in calls that do not block. */
    COMPARE("fcntl bad fd", fcntl, int, -1, F_GETFD);
    COMPARE("fcntl F_GETFL", fcntl, int, p[0], F_GETFL);
    COMPARE("fcntl F_GETOWN", fcntl, int, p[0], F_GETOWN);
    /* A process-group owner comes back negated, which for a group id below 4096 looks like an
     * error code: it is not one (errno stays). Small group ids: the first process of a new pid
     * namespace (root only; elsewhere only the own group is checked). */
    struct f_owner_ex own_group = {F_OWNER_PGRP, getpgrp()};
    fcntl(p[0], F_SETOWN_EX, &own_group);
    COMPARE("fcntl F_GETOWN own process group", fcntl, int, p[0], F_GETOWN);
    fflush(stdout);
    pid_t outer = fork();
    if (outer == 0) {
        /* In a child: after unshare, this process's next child is pid 1 of the namespace. */
        if (unshare(CLONE_NEWPID) != 0)
            _exit(0);
        pid_t first = fork();
        if (first == 0) {
            setpgid(0, 0); /* group 1 */
            struct f_owner_ex group1 = {F_OWNER_PGRP, getpgrp()};
            fcntl(p[0], F_SETOWN_EX, &group1);
            COMPARE("fcntl F_GETOWN process group 1", fcntl, int, p[0], F_GETOWN);
            fflush(stdout);
            _exit(failures != 0);
        }
        int status = 0;
        waitpid(first, &status, 0);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
    }
    int status = 0;
    waitpid(outer, &status, 0);
    failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    COMPARE("fcntl bad command", fcntl, int, p[0], 12345);
    struct flock unlocked = {.l_type = F_UNLCK, .l_whence = SEEK_SET};
    COMPARE("fcntl F_SETLKW on a pipe", fcntl, int, p[0], F_SETLKW, &unlocked);
    COMPARE("lockf bad command", lockf, int, p[0], 99, (off_t)0);
    COMPARE("lockf F_TEST on a pipe", lockf, int, p[0], F_TEST, (off_t)0);
    COMPARE("fsync bad fd", fsync, int, -1);
    COMPARE("fdatasync on a pipe", fdatasync, int, p[0]);
    COMPARE("msync unaligned", msync, int, (void *)1, 4096, MS_SYNC);
    COMPARE("tcdrain on a pipe", tcdrain, int, p[0]);
    COMPARE("mq_receive bad queue", mq_receive, ssize_t, -1, buf, 4, NULL);
    COMPARE("mq_send bad queue", mq_send, int, -1, buf, 1, 0);
    COMPARE("msgrcv bad queue", msgrcv, ssize_t, -1, buf, 1, 0, IPC_NOWAIT);
    COMPARE("msgsnd bad queue", msgsnd, int, -1, buf, 1, IPC_NOWAIT);
    COMPARE("__xpg_sigpause invalid signal", __xpg_sigpause, int, 0);
    COMPARE("__xpg_sigpause glibc-internal signal", __xpg_sigpause, int, 32);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    struct timespec no_wait = {0, 0};
    COMPARE("sigtimedwait nothing pending", sigtimedwait, int, &usr2, NULL, &no_wait);
    COMPARE("sigtimedwait bad timeout", sigtimedwait, int, &usr2, NULL, &negative);
    COMPARE("waitpid no children", waitpid, pid_t, -1, NULL, WNOHANG);
    COMPARE("wait no children", wait, pid_t, NULL);
    COMPARE("wait3 no children", wait3, pid_t, NULL, WNOHANG, NULL);
    COMPARE("wait4 no children", wait4, pid_t, -1, NULL, WNOHANG, NULL);
    siginfo_t si;
    COMPARE("waitid no children", waitid, int, P_ALL, 0, &si, WEXITED | WNOHANG);
    COMPARE("waitid bad idtype", waitid, int, 99, 0, &si, WEXITED);
    int ep = epoll_create1(0);
    struct epoll_event ev;
    COMPARE("epoll_wait bad fd", epoll_wait, int, -1, &ev, 1, 0);
    COMPARE("epoll_wait nothing ready", epoll_wait, int, ep, &ev, 1, 0);
    COMPARE("epoll_pwait nothing ready", epoll_pwait, int, ep, &ev, 1, 0, &usr2);
    COMPARE("epoll_pwait2 nothing ready", epoll_pwait2, int, ep, &ev, 1, &no_wait, &usr2);
    COMPARE("epoll_pwait2 bad maxevents", epoll_pwait2, int, ep, &ev, 0, &no_wait, NULL);
    close(ep);
    struct iovec iov = {buf, 1};
    COMPARE("preadv bad fd", preadv, ssize_t, -1, &iov, 1, (off_t)0);
    COMPARE("pwritev on a pipe", pwritev, ssize_t, p[1], &iov, 1, (off_t)0);
    COMPARE("preadv2 bad flags", preadv2, ssize_t, p[0], &iov, 1, (off_t)-1, 0x7fff);
    COMPARE("pwritev2 bad fd", pwritev2, ssize_t, -1, &iov, 1, (off_t)-1, 0);
    COMPARE("getrandom bad flags", getrandom, ssize_t, buf, 4, 0x7fff);
    COMPARE("getrandom 4 bytes", getrandom, ssize_t, buf, 4, GRND_NONBLOCK);
    COMPARE("recvmmsg bad fd", recvmmsg, int, -1, NULL, 1, 0, NULL);
    COMPARE("sendmmsg bad fd", sendmmsg, int, -1, NULL, 1, 0);
    const struct aiocb *none[1] = {NULL};
    COMPARE("aio_suspend nothing in progress", aio_suspend, int, none, 1, &no_wait);
    COMPARE("system(NULL): a shell exists", system, int, NULL);

    /* glibc reads these timeouts with a plain load, and so does ptcancel (through the kernel
     * would take a syscall glibc never makes, which seccomp sandboxes may kill): a bad pointer
     * faults in both. */
    struct pollfd pfd = {p[0], POLLIN, 0};
    check("ppoll bad timeout faults as glibc's", faults(call_ppoll_bad) && faults(call_glibc_ppoll_bad));
    check("pselect bad timeout faults as glibc's", faults(call_pselect_bad) && faults(call_glibc_pselect_bad));

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
