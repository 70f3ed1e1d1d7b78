/* bench_read: the cost of a cancellable read() against a bare syscall.
 *
 * Measures ns per read(fd, buf, 0) on a pipe (returns 0 at once, so this is
 * pure call overhead) through the program's `read` -- the C library's, or
 * ptcancel's when it is interposed -- and through a minimal out-of-line
 * syscall stub:
 *   x86_64: `syscall`
 *   i386:   `int $0x80`, and the vDSO entry `call *%gs:0x10` (where glibc
 *           and musl keep AT_SYSINFO; checked against getauxval first)
 *
 * The process is made multithreaded first (an idle thread), because C
 * libraries skip the cancellation machinery in single-threaded processes.
 * The variants are interleaved within each trial, in rotating order, so
 * that machine noise hits all of them alike; we report medians.
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

/* The weak reference finds ptcancel when it is linked in statically;
 * dlsym finds it when it is preloaded. */
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

int main(int argc, char **argv)
{
    int trials = argc > 1 ? atoi(argv[1]) : 31;
    long calls = argc > 2 ? atol(argv[2]) : 200000;
    struct variant v[3];
    int nv = 0, p[2];
    pthread_t idle;

    if (trials < 1 || calls < 1 || pipe(p) != 0)
        return 1;
    pipe_rd = p[0];
    if (pthread_create(&idle, NULL, idle_thread, NULL) != 0)
        return 1;

    v[nv++] = (struct variant){"libc-read", time_libc, NULL};
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

    print_implementation();
    for (int k = 0; k < nv; k++) /* warm-up: caches, branch predictors */
        v[k].run(calls / 10 + 1);

    /* Rotate the starting variant each trial so none is always first. */
    for (int t = 0; t < trials; t++)
        for (int j = 0; j < nv; j++) {
            int k = (t + j) % nv;
            v[k].ns[t] = v[k].run(calls);
        }

    for (int k = 1; k < nv; k++) {
        double *ratio = calloc(trials, sizeof(double));
        for (int t = 0; t < trials; t++)
            ratio[t] = v[0].ns[t] / v[k].ns[t];
        printf("read(fd,buf,0): %s %.1f ns  %s %.1f ns  ratio %.3f "
               "(median of %d trials)\n",
               v[0].name, median(v[0].ns, trials), v[k].name,
               median(v[k].ns, trials), median(ratio, trials), trials);
        free(ratio);
    }
    return 0;
}
