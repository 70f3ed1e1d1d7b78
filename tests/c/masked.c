/*
 * masked.c -- musl's PTHREAD_CANCEL_MASKED (= 2) cancel state.
 *
 * Under MASKED a cancellation point that sees a pending cancel does not act:
 * it fails with ECANCELED and switches the state to DISABLE.  The cancel
 * stays pending.  close() is not a cancellation point under MASKED.
 *
 * One thread walks through a sequence (a pending cancel is made first);
 * each step prints a line:
 *  masked-read-pending   read() on a pipe with a byte waiting -> -1
 *                        ECANCELED without consuming it; state is now
 *                        DISABLE (1).
 *  masked-read-again     MASKED again: the next read() fails at once too
 *                        (the cancel was not cleared); state DISABLE again.
 *  masked-testcancel     pthread_testcancel() under MASKED does nothing;
 *                        state stays MASKED (2).
 *  masked-close          close() under MASKED with the cancel pending closes
 *                        the fd, returns 0, state stays MASKED, and the
 *                        following read() still gets ECANCELED.
 *  masked-final          ENABLE + pthread_testcancel() then acts: canceled,
 *                        the cleanup handler ran, the byte is still there.
 * Second thread:
 *  masked-blocked-read   MASKED thread blocked in read() on an empty pipe is
 *                        cancelled: read returns -1 ECANCELED, state becomes
 *                        DISABLE, the thread returns normally (not cancelled).
 *
 * Build: cc -O2 -pthread -Wall -Wextra masked.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.
 * Plain glibc 2.36 (no ptcancel), x86_64 and i386, has no MASKED state:
 * pthread_setcancelstate(2) fails with EINVAL and leaves the state ENABLE,
 * so every case differs, e.g.
 *   masked-read-pending: set-masked=EINVAL canceled-early
 *   masked-blocked-read: set-masked=EINVAL canceled cleanup=1
 */
#include "common.h"

struct msc {
    int stage, tid, cleanup, progress;
    int set_rc;            /* pthread_setcancelstate(MASKED) result */
    int fd[2];             /* pipe; one byte waiting (sequence case) */
    int xfd[2];            /* pipe whose fd[0] is closed under MASKED */
    long r[4];             /* read/close results */
    int e[4];              /* their errno */
    int st[5];             /* states queried after steps */
};

/* Current cancel state, leaving it unchanged.  (There is no getter:
 * set DISABLE to read the old value, then restore it.) */
static int query_state(void)
{
    int old, dummy;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_setcancelstate(old, &dummy);
    return old;
}

static long read1(int fd, int *err)
{
    char b;
    long r;
    errno = 0;
    r = read(fd, &b, 1);
    *err = errno;
    return r;
}

/* ----------------------------------------------------- the sequence */

