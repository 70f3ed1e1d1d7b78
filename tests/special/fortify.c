/* _FORTIFY_SOURCE entry points: built with -O2 -D_FORTIFY_SOURCE=2 and sizes the compiler
 * cannot see, the program's read/recv/poll/open calls become __read_chk, __recv_chk,
 * __poll_chk, __open_2... (the test harness checks the binary imports them). Each must be a
 * cancellation point, and each must keep glibc's overflow check: a detected overflow aborts
 * with glibc's message.
 * Prints one line per case; exits 0 iff all held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2
#error "build with -O2 -D_FORTIFY_SOURCE=2"
#endif

/* The fortified open entries, called by name (which one the headers pick depends on
 * _FILE_OFFSET_BITS). */
extern int __open_2(const char *path, int flags);
extern int __open64_2(const char *path, int flags);
extern int __openat_2(int dirfd, const char *path, int flags);
extern int __openat64_2(int dirfd, const char *path, int flags);

static volatile size_t small = 1, big = 64; /* sizes the compiler cannot fold */
static volatile int creat_flags = O_RDONLY | O_CREAT, read_flags = O_RDONLY;
static int fds[2], sv[2];
static char fifo[64];
static volatile int tid, cleaned, cancel_sent;
static int failures;

static void cleanup(void *arg)
{
    (void)arg;
    cleaned = 1;
}

enum which { READ_CHK, PREAD_CHK, RECV_CHK, RECVFROM_CHK, POLL_CHK, PPOLL_CHK, OPEN_2, OPENAT_2 };
static const char *names[] = {"__read_chk", "__pread_chk", "__recv_chk", "__recvfrom_chk",
                              "__poll_chk", "__ppoll_chk", "__open_2", "__openat_2"};

static void *blocker(void *arg)
{
    enum which w = (enum which)(long)arg;
    char buf[8];
    struct pollfd pfd[2] = {{fds[0], POLLIN, 0}, {fds[0], POLLIN, 0}};
    tid = syscall(SYS_gettid);
    pthread_cleanup_push(cleanup, NULL);
    switch (w) {
    case READ_CHK: read(fds[0], buf, small); break;
    case PREAD_CHK:
        /* pread cannot block: the cancel must be pending on entry, whatever the scheduling.
         * Hold cancellation off until main has sent it (enabling does not act by itself). */
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        while (!cancel_sent)
            sched_yield();
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        pread(sv[0], buf, small, 0);
        break;
    case RECV_CHK: recv(sv[0], buf, small, 0); break;
    case RECVFROM_CHK: recvfrom(sv[0], buf, small, 0, NULL, NULL); break;
    case POLL_CHK: poll(pfd, small, -1); break;
    case PPOLL_CHK: ppoll(pfd, small, NULL, NULL); break;
    case OPEN_2: open(fifo, read_flags); break;
    case OPENAT_2: openat(AT_FDCWD, fifo, read_flags); break;
    }
    pthread_cleanup_pop(0);
    return NULL;
}

static char state_of(int t)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", t);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p ? p[2] : '?';
}

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    syscall(SYS_nanosleep, &ts, NULL);
}

/* Cancel a thread blocked in the entry point (pread cannot block: cancel it pending). */
static void cancel_case(enum which w)
{
    pthread_t t;
    void *value;
    tid = 0;
    cleaned = 0;
    cancel_sent = 0;
    if (w == PREAD_CHK) {
        /* A cancel pending on entry acts before the syscall. */
        pthread_create(&t, NULL, blocker, (void *)(long)w);
        pthread_cancel(t);
        cancel_sent = 1;
    } else {
        pthread_create(&t, NULL, blocker, (void *)(long)w);
        for (int i = 0; i < 1000 && (tid == 0 || state_of(tid) != 'S'); i++)
            pause_ms(1);
        pause_ms(5);
        pthread_cancel(t);
    }
    pthread_join(t, &value);
    int ok = value == PTHREAD_CANCELED && cleaned;
    printf("%s-cancelled: %s\n", names[w], ok ? "yes, cleanup ran" : "NO");
    failures += !ok;
}

/* The overflow checks: each call in a child must abort with glibc's message. */
static void overflow_case(const char *name, const char *message)
{
    int err[2];
    pipe(err);
    pid_t child = fork();
    if (child == 0) {
        dup2(err[1], 2);
        char buf[8];
        struct pollfd pfd[1] = {{fds[0], POLLIN, 0}};
        if (strcmp(name, "__read_chk") == 0)
            read(fds[0], buf, big);
        else if (strcmp(name, "__recv_chk") == 0)
            recv(sv[0], buf, big, MSG_DONTWAIT);
        else if (strcmp(name, "__poll_chk") == 0)
            poll(pfd, big, 0);
        else if (strcmp(name, "__open_2") == 0)
            __open_2(fifo, creat_flags);
        else if (strcmp(name, "__open64_2") == 0)
            __open64_2(fifo, creat_flags);
        else if (strcmp(name, "__openat_2") == 0)
            __openat_2(AT_FDCWD, fifo, creat_flags);
        else if (strcmp(name, "__openat64_2") == 0)
            __openat64_2(AT_FDCWD, fifo, creat_flags);
        _exit(0);
    }
    close(err[1]);
    char text[256] = "";
    ssize_t n = read(err[0], text, sizeof text - 1);
    text[n > 0 ? n : 0] = 0;
    close(err[0]);
    int status;
    waitpid(child, &status, 0);
    int ok = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(text, message);
    printf("%s-overflow: %s\n", name, ok ? "aborted with glibc's message" : "NOT CAUGHT");
    failures += !ok;
}

int main(void)
{
    alarm(20);
    pipe(fds);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    snprintf(fifo, sizeof fifo, "/tmp/ptcancel-fortify-%d", getpid());
    mkfifo(fifo, 0600);
    for (enum which w = READ_CHK; w <= OPENAT_2; w++)
        cancel_case(w);
    overflow_case("__read_chk", "buffer overflow detected");
    overflow_case("__recv_chk", "buffer overflow detected");
    overflow_case("__poll_chk", "buffer overflow detected");
    /* glibc's message names the function. */
    overflow_case("__open_2", "invalid open call: O_CREAT or O_TMPFILE without mode");
    overflow_case("__open64_2", "invalid open64 call: O_CREAT or O_TMPFILE without mode");
    overflow_case("__openat_2", "invalid openat call: O_CREAT or O_TMPFILE without mode");
    overflow_case("__openat64_2", "invalid openat64 call: O_CREAT or O_TMPFILE without mode");
    unlink(fifo);
    return failures != 0;
}
