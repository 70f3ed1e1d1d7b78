/*
 * points_abi64.c -- cancellation points reached through glibc's
 * large-file and 64-bit-time symbol names.
 *
 * This file defines _FILE_OFFSET_BITS=64 and _TIME_BITS=64 before any
 * header.  glibc's headers then redirect many calls to other symbols,
 * which an LD_PRELOAD library must interpose as well:
 *   every ABI:  open64 openat64 creat64 pread64 pwrite64 fcntl64 lockf64
 *               preadv64 pwritev64 (preadv64v2 pwritev64v2: glibc_misc.c
 *               does not use these names)
 *   i386 only (_TIME_BITS=64): __fcntl_time64 (instead of fcntl64)
 *               __nanosleep64 __clock_nanosleep_time64 __ppoll64
 *               __pselect64 __select64 __sigtimedwait64
 *               __mq_timedreceive_time64 __mq_timedsend_time64
 *               __recvmmsg64 __sendmmsg64 __recvmsg64 __sendmsg64
 *               __wait3_time64 __wait4_time64
 *               (glibc_misc.c: __epoll_pwait2_time64)
 * `nm -u` on the glibc builds shows them.  musl 1.2.3 ignores both
 * macros (off_t and time_t are always 64-bit there), so the program is
 * musl-validated like the others.
 *
 * The cases repeat ones from points_io.c, points_net.c, points_time.c,
 * points_sync.c, points_ipc.c, points_signal.c, points_wait.c and
 * points_misc.c with the simplest set-ups.  Modes, lines and the release
 * mechanism: see xpoints.h.  Most points have -pending and -disabled
 * lines only; the ones musl does NOT treat as cancellation points
 * (fcntl F_OFD_SETLKW and F_GETFD, wait3, wait4) and fcntl F_SETLKW also
 * have -blocked lines, because those are the lines where glibc's own
 * behaviour differs from musl's, so they show whether the redirected
 * symbols are covered.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_abi64.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386
 * differs in the same lines as points_sync.c and points_wait.c (glibc
 * cancels in F_OFD_SETLKW, wait3 and wait4):
 *   fcntl-ofd-setlkw-blocked: canceled cleanup=1
 *   fcntl-ofd-setlkw-pending: canceled cleanup=1 locked=0
 *   wait3-blocked / wait4-blocked: canceled cleanup=1
 *   wait3-pending / wait4-pending: canceled cleanup=1 reaped=0
 */
#define _FILE_OFFSET_BITS 64
#define _TIME_BITS 64
#include "xpoints.h"
#include <mqueue.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ------------------------------------------------------------ files */

static int setup_file_data(struct pctx *c, int block)
{
    (void)block;
    return xsetup_file(c, "abcdef");
}

static int setup_file_empty(struct pctx *c, int block)
{
    (void)block;
    return xsetup_file(c, "");
}