static void *sequence_thread(void *arg)
{
    struct msc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);

    s->set_rc = pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    flag_set(&s->stage, 1);
    wait_flag(&s->stage, 2); /* the cancel is pending now */
    flag_set(&s->progress, 1);

    s->r[0] = read1(s->fd[0], &s->e[0]);
    s->st[0] = query_state();
    flag_set(&s->progress, 2);

    pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    s->r[1] = read1(s->fd[0], &s->e[1]);
    s->st[1] = query_state();
    flag_set(&s->progress, 3);

    pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    pthread_testcancel();
    s->st[2] = query_state();
    flag_set(&s->progress, 4);

    errno = 0;
    s->r[2] = close(s->xfd[0]);
    s->e[2] = errno;
    s->st[3] = query_state();
    s->r[3] = read1(s->fd[0], &s->e[3]);
    s->st[4] = query_state();
    flag_set(&s->progress, 5);

    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    pthread_testcancel();
    flag_set(&s->progress, 6);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_sequence(void)
{
    struct msc s;
    pthread_t t;
    void *rv;
    char got[160];
    int prog, closed, consumed;

    begin_case("masked-sequence");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    make_pipe(s.xfd);
    if (write(s.fd[1], "x", 1) != 1) abort();

    t = start_thread(sequence_thread, &s);
    wait_flag(&s.stage, 1);
    pthread_cancel(t);
    flag_set(&s.stage, 2);
    pthread_join(t, &rv);

    prog = s.progress;
    closed = !fd_is_open(s.xfd[0]);
    consumed = bytes_available(s.fd[0]) == 0;
    if (!closed) close(s.xfd[0]);
    close(s.xfd[1]);
    close(s.fd[0]);
    close(s.fd[1]);

    /* Each step line; a thread cancelled too early prints that instead. */
#define STEP_LINE(name, step, expected, ...)                           \
    do {                                                               \
        if (s.set_rc != 0)                                             \
            snprintf(got, sizeof got, "set-masked=%s %s",              \
                     errname(s.set_rc),                                \
                     prog < (step) ? "canceled-early" : "continued");  \
        else if (prog < (step))                                        \
            snprintf(got, sizeof got, "not-reached (%s)", exitname(rv)); \
        else                                                           \
            snprintf(got, sizeof got, __VA_ARGS__);                    \
        begin_case(name);                                              \
        report(name, expected, got);                                   \
    } while (0)

    STEP_LINE("masked-read-pending", 2, "read=err:ECANCELED state=1",
              "read=%s state=%d", retname(s.r[0], s.e[0]), s.st[0]);
    STEP_LINE("masked-read-again", 3, "read=err:ECANCELED state=1",
              "read=%s state=%d", retname(s.r[1], s.e[1]), s.st[1]);
    STEP_LINE("masked-testcancel", 4, "returned state=2", "returned state=%d", s.st[2]);
    STEP_LINE("masked-close", 5, "close=ok closed=1 state=2 read=err:ECANCELED",
              "close=%s closed=%d state=%d read=%s", retname(s.r[2], s.e[2]), closed,
              s.st[3], retname(s.r[3], s.e[3]));
    snprintf(got, sizeof got, "%s cleanup=%d consumed=%d", exitname(rv), s.cleanup, consumed);
    begin_case("masked-final");
    report("masked-final", "canceled cleanup=1 consumed=0", got);
#undef STEP_LINE
}

/* ---------------------------------------------- blocked, then cancel */

static void *blocked_thread(void *arg)
{
    struct msc *s = arg;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    s->set_rc = pthread_setcancelstate(PTHREAD_CANCEL_MASKED, NULL);
    flag_set(&s->tid, my_tid());
    flag_set(&s->stage, 1);
    s->r[0] = read1(s->fd[0], &s->e[0]); /* empty pipe: blocks */
    s->st[0] = query_state();
    flag_set(&s->progress, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_blocked(void)
{
    struct msc s;
    pthread_t t;
    void *rv;
    char got[160];
    long end;

    begin_case("masked-blocked-read");
    memset(&s, 0, sizeof s);
    make_pipe(s.fd);
    t = start_thread(blocked_thread, &s);
    wait_flag(&s.stage, 1);
    wait_blocked(flag_get(&s.tid), &s.progress);
    pthread_cancel(t);
    /* If the cancel is lost the read would block for ever: after 1 s
     * feed it a byte so the case reports instead of hanging. */
    end = now_ms() + 1000;
    while (!flag_get(&s.progress) && now_ms() < end)
        msleep(1);
    if (!flag_get(&s.progress) && write(s.fd[1], "x", 1) != 1) abort();
    pthread_join(t, &rv);
    close(s.fd[0]);
    close(s.fd[1]);

    if (s.set_rc != 0)
        snprintf(got, sizeof got, "set-masked=%s %s cleanup=%d", errname(s.set_rc),
                 exitname(rv), s.cleanup);
    else if (rv == RV_RETURNED)
        snprintf(got, sizeof got, "read=%s state=%d returned cleanup=%d",
                 retname(s.r[0], s.e[0]), s.st[0], s.cleanup);
    else
        snprintf(got, sizeof got, "%s cleanup=%d", exitname(rv), s.cleanup);
    report("masked-blocked-read", "read=err:ECANCELED state=1 returned cleanup=0", got);
}

int main(void)
{
    test_init();
    case_sequence();
    case_blocked();
    return test_finish();
}
