/* tcp_server: a small TCP server shut down with pthread_cancel + pthread_join.
 *
 * Worker threads block in accept(), then in read() on the connection they
 * accepted; a cleanup handler reads what the client sent until it hangs up and
 * closes the connection. To shut down, the main thread cancels every worker
 * and joins it. With glibc's own cancellation (before 2.41) a worker cancelled
 * just after the kernel completed its accept() or read() dies anyway: the
 * connection it accepted LEAKS (an open descriptor no thread knows about) and
 * the request bytes it read are LOST. With ptcancel (or musl), never.
 *
 * Each round starts the workers, connects 1..WORKERS clients to 127.0.0.1 and
 * sends requests, then at a random moment cancels the workers, hangs up the
 * clients and joins the workers. Then it accounts for every connection
 * (accepted by a worker, still waiting in the listen backlog, or leaked: open
 * in this process but never recorded) and for every request byte (read by a
 * worker, read by a worker's cleanup handler, found in a backlog or leaked
 * connection, or lost).
 *
 *   cc -O2 -pthread tcp_server.c -o tcp_server -ldl
 *   ./tcp_server                  # glibc's cancellation
 *   ptcancel ./tcp_server         # ptcancel's (or LD_PRELOAD=.../libptcancel.so.0)
 *   ./tcp_server --check [ROUNDS] # exit 1 unless ptcancel is in use and nothing
 *                                 # leaked or was lost (the test suite runs this)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 4
#define MAX_FD 1024

struct worker {
    pthread_t thread;
    int conn;                /* the connection being served, -1 if none */
    long accepted;           /* connections accepted and recorded */
    long received;           /* request bytes read while serving */
    long drained;            /* request bytes read by the cleanup handler */
};

static struct worker workers[WORKERS];
static int listener;

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* The cleanup handler: the worker owns its connection. It reads the rest of
 * the request (the client hangs up after the cancel, so this ends) and closes
 * it. Cleanup handlers run with cancellation disabled. */
static void drop_connection(void *arg)
{
    struct worker *w = arg;
    char buf[256];
    ssize_t n;
    if (w->conn < 0)
        return;
    while ((n = read(w->conn, buf, sizeof buf)) > 0)
        w->drained += n;
    close(w->conn);
    w->conn = -1;
}

static void *serve(void *arg)
{
    struct worker *w = arg;
    char buf[16];
    unsigned size = 0;
    pthread_cleanup_push(drop_connection, w);
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            continue;
        /* No cancellation point between accept() returning and this. */
        w->conn = fd;
        w->accepted++;
        for (;;) {
            ssize_t n = read(fd, buf, 1 + size++ % sizeof buf);
            if (n <= 0)
                break;
            w->received += n; /* no cancellation point since read() returned */
        }
        /* The client hung up. close() acts on a cancel only before closing
         * (ptcancel, musl): then the cleanup handler still owns the connection. */
        close(fd);
        w->conn = -1;
    }
    pthread_cleanup_pop(0);
    return NULL;
}

/* Waits 0..50 us, so that the cancel lands before, during or just after a
 * worker's accept() or read(). Yields as it goes: a worker sharing our CPU runs. */
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

/* Reads a connection until the client's hang-up, closes it: the bytes read. */
static long drain_and_close(int fd)
{
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    close(fd);
    return total;
}

/* Finds ptcancel linked in (a weak reference: the program also runs without
 * it) or preloaded (dlsym). */
extern const char *ptcancel_version(void) __attribute__((weak));

