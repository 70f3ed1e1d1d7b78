/* No program started from a ptcancel process sees signal 32 pending or blocked because of
 * ptcancel. Two ways a cancel can fail to act where it lands:
 *   ordinary   it interrupts ordinary code (here: glibc's syscall() wrapper, no cancellation
 *              point); the thread then disables cancellation and goes on;
 *   masked     it ends a MASKED read() with ECANCELED; the thread goes on.
 * Either way the thread then checks its own mask and pending set, and forks a child that execs
 * a shell printing its own: signal 32 must be neither blocked nor pending anywhere.
 * Prints one line per case; exits 0 iff all held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PTHREAD_CANCEL_MASKED 2
#define BIT32 (1ull << 31)

static int failures;
static volatile int stage;
static int fds[2];

/* Signal 32 in the "Sig..." line `field` of a status file's text. */
static int has32(const char *status, const char *field)
{
    const char *p = strstr(status, field);
    return p && (strtoull(p + strlen(field), NULL, 16) & BIT32) != 0;
}

static void read_all(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
}

/* The calling thread's own status, then an exec'd child's. */
static void check(const char *name)
{
    char status[4096], child[4096];
    FILE *f = fopen("/proc/thread-self/status", "r");
    size_t n = fread(status, 1, sizeof status - 1, f);
    fclose(f);
    status[n] = 0;
    int p[2];
    if (pipe(p) != 0)
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    read_all(p[0], child, sizeof child);
    close(p[0]);
    waitpid(pid, NULL, 0);
    int bad = has32(status, "SigBlk:") || has32(status, "SigPnd:") || has32(child, "SigBlk:") ||
              has32(child, "SigPnd:") || has32(child, "ShdPnd:") || !strstr(child, "SigBlk:");
    printf("%s: thread blocked=%d pending=%d; exec'd child blocked=%d pending=%d\n", name,
           has32(status, "SigBlk:"), has32(status, "SigPnd:"), has32(child, "SigBlk:"),
           has32(child, "SigPnd:") || has32(child, "ShdPnd:"));
    failures += bad;
}

static void *ordinary(void *arg)
{
    struct timespec ms = {0, 1000000};
    (void)arg;
    stage = 1;
    /* Ordinary code (glibc's syscall() wrapper is no cancellation point) until main has sent
     * the cancel; one more kernel exit after that and the signal has been delivered. */
    while (stage != 2)
        syscall(SYS_nanosleep, &ms, NULL);
    syscall(SYS_getpid);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    check("ordinary");
    return NULL;
}

static void *masked(void *arg)
{
    char b;
    (void)arg;
    pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    stage = 1;
    ssize_t r = read(fds[0], &b, 1); /* blocks until the cancel: ECANCELED */
    int e = errno;
    printf("masked read: %zd %s\n", r, e == ECANCELED ? "ECANCELED" : strerror(e));
    failures += !(r == -1 && e == ECANCELED);
    check("masked");
    return NULL;
}

static void run(void *(*fn)(void *))
{
    pthread_t t;
    stage = 0;
    pthread_create(&t, NULL, fn, NULL);
    while (!stage)
        sched_yield();
    /* Whenever the cancel lands, the thread reaches the check: the ordinary thread waits for
     * stage 2, the MASKED read returns ECANCELED (at once if the cancel came first). */
    pthread_cancel(t);
    stage = 2;
    pthread_join(t, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (pipe(fds) != 0)
        return 2;
    run(ordinary);
    run(masked);
    return failures != 0;
}
