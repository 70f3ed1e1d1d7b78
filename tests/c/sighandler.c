/*
 * sighandler.c -- a cancel that arrives while the target runs a signal
 * handler which interrupted a blocking cancellation point.
 *
 * musl's SIGCANCEL handler acts only when the interrupted code is inside
 * the cancellable syscall window.  A cancel landing inside another signal
 * handler is re-raised (with SIGCANCEL blocked until that handler returns),
 * so the handler runs to completion and the cancel then acts on the
 * restarted (SA_RESTART) or EINTR-failed syscall.
 *
 * The SIGUSR1 handler sets `running`, busy-waits (sched_yield, raw: no
 * cancellation point) until main releases it, then sets `done`.
 *
 * Cases:
 *  reraise-restart      SA_RESTART handler interrupts read() on an empty
 *                       pipe; main cancels while the handler runs, waits
 *                       50 ms, releases it: the handler finishes
 *                       (handler_done=1), then the restarted read is
 *                       cancelled.
 *  reraise-norestart    same without SA_RESTART: the read fails with EINTR
 *                       and the pending cancel acts on that (musl never
 *                       returns EINTR to a thread with a cancel pending).
 *  restart-then-cancel  no cancel during the handler: the SA_RESTART read
 *                       resumes blocking; a later cancel acts on it.
 *  eintr-no-cancel      without SA_RESTART and without any cancel, read()
 *                       returns -1 EINTR and the thread goes on normally.
 *  disable-in-handler   as reraise-restart, but the handler disables
 *                       cancellation while it runs and re-enables it before
 *                       returning.  musl loses the cancel (the read returns
 *                       once main writes the byte that ends a lost cancel);
 *                       ptcancel cancels the restarted read
 *                       (expected/sighandler.ptcancel.out); glibc 2.36 kills
 *                       the thread inside the handler, at the re-enable.
 *
 * Build: cc -O2 -pthread -Wall -Wextra sighandler.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.
 * Plain glibc 2.36 (no ptcancel), x86_64 and i386, differs in:
 *   reraise-restart, reraise-norestart: glibc runs blocking calls in
 *     asynchronous cancel mode, so the cancel acts inside the SIGUSR1
 *     handler: "canceled handler_done=0 cleanup=1".
 */
#include "common.h"

static int h_running, h_release, h_done, h_disables;

static void usr1_handler(int sig)
{
    int old = 0;
    (void)sig;
    if (h_disables)
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    flag_set(&h_running, 1);
    while (!flag_get(&h_release))
        sched_yield(); /* a raw syscall, not a cancellation point */
    if (h_disables)
        pthread_setcancelstate(old, NULL);
    flag_set(&h_done, 1);
}

static void install_usr1(int restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = usr1_handler;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
}

struct ssc {
    int tid, stage, cleanup, returned;
    long r;
    int e;
    int fd[2];
};

static void *reader_thread(void *arg)
{
    struct ssc *s = arg;
    char b;
    pthread_cleanup_push(cleanup_mark, &s->cleanup);
    flag_set(&s->tid, my_tid());
    flag_set(&s->stage, 1);
    errno = 0;
    s->r = read(s->fd[0], &b, 1); /* empty pipe: blocks */
    s->e = errno;
    flag_set(&s->returned, 1);
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

/* Wait up to `ms` for the thread to leave read() / exit. */
static void wait_finish(struct ssc *s, long ms)
{
    long end = now_ms() + ms;
    while (!flag_get(&s->returned) && !flag_get(&s->cleanup) && now_ms() < end)
        msleep(1);
}

/*
 * restart: SA_RESTART on SIGUSR1.
 * cancel_in_handler: 1 = cancel while the handler runs,
 *                    2 = cancel after the handler returned,
 *                    0 = no cancel at all.
 */
static void run_case(const char *name, int restart, int cancel_in_handler, const char *expected)
{
    struct ssc s;
    pthread_t t;
    void *rv;
    char got[160];

    begin_case(name);
    memset(&s, 0, sizeof s);
    flag_set(&h_running, 0);
    flag_set(&h_release, 0);
    flag_set(&h_done, 0);
    install_usr1(restart);
    make_pipe(s.fd);

    t = start_thread(reader_thread, &s);
    wait_flag(&s.stage, 1);
    wait_blocked(flag_get(&s.tid), &s.returned);
    pthread_kill(t, SIGUSR1);
    wait_flag(&h_running, 1);
    if (cancel_in_handler == 1) {
        pthread_cancel(t);
        msleep(50);
    }
    flag_set(&h_release, 1);
    if (cancel_in_handler == 2) {
        /* the handler returns; the read blocks again */
        wait_blocked(flag_get(&s.tid), &s.returned);
        pthread_cancel(t);
    }
    /* A lost cancel would leave read() blocked: unblock it after 1 s. */
    wait_finish(&s, 1000);
    if (!flag_get(&s.returned) && !flag_get(&s.cleanup) && write(s.fd[1], "x", 1) != 1)
        abort();
    pthread_join(t, &rv);
    close(s.fd[0]);
    close(s.fd[1]);

    got[0] = 0;
    if (s.returned) appendf(got, sizeof got, "read=%s ", retname(s.r, s.e));
    appendf(got, sizeof got, "%s handler_done=%d cleanup=%d", exitname(rv), flag_get(&h_done),
            s.cleanup);
    report(name, expected, got);
}

int main(void)
{
    test_init();
    run_case("reraise-restart", 1, 1, "canceled handler_done=1 cleanup=1");
    run_case("reraise-norestart", 0, 1, "canceled handler_done=1 cleanup=1");
    run_case("restart-then-cancel", 1, 2, "canceled handler_done=1 cleanup=1");
    run_case("eintr-no-cancel", 0, 0, "read=err:EINTR returned handler_done=1 cleanup=0");
    /* The handler disables cancellation while it runs and re-enables it before returning: the
     * cancel that arrived meanwhile must act on the restarted read.  musl loses it (the read
     * returns once main writes, after 1 s); ptcancel acts (expected/sighandler.ptcancel.out). */
    h_disables = 1;
    run_case("disable-in-handler", 1, 1, "read=ok returned handler_done=1 cleanup=0");
    return test_finish();
}
