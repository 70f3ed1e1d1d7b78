/*
 * semantics.c -- cancel state/type API semantics (musl 1.2.3 reference).
 *
 * Cases (one line each):
 *  never-called          a thread that never touched any cancellation API
 *                        or point is cancelled while spinning on a flag
 *                        (runs first, before any other pthread_cancel in
 *                        the process); then released, its read() is
 *                        cancelled before the syscall.
 *  setcancelstate-3 / setcancelstate-neg1
 *                        invalid state -> EINVAL, *old untouched, state
 *                        unchanged.
 *  setcanceltype-2 / setcanceltype-neg1
 *                        invalid type -> EINVAL, *old untouched, type
 *                        unchanged.
 *  null-old              NULL old pointers are accepted.
 *  state-old-values      old values reported: ENABLE(0) DISABLE(1)
 *                        MASKED(2) then ENABLE again.
 *  type-old-values       old values reported: DEFERRED(0) ASYNC(1).
 *  enable-does-not-act   re-enabling with a cancel pending does not act by
 *                        itself (deferred type); the next
 *                        pthread_testcancel() does.
 *  testcancel-disabled   pthread_testcancel() with cancellation disabled
 *                        and a cancel pending does nothing.
 *  testcancel-idle       pthread_testcancel() with nothing pending returns.
 *  self-cancel-deferred  pthread_cancel(pthread_self()) in deferred mode
 *                        returns 0 and the thread runs on until the next
 *                        cancellation point.
 *  disabled-exit         a thread that never re-enables returns normally:
 *                        the pending cancel never acts, join gives its value.
 *  cancel-twice          two pthread_cancel calls on a blocked thread both
 *                        return 0; it is cancelled once (cleanup ran once).
 *  cancel-exited         pthread_cancel on an exited, not yet joined
 *                        thread returns 0; join still gives its own value.
 *
 * Build: cc -O2 -pthread -Wall -Wextra semantics.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.
 * Plain glibc 2.36 (no ptcancel), x86_64 and i386, differs in:
 *   state-old-values   glibc rejects MASKED (2) with EINVAL, so it prints
 *                      "old=0,err:EINVAL,1,0" instead of "old=0,1,2,0".
 * Everything else matches musl.
 */
#include "common.h"

/* State shared between main and one test thread. */
struct sc {
    int stage;    /* hand-shake counter */
    int tid;
    int cleanup;  /* cleanup handler ran (count) */
    int fd[2];
    int rc[6];
    int old[6];
    int progress; /* how far the thread got */
};

static void cleanup_count(void *p) { flag_add((int *)p, 1); }

/* Thread side of the "disable, let main cancel, continue" hand-shake. */
static void disable_and_wait_for_cancel(struct sc *s)
{
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    flag_set(&s->stage, 1);
    wait_flag(&s->stage, 2);
}

/* Main side of it. */
static int cancel_after_handshake(pthread_t t, struct sc *s)
{
    int rc;
    wait_flag(&s->stage, 1);
    rc = pthread_cancel(t);
    flag_set(&s->stage, 2);
    return rc;
}

static void *join_value(pthread_t t)
{
    void *rv = NULL;
    pthread_join(t, &rv);
    return rv;
}

/* ----------------------------------------------------- never-called */

static volatile int nc_release;

static void *never_called_thread(void *arg)
{
    struct sc *s = arg;
    char b;
    /* No pthread API, no cancellation point: a pure spin. */
    flag_set(&s->stage, 1);
    while (!nc_release)
        ;
    s->progress = 1;
    s->rc[0] = (int)read(s->fd[0], &b, 1); /* byte waiting: must not be read */
    s->progress = 2;
    return RV_RETURNED;
}

static void case_never_called(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    int crc;

    begin_case("never-called");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    if (write(s.fd[1], "x", 1) != 1) abort();
    t = start_thread(never_called_thread, &s);
    wait_flag(&s.stage, 1);
    crc = pthread_cancel(t);
    msleep(20); /* let any signal land while it spins */
    nc_release = 1;
    rv = join_value(t);
    snprintf(got, sizeof got, "rc=%s %s progress=%d consumed=%d", errname(crc),
             exitname(rv), s.progress, bytes_available(s.fd[0]) == 0);
    close(s.fd[0]);
    close(s.fd[1]);
    report("never-called", "rc=0 canceled progress=1 consumed=0", got);
}

/* ------------------------------------------------- invalid arguments */

struct inval {
    int is_type, value;
    int rc, old, now;
};

static void *inval_thread(void *arg)
{
    struct inval *v = arg;
    int now;
    v->old = 42;
    if (v->is_type) {
        v->rc = pthread_setcanceltype(v->value, &v->old);
        pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &now); /* query */
    } else {
        v->rc = pthread_setcancelstate(v->value, &v->old);
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &now); /* query */
    }
    v->now = now;
    return RV_RETURNED;
}

