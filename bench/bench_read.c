/* bench_read: the cost of a cancellable read() against a bare syscall.
 *
 * Measures ns per read(fd, buf, 0) on a pipe (returns 0 at once, so this is
 * pure call overhead) through
 *   libc-read:  the program's `read` -- the C library's, or ptcancel's when
 *               it is interposed (preloaded or linked in statically);
 *   glibc-read: glibc's own `read`, found with
 *               dlsym(dlopen("libc.so.6", RTLD_NOLOAD), "read"), which gets
 *               past an interposed `read` (skipped when glibc is not loaded,
 *               e.g. a static musl build);
 * and through a minimal out-of-line syscall stub:
 *   x86_64: `syscall`
 *   i386:   `int $0x80`, and the vDSO entry `call *%gs:0x10` (where glibc
 *           and musl keep AT_SYSINFO; checked against getauxval first)
 *
 * The process is made multithreaded first (an idle thread), because C
 * libraries skip the cancellation machinery in single-threaded processes.
 * The variants are interleaved within each trial, in rotating order, so
 * that machine noise hits all of them alike; we report the median ns of each
 * variant and the medians of per-trial ratios between them.
 *
 * Usage: bench_read [trials [calls_per_trial]]   (default 31, 200000)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#ifndef AT_SYSINFO
#define AT_SYSINFO 32
#endif

static int pipe_rd;
static char buf[1];

typedef ssize_t (*read_fn)(int, void *, size_t);
/* glibc's own read.  Called through a volatile pointer so that the compiler
 * cannot see through it. */
static read_fn volatile glibc_read;

/* ---- the stubs ---------------------------------------------------------- */

#if defined(__x86_64__)
static __attribute__((noinline)) long stub_syscall(int fd, void *b, size_t n)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(0L /* SYS_read */), "D"((long)fd), "S"(b), "d"(n)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__i386__)
static __attribute__((noinline)) long stub_int80(int fd, void *b, size_t n)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "0"(3L /* SYS_read */), "b"(fd), "c"(b), "d"(n)
                     : "memory");
    return ret;
}

/* __kernel_vsyscall preserves every register but %eax. */
static __attribute__((noinline)) long stub_vdso(int fd, void *b, size_t n)
{
    long ret;
    __asm__ volatile("call *%%gs:0x10"
                     : "=a"(ret)
                     : "0"(3L /* SYS_read */), "b"(fd), "c"(b), "d"(n)
                     : "memory");
    return ret;
}

static int vdso_slot_ok(void)
{
    unsigned long slot;
    __asm__("movl %%gs:0x10, %0" : "=r"(slot));
    return getauxval(AT_SYSINFO) != 0 && slot == getauxval(AT_SYSINFO);
}
#else
#error "bench_read supports x86_64 and i386 only"
#endif

/* ---- the timed loops (each ns per call) ---------------------------------- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define TIMED_LOOP(call)                                                     \
    do {                                                                     \
        double t0 = now_ns();                                                \
        for (long i = 0; i < calls; i++)                                     \
            if ((call) != 0)                                                 \
                abort();                                                     \
        return (now_ns() - t0) / calls;                                      \
    } while (0)

static __attribute__((noinline)) double time_libc(long calls)
{
    TIMED_LOOP(read(pipe_rd, buf, 0));
}

static __attribute__((noinline)) double time_glibc(long calls)
{
    read_fn f = glibc_read;
    TIMED_LOOP(f(pipe_rd, buf, 0));
}

#if defined(__x86_64__)
static double time_stub(long calls) { TIMED_LOOP(stub_syscall(pipe_rd, buf, 0)); }
#else
static double time_int80(long calls) { TIMED_LOOP(stub_int80(pipe_rd, buf, 0)); }
static double time_vdso(long calls) { TIMED_LOOP(stub_vdso(pipe_rd, buf, 0)); }
#endif

struct variant {
    const char *name;
    double (*run)(long calls);
    double *ns; /* one result per trial */
};

/* ---- statistics ---------------------------------------------------------- */

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

/* ---- setup --------------------------------------------------------------- */

static void *idle_thread(void *unused)
{
    (void)unused;
    for (;;)
        pause();
    return NULL;
}

/* The weak references find ptcancel when it is linked in statically;
 * dlsym finds it when it is preloaded. */
extern const char *ptcancel_version(void) __attribute__((weak));
extern const char *ptcancel_syscall_mode(void) __attribute__((weak));

