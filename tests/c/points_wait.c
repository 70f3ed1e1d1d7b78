/*
 * points_wait.c -- waiting for children, system(), tcdrain():
 *     wait waitpid waitid wait3 wait4 system tcdrain
 *
 * Modes, lines and the release mechanism: see xpoints.h.
 * wait family.  Effect: reaped=  the child was reaped by the call
 * (checked from main with waitid(WNOHANG|WNOWAIT): ECHILD means reaped).
 * Detail: status=exit:N / status=signal:N, what the call reported.
 *   BLOCKED: a forked child that pause()s until killed; release: SIGKILL
 *     to the child (the call then reports status=signal:9).
 *   READY: a child that has already exited with status 7 (a zombie;
 *     main waits for that before starting the thread).
 *   Every child is killed and reaped by the teardown if the call did not
 *   reap it; the driver reports " child-leak" if any child is left.
 * system: -pending and -disabled only.  The command is ": >FILE" (a shell
 *   built-in redirection, no external program).  Effect: created= FILE
 *   exists.  musl's system() calls pthread_testcancel() first, so a
 *   pending cancel acts before anything is spawned.
 * tcdrain: -pending and -disabled only (it cannot be made to block).
 *   tcdrain      on the slave side of a pty from posix_openpt: ok;
 *   tcdrain-pipe on a pipe: fails with ENOTTY (TCSBRK is a tty ioctl),
 *                the same with musl and glibc.
 *
 * musl 1.2.3 makes wait4() (and wait3(), which calls it) a plain syscall,
 * NOT a cancellation point; wait/waitpid/waitid use syscall_cp.  So the
 * expected lines are:
 *   wait3-blocked, wait4-blocked  the cancel does not end the wait; the call
 *                                 returns when main kills the child
 *                                 (status=signal:9);
 *   wait3-pending, wait4-pending  the call reaps the zombie and the thread
 *                                 runs on (returned, reaped=1).
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_wait.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386
 * differs in:
 *   wait3-blocked, wait4-blocked  canceled cleanup=1  (glibc's wait4 is a
 *                                 cancellation point; wait3 calls it)
 *   wait3-pending, wait4-pending  canceled cleanup=1 reaped=0
 *   system-pending                glibc's system() has no entry check: it
 *                                 spawns the shell, and the cancel acts in
 *                                 its waitpid(), whose cleanup handler
 *                                 SIGKILLs the shell.  Whether the shell
 *                                 created FILE by then is a race: usually
 *                                 created=0 (same as musl), sometimes
 *                                 created=1.
 */
#include "xpoints.h"
#include <sys/resource.h>
#include <termios.h>

/* ----------------------------------------------------- wait family */

static int child_sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0; /* not reached */
}

static int child_exit7(void *arg)
{
    (void)arg;
    return 7;
}

