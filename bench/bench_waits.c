/* bench_waits: the program's condition variables, semaphores and
 * pthread_join against glibc's own, side by side in one process.
 *
 * Two families of functions are timed:
 *   libc:  the program's pthread_cond_*, sem_* and pthread_join -- glibc's,
 *          musl's, or ptcancel's when it interposes them (preloaded or linked
 *          in statically);
 *   glibc: glibc's own, found with dlopen("libc.so.6", RTLD_NOLOAD) and
 *          dlvsym(..., "GLIBC_2.3.2") for pthread_cond_* (the default
 *          version; the old GLIBC_2.2.5 / GLIBC_2.0 ones are the pre-2.3.2
 *          condvars), dlsym for sem_* and pthread_join.  A handle lookup
 *          searches libc.so.6 and its dependencies only, so it gets past an
 *          interposed definition.  Skipped when glibc is not loaded (a static
 *          musl build).
 * Each family only ever touches objects its own init function initialised
 * (the mutexes are glibc's in both: ptcancel does not replace them; nor
 * sem_init/sem_post, as its sem_wait keeps glibc's sem_t protocol).  The
 * program prints which of its functions are not glibc's own.  Without
 * ptcancel both families are the same functions, and their ratio shows the
 * noise floor.
 *
 * The tests:
 *   cond-pingpong-1cpu / -2cpu: two threads, one mutex, two condvars, a turn
 *       variable; ns per round trip (each side waits once per round).  1cpu:
 *       both threads pinned to one CPU (no cross-CPU wake-ups, no idle
 *       states: the code path and the syscalls); 2cpu: one thread on each of
 *       two CPUs.
 *   sem-pingpong-1cpu / -2cpu: the same with two sem_t, sem_post/sem_wait.
 *   broadcast-64: 64 threads wait on one condvar with one mutex; the main
 *       thread broadcasts; µs until the last of the 64 has re-acquired the
 *       mutex and checked in (it takes the time under the mutex).  No pinning.
 *   join-exited: pthread_join of threads that have already exited (the main
 *       thread waits until /proc/self/task/<tid> is gone, which the kernel
 *       does after clearing the tid word); ns per join.
 *   create+join-1cpu / -2cpu: pthread_create of a thread that returns at
 *       once, then pthread_join (which usually has to wait); ns per pair.
 *       1cpu: both on one CPU; 2cpu: the main thread on one CPU, the created
 *       threads on another (pthread_attr_setaffinity_np; not with musl).
 *       Unpinned, where the scheduler puts the new thread varies over tens
 *       of milliseconds, and whichever family ran first came out ~5% slower.
 * Threads of the join tests get 64 KiB stacks, so that glibc's stack cache
 * holds them all and no join pays for munmap.
 *
 * The families are interleaved: each trial runs every test after a short
 * unmeasured run of it, in 8 runs of a quarter of the iterations each, in
 * the order libc glibc glibc libc libc glibc glibc libc (the next trial
 * starts with glibc); a family's figure for the trial is the mean of its 4
 * runs.  We report the median of each over the trials, and the median of
 * the per-trial ratios libc/glibc.
 *
 * Then, once per family and untimed, the wake pattern of a broadcast: the
 * main thread broadcasts to the 64 waiters and keeps the mutex for 20 ms,
 * then reads /proc/self/task/<tid>/syscall of each waiter: how many are
 * blocked in a futex wait on the mutex (woken, now contending for the mutex:
 * a thundering herd), how many are still in the futex wait they entered on
 * the condvar (not woken yet, or requeued to the mutex by the kernel), how
 * many in a futex wait on some other word (musl's waiters each wait on a
 * word of their own) and how many not in a futex wait at all (running, ...).
 *
 * Usage: bench_waits [trials [scale [tests]]]
 *   defaults 15 trials, scale 1.0 (multiplies every test's iteration count;
 *   about 15 s on a 2-CPU VM); tests: a comma-separated list of test names
 *   (default all).  BENCH_WAITS_VERBOSE=1 also prints every trial's figures.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__i386__)
#define ARCH "i386"
#else
#define ARCH "unknown arch"
#endif

#define NWAITERS 64
#define SLICES 4 /* runs per family and test in each trial; even */

