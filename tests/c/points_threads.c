/*
 * points_threads.c -- the thread waits as cancellation points:
 *     sem_wait sem_timedwait pthread_cond_wait pthread_cond_timedwait
 *     pthread_join pthread_timedjoin_np thrd_join cnd_wait cnd_timedwait
 *     thrd_sleep
 * then, with a driver of its own, each wait blocked in asynchronous type
 * (but the condvar wait, which is not async-cancel-safe),
 * under MASKED (blocked, and with the cancel pending at entry), and
 * process-shared semaphores and condvars across fork().
 *
 * Modes and lines of the table: see xpoints.h.  Set-ups:
 *   sem_*:        a private semaphore with 0 tokens (blocked) or 1; the
 *                 release posts one.  Effect taken= the token was taken.
 *   *cond_*, cnd_*: an error-checking mutex (C11: mtx_plain) and a condvar;
 *                 the call locks the mutex, waits until a predicate is set
 *                 and unlocks it in a cleanup handler, which counts it if
 *                 the mutex was not held (an error-checking unlock says
 *                 EPERM).  The release sets the predicate and signals.  In
 *                 the -disabled mode the call blocks until released.
 *   *join:        a target thread blocked in a raw read() of a pipe
 *                 (blocked) or already exited (the others); the release
 *                 writes the byte it waits for.  Effect joined= the call
 *                 reaped the target.  A target the call did not reap must
 *                 still be joinable by main afterwards (a cancelled joiner
 *                 leaves it joinable); the last lines count failures.
 *   thrd_sleep:   10 s (blocked) or 1 ms.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_threads.c
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.
 */
#include "waits.h"
#include <sys/mman.h>

/* ------------------------------------------------------- thrd_sleep */

static int setup_none(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    return 0;
}

static long call_thrd_sleep(struct pctx *c)
{
    struct timespec d = { c->block ? 10 : 0, c->block ? 0 : 1000000 };
    return thrd_sleep(&d, NULL) == 0 ? 0 : err_ret(EINTR);
}

static void teardown_none(struct pctx *c) { (void)c; }

/* ------------------------------------------------------------ table */

#define P(name, effect, can_block, setup, call, eff, td) { name, effect, can_block, setup, call, eff, td }

static const struct xpoint points[] = {
    { P("sem_wait", "taken", 1, setup_sem, call_sem_wait, effect_sem_taken, teardown_sem),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_sem, 0 },
    { P("sem_timedwait", "taken", 1, setup_sem, call_sem_timedwait, effect_sem_taken, teardown_sem),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_sem, 0 },
    { P("pthread_cond_wait", NULL, 1, setup_cond, call_cond_wait, NULL, teardown_cond),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_cond, 1 },
    { P("pthread_cond_timedwait", NULL, 1, setup_cond, call_cond_timedwait, NULL, teardown_cond),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_cond, 1 },
    { P("cnd_wait", NULL, 1, setup_cnd, call_cnd_wait, NULL, teardown_cnd),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_cnd, 1 },
    { P("cnd_timedwait", NULL, 1, setup_cnd, call_cnd_timedwait, NULL, teardown_cnd),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_cnd, 1 },
    { P("pthread_join", "joined", 1, setup_join, call_pthread_join, effect_joined, teardown_join),
      XM_ALL, 0, NULL, "value=42", NULL, describe_value, release_join, 0 },
    { P("pthread_timedjoin_np", "joined", 1, setup_join, call_pthread_timedjoin_np, effect_joined, teardown_join),
      XM_ALL, 0, NULL, "value=42", NULL, describe_value, release_join, 0 },
    { P("thrd_join", "joined", 1, setup_join, call_thrd_join, effect_joined, teardown_join),
      XM_ALL, 0, NULL, "value=42", NULL, describe_value, release_join, 0 },
    { P("thrd_sleep", NULL, 1, setup_none, call_thrd_sleep, NULL, teardown_none),
      XM_ALL, 0, NULL, NULL, NULL, NULL, NULL, 0 },
};

/* ------------------------------------- async type, MASKED: own driver */

struct wcase {
    const char *name;
    int (*setup)(struct pctx *c, int block);
    long (*call)(struct pctx *c);
    void (*release)(struct xctx *x);
    void (*teardown)(struct pctx *c);
};

static const struct wcase waits[] = {
    { "sem_wait", setup_sem, call_sem_wait, release_sem, teardown_sem },
    { "pthread_cond_wait", setup_cond, call_cond_wait, release_cond, teardown_cond },
    { "pthread_join", setup_join, call_pthread_join, release_join, teardown_join },
    { "thrd_sleep", setup_none, call_thrd_sleep, NULL, teardown_none },
};

enum wmode { W_ASYNC, W_MASKED_BLOCKED, W_MASKED_PENDING };
static const char *wmode_name[] = { "async-blocked", "masked-blocked", "masked-pending" };

struct wctx {
    struct xctx x;
    enum wmode mode;
    int state_after;
};

