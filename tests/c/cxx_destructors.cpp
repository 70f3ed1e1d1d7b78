/*
 * cxx_destructors.cpp -- C++ objects must be destroyed when a thread is
 * cancelled (glibc implements cancellation as a forced unwind,
 * abi::__forced_unwind; ptcancel acts through glibc's pthread_exit, so the
 * same must hold with the library).  Built with g++ only (not musl: musl's
 * pthread_exit does not unwind, so destructors never run there):
 *
 *     g++ -O2 -pthread -Wall -Wextra cxx_destructors.cpp
 *
 * Frames, outermost first (each non-inlined):
 *   thread_fn  pthread_cleanup_push handler                 -> 'H'
 *   level1     Tracer '1'; try { level2 } catch (...) { 'c'; throw; }
 *   level2     Tracer '2'; FdCloser (destructor calls close(), itself a
 *              cancellation point, which must simply work)  -> 'x'
 *   level3     try { Tracer '3'; read() }
 *              catch (abi::__forced_unwind &) { 'f'; throw; }
 * Expected unwinding order: "3fx2c1H", the FdCloser's fd closed, the
 * thread's join value PTHREAD_CANCELED.
 *
 * Cases:
 *  cxx-blocked  cancelled while blocked in read() on an empty pipe
 *  cxx-pending  cancel pending when read() is entered (byte waiting: must
 *               not be consumed)
 *
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386 (g++ -m32):
 * exits 0 with exactly the expected lines.
 */
#include "common.h"
#include <cxxabi.h>

static char order[24];
static int norder;

static void order_add(char ch)
{
    int i = __atomic_fetch_add(&norder, 1, __ATOMIC_SEQ_CST);
    if (i < (int)sizeof order - 1) order[i] = ch;
}

struct Tracer {
    char ch;
    explicit Tracer(char c) : ch(c) {}
    ~Tracer() { order_add(ch); }
};

/* RAII fd owner whose destructor makes a cancellation point call. */
struct FdCloser {
    int fd;
    long *rc;
    FdCloser(int f, long *r) : fd(f), rc(r) {}
    ~FdCloser()
    {
        *rc = close(fd);
        order_add('x');
    }
};

struct ctx {
    int tid, stage, pending, returned;
    int fd[2];  /* pipe the thread reads */
    int xfd[2]; /* xfd[0] owned by the FdCloser */
    long close_rc;
};

static void handler(void *) { order_add('H'); }

__attribute__((noinline)) static long level3(ctx *s)
{
    long r = -1;
    try {
        Tracer t('3');
        char b;
        if (s->pending) {
            pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
            flag_set(&s->stage, 1);
            wait_flag(&s->stage, 2); /* main has cancelled */
            pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        } else {
            flag_set(&s->stage, 1);
        }
        r = read(s->fd[0], &b, 1);
        flag_set(&s->returned, 1);
    } catch (abi::__forced_unwind &) {
        order_add('f');
        throw; /* forced unwinding must continue */
    }
    return r;
}

__attribute__((noinline)) static long level2(ctx *s)
{
    Tracer t('2');
    FdCloser fc(s->xfd[0], &s->close_rc);
    return level3(s) + 1;
}

__attribute__((noinline)) static long level1(ctx *s)
{
    Tracer t('1');
    try {
        return level2(s) + 1;
    } catch (...) {
        order_add('c');
        throw;
    }
}

static void *thread_fn(void *arg)
{
    ctx *s = static_cast<ctx *>(arg);
    pthread_cleanup_push(handler, NULL);
    flag_set(&s->tid, my_tid());
    level1(s);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void run_case(const char *name, int pending)
{
    ctx s;
    pthread_t t;
    void *rv;
    char got[128];
    int closed, consumed;

    begin_case(name);
    memset(&s, 0, sizeof s);
    memset(order, 0, sizeof order);
    norder = 0;
    s.pending = pending;
    s.close_rc = -2;
    make_pipe(s.fd);
    make_pipe(s.xfd);
    if (pending && write(s.fd[1], "x", 1) != 1) abort();
    t = start_thread(thread_fn, &s);
    wait_flag(&s.stage, 1);
    if (!pending) wait_blocked(flag_get(&s.tid), &s.returned);
    pthread_cancel(t);
    flag_set(&s.stage, 2);
    pthread_join(t, &rv);

    closed = !fd_is_open(s.xfd[0]);
    if (!closed) close(s.xfd[0]);
    consumed = bytes_available(s.fd[0]) == 0;
    close(s.xfd[1]);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "order=%s close=%s closed=%d", order,
             s.close_rc == -2 ? "not-called" : retname(s.close_rc, 0), closed);
    if (pending) appendf(got, sizeof got, " consumed=%d", consumed);
    appendf(got, sizeof got, " %s", exitname(rv));
    report(name,
           pending ? "order=3fx2c1H close=ok closed=1 consumed=0 canceled"
                   : "order=3fx2c1H close=ok closed=1 canceled",
           got);
}

int main()
{
    test_init();
    run_case("cxx-blocked", 0);
    run_case("cxx-pending", 1);
    return test_finish();
}
