/*
 * points.h -- table-driven driver for the cancellation-point tests
 * (points_io.c, points_net.c, points_time.c).
 *
 * Each cancellation point is described by a `struct point`: how to set up
 * its resources so the call either BLOCKS or completes at once (READY),
 * the call itself, and how to observe its side effect afterwards.
 * Every point is run in up to three modes, one output line each:
 *
 *  NAME-blocked   thread blocks in the call; main cancels it.
 *                 expect: "canceled cleanup=1"
 *  NAME-pending   thread disables cancellation, main cancels, thread
 *                 re-enables (which must not act by itself) and makes the
 *                 call with READY resources: musl acts before the syscall,
 *                 so the side effect must not have happened.
 *                 expect: "canceled cleanup=1[ EFFECT=0]"
 *  NAME-disabled  same, but the thread keeps cancellation disabled: the
 *                 call behaves normally; then it re-enables and calls
 *                 pthread_testcancel(), which acts.
 *                 expect: "ret=ok[ EFFECT=1] then canceled cleanup=1"
 *
 * Points that cannot block (creat, close, pread, pwrite) have no
 * -blocked line.  Any fd leak appends " fd-leak=+N" to the line.
 */
#ifndef PTCANCEL_TEST_POINTS_H
#define PTCANCEL_TEST_POINTS_H

#include "common.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

enum mode { MODE_BLOCKED, MODE_PENDING, MODE_DISABLED };

struct pctx;

struct point {
    const char *name;
    const char *effect;  /* label of the side effect, NULL if none */
    int can_block;
    /* Prepare resources; block != 0: the call must block.  0 = ok. */
    int (*setup)(struct pctx *c, int block);
    /* The cancellation point.  -1 + errno on failure. */
    long (*call)(struct pctx *c);
    /* After join: 1 if the call's side effect happened. */
    int (*effect_happened)(struct pctx *c);
    /* Release everything setup (and a successful call) created. */
    void (*teardown)(struct pctx *c);
};

struct pctx {
    const struct point *p;
    int mode;
    int block;                 /* set-up is the blocking one */
    int fd[4];                 /* pipe ends, sockets, files; -1 = unused */
    int extra[8];              /* connect: clients filling the backlog */
    char path[128];            /* temp file / FIFO */
    struct sockaddr_un addr;   /* AF_UNIX abstract address */
    socklen_t addrlen;
    int fds_setup;             /* count_fds() right after setup */
    long ret;                  /* the call's result... */
    int err;                   /* ...and errno */
    /* shared with main (atomics) */
    int tid, stage, returned, cleanup;
};

static UNUSED void pctx_init(struct pctx *c, const struct point *p, int mode)
{
    size_t i;
    memset(c, 0, sizeof *c);
    c->p = p;
    c->mode = mode;
    c->block = mode == MODE_BLOCKED;
    c->ret = -1;
    for (i = 0; i < 4; i++) c->fd[i] = -1;
    for (i = 0; i < 8; i++) c->extra[i] = -1;
}

/* The fd a successful call returned (open, accept...), else -1. */
static UNUSED int pctx_result_fd(struct pctx *c)
{
    return flag_get(&c->returned) && c->ret >= 0 ? (int)c->ret : -1;
}

static UNUSED void pctx_close_all(struct pctx *c)
{
    size_t i;
    for (i = 0; i < 4; i++) close_if(&c->fd[i]);
    for (i = 0; i < 8; i++) close_if(&c->extra[i]);
}

/* Temp path unique to the point. */
static UNUSED void pctx_path(struct pctx *c, const char *suffix)
{
    snprintf(c->path, sizeof c->path, "%s/%s%s", tmpdir(), c->p->name, suffix);
}

static UNUSED void *point_thread(void *arg)
{
    struct pctx *c = arg;

    pthread_cleanup_push(cleanup_mark, &c->cleanup);
    flag_set(&c->tid, my_tid());
    if (c->mode == MODE_BLOCKED) {
        flag_set(&c->stage, 1);
    } else {
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
        flag_set(&c->stage, 1);
        wait_flag(&c->stage, 2); /* main has called pthread_cancel */
        if (c->mode == MODE_PENDING)
            pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    }
    errno = 0;
    c->ret = c->p->call(c);
    c->err = errno;
    flag_set(&c->returned, 1);
    if (c->mode == MODE_DISABLED) {
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
        pthread_testcancel();
    }
    pthread_cleanup_pop(0);
    return RV_RETURNED;
}

