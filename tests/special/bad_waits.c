/* Bad input to the thread waits: ptcancel's results against glibc's own functions
 * (against_glibc.h), each side on objects its own family initialised.
 *   - timeouts: tv_nsec out of range is EINVAL before any waiting (even with a token free),
 *     a past or negative deadline is ETIMEDOUT, a clock futexes cannot use is EINVAL;
 *   - condvars: the mutex is held again after every error but EPERM (an error-checking
 *     mutex the caller does not own);
 *   - join: EDEADLK for self, EINVAL for a detached thread, ETIMEDOUT, EINVAL for a bad clock;
 *     and (ours only: glibc 2.36 loops on it) EINVAL for a bad tv_nsec while the target lives;
 *   - garbage bytes in a sem_t or pthread_cond_t: no crash, the same results as glibc.
 * Prints one line per case; exits 0 iff every case matched.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <threads.h>
#include <time.h>

#include "against_glibc.h"

/* glibc's own function behind a name the headers may redirect: built with _TIME_BITS=64,
 * i386 programs call __sem_timedwait64... instead. */
#if defined(__i386__) && defined(_TIME_BITS) && _TIME_BITS == 64
#define T64(name) "__" name "64"
#else
#define T64(name) name
#endif


static struct timespec at(long sec, long nsec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += sec;
    ts.tv_nsec = nsec;
    return ts;
}

/* Whether the calling thread holds `m` (an error-checking mutex): unlock says so; relock. */
static int held(pthread_mutex_t *m)
{
    if (pthread_mutex_unlock(m) != 0)
        return 0;
    pthread_mutex_lock(m);
    return 1;
}

static void errorcheck_mutex(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(m, &a);
}