static void fail(const char *what, int err, int line)
{
    fprintf(stderr, "bench_waits.c:%d: %s: %s\n", line, what, strerror(err));
    abort();
}
/* pthread-style calls: 0 or an error number */
#define CHECK(call)                                                          \
    do {                                                                     \
        int e_ = (call);                                                     \
        if (e_ != 0)                                                         \
            fail(#call, e_, __LINE__);                                       \
    } while (0)
/* sem-style calls: 0 or -1 with errno */
#define CHECK_ERRNO(call)                                                    \
    do {                                                                     \
        if ((call) != 0)                                                     \
            fail(#call, errno, __LINE__);                                    \
    } while (0)

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

/* ---- the two families ------------------------------------------------------ */

struct family {
    const char *name;
    int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
    int (*cond_destroy)(pthread_cond_t *);
    int (*cond_signal)(pthread_cond_t *);
    int (*cond_broadcast)(pthread_cond_t *);
    int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*sem_init)(sem_t *, int, unsigned);
    int (*sem_destroy)(sem_t *);
    int (*sem_post)(sem_t *);
    int (*sem_wait)(sem_t *);
    int (*join)(pthread_t, void **);
};

#define NFUNCS 10
static const char *const func_names[NFUNCS] = {
    "pthread_cond_init", "pthread_cond_destroy", "pthread_cond_signal",
    "pthread_cond_broadcast", "pthread_cond_wait", "sem_init", "sem_destroy",
    "sem_post", "sem_wait", "pthread_join"};

static void family_ptrs(const struct family *f, void *out[NFUNCS])
{
    out[0] = (void *)f->cond_init;
    out[1] = (void *)f->cond_destroy;
    out[2] = (void *)f->cond_signal;
    out[3] = (void *)f->cond_broadcast;
    out[4] = (void *)f->cond_wait;
    out[5] = (void *)f->sem_init;
    out[6] = (void *)f->sem_destroy;
    out[7] = (void *)f->sem_post;
    out[8] = (void *)f->sem_wait;
    out[9] = (void *)f->join;
}

/* The program's own functions: whatever the dynamic linker (or the static
 * link) bound them to. */
static void libc_family(struct family *f)
{
    f->name = "libc";
    f->cond_init = pthread_cond_init;
    f->cond_destroy = pthread_cond_destroy;
    f->cond_signal = pthread_cond_signal;
    f->cond_broadcast = pthread_cond_broadcast;
    f->cond_wait = pthread_cond_wait;
    f->sem_init = sem_init;
    f->sem_destroy = sem_destroy;
    f->sem_post = sem_post;
    f->sem_wait = sem_wait;
    f->join = pthread_join;
}

/* glibc's own; 0 if glibc is not loaded or lacks one of them. */
static int glibc_family(struct family *f)
{
#ifdef __GLIBC__
    void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_NOW);
    void *p[NFUNCS];

    if (libc == NULL)
        return 0;
    for (int i = 0; i < NFUNCS; i++) {
        p[i] = strncmp(func_names[i], "pthread_cond_", 13) == 0
                   ? dlvsym(libc, func_names[i], "GLIBC_2.3.2")
                   : dlsym(libc, func_names[i]);
        if (p[i] == NULL) {
            printf("note: libc.so.6 has no %s\n", func_names[i]);
            return 0;
        }
    }
    f->name = "glibc";
    f->cond_init = (int (*)(pthread_cond_t *, const pthread_condattr_t *))p[0];
    f->cond_destroy = (int (*)(pthread_cond_t *))p[1];
    f->cond_signal = (int (*)(pthread_cond_t *))p[2];
    f->cond_broadcast = (int (*)(pthread_cond_t *))p[3];
    f->cond_wait = (int (*)(pthread_cond_t *, pthread_mutex_t *))p[4];
    f->sem_init = (int (*)(sem_t *, int, unsigned))p[5];
    f->sem_destroy = (int (*)(sem_t *))p[6];
    f->sem_post = (int (*)(sem_t *))p[7];
    f->sem_wait = (int (*)(sem_t *))p[8];
    f->join = (int (*)(pthread_t, void **))p[9];
    return 1;
#else
    (void)f;
    return 0;
#endif
}

static void sem_wait_ok(const struct family *f, sem_t *s)
{
    while (f->sem_wait(s) != 0)
        if (errno != EINTR)
            fail("sem_wait", errno, __LINE__);
}

