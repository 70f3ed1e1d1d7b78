/*
 * points_signal.c -- waiting for signals:
 *     pause sigsuspend sigpause sigwait sigwaitinfo sigtimedwait
 *
 * Modes, lines and the release mechanism: see xpoints.h.
 * Signals: SIGUSR1 is "the awaited signal".  Main blocks it before any
 * thread exists, so every thread has it blocked and a process-directed
 * SIGUSR1 stays pending until a thread unblocks it (sigsuspend,
 * sigpause) or waits for it (sigwait*).  It has a handler that only
 * counts.  SIGUSR2 (not blocked, handler that counts) is what main sends
 * to the thread to end a pause().
 * Effect: consumed=  the SIGUSR1 that was pending for the process was
 *                    delivered/accepted (checked with sigpending() in
 *                    main after the join; main then discards a SIGUSR1
 *                    left pending).
 * Set-ups:
 *   BLOCKED: no signal pending; the thread waits for SIGUSR1 (pause: for
 *     anything).
 *   READY: kill(getpid(), SIGUSR1) before the thread makes the call, so
 *     sigsuspend/sigpause return at once with EINTR and sigwait* accept it.
 *     pause has no READY state: its -pending line relies on the cancel
 *     acting before the call sleeps, and in -disabled mode the call blocks
 *     until main sends SIGUSR2 (ret=err:EINTR).
 * Release (cancel did not act): SIGUSR2 to the thread (pause), SIGUSR1 to
 * the thread (sigsuspend, sigpause), SIGUSR1 to the process (sigwait*).
 * Detail: sig=N, the signal sigwait/sigwaitinfo/sigtimedwait returned
 * (SIGUSR1 is 10 on x86); usr1=N usr2=N, how often the handlers ran
 * (pause, sigsuspend, sigpause).
 *
 * sigpause is the XSI one: sigpause(sig) removes sig from the mask and
 * suspends.  glibc declares it deprecated (a warning that -Werror turns
 * into an error), so the call is wrapped in a diagnostic pragma; glibc
 * maps the name to the symbol __xpg_sigpause, musl has plain sigpause.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_signal.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every line the same as musl.
 */
#include "xpoints.h"

static int g_usr1, g_usr2; /* handler counts (atomics) */

static void on_usr1(int sig) { (void)sig; flag_add(&g_usr1, 1); }
static void on_usr2(int sig) { (void)sig; flag_add(&g_usr2, 1); }

static int usr1_pending(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    return sigismember(&s, SIGUSR1) == 1;
}

/* Discard a SIGUSR1 pending for main or the process: raw
 * rt_sigtimedwait with a zero timeout (8 = the kernel's sigset size). */
static void drain_usr1(void)
{
    sigset_t s;
    struct timespec zero = { 0, 0 };
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    while (usr1_pending() && syscall(SYS_rt_sigtimedwait, &s, NULL, &zero, 8) > 0)
        ;
}

/* pause: nothing to prepare. */
static int setup_nothing(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    flag_set(&g_usr1, 0);
    flag_set(&g_usr2, 0);
    return 0;
}

/* READY: SIGUSR1 pending for the process. */
static int setup_signal(struct pctx *c, int block)
{
    (void)c;
    drain_usr1();
    flag_set(&g_usr1, 0);
    flag_set(&g_usr2, 0);
    if (!block) return kill(getpid(), SIGUSR1);
    return 0;
}

static int effect_sig_consumed(struct pctx *c)
{
    (void)c;
    return !usr1_pending();
}

static void teardown_signal(struct pctx *c)
{
    drain_usr1();
    xteardown(c);
}

/* ------------------------------------------------------------ calls */

/* pause() until a SIGUSR2 has been handled.  A cancel sent while the
 * thread has cancellation disabled may still interrupt pause() with
 * EINTR on musl, if its SIGCANCEL arrives late (see disabled_blocked.c);
 * that EINTR is not what the -disabled line is about, so it is retried. */
static long call_pause(struct pctx *c)
{
    long r;
    (void)c;
    do
        r = pause();
    while (r == -1 && errno == EINTR && flag_get(&g_usr2) == 0);
    return r;
}

