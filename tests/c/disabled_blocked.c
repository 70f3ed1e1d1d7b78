/*
 * disabled_blocked.c -- a cancel sent while the target has cancellation
 * DISABLED and is blocked in a call.
 *
 * musl's pthread_cancel() always sends SIGCANCEL, even to a thread whose
 * state is DISABLE (the handler then just returns).  The signal still
 * interrupts the blocking syscall, and what happens next is the kernel's
 * usual rule for a signal with an SA_RESTART handler (musl installs
 * SIGCANCEL's handler with SA_RESTART):
 *   - calls the kernel restarts after SA_RESTART handlers (read, write,
 *     recv, fcntl F_SETLKW, waitpid, wait4, mq_receive, ...) go on
 *     waiting: the cancel is not noticed until cancellation is enabled;
 *   - calls that are never restarted after a handler (poll, select,
 *     epoll_wait, nanosleep, clock_nanosleep, sleep, pause, sigsuspend,
 *     msgrcv, ...) return EINTR (sleep: the seconds left) although the
 *     thread has cancellation disabled;
 *   - sigwaitinfo/sigtimedwait: the kernel returns EINTR, but musl retries
 *     on EINTR, so they go on waiting.
 * glibc (2.34+) sends no signal to a thread with cancellation disabled
 * (or deferred and not blocked in a cancellation point), so no call is
 * interrupted.
 *
 * Each case: the thread disables cancellation and blocks in the call; main
 * cancels, then waits 200 ms.  If the call has not returned by then main
 * releases it (a byte, room in the pipe, a signal, killing the child, ...).
 * The thread then enables cancellation and calls pthread_testcancel().
 *   NAME: interrupted=1 ret=R then canceled cleanup=1
 *         the call returned within 200 ms of the cancel, by itself;
 *   NAME: interrupted=0 ret=R then canceled cleanup=1
 *         the call returned only when released.
 * R is "ok" or "err:ENAME".  Signals: SIGUSR1 (blocked in every thread,
 * counting handler) is what sigsuspend/sigwaitinfo/sigtimedwait wait for;
 * SIGUSR2 (counting handler, not blocked) releases the sleeps, pause and
 * the multiplexers' siblings.
 *
 * This program is separate from the points_*.c programs on purpose: the
 * spurious EINTR is a musl implementation detail that an implementation
 * of musl's semantics on glibc may or may not want to reproduce.
 *
 * Build: cc -O2 -pthread -Wall -Wextra disabled_blocked.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every interrupted=1 line is interrupted=0 (pause, sigsuspend, sleep:
 * ret=err:EINTR / ok from the release signal; the multiplexers: ret=ok
 * from the released byte; msgrcv: ret=ok).
 */
#include "xpoints.h"
#include <mqueue.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>

#define GRACE_MS 200

static int g_usr1, g_usr2;
static void on_usr1(int sig) { (void)sig; flag_add(&g_usr1, 1); }
static void on_usr2(int sig) { (void)sig; flag_add(&g_usr2, 1); }

struct dcase {
    const char *name;
    int (*setup)(struct xctx *x);
    long (*call)(struct xctx *x);
    void (*release)(struct xctx *x);
    void (*teardown)(struct xctx *x);
    int interrupted;      /* musl: the cancel makes the call return */
    const char *ret;      /* its result then (or after the release) */
};

/* -------------------------------------------------------- set-ups */

static int setup_pipe(struct xctx *x) { make_pipe(x->c.fd); return 0; }

static int setup_full_pipe(struct xctx *x)
{
    make_pipe(x->c.fd);
    fill_fd(x->c.fd[1]);
    return 0;
}

static int setup_sockpair(struct xctx *x)
{
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x->c.fd);
}

/* fd[0]/fd[1] pipe, fd[2] epoll fd watching fd[0]. */
static int setup_epoll(struct xctx *x)
{
    struct epoll_event ev;
    make_pipe(x->c.fd);
    x->c.fd[2] = epoll_create1(EPOLL_CLOEXEC);
    if (x->c.fd[2] < 0) return -1;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    return epoll_ctl(x->c.fd[2], EPOLL_CTL_ADD, x->c.fd[0], &ev);
}

