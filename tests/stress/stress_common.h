/* Shared helpers for the cancellation stress tests (stress_read.c,
 * stress_open.c, stress_accept.c).  Header-only: every function is
 * `static inline` so that a test using only some of them compiles without
 * -Wunused-function warnings.
 *
 * Each test must define _GNU_SOURCE before including this file.
 */
#ifndef STRESS_COMMON_H
#define STRESS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ROUNDS 20000
#ifndef WATCHDOG_SECONDS
#define WATCHDOG_SECONDS 10 /* per round; a round normally takes < 1 ms */
#endif

/* ---- arguments --------------------------------------------------------- */

struct args {
    long rounds;
    uint64_t seed;
};

/* argv[1] = rounds (default 20000), argv[2] = seed (default: time ^ pid). */
static inline struct args parse_args(int argc, char **argv)
{
    struct args a;
    a.rounds = argc > 1 ? strtol(argv[1], NULL, 0) : DEFAULT_ROUNDS;
    if (a.rounds <= 0)
        a.rounds = DEFAULT_ROUNDS;
    if (argc > 2) {
        a.seed = strtoull(argv[2], NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        a.seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                 ((uint64_t)getpid() << 32);
    }
    return a;
}

/* ---- random numbers (splitmix64: tiny, good enough, reproducible) ------ */

static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline unsigned rng_below(uint64_t *s, unsigned n)
{
    return (unsigned)(rng_next(s) % n);
}

/* ---- timing ------------------------------------------------------------ */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Busy-wait: unlike nanosleep this gives sub-microsecond resolution, which
 * is what it takes to land a cancel inside the few-hundred-ns window around
 * a syscall's return.  With `yield`, the wait calls sched_yield() as it
 * goes: when main and the worker share a CPU (pinned, or a busy machine)
 * this lets the worker run meanwhile instead of being starved by main. */
static inline void spin_ns(uint64_t ns, int yield)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end)
        if (yield)
            sched_yield();
}

/* A random pause of 0..~50 us.  The mix is deliberate: zero and tiny
 * pauses make the cancel arrive before the worker reaches its syscall or
 * right as the syscall returns (main has just fed it); longer spins and the
 * occasional real sleep make it arrive while the worker is blocked. */
static inline void random_delay(uint64_t *rng)
{
    unsigned r = rng_below(rng, 100);
    int yield = (int)(rng_next(rng) & 1);
    if (r < 20) {
        /* no pause at all */
    } else if (r < 30) {
        sched_yield();
    } else if (r < 65) {
        spin_ns(rng_below(rng, 5000), yield); /* 0..5 us: around return */
    } else if (r < 95) {
        spin_ns(rng_below(rng, 50000), yield); /* 0..50 us */
    } else {
        /* A real sleep (timer slack makes it ~50-100 us): the worker is
         * certainly blocked by the time we come back. */
        struct timespec ts = {0, (long)(1000 + rng_below(rng, 49000))};
        nanosleep(&ts, NULL);
    }
}

/* ---- watchdog ---------------------------------------------------------- */

static const char *watch_name = "stress";
static volatile long watch_round_no;
static void (*watch_hook)(void); /* async-signal-safe cleanup, may be NULL */

/* Formats n in decimal into buf (async-signal-safe); returns the length. */
static inline size_t fmt_long(char *buf, long n)
{
    char tmp[24];
    size_t len = 0, i = 0;
    if (n < 0) {
        buf[len++] = '-';
        n = -n;
    }
    do
        tmp[i++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    while (i > 0)
        buf[len++] = tmp[--i];
    return len;
}

static inline void watch_fire(int sig)
{
    char msg[160];
    size_t len = 0, nlen = strlen(watch_name);
    const char *s1 = ": watchdog: round ";
    const char *s2 = " did not finish (hung thread or lost cancel)\n";
    (void)sig;
    memcpy(msg + len, watch_name, nlen), len += nlen;
    memcpy(msg + len, s1, strlen(s1)), len += strlen(s1);
    len += fmt_long(msg + len, watch_round_no);
    memcpy(msg + len, s2, strlen(s2)), len += strlen(s2);
    if (write(2, msg, len) < 0) {
        /* nothing more we can do */
    }
    if (watch_hook)
        watch_hook();
    _exit(1);
}

static inline void watch_init(const char *name, void (*hook)(void))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = watch_fire;
    sigaction(SIGALRM, &sa, NULL);
    watch_name = name;
    watch_hook = hook;
}

