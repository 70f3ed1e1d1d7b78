/*
 * cleanup_attr.c -- GCC __attribute__((cleanup)) variables must run when a
 * thread is cancelled.  MUST be compiled with -fexceptions (otherwise GCC
 * emits no unwind landing pads for them):
 *
 *     cc -O2 -pthread -fexceptions -Wall -Wextra cleanup_attr.c
 *
 * Three nested non-inlined frames each own a cleanup variable
 * (c1 outermost ... c3 innermost, around a read() blocked on an empty pipe),
 * and the thread function has a pthread_cleanup_push handler (H) outside
 * them all.  Cancellation must unwind the stack: "order=321H".
 * A second case cancels with a pending cancel on entry to read().
 *
 * Cases:
 *  attr-blocked   cancelled while blocked in read():  order=321H canceled
 *  attr-pending   cancel pending when read() is entered: order=321H canceled
 *
 * Reference: this file encodes glibc's unwinding pthread_exit (which is
 * what ptcancel uses to act), NOT musl.  musl's pthread_exit does not
 * unwind the stack at all, even with -fexceptions: it only walks its own
 * pthread_cleanup_push list.  musl 1.2.3 therefore prints "order=H" for
 * both cases and exits 1 -- expected, documented in README.md.
 *
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, exits 0.
 */
#include "common.h"

static char order[16];
static int norder;

static void order_add(char ch)
{
    int i = __atomic_fetch_add(&norder, 1, __ATOMIC_SEQ_CST);
    if (i < (int)sizeof order - 1) order[i] = ch;
}

static void c1(int *p) { (void)p; order_add('1'); }
static void c2(int *p) { (void)p; order_add('2'); }
static void c3(int *p) { (void)p; order_add('3'); }
static void handler(void *p) { (void)p; order_add('H'); }

struct asc {
    int tid, stage, pending, returned;
    int fd[2];
};

__attribute__((noinline)) static long level3(struct asc *s)
{
    int v __attribute__((cleanup(c3))) = 3;
    char b;
    long r;
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
    __asm__ volatile("" : : "r"(&v) : "memory"); /* keep v alive */
    return r;
}

__attribute__((noinline)) static long level2(struct asc *s)
{
    int v __attribute__((cleanup(c2))) = 2;
    long r = level3(s);
    __asm__ volatile("" : : "r"(&v) : "memory");
    return r + 1;
}

__attribute__((noinline)) static long level1(struct asc *s)
{
    int v __attribute__((cleanup(c1))) = 1;
    long r = level2(s);
    __asm__ volatile("" : : "r"(&v) : "memory");
    return r + 1;
}

static void *thread_fn(void *arg)
{
    struct asc *s = arg;
    pthread_cleanup_push(handler, NULL);
    flag_set(&s->tid, my_tid());
    level1(s);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void run_case(const char *name, int pending)
{
    struct asc s;
    pthread_t t;
    void *rv;
    char got[96];

    begin_case(name);
    memset(&s, 0, sizeof s);
    memset(order, 0, sizeof order);
    norder = 0;
    s.pending = pending;
    make_pipe(s.fd);
    t = start_thread(thread_fn, &s);
    wait_flag(&s.stage, 1);
    if (!pending) wait_blocked(flag_get(&s.tid), &s.returned);
    pthread_cancel(t);
    flag_set(&s.stage, 2);
    pthread_join(t, &rv);
    close(s.fd[0]);
    close(s.fd[1]);
    snprintf(got, sizeof got, "order=%s %s", order, exitname(rv));
    report(name, "order=321H canceled", got);
}

int main(void)
{
    test_init();
    run_case("attr-blocked", 0);
    run_case("attr-pending", 1);
    return test_finish();
}