/* open/openat: an existing file (openat: the directory in fd[1]). */
static int setup_open(struct pctx *c, int block)
{
    if (setup_file_data(c, block) != 0) return -1;
    close_if(&c->fd[0]);
    c->fd[1] = open(tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return c->fd[1] < 0 ? -1 : 0;
}

static long call_open(struct pctx *c) { return open(c->path, O_RDONLY | O_CLOEXEC); }

static long call_openat(struct pctx *c)
{
    return openat(c->fd[1], strrchr(c->path, '/') + 1, O_RDONLY | O_CLOEXEC);
}

static int setup_creat(struct pctx *c, int block)
{
    (void)block;
    pctx_path(c, ".new");
    unlink(c->path);
    return 0;
}

static long call_creat(struct pctx *c) { return creat(c->path, 0600); }

static int effect_created(struct pctx *c) { return access(c->path, F_OK) == 0; }

static void teardown_newfile(struct pctx *c)
{
    int r = pctx_result_fd(c);
    close_if(&r);
    xteardown(c);
}

static long call_pread(struct pctx *c)
{
    long r = pread(c->fd[0], X(c)->out, 2, 1);
    if (r >= 0) X(c)->out[r] = 0;
    return r;
}

static long call_pwrite(struct pctx *c) { return pwrite(c->fd[0], "xy", 2, 2); }

static long call_preadv(struct pctx *c)
{
    char *o = X(c)->out;
    struct iovec iov[2] = { { o, 2 }, { o + 2, 2 } };
    long r = preadv(c->fd[0], iov, 2, 1);
    if (r >= 0) o[r] = 0;
    return r;
}

static long call_pwritev(struct pctx *c)
{
    struct iovec iov[2] = { { (void *)"ab", 2 }, { (void *)"c", 1 } };
    return pwritev(c->fd[0], iov, 2, 4);
}

static void describe_data(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld data=%s", x->c.ret, x->out);
}

static void describe_n(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld", x->c.ret);
}

/* ------------------------------------------------------------ locks */

static void flock_whole(struct flock *l)
{
    memset(l, 0, sizeof *l);
    l->l_type = F_WRLCK;
    l->l_whence = SEEK_SET;
}

static int effect_locked(struct pctx *c)
{
    struct flock l;
    int fd = open(c->path, O_RDWR | O_CLOEXEC), r;
    if (fd < 0) return -1;
    flock_whole(&l);
    r = fcntl(fd, F_OFD_GETLK, &l);
    close(fd);
    return r != 0 ? -1 : l.l_type != F_UNLCK;
}

struct holder { int fd, pipe_w; };

static int lock_holder(void *arg)
{
    struct holder *h = arg;
    struct flock l;
    flock_whole(&l);
    if (write(h->pipe_w, fcntl(h->fd, F_SETLK, &l) == 0 ? "k" : "e", 1) != 1) return 2;
    for (;;)
        pause();
    return 0; /* not reached */
}

/* BLOCKED: a child holds a POSIX write lock on the file. */
static int setup_posix_lock(struct pctx *c, int block)
{
    struct holder h;
    int p[2];
    char b = 0;
    if (xsetup_file(c, "data") != 0) return -1;
    if (!block) return 0;
    make_pipe(p);
    h.fd = c->fd[0];
    h.pipe_w = p[1];
    X(c)->pid = fork_child(lock_holder, &h);
    close(p[1]);
    if (X(c)->pid < 0 || read(p[0], &b, 1) != 1 || b != 'k') b = 0;
    close(p[0]);
    if (!b) errno = EDEADLK;
    return b ? 0 : -1;
}

/* BLOCKED: main holds an OFD write lock through fd[1]. */
static int setup_ofd_lock(struct pctx *c, int block)
{
    struct flock l;
    if (xsetup_file(c, "data") != 0) return -1;
    if (!block) return 0;
    c->fd[1] = open(c->path, O_RDWR | O_CLOEXEC);
    if (c->fd[1] < 0) return -1;
    flock_whole(&l);
    return fcntl(c->fd[1], F_OFD_SETLK, &l);
}

static void release_kill_child(struct xctx *x) { xctx_reap(x); }
static void release_ofd(struct xctx *x) { close_if(&x->c.fd[1]); }

static long call_setlkw(struct pctx *c)
{
    struct flock l;
    flock_whole(&l);
    return fcntl(c->fd[0], F_SETLKW, &l);
}

static long call_ofd_setlkw(struct pctx *c)
{
    struct flock l;
    flock_whole(&l);
    return fcntl(c->fd[0], F_OFD_SETLKW, &l);
}

static long call_getfd(struct pctx *c) { return fcntl(c->fd[0], F_GETFD); }

static long call_lockf(struct pctx *c) { return lockf(c->fd[0], F_LOCK, 0); }

/* ------------------------------------------------------------ sleeps */

static int setup_none(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    return 0;
}

static long call_nanosleep(struct pctx *c)
{
    struct timespec ts = { 0, 0 };
    (void)c;
    return nanosleep(&ts, NULL);
}

static long call_clock_nanosleep(struct pctx *c)
{
    struct timespec ts = { 0, 0 };
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    (void)c;
    if (r != 0) {
        errno = r;
        return -1;
    }
    return 0;
}

/* ------------------------------------------- pipes, sockets, polling */

/* Pipe (socketpair for the *msg calls) with one byte waiting in fd[0]. */
static int setup_data(struct pctx *c, int block)
{
    (void)block;
    if (strstr(c->p->name, "msg")) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) != 0) return -1;
    } else {
        make_pipe(c->fd);
    }
    return write(c->fd[1], "x", 1) == 1 ? 0 : -1;
}

/* Empty socketpair (the thread writes fd[1]). */
static int setup_empty_pair(struct pctx *c, int block)
{
    (void)block;
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd);
}

static long call_ppoll(struct pctx *c)
{
    struct pollfd p = { c->fd[0], POLLIN, 0 };
    struct timespec ts = { 100, 0 };
    return ppoll(&p, 1, &ts, NULL);
}

static long call_pselect(struct pctx *c)
{
    fd_set r;
    struct timespec ts = { 100, 0 };
    FD_ZERO(&r);
    FD_SET(c->fd[0], &r);
    return pselect(c->fd[0] + 1, &r, NULL, NULL, &ts, NULL);
}

