/*
 * glibc_misc.c (glibc only) -- cancellation points musl 1.2.3 lacks:
 *     epoll_pwait2 preadv2 pwritev2
 *
 * musl 1.2.3 has no epoll_pwait2, preadv2 or pwritev2 (neither in its
 * headers nor in libc.a), so this program cannot be validated against
 * musl.  Its reference is plain glibc 2.36 (expected/glibc_misc.out); the
 * cases are built so that glibc's behaviour is the one musl shows for the
 * equivalent calls (epoll_pwait, readv/writev, preadv/pwritev in
 * points_misc.c and points_io.c): blocked -> canceled, pending -> canceled
 * before the side effect, disabled -> normal result then canceled.
 *
 * Modes, lines and the release mechanism: see xpoints.h.
 *   epoll_pwait2: like epoll_pwait in points_misc.c (pipe watched with
 *     EPOLLIN|EPOLLONESHOT, NULL timeout = wait forever, empty signal
 *     mask).  Effect consumed= the event was reported.
 *   preadv2-pipe, pwritev2-pipe: offset -1 (use and update the current
 *     position, like readv/writev), flags 0, on a pipe, so they block:
 *     read on an empty pipe, write on a full one.  Effects consumed= /
 *     written= as in points_io.c.
 *   preadv2-file, pwritev2-file: real offsets on a regular file, flags 0;
 *     they cannot block: -pending and -disabled only.
 *
 * Build: gcc -O2 -pthread -Wall -Wextra glibc_misc.c   (glibc >= 2.35 for
 * epoll_pwait2, >= 2.26 for preadv2/pwritev2; kernel >= 5.11 for
 * epoll_pwait2)
 *
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, prints
 * exactly expected/glibc_misc.out and exits 0.  It does not build with
 * musl-gcc.
 */
#include "xpoints.h"
#include <sys/epoll.h>
#include <sys/uio.h>

/* ----------------------------------------------------- epoll_pwait2 */

/* fd[0]/fd[1] = pipe, fd[2] = epoll fd watching fd[0]. */
static int setup_epoll(struct pctx *c, int block)
{
    struct epoll_event ev;
    make_pipe(c->fd);
    c->fd[2] = epoll_create1(EPOLL_CLOEXEC);
    if (c->fd[2] < 0) return -1;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLONESHOT;
    if (epoll_ctl(c->fd[2], EPOLL_CTL_ADD, c->fd[0], &ev) != 0) return -1;
    if (!block && write(c->fd[1], "x", 1) != 1) return -1;
    return 0;
}

static long call_epoll_pwait2(struct pctx *c)
{
    struct epoll_event ev;
    sigset_t none;
    sigemptyset(&none);
    return epoll_pwait2(c->fd[2], &ev, 1, NULL, &none);
}

static int effect_epoll_consumed(struct pctx *c)
{
    struct epoll_event ev;
    return epoll_wait(c->fd[2], &ev, 1, 0) == 0;
}

static void describe_events(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "events=%ld", x->c.ret);
}

static void describe_n(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld", x->c.ret);
}

/* ------------------------------------------- preadv2/pwritev2, pipes */

/* Pipe; the reading case: READY has a byte waiting; the writing case:
 * BLOCKED has the pipe full. */
static int setup_pipe(struct pctx *c, int block)
{
    int is_write = strstr(c->p->name, "write") != NULL;
    make_pipe(c->fd);
    if (is_write) {
        if (block) fill_fd(c->fd[1]);
    } else if (!block && write(c->fd[1], "x", 1) != 1) {
        return -1;
    }
    return 0;
}

static long call_preadv2_pipe(struct pctx *c)
{
    char b;
    struct iovec iov = { &b, 1 };
    return preadv2(c->fd[0], &iov, 1, -1, 0);
}

static long call_pwritev2_pipe(struct pctx *c)
{
    struct iovec iov = { (void *)"x", 1 };
    return pwritev2(c->fd[1], &iov, 1, -1, 0);
}

/* -------------------------------------------- preadv2/pwritev2, files */

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

static long call_preadv2_file(struct pctx *c)
{
    char *o = X(c)->out;
    struct iovec iov[2] = { { o, 2 }, { o + 2, 2 } };
    long r = preadv2(c->fd[0], iov, 2, 1, 0);
    if (r >= 0) o[r] = 0;
    return r;
}

static void describe_read(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld data=%s", x->c.ret, x->out);
}

static long call_pwritev2_file(struct pctx *c)
{
    struct iovec iov[2] = { { (void *)"ab", 2 }, { (void *)"c", 1 } };
    return pwritev2(c->fd[0], iov, 2, 4, 0);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, can_block, setup, call, eff) { name, effect, can_block, setup, call, eff, xteardown }

static const struct xpoint points[] = {
    { P("epoll_pwait2", "consumed", 1, setup_epoll, call_epoll_pwait2, effect_epoll_consumed),
      XM_ALL, 0, NULL, "events=1", NULL, describe_events, release_write_byte, 0 },
    { P("preadv2-pipe", "consumed", 1, setup_pipe, call_preadv2_pipe, effect_consumed),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_write_byte, 0 },
    { P("pwritev2-pipe", "written", 1, setup_pipe, call_pwritev2_pipe, effect_written),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_drain, 0 },
    { P("preadv2-file", NULL, 0, setup_file_data, call_preadv2_file, NULL),
      XM_NOBLOCK, 0, NULL, "n=4 data=bcde", NULL, describe_read, NULL, 0 },
    { P("pwritev2-file", "written", 0, setup_file_empty, call_pwritev2_file, effect_file_nonempty),
      XM_NOBLOCK, 0, NULL, "n=3", NULL, describe_n, NULL, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
