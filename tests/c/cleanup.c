/*
 * cleanup.c -- what runs when a thread is cancelled, in which order, and
 * in which cancel state.
 *
 * Cases:
 *  cleanup-order     three nested pthread_cleanup_push handlers (1 outer,
 *                    3 inner) and a pthread_key_create destructor (K) with
 *                    a non-NULL value; cancelled in read(): handlers run
 *                    innermost first, then the TSD destructor: "321K".
 *  cleanup-state     inside a cleanup handler and inside the TSD destructor
 *                    of a thread cancelled asynchronously (ASYNCHRONOUS
 *                    type, spinning), the cancel state is DISABLE (1) and
 *                    the type DEFERRED (0): musl's pthread_exit sets both
 *                    before running them.
 *  cleanup-io        a cleanup handler that itself calls cancellation
 *                    points (pthread_testcancel, read on a pipe with data,
 *                    close) -- the cancel is not acted on again: each call
 *                    works and the handler runs to its end.  Likewise a
 *                    TSD destructor calling close().
 *  cleanup-pop-execute  pthread_cleanup_pop(1) runs the handler, no cancel.
 *  cleanup-exit      pthread_exit(value) (not a cancel) runs handlers and
 *                    the destructor too, in the same order; join gives value.
 *
 * Build: cc -O2 -pthread -Wall -Wextra cleanup.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.
 * Plain glibc 2.36 (no ptcancel), x86_64 and i386, differs in:
 *   cleanup-state  glibc leaves the state/type as they were while unwinding
 *                  ("handler state=0 type=1 dtor state=0 type=1"): it only
 *                  marks the thread as exiting internally.
 */
#include "common.h"

struct csc {
    int tid, stage, progress;
    char order[16];
    int norder;
    int fd[2];          /* pipe, one byte waiting (for cleanup-io) */
    int xfd[2];         /* pipe: handler closes xfd[0] */
    int yfd[2];         /* pipe: TSD destructor closes yfd[0] */
    long r[4];
    int e[4];
    int st[4];          /* state/type seen in handler and destructor */
    int finished;       /* cleanup-io handler ran to its end */
};

static pthread_key_t key;
static struct csc *key_owner; /* destructor finds the case through this */

static void order_add(struct csc *s, char ch)
{
    int i = __atomic_fetch_add(&s->norder, 1, __ATOMIC_SEQ_CST);
    if (i < (int)sizeof s->order - 1) s->order[i] = ch;
}

/* Query cancel state and type without changing them. */
static void query(int *state, int *type)
{
    int dummy;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, state);
    pthread_setcancelstate(*state, &dummy);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, type);
    pthread_setcanceltype(*type, &dummy);
}

/* ------------------------------------------------------ cleanup-order */

static void h1(void *p) { order_add(p, '1'); }
static void h2(void *p) { order_add(p, '2'); }
static void h3(void *p) { order_add(p, '3'); }

static void order_dtor(void *p) { order_add(p, 'K'); }

