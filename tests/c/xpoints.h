/*
 * xpoints.h -- extended driver for the second set of cancellation-point
 * programs (points_sync.c, points_ipc.c, points_signal.c, points_wait.c,
 * points_misc.c and the glibc_*.c point programs).
 *
 * It reuses points.h (struct point, struct pctx, point_thread and the
 * NAME-blocked / NAME-pending / NAME-disabled protocol) and adds what
 * those programs need:
 *
 *  - a context with room for a child process, a SysV IPC id, a mapping
 *    and the call's output (struct xctx; struct pctx is its first member,
 *    so the point functions still take a struct pctx *);
 *  - the call's normal result for the -disabled line, which may be an
 *    error ("ret=err:ENOTTY") and may carry a detail ("sig=SIGUSR1",
 *    "status=exit:7", "msg=hello") checked against what the call does
 *    when it is not cancelled;
 *  - points that musl 1.2.3 does NOT treat as cancellation points
 *    (not_cp): a pending cancel does not act on them, and a thread blocked
 *    in them stays blocked until main releases the call;
 *  - a release hook: if a thread has not finished 300 ms after the cancel
 *    (the cancel did not act), main makes the call return (sends the byte,
 *    kills the child, drops the lock, ...), so a missing cancellation point
 *    shows up as a result line ("call-returned ...") instead of a HANG.
 *    Calls that block even in the -disabled mode (pause, ...) are released
 *    as soon as the thread is seen sleeping in them.
 *
 * Lines (in addition to points.h):
 *  NAME-blocked   cp:     "canceled cleanup=1"
 *                 not_cp: "call-returned ret=R[ DETAIL] returned cleanup=0"
 *                         (the call returned once main released it)
 *  NAME-pending   cp:     "canceled cleanup=1[ EFFECT=0]"
 *                 not_cp: "call-returned ret=R[ DETAIL] returned cleanup=0
 *                          [ EFFECT=1]"
 *  NAME-disabled          "ret=R[ DETAIL][ EFFECT=1] then canceled cleanup=1"
 * R is "ok" for success (the value is not printed unless the detail
 * prints it) or "err:ENAME".  A child process left unreaped after a case
 * appends " child-leak"; an fd leak " fd-leak=+N".
 */
#ifndef PTCANCEL_TEST_XPOINTS_H
#define PTCANCEL_TEST_XPOINTS_H

#include "points.h"
#include <sys/wait.h>

#define XM_BLOCKED (1u << MODE_BLOCKED)
#define XM_PENDING (1u << MODE_PENDING)
#define XM_DISABLED (1u << MODE_DISABLED)
#define XM_ALL (XM_BLOCKED | XM_PENDING | XM_DISABLED)
#define XM_NOBLOCK (XM_PENDING | XM_DISABLED)

/* Milliseconds main waits after pthread_cancel before it releases a call
 * the cancel did not end. */
#define RELEASE_GRACE_MS 300

struct xctx;

struct xpoint {
    struct point p;    /* first: p's functions get &xctx.c */
    unsigned modes;    /* XM_* */
    int not_cp;        /* musl 1.2.3: not a cancellation point */
    const char *normal;   /* the call's normal result: "ok" if NULL */
    const char *detail;   /* expected detail of a completed call, or NULL */
    /* detail of a not_cp -blocked call once released ("R[ DETAIL]");
     * NULL: normal + detail */
    const char *released;
    /* Detail of a completed call (after join), appended as " DETAIL". */
    void (*describe)(struct xctx *x, char *buf, size_t size);
    /* Make a call blocked in this point return (main, before join). */
    void (*release)(struct xctx *x);
    int blocks_disabled;  /* -disabled: the call blocks until released */
};

struct xctx {
    struct pctx c;       /* first */
    const struct xpoint *xp;
    pid_t pid;           /* child process, -1 = none */
    int reaped;          /* the call reaped the child */
    int id;              /* SysV IPC id, -1 = none */
    void *map;           /* mmap()ed area, NULL = none */
    size_t maplen;
    char name[64];       /* POSIX IPC name */
    int status;          /* wait status / signal number the call got */
    long aux;            /* point-specific */
    char out[64];        /* data the call received */
};

#define X(c) ((struct xctx *)(void *)(c))

/* ------------------------------------------------------- formatting */

/* errname() from common.h plus the errno values these programs see. */
static UNUSED const char *xerrname(int e)
{
    switch (e) {
    case ENOTTY: return "ENOTTY";
    case ECHILD: return "ECHILD";
    case EIDRM: return "EIDRM";
    case ENOMSG: return "ENOMSG";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ESPIPE: return "ESPIPE";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    }
    return errname(e);
}

