/* A cancel must never interrupt a syscall that is not one of ptcancel's cancellation points,
 * and must never lose a completed call's result.
 *
 *   not_ours syscall  the thread blocks in glibc's syscall(SYS_read, ...): not a cancellation
 *                     point (on i386 it too enters the kernel through the vDSO, so the
 *                     handler sees a pending vDSO call that is not ours);
 *   not_ours read     the thread blocks in read(): used with stand-in vDSO helpers that break
 *                     their contract, which ptcancel must not trust.
 *
 * Expected either way: the cancel does not interrupt the blocked call; when main then writes a
 * byte the call returns it (recorded), and the cancel acts at the next cancellation point.
 * Prints one line; exits 0 iff that is what happened.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static int use_read;
static volatile long got = -100; /* what the blocked call returned */
static volatile int tid;

static void *reader(void *arg)
{
    char c;
    (void)arg;
    tid = syscall(SYS_gettid);
    got = use_read ? read(fds[0], &c, 1) : syscall(SYS_read, fds[0], &c, 1);
    pthread_testcancel(); /* the pending cancel acts here */
    got = -200;           /* not reached */
    return NULL;
}

static char thread_state(void)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
}

int main(int argc, char **argv)
{
    use_read = argc > 1 && strcmp(argv[1], "read") == 0;
    alarm(10);
    pipe(fds);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    for (int i = 0; i < 1000 && (tid == 0 || thread_state() != 'S'); i++)
        pause_ms(1);
    pause_ms(20);
    pthread_cancel(t);
    pause_ms(50);
    long before = got;
    char state = thread_state();
    write(fds[1], "x", 1);
    void *value;
    pthread_join(t, &value);
    int ok = before == -100 && state == 'S' && got == 1 && value == PTHREAD_CANCELED;
    printf("%s: still blocked after cancel: %s, call returned %ld, then %s\n",
           use_read ? "read" : "syscall", before == -100 && state == 'S' ? "yes" : "no", got,
           value == PTHREAD_CANCELED ? "cancelled at the next point" : "not cancelled");
    return ok ? 0 : 1;
}