int main(int argc, char **argv)
{
    int check = argc > 1 && strcmp(argv[1], "--check") == 0;
    int rounds = argc > 1 + check ? atoi(argv[1 + check]) : 500;
    const char *(*version)(void) = ptcancel_version;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    unsigned char was_open[MAX_FD];
    long made = 0, accepted = 0, backlog = 0, leaked = 0;
    long sent = 0, received = 0, drained = 0, in_backlog = 0, in_leaked = 0;

    srand((unsigned)time(NULL));
    if (version == NULL)
        version = (const char *(*)(void))dlsym(RTLD_DEFAULT, "ptcancel_version");
    if (version)
        printf("cancellation: ptcancel %s\n", version());
    else
        printf("cancellation: the C library's own\n");

    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(listener, 64) != 0 || getsockname(listener, (struct sockaddr *)&addr, &len) != 0)
        die("listen on 127.0.0.1");
    for (int fd = 0; fd < MAX_FD; fd++)
        was_open[fd] = fcntl(fd, F_GETFD) != -1;

    for (int round = 0; round < rounds; round++) {
        int clients[WORKERS], n = 1 + rand() % WORKERS, round_accepted = 0, round_leaked = 0;

        for (int i = 0; i < WORKERS; i++) {
            workers[i] = (struct worker){.conn = -1};
            if (pthread_create(&workers[i].thread, NULL, serve, &workers[i]) != 0)
                die("pthread_create");
        }
        /* Clients arrive one by one, and each connected one sends a piece of
         * its request at every step. */
        for (int step = 0; step <= n; step++) {
            random_pause();
            if (step < n) {
                clients[step] = socket(AF_INET, SOCK_STREAM, 0);
                if (clients[step] < 0 ||
                    connect(clients[step], (struct sockaddr *)&addr, sizeof addr) != 0)
                    die("connect");
                made++;
            }
            for (int i = 0; i < n && i <= step; i++) {
                ssize_t k = write(clients[i], "GET /index.html HTTP/1.0\r\n\r\n", 1 + rand() % 28);
                if (k > 0)
                    sent += k;
            }
        }
        random_pause();
        /* Shutdown: cancel the workers, hang up the clients, join. */
        for (int i = 0; i < WORKERS; i++)
            pthread_cancel(workers[i].thread);
        for (int i = 0; i < n; i++)
            close(clients[i]);
        for (int i = 0; i < WORKERS; i++) {
            pthread_join(workers[i].thread, NULL);
            round_accepted += workers[i].accepted;
            received += workers[i].received;
            drained += workers[i].drained;
        }
        /* Leaked: open now, not open at the start. */
        for (int fd = 0; fd < MAX_FD; fd++) {
            if (!was_open[fd] && fcntl(fd, F_GETFD) != -1) {
                in_leaked += drain_and_close(fd);
                round_leaked++;
            }
        }
        /* The rest never left the backlog. Without ptcancel the counts above can
         * be wrong (a cancelled close() may have closed a descriptor twice): wait
         * for the backlog a second at most then. With ptcancel they are exact. */
        for (int i = round_accepted + round_leaked; i < n; i++) {
            struct pollfd p = {.fd = listener, .events = POLLIN};
            int fd;
            if (poll(&p, 1, version ? -1 : 1000) != 1 || (fd = accept(listener, NULL, NULL)) < 0)
                break;
            in_backlog += drain_and_close(fd);
            backlog++;
        }
        accepted += round_accepted;
        leaked += round_leaked;
    }

    long lost = sent - received - drained - in_backlog - in_leaked;
    printf("%d shutdowns: %d workers blocked in accept()/read() cancelled and joined\n", rounds,
           rounds * WORKERS);
    printf("connections: %ld made, %ld accepted by workers, %ld left in the backlog, %ld LEAKED\n",
           made, accepted, backlog, leaked);
    printf("request bytes: %ld sent, %ld read by workers, %ld by their cleanup handlers, "
           "%ld left unaccepted, %ld in leaked connections, %ld LOST\n",
           sent, received, drained, in_backlog, in_leaked, lost);
    if (check && !(version && leaked == 0 && lost == 0 && made == accepted + backlog)) {
        printf("CHECK FAILED: %s\n", version ? "with ptcancel nothing may leak or be lost"
                                             : "ptcancel is not in use");
        return 1;
    }
    return 0;
}