/* ---- CPUs ------------------------------------------------------------------ */

static cpu_set_t all_cpus;
static int cpu_a = -1, cpu_b = -1; /* the first two CPUs we may run on */

static void find_cpus(void)
{
    if (sched_getaffinity(0, sizeof all_cpus, &all_cpus) != 0)
        return;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &all_cpus)) {
            if (cpu_a < 0)
                cpu_a = c;
            else if (cpu_b < 0)
                cpu_b = c;
        }
}

/* Pins the calling thread to `cpu`, or lets it run anywhere again (-1). */
static void pin(int cpu)
{
    cpu_set_t set;

    if (cpu_a < 0)
        return;
    if (cpu < 0)
        set = all_cpus;
    else {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
    }
    CHECK(pthread_setaffinity_np(pthread_self(), sizeof set, &set));
}

/* ---- ping-pong ------------------------------------------------------------- */

struct pingpong {
    const struct family *f;
    int use_sem;
    int partner_cpu;
    long rounds; /* warm-up included */
    pthread_mutex_t m;
    pthread_cond_t c[2];
    int turn; /* under m: 1 = the partner's move, 0 = main's */
    sem_t s[2];
};

static void *pingpong_partner(void *arg)
{
    struct pingpong *p = arg;
    const struct family *f = p->f;

    pin(p->partner_cpu);
    if (p->use_sem) {
        for (long i = 0; i < p->rounds; i++) {
            sem_wait_ok(f, &p->s[1]);
            CHECK_ERRNO(f->sem_post(&p->s[0]));
        }
        return NULL;
    }
    CHECK(pthread_mutex_lock(&p->m));
    for (long i = 0; i < p->rounds; i++) {
        while (p->turn != 1)
            CHECK(f->cond_wait(&p->c[1], &p->m));
        p->turn = 0;
        CHECK(f->cond_signal(&p->c[0]));
    }
    CHECK(pthread_mutex_unlock(&p->m));
    return NULL;
}

/* ns per round trip over `n` timed rounds (after n/10 + 10 warm-up rounds). */
static double run_pingpong(const struct family *f, int use_sem, int two_cpus, long n)
{
    struct pingpong p;
    long warm = n / 10 + 10;
    double t0 = 0;
    pthread_t th;

    memset(&p, 0, sizeof p);
    p.f = f;
    p.use_sem = use_sem;
    p.partner_cpu = two_cpus ? cpu_b : cpu_a;
    p.rounds = warm + n;
    CHECK(pthread_mutex_init(&p.m, NULL));
    CHECK(f->cond_init(&p.c[0], NULL));
    CHECK(f->cond_init(&p.c[1], NULL));
    CHECK_ERRNO(f->sem_init(&p.s[0], 0, 0));
    CHECK_ERRNO(f->sem_init(&p.s[1], 0, 0));
    pin(cpu_a);
    CHECK(pthread_create(&th, NULL, pingpong_partner, &p));

    if (use_sem) {
        for (long i = 0; i < p.rounds; i++) {
            if (i == warm)
                t0 = now_ns();
            CHECK_ERRNO(f->sem_post(&p.s[1]));
            sem_wait_ok(f, &p.s[0]);
        }
    } else {
        CHECK(pthread_mutex_lock(&p.m));
        for (long i = 0; i < p.rounds; i++) {
            if (i == warm)
                t0 = now_ns();
            p.turn = 1;
            CHECK(f->cond_signal(&p.c[1]));
            while (p.turn != 0)
                CHECK(f->cond_wait(&p.c[0], &p.m));
        }
        CHECK(pthread_mutex_unlock(&p.m));
    }
    double ns = (now_ns() - t0) / n;

    CHECK(f->join(th, NULL));
    pin(-1);
    CHECK(f->cond_destroy(&p.c[0]));
    CHECK(f->cond_destroy(&p.c[1]));
    CHECK_ERRNO(f->sem_destroy(&p.s[0]));
    CHECK_ERRNO(f->sem_destroy(&p.s[1]));
    CHECK(pthread_mutex_destroy(&p.m));
    return ns;
}

