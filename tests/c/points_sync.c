/*
 * points_sync.c -- file locking and syncing:
 *     fcntl(F_SETLKW) fcntl(F_OFD_SETLKW) lockf(F_LOCK)
 *     fsync fdatasync msync
 * and two fcntl commands that are NOT cancellation points:
 *     fcntl(F_GETFD) fcntl(F_SETLK)
 *
 * Modes, lines and the release mechanism: see xpoints.h.  Effect observed:
 *   locked=  the file is write-locked by someone other than a fresh open
 *            file description (checked from main with F_OFD_GETLK on a new
 *            fd: OFD and POSIX locks conflict with each other).
 * BLOCKED set-ups:
 *   fcntl-setlkw, lockf: a forked child holds a POSIX write lock on the
 *     whole file (released by killing the child);
 *   fcntl-ofd-setlkw: main holds an OFD write lock through a second open
 *     file description (released by closing it).
 * fsync, fdatasync and msync (MS_SYNC on a MAP_SHARED file mapping) cannot
 * block for long, so they have -pending and -disabled lines only and no
 * effect to observe.
 *
 * musl 1.2.3 makes only F_SETLKW a cancellation point: its fcntl() calls
 * syscall_cp for `cmd == F_SETLKW` and a plain syscall for every other
 * command, F_OFD_SETLKW included.  So the expected lines are:
 *   fcntl-ofd-setlkw-blocked   the cancel does not end the wait; the call
 *                              returns ok once main drops its lock;
 *   fcntl-ofd-setlkw-pending   the call takes the lock (locked=1) and the
 *                              thread runs on (returned);
 *   fcntl-getfd/-setlk-pending the same: not cancellation points.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_sync.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every line the same except the F_OFD_SETLKW ones: glibc's fcntl makes
 * F_OFD_SETLKW a cancellation point too, so it prints
 *   fcntl-ofd-setlkw-blocked: canceled cleanup=1
 *   fcntl-ofd-setlkw-pending: canceled cleanup=1 locked=0
 */
#include "xpoints.h"
#include <sys/mman.h>

/* ------------------------------------------------------------ locks */

static void flock_whole(struct flock *l, short type)
{
    memset(l, 0, sizeof *l); /* l_pid must be 0 for the OFD commands */
    l->l_type = type;
    l->l_whence = SEEK_SET;
    l->l_start = 0;
    l->l_len = 0;
}

/* Is the file at c->path write-locked (seen from a new open file
 * description)? */
static int effect_locked(struct pctx *c)
{
    struct flock l;
    int fd = open(c->path, O_RDWR | O_CLOEXEC), r;
    if (fd < 0) return -1;
    flock_whole(&l, F_WRLCK);
    r = fcntl(fd, F_OFD_GETLK, &l);
    close(fd);
    if (r != 0) return -1;
    return l.l_type != F_UNLCK;
}

/* Child: take a POSIX write lock on fd, report on the pipe, wait to be
 * killed. */
struct holder { int fd, pipe_w; };

static int lock_holder(void *arg)
{
    struct holder *h = arg;
    struct flock l;
    flock_whole(&l, F_WRLCK);
    if (fcntl(h->fd, F_SETLK, &l) != 0) {
        if (write(h->pipe_w, "e", 1) != 1) return 2;
        return 1;
    }
    if (write(h->pipe_w, "k", 1) != 1) return 2;
    for (;;)
        pause();
}

/* File in fd[0].  BLOCKED: a child holds a POSIX write lock on it. */
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
    if (X(c)->pid < 0 || read(p[0], &b, 1) != 1 || b != 'k') {
        close(p[0]);
        errno = EDEADLK;
        return -1;
    }
    close(p[0]);
    return 0;
}

/* Killing the child drops its lock. */
static void release_kill_child(struct xctx *x) { xctx_reap(x); }

static long call_setlkw(struct pctx *c)
{
    struct flock l;
    flock_whole(&l, F_WRLCK);
    return fcntl(c->fd[0], F_SETLKW, &l);
}