static long call_select(struct pctx *c)
{
    fd_set r;
    struct timeval tv = { 100, 0 };
    FD_ZERO(&r);
    FD_SET(c->fd[0], &r);
    return select(c->fd[0] + 1, &r, NULL, NULL, &tv);
}

static void init_msg(struct msghdr *m, struct iovec *iov, void *b)
{
    memset(m, 0, sizeof *m);
    iov->iov_base = b;
    iov->iov_len = 1;
    m->msg_iov = iov;
    m->msg_iovlen = 1;
}

static long call_recvmsg(struct pctx *c)
{
    char b;
    struct iovec iov;
    struct msghdr m;
    init_msg(&m, &iov, &b);
    return recvmsg(c->fd[0], &m, 0);
}

static long call_sendmsg(struct pctx *c)
{
    struct iovec iov;
    struct msghdr m;
    init_msg(&m, &iov, (void *)"x");
    return sendmsg(c->fd[1], &m, 0);
}

static long call_recvmmsg(struct pctx *c)
{
    char b;
    struct iovec iov;
    struct mmsghdr m;
    struct timespec ts = { 100, 0 };
    memset(&m, 0, sizeof m);
    init_msg(&m.msg_hdr, &iov, &b);
    return recvmmsg(c->fd[0], &m, 1, 0, &ts);
}

static long call_sendmmsg(struct pctx *c)
{
    struct iovec iov;
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    init_msg(&m.msg_hdr, &iov, (void *)"x");
    return sendmmsg(c->fd[1], &m, 1, 0);
}

/* ---------------------------------------------------- sigtimedwait */

static int usr1_pending(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigpending(&s);
    return sigismember(&s, SIGUSR1) == 1;
}

static void drain_usr1(void)
{
    sigset_t s;
    struct timespec zero = { 0, 0 };
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    while (usr1_pending() && syscall(SYS_rt_sigtimedwait, &s, NULL, &zero, 8) > 0)
        ;
}

/* SIGUSR1 (blocked in every thread) pending for the process. */
static int setup_usr1(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    drain_usr1();
    return kill(getpid(), SIGUSR1);
}

static long call_sigtimedwait(struct pctx *c)
{
    sigset_t s;
    siginfo_t si;
    struct timespec ts = { 100, 0 };
    (void)c;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    return sigtimedwait(&s, &si, &ts);
}

static int effect_sig_consumed(struct pctx *c)
{
    (void)c;
    return !usr1_pending();
}

static void teardown_usr1(struct pctx *c)
{
    drain_usr1();
    xteardown(c);
}

/* ------------------------------------------------------ POSIX mq */

/* fd[0] = queue (maxmsg 1): receive: one message waiting; send: empty. */
static int setup_mq(struct pctx *c, int block)
{
    struct xctx *x = X(c);
    struct mq_attr a;
    mqd_t q;
    (void)block;
    memset(&a, 0, sizeof a);
    a.mq_maxmsg = 1;
    a.mq_msgsize = 16;
    snprintf(x->name, sizeof x->name, "/ptcancel-test-%d-%s", (int)getpid(), c->p->name);
    q = mq_open(x->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
    if (q == (mqd_t)-1) return -1;
    mq_unlink(x->name);
    c->fd[0] = (int)q;
    if (strstr(c->p->name, "receive") && mq_send(q, "hello", 5, 0) != 0) return -1;
    return 0;
}

static long mq_count(struct pctx *c)
{
    struct mq_attr a;
    return mq_getattr((mqd_t)c->fd[0], &a) == 0 ? a.mq_curmsgs : -1;
}

static int effect_mq_consumed(struct pctx *c) { return mq_count(c) == 0; }
static int effect_mq_written(struct pctx *c) { return mq_count(c) == 1; }

static void teardown_mq(struct pctx *c)
{
    if (c->fd[0] >= 0) mq_close((mqd_t)c->fd[0]);
    c->fd[0] = -1;
    xteardown(c);
}

static struct timespec deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 100;
    return ts;
}

static long call_mq_timedreceive(struct pctx *c)
{
    char buf[16];
    struct timespec ts = deadline();
    return mq_timedreceive((mqd_t)c->fd[0], buf, sizeof buf, NULL, &ts);
}

static long call_mq_timedsend(struct pctx *c)
{
    struct timespec ts = deadline();
    return mq_timedsend((mqd_t)c->fd[0], "sent", 4, 0, &ts);
}

/* ------------------------------------------------------- wait3/wait4 */

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

static long call_wait3(struct pctx *c)
{
    int st = 0;
    struct rusage ru;
    pid_t r = wait3(&st, 0, &ru);
    if (r > 0) X(c)->status = st;
    return r;
}