static double t_cond1(const struct family *f, long n) { return run_pingpong(f, 0, 0, n); }
static double t_cond2(const struct family *f, long n) { return run_pingpong(f, 0, 1, n); }
static double t_sem1(const struct family *f, long n) { return run_pingpong(f, 1, 0, n); }
static double t_sem2(const struct family *f, long n) { return run_pingpong(f, 1, 1, n); }

/* ---- broadcast to 64 waiters ----------------------------------------------- */

struct broadcast {
    const struct family *f;
    pthread_mutex_t m;
    pthread_cond_t go, done;
    /* all under m: */
    unsigned gen;    /* bumped by each broadcast */
    int arrived;     /* waiters that checked in since the last broadcast */
    int stop;
    double t_last;   /* when the last one checked in */
    pid_t tids[NWAITERS];
    int ntids;
};

static void *broadcast_waiter(void *arg)
{
    struct broadcast *b = arg;
    const struct family *f = b->f;
    pid_t tid = my_tid();

    CHECK(pthread_mutex_lock(&b->m));
    b->tids[b->ntids++] = tid;
    unsigned seen = b->gen;
    for (;;) {
        if (++b->arrived == NWAITERS) {
            b->t_last = now_ns();
            CHECK(f->cond_signal(&b->done));
        }
        while (b->gen == seen)
            CHECK(f->cond_wait(&b->go, &b->m));
        seen = b->gen;
        if (b->stop)
            break;
    }
    CHECK(pthread_mutex_unlock(&b->m));
    return NULL;
}

/* Which futex word, if any, thread `tid` is blocked on: 0 the mutex, 1 the
 * condvar `go`, 2 another one, 3 none (running, another syscall, unreadable). */
static int blocked_on(const struct broadcast *b, pid_t tid)
{
    char path[64], text[256];
    unsigned long a0, mu = (uintptr_t)&b->m, cv = (uintptr_t)&b->go;
    long nr;
    ssize_t len;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    if ((fd = open(path, O_RDONLY)) < 0)
        return 3;
    len = read(fd, text, sizeof text - 1);
    close(fd);
    if (len <= 0)
        return 3;
    text[len] = '\0';
    if (sscanf(text, "%ld %lx", &nr, &a0) != 2)
        return 3;
    if (!(nr == SYS_futex
#ifdef SYS_futex_time64
          || nr == SYS_futex_time64
#endif
          ))
        return 3;
    if (a0 - mu < sizeof b->m)
        return 0;
    if (a0 - cv < sizeof b->go)
        return 1;
    return 2;
}

/* µs per round (broadcast -> the 64th check-in) over `rounds` timed rounds.
 * With `pattern` != NULL, instead runs 3 untimed rounds in which the main
 * thread keeps the mutex 20 ms after the broadcast and counts where the
 * waiters are: pattern[round][blocked_on()]. */
static double run_broadcast(const struct family *f, long rounds, int pattern[3][4])
{
    static struct broadcast b; /* 64 threads share it; keep it off the stack */
    pthread_t th[NWAITERS];
    pthread_attr_t attr;
    long warm = 3, total;
    double sum = 0;

    memset(&b, 0, sizeof b);
    b.f = f;
    CHECK(pthread_mutex_init(&b.m, NULL));
    CHECK(f->cond_init(&b.go, NULL));
    CHECK(f->cond_init(&b.done, NULL));
    CHECK(pthread_attr_init(&attr));
    CHECK(pthread_attr_setstacksize(&attr, 256 * 1024));
    for (int i = 0; i < NWAITERS; i++)
        CHECK(pthread_create(&th[i], &attr, broadcast_waiter, &b));
    CHECK(pthread_attr_destroy(&attr));

    total = pattern != NULL ? 3 : warm + rounds;
    CHECK(pthread_mutex_lock(&b.m));
    while (b.arrived < NWAITERS) /* all 64 are inside cond_wait(go) */
        CHECK(f->cond_wait(&b.done, &b.m));
    for (long r = 0; r < total; r++) {
        b.arrived = 0;
        b.gen++;
        double t0 = now_ns();
        CHECK(f->cond_broadcast(&b.go));
        if (pattern != NULL) {
            struct timespec hold = {0, 20 * 1000 * 1000};
            nanosleep(&hold, NULL);
            memset(pattern[r], 0, sizeof pattern[r]);
            for (int i = 0; i < NWAITERS; i++)
                pattern[r][blocked_on(&b, b.tids[i])]++;
        }
        while (b.arrived < NWAITERS)
            CHECK(f->cond_wait(&b.done, &b.m));
        if (r >= warm)
            sum += b.t_last - t0;
    }
    b.stop = 1;
    b.gen++;
    CHECK(f->cond_broadcast(&b.go));
    CHECK(pthread_mutex_unlock(&b.m));
    for (int i = 0; i < NWAITERS; i++)
        CHECK(f->join(th[i], NULL));
    CHECK(f->cond_destroy(&b.go));
    CHECK(f->cond_destroy(&b.done));
    CHECK(pthread_mutex_destroy(&b.m));
    return pattern != NULL ? 0 : sum / 1e3 / rounds;
}

