/*
 * common.h -- helpers shared by the ptcancel C test programs.
 *
 * Header-only (every function is static) so each test stays a single
 * translation unit:  cc -O2 -pthread -Wall -Wextra prog.c -o prog
 * It uses only interfaces that both musl and glibc provide.
 *
 * Output protocol (see README.md): one line per case on stdout,
 *     case-name: observed-result
 * built from deterministic facts only.  A failed expectation prints
 *     FAIL case-name: expected X got Y
 * on stderr, and the program exits 1 at the end (0 when all held).
 * A case that hangs is killed by a per-case watchdog which prints
 * "case-name: HANG" on stdout and exits 3.
 *
 * Rules the helpers follow, and the tests must too:
 *  - test threads never print (stdio locks); only main does;
 *  - threads hand-shake with main by spinning on atomics + sched_yield(),
 *    never with condvars/semaphores (those are cancellation points);
 *  - signal handlers use raw syscall() only, never a cancellation point.
 */
#ifndef PTCANCEL_TEST_COMMON_H
#define PTCANCEL_TEST_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef PTHREAD_CANCEL_MASKED
#define PTHREAD_CANCEL_MASKED 2 /* musl's third cancel state */
#endif

/* Helpers are static; not every program uses all of them. */
#define UNUSED __attribute__((unused))

/* Seconds a single case may take before the watchdog kills the program,
 * and seconds the whole program may take. */
#define CASE_TIMEOUT 3
#define PROGRAM_TIMEOUT 10

/* What a test thread returns when it was NOT cancelled. */
static char rv_returned_tag;
#define RV_RETURNED ((void *)&rv_returned_tag)

static int g_failures;
static const char *volatile g_case = "startup";
static long g_start_ms;
static int g_fds_at_start;

static int count_fds(void); /* below, with the other fd helpers */

/* ---------------------------------------------------------------- atomics */