static int setup_none(struct xctx *x) { (void)x; return 0; }

static int setup_msg(struct xctx *x)
{
    x->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    return x->id < 0 ? -1 : 0;
}

static int setup_mq(struct xctx *x)
{
    struct mq_attr a;
    mqd_t q;
    memset(&a, 0, sizeof a);
    a.mq_maxmsg = 1;
    a.mq_msgsize = 16;
    snprintf(x->name, sizeof x->name, "/ptcancel-test-%d-disabled", (int)getpid());
    q = mq_open(x->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
    if (q == (mqd_t)-1) return -1;
    mq_unlink(x->name);
    x->c.fd[0] = (int)q;
    return 0;
}

struct holder { int fd, pipe_w; };

static int lock_holder(void *arg)
{
    struct holder *h = arg;
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    if (write(h->pipe_w, fcntl(h->fd, F_SETLK, &l) == 0 ? "k" : "e", 1) != 1) return 2;
    for (;;)
        pause();
    return 0; /* not reached */
}

/* fd[0] a file a child holds a POSIX write lock on. */
static int setup_locked(struct xctx *x)
{
    struct holder h;
    int p[2];
    char b = 0;
    if (xsetup_file(&x->c, "data") != 0) return -1;
    make_pipe(p);
    h.fd = x->c.fd[0];
    h.pipe_w = p[1];
    x->pid = fork_child(lock_holder, &h);
    close(p[1]);
    if (x->pid < 0 || read(p[0], &b, 1) != 1) b = 0;
    close(p[0]);
    return b == 'k' ? 0 : -1;
}

static int child_sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0; /* not reached */
}

static int setup_child(struct xctx *x)
{
    x->pid = fork_child(child_sleeper, NULL);
    return x->pid < 0 ? -1 : 0;
}

/* -------------------------------------------------------------- calls */

static long call_read(struct xctx *x) { char b; return read(x->c.fd[0], &b, 1); }
static long call_write(struct xctx *x) { return write(x->c.fd[1], "x", 1); }
static long call_recv(struct xctx *x) { char b; return recv(x->c.fd[0], &b, 1, 0); }

static long call_poll(struct xctx *x)
{
    struct pollfd p = { x->c.fd[0], POLLIN, 0 };
    return poll(&p, 1, -1);
}

static long call_select(struct xctx *x)
{
    fd_set r;
    FD_ZERO(&r);
    FD_SET(x->c.fd[0], &r);
    return select(x->c.fd[0] + 1, &r, NULL, NULL, NULL);
}

static long call_epoll_wait(struct xctx *x)
{
    struct epoll_event ev;
    return epoll_wait(x->c.fd[2], &ev, 1, -1);
}

static long call_nanosleep(struct xctx *x)
{
    struct timespec ts = { 100, 0 };
    (void)x;
    return nanosleep(&ts, NULL);
}

static long call_clock_nanosleep(struct xctx *x)
{
    struct timespec ts = { 100, 0 };
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    (void)x;
    if (r != 0) {
        errno = r;
        return -1;
    }
    return 0;
}

static long call_sleep(struct xctx *x) { (void)x; return (long)sleep(100); }
static long call_pause(struct xctx *x) { (void)x; return pause(); }

static long call_sigsuspend(struct xctx *x)
{
    sigset_t m;
    (void)x;
    pthread_sigmask(SIG_BLOCK, NULL, &m);
    sigdelset(&m, SIGUSR1);
    return sigsuspend(&m);
}

static long call_sigwaitinfo(struct xctx *x)
{
    sigset_t s;
    siginfo_t si;
    (void)x;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    return sigwaitinfo(&s, &si);
}

static long call_sigtimedwait(struct xctx *x)
{
    sigset_t s;
    siginfo_t si;
    struct timespec ts = { 100, 0 };
    (void)x;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    return sigtimedwait(&s, &si, &ts);
}