static double t_bcast(const struct family *f, long n) { return run_broadcast(f, n, NULL); }

/* ---- pthread_join ---------------------------------------------------------- */

#define BATCH 32

static void *exit_at_once(void *arg)
{
    if (arg != NULL)
        __atomic_store_n((pid_t *)arg, my_tid(), __ATOMIC_RELEASE);
    return (void *)0x1234;
}

static pthread_attr_t small_stack;

/* ns per join of a thread that has exited, over `n` joins (rounded up to
 * batches of 32). */
static double t_join_exited(const struct family *f, long n)
{
    long batches = (n + BATCH - 1) / BATCH;
    double sum = 0;

    for (long k = 0; k < batches; k++) {
        pthread_t th[BATCH];
        pid_t tids[BATCH];
        void *ret;

        for (int i = 0; i < BATCH; i++) {
            tids[i] = 0;
            CHECK(pthread_create(&th[i], &small_stack, exit_at_once, &tids[i]));
        }
        for (int i = 0; i < BATCH; i++) {
            char path[64];
            while (__atomic_load_n(&tids[i], __ATOMIC_ACQUIRE) == 0)
                sched_yield();
            snprintf(path, sizeof path, "/proc/self/task/%d", (int)tids[i]);
            while (access(path, F_OK) == 0) /* gone only after the tid word is cleared */
                sched_yield();
        }
        double t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            if (f->join(th[i], &ret) != 0 || ret != (void *)0x1234)
                fail("pthread_join", EINVAL, __LINE__);
        sum += now_ns() - t0;
    }
    return sum / (batches * BATCH);
}

/* ns per pthread_create + pthread_join pair, over `n` pairs.  The main
 * thread runs on `cpu`, the created threads on `thread_cpu` (musl, which has
 * no pthread_attr_setaffinity_np: on `cpu`, and there is no -2cpu test). */
static double run_create_join(const struct family *f, long n, int cpu, int thread_cpu)
{
    pthread_attr_t attr;
    cpu_set_t set;
    double t0, ns;

    CHECK(pthread_attr_init(&attr));
    CHECK(pthread_attr_setstacksize(&attr, 64 * 1024));
    CPU_ZERO(&set);
    CPU_SET(thread_cpu, &set);
#ifdef __GLIBC__
    if (cpu_a >= 0)
        CHECK(pthread_attr_setaffinity_np(&attr, sizeof set, &set));
#else
    (void)set;
#endif
    pin(cpu);
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pthread_t th;
        void *ret;
        CHECK(pthread_create(&th, &attr, exit_at_once, NULL));
        if (f->join(th, &ret) != 0 || ret != (void *)0x1234)
            fail("pthread_join", EINVAL, __LINE__);
    }
    ns = (now_ns() - t0) / n;
    pin(-1);
    CHECK(pthread_attr_destroy(&attr));
    return ns;
}

static double t_create_join1(const struct family *f, long n) { return run_create_join(f, n, cpu_a, cpu_a); }
#ifdef __GLIBC__
static double t_create_join2(const struct family *f, long n) { return run_create_join(f, n, cpu_a, cpu_b); }
#endif

/* ---- the tests ------------------------------------------------------------- */

struct test {
    const char *name;
    const char *unit;
    double (*run)(const struct family *f, long n);
    long n; /* per trial, before scaling */
    int needs_two_cpus;
};