static inline int flag_get(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void flag_set(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static inline void flag_add(int *p, int v) { __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }

/* Spin (yielding) until *p >= v.  Bounded by the watchdog. */
static UNUSED void wait_flag(int *p, int v)
{
    while (flag_get(p) < v)
        sched_yield();
}

/* ------------------------------------------------------------------ time */

/* Raw nanosleep: not a (possibly interposed) cancellation point. */
static UNUSED void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (syscall(SYS_nanosleep, &ts, &ts) == -1 && errno == EINTR)
        ;
}

static UNUSED long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static UNUSED int my_tid(void) { return (int)syscall(SYS_gettid); }

/* -------------------------------------------------------------- watchdog */

static UNUSED void raw_puts(int fd, const char *s)
{
    syscall(SYS_write, fd, s, strlen(s));
}

/* Runs in whichever thread gets SIGALRM: raw syscalls only. */
static UNUSED void watchdog_handler(int sig)
{
    const char *c = g_case;
    (void)sig;
    raw_puts(1, c);
    raw_puts(1, ": HANG\n");
    raw_puts(2, "FAIL ");
    raw_puts(2, c);
    raw_puts(2, ": expected no hang got HANG (watchdog: case took over "
                "3 s or the program over 10 s)\n");
    syscall(SYS_exit_group, 3);
}

static UNUSED void test_init(void)
{
    struct sigaction sa;

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines survive a watchdog kill */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watchdog_handler;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_start_ms = now_ms();
    g_fds_at_start = count_fds();
}

/* Arm the watchdog for a new case: CASE_TIMEOUT, clamped to what is left
 * of PROGRAM_TIMEOUT. */
static UNUSED void begin_case(const char *name)
{
    long left = PROGRAM_TIMEOUT - (now_ms() - g_start_ms) / 1000;
    g_case = name;
    if (left <= 0) watchdog_handler(SIGALRM);
    alarm(left < CASE_TIMEOUT ? (unsigned)left : CASE_TIMEOUT);
}

/* Print the case line; compare with the expectation. */
static UNUSED void report(const char *name, const char *expected, const char *got)
{
    printf("%s: %s\n", name, got);
    if (strcmp(expected, got) != 0) {
        fprintf(stderr, "FAIL %s: expected %s got %s\n", name, expected, got);
        g_failures++;
    }
}

/* Last line of every program: fds open now minus fds open at test_init(). */
static UNUSED int test_finish(void)
{
    char got[32];
    begin_case("fd-leaks");
    snprintf(got, sizeof got, "%+d", count_fds() - g_fds_at_start);
    report("fd-leaks", "+0", got);
    alarm(0);
    fflush(stdout);
    return g_failures ? 1 : 0;
}

/* ------------------------------------------------------- formatting */

static UNUSED const char *errname(int e)
{
    static char buf[24];
    switch (e) {
    case 0: return "0";
    case EINTR: return "EINTR";
    case ECANCELED: return "ECANCELED";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    case EPIPE: return "EPIPE";
    case ENOTSUP: return "ENOTSUP";
    case EINPROGRESS: return "EINPROGRESS";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case EDEADLK: return "EDEADLK";
    }
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

/* "ok" for a successful call (value is fd/count: not deterministic in
 * general), "err:ENAME" for -1. */
static UNUSED const char *retname(long ret, int err)
{
    static char buf[40];
    if (ret >= 0)
        return "ok";
    snprintf(buf, sizeof buf, "err:%s", errname(err));
    return buf;
}

static UNUSED const char *exitname(void *rv)
{
    if (rv == PTHREAD_CANCELED) return "canceled";
    if (rv == RV_RETURNED) return "returned";
    return "exit=other";
}

/* Append printf-style text to a fixed buffer. */
__attribute__((format(printf, 3, 4)))
static UNUSED void appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    if (len >= size) return;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------- threads */

static UNUSED pthread_t start_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    if (rc != 0) {
        fprintf(stderr, "FAIL %s: expected pthread_create ok got %s\n", g_case, errname(rc));
        exit(1);
    }
    return t;
}

/* Generic cleanup handler: sets the int it is given to 1. */
static UNUSED void cleanup_mark(void *p) { flag_set((int *)p, 1); }

/* Scheduler state letter of a thread ('R', 'S', ...), 0 if gone. */
static UNUSED char thread_state(int tid)
{
    char path[64], buf[512], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    p = strrchr(buf, ')'); /* comm may contain spaces/parens */
    if (!p || p[1] != ' ') return 0;
    return p[2];
}

/*
 * Wait until thread `tid` sleeps in the kernel ('S'), then 5 ms more so
 * it is really inside the blocking call.  Gives up (returns 0) after 1 s
 * or as soon as *done becomes non-zero (the call returned instead).
 */
static UNUSED int wait_blocked(int tid, int *done)
{
    long end = now_ms() + 1000;
    while (now_ms() < end) {
        if (done && flag_get(done)) return 0;
        if (thread_state(tid) == 'S') {
            msleep(5);
            return 1;
        }
        msleep(1);
    }
    return 0;
}

/* Wait (max 2 s) until the kernel thread `tid` is gone. */
static UNUSED int wait_thread_gone(int tid)
{
    long end = now_ms() + 2000;
    while (now_ms() < end) {
        if (thread_state(tid) == 0) return 1;
        msleep(1);
    }
    return 0;
}

/* -------------------------------------------------------------- fds */

/* Number of open fds of the process (not counting the one used here). */
static UNUSED int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

static UNUSED int fd_is_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) != -1; }

static UNUSED void close_if(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static UNUSED void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

/* Bytes waiting to be read on a pipe or stream socket. */
static UNUSED int bytes_available(int fd)
{
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) != 0) return -1;
    return n;
}

/* Write until the pipe/socket is full (a blocking write would block). */
static UNUSED void fill_fd(int fd)
{
    static char chunk[4096];
    set_nonblock(fd, 1);
    while (write(fd, chunk, sizeof chunk) > 0)
        ;
    while (write(fd, chunk, 1) > 0)
        ;
    set_nonblock(fd, 0);
}

static UNUSED void make_pipe(int fd[2])
{
    if (pipe(fd) != 0) {
        fprintf(stderr, "FAIL %s: expected pipe ok got %s\n", g_case, errname(errno));
        exit(1);
    }
}

/* ---------------------------------------------------------- temp dir */

static char g_tmpdir[64];

static UNUSED const char *tmpdir(void)
{
    if (!g_tmpdir[0]) {
        strcpy(g_tmpdir, "/tmp/ptcancel-test-XXXXXX");
        if (!mkdtemp(g_tmpdir)) {
            fprintf(stderr, "FAIL %s: expected mkdtemp ok got %s\n", g_case, errname(errno));
            exit(1);
        }
    }
    return g_tmpdir;
}

static UNUSED void tmpdir_remove(void)
{
    if (g_tmpdir[0]) rmdir(g_tmpdir);
}

#endif /* PTCANCEL_TEST_COMMON_H */
