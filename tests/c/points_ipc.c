/*
 * points_ipc.c -- message queues:
 *     mq_receive mq_timedreceive mq_send mq_timedsend   (POSIX)
 *     msgrcv msgsnd                                     (System V)
 *
 * Modes, lines and the release mechanism: see xpoints.h.  Effects:
 *   consumed=  the message waiting in the queue was taken
 *   written=   a message arrived in the queue
 * The -disabled lines also check what the call received ("msg=...").
 * Set-ups:
 *   POSIX: mq_open(O_CREAT|O_EXCL) of a name unique to the process and the
 *     point, mq_maxmsg 1, mq_msgsize 16; the name is unlinked at once (the
 *     descriptor stays usable), so nothing is left behind.  BLOCKED:
 *     empty (receive) or holding one message, i.e. full (send).
 *   SysV: msgget(IPC_PRIVATE) with msg_qbytes lowered to 16 (the owner may
 *     lower it); BLOCKED: empty (msgrcv) or holding one 16-byte message,
 *     i.e. full (msgsnd).  Removed with IPC_RMID in the teardown.
 *   READY: one message waiting (receive) / an empty queue (send).
 *   The timed calls get an absolute CLOCK_REALTIME timeout 100 s ahead.
 * Release (cancel did not act): main sends or receives one message.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_ipc.c
 * (glibc >= 2.34 has the mq_* functions in libc; older glibc needs -lrt.
 * musl has them in libc; -lrt is accepted and empty.)
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every line the same as musl.
 */
#include "xpoints.h"
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>

#define MSGSIZE 16

/* ---------------------------------------------------------- POSIX mq */

/* The queue descriptor lives in c->fd[0] (an fd on Linux with both libcs,
 * so the fd counting sees it); x->aux tells the teardown to mq_close it. */
static int setup_mq(struct pctx *c, int block)
{
    struct xctx *x = X(c);
    struct mq_attr a;
    int is_send = strstr(c->p->name, "send") != NULL;
    int preload = is_send ? block : !block; /* send: full; receive: ready */
    mqd_t q;

    memset(&a, 0, sizeof a);
    a.mq_maxmsg = 1;
    a.mq_msgsize = MSGSIZE;
    snprintf(x->name, sizeof x->name, "/ptcancel-test-%d-%s", (int)getpid(), c->p->name);
    q = mq_open(x->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &a);
    if (q == (mqd_t)-1) return -1;
    mq_unlink(x->name);
    c->fd[0] = (int)q;
    x->aux = 1;
    if (preload && mq_send(q, "hello", 5, 0) != 0) return -1;
    return 0;
}

static long mq_count(struct pctx *c)
{
    struct mq_attr a;
    if (mq_getattr((mqd_t)c->fd[0], &a) != 0) return -1;
    return a.mq_curmsgs;
}

static int effect_mq_consumed(struct pctx *c) { return mq_count(c) == 0; }
static int effect_mq_written(struct pctx *c) { return mq_count(c) == 1; }

static void teardown_mq(struct pctx *c)
{
    if (X(c)->aux) mq_close((mqd_t)c->fd[0]);
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

static long call_mq_receive(struct pctx *c)
{
    char *buf = X(c)->out;
    ssize_t n = mq_receive((mqd_t)c->fd[0], buf, MSGSIZE, NULL);
    if (n >= 0) buf[n] = 0;
    return n;
}

static long call_mq_timedreceive(struct pctx *c)
{
    char *buf = X(c)->out;
    struct timespec ts = deadline();
    ssize_t n = mq_timedreceive((mqd_t)c->fd[0], buf, MSGSIZE, NULL, &ts);
    if (n >= 0) buf[n] = 0;
    return n;
}

static long call_mq_send(struct pctx *c) { return mq_send((mqd_t)c->fd[0], "sent", 4, 0); }

static long call_mq_timedsend(struct pctx *c)
{
    struct timespec ts = deadline();
    return mq_timedsend((mqd_t)c->fd[0], "sent", 4, 0, &ts);
}

static void release_mq_send(struct xctx *x)
{
    if (mq_send((mqd_t)x->c.fd[0], "release", 7, 0) != 0) { /* nothing to do */ }
}

static void release_mq_receive(struct xctx *x)
{
    char buf[MSGSIZE];
    if (mq_receive((mqd_t)x->c.fd[0], buf, sizeof buf, NULL) < 0) { /* nothing to do */ }
}

/* What a receive got. */
static void describe_msg(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "msg=%s", x->out);
}

