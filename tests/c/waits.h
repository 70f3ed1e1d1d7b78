/*
 * waits.h -- set-ups of the thread-wait points shared by points_threads.c
 * (musl-referenced) and glibc_cancellable.c (glibc-only clock variants):
 * a semaphore, an error-checking mutex with a condvar and a predicate,
 * C11 mtx/cnd, a join target blocked in a raw read() of a pipe.
 * See points_threads.c for what each set-up, call, effect and release does.
 */
#ifndef PTCANCEL_TEST_WAITS_H
#define PTCANCEL_TEST_WAITS_H

#include "xpoints.h"
#include <semaphore.h>
#include <threads.h>

static UNUSED sem_t g_sem;
static UNUSED pthread_mutex_t g_mutex;
static UNUSED pthread_cond_t g_cond;
static UNUSED mtx_t g_mtx;
static UNUSED cnd_t g_cnd;
static UNUSED int g_predicate;
static UNUSED pthread_t g_target;
static UNUSED int g_target_tid, g_target_live;
static UNUSED int g_mutex_not_held, g_rejoin_failures;

static UNUSED long err_ret(int r)
{
    if (r == 0) return 0;
    errno = r;
    return -1;
}

static UNUSED struct timespec in_10s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += 10;
    return ts;
}

/* ------------------------------------------------------- semaphores */

static UNUSED int setup_sem(struct pctx *c, int block)
{
    (void)c;
    return sem_init(&g_sem, 0, block ? 0 : 1);
}

static UNUSED long call_sem_wait(struct pctx *c)
{
    (void)c;
    return sem_wait(&g_sem);
}

static UNUSED long call_sem_timedwait(struct pctx *c)
{
    struct timespec ts = in_10s(CLOCK_REALTIME);
    (void)c;
    return sem_timedwait(&g_sem, &ts);
}

static UNUSED int effect_sem_taken(struct pctx *c)
{
    int v = -1;
    (void)c;
    sem_getvalue(&g_sem, &v);
    return v == 0;
}

static UNUSED void release_sem(struct xctx *x)
{
    (void)x;
    sem_post(&g_sem);
}

static UNUSED void teardown_sem(struct pctx *c)
{
    (void)c;
    sem_destroy(&g_sem);
}

/* ------------------------------------------------- condition variables */

static UNUSED int setup_cond(struct pctx *c, int block)
{
    pthread_mutexattr_t a;
    (void)c;
    (void)block;
    g_predicate = 0;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&g_mutex, &a);
    pthread_mutexattr_destroy(&a);
    return pthread_cond_init(&g_cond, NULL);
}

static UNUSED void unlock_checked(void *arg)
{
    (void)arg;
    if (pthread_mutex_unlock(&g_mutex) != 0) flag_add(&g_mutex_not_held, 1);
}

enum how { PLAIN, TIMED, CLOCK_MONO };

static UNUSED long cond_wait_until(enum how how)
{
    struct timespec ts = in_10s(how == CLOCK_MONO ? CLOCK_MONOTONIC : CLOCK_REALTIME);
    volatile int r = 0; /* set between the cleanup push (a setjmp) and pop */
    pthread_mutex_lock(&g_mutex);
    pthread_cleanup_push(unlock_checked, NULL);
    while (!g_predicate && r == 0) {
        if (how == PLAIN)
            r = pthread_cond_wait(&g_cond, &g_mutex);
        else if (how == TIMED)
            r = pthread_cond_timedwait(&g_cond, &g_mutex, &ts);
#ifdef __GLIBC__
        else
            r = pthread_cond_clockwait(&g_cond, &g_mutex, CLOCK_MONOTONIC, &ts);
#endif
    }
    pthread_cleanup_pop(1);
    return err_ret(r);
}

static UNUSED long call_cond_wait(struct pctx *c) { (void)c; return cond_wait_until(PLAIN); }
static UNUSED long call_cond_timedwait(struct pctx *c) { (void)c; return cond_wait_until(TIMED); }

static UNUSED void release_cond(struct xctx *x)
{
    (void)x;
    pthread_mutex_lock(&g_mutex);
    g_predicate = 1;
    pthread_cond_signal(&g_cond);
    pthread_mutex_unlock(&g_mutex);
}

static UNUSED void teardown_cond(struct pctx *c)
{
    (void)c;
    pthread_cond_destroy(&g_cond);
    pthread_mutex_destroy(&g_mutex);
}

/* C11 */
static UNUSED int setup_cnd(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    g_predicate = 0;
    if (mtx_init(&g_mtx, mtx_plain) != thrd_success) return -1;
    return cnd_init(&g_cnd) == thrd_success ? 0 : -1;
}