static const struct test tests[] = {
    {"cond-pingpong-1cpu", "ns/round-trip", t_cond1, 4000, 0},
    {"cond-pingpong-2cpu", "ns/round-trip", t_cond2, 2000, 1},
    {"sem-pingpong-1cpu", "ns/round-trip", t_sem1, 4000, 0},
    {"sem-pingpong-2cpu", "ns/round-trip", t_sem2, 2000, 1},
    {"broadcast-64", "us/round", t_bcast, 200, 0},
    {"join-exited", "ns/join", t_join_exited, 1024, 0},
    {"create+join-1cpu", "ns/pair", t_create_join1, 1000, 0},
#ifdef __GLIBC__
    {"create+join-2cpu", "ns/pair", t_create_join2, 1000, 1},
#endif
};
#define NTESTS (int)(sizeof tests / sizeof tests[0])

/* ---- statistics ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
    double *s = malloc(n * sizeof *s);
    double m;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

/* ---- setup ----------------------------------------------------------------- */

/* The weak references find ptcancel when it is linked in statically;
 * dlsym finds it when it is preloaded. */
extern const char *ptcancel_version(void) __attribute__((weak));
extern const char *ptcancel_syscall_mode(void) __attribute__((weak));

typedef const char *(*name_fn)(void);

static name_fn ptcancel_fn(name_fn weak, const char *name)
{
    return weak != NULL ? weak : (name_fn)dlsym(RTLD_DEFAULT, name);
}

static void print_implementation(int trials, double scale)
{
    name_fn version = ptcancel_fn(ptcancel_version, "ptcancel_version");
    name_fn mode = ptcancel_fn(ptcancel_syscall_mode, "ptcancel_syscall_mode");

    if (version != NULL)
        printf("cancellation: ptcancel %s, syscall mode %s", version(),
               mode != NULL ? mode() : "unknown");
    else
        printf("cancellation: the C library's own");
    printf("  [%s, %d trials, scale %g]\n", ARCH, trials, scale);
}

