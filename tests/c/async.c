/*
 * async.c -- PTHREAD_CANCEL_ASYNCHRONOUS and self-cancellation.
 *
 * Cases:
 *  async-spin            thread in ASYNCHRONOUS type spins in a pure loop
 *                        (no calls at all) and is cancelled; its cleanup
 *                        handler runs.
 *  async-blocked-read    thread in ASYNCHRONOUS type blocked in read() is
 *                        cancelled.
 *  settype-async-pending with a cancel pending (arrived while disabled, then
 *                        re-enabled: nothing happens yet), switching to
 *                        ASYNCHRONOUS acts at once: the code after
 *                        pthread_setcanceltype() does not run.
 *  self-cancel-async     pthread_cancel(pthread_self()) in ASYNCHRONOUS +
 *                        ENABLE does not return.
 *  async-enable-pending  type ASYNCHRONOUS but state DISABLE when the cancel
 *                        arrives; re-enabling does not act by itself, not
 *                        even asynchronously later (musl only looks at the
 *                        flag in cancellation points, testcancel and
 *                        setcanceltype) -- the thread runs on until
 *                        pthread_testcancel().
 *
 * Build: cc -O2 -pthread -Wall -Wextra async.c
 *        (needs asynchronous unwind tables, gcc's default on x86; the
 *         glibc builds unwind through the spinning frame)
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.
 * Plain glibc 2.36 (no ptcancel), x86_64 and i386, differs in:
 *   async-enable-pending  glibc's pthread_setcancelstate(ENABLE) acts at
 *                         once in asynchronous mode: "progress=0 canceled
 *                         cleanup=1" instead of "progress=2 ...".
 * ptcancel follows POSIX and glibc there (an asynchronous cancel acts as
 * soon as it is enabled): expected/async.ptcancel.out.
 */
#include "common.h"

struct asc {
    int stage, tid, cleanup, progress;
    int rc;
    int fd[2];
};

static volatile unsigned long spin_counter;
static volatile int spin_stop;

/* ------------------------------------------------------------ spin */

static void *spin_thread(void *arg)
{
    struct asc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    s->rc = pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    flag_set(&s->tid, my_tid());
    while (!spin_stop) /* no calls: only an async cancel can stop it */
        spin_counter++;
    flag_set(&s->progress, 1);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_async_spin(void)
{
    struct asc s;
    pthread_t t;
    void *rv;
    char got[128];
    long end;

    begin_case("async-spin");
    memset(&s, 0, sizeof s);
    spin_stop = 0;
    spin_counter = 0;
    t = start_thread(spin_thread, &s);
    wait_flag(&s.tid, 1);
    while (spin_counter < 1000)
        sched_yield();
    pthread_cancel(t);
    /* If it is not cancelled within 1 s, stop the loop so we can report. */
    end = now_ms() + 1000;
    while (thread_state(flag_get(&s.tid)) != 0 && now_ms() < end)
        msleep(1);
    spin_stop = 1;
    pthread_join(t, &rv);
    snprintf(got, sizeof got, "settype=%s %s cleanup=%d progress=%d", errname(s.rc),
             exitname(rv), s.cleanup, s.progress);
    report("async-spin", "settype=0 canceled cleanup=1 progress=0", got);
}

/* ---------------------------------------------------- blocked read */

static void *async_read_thread(void *arg)
{
    struct asc *s = arg;
    char b;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    flag_set(&s->tid, my_tid());
    s->rc = (int)read(s->fd[0], &b, 1);
    flag_set(&s->progress, 1);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_async_blocked_read(void)
{
    struct asc s;
    pthread_t t;
    void *rv;
    char got[128];

    begin_case("async-blocked-read");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    t = start_thread(async_read_thread, &s);
    wait_flag(&s.tid, 1);
    wait_blocked(flag_get(&s.tid), &s.progress);
    pthread_cancel(t);
    pthread_join(t, &rv);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "%s cleanup=%d progress=%d", exitname(rv), s.cleanup, s.progress);
    report("async-blocked-read", "canceled cleanup=1 progress=0", got);
}

/* ------------------------------------------- settype with pending */

static void *settype_thread(void *arg)
{
    struct asc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    flag_set(&s->stage, 1);
    wait_flag(&s->stage, 2); /* cancel pending */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    flag_set(&s->progress, 1);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL); /* acts here */
    flag_set(&s->progress, 2);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_settype_async_pending(void)
{
    struct asc s;
    pthread_t t;
    void *rv;
    char got[128];

    begin_case("settype-async-pending");
    memset(&s, 0, sizeof s);
    t = start_thread(settype_thread, &s);
    wait_flag(&s.stage, 1);
    pthread_cancel(t);
    flag_set(&s.stage, 2);
    pthread_join(t, &rv);
    snprintf(got, sizeof got, "progress=%d %s cleanup=%d", s.progress, exitname(rv), s.cleanup);
    report("settype-async-pending", "progress=1 canceled cleanup=1", got);
}

/* ----------------------------------------------------- self cancel */

static void *self_async_thread(void *arg)
{
    struct asc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    flag_set(&s->progress, 1);
    s->rc = pthread_cancel(pthread_self()); /* must not return */
    flag_set(&s->progress, 2);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_self_cancel_async(void)
{
    struct asc s;
    void *rv;
    char got[128];

    begin_case("self-cancel-async");
    memset(&s, 0, sizeof s);
    pthread_join(start_thread(self_async_thread, &s), &rv);
    snprintf(got, sizeof got, "progress=%d %s cleanup=%d", s.progress, exitname(rv), s.cleanup);
    report("self-cancel-async", "progress=1 canceled cleanup=1", got);
}

/* ---------------------------------- async type, cancel while disabled */

static volatile int enable_release;

static void *async_enable_thread(void *arg)
{
    struct asc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    flag_set(&s->stage, 1);
    wait_flag(&s->stage, 2); /* cancel pending */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    flag_set(&s->progress, 1);
    while (!enable_release) /* pure spin: main waits 20 ms */
        ;
    flag_set(&s->progress, 2);
    pthread_testcancel();
    flag_set(&s->progress, 3);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_async_enable_pending(void)
{
    struct asc s;
    pthread_t t;
    void *rv;
    char got[128];
    long end;

    begin_case("async-enable-pending");
    memset(&s, 0, sizeof s);
    enable_release = 0;
    t = start_thread(async_enable_thread, &s);
    wait_flag(&s.stage, 1);
    pthread_cancel(t);
    flag_set(&s.stage, 2);
    end = now_ms() + 1000; /* wait for ENABLE to have happened (or exit) */
    while (!flag_get(&s.progress) && !flag_get(&s.cleanup) && now_ms() < end)
        sched_yield();
    msleep(20);
    enable_release = 1;
    pthread_join(t, &rv);
    snprintf(got, sizeof got, "progress=%d %s cleanup=%d", s.progress, exitname(rv), s.cleanup);
    report("async-enable-pending", "progress=2 canceled cleanup=1", got);
}

int main(void)
{
    test_init();
    case_async_spin();
    case_async_blocked_read();
    case_settype_async_pending();
    case_self_cancel_async();
    case_async_enable_pending();
    return test_finish();
}
