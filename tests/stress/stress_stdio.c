/* stress_stdio: cancelling a thread inside fgets()/fread() must never lose
 * data (glibc only: musl's stdio is not cancellable).
 *
 * Each round a worker thread reads 8-byte records ("0123456\n") from a pipe
 * through one shared FILE -- fgets() in even rounds, fread() in odd ones --
 * and counts every byte the calls return.  Meanwhile main writes 0..5
 * chunks of 1..4 whole records (one write() each: the pipe and the FILE's
 * buffer only ever hold whole records, so a call never needs a second read
 * to finish one), then cancels and joins the worker at a random moment.
 * Whatever the worker did not count must still be readable through the
 * FILE (its buffer, then the pipe):
 *
 *     counted + readable_afterwards == written        (every round)
 *
 * The FILE being readable at all after a cancel also shows that glibc's
 * own cleanup released its lock.  Plain glibc before 2.41 loses records:
 * its cancel can act after the read() inside the FILE's refill returned,
 * and the bytes in the buffer are never accounted.  Under ptcancel a cancel
 * acts only before glibc's internal read() is made.
 *
 * Usage: stress_stdio [rounds [seed]]
 * Prints "stress_stdio: rounds=N lost=K" (K in bytes); exits 0 iff K == 0.
 */
#define _GNU_SOURCE
#include "stress_common.h"

#define NAME "stress_stdio"
#define RECORD 8

static int pipe_rd, pipe_wr;
static FILE *stream;

/* Bytes the worker's calls returned; volatile so that the update is in
 * memory before the next call (which may act on the cancel). */
static volatile long counted;

static void *reader(void *arg)
{
    int use_fread = (int)(uintptr_t)arg;
    char buf[64];

    for (;;) {
        if (use_fread) {
            size_t n = fread(buf, 1, RECORD, stream);
            counted += (long)n;
        } else if (fgets(buf, sizeof buf, stream)) {
            counted += (long)strlen(buf);
        }
    }
    return NULL;
}

/* 1..4 whole records in one write; the write end is non-blocking. */
static long write_chunk(uint64_t *rng)
{
    static const char data[4 * RECORD + 1] = "0123456\n0123456\n0123456\n0123456\n";
    ssize_t n = write(pipe_wr, data, RECORD * (1 + rng_below(rng, 4)));
    return n > 0 ? n : 0;
}

/* Reads whatever is left through the FILE (its buffer, then the pipe)
 * without blocking, and returns the byte count. */
static long drain_stream(void)
{
    char buf[64];
    long total = 0;
    int fl = fcntl(pipe_rd, F_GETFL);

    fcntl(pipe_rd, F_SETFL, fl | O_NONBLOCK);
    while (fgets(buf, sizeof buf, stream))
        total += (long)strlen(buf);
    if (!ferror(stream) || errno != EAGAIN)
        die(NAME, "fgets(drain) did not stop at EAGAIN");
    clearerr(stream);
    fcntl(pipe_rd, F_SETFL, fl);
    return total;
}

static long run_round(uint64_t *rng, long round)
{
    pthread_t t;
    long written = 0;
    int err;

    counted = 0;
    err = pthread_create(&t, NULL, reader, (void *)(uintptr_t)(round & 1));
    if (err != 0) {
        errno = err;
        die(NAME, "pthread_create");
    }
    for (unsigned chunks = rng_below(rng, 6); chunks > 0; chunks--) {
        random_delay(rng);
        written += write_chunk(rng);
    }
    random_delay(rng);
    cancel_and_join(NAME, t);

    return written - (counted + drain_stream());
}

static long one_round(void *rng, long round) { return run_round(rng, round); }

static const char *call_of(long round) { return round & 1 ? "fread" : "fgets"; }

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    int p[2];

    if (pipe(p) != 0)
        die(NAME, "pipe");
    pipe_rd = p[0];
    pipe_wr = p[1];
    fcntl(pipe_wr, F_SETFL, O_NONBLOCK);
    stream = fdopen(pipe_rd, "r");
    if (!stream)
        die(NAME, "fdopen");
    return count_bytes(NAME, a, &rng, one_round, call_of);
}