/* ----------------------------------------------------------- SysV msg */

struct smsg {
    long mtype;
    char mtext[MSGSIZE];
};

static int sysv_send(int id, const char *text, int flags)
{
    struct smsg m;
    memset(&m, 0, sizeof m);
    m.mtype = 1;
    strncpy(m.mtext, text, sizeof m.mtext - 1);
    return msgsnd(id, &m, MSGSIZE, flags);
}

static int setup_sysv(struct pctx *c, int block)
{
    struct xctx *x = X(c);
    struct msqid_ds ds;
    int is_send = strcmp(c->p->name, "msgsnd") == 0;
    int preload = is_send ? block : !block;

    x->id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (x->id < 0) return -1;
    if (msgctl(x->id, IPC_STAT, &ds) != 0) return -1;
    ds.msg_qbytes = MSGSIZE; /* room for exactly one message */
    if (msgctl(x->id, IPC_SET, &ds) != 0) return -1;
    if (preload && sysv_send(x->id, "hello", IPC_NOWAIT) != 0) return -1;
    return 0;
}

static long sysv_count(struct pctx *c)
{
    struct msqid_ds ds;
    if (msgctl(X(c)->id, IPC_STAT, &ds) != 0) return -1;
    return (long)ds.msg_qnum;
}

static int effect_sysv_consumed(struct pctx *c) { return sysv_count(c) == 0; }
static int effect_sysv_written(struct pctx *c) { return sysv_count(c) == 1; }

static void teardown_sysv(struct pctx *c)
{
    struct xctx *x = X(c);
    if (x->id >= 0) msgctl(x->id, IPC_RMID, NULL);
    x->id = -1;
    xteardown(c);
}

static long call_msgrcv(struct pctx *c)
{
    struct smsg m;
    ssize_t n = msgrcv(X(c)->id, &m, MSGSIZE, 0, 0);
    if (n >= 0) {
        memcpy(X(c)->out, m.mtext, MSGSIZE);
        X(c)->out[MSGSIZE] = 0;
    }
    return n;
}

static long call_msgsnd(struct pctx *c) { return sysv_send(X(c)->id, "sent", 0); }

static void release_msgrcv(struct xctx *x)
{
    if (sysv_send(x->id, "release", IPC_NOWAIT) != 0) { /* nothing to do */ }
}

static void release_msgsnd(struct xctx *x)
{
    struct smsg m;
    if (msgrcv(x->id, &m, MSGSIZE, 0, IPC_NOWAIT) < 0) { /* nothing to do */ }
}

/* ------------------------------------------------------------ table */

#define P(name, effect, setup, call, eff, td) { name, effect, 1, setup, call, eff, td }

static const struct xpoint points[] = {
    { P("mq_receive", "consumed", setup_mq, call_mq_receive, effect_mq_consumed, teardown_mq),
      XM_ALL, 0, NULL, "msg=hello", NULL, describe_msg, release_mq_send, 0 },
    { P("mq_timedreceive", "consumed", setup_mq, call_mq_timedreceive, effect_mq_consumed, teardown_mq),
      XM_ALL, 0, NULL, "msg=hello", NULL, describe_msg, release_mq_send, 0 },
    { P("mq_send", "written", setup_mq, call_mq_send, effect_mq_written, teardown_mq),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_mq_receive, 0 },
    { P("mq_timedsend", "written", setup_mq, call_mq_timedsend, effect_mq_written, teardown_mq),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_mq_receive, 0 },
    { P("msgrcv", "consumed", setup_sysv, call_msgrcv, effect_sysv_consumed, teardown_sysv),
      XM_ALL, 0, NULL, "msg=hello", NULL, describe_msg, release_msgrcv, 0 },
    { P("msgsnd", "written", setup_sysv, call_msgsnd, effect_sysv_written, teardown_sysv),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_msgsnd, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    return test_finish();
}
