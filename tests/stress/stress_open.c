/* stress_open: cancelling a thread in open() must never leak a descriptor.
 *
 * Each round a worker thread loops: open() a path, record the fd in `slot`
 * right after the call returns, close it, clear the slot.  A cleanup
 * handler closes a still-recorded slot.  Main cancels and joins the worker
 * at a random moment and then checks that no descriptor beyond the
 * baseline is open.
 *
 * Most opens are of a regular file (fast: the cancel lands before or right
 * after them).  Every few iterations the worker opens a FIFO for reading,
 * which blocks until main opens the write end, so that cancels also land
 * inside a blocked open() and right after main has woken it up.  The worker
 * alternates between two FIFOs: while main briefly holds the write end of
 * one (and may be preempted holding it, when both threads share a CPU), the
 * worker's next FIFO open is of the other one and blocks, instead of
 * sailing through again and again and hogging the CPU.
 *
 * `close(slot); slot = -1;` is correct under musl/ptcancel semantics: close
 * acts on a cancel only before its syscall, so if the cancel wins, the fd is
 * still open and still recorded, and the cleanup handler closes it.
 *
 * Usage: stress_open [rounds [seed]]
 * Prints "stress_open: rounds=N lost=K" (K = leaked fds); exits 0 iff K == 0.
 */
#define _GNU_SOURCE
#include "stress_common.h"

#include <sys/stat.h>

#define NAME "stress_open"
#define FIFO_EVERY 4 /* one open in FIFO_EVERY (on average) is the FIFO */
#define MAX_WAKES 6  /* FIFO wake-ups per round */

static char dir[] = "/tmp/stress_open.XXXXXX";
static char file_path[64], fifo_path[2][64];

/* The fd the worker currently owns, or -1.  volatile: it is read by the
 * cleanup handler, which runs during unwinding. */
static volatile int slot = -1;

static void close_slot(void *unused)
{
    (void)unused;
    if (slot >= 0)
        close(slot);
    slot = -1;
}

/* Kept out of opener() so that its locals are not in the frame of
 * pthread_cleanup_push's setjmp (glibc), which would draw -Wclobbered. */
static __attribute__((noinline)) void open_loop(uint64_t rng)
{
    unsigned which = 0; /* which FIFO is next */

    for (;;) {
        int fifo = rng_below(&rng, FIFO_EVERY) == 0;
        int fd = open(fifo ? fifo_path[which] : file_path, O_RDONLY);
        slot = fd; /* no cancellation point between the return and here */
        if (fd >= 0) {
            close(fd);
            slot = -1;
            if (fifo)
                which ^= 1;
        }
    }
}

static void *opener(void *arg)
{
    pthread_cleanup_push(close_slot, NULL);
    open_loop((uintptr_t)arg);
    pthread_cleanup_pop(0);
    return NULL;
}

/* Lets a worker blocked in open(fifo, O_RDONLY) through: opening the write
 * end non-blockingly succeeds only while a reader is waiting (ENXIO
 * otherwise), and the reader's open() completes even though we close the
 * write end right away.  Returns -1 if our own close() failed with EBADF,
 * which means someone closed our descriptor behind our back (a cleanup
 * handler closing an fd it had already closed). */
static int wake_fifo_reader(void)
{
    for (int i = 0; i < 2; i++) {
        int fd = open(fifo_path[i], O_WRONLY | O_NONBLOCK);
        if (fd >= 0 && close(fd) != 0 && errno == EBADF)
            return -1;
    }
    return 0;
}

static void remove_temp_files(void) /* async-signal-safe (watchdog) */
{
    unlink(fifo_path[0]);
    unlink(fifo_path[1]);
    unlink(file_path);
    rmdir(dir);
}

static void make_temp_files(void)
{
    int fd;

    if (mkdtemp(dir) == NULL)
        die(NAME, "mkdtemp");
    snprintf(file_path, sizeof file_path, "%s/file", dir);
    snprintf(fifo_path[0], sizeof fifo_path[0], "%s/fifo0", dir);
    snprintf(fifo_path[1], sizeof fifo_path[1], "%s/fifo1", dir);
    fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die(NAME, "create file");
    close(fd);
    if (mkfifo(fifo_path[0], 0600) != 0 || mkfifo(fifo_path[1], 0600) != 0)
        die(NAME, "mkfifo");
}

/* One round; returns the number of descriptors leaked (and closes them).
 * *foreign_closes counts EBADF on main's own descriptors. */
static long run_round(uint64_t *rng, const struct fd_baseline *base,
                      long *foreign_closes)
{
    pthread_t t;
    int err;

    err = pthread_create(&t, NULL, opener, (void *)(uintptr_t)rng_next(rng));
    if (err != 0) {
        errno = err;
        die(NAME, "pthread_create");
    }
    for (unsigned wakes = rng_below(rng, MAX_WAKES + 1); wakes > 0; wakes--) {
        random_delay(rng);
        if (wake_fifo_reader() != 0)
            ++*foreign_closes;
    }
    random_delay(rng);
    cancel_and_join(NAME, t);

    /* At most a couple of descriptors can be in flight at once. */
    return fd_close_strays(base, 8);
}

int main(int argc, char **argv)
{
    struct args a = parse_args(argc, argv);
    uint64_t rng = a.seed;
    struct fd_baseline base;
    long lost = 0, bad_rounds = 0, foreign_closes = 0;

    make_temp_files();
    watch_init(NAME, remove_temp_files);
    fd_baseline_take(&base);

    for (long round = 0; round < a.rounds; round++) {
        watch_round(round);
        long leaked = run_round(&rng, &base, &foreign_closes);
        if (leaked == 0)
            continue;
        if (++bad_rounds <= 10)
            fprintf(stderr, "%s: round %ld: %ld fds leaked\n", NAME, round,
                    leaked);
        lost += leaked;
    }
    alarm(0);
    remove_temp_files();

    if (foreign_closes != 0)
        fprintf(stderr, "%s: %ld of main's fds were closed by someone else "
                "(double close in a cleanup handler?)\n", NAME, foreign_closes);
    if (lost != 0 || foreign_closes != 0)
        fprintf(stderr, "%s: %ld bad rounds; seed=%llu\n", NAME, bad_rounds,
                (unsigned long long)a.seed);
    printf("%s: rounds=%ld lost=%ld\n", NAME, a.rounds, lost);
    return lost == 0 && foreign_closes == 0 ? 0 : 1;
}
