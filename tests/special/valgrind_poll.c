/* Run under valgrind (memcheck), which ignores a signal handler's edits to the interrupted
 * context's signal mask: a thread blocked in poll() and one in nanosleep() (calls the kernel
 * ends with EINTR, not a restart) are cancelled, and each cancel must act once, not be
 * redelivered forever. Third case: the cancel arrives while a SIGUSR1 handler runs on top of a
 * thread blocked in read(); natively it acts on the restarted read, under valgrind it must not
 * spin: it acts at the next cancellation point once the read returns (main writes a byte after
 * the handler is let go). Prints one line per case; exits 0 iff all were cancelled.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile int tid;
static volatile sig_atomic_t in_handler, let_go;

static void wait_sleeping(int t);

static void on_usr1(int sig)
{
    struct timespec ms = {0, 1000000};
    (void)sig;
    in_handler = 1;
    while (!let_go)
        syscall(SYS_nanosleep, &ms, NULL);
}

static void *in_read(void *arg)
{
    char c;
    (void)arg;
    tid = (int)syscall(SYS_gettid);
    if (read(fds[0], &c, 1) == 1)
        pthread_testcancel(); /* under valgrind the cancel acts here */
    return NULL;
}

/* A cancel that lands in a signal handler running on top of a blocked read(). */
static int cancel_in_handler(void)
{
    pthread_t t;
    void *rv;
    struct timespec ms = {0, 1000000}, settle = {0, 100000000};
    signal(SIGUSR1, on_usr1);
    tid = 0;
    pthread_create(&t, NULL, in_read, NULL);
    while (!tid)
        sched_yield();
    wait_sleeping(tid);
    pthread_kill(t, SIGUSR1);
    while (!in_handler)
        syscall(SYS_nanosleep, &ms, NULL);
    pthread_cancel(t);
    /* Time for the cancel to arrive inside the handler (the case tested); if it arrived
     * later it lands on the restarted read, which is cancelled too. */
    syscall(SYS_nanosleep, &settle, NULL);
    let_go = 1;
    syscall(SYS_nanosleep, &settle, NULL);
    if (write(fds[1], "x", 1) != 1)
        return 0;
    pthread_join(t, &rv);
    printf("handler: %s\n", rv == PTHREAD_CANCELED ? "canceled" : "NOT canceled");
    return rv == PTHREAD_CANCELED;
}

static void *in_poll(void *arg)
{
    struct pollfd p = {fds[0], POLLIN, 0};
    (void)arg;
    tid = (int)syscall(SYS_gettid);
    poll(&p, 1, -1);
    return NULL;
}

static void *in_nanosleep(void *arg)
{
    struct timespec ts = {3600, 0};
    (void)arg;
    tid = (int)syscall(SYS_gettid);
    nanosleep(&ts, NULL);
    return NULL;
}

/* Waits (at most 10 s) until thread `t` sleeps in the kernel. */
static void wait_sleeping(int t)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
    for (int i = 0; i < 10000; i++) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof buf - 1);
        if (fd >= 0)
            close(fd);
        buf[n > 0 ? n : 0] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[1] == ' ' && p[2] == 'S')
            return;
        struct timespec ms = {0, 1000000};
        syscall(SYS_nanosleep, &ms, NULL);
    }
}

static int cancel(const char *name, void *(*fn)(void *))
{
    pthread_t t;
    void *rv;
    tid = 0;
    pthread_create(&t, NULL, fn, NULL);
    while (!tid)
        sched_yield();
    wait_sleeping(tid);
    pthread_cancel(t);
    pthread_join(t, &rv);
    printf("%s: %s\n", name, rv == PTHREAD_CANCELED ? "canceled" : "NOT canceled");
    return rv == PTHREAD_CANCELED;
}

int main(void)
{
    if (pipe(fds) != 0)
        return 2;
    int ok = cancel("poll", in_poll) & cancel("nanosleep", in_nanosleep);
    ok &= cancel_in_handler();
    return ok ? 0 : 1;
}
