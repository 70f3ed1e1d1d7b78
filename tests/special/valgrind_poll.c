/* Run under valgrind (memcheck), which ignores a signal handler's edits to the interrupted
 * context's signal mask: a thread blocked in poll() and one in nanosleep() (calls the kernel
 * ends with EINTR, not a restart) are cancelled, and each cancel must act once, not be
 * redelivered forever. Prints one line per case; exits 0 iff both were cancelled.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile int tid;

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
    return ok ? 0 : 1;
}
