/*
 * points_time.c -- sleeping and multiplexing cancellation points:
 *     nanosleep clock_nanosleep sleep usleep poll ppoll select pselect
 *
 * Modes and expectations: see points.h.  None of these has a side effect
 * to observe, so the lines carry no effect field.
 * BLOCKED set-ups: sleeps of 100 s (usleep: 50 s); poll (timeout -1),
 * ppoll (100 s), select (no timeout), pselect (100 s) on an empty pipe.
 * READY set-ups: sleeps of 0 (musl still enters the syscall, so a pending
 * cancel acts; so does glibc); the multiplexers on a pipe with a byte
 * waiting, so they return at once if not cancelled.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_time.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) exits 0.  Plain glibc 2.36
 * (no ptcancel), x86_64 and i386: every line the same as musl.
 */
#include "points.h"
#include <poll.h>
#include <sys/select.h>

/* The sleeps need no resources; c->block picks the duration. */
static int setup_none(struct pctx *c, int block)
{
    (void)c;
    (void)block;
    return 0;
}

static long call_nanosleep(struct pctx *c)
{
    struct timespec ts = { c->block ? 100 : 0, 0 };
    return nanosleep(&ts, NULL);
}

static long call_clock_nanosleep(struct pctx *c)
{
    struct timespec ts = { c->block ? 100 : 0, 0 };
    int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    if (r != 0) { /* returns the error number, not -1/errno */
        errno = r;
        return -1;
    }
    return 0;
}

static long call_sleep(struct pctx *c) { return (long)sleep(c->block ? 100 : 0); }

static long call_usleep(struct pctx *c) { return usleep(c->block ? 50000000 : 0); }

/* Pipe: READY has one byte waiting in fd[0]. */
static int setup_pipe_data(struct pctx *c, int block)
{
    make_pipe(c->fd);
    if (!block && write(c->fd[1], "x", 1) != 1) return -1;
    return 0;
}

static long call_poll(struct pctx *c)
{
    struct pollfd pfd = { c->fd[0], POLLIN, 0 };
    return poll(&pfd, 1, -1);
}

static long call_ppoll(struct pctx *c)
{
    struct pollfd pfd = { c->fd[0], POLLIN, 0 };
    struct timespec ts = { 100, 0 };
    return ppoll(&pfd, 1, &ts, NULL);
}

static long call_select(struct pctx *c)
{
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(c->fd[0], &rd);
    return select(c->fd[0] + 1, &rd, NULL, NULL, NULL);
}

static long call_pselect(struct pctx *c)
{
    fd_set rd;
    struct timespec ts = { 100, 0 };
    FD_ZERO(&rd);
    FD_SET(c->fd[0], &rd);
    return pselect(c->fd[0] + 1, &rd, NULL, NULL, &ts, NULL);
}

static const struct point points[] = {
    { "nanosleep", NULL, 1, setup_none, call_nanosleep, NULL, teardown_fds },
    { "clock_nanosleep", NULL, 1, setup_none, call_clock_nanosleep, NULL, teardown_fds },
    { "sleep", NULL, 1, setup_none, call_sleep, NULL, teardown_fds },
    { "usleep", NULL, 1, setup_none, call_usleep, NULL, teardown_fds },
    { "poll", NULL, 1, setup_pipe_data, call_poll, NULL, teardown_fds },
    { "ppoll", NULL, 1, setup_pipe_data, call_ppoll, NULL, teardown_fds },
    { "select", NULL, 1, setup_pipe_data, call_select, NULL, teardown_fds },
    { "pselect", NULL, 1, setup_pipe_data, call_pselect, NULL, teardown_fds },
};

int main(void)
{
    test_init();
    run_points(points, sizeof points / sizeof points[0]);
    return test_finish();
}