static void *order_thread(void *arg)
{
    struct csc *s = arg;
    char b;
    pthread_setspecific(key, s);
    pthread_cleanup_push(h1, s);
    pthread_cleanup_push(h2, s);
    pthread_cleanup_push(h3, s);
    flag_set(&s->tid, my_tid());
    s->r[0] = read(s->fd[0], &b, 1); /* empty pipe: blocks */
    flag_set(&s->progress, 1);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void *exit_thread(void *arg)
{
    struct csc *s = arg;
    pthread_setspecific(key, s);
    pthread_cleanup_push(h1, s);
    pthread_cleanup_push(h2, s);
    pthread_cleanup_push(h3, s);
    pthread_exit(&key_owner); /* any distinctive value */
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_order(int by_exit)
{
    const char *name = by_exit ? "cleanup-exit" : "cleanup-order";
    struct csc s;
    pthread_t t;
    void *rv;
    char got[96];

    begin_case(name);
    memset(&s, 0, sizeof s);
    pthread_key_create(&key, order_dtor);
    make_pipe(s.fd);
    if (by_exit) {
        t = start_thread(exit_thread, &s);
    } else {
        t = start_thread(order_thread, &s);
        wait_flag(&s.tid, 1);
        wait_blocked(flag_get(&s.tid), &s.progress);
        pthread_cancel(t);
    }
    pthread_join(t, &rv);
    pthread_key_delete(key);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "order=%s %s", s.order,
             rv == &key_owner ? "exit-value" : exitname(rv));
    report(name, by_exit ? "order=321K exit-value" : "order=321K canceled", got);
}

/* ------------------------------------------------------ cleanup-state */

static volatile int state_spin;

static void state_handler(void *p)
{
    struct csc *s = p;
    query(&s->st[0], &s->st[1]);
}

static void state_dtor(void *p)
{
    struct csc *s = p;
    query(&s->st[2], &s->st[3]);
}

static void *state_thread(void *arg)
{
    struct csc *s = arg;
    pthread_setspecific(key, s);
    pthread_cleanup_push(state_handler, s);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    flag_set(&s->tid, my_tid());
    while (state_spin >= 0) /* pure spin until cancelled */
        state_spin++;
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_state(void)
{
    struct csc s;
    pthread_t t;
    void *rv;
    char got[128];
    long end;

    begin_case("cleanup-state");
    memset(&s, 0, sizeof s);
    memset(s.st, -1, sizeof s.st);
    pthread_key_create(&key, state_dtor);
    state_spin = 0;
    t = start_thread(state_thread, &s);
    wait_flag(&s.tid, 1);
    while (state_spin < 1000)
        sched_yield();
    pthread_cancel(t);
    end = now_ms() + 1000; /* not cancelled in 1 s: stop the spin */
    while (thread_state(flag_get(&s.tid)) != 0 && now_ms() < end)
        msleep(1);
    state_spin = -1000000;
    pthread_join(t, &rv);
    pthread_key_delete(key);
    snprintf(got, sizeof got, "handler state=%d type=%d dtor state=%d type=%d %s", s.st[0],
             s.st[1], s.st[2], s.st[3], exitname(rv));
    report("cleanup-state", "handler state=1 type=0 dtor state=1 type=0 canceled", got);
}

/* --------------------------------------------------------- cleanup-io */

static void io_handler(void *p)
{
    struct csc *s = p;
    char b;
    pthread_testcancel(); /* must not act again */
    errno = 0;
    s->r[0] = read(s->fd[0], &b, 1); /* byte waiting */
    s->e[0] = errno;
    errno = 0;
    s->r[1] = close(s->xfd[0]);
    s->e[1] = errno;
    flag_set(&s->finished, 1);
}

static void io_dtor(void *p)
{
    struct csc *s = p;
    errno = 0;
    s->r[2] = close(s->yfd[0]);
    s->e[2] = errno;
}

static void *io_thread(void *arg)
{
    struct csc *s = arg;
    char b;
    pthread_setspecific(key, s);
    pthread_cleanup_push(io_handler, s);
    flag_set(&s->tid, my_tid());
    s->r[3] = read(s->xfd[0], &b, 1); /* empty pipe: blocks */
    flag_set(&s->progress, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_io(void)
{
    struct csc s;
    pthread_t t;
    void *rv;
    char got[160];
    int xclosed, yclosed;

    begin_case("cleanup-io");
    memset(&s, 0, sizeof s);
    pthread_key_create(&key, io_dtor);
    make_pipe(s.fd);
    make_pipe(s.xfd);
    make_pipe(s.yfd);
    if (write(s.fd[1], "x", 1) != 1) abort();
    t = start_thread(io_thread, &s);
    wait_flag(&s.tid, 1);
    wait_blocked(flag_get(&s.tid), &s.progress);
    pthread_cancel(t);
    pthread_join(t, &rv);
    pthread_key_delete(key);
    xclosed = !fd_is_open(s.xfd[0]);
    yclosed = !fd_is_open(s.yfd[0]);
    if (!xclosed) close(s.xfd[0]);
    if (!yclosed) close(s.yfd[0]);
    close(s.xfd[1]);
    close(s.yfd[1]);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "read=%s close=%s closed=%d finished=%d dtor-close=%s closed=%d %s",
             retname(s.r[0], s.e[0]), retname(s.r[1], s.e[1]), xclosed, s.finished,
             retname(s.r[2], s.e[2]), yclosed, exitname(rv));
    report("cleanup-io",
           "read=ok close=ok closed=1 finished=1 dtor-close=ok closed=1 canceled", got);
}

/* ------------------------------------------------ cleanup-pop-execute */

static void *pop_thread(void *arg)
{
    struct csc *s = arg;
    pthread_cleanup_push(h1, s);
    pthread_cleanup_push(h2, s);
    pthread_cleanup_pop(1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void case_pop_execute(void)
{
    struct csc s;
    void *rv;
    char got[64];
    begin_case("cleanup-pop-execute");
    memset(&s, 0, sizeof s);
    pthread_join(start_thread(pop_thread, &s), &rv);
    snprintf(got, sizeof got, "order=%s %s", s.order, exitname(rv));
    report("cleanup-pop-execute", "order=2 returned", got);
}

int main(void)
{
    test_init();
    case_order(0);
    case_state();
    case_io();
    case_pop_execute();
    case_order(1);
    return test_finish();
}
