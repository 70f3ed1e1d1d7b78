/*
 * glibc_defer_np.c -- glibc-only: pthread_cleanup_push_defer_np /
 * pthread_cleanup_pop_restore_np.  Does not build with musl (no such
 * macros); the reference is plain glibc.
 *
 *     cc -O2 -pthread -Wall -Wextra glibc_defer_np.c
 *     cc -O2 -pthread -Wall -Wextra -fexceptions glibc_defer_np.c
 *
 * Without -fexceptions the macros call glibc's __pthread_register_cancel_defer
 * / __pthread_unregister_cancel_restore, which change the cancel type inside
 * glibc without going through pthread_setcanceltype(): an interposing
 * library has to handle those two symbols too.  With -fexceptions (C or C++)
 * the macros use a cleanup-attribute frame and call the public
 * pthread_setcanceltype() instead.  Build and run both ways.
 *
 * Cases (the thread starts in ASYNCHRONOUS type):
 *  defer-np-type           inside the region the type is DEFERRED (queried
 *                          with pthread_setcanceltype); after
 *                          pthread_cleanup_pop_restore_np(0) it is
 *                          ASYNCHRONOUS again; the handler did not run.
 *  defer-np-blocked        cancelled while blocked in read() inside the
 *                          region: the handler runs.
 *  defer-np-spin           inside the region (deferred) the thread spins in
 *                          a pure loop while main cancels: it is NOT
 *                          cancelled asynchronously; once released it runs
 *                          on and is cancelled at pthread_testcancel().
 *  defer-np-restore-pending  a cancel pending inside the region acts at the
 *                          moment pop_restore_np restores ASYNCHRONOUS
 *                          (like pthread_setcanceltype(ASYNC) would).
 *                          Whether the handler runs depends on the macro
 *                          flavour: without -fexceptions glibc unlinks the
 *                          handler before restoring the type (handler=0);
 *                          with -fexceptions the type is restored while the
 *                          cleanup frame is still armed (handler=1).
 *  defer-np-pop-execute    pthread_cleanup_pop_restore_np(1) runs the
 *                          handler and restores the type, no cancel.
 *
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, with and
 * without -fexceptions: exits 0.
 */
#include "common.h"

struct dsc {
    int tid, stage, progress, handler;
    int type_inside, type_after;
    int fd[2];
};

static volatile int spin_release;

static void handler(void *p) { flag_add(&((struct dsc *)p)->handler, 1); }

/* Current cancel type, unchanged. */
static int query_type(void)
{
    int old, dummy;
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &old);
    pthread_setcanceltype(old, &dummy);
    return old;
}

/* What the thread does inside the defer_np region. */
enum what { W_TYPE, W_BLOCKED, W_SPIN, W_RESTORE_PENDING, W_POP_EXECUTE };

struct job {
    struct dsc *s;
    enum what w;
};

static void *thread_fn(void *arg)
{
    struct job *j = arg;
    struct dsc *s = j->s;
    char b;

    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    pthread_cleanup_push_defer_np(handler, s);
    s->type_inside = query_type();
    flag_set(&s->tid, my_tid());
    switch (j->w) {
    case W_BLOCKED:
        flag_set(&s->stage, 1);
        if (read(s->fd[0], &b, 1) < 0) flag_set(&s->progress, 9);
        break;
    case W_SPIN:
        flag_set(&s->stage, 1);
        while (!spin_release) /* deferred: an async cancel must not hit */
            ;
        flag_set(&s->progress, 1);
        pthread_testcancel();
        break;
    case W_RESTORE_PENDING:
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        flag_set(&s->stage, 1);
        wait_flag(&s->stage, 2); /* main has cancelled */
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        flag_set(&s->progress, 1);
        break;
    default:
        break;
    }
    pthread_cleanup_pop_restore_np(j->w == W_POP_EXECUTE);
    flag_set(&s->progress, flag_get(&s->progress) + 10); /* after pop */
    s->type_after = query_type();
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    return RV_RETURNED;
}

static void run_case(const char *name, enum what w, const char *expected)
{
    struct dsc s;
    struct job j;
    pthread_t t;
    void *rv;
    char got[128];

    begin_case(name);
    memset(&s, 0, sizeof s);
    s.type_inside = s.type_after = -1;
    j.s = &s;
    j.w = w;
    spin_release = 0;
    make_pipe(s.fd);
    t = start_thread(thread_fn, &j);
    switch (w) {
    case W_BLOCKED:
        wait_flag(&s.stage, 1);
        wait_blocked(flag_get(&s.tid), &s.progress);
        pthread_cancel(t);
        break;
    case W_SPIN:
        wait_flag(&s.stage, 1);
        pthread_cancel(t);
        msleep(20); /* an (incorrect) async cancel would land now */
        spin_release = 1;
        break;
    case W_RESTORE_PENDING:
        wait_flag(&s.stage, 1);
        pthread_cancel(t);
        flag_set(&s.stage, 2);
        break;
    default:
        break;
    }
    pthread_join(t, &rv);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "inside=%d progress=%d handler=%d", s.type_inside, s.progress,
             s.handler);
    if (rv == RV_RETURNED) appendf(got, sizeof got, " after=%d", s.type_after);
    appendf(got, sizeof got, " %s", exitname(rv));
    report(name, expected, got);
}

int main(void)
{
    test_init();
    run_case("defer-np-type", W_TYPE, "inside=0 progress=10 handler=0 after=1 returned");
    run_case("defer-np-blocked", W_BLOCKED, "inside=0 progress=0 handler=1 canceled");
    run_case("defer-np-spin", W_SPIN, "inside=0 progress=1 handler=1 canceled");
#ifdef __EXCEPTIONS
    run_case("defer-np-restore-pending", W_RESTORE_PENDING,
             "inside=0 progress=1 handler=1 canceled");
#else
    run_case("defer-np-restore-pending", W_RESTORE_PENDING,
             "inside=0 progress=1 handler=0 canceled");
#endif
    run_case("defer-np-pop-execute", W_POP_EXECUTE,
             "inside=0 progress=10 handler=1 after=1 returned");
    return test_finish();
}