typedef int (*cond_init_fn)(pthread_cond_t *, const pthread_condattr_t *);
typedef int (*cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
typedef int (*cond_clockwait_fn)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
typedef int (*cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);

/* One condvar case on each side: result, and whether the mutex was held afterwards. */
static void cond_case(const char *what, int lock_first, int clock, struct timespec ts)
{
    cond_init_fn glibc_init = (cond_init_fn)dlvsym(libc_handle, "pthread_cond_init", "GLIBC_2.3.2");
#if defined(__i386__) && defined(_TIME_BITS) && _TIME_BITS == 64
    cond_timedwait_fn glibc_timed = (cond_timedwait_fn)glibc_fn("__pthread_cond_timedwait64");
#else
    cond_timedwait_fn glibc_timed = (cond_timedwait_fn)dlvsym(libc_handle, "pthread_cond_timedwait", "GLIBC_2.3.2");
#endif
    cond_clockwait_fn glibc_clock = (cond_clockwait_fn)glibc_fn(T64("pthread_cond_clockwait"));
    long r[2];
    int h[2];
    for (int side = 0; side < 2; side++) {
        pthread_mutex_t m;
        pthread_cond_t c;
        errorcheck_mutex(&m);
        if (side == 0)
            pthread_cond_init(&c, NULL);
        else
            glibc_init(&c, NULL);
        if (lock_first)
            pthread_mutex_lock(&m);
        if (clock >= 0)
            r[side] = side == 0 ? pthread_cond_clockwait(&c, &m, clock, &ts) : glibc_clock(&c, &m, clock, &ts);
        else
            r[side] = side == 0 ? pthread_cond_timedwait(&c, &m, &ts) : glibc_timed(&c, &m, &ts);
        h[side] = held(&m);
        if (h[side])
            pthread_mutex_unlock(&m);
    }
    char line[128];
    snprintf(line, sizeof line, "%s (returns error number)", what);
    same(line, r[0], 0, r[1], 0);
    snprintf(line, sizeof line, "%s: mutex held after", what);
    same(line, h[0], 0, h[1], 0);
}

typedef int (*sem_timed_fn)(sem_t *, const struct timespec *);
typedef int (*sem_clock_fn)(sem_t *, clockid_t, const struct timespec *);

static void sem_case(const char *what, unsigned tokens, int clock, struct timespec ts)
{
    sem_timed_fn glibc_timed = (sem_timed_fn)glibc_fn(T64("sem_timedwait"));
    sem_clock_fn glibc_clock = (sem_clock_fn)glibc_fn(T64("sem_clockwait"));
    sem_t s[2];
    long r[2];
    int e[2], v[2];
    for (int side = 0; side < 2; side++) {
        sem_init(&s[side], 0, tokens);
        errno = 0;
        if (clock >= 0)
            r[side] = side == 0 ? sem_clockwait(&s[side], clock, &ts) : glibc_clock(&s[side], clock, &ts);
        else
            r[side] = side == 0 ? sem_timedwait(&s[side], &ts) : glibc_timed(&s[side], &ts);
        e[side] = errno;
        sem_getvalue(&s[side], &v[side]);
    }
    same(what, r[0], e[0], r[1], e[1]);
    char line[128];
    snprintf(line, sizeof line, "%s: tokens left", what);
    same(line, v[0], 0, v[1], 0);
}

static void *sleeper(void *arg)
{
    int *fd = arg;
    char b;
    while (read(*fd, &b, 1) < 0 && errno == EINTR)
        ;
    return (void *)7;
}

typedef int (*join_fn)(pthread_t, void **);
typedef int (*timedjoin_fn)(pthread_t, void **, const struct timespec *);
typedef int (*clockjoin_fn)(pthread_t, void **, clockid_t, const struct timespec *);

static void join_cases(void)
{
    join_fn glibc_join = (join_fn)glibc_fn("pthread_join");
    timedjoin_fn glibc_timedjoin = (timedjoin_fn)glibc_fn(T64("pthread_timedjoin_np"));
    clockjoin_fn glibc_clockjoin = (clockjoin_fn)glibc_fn(T64("pthread_clockjoin_np"));
    int p[2];
    pthread_t t, d;
    struct timespec past = at(-1, 0), bad = at(1, 1000000000);

    same("pthread_join self", pthread_join(pthread_self(), NULL), 0, glibc_join(pthread_self(), NULL), 0);
    pipe(p);
    pthread_create(&d, NULL, sleeper, &p[0]);
    pthread_detach(d);
    same("pthread_join detached", pthread_join(d, NULL), 0, glibc_join(d, NULL), 0);
    pthread_create(&t, NULL, sleeper, &p[0]);
    same("pthread_timedjoin_np past", pthread_timedjoin_np(t, NULL, &past), 0, glibc_timedjoin(t, NULL, &past), 0);
    same("pthread_clockjoin_np bad clock", pthread_clockjoin_np(t, NULL, CLOCK_PROCESS_CPUTIME_ID, &past), 0,
         glibc_clockjoin(t, NULL, CLOCK_PROCESS_CPUTIME_ID, &past), 0);
    same("pthread_clockjoin_np monotonic past",
         pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &(struct timespec){0, 0}), 0,
         glibc_clockjoin(t, NULL, CLOCK_MONOTONIC, &(struct timespec){0, 0}), 0);
    /* glibc 2.36 retries a bad tv_nsec forever; ptcancel says EINVAL. */
    int r = pthread_timedjoin_np(t, NULL, &bad);
    printf("pthread_timedjoin_np bad tv_nsec: %s\n", r == EINVAL ? "EINVAL" : "NOT EINVAL");
    failures += r != EINVAL;
    /* After all that the target is still joinable, by glibc's own join too. */
    write(p[1], "xx", 2);
    void *v = NULL;
    r = glibc_join(t, &v);
    check("target joinable after the failed joins", r == 0 && v == (void *)7);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    open_glibc();

    sem_case("sem_timedwait tv_nsec=1e9, token free", 1, -1, at(1, 1000000000));
    sem_case("sem_timedwait tv_nsec=-1", 0, -1, at(1, -1));
    sem_case("sem_timedwait past", 0, -1, at(-1, 0));
    sem_case("sem_timedwait negative tv_sec", 0, -1, (struct timespec){-5, 0});
    sem_case("sem_clockwait bad clock", 0, CLOCK_PROCESS_CPUTIME_ID, at(1, 0));
    sem_case("sem_clockwait monotonic past", 0, CLOCK_MONOTONIC, (struct timespec){0, 0});

    cond_case("pthread_cond_timedwait tv_nsec=1e9", 1, -1, at(1, 1000000000));
    cond_case("pthread_cond_timedwait past", 1, -1, at(-1, 0));
    cond_case("pthread_cond_timedwait negative tv_sec", 1, -1, (struct timespec){-5, 0});
    cond_case("pthread_cond_timedwait mutex not owned", 0, -1, at(1, 0));
    cond_case("pthread_cond_clockwait bad clock", 1, CLOCK_PROCESS_CPUTIME_ID, at(1, 0));
    cond_case("pthread_cond_clockwait monotonic past", 1, CLOCK_MONOTONIC, (struct timespec){0, 0});

    {
        /* C11: the same results mapped to thrd_*. */
        mtx_t m;
        cnd_t c;
        struct timespec past = at(-1, 0);
        mtx_init(&m, mtx_plain);
        cnd_init(&c);
        mtx_lock(&m);
        int r = cnd_timedwait(&c, &m, &past);
        mtx_unlock(&m);
        printf("cnd_timedwait past: %s\n", r == thrd_timedout ? "thrd_timedout" : "WRONG");
        failures += r != thrd_timedout;
        cnd_destroy(&c);
        mtx_destroy(&m);
    }

    join_cases();

    {
        /* Garbage bytes: whatever glibc makes of them, without a crash. */
        sem_t s[2];
        memset(s, 0xa5, sizeof s);
        COMPARE_AS("sem_timedwait on garbage", sem_timedwait, T64("sem_timedwait"), int, &s[0], &(struct timespec){0, 0});
        pthread_cond_t c;
        memset(&c, 0xa5, sizeof c);
        check("pthread_cond_signal on garbage returns", pthread_cond_signal(&c) == 0);
        check("pthread_cond_broadcast on garbage returns", pthread_cond_broadcast(&c) == 0);
    }
    return failures != 0;
}