static long call_lockf(struct pctx *c)
{
    if (lseek(c->fd[0], 0, SEEK_SET) != 0) return -1;
    return lockf(c->fd[0], F_LOCK, 0);
}

/* File in fd[0] (the thread's open file description).  BLOCKED: main
 * holds an OFD write lock through fd[1], a second open of the file. */
static int setup_ofd_lock(struct pctx *c, int block)
{
    struct flock l;
    if (xsetup_file(c, "data") != 0) return -1;
    if (!block) return 0;
    c->fd[1] = open(c->path, O_RDWR | O_CLOEXEC);
    if (c->fd[1] < 0) return -1;
    flock_whole(&l, F_WRLCK);
    return fcntl(c->fd[1], F_OFD_SETLK, &l);
}

/* Closing main's open file description drops its OFD lock. */
static void release_ofd(struct xctx *x) { close_if(&x->c.fd[1]); }

static long call_ofd_setlkw(struct pctx *c)
{
    struct flock l;
    flock_whole(&l, F_WRLCK);
    return fcntl(c->fd[0], F_OFD_SETLKW, &l);
}

/* ------------------------------------------- non-blocking fcntl commands */

static int setup_plain_file(struct pctx *c, int block)
{
    (void)block;
    return xsetup_file(c, "data");
}

static long call_getfd(struct pctx *c) { return fcntl(c->fd[0], F_GETFD); }

static long call_setlk(struct pctx *c)
{
    struct flock l;
    flock_whole(&l, F_WRLCK);
    return fcntl(c->fd[0], F_SETLK, &l);
}

/* F_GETFD returns FD_CLOEXEC here (the file was opened O_CLOEXEC). */
static void describe_getfd(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "cloexec=%d", x->c.ret == FD_CLOEXEC);
}

/* ------------------------------------------------------------- syncs */

static long call_fsync(struct pctx *c) { return fsync(c->fd[0]); }
static long call_fdatasync(struct pctx *c) { return fdatasync(c->fd[0]); }

/* A dirty 4 KiB MAP_SHARED mapping of the file. */
static int setup_msync(struct pctx *c, int block)
{
    struct xctx *x = X(c);
    (void)block;
    if (xsetup_file(c, "") != 0) return -1;
    if (ftruncate(c->fd[0], 4096) != 0) return -1;
    x->maplen = 4096;
    x->map = mmap(NULL, x->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd[0], 0);
    if (x->map == MAP_FAILED) {
        x->map = NULL;
        return -1;
    }
    memcpy(x->map, "dirty", 5);
    return 0;
}

static long call_msync(struct pctx *c) { return msync(X(c)->map, X(c)->maplen, MS_SYNC); }

static void teardown_msync(struct pctx *c)
{
    struct xctx *x = X(c);
    if (x->map) munmap(x->map, x->maplen);
    x->map = NULL;
    xteardown(c);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, setup, call, eff, td) { name, effect, 0, setup, call, eff, td }

static const struct xpoint points[] = {
    { P("fcntl-setlkw", "locked", setup_posix_lock, call_setlkw, effect_locked, xteardown),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_kill_child, 0 },
    { P("fcntl-ofd-setlkw", "locked", setup_ofd_lock, call_ofd_setlkw, effect_locked, xteardown),
      XM_ALL, 1, NULL, NULL, NULL, NULL, release_ofd, 0 },
    { P("lockf", "locked", setup_posix_lock, call_lockf, effect_locked, xteardown),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_kill_child, 0 },
    { P("fcntl-getfd", NULL, setup_plain_file, call_getfd, NULL, xteardown),
      XM_NOBLOCK, 1, NULL, "cloexec=1", NULL, describe_getfd, NULL, 0 },
    { P("fcntl-setlk", "locked", setup_plain_file, call_setlk, effect_locked, xteardown),
      XM_NOBLOCK, 1, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("fsync", NULL, setup_plain_file, call_fsync, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("fdatasync", NULL, setup_plain_file, call_fdatasync, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("msync", NULL, setup_msync, call_msync, NULL, teardown_msync),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