static void case_invalid(const char *name, int is_type, int value)
{
    struct inval v;
    char got[128];

    begin_case(name);
    memset(&v, 0, sizeof v);
    v.is_type = is_type;
    v.value = value;
    join_value(start_thread(inval_thread, &v));
    snprintf(got, sizeof got, "rc=%s old=%s %s=%d", errname(v.rc),
             v.old == 42 ? "untouched" : "written", is_type ? "type" : "state", v.now);
    report(name, is_type ? "rc=EINVAL old=untouched type=0" : "rc=EINVAL old=untouched state=0",
           got);
}

/* ---------------------------------------------------- null / old values */

static void *null_old_thread(void *arg)
{
    struct sc *s = arg;
    s->rc[0] = pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    s->rc[1] = pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    s->rc[2] = pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    s->rc[3] = pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    return RV_RETURNED;
}

static void case_null_old(void)
{
    struct sc s;
    char got[128];
    begin_case("null-old");
    memset(&s, 0, sizeof s);
    join_value(start_thread(null_old_thread, &s));
    snprintf(got, sizeof got, "rc=%s,%s,%s,%s", errname(s.rc[0]), errname(s.rc[1]),
             errname(s.rc[2]), errname(s.rc[3]));
    report("null-old", "rc=0,0,0,0", got);
}

static void *state_old_thread(void *arg)
{
    struct sc *s = arg;
    static const int seq[4] = { PTHREAD_CANCEL_DISABLE, PTHREAD_CANCEL_MASKED,
                                PTHREAD_CANCEL_ENABLE, PTHREAD_CANCEL_ENABLE };
    int i;
    for (i = 0; i < 4; i++) {
        s->old[i] = -7;
        s->rc[i] = pthread_setcancelstate(seq[i], &s->old[i]);
    }
    return RV_RETURNED;
}

static void case_state_old_values(void)
{
    struct sc s;
    char got[128];
    int i;
    begin_case("state-old-values");
    memset(&s, 0, sizeof s);
    join_value(start_thread(state_old_thread, &s));
    strcpy(got, "old=");
    for (i = 0; i < 4; i++) {
        if (s.rc[i]) appendf(got, sizeof got, "%serr:%s", i ? "," : "", errname(s.rc[i]));
        else appendf(got, sizeof got, "%s%d", i ? "," : "", s.old[i]);
    }
    report("state-old-values", "old=0,1,2,0", got);
}

static void *type_old_thread(void *arg)
{
    struct sc *s = arg;
    s->rc[0] = pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &s->old[0]);
    s->rc[1] = pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &s->old[1]);
    s->rc[2] = pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &s->old[2]);
    return RV_RETURNED;
}

static void case_type_old_values(void)
{
    struct sc s;
    char got[128];
    begin_case("type-old-values");
    memset(&s, 0, sizeof s);
    join_value(start_thread(type_old_thread, &s));
    snprintf(got, sizeof got, "rc=%s,%s,%s old=%d,%d,%d", errname(s.rc[0]), errname(s.rc[1]),
             errname(s.rc[2]), s.old[0], s.old[1], s.old[2]);
    report("type-old-values", "rc=0,0,0 old=0,1,0", got);
}

/* ------------------------------------------------ pending, not acting */