struct smsg { long mtype; char mtext[8]; };

static long call_msgrcv(struct xctx *x)
{
    struct smsg m;
    return msgrcv(x->id, &m, sizeof m.mtext, 0, 0);
}

static long call_mq_receive(struct xctx *x)
{
    char buf[16];
    return mq_receive((mqd_t)x->c.fd[0], buf, sizeof buf, NULL);
}

static long call_setlkw(struct xctx *x)
{
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    return fcntl(x->c.fd[0], F_SETLKW, &l);
}

static long call_waitpid(struct xctx *x) { int st; return waitpid(x->pid, &st, 0); }
static long call_wait4(struct xctx *x) { int st; return wait4(x->pid, &st, 0, NULL); }

/* ----------------------------------------------------------- releases */

static void rel_byte(struct xctx *x) { release_write_byte(x); }
static void rel_drain(struct xctx *x) { release_drain(x); }

static void rel_usr2(struct xctx *x)
{
    syscall(SYS_tgkill, (int)getpid(), flag_get(&x->c.tid), SIGUSR2);
}

static void rel_usr1_thread(struct xctx *x)
{
    syscall(SYS_tgkill, (int)getpid(), flag_get(&x->c.tid), SIGUSR1);
}

static void rel_usr1_process(struct xctx *x)
{
    (void)x;
    kill(getpid(), SIGUSR1);
}

static void rel_msg(struct xctx *x)
{
    struct smsg m = { 1, "r" };
    if (msgsnd(x->id, &m, sizeof m.mtext, IPC_NOWAIT) != 0) { /* nothing to do */ }
}

static void rel_mq(struct xctx *x)
{
    if (mq_send((mqd_t)x->c.fd[0], "r", 1, 0) != 0) { /* nothing to do */ }
}

/* Kill only: the call (waitpid, wait4) must be the one to reap. */
static void rel_kill(struct xctx *x) { kill(x->pid, SIGKILL); }

/* ----------------------------------------------------------- teardowns */

static void drain_usr1(void)
{
    sigset_t s;
    struct timespec zero = { 0, 0 };
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    while (syscall(SYS_rt_sigtimedwait, &s, NULL, &zero, 8) > 0)
        ;
}

static void td_plain(struct xctx *x)
{
    drain_usr1();
    xteardown(&x->c);
}

static void td_msg(struct xctx *x)
{
    if (x->id >= 0) msgctl(x->id, IPC_RMID, NULL);
    x->id = -1;
    td_plain(x);
}

static void td_mq(struct xctx *x)
{
    if (x->c.fd[0] >= 0) mq_close((mqd_t)x->c.fd[0]);
    x->c.fd[0] = -1;
    td_plain(x);
}

/* ------------------------------------------------------------- driver */

struct dctx {
    struct xctx x; /* first */
    const struct dcase *d;
};