static int setup_child(struct pctx *c, int block)
{
    struct xctx *x = X(c);
    x->pid = fork_child(block ? child_sleeper : child_exit7, NULL);
    if (x->pid < 0) return -1;
    if (!block && !wait_zombie(x->pid)) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int effect_reaped(struct pctx *c) { return child_is_reaped(X(c)->pid); }

static void release_kill(struct xctx *x) { kill(x->pid, SIGKILL); }

/* The calls store the status in x->status and check the pid. */
static long check_pid(struct pctx *c, pid_t r, int st)
{
    if (r > 0) {
        X(c)->status = st;
        if (r != X(c)->pid) X(c)->aux = 1; /* wrong pid */
    }
    return r;
}

static long call_wait(struct pctx *c)
{
    int st = 0;
    pid_t r = wait(&st);
    return check_pid(c, r, st);
}

static long call_waitpid(struct pctx *c)
{
    int st = 0;
    pid_t r = waitpid(X(c)->pid, &st, 0);
    return check_pid(c, r, st);
}

static long call_waitid(struct pctx *c)
{
    siginfo_t si;
    int r;
    memset(&si, 0, sizeof si);
    r = waitid(P_PID, (id_t)X(c)->pid, &si, WEXITED);
    if (r == 0) {
        /* encode as a wait status */
        int st = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
        check_pid(c, si.si_pid, st);
    }
    return r;
}

static long call_wait3(struct pctx *c)
{
    int st = 0;
    struct rusage ru;
    pid_t r = wait3(&st, 0, &ru);
    return check_pid(c, r, st);
}

static long call_wait4(struct pctx *c)
{
    int st = 0;
    struct rusage ru;
    pid_t r = wait4(X(c)->pid, &st, 0, &ru);
    return check_pid(c, r, st);
}

static void describe_status(struct xctx *x, char *buf, size_t size)
{
    char s[32];
    wstatus_str(x->status, s, sizeof s);
    snprintf(buf, size, "status=%s%s", s, x->aux ? " wrong-pid" : "");
}

/* ----------------------------------------------------------- system */

static int setup_system(struct pctx *c, int block)
{
    (void)block;
    pctx_path(c, ".sys");
    unlink(c->path);
    return 0;
}

static long call_system(struct pctx *c)
{
    char cmd[192];
    int st;
    snprintf(cmd, sizeof cmd, ": >'%s'", c->path);
    st = system(cmd);
    if (st != -1) X(c)->status = st;
    return st == -1 ? -1 : 0;
}

static int effect_created(struct pctx *c) { return access(c->path, F_OK) == 0; }

static void describe_system(struct xctx *x, char *buf, size_t size)
{
    char s[32];
    wstatus_str(x->status, s, sizeof s);
    snprintf(buf, size, "status=%s", s);
}

/* ---------------------------------------------------------- tcdrain */

/* fd[0] = pty master, fd[1] = its slave. */
static int setup_pty(struct pctx *c, int block)
{
    const char *name;
    (void)block;
    c->fd[0] = posix_openpt(O_RDWR | O_NOCTTY);
    if (c->fd[0] < 0) return -1;
    if (fcntl(c->fd[0], F_SETFD, FD_CLOEXEC) != 0) return -1;
    if (grantpt(c->fd[0]) != 0 || unlockpt(c->fd[0]) != 0) return -1;
    name = ptsname(c->fd[0]);
    if (!name) return -1;
    c->fd[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    return c->fd[1] < 0 ? -1 : 0;
}

static int setup_pipe(struct pctx *c, int block)
{
    (void)block;
    make_pipe(c->fd);
    return 0;
}

static long call_tcdrain(struct pctx *c) { return tcdrain(c->fd[1]); }

/* ------------------------------------------------------------ table */

#define P(name, effect, setup, call, eff) { name, effect, 1, setup, call, eff, xteardown }
#define EXIT7 "status=exit:7"
#define KILLED "ok status=signal:9"

static const struct xpoint points[] = {
    { P("wait", "reaped", setup_child, call_wait, effect_reaped),
      XM_ALL, 0, NULL, EXIT7, NULL, describe_status, release_kill, 0 },
    { P("waitpid", "reaped", setup_child, call_waitpid, effect_reaped),
      XM_ALL, 0, NULL, EXIT7, NULL, describe_status, release_kill, 0 },
    { P("waitid", "reaped", setup_child, call_waitid, effect_reaped),
      XM_ALL, 0, NULL, EXIT7, NULL, describe_status, release_kill, 0 },
    { P("wait3", "reaped", setup_child, call_wait3, effect_reaped),
      XM_ALL, 1, NULL, EXIT7, KILLED, describe_status, release_kill, 0 },
    { P("wait4", "reaped", setup_child, call_wait4, effect_reaped),
      XM_ALL, 1, NULL, EXIT7, KILLED, describe_status, release_kill, 0 },
    { P("system", "created", setup_system, call_system, effect_created),
      XM_NOBLOCK, 0, NULL, "status=exit:0", NULL, describe_system, NULL, 0 },
    { P("tcdrain", NULL, setup_pty, call_tcdrain, NULL),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("tcdrain-pipe", NULL, setup_pipe, call_tcdrain, NULL),
      XM_NOBLOCK, 0, "err:ENOTTY", NULL, NULL, NULL, NULL, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