static void *enable_thread(void *arg)
{
    struct sc *s = arg;
    long end;
    pthread_cleanup_push(cleanup_count, &s->cleanup);
    disable_and_wait_for_cancel(s);
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    flag_set(&s->progress, 1);
    end = now_ms() + 20; /* give a (wrongly) queued signal time to act */
    while (now_ms() < end)
        ;
    flag_set(&s->progress, 2);
    pthread_testcancel();
    flag_set(&s->progress, 3);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_enable_does_not_act(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    begin_case("enable-does-not-act");
    memset(&s, 0, sizeof s);
    t = start_thread(enable_thread, &s);
    cancel_after_handshake(t, &s);
    rv = join_value(t);
    snprintf(got, sizeof got, "progress=%d %s cleanup=%d", s.progress, exitname(rv), s.cleanup);
    report("enable-does-not-act", "progress=2 canceled cleanup=1", got);
}

static void *testcancel_disabled_thread(void *arg)
{
    struct sc *s = arg;
    pthread_cleanup_push(cleanup_count, &s->cleanup);
    disable_and_wait_for_cancel(s);
    pthread_testcancel(); /* disabled: nothing */
    flag_set(&s->progress, 1);
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    pthread_testcancel();
    flag_set(&s->progress, 2);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_testcancel_disabled(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    begin_case("testcancel-disabled");
    memset(&s, 0, sizeof s);
    t = start_thread(testcancel_disabled_thread, &s);
    cancel_after_handshake(t, &s);
    rv = join_value(t);
    snprintf(got, sizeof got, "progress=%d %s cleanup=%d", s.progress, exitname(rv), s.cleanup);
    report("testcancel-disabled", "progress=1 canceled cleanup=1", got);
}

static void *testcancel_idle_thread(void *arg)
{
    (void)arg;
    pthread_testcancel();
    return RV_RETURNED;
}

static void case_testcancel_idle(void)
{
    begin_case("testcancel-idle");
    report("testcancel-idle", "returned",
           exitname(join_value(start_thread(testcancel_idle_thread, NULL))));
}

static void *self_cancel_thread(void *arg)
{
    struct sc *s = arg;
    pthread_cleanup_push(cleanup_count, &s->cleanup);
    s->rc[0] = pthread_cancel(pthread_self());
    flag_set(&s->progress, 1);
    pthread_testcancel();
    flag_set(&s->progress, 2);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_self_cancel_deferred(void)
{
    struct sc s;
    void *rv;
    char got[128];
    begin_case("self-cancel-deferred");
    memset(&s, 0, sizeof s);
    rv = join_value(start_thread(self_cancel_thread, &s));
    snprintf(got, sizeof got, "rc=%s progress=%d %s cleanup=%d", errname(s.rc[0]), s.progress,
             exitname(rv), s.cleanup);
    report("self-cancel-deferred", "rc=0 progress=1 canceled cleanup=1", got);
}

static void *disabled_exit_thread(void *arg)
{
    struct sc *s = arg;
    char b;
    pthread_cleanup_push(cleanup_count, &s->cleanup);
    disable_and_wait_for_cancel(s);
    s->rc[0] = (int)read(s->fd[0], &b, 1);
    flag_set(&s->progress, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_disabled_exit(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    begin_case("disabled-exit");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    if (write(s.fd[1], "x", 1) != 1) abort();
    t = start_thread(disabled_exit_thread, &s);
    cancel_after_handshake(t, &s);
    rv = join_value(t);
    snprintf(got, sizeof got, "read=%d progress=%d %s cleanup=%d", s.rc[0], s.progress,
             exitname(rv), s.cleanup);
    close(s.fd[0]);
    close(s.fd[1]);
    report("disabled-exit", "read=1 progress=1 returned cleanup=0", got);
}

/* ---------------------------------------------------- cancel twice */

static void *blocked_read_thread(void *arg)
{
    struct sc *s = arg;
    char b;
    pthread_cleanup_push(cleanup_count, &s->cleanup);
    flag_set(&s->tid, my_tid());
    flag_set(&s->stage, 1);
    s->rc[0] = (int)read(s->fd[0], &b, 1);
    flag_set(&s->progress, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_cancel_twice(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    int rc1, rc2;
    begin_case("cancel-twice");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    t = start_thread(blocked_read_thread, &s);
    wait_flag(&s.stage, 1);
    wait_blocked(flag_get(&s.tid), &s.progress);
    rc1 = pthread_cancel(t);
    rc2 = pthread_cancel(t);
    rv = join_value(t);
    snprintf(got, sizeof got, "rc=%s,%s %s cleanup=%d", errname(rc1), errname(rc2), exitname(rv),
             s.cleanup);
    close(s.fd[0]);
    close(s.fd[1]);
    report("cancel-twice", "rc=0,0 canceled cleanup=1", got);
}

/* --------------------------------------------------- cancel-exited */

static int own_value;

static void *exiting_thread(void *arg)
{
    struct sc *s = arg;
    flag_set(&s->tid, my_tid());
    return &own_value;
}

static void case_cancel_exited(void)
{
    struct sc s;
    pthread_t t;
    void *rv;
    char got[128];
    int gone, rc;
    begin_case("cancel-exited");
    memset(&s, 0, sizeof s);
    t = start_thread(exiting_thread, &s);
    wait_flag(&s.tid, 1);
    gone = wait_thread_gone(flag_get(&s.tid)); /* kernel thread has exited */
    rc = pthread_cancel(t);
    rv = join_value(t);
    snprintf(got, sizeof got, "gone=%d rc=%s join=%s", gone, errname(rc),
             rv == &own_value ? "own-value" : exitname(rv));
    report("cancel-exited", "gone=1 rc=0 join=own-value", got);
}

int main(void)
{
    test_init();
    case_never_called(); /* first: nothing cancellation-related ran yet */
    case_invalid("setcancelstate-3", 0, 3);
    case_invalid("setcancelstate-neg1", 0, -1);
    case_invalid("setcanceltype-2", 1, 2);
    case_invalid("setcanceltype-neg1", 1, -1);
    case_null_old();
    case_state_old_values();
    case_type_old_values();
    case_enable_does_not_act();
    case_testcancel_disabled();
    case_testcancel_idle();
    case_self_cancel_deferred();
    case_disabled_exit();
    case_cancel_twice();
    case_cancel_exited();
    return test_finish();
}