static UNUSED void mtx_unlock_cleanup(void *arg)
{
    (void)arg;
    mtx_unlock(&g_mtx);
}

static UNUSED long cnd_wait_until(int timed)
{
    struct timespec ts = in_10s(CLOCK_REALTIME);
    volatile int r = thrd_success; /* as above */
    mtx_lock(&g_mtx);
    pthread_cleanup_push(mtx_unlock_cleanup, NULL);
    while (!g_predicate && r == thrd_success)
        r = timed ? cnd_timedwait(&g_cnd, &g_mtx, &ts) : cnd_wait(&g_cnd, &g_mtx);
    pthread_cleanup_pop(1);
    return r == thrd_success ? 0 : err_ret(EINVAL);
}

static UNUSED long call_cnd_wait(struct pctx *c) { (void)c; return cnd_wait_until(0); }
static UNUSED long call_cnd_timedwait(struct pctx *c) { (void)c; return cnd_wait_until(1); }

static UNUSED void release_cnd(struct xctx *x)
{
    (void)x;
    mtx_lock(&g_mtx);
    g_predicate = 1;
    cnd_signal(&g_cnd);
    mtx_unlock(&g_mtx);
}

static UNUSED void teardown_cnd(struct pctx *c)
{
    (void)c;
    cnd_destroy(&g_cnd);
    mtx_destroy(&g_mtx);
}

/* ------------------------------------------------------------- join */

/* The target: waits for a byte with a raw read (not a cancellation point
 * of anyone's), returns 42. */
static UNUSED void *target_fn(void *arg)
{
    char b;
    int fd = *(int *)arg;
    flag_set(&g_target_tid, my_tid());
    while (syscall(SYS_read, fd, &b, 1) < 0 && errno == EINTR)
        ;
    return (void *)42;
}

static UNUSED int setup_join(struct pctx *c, int block)
{
    make_pipe(c->fd);
    g_target_tid = 0;
    if (pthread_create(&g_target, NULL, target_fn, &c->fd[0]) != 0) return -1;
    g_target_live = 1;
    wait_flag(&g_target_tid, 1);
    if (!block) {
        if (write(c->fd[1], "x", 1) != 1) return -1;
        if (!wait_thread_gone(g_target_tid)) return -1;
    }
    return 0;
}

static UNUSED long call_pthread_join(struct pctx *c)
{
    void *v = NULL;
    int r = pthread_join(g_target, &v);
    (void)c;
    if (r == 0) g_target_live = 0;
    return r == 0 ? (long)v : err_ret(r);
}

static UNUSED long call_pthread_timedjoin_np(struct pctx *c)
{
    struct timespec ts = in_10s(CLOCK_REALTIME);
    void *v = NULL;
    int r = pthread_timedjoin_np(g_target, &v, &ts);
    (void)c;
    if (r == 0) g_target_live = 0;
    return r == 0 ? (long)v : err_ret(r);
}

static UNUSED long call_thrd_join(struct pctx *c)
{
    int v = 0;
    int r = thrd_join((thrd_t)g_target, &v);
    (void)c;
    if (r == thrd_success) g_target_live = 0;
    return r == thrd_success ? v : err_ret(EINVAL);
}

static UNUSED void describe_value(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "value=%ld", x->c.ret);
}

static UNUSED int effect_joined(struct pctx *c)
{
    (void)c;
    return !g_target_live;
}

static UNUSED void release_join(struct xctx *x)
{
    if (write(x->c.fd[1], "x", 1) != 1) { /* nothing more to do */ }
}

/* A target the call did not reap must be joinable by main now. */
static UNUSED void teardown_join(struct pctx *c)
{
    void *v = NULL;
    if (g_target_live) {
        if (write(c->fd[1], "x", 1) != 1) { /* the target may be gone */ }
        if (pthread_join(g_target, &v) != 0 || v != (void *)42)
            flag_add(&g_rejoin_failures, 1);
        g_target_live = 0;
    }
    pctx_close_all(c);
}

/* The last lines: checks counted across all cases. */
static UNUSED void report_wait_checks(void)
{
    char got[64];
    begin_case("mutex-held-in-cleanup");
    snprintf(got, sizeof got, "not-held=%d", g_mutex_not_held);
    report("mutex-held-in-cleanup", "not-held=0", got);
    begin_case("cancelled-joiner-left-target-joinable");
    snprintf(got, sizeof got, "rejoin-failures=%d", g_rejoin_failures);
    report("cancelled-joiner-left-target-joinable", "rejoin-failures=0", got);
}

#endif /* PTCANCEL_TEST_WAITS_H */
