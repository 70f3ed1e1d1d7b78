/* stress_accept: cancelling a thread in accept() must never leak a
 * connection's descriptor.
 *
 * Each round a worker thread loops on accept() on an AF_UNIX stream
 * listener (no TIME_WAIT, so tens of thousands of rounds are fine) and
 * records every accepted fd in a slot array right after the call returns;
 * a cleanup handler closes the recorded fds.  Meanwhile main connects a few
 * clients, then cancels and joins the worker at a random moment.  Main
 * then accepts whatever is still in the backlog (non-blocking), closes all
 * of it and its clients, and counts descriptors open beyond the baseline.
 *
 * Every connection must be accounted for:
 *
 *     connected == recorded by the worker + left in the backlog
 *
 * With glibc a cancel arriving just after accept() returned kills the
 * worker with a fresh, unrecorded descriptor: a leak.
 *
 * Usage: stress_accept [rounds [seed]]
 * Prints "stress_accept: rounds=N lost=K" (K = leaked fds); exits 0 iff
 * K == 0.
 */
#define _GNU_SOURCE
#include "stress_common.h"

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#define NAME "stress_accept"
#define MAX_CONN 8 /* connections per round; well below the backlog */

static int listen_fd;
static struct sockaddr_un addr;
static socklen_t addr_len;

/* Accepted fds the worker owns.  volatile: read by the cleanup handler,
 * which runs during unwinding. */
static volatile int accepted[MAX_CONN];
static volatile int n_accepted;

static void close_accepted(void *unused)
{
    (void)unused;
    for (int i = 0; i < n_accepted; i++)
        close(accepted[i]);
}

/* Kept out of acceptor() so that pthread_cleanup_push's setjmp (glibc)
 * sees no live locals (-Wclobbered). */
static __attribute__((noinline)) void accept_loop(void)
{
    for (;;) {
        int fd = accept(listen_fd, NULL, NULL);
        /* No cancellation point between accept() returning and here. */
        if (fd < 0)
            continue;
        if (n_accepted < MAX_CONN) {
            accepted[n_accepted] = fd;
            n_accepted = n_accepted + 1;
        } else {
            close(fd); /* cannot happen: main connects <= MAX_CONN */
        }
    }
}

static void *acceptor(void *unused)
{
    (void)unused;
    pthread_cleanup_push(close_accepted, NULL);
    accept_loop();
    pthread_cleanup_pop(0);
    return NULL;
}

/* Abstract-namespace address: nothing to clean up in the file system. */
static void make_listener(void)
{
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1,
             "ptcancel-stress-accept-%d", (int)getpid());
    addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                           strlen(addr.sun_path + 1));

    listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (listen_fd < 0)
        die(NAME, "socket");
    if (bind(listen_fd, (struct sockaddr *)&addr, addr_len) != 0)
        die(NAME, "bind");
    if (listen(listen_fd, 64) != 0)
        die(NAME, "listen");
}

static int connect_client(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        die(NAME, "socket(client)");
    if (connect(fd, (struct sockaddr *)&addr, addr_len) != 0)
        die(NAME, "connect");
    return fd;
}

/* Accepts and closes what the worker left in the backlog. */
static int drain_backlog(void)
{
    int drained = 0, fd, flags = fcntl(listen_fd, F_GETFL);

    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
    while ((fd = accept(listen_fd, NULL, NULL)) >= 0) {
        close(fd);
        drained++;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        die(NAME, "accept(drain)");
    fcntl(listen_fd, F_SETFL, flags);
    return drained;
}

struct round_result {
    long leaked_fds;   /* descriptors open beyond the baseline */
    long missing_conn; /* connected - recorded - drained */
};

static struct round_result run_round(uint64_t *rng,
                                     const struct fd_baseline *base)
{
    struct round_result res;
    int clients[MAX_CONN];
    int n_clients = 0, err;
    pthread_t t;

    n_accepted = 0;
    err = pthread_create(&t, NULL, acceptor, NULL);
    if (err != 0) {
        errno = err;
        die(NAME, "pthread_create");
    }
    for (unsigned n = 1 + rng_below(rng, MAX_CONN); n > 0; n--) {
        random_delay(rng);
        clients[n_clients++] = connect_client();
    }
    random_delay(rng);
    cancel_and_join(NAME, t);

    res.missing_conn = n_clients - n_accepted - drain_backlog();
    for (int i = 0; i < n_clients; i++)
        close(clients[i]);
    /* In flight at once: clients plus their server ends. */
    res.leaked_fds = fd_close_strays(base, 2 * MAX_CONN + 4);
    return res;
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    struct fd_baseline base;
    long lost = 0, missing = 0, bad_rounds = 0;

    make_listener();
    watch_init(NAME, NULL);
    fd_baseline_take(&base);

    for (long round = 0; round < a.rounds; round++) {
        watch_round(round);
        struct round_result r = run_round(&rng, &base);
        if (r.leaked_fds == 0 && r.missing_conn == 0)
            continue;
        if (++bad_rounds <= 10)
            fprintf(stderr, "%s: round %ld: %ld fds leaked, %ld connections "
                    "unaccounted for\n", NAME, round, r.leaked_fds,
                    r.missing_conn);
        lost += r.leaked_fds;
        missing += r.missing_conn;
    }
    alarm(0);

    /* The two counts measure the same thing two ways; a difference means
     * the test itself is confused (or an fd was closed twice). */
    if (missing != lost)
        fprintf(stderr, "%s: %ld connections unaccounted for, but %ld fds "
                "leaked\n", NAME, missing, lost);
    if (lost != 0 || missing != 0)
        fprintf(stderr, "%s: %ld bad rounds; seed=%llu\n", NAME, bad_rounds,
                (unsigned long long)a.seed);
    printf("%s: rounds=%ld lost=%ld\n", NAME, a.rounds, lost);
    return lost == 0 && missing == 0 ? 0 : 1;
}