/* The thread's current mask minus SIGUSR1. */
static void mask_without_usr1(sigset_t *m)
{
    pthread_sigmask(SIG_BLOCK, NULL, m);
    sigdelset(m, SIGUSR1);
}

static long call_sigsuspend(struct pctx *c)
{
    sigset_t m;
    (void)c;
    mask_without_usr1(&m);
    return sigsuspend(&m);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static long call_sigpause(struct pctx *c)
{
    (void)c;
    return sigpause(SIGUSR1);
}
#pragma GCC diagnostic pop

static void usr1_set(sigset_t *s)
{
    sigemptyset(s);
    sigaddset(s, SIGUSR1);
}

static long call_sigwait(struct pctx *c)
{
    sigset_t s;
    int sig = 0, r;
    usr1_set(&s);
    r = sigwait(&s, &sig);
    if (r != 0) { /* returns the error number */
        errno = r;
        return -1;
    }
    X(c)->status = sig;
    return 0;
}

static long call_sigwaitinfo(struct pctx *c)
{
    sigset_t s;
    siginfo_t si;
    int r;
    usr1_set(&s);
    r = sigwaitinfo(&s, &si);
    if (r > 0) X(c)->status = r;
    return r;
}

static long call_sigtimedwait(struct pctx *c)
{
    sigset_t s;
    siginfo_t si;
    struct timespec ts = { 100, 0 };
    int r;
    usr1_set(&s);
    r = sigtimedwait(&s, &si, &ts);
    if (r > 0) X(c)->status = r;
    return r;
}

static void describe_sig(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "sig=%d", x->status);
}

/* Handlers that ran during the case (SIGUSR1 for sigsuspend/sigpause,
 * SIGUSR2 for pause). */
static void describe_handlers(struct xctx *x, char *buf, size_t size)
{
    (void)x;
    snprintf(buf, size, "usr1=%d usr2=%d", flag_get(&g_usr1), flag_get(&g_usr2));
}

/* ---------------------------------------------------------- releases */

static void release_usr2_thread(struct xctx *x)
{
    syscall(SYS_tgkill, (int)getpid(), flag_get(&x->c.tid), SIGUSR2);
}

static void release_usr1_thread(struct xctx *x)
{
    syscall(SYS_tgkill, (int)getpid(), flag_get(&x->c.tid), SIGUSR1);
}

static void release_usr1_process(struct xctx *x)
{
    (void)x;
    kill(getpid(), SIGUSR1);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, call) { name, effect, 1, setup_signal, call, effect_sig_consumed, teardown_signal }
#define SIGUSR1_DETAIL "sig=10"

static const struct xpoint points[] = {
    { { "pause", NULL, 1, setup_nothing, call_pause, NULL, teardown_signal },
      XM_ALL, 0, "err:EINTR", "usr1=0 usr2=1", NULL, describe_handlers, release_usr2_thread, 1 },
    { P("sigsuspend", "consumed", call_sigsuspend),
      XM_ALL, 0, "err:EINTR", "usr1=1 usr2=0", NULL, describe_handlers, release_usr1_thread, 0 },
    { P("sigpause", "consumed", call_sigpause),
      XM_ALL, 0, "err:EINTR", "usr1=1 usr2=0", NULL, describe_handlers, release_usr1_thread, 0 },
    { P("sigwait", "consumed", call_sigwait),
      XM_ALL, 0, NULL, SIGUSR1_DETAIL, NULL, describe_sig, release_usr1_process, 0 },
    { P("sigwaitinfo", "consumed", call_sigwaitinfo),
      XM_ALL, 0, NULL, SIGUSR1_DETAIL, NULL, describe_sig, release_usr1_process, 0 },
    { P("sigtimedwait", "consumed", call_sigtimedwait),
      XM_ALL, 0, NULL, SIGUSR1_DETAIL, NULL, describe_sig, release_usr1_process, 0 },
};

int main(void)
{
    struct sigaction sa;
    sigset_t s;

    test_init();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    usr1_set(&s);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* before any thread exists */

    run_xpoints(points, sizeof points / sizeof points[0]);
    return test_finish();
}