static long call_wait4(struct pctx *c)
{
    int st = 0;
    struct rusage ru;
    pid_t r = wait4(X(c)->pid, &st, 0, &ru);
    if (r > 0) X(c)->status = st;
    return r;
}

static void describe_status(struct xctx *x, char *buf, size_t size)
{
    char s[32];
    wstatus_str(x->status, s, sizeof s);
    snprintf(buf, size, "status=%s", s);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, setup, call, eff, td) { name, effect, 1, setup, call, eff, td }
#define NOREL NULL, NULL, NULL, NULL, NULL, 0

static const struct xpoint points[] = {
    /* _FILE_OFFSET_BITS=64 names */
    { P("open", "opened", setup_open, call_open, effect_new_fd, teardown_newfile), XM_NOBLOCK, 0, NOREL },
    { P("openat", "opened", setup_open, call_openat, effect_new_fd, teardown_newfile), XM_NOBLOCK, 0, NOREL },
    { P("creat", "created", setup_creat, call_creat, effect_created, teardown_newfile), XM_NOBLOCK, 0, NOREL },
    { P("pread", NULL, setup_file_data, call_pread, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, "n=2 data=bc", NULL, describe_data, NULL, 0 },
    { P("pwrite", "written", setup_file_empty, call_pwrite, effect_file_nonempty, xteardown),
      XM_NOBLOCK, 0, NULL, "n=2", NULL, describe_n, NULL, 0 },
    { P("preadv", NULL, setup_file_data, call_preadv, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, "n=4 data=bcde", NULL, describe_data, NULL, 0 },
    { P("pwritev", "written", setup_file_empty, call_pwritev, effect_file_nonempty, xteardown),
      XM_NOBLOCK, 0, NULL, "n=3", NULL, describe_n, NULL, 0 },
    { P("fcntl-setlkw", "locked", setup_posix_lock, call_setlkw, effect_locked, xteardown),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_kill_child, 0 },
    { P("fcntl-ofd-setlkw", "locked", setup_ofd_lock, call_ofd_setlkw, effect_locked, xteardown),
      XM_ALL, 1, NULL, NULL, NULL, NULL, release_ofd, 0 },
    { P("fcntl-getfd", NULL, setup_file_data, call_getfd, NULL, xteardown), XM_NOBLOCK, 1, NOREL },
    { P("lockf", "locked", setup_posix_lock, call_lockf, effect_locked, xteardown),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_kill_child, 0 },
    /* _TIME_BITS=64 names (i386) */
    { P("nanosleep", NULL, setup_none, call_nanosleep, NULL, xteardown), XM_NOBLOCK, 0, NOREL },
    { P("clock_nanosleep", NULL, setup_none, call_clock_nanosleep, NULL, xteardown), XM_NOBLOCK, 0, NOREL },
    { P("ppoll", NULL, setup_data, call_ppoll, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("pselect", NULL, setup_data, call_pselect, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("select", NULL, setup_data, call_select, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("recvmsg", "consumed", setup_data, call_recvmsg, effect_consumed, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("sendmsg", "written", setup_empty_pair, call_sendmsg, effect_written, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("recvmmsg", "consumed", setup_data, call_recvmmsg, effect_consumed, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("sendmmsg", "written", setup_empty_pair, call_sendmmsg, effect_written, xteardown),
      XM_NOBLOCK, 0, NULL, "n=1", NULL, describe_n, NULL, 0 },
    { P("sigtimedwait", "consumed", setup_usr1, call_sigtimedwait, effect_sig_consumed, teardown_usr1),
      XM_NOBLOCK, 0, NOREL },
    { P("mq_timedreceive", "consumed", setup_mq, call_mq_timedreceive, effect_mq_consumed, teardown_mq),
      XM_NOBLOCK, 0, NOREL },
    { P("mq_timedsend", "written", setup_mq, call_mq_timedsend, effect_mq_written, teardown_mq),
      XM_NOBLOCK, 0, NOREL },
    { P("wait3", "reaped", setup_child, call_wait3, effect_reaped, xteardown),
      XM_ALL, 1, NULL, "status=exit:7", "ok status=signal:9", describe_status, release_kill, 0 },
    { P("wait4", "reaped", setup_child, call_wait4, effect_reaped, xteardown),
      XM_ALL, 1, NULL, "status=exit:7", "ok status=signal:9", describe_status, release_kill, 0 },
};

int main(void)
{
    sigset_t s;
    test_init();
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* before any thread exists */
    run_xpoints(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