/* Which of the program's functions are not glibc's own, and where they are. */
static void print_interposed(const struct family *libc, const struct family *glibc)
{
    void *a[NFUNCS], *b[NFUNCS];
    const char *where[NFUNCS];
    int count = 0, same = 1;

    family_ptrs(libc, a);
    family_ptrs(glibc, b);
    for (int i = 0; i < NFUNCS; i++) {
        Dl_info info;
        where[i] = "?";
        if (a[i] != b[i] && dladdr(a[i], &info) != 0 && info.dli_fname != NULL) {
            const char *base = strrchr(info.dli_fname, '/');
            where[i] = base != NULL ? base + 1 : info.dli_fname;
        }
    }
    printf("the program's functions (libc) that are not glibc's own:");
    for (int i = 0; i < NFUNCS; i++)
        if (a[i] != b[i]) {
            printf(" %s", func_names[i]);
            for (int j = 0; j < i; j++)
                if (a[j] != b[j] && strcmp(where[j], where[i]) != 0)
                    same = 0;
            count++;
        }
    if (count == 0)
        printf(" none: libc = glibc, the ratios are the noise floor\n");
    else if (same)
        for (int i = 0; i < NFUNCS; i++)
            if (a[i] != b[i]) {
                printf(", from %s\n", where[i]);
                break;
            }
    if (count > 0 && !same) {
        printf("; from");
        for (int i = 0; i < NFUNCS; i++)
            if (a[i] != b[i])
                printf(" %s", where[i]);
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    int trials = argc > 1 ? atoi(argv[1]) : 15;
    double scale = argc > 2 ? atof(argv[2]) : 1.0;
    const char *only = argc > 3 ? argv[3] : NULL;
    struct family fam[2];
    int nf = 1;
    double *val[NTESTS][2];
    long n[NTESTS];
    int on[NTESTS];
    int verbose = getenv("BENCH_WAITS_VERBOSE") != NULL;
    double t_start = now_ns();

    if (trials < 1 || !(scale > 0))
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    find_cpus();
    CHECK(pthread_attr_init(&small_stack));
    CHECK(pthread_attr_setstacksize(&small_stack, 64 * 1024));

    print_implementation(trials, scale);
    libc_family(&fam[0]);
    if (glibc_family(&fam[1]))
        nf = 2;
    else
        printf("note: glibc's functions not found (libc.so.6 not loaded); no glibc variant\n");
    if (nf == 2)
        print_interposed(&fam[0], &fam[1]);
    if (cpu_b < 0)
        printf("note: only one CPU available; no -2cpu tests\n");

    for (int i = 0; i < NTESTS; i++) {
        on[i] = !tests[i].needs_two_cpus || cpu_b >= 0;
        if (only != NULL) {
            size_t len = strlen(tests[i].name);
            const char *hit = only;
            while ((hit = strstr(hit, tests[i].name)) != NULL &&
                   !((hit == only || hit[-1] == ',') && (hit[len] == ',' || hit[len] == '\0')))
                hit++;
            on[i] = on[i] && hit != NULL;
        }
        n[i] = (long)(tests[i].n * scale);
        if (n[i] < 1)
            n[i] = 1;
        for (int k = 0; k < nf; k++)
            val[i][k] = calloc(trials, sizeof(double));
    }

    /* warm-up: thread stacks in the cache, code paths, page faults */
    for (int i = 0; i < NTESTS; i++)
        for (int k = 0; k < nf; k++)
            if (on[i])
                tests[i].run(&fam[k], n[i] / 10 + 1);

    for (int t = 0; t < trials; t++)
        for (int i = 0; i < NTESTS; i++) {
            if (!on[i])
                continue;
            /* A short unmeasured run of the same test first, by the family
             * that goes second: otherwise the first measured run follows a
             * different test and pays for it (up to 5% in create+join). */
            tests[i].run(&fam[(t + nf - 1) % nf], n[i] / 10 + 1);
            /* Each family SLICES times, with 1/SLICES of the iterations, in
             * the order A B B A A B B A (B A A B B A A B in the next trial):
             * finer interleaving, and a drift of the machine's speed within
             * the trial cancels out. */
            for (int k = 0; k < nf; k++)
                val[i][k][t] = 0;
            for (int j = 0; j < SLICES * nf; j++) {
                int k = nf == 1 ? 0 : (t + ((j + 1) >> 1)) & 1;
                val[i][k][t] += tests[i].run(&fam[k], (n[i] + SLICES - 1) / SLICES) / SLICES;
            }
        }

    printf("median over %d trials; ratio = median of per-trial libc/glibc:\n", trials);
    printf("  %-20s %-14s %10s %10s %10s\n", "test", "unit", "libc", "glibc", "libc/glibc");
    for (int i = 0; i < NTESTS; i++) {
        if (!on[i])
            continue;
        printf("  %-20s %-14s %10.1f", tests[i].name, tests[i].unit, median(val[i][0], trials));
        if (nf == 2) {
            double *ratio = calloc(trials, sizeof(double));
            for (int t = 0; t < trials; t++)
                ratio[t] = val[i][0][t] / val[i][1][t];
            printf(" %10.1f %10.3f\n", median(val[i][1], trials), median(ratio, trials));
            free(ratio);
        } else
            printf(" %10s %10s\n", "-", "-");
    }

    for (int i = 0; i < NTESTS; i++) {
        if (tests[i].run != t_bcast || !on[i])
            continue;
        printf("broadcast wake pattern, 3 rounds (64 waiters; main keeps the mutex 20 ms after the\n"
               "  broadcast): waiters in a futex wait on the mutex / on the condvar / on another\n"
               "  word / not in a futex wait\n");
        for (int k = 0; k < nf; k++) {
            int pattern[3][4];
            run_broadcast(&fam[k], 0, pattern);
            printf("  wake-pattern %-6s", fam[k].name);
            for (int r = 0; r < 3; r++)
                printf("  %d/%d/%d/%d", pattern[r][0], pattern[r][1], pattern[r][2], pattern[r][3]);
            printf("\n");
        }
    }
    if (verbose) {
        printf("per trial (libc/glibc; * = libc went first):\n");
        for (int i = 0; i < NTESTS; i++) {
            if (!on[i])
                continue;
            printf("  %s:", tests[i].name);
            for (int t = 0; t < trials; t++)
                printf(" %s%.0f/%.0f", nf == 2 && t % 2 == 0 ? "*" : "", val[i][0][t],
                       nf == 2 ? val[i][1][t] : 0.0);
            printf("\n");
        }
    }
    printf("total %.1f s\n", (now_ns() - t_start) / 1e9);
    return 0;
}
