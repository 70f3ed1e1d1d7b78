/* demo: what thread cancellation does to data and descriptors.
 *
 * Part 1 cancels a thread blocked in read() on a pipe at random moments and
 * counts the bytes: every byte written must either have been returned to
 * the reader or still be in the pipe.  Part 2 does the same for accept():
 * every connection must either have been accepted (and recorded) or still
 * be waiting in the backlog.
 *
 * With glibc's own cancellation, a cancel that arrives just after the
 * kernel finished the call kills the thread anyway: the bytes it read are
 * LOST, the descriptor it accepted is LEAKED.  With ptcancel (or musl) a
 * cancel that arrives after the syscall waits for the next cancellation
 * point, and nothing is lost.
 *
 * It also times each pthread_cancel() + pthread_join() and prints the median.
 * The last line sums it all up for examples/demo.sh's table.
 *
 *   gcc -O2 -pthread demo.c -o demo -ldl
 *   ./demo                                     # glibc's cancellation
 *   LD_PRELOAD=path/to/libptcancel.so ./demo   # ptcancel's
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_ROUNDS 5000
#define ACCEPT_ROUNDS 2000
#define MAX_CONN 3

/* Waits 0..50 us, so that the cancel lands before, during or just after
 * the worker's syscall.  Busy-waiting gives fine resolution; yielding as we
 * go lets the worker run even if it shares our CPU. */
static void random_pause(void)
{
    struct timespec t0, t;
    long ns = rand() % 50000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        sched_yield();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < ns);
}

static long join_ns[READ_ROUNDS + ACCEPT_ROUNDS];
static int joins;

static void cancel_and_join(pthread_t t)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_cancel(t);
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    join_ns[joins++] = (t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec);
}

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static long median_join_ns(void)
{
    qsort(join_ns, (size_t)joins, sizeof join_ns[0], compare_long);
    return joins ? join_ns[joins / 2] : 0;
}

/* ---- part 1: read() ---------------------------------------------------- */

static int pipe_fd[2];
static volatile long bytes_received; /* volatile: must hit memory before
                                        the next read() can cancel us */

static void *reader(void *unused)
{
    char buf[8];
    unsigned i = 0;
    (void)unused;
    for (;;) {
        ssize_t n = read(pipe_fd[0], buf, 1 + i++ % 7); /* 1..7 bytes */
        if (n > 0)
            bytes_received += n; /* no cancellation point since read() */
    }
    return NULL;
}

static long drain_pipe(void)
{
    char buf[4096];
    int avail = 0;
    ioctl(pipe_fd[0], FIONREAD, &avail);
    if (avail > 0 && read(pipe_fd[0], buf, (size_t)avail) != avail)
        abort(); /* cannot happen: we only ever hold < 4096 bytes */
    return avail;
}

static long lost, leaked; /* for the summary line */

static void demo_read(void)
{
    long written = 0, left = 0;

    if (pipe(pipe_fd) != 0)
        abort();
    fcntl(pipe_fd[1], F_SETFL, O_NONBLOCK); /* never block main */
    for (int round = 0; round < READ_ROUNDS; round++) {
        pthread_t t;
        pthread_create(&t, NULL, reader, NULL);
        for (int i = rand() % 4; i > 0; i--) {
            random_pause();
            ssize_t n = write(pipe_fd[1], "abcdefgh", 1 + rand() % 8);
            if (n > 0)
                written += n;
        }
        random_pause();
        cancel_and_join(t);
        left += drain_pipe();
    }
    printf("read():   %d cancelled readers\n", READ_ROUNDS);
    printf("          bytes written %ld, received by the reader %ld, "
           "still in the pipe %ld\n", written, bytes_received, left);
    lost = written - bytes_received - left;
    printf("          bytes LOST: %ld\n", lost);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
}

/* ---- part 2: accept() -------------------------------------------------- */

static int listener;
static volatile int conns[MAX_CONN], n_conns; /* recorded by the acceptor */

static void close_conns(void *unused)
{
    (void)unused;
    for (int i = 0; i < n_conns; i++)
        close(conns[i]);
}

static void accept_loop(void)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd >= 0 && n_conns < MAX_CONN) {
            conns[n_conns] = fd; /* no cancellation point since accept() */
            n_conns = n_conns + 1;
        }
    }
}

static void *acceptor(void *unused)
{
    (void)unused;
    pthread_cleanup_push(close_conns, NULL); /* the thread owns its fds */
    accept_loop();
    pthread_cleanup_pop(0);
    return NULL;
}

/* Accepts and closes what the acceptor left in the backlog. */
static int drain_backlog(void)
{
    int n = 0, fd;
    fcntl(listener, F_SETFL, O_NONBLOCK);
    while ((fd = accept(listener, NULL, NULL)) >= 0) {
        close(fd);
        n++;
    }
    fcntl(listener, F_SETFL, 0);
    return n;
}

/* Leaked server ends are closed after each round so that the demo cannot
 * run out of descriptors: anything not open at the start is a stray. */
static unsigned char was_open[64];

static void note_open_fds(void)
{
    for (int fd = 0; fd < 64; fd++)
        was_open[fd] = fcntl(fd, F_GETFD) != -1;
}

static void close_strays(void)
{
    for (int fd = 0; fd < 64; fd++)
        if (!was_open[fd])
            close(fd);
}

static void demo_accept(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    long made = 0, accepted = 0, backlog = 0;

    /* Abstract socket name: no file to clean up afterwards. */
    snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "ptcancel-demo-%d",
             (int)getpid());
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 16) != 0)
        abort();
    note_open_fds();

    for (int round = 0; round < ACCEPT_ROUNDS; round++) {
        int clients[MAX_CONN], n = 1 + rand() % MAX_CONN;
        pthread_t t;

        n_conns = 0;
        pthread_create(&t, NULL, acceptor, NULL);
        for (int i = 0; i < n; i++) {
            random_pause();
            clients[i] = socket(AF_UNIX, SOCK_STREAM, 0);
            if (connect(clients[i], (struct sockaddr *)&addr, sizeof addr) != 0)
                abort();
        }
        random_pause();
        cancel_and_join(t);
        made += n;
        accepted += n_conns;
        backlog += drain_backlog();
        for (int i = 0; i < n; i++)
            close(clients[i]);
        close_strays();
    }
    printf("accept(): %d cancelled acceptors\n", ACCEPT_ROUNDS);
    printf("          connections made %ld, accepted %ld, still in the "
           "backlog %ld\n", made, accepted, backlog);
    leaked = made - accepted - backlog;
    printf("          descriptors LEAKED: %ld\n", leaked);
    close(listener);
}

/* ---- main -------------------------------------------------------------- */

/* A weak reference finds ptcancel when it is linked in statically (if the
 * object defining it was pulled in); dlsym finds it when preloaded. */
extern const char *ptcancel_version(void) __attribute__((weak));

static void print_implementation(void)
{
    const char *(*version)(void) = ptcancel_version;
    if (version == NULL)
        version = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ptcancel_version");
    if (version != NULL)
        printf("cancellation: ptcancel %s\n", version());
    else
        printf("cancellation: the C library's own\n");
}

int main(void)
{
    srand((unsigned)time(NULL));
    print_implementation();
    demo_read();
    demo_accept();
    printf("cancel+join: median %ld us over %d cancelled threads\n", median_join_ns() / 1000, joins);
    printf("summary: lost=%ld leaked=%ld median_cancel_join_ns=%ld\n", lost, leaked,
           median_join_ns());
    return 0;
}