static void *wait_thread(void *arg)
{
    struct wctx *w = arg;
    struct pctx *c = &w->x.c;
    int old;
    pthread_cleanup_push(cleanup_mark, &c->cleanup);
    flag_set(&c->tid, my_tid());
    if (w->mode == W_ASYNC) {
        pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
        flag_set(&c->stage, 1);
    } else {
        pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
        flag_set(&c->stage, 1);
        if (w->mode == W_MASKED_PENDING) wait_flag(&c->stage, 2);
    }
    errno = 0;
    c->ret = c->p->call(c);
    c->err = errno;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    w->state_after = old;
    flag_set(&c->returned, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static const char *state_name(int s)
{
    return s == PTHREAD_CANCEL_ENABLE ? "enable" : s == PTHREAD_CANCEL_DISABLE ? "disable" : "masked";
}

static void run_wait(const struct wcase *wc, enum wmode mode)
{
    struct point p = { wc->name, NULL, 1, wc->setup, wc->call, NULL, wc->teardown };
    struct xpoint xp;
    struct wctx w;
    struct pctx *c = &w.x.c;
    char name[64], got[160];
    const char *expected;
    pthread_t t;
    void *rv;
    int released = 0;

    memset(&xp, 0, sizeof xp);
    xp.p = p;
    snprintf(name, sizeof name, "%s-%s", wc->name, wmode_name[mode]);
    begin_case(name);
    memset(&w, 0, sizeof w);
    xctx_init(&w.x, &xp, MODE_BLOCKED);
    w.mode = mode;
    /* Every set-up is the blocking one: even with the cancel pending at
     * entry, the call must wait (no token, no signal, a live target). */
    if (wc->setup(c, 1) != 0) {
        report(name, "set-up", "setup-failed");
        return;
    }
    t = start_thread(wait_thread, &w);
    wait_flag(&c->stage, 1);
    if (mode != W_MASKED_PENDING) wait_blocked(flag_get(&c->tid), &c->returned);
    pthread_cancel(t);
    flag_set(&c->stage, 2);
    /* A wait that is no cancellation point here returns once released. */
    if (wc->release && !wait_done(c, RELEASE_GRACE_MS)) {
        wc->release(&w.x);
        released = 1;
    }
    pthread_join(t, &rv);
    wc->teardown(c);

    got[0] = 0;
    if (c->returned)
        appendf(got, sizeof got, "ret=%s state=%s%s", xretname(c->ret, c->err),
                state_name(w.state_after), released ? " released" : "");
    else
        appendf(got, sizeof got, "%s cleanup=%d", exitname(rv), c->cleanup);

    /* musl: a MASKED wait fails with ECANCELED and disables; a join is no
     * cancellation point under MASKED; thrd_sleep is a plain clock_nanosleep
     * point; asynchronous cancellation acts in every wait. */
    if (mode == W_ASYNC)
        expected = "canceled cleanup=1";
    else if (strcmp(wc->name, "pthread_join") == 0)
        expected = "ret=ok state=masked released";
    else
        expected = "ret=err:ECANCELED state=disable";
    report(name, expected, got);
}

/* ------------------------------------------- process-shared, across fork */

struct shared {
    sem_t sem;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int predicate;
};

static void pshared_case(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int status, v = -1, r = 0;
    pid_t pid;
    char got[96];

    begin_case("pshared-fork");
    sem_init(&s->sem, 1, 0);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->mutex, &ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&s->cond, &ca);
    s->predicate = 0;
    pid = fork();
    if (pid == 0) {
        /* The child waits on both; the parent posts and signals. */
        if (sem_wait(&s->sem) != 0) _exit(2);
        pthread_mutex_lock(&s->mutex);
        while (!s->predicate && r == 0) r = pthread_cond_wait(&s->cond, &s->mutex);
        pthread_mutex_unlock(&s->mutex);
        _exit(r == 0 ? 7 : 3);
    }
    msleep(50);
    sem_post(&s->sem);
    msleep(50);
    pthread_mutex_lock(&s->mutex);
    s->predicate = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mutex);
    waitpid(pid, &status, 0);
    sem_getvalue(&s->sem, &v);
    snprintf(got, sizeof got, "child=%s value=%d", WIFEXITED(status) && WEXITSTATUS(status) == 7 ? "woken-both" : "FAILED", v);
    report("pshared-fork", "child=woken-both value=0", got);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mutex);
    sem_destroy(&s->sem);
    munmap(s, sizeof *s);
}

int main(void)
{
    size_t i;
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    for (i = 0; i < sizeof waits / sizeof waits[0]; i++) {
        /* A condvar wait is not async-cancel-safe (POSIX): musl exits without
         * re-locking the mutex there, ptcancel defers to re-lock it first. */
        if (strcmp(waits[i].name, "pthread_cond_wait") != 0)
            run_wait(&waits[i], W_ASYNC);
        if (strcmp(waits[i].name, "thrd_sleep") != 0) {
            run_wait(&waits[i], W_MASKED_BLOCKED);
            run_wait(&waits[i], W_MASKED_PENDING);
        }
    }
    pshared_case();
    report_wait_checks();
    return test_finish();
}
