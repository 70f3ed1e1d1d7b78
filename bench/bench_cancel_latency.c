/* bench_cancel_latency: how long from pthread_cancel() until pthread_join()
 * returns, for a thread blocked in read() on an empty pipe.
 *
 * Both threads are pinned to one CPU so that the figure does not depend on
 * cross-CPU wake-ups and idle states: it is the cost of signalling the
 * thread, running the cancellation (signal handler, unwinding or exit
 * path) and the join.  Before each cancel we make sure the reader really is
 * asleep inside read(), by polling /proc/self/task/<tid>/stat for state S.
 *
 * Usage: bench_cancel_latency [rounds]   (default 2000)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int pipe_rd;
static volatile pid_t reader_tid;

static void *reader(void *unused)
{
    char c;
    (void)unused;
    reader_tid = (pid_t)syscall(SYS_gettid);
    for (;;)
        if (read(pipe_rd, &c, 1) < 0) /* nobody writes: blocks for good */
            abort();
    return NULL;
}

/* The thread's scheduler state letter from /proc: R, S, D, ... */
static char thread_state(pid_t tid)
{
    char path[64], stat[512], *paren;
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0)
        return '?';
    stat[n] = '\0';
    paren = strrchr(stat, ')'); /* the command name may contain spaces */
    return paren != NULL && paren[1] == ' ' ? paren[2] : '?';
}

/* Waits until the reader has published its tid and is asleep in read().
 * We share its CPU, so yield to let it get there. */
static void wait_until_blocked(void)
{
    while (reader_tid == 0)
        sched_yield();
    while (thread_state(reader_tid) != 'S')
        sched_yield();
}

/* Pins the calling thread -- and the threads it creates later -- to the
 * first CPU we are allowed on. */
static void pin_to_one_cpu(void)
{
    cpu_set_t set;
    int cpu = 0;

    if (sched_getaffinity(0, sizeof set, &set) == 0)
        while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
            cpu++;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        perror("sched_setaffinity (continuing unpinned)");
    else
        printf("pinned to CPU %d\n", cpu);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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
#elif defined(__i386__)
#define ARCH "i386"
#else
#define ARCH "unknown arch"
#endif

/* One header line: which cancellation implementation, and how it enters
 * the kernel. */
static void print_implementation(void)
{
    name_fn version = ptcancel_fn(ptcancel_version, "ptcancel_version");
    name_fn mode = ptcancel_fn(ptcancel_syscall_mode, "ptcancel_syscall_mode");

    if (version != NULL)
        printf("cancellation: ptcancel %s, syscall mode %s", version(),
               mode != NULL ? mode() : "unknown");
    else
        printf("cancellation: the C library's own");
    printf("  [%s]\n", ARCH);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 2000;
    double *lat;
    int p[2];

    if (rounds < 1 || pipe(p) != 0)
        return 1;
    pipe_rd = p[0];
    lat = calloc(rounds, sizeof *lat);
    print_implementation();
    pin_to_one_cpu();

    for (int r = 0; r < rounds; r++) {
        pthread_t t;
        double t0;

        reader_tid = 0;
        if (pthread_create(&t, NULL, reader, NULL) != 0)
            return 1;
        wait_until_blocked();
        t0 = now_us();
        pthread_cancel(t);
        pthread_join(t, NULL);
        lat[r] = now_us() - t0;
    }

    qsort(lat, rounds, sizeof *lat, cmp_double);
    printf("cancel -> join of a thread blocked in read(): median %.1f us  "
           "p90 %.1f us  (%d rounds)\n",
           lat[rounds / 2], lat[rounds * 9 / 10], rounds);
    return 0;
}