static const char *mode_name[] = { "blocked", "pending", "disabled" };

static UNUSED void run_point(const struct point *p, int mode)
{
    char name[64], expected[128], got[256];
    struct pctx c;
    pthread_t t;
    void *rv;
    int fds0, blocked = 1, crc, effect = -1;

    snprintf(name, sizeof name, "%s-%s", p->name, mode_name[mode]);
    begin_case(name);

    /* What musl does. */
    expected[0] = 0;
    if (mode == MODE_DISABLED) {
        appendf(expected, sizeof expected, "ret=ok");
        if (p->effect) appendf(expected, sizeof expected, " %s=1", p->effect);
        appendf(expected, sizeof expected, " then canceled cleanup=1");
    } else {
        appendf(expected, sizeof expected, "canceled cleanup=1");
        if (mode == MODE_PENDING && p->effect)
            appendf(expected, sizeof expected, " %s=0", p->effect);
    }

    fds0 = count_fds();
    pctx_init(&c, p, mode);
    if (p->setup(&c, c.block) != 0) {
        snprintf(got, sizeof got, "setup-failed errno=%s", errname(errno));
        p->teardown(&c);
        report(name, expected, got);
        return;
    }
    c.fds_setup = count_fds();

    t = start_thread(point_thread, &c);
    wait_flag(&c.stage, 1);
    if (mode == MODE_BLOCKED)
        blocked = wait_blocked(flag_get(&c.tid), &c.returned);
    crc = pthread_cancel(t);
    if (mode != MODE_BLOCKED)
        flag_set(&c.stage, 2);
    pthread_join(t, &rv);

    if (mode != MODE_BLOCKED && p->effect_happened)
        effect = p->effect_happened(&c);
    p->teardown(&c);

    /* What happened. */
    got[0] = 0;
    if (mode == MODE_DISABLED) {
        if (c.returned)
            appendf(got, sizeof got, "ret=%s", retname(c.ret, c.err));
        else
            appendf(got, sizeof got, "call-did-not-return");
        if (p->effect) appendf(got, sizeof got, " %s=%d", p->effect, effect);
        appendf(got, sizeof got, " then %s cleanup=%d", exitname(rv), c.cleanup);
    } else {
        if (!blocked && !c.returned)
            appendf(got, sizeof got, "never-blocked ");
        if (c.returned)
            appendf(got, sizeof got, "call-returned ret=%s ", retname(c.ret, c.err));
        appendf(got, sizeof got, "%s cleanup=%d", exitname(rv), c.cleanup);
        if (mode == MODE_PENDING && p->effect)
            appendf(got, sizeof got, " %s=%d", p->effect, effect);
    }
    if (crc != 0)
        appendf(got, sizeof got, " pthread_cancel=%s", errname(crc));
    if (count_fds() != fds0)
        appendf(got, sizeof got, " fd-leak=%+d", count_fds() - fds0);
    report(name, expected, got);
}

static UNUSED void run_points(const struct point *pts, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (pts[i].can_block) run_point(&pts[i], MODE_BLOCKED);
        run_point(&pts[i], MODE_PENDING);
        run_point(&pts[i], MODE_DISABLED);
    }
}

/* ------------------------------------------ helpers shared by the tables */

/* Effects on a pipe / stream socket.  Convention: fd[0] is the end that is
 * read (by the thread, or by main to observe), fd[1] the end written. */
static UNUSED int effect_consumed(struct pctx *c) { return bytes_available(c->fd[0]) == 0; }
static UNUSED int effect_written(struct pctx *c) { return bytes_available(c->fd[0]) > 0; }
/* A new fd appeared (open, openat...). */
static UNUSED int effect_new_fd(struct pctx *c) { return count_fds() > c->fds_setup; }

static UNUSED void teardown_fds(struct pctx *c) { pctx_close_all(c); }

/* For calls that return a new fd (open, accept...): close it too. */
static UNUSED void teardown_newfd(struct pctx *c)
{
    int r = pctx_result_fd(c);
    close_if(&r);
    pctx_close_all(c);
}

#endif /* PTCANCEL_TEST_POINTS_H */