static UNUSED const char *xretname(long ret, int err)
{
    static char buf[40];
    if (ret >= 0) return "ok";
    snprintf(buf, sizeof buf, "err:%s", xerrname(err));
    return buf;
}

/* "exit:N", "signal:N" (signal numbers are the same on all Linux ABIs
 * these programs run on). */
static UNUSED void wstatus_str(int st, char *buf, size_t size)
{
    if (WIFEXITED(st)) snprintf(buf, size, "exit:%d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st)) snprintf(buf, size, "signal:%d", WTERMSIG(st));
    else snprintf(buf, size, "raw:%#x", (unsigned)st);
}

/* ------------------------------------------------------ children */

/* Fork a child that runs fn(arg) and _exit()s with its value. */
static UNUSED pid_t fork_child(int (*fn)(void *), void *arg)
{
    pid_t pid = fork();
    if (pid == 0) _exit(fn(arg));
    return pid;
}

/* Is `pid` a zombie (exited, not reaped)?  Does not reap it. */
static UNUSED int child_is_zombie(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return 0;
    return si.si_pid == pid;
}

/* Has `pid` been reaped (by anyone)?  ECHILD from waitid means so. */
static UNUSED int child_is_reaped(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

/* Wait (max 2 s) until the child has exited (zombie). */
static UNUSED int wait_zombie(pid_t pid)
{
    long end = now_ms() + 2000;
    while (now_ms() < end) {
        if (child_is_zombie(pid)) return 1;
        msleep(1);
    }
    return 0;
}

/* Kill (SIGKILL) and reap x->pid unless the call reaped it already. */
static UNUSED void xctx_reap(struct xctx *x)
{
    if (x->pid > 0 && !child_is_reaped(x->pid)) {
        kill(x->pid, SIGKILL);
        while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    x->pid = -1;
}

/* Any child process left (running or zombie)? */
static UNUSED int any_child_left(void)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* ------------------------------------------------------- the driver */

/* Has the point thread finished its call or been cancelled? */
static UNUSED int xthread_done(struct pctx *c)
{
    return flag_get(&c->returned) || flag_get(&c->cleanup);
}

/* Wait up to `ms` for xthread_done(). */
static UNUSED int wait_done(struct pctx *c, long ms)
{
    long end = now_ms() + ms;
    while (!xthread_done(c)) {
        if (now_ms() >= end) return 0;
        msleep(1);
    }
    return 1;
}

static UNUSED void xctx_init(struct xctx *x, const struct xpoint *xp, int mode)
{
    memset(x, 0, sizeof *x);
    pctx_init(&x->c, &xp->p, mode);
    x->xp = xp;
    x->pid = -1;
    x->id = -1;
}

static UNUSED void run_xpoint(const struct xpoint *xp, int mode)
{
    const struct point *p = &xp->p;
    const char *normal = xp->normal ? xp->normal : "ok";
    char name[64], expected[192], got[320], detail[96];
    struct xctx x;
    struct pctx *c = &x.c;
    pthread_t t;
    void *rv;
    int fds0, blocked = 1, crc, effect = -1;

    snprintf(name, sizeof name, "%s-%s", p->name, mode_name[mode]);
    begin_case(name);

    /* What musl does. */
    expected[0] = 0;
    if (mode == MODE_DISABLED) {
        appendf(expected, sizeof expected, "ret=%s", normal);
        if (xp->detail) appendf(expected, sizeof expected, " %s", xp->detail);
        if (p->effect) appendf(expected, sizeof expected, " %s=1", p->effect);
        appendf(expected, sizeof expected, " then canceled cleanup=1");
    } else if (xp->not_cp) {
        if (mode == MODE_BLOCKED && xp->released)
            appendf(expected, sizeof expected, "call-returned ret=%s", xp->released);
        else {
            appendf(expected, sizeof expected, "call-returned ret=%s", normal);
            if (xp->detail) appendf(expected, sizeof expected, " %s", xp->detail);
        }
        appendf(expected, sizeof expected, " returned cleanup=0");
        if (mode == MODE_PENDING && p->effect)
            appendf(expected, sizeof expected, " %s=1", p->effect);
    } else {
        appendf(expected, sizeof expected, "canceled cleanup=1");
        if (mode == MODE_PENDING && p->effect)
            appendf(expected, sizeof expected, " %s=0", p->effect);
    }

    fds0 = count_fds();
    xctx_init(&x, xp, mode);
    if (p->setup(c, c->block) != 0) {
        snprintf(got, sizeof got, "setup-failed errno=%s", xerrname(errno));
        p->teardown(c);
        report(name, expected, got);
        return;
    }
    c->fds_setup = count_fds();

    t = start_thread(point_thread, c);
    wait_flag(&c->stage, 1);
    if (mode == MODE_BLOCKED)
        blocked = wait_blocked(flag_get(&c->tid), &c->returned);
    crc = pthread_cancel(t);
    if (mode != MODE_BLOCKED)
        flag_set(&c->stage, 2);
    if (xp->release) {
        if (mode == MODE_DISABLED) {
            if (xp->blocks_disabled && wait_blocked(flag_get(&c->tid), &c->returned))
                xp->release(&x);
        } else if (!wait_done(c, RELEASE_GRACE_MS)) {
            xp->release(&x);
        }
    }
    pthread_join(t, &rv);

    if (mode != MODE_BLOCKED && p->effect_happened)
        effect = p->effect_happened(c);
    detail[0] = 0;
    if (c->returned && xp->describe)
        xp->describe(&x, detail, sizeof detail);
    p->teardown(c);

    /* What happened. */
    got[0] = 0;
    if (mode == MODE_DISABLED) {
        if (c->returned) {
            appendf(got, sizeof got, "ret=%s", xretname(c->ret, c->err));
            if (detail[0]) appendf(got, sizeof got, " %s", detail);
        } else {
            appendf(got, sizeof got, "call-did-not-return");
        }
        if (p->effect) appendf(got, sizeof got, " %s=%d", p->effect, effect);
        appendf(got, sizeof got, " then %s cleanup=%d", exitname(rv), c->cleanup);
    } else {
        if (!blocked && !c->returned)
            appendf(got, sizeof got, "never-blocked ");
        if (c->returned) {
            appendf(got, sizeof got, "call-returned ret=%s", xretname(c->ret, c->err));
            if (detail[0]) appendf(got, sizeof got, " %s", detail);
            appendf(got, sizeof got, " ");
        }
        appendf(got, sizeof got, "%s cleanup=%d", exitname(rv), c->cleanup);
        if (mode == MODE_PENDING && p->effect)
            appendf(got, sizeof got, " %s=%d", p->effect, effect);
    }
    if (crc != 0)
        appendf(got, sizeof got, " pthread_cancel=%s", xerrname(crc));
    if (any_child_left()) {
        appendf(got, sizeof got, " child-leak");
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
    if (count_fds() != fds0)
        appendf(got, sizeof got, " fd-leak=%+d", count_fds() - fds0);
    report(name, expected, got);
}

static UNUSED void run_xpoints(const struct xpoint *pts, size_t n)
{
    size_t i;
    int m;
    for (i = 0; i < n; i++)
        for (m = MODE_BLOCKED; m <= MODE_DISABLED; m++)
            if (pts[i].modes & (1u << m)) run_xpoint(&pts[i], m);
}

/* ------------------------------------------------ shared set-ups */

/* Release a thread blocked reading fd[0] (pipe / socket): one byte. */
static UNUSED void release_write_byte(struct xctx *x)
{
    if (write(x->c.fd[1], "r", 1) != 1) { /* nothing more to do */ }
}

/* Release a thread blocked writing fd[1]: drain fd[0]. */
static UNUSED void release_drain(struct xctx *x)
{
    char buf[4096];
    set_nonblock(x->c.fd[0], 1);
    while (read(x->c.fd[0], buf, sizeof buf) > 0)
        ;
    set_nonblock(x->c.fd[0], 0);
}

/* Regular file in the temp dir, opened O_RDWR in fd[0], with `content`. */
static UNUSED int xsetup_file(struct pctx *c, const char *content)
{
    size_t n = strlen(content);
    pctx_path(c, ".file");
    c->fd[0] = open(c->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (c->fd[0] < 0) return -1;
    if (n && write(c->fd[0], content, n) != (ssize_t)n) return -1;
    return 0;
}

static UNUSED int effect_file_nonempty(struct pctx *c)
{
    struct stat st;
    return fstat(c->fd[0], &st) == 0 && st.st_size > 0;
}

/* Everything an xctx can hold: child, fds, file. */
static UNUSED void xteardown(struct pctx *c)
{
    xctx_reap(X(c));
    pctx_close_all(c);
    if (c->path[0]) unlink(c->path);
}

#endif /* PTCANCEL_TEST_XPOINTS_H */