typedef const char *(*name_fn)(void);

static name_fn ptcancel_fn(name_fn weak, const char *name)
{
    return weak != NULL ? weak : (name_fn)dlsym(RTLD_DEFAULT, name);
}

#if defined(__x86_64__)
#define ARCH "x86_64"
#else
#define ARCH "i386"
#endif

/* One header line: which cancellation implementation, and how it enters
 * the kernel. */
static void print_implementation(int trials, long calls)
{
    name_fn version = ptcancel_fn(ptcancel_version, "ptcancel_version");
    name_fn mode = ptcancel_fn(ptcancel_syscall_mode, "ptcancel_syscall_mode");

    if (version != NULL)
        printf("cancellation: ptcancel %s, syscall mode %s", version(),
               mode != NULL ? mode() : "unknown");
    else
        printf("cancellation: the C library's own");
    printf("  [%s, %d trials x %ld calls]\n", ARCH, trials, calls);
}

/* glibc's read, past any interposed one; NULL without glibc. */
static read_fn find_glibc_read(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_NOW);
    return libc != NULL ? (read_fn)dlsym(libc, "read") : NULL;
}

int main(int argc, char **argv)
{
    int trials = argc > 1 ? atoi(argv[1]) : 31;
    long calls = argc > 2 ? atol(argv[2]) : 200000;
    struct variant v[4];
    int nv = 0, p[2], glibc = -1;
    pthread_t idle;

    if (trials < 1 || calls < 1 || pipe(p) != 0)
        return 1;
    pipe_rd = p[0];
    if (pthread_create(&idle, NULL, idle_thread, NULL) != 0)
        return 1;

    print_implementation(trials, calls);
    glibc_read = find_glibc_read();

    v[nv++] = (struct variant){"libc-read", time_libc, NULL};
    if (glibc_read != NULL) {
        glibc = nv;
        v[nv++] = (struct variant){"glibc-read", time_glibc, NULL};
    } else
        printf("note: libc.so.6 is not loaded; no glibc-read\n");
#if defined(__x86_64__)
    v[nv++] = (struct variant){"stub", time_stub, NULL};
#else
    v[nv++] = (struct variant){"stub-int80", time_int80, NULL};
    if (vdso_slot_ok())
        v[nv++] = (struct variant){"stub-vdso", time_vdso, NULL};
    else
        printf("note: %%gs:0x10 is not AT_SYSINFO here; no vDSO stub\n");
#endif
    for (int k = 0; k < nv; k++)
        v[k].ns = calloc(trials, sizeof(double));

    for (int k = 0; k < nv; k++) /* warm-up: caches, branch predictors */
        v[k].run(calls / 10 + 1);

    /* Rotate the starting variant each trial so none is always first. */
    for (int t = 0; t < trials; t++)
        for (int j = 0; j < nv; j++) {
            int k = (t + j) % nv;
            v[k].ns[t] = v[k].run(calls);
        }

    printf("median ns per read(fd,buf,0):\n");
    for (int k = 0; k < nv; k++)
        printf("  %-10s %8.1f ns\n", v[k].name, median(v[k].ns, trials));

    /* Ratios: each read against each stub, libc-read against glibc-read,
     * and on i386 int80 against the vDSO entry. */
    printf("median of per-trial ratios:\n");
    {
        int first_stub = glibc >= 0 ? 2 : 1;
        double *ratio = calloc(trials, sizeof(double));
        int pairs[8][2], np = 0;

        for (int a = 0; a < first_stub; a++)
            for (int b = first_stub; b < nv; b++)
                pairs[np][0] = a, pairs[np][1] = b, np++;
        if (glibc >= 0)
            pairs[np][0] = 0, pairs[np][1] = glibc, np++;
        if (nv - first_stub == 2) /* stub-int80 / stub-vdso */
            pairs[np][0] = first_stub, pairs[np][1] = first_stub + 1, np++;

        for (int i = 0; i < np; i++) {
            struct variant *a = &v[pairs[i][0]], *b = &v[pairs[i][1]];
            char label[32];
            for (int t = 0; t < trials; t++)
                ratio[t] = a->ns[t] / b->ns[t];
            snprintf(label, sizeof label, "%s / %s", a->name, b->name);
            printf("  %-24s %6.3f\n", label, median(ratio, trials));
        }
        free(ratio);
    }
    return 0;
}