static void *dthread(void *arg)
{
    struct dctx *dc = arg;
    struct pctx *c = &dc->x.c;

    pthread_cleanup_push(cleanup_mark, &c->cleanup);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
    flag_set(&c->tid, my_tid());
    flag_set(&c->stage, 1);
    errno = 0;
    c->ret = dc->d->call(&dc->x);
    c->err = errno;
    flag_set(&c->returned, 1);
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    pthread_testcancel();
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static void run_dcase(const struct dcase *d)
{
    char expected[128], got[256];
    struct dctx dc;
    struct pctx *c = &dc.x.c;
    struct point pt;
    pthread_t t;
    void *rv;
    int fds0, blocked, interrupted, crc;

    begin_case(d->name);
    snprintf(expected, sizeof expected, "interrupted=%d ret=%s then canceled cleanup=1",
             d->interrupted, d->ret);

    memset(&pt, 0, sizeof pt);
    pt.name = d->name; /* for pctx_path() */
    memset(&dc, 0, sizeof dc);
    pctx_init(c, &pt, MODE_DISABLED);
    dc.x.pid = -1;
    dc.x.id = -1;
    dc.d = d;
    flag_set(&g_usr1, 0);
    flag_set(&g_usr2, 0);

    fds0 = count_fds();
    if (d->setup(&dc.x) != 0) {
        snprintf(got, sizeof got, "setup-failed errno=%s", xerrname(errno));
        d->teardown(&dc.x);
        report(d->name, expected, got);
        return;
    }
    t = start_thread(dthread, &dc);
    wait_flag(&c->stage, 1);
    blocked = wait_blocked(flag_get(&c->tid), &c->returned);
    crc = pthread_cancel(t);
    interrupted = wait_done(c, GRACE_MS);
    if (!interrupted) d->release(&dc.x);
    pthread_join(t, &rv);
    d->teardown(&dc.x);

    got[0] = 0;
    if (!blocked) appendf(got, sizeof got, "never-blocked ");
    appendf(got, sizeof got, "interrupted=%d ", interrupted);
    if (c->returned) appendf(got, sizeof got, "ret=%s", xretname(c->ret, c->err));
    else appendf(got, sizeof got, "call-did-not-return");
    appendf(got, sizeof got, " then %s cleanup=%d", exitname(rv), c->cleanup);
    if (crc != 0) appendf(got, sizeof got, " pthread_cancel=%s", xerrname(crc));
    if (any_child_left()) {
        appendf(got, sizeof got, " child-leak");
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
    if (count_fds() != fds0) appendf(got, sizeof got, " fd-leak=%+d", count_fds() - fds0);
    report(d->name, expected, got);
}

static const struct dcase cases[] = {
    /* restarted after an SA_RESTART handler: not interrupted */
    { "read", setup_pipe, call_read, rel_byte, td_plain, 0, "ok" },
    { "write", setup_full_pipe, call_write, rel_drain, td_plain, 0, "ok" },
    { "recv", setup_sockpair, call_recv, rel_byte, td_plain, 0, "ok" },
    { "fcntl-setlkw", setup_locked, call_setlkw, rel_kill, td_plain, 0, "ok" },
    { "waitpid", setup_child, call_waitpid, rel_kill, td_plain, 0, "ok" },
    { "wait4", setup_child, call_wait4, rel_kill, td_plain, 0, "ok" },
    { "mq_receive", setup_mq, call_mq_receive, rel_mq, td_mq, 0, "ok" },
    /* musl retries EINTR itself */
    { "sigwaitinfo", setup_none, call_sigwaitinfo, rel_usr1_process, td_plain, 0, "ok" },
    { "sigtimedwait", setup_none, call_sigtimedwait, rel_usr1_process, td_plain, 0, "ok" },
    /* never restarted after a handler: EINTR */
    { "poll", setup_pipe, call_poll, rel_byte, td_plain, 1, "err:EINTR" },
    { "select", setup_pipe, call_select, rel_byte, td_plain, 1, "err:EINTR" },
    { "epoll_wait", setup_epoll, call_epoll_wait, rel_byte, td_plain, 1, "err:EINTR" },
    { "nanosleep", setup_none, call_nanosleep, rel_usr2, td_plain, 1, "err:EINTR" },
    { "clock_nanosleep", setup_none, call_clock_nanosleep, rel_usr2, td_plain, 1, "err:EINTR" },
    { "sleep", setup_none, call_sleep, rel_usr2, td_plain, 1, "ok" },
    { "pause", setup_none, call_pause, rel_usr2, td_plain, 1, "err:EINTR" },
    { "sigsuspend", setup_none, call_sigsuspend, rel_usr1_thread, td_plain, 1, "err:EINTR" },
    { "msgrcv", setup_msg, call_msgrcv, rel_msg, td_msg, 1, "err:EINTR" },
};

int main(void)
{
    struct sigaction sa;
    sigset_t s;
    size_t i;

    test_init();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* before any thread exists */

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_dcase(&cases[i]);
    tmpdir_remove();
    return test_finish();
}