/* Re-arm at the start of each round: only a single stuck round trips it. */
static inline void watch_round(long round)
{
    watch_round_no = round;
    alarm(WATCHDOG_SECONDS);
}

/* ---- file descriptor accounting ---------------------------------------- */

#define FD_TABLE 1024 /* we never let fds climb anywhere near this */

/* Which descriptors were open before the test started.  Descriptors are
 * handed out lowest-first, so with at most `extra` descriptors open beyond
 * the baseline, every one of them sits in one of the first `extra` numbers
 * that were free at baseline time: scanning those finds every stray, and
 * costs `extra` fcntl calls rather than a scan of the whole table (the
 * parent may have left us something like fd 255 open). */
struct fd_baseline {
    unsigned char open[FD_TABLE];
};

static inline int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static inline void fd_baseline_take(struct fd_baseline *b)
{
    for (int fd = 0; fd < FD_TABLE; fd++)
        b->open[fd] = (unsigned char)fd_is_open(fd);
}

/* Counts descriptors open now that were not open at baseline time and
 * closes them, so that one round's leak neither masks nor inflates the
 * next round's count. */
static inline long fd_close_strays(const struct fd_baseline *b, int extra)
{
    long strays = 0;
    for (int fd = 0; fd < FD_TABLE && extra > 0; fd++) {
        if (b->open[fd])
            continue;
        extra--;
        if (fd_is_open(fd)) {
            close(fd);
            strays++;
        }
    }
    return strays;
}

/* ---- misc -------------------------------------------------------------- */

static inline void die(const char *name, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", name, what, strerror(errno));
    exit(1);
}

/* Cancels and joins `t`, checking that it really ended by cancellation
 * (the workers loop forever, so any other outcome is a bug). */
static inline void cancel_and_join(const char *name, pthread_t t)
{
    void *ret = NULL;
    int err = pthread_cancel(t);
    if (err == 0)
        err = pthread_join(t, &ret);
    if (err != 0) {
        errno = err;
        die(name, "pthread_cancel/pthread_join");
    }
    if (ret != PTHREAD_CANCELED) {
        fprintf(stderr, "%s: worker did not end by cancellation\n", name);
        exit(1);
    }
}

/* ---- byte accounting (stress_read, stress_stdio) ------------------------- */

/* Runs `rounds` rounds of `round_fn`, which returns written - (counted + still readable): the
 * bytes a round lost (negative: counted twice). `label` names a round in the report (NULL:
 * none). Prints "NAME: rounds=N lost=K" and returns the exit status: 0 iff nothing was lost
 * or counted twice. */
static inline int count_bytes(const char *name, struct args a, void *ctx,
                              long (*round_fn)(void *ctx, long round),
                              const char *(*label)(long round))
{
    long lost = 0, bad_rounds = 0, extra = 0;

    watch_init(name, NULL);
    for (long round = 0; round < a.rounds; round++) {
        watch_round(round);
        long diff = round_fn(ctx, round);
        if (diff == 0)
            continue;
        if (++bad_rounds <= 10)
            fprintf(stderr, "%s: round %ld%s%s%s: %ld bytes %s\n", name, round,
                    label ? " (" : "", label ? label(round) : "", label ? ")" : "",
                    diff > 0 ? diff : -diff, diff > 0 ? "lost" : "counted twice (?!)");
        if (diff > 0)
            lost += diff;
        else
            extra -= diff;
    }
    alarm(0);

    if (lost != 0 || extra != 0)
        fprintf(stderr, "%s: %ld bad rounds; seed=%llu\n", name, bad_rounds,
                (unsigned long long)a.seed);
    printf("%s: rounds=%ld lost=%ld\n", name, a.rounds, lost);
    return lost == 0 && extra == 0 ? 0 : 1;
}

#endif
