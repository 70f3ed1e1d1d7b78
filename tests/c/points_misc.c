/*
 * points_misc.c -- epoll, vectored positional I/O, multi-message sockets,
 * getrandom:
 *     epoll_wait epoll_pwait preadv pwritev recvmmsg sendmmsg getrandom
 *
 * (musl 1.2.3 has no epoll_pwait2, preadv2 or pwritev2: those are in
 * glibc_misc.c.)
 *
 * Modes, lines and the release mechanism: see xpoints.h.  Effects:
 *   consumed=  epoll: the (EPOLLONESHOT) event was reported, so a later
 *              epoll_wait with timeout 0 from main sees nothing;
 *              recvmmsg: the byte waiting in the socket was read
 *   written=   pwritev: the file is no longer empty;
 *              sendmmsg: a byte arrived at the peer
 * Details: events=N (epoll), n=N (bytes moved / messages / random bytes).
 * Set-ups:
 *   epoll_wait, epoll_pwait: an epoll fd watching the read end of a pipe
 *     for EPOLLIN|EPOLLONESHOT; BLOCKED: empty pipe, timeout -1;
 *     READY: one byte waiting.  epoll_pwait gets an empty signal mask.
 *     Release: a byte into the pipe.
 *   preadv, pwritev: a regular file with real offsets; they cannot block,
 *     so -pending and -disabled only.
 *   recvmmsg: a stream socketpair, vlen 1, no timeout; BLOCKED: nothing
 *     to read; READY: one byte waiting.  Release: a byte.
 *   sendmmsg: a stream socketpair, vlen 1; BLOCKED: the sending side is
 *     full (filled with O_NONBLOCK, then cleared); READY: empty.
 *     Release: main drains the peer.
 *   getrandom: 16 bytes, flags 0; cannot block once the kernel's pool is
 *     ready: -pending and -disabled only.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_misc.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every line the same as musl.
 */
#include "xpoints.h"
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* ------------------------------------------------------------ epoll */

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

static long call_epoll_wait(struct pctx *c)
{
    struct epoll_event ev;
    return epoll_wait(c->fd[2], &ev, 1, -1);
}

static long call_epoll_pwait(struct pctx *c)
{
    struct epoll_event ev;
    sigset_t none;
    sigemptyset(&none);
    return epoll_pwait(c->fd[2], &ev, 1, -1, &none);
}

/* The ONESHOT event was reported: nothing more to report now. */
static int effect_epoll_consumed(struct pctx *c)
{
    struct epoll_event ev;
    return epoll_wait(c->fd[2], &ev, 1, 0) == 0;
}

static void describe_events(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "events=%ld", x->c.ret);
}

/* Number of bytes / messages the call returned. */
static void describe_n(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld", x->c.ret);
}

/* ---------------------------------------------------- preadv/pwritev */

static int setup_preadv(struct pctx *c, int block)
{
    (void)block;
    return xsetup_file(c, "abcdef");
}

static int setup_pwritev(struct pctx *c, int block)
{
    (void)block;
    return xsetup_file(c, "");
}

/* Reads "bc" + "de" from offset 1. */
static long call_preadv(struct pctx *c)
{
    char *o = X(c)->out;
    struct iovec iov[2] = { { o, 2 }, { o + 2, 2 } };
    long r = preadv(c->fd[0], iov, 2, 1);
    if (r >= 0) o[r] = 0;
    return r;
}

static void describe_preadv(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld data=%s", x->c.ret, x->out);
}

static long call_pwritev(struct pctx *c)
{
    struct iovec iov[2] = { { (void *)"ab", 2 }, { (void *)"c", 1 } };
    return pwritev(c->fd[0], iov, 2, 4);
}

/* ------------------------------------------------ recvmmsg/sendmmsg */

/* fd[0] = the end the thread reads (or main reads, for sendmmsg),
 * fd[1] = the end written.  recvmmsg BLOCKED: nothing to read, READY: a
 * byte waiting.  sendmmsg BLOCKED: fd[1] full, READY: empty. */
static int setup_sockpair(struct pctx *c, int block)
{
    int is_send = strcmp(c->p->name, "sendmmsg") == 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) != 0) return -1;
    if (is_send) {
        if (block) fill_fd(c->fd[1]);
    } else if (!block && write(c->fd[1], "x", 1) != 1) {
        return -1;
    }
    return 0;
}

static long call_recvmmsg(struct pctx *c)
{
    char b;
    struct iovec iov = { &b, 1 };
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
    return recvmmsg(c->fd[0], &m, 1, 0, NULL);
}

static long call_sendmmsg(struct pctx *c)
{
    struct iovec iov = { (void *)"x", 1 };
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
    return sendmmsg(c->fd[1], &m, 1, 0);
}

/* -------------------------------------------------------- getrandom */

static int setup_none(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    return 0;
}

static long call_getrandom(struct pctx *c) { return getrandom(X(c)->out, 16, 0); }

/* ------------------------------------------------------------ table */

#define P(name, effect, can_block, setup, call, eff) { name, effect, can_block, setup, call, eff, xteardown }

static const struct xpoint points[] = {
    { P("epoll_wait", "consumed", 1, setup_epoll, call_epoll_wait, effect_epoll_consumed),
      XM_ALL, 0, NULL, "events=1", NULL, describe_events, release_write_byte, 0 },
    { P("epoll_pwait", "consumed", 1, setup_epoll, call_epoll_pwait, effect_epoll_consumed),
      XM_ALL, 0, NULL, "events=1", NULL, describe_events, release_write_byte, 0 },
    { P("preadv", NULL, 0, setup_preadv, call_preadv, NULL),
      XM_NOBLOCK, 0, NULL, "n=4 data=bcde", NULL, describe_preadv, NULL, 0 },
    { P("pwritev", "written", 0, setup_pwritev, call_pwritev, effect_file_nonempty),
      XM_NOBLOCK, 0, NULL, "n=3", NULL, describe_n, NULL, 0 },
    { P("recvmmsg", "consumed", 1, setup_sockpair, call_recvmmsg, effect_consumed),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_write_byte, 0 },
    { P("sendmmsg", "written", 1, setup_sockpair, call_sendmmsg, effect_written),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_drain, 0 },
    { P("getrandom", NULL, 0, setup_none, call_getrandom, NULL),
      XM_NOBLOCK, 0, NULL, "n=16", NULL, describe_n, NULL, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
