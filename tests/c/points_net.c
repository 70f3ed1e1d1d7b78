/*
 * points_net.c -- socket cancellation points:
 *     accept accept4 connect recv recvfrom recvmsg send sendto sendmsg
 *
 * Modes and expectations: see points.h.  All sockets are AF_UNIX stream
 * sockets; listeners use abstract addresses (nothing to clean up on disk).
 * Effects observed:
 *   accept/accept4      accepted=   the queued connection was taken off
 *                                    the listener (main tries a
 *                                    non-blocking accept afterwards)
 *   connect             connected=  a connection reached the listener
 *   recv/recvfrom/recvmsg consumed= the byte waiting was read
 *   send/sendto/sendmsg written=    a byte reached the peer
 * Blocking set-ups: accept on a listener with no client; connect to a
 * listener made with listen(fd, 0) whose backlog was filled with
 * non-blocking clients until EAGAIN; recv on an empty socketpair; send on
 * a socketpair whose send buffer is full.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_net.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.  Plain glibc 2.36
 * (no ptcancel), x86_64 and i386: every line the same as musl.
 */
#include "points.h"
#include <sys/uio.h>

static int addr_counter;

/* A fresh abstract AF_UNIX address in c->addr. */
static void make_addr(struct pctx *c)
{
    memset(&c->addr, 0, sizeof c->addr);
    c->addr.sun_family = AF_UNIX;
    /* sun_path[0] == 0: abstract namespace */
    snprintf(c->addr.sun_path + 1, sizeof c->addr.sun_path - 1,
             "ptcancel-test-%d-%d", (int)getpid(), addr_counter++);
    c->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                             strlen(c->addr.sun_path + 1));
}

static int stream_socket(void) { return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); }

/* Listening socket in fd[0] with the given backlog. */
static int make_listener(struct pctx *c, int backlog)
{
    make_addr(c);
    c->fd[0] = stream_socket();
    if (c->fd[0] < 0) return -1;
    if (bind(c->fd[0], (struct sockaddr *)&c->addr, c->addrlen) != 0) return -1;
    return listen(c->fd[0], backlog);
}

/* Non-blocking accept on the listener from main: 1 if the queue was empty. */
static int effect_accepted(struct pctx *c)
{
    int a;
    set_nonblock(c->fd[0], 1);
    a = accept(c->fd[0], NULL, NULL);
    if (a >= 0) {
        close(a);
        return 0;
    }
    return 1;
}

/* -------------------------------------------------------- accept(4) */

/* READY: one client connected and waiting in the queue (fd[1]). */
static int setup_accept(struct pctx *c, int block)
{
    if (make_listener(c, 4) != 0) return -1;
    if (!block) {
        c->fd[1] = stream_socket();
        if (c->fd[1] < 0) return -1;
        if (connect(c->fd[1], (struct sockaddr *)&c->addr, c->addrlen) != 0) return -1;
    }
    return 0;
}

static long call_accept(struct pctx *c) { return accept(c->fd[0], NULL, NULL); }

static long call_accept4(struct pctx *c)
{
    return accept4(c->fd[0], NULL, NULL, SOCK_CLOEXEC);
}

/* ---------------------------------------------------------- connect */

/*
 * listen(fd, 0).  BLOCKED: fill the backlog with non-blocking clients
 * until one gets EAGAIN; a blocking connect then waits for room.
 * The thread connects with fd[1].
 */
static int setup_connect(struct pctx *c, int block)
{
    int i, s;
    if (make_listener(c, 0) != 0) return -1;
    if (block) {
        for (i = 0;; i++) {
            s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (s < 0) return -1;
            if (connect(s, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
                int e = errno;
                close(s);
                if (e == EAGAIN) break;
                return -1;
            }
            if (i == 8) { /* backlog never filled up */
                close(s);
                errno = ENOSPC;
                return -1;
            }
            c->extra[i] = s;
        }
    }
    c->fd[1] = stream_socket();
    return c->fd[1] < 0 ? -1 : 0;
}

static long call_connect(struct pctx *c)
{
    return connect(c->fd[1], (struct sockaddr *)&c->addr, c->addrlen);
}

/* READY mode only: the queue was empty before the call. */
static int effect_connected(struct pctx *c) { return !effect_accepted(c); }

/* ------------------------------------------------------ recv family */

/* Socketpair: thread reads fd[0]; fd[1] is the peer.
 * READY: one byte waiting. */
static int setup_pair_data(struct pctx *c, int block)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) != 0) return -1;
    if (!block && write(c->fd[1], "x", 1) != 1) return -1;
    return 0;
}

static long call_recv(struct pctx *c)
{
    char b;
    return recv(c->fd[0], &b, 1, 0);
}

static long call_recvfrom(struct pctx *c)
{
    char b;
    return recvfrom(c->fd[0], &b, 1, 0, NULL, NULL);
}

static long call_recvmsg(struct pctx *c)
{
    char b;
    struct iovec iov = { &b, 1 };
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    return recvmsg(c->fd[0], &mh, 0);
}

/* ------------------------------------------------------ send family */

/* Socketpair: thread writes fd[1]; main observes fd[0].
 * BLOCKED: fd[1]'s send buffer is full. */
static int setup_pair_space(struct pctx *c, int block)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->fd) != 0) return -1;
    if (block) fill_fd(c->fd[1]);
    return 0;
}

static long call_send(struct pctx *c) { return send(c->fd[1], "x", 1, 0); }

static long call_sendto(struct pctx *c) { return sendto(c->fd[1], "x", 1, 0, NULL, 0); }

static long call_sendmsg(struct pctx *c)
{
    struct iovec iov = { (void *)"x", 1 };
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    return sendmsg(c->fd[1], &mh, 0);
}

/* ------------------------------------------------------------ table */

static const struct point points[] = {
    { "accept", "accepted", 1, setup_accept, call_accept, effect_accepted, teardown_newfd },
    { "accept4", "accepted", 1, setup_accept, call_accept4, effect_accepted, teardown_newfd },
    { "connect", "connected", 1, setup_connect, call_connect, effect_connected, teardown_fds },
    { "recv", "consumed", 1, setup_pair_data, call_recv, effect_consumed, teardown_fds },
    { "recvfrom", "consumed", 1, setup_pair_data, call_recvfrom, effect_consumed, teardown_fds },
    { "recvmsg", "consumed", 1, setup_pair_data, call_recvmsg, effect_consumed, teardown_fds },
    { "send", "written", 1, setup_pair_space, call_send, effect_written, teardown_fds },
    { "sendto", "written", 1, setup_pair_space, call_sendto, effect_written, teardown_fds },
    { "sendmsg", "written", 1, setup_pair_space, call_sendmsg, effect_written, teardown_fds },
};

int main(void)
{
    test_init();
    run_points(points, sizeof points / sizeof points[0]);
    return test_finish();
}
