/* stress_read: cancelling a thread blocked in read() must never lose data.
 *
 * Each round a worker thread does small blocking reads from a pipe and
 * counts every byte its read() calls return.  Meanwhile main writes a few
 * small chunks into the pipe, then cancels and joins the worker at a random
 * moment.  Whatever the worker did not count must still be in the pipe:
 *
 *     counted + left_in_pipe == written        (every round)
 *
 * With glibc's cancellation a cancel that arrives just after read() got its
 * bytes from the kernel kills the thread anyway, and those bytes are gone.
 * With musl's design (and ptcancel) a cancel that arrives after the syscall
 * is deferred, so nothing can be lost.
 *
 * Usage: stress_read [rounds [seed]]
 * Prints "stress_read: rounds=N lost=K" (K in bytes); exits 0 iff K == 0.
 */
#define _GNU_SOURCE
#include "stress_common.h"

#include <sys/ioctl.h>

#define NAME "stress_read"

static int pipe_rd, pipe_wr;

/* Bytes the worker's read() calls returned.  volatile: the update must be
 * in memory before the next read() (the next cancellation point), or a
 * cancel there would unwind with the count still in a register. */
static volatile long counted;

static void *reader(void *arg)
{
    uint64_t rng = (uintptr_t)arg;
    char buf[8];

    for (;;) {
        ssize_t n = read(pipe_rd, buf, 1 + rng_below(&rng, 7));
        /* No cancellation point between read() returning and this line. */
        if (n > 0)
            counted += n;
    }
    return NULL;
}

/* Writes 1..16 bytes; the write end is non-blocking so main never stalls. */
static long write_chunk(uint64_t *rng)
{
    static const char data[16] = "0123456789abcdef";
    ssize_t n = write(pipe_wr, data, 1 + rng_below(rng, 16));
    return n > 0 ? n : 0;
}

/* Reads out whatever is left in the pipe (only main is left reading). */
static long drain_pipe(void)
{
    char buf[256];
    long total = 0;
    int avail = 0;

    if (ioctl(pipe_rd, FIONREAD, &avail) != 0)
        die(NAME, "ioctl(FIONREAD)");
    while (total < avail) {
        size_t want = (size_t)(avail - total);
        ssize_t n = read(pipe_rd, buf, want < sizeof buf ? want : sizeof buf);
        if (n <= 0)
            die(NAME, "read(drain)");
        total += n;
    }
    return total;
}

/* One round; returns written - (counted + drained): the bytes lost. */
static long run_round(uint64_t *rng)
{
    pthread_t t;
    long written = 0;
    int err;

    counted = 0;
    err = pthread_create(&t, NULL, reader, (void *)(uintptr_t)rng_next(rng));
    if (err != 0) {
        errno = err;
        die(NAME, "pthread_create");
    }

    /* 0..5 chunks with random pauses, then a last random pause: the
     * cancel lands before, during or right after one of the reads. */
    for (unsigned chunks = rng_below(rng, 6); chunks > 0; chunks--) {
        random_delay(rng);
        written += write_chunk(rng);
    }
    random_delay(rng);
    cancel_and_join(NAME, t);

    return written - (counted + drain_pipe());
}

static long one_round(void *rng, long round)
{
    (void)round;
    return run_round(rng);
}

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
    return count_bytes(NAME, a, &rng, one_round, NULL);
}
