/*
 * glibc_cancellable.c (glibc only) -- what glibc cancels beyond POSIX's and
 * musl's lists, and the clock variants of the thread waits musl 1.2.3 lacks:
 *     splice tee vmsplice copy_file_range sync_file_range fallocate
 *     fallocate64 open_by_handle_at eventfd_read eventfd_write
 *     sem_clockwait pthread_cond_clockwait pthread_clockjoin_np
 *
 * musl 1.2.3 makes the first group plain (uncancellable) syscalls and lacks
 * the second, so plain glibc 2.36 is the reference (expected/
 * glibc_cancellable.out): glibc cancels all of them, with the same lines
 * as musl's for its own points.  pthread_clockjoin_np and sem_clockwait
 * have no -pending line: glibc before 2.43 does not act on a cancel
 * pending when the join target has already exited, and glibc's
 * sem_clockwait takes a free token without testing for one (musl and
 * ptcancel act at entry: points_threads.c, pthread_join and sem_wait).
 *
 * Modes, lines and the release mechanism: see xpoints.h.  Set-ups:
 *   splice, tee:  pipe A (fd[0] read end, fd[1] write end) into pipe B
 *                 (fd[2], fd[3]); they block while A is empty.  Effect
 *                 moved= B received the byte.  The release writes into A.
 *   vmsplice:     a byte into pipe A, blocking while A is full.  Effect
 *                 written=.  The release drains A.
 *   eventfd_read: an eventfd whose counter is 0 (blocked) or 1; effect
 *                 consumed= the counter went back to 0.  eventfd_write: the
 *                 counter at its maximum (blocked: the write waits) or 0;
 *                 effect written= the counter is set.
 *   copy_file_range, sync_file_range, fallocate(64), open_by_handle_at:
 *                 regular files; they cannot block (-pending, -disabled).
 *                 Effects: copied= the destination got the data,
 *                 grown= the file grew, opened= a new fd appeared.
 *                 open_by_handle_at needs CAP_DAC_READ_SEARCH (root).
 *   the waits:    as in points_threads.c (waits.h), on CLOCK_MONOTONIC.
 *
 * Build: gcc -O2 -pthread -Wall -Wextra glibc_cancellable.c
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, as root,
 * prints exactly expected/glibc_cancellable.out and exits 0.
 */
#include "waits.h"
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#if !defined(__GLIBC__)
#error "glibc only: musl lacks the clock waits and does not cancel the splice family"
#endif

/* --------------------------------------------------- splice, tee, vmsplice */

static int setup_two_pipes(struct pctx *c, int block)
{
    make_pipe(c->fd);
    make_pipe(c->fd + 2);
    if (!block && write(c->fd[1], "x", 1) != 1) return -1;
    return 0;
}

static long call_splice(struct pctx *c) { return splice(c->fd[0], NULL, c->fd[3], NULL, 1, 0); }
static long call_tee(struct pctx *c) { return tee(c->fd[0], c->fd[3], 1, 0); }
static int effect_moved(struct pctx *c) { return bytes_available(c->fd[2]) > 0; }

static int setup_vmsplice(struct pctx *c, int block)
{
    make_pipe(c->fd);
    if (block) fill_fd(c->fd[1]);
    return 0;
}

static long call_vmsplice(struct pctx *c)
{
    static char byte = 'v';
    struct iovec iov = { &byte, 1 };
    return vmsplice(c->fd[1], &iov, 1, 0);
}

static int effect_vmspliced(struct pctx *c)
{
    /* Ready set-up: the pipe was empty, so any byte is ours. */
    return bytes_available(c->fd[0]) > 0;
}

/* ---------------------------------------------------------- eventfd */

/* fd[0] = an eventfd.  eventfd_read blocks while the counter is 0;
 * eventfd_write blocks while the counter is at its maximum. */
static int setup_eventfd(struct pctx *c, int block)
{
    int is_write = strcmp(c->p->name, "eventfd_write") == 0;
    c->fd[0] = eventfd(0, EFD_CLOEXEC);
    if (c->fd[0] < 0) return -1;
    if (is_write ? block : !block)
        return eventfd_write(c->fd[0], is_write ? 0xfffffffffffffffeull : 1);
    return 0;
}

static long call_eventfd_read(struct pctx *c)
{
    eventfd_t v;
    return eventfd_read(c->fd[0], &v) == 0 ? (long)v : -1;
}

static long call_eventfd_write(struct pctx *c) { return eventfd_write(c->fd[0], 1); }

/* Whether the counter is non-zero now (without changing it: poll). */
static int counter_set(struct pctx *c)
{
    struct pollfd p = { c->fd[0], POLLIN, 0 };
    return poll(&p, 1, 0) == 1;
}

static int effect_counter_consumed(struct pctx *c) { return !counter_set(c); }

static void release_eventfd_read(struct xctx *x) { eventfd_write(x->c.fd[0], 1); }

static void release_eventfd_write(struct xctx *x)
{
    eventfd_t v;
    eventfd_read(x->c.fd[0], &v);
}

/* ------------------------------------------------------------ files */

/* fd[0] = a file with "abc", fd[1] = an empty one. */
static int setup_files(struct pctx *c, int block)
{
    char path[160];
    (void)block;
    if (xsetup_file(c, "abc") != 0) return -1;
    snprintf(path, sizeof path, "%s.dst", c->path);
    c->fd[1] = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    unlink(path);
    return c->fd[1] < 0 ? -1 : 0;
}

static long call_copy_file_range(struct pctx *c)
{
    loff_t in = 0, out = 0;
    return copy_file_range(c->fd[0], &in, c->fd[1], &out, 3, 0);
}

static int effect_copied(struct pctx *c)
{
    struct stat st;
    return fstat(c->fd[1], &st) == 0 && st.st_size == 3;
}

static long call_sync_file_range(struct pctx *c)
{
    return sync_file_range(c->fd[0], 0, 3, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
}

static long call_fallocate(struct pctx *c) { return fallocate(c->fd[1], 0, 0, 4096); }
static long call_fallocate64(struct pctx *c) { return fallocate64(c->fd[1], 0, 4096, 4096); }

static int effect_grown(struct pctx *c)
{
    struct stat st;
    return fstat(c->fd[1], &st) == 0 && st.st_size > 0;
}

static long call_open_by_handle_at(struct pctx *c)
{
    union { struct file_handle h; char space[sizeof(struct file_handle) + MAX_HANDLE_SZ]; } u;
    int mount_id;
    u.h.handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, c->path, &u.h, &mount_id, 0) != 0) return -2;
    return open_by_handle_at(c->fd[0], &u.h, O_RDONLY | O_CLOEXEC);
}

static void describe_n(struct xctx *x, char *buf, size_t size)
{
    snprintf(buf, size, "n=%ld", x->c.ret);
}

/* --------------------------------------------------------- clock waits */

static long call_sem_clockwait(struct pctx *c)
{
    struct timespec ts = in_10s(CLOCK_MONOTONIC);
    (void)c;
    return sem_clockwait(&g_sem, CLOCK_MONOTONIC, &ts);
}

static long call_cond_clockwait(struct pctx *c)
{
    (void)c;
    return cond_wait_until(CLOCK_MONO);
}

static long call_pthread_clockjoin_np(struct pctx *c)
{
    struct timespec ts = in_10s(CLOCK_MONOTONIC);
    void *v = NULL;
    int r = pthread_clockjoin_np(g_target, &v, CLOCK_MONOTONIC, &ts);
    (void)c;
    if (r == 0) g_target_live = 0;
    return r == 0 ? (long)v : err_ret(r);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, can_block, setup, call, eff, td) { name, effect, can_block, setup, call, eff, td }

static const struct xpoint points[] = {
    { P("splice", "moved", 1, setup_two_pipes, call_splice, effect_moved, teardown_fds),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_write_byte, 0 },
    { P("tee", "moved", 1, setup_two_pipes, call_tee, effect_moved, teardown_fds),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_write_byte, 0 },
    { P("vmsplice", "written", 1, setup_vmsplice, call_vmsplice, effect_vmspliced, teardown_fds),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_drain, 0 },
    { P("eventfd_read", "consumed", 1, setup_eventfd, call_eventfd_read, effect_counter_consumed, teardown_fds),
      XM_ALL, 0, NULL, "n=1", NULL, describe_n, release_eventfd_read, 0 },
    { P("eventfd_write", "written", 1, setup_eventfd, call_eventfd_write, counter_set, teardown_fds),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_eventfd_write, 0 },
    { P("copy_file_range", "copied", 0, setup_files, call_copy_file_range, effect_copied, xteardown),
      XM_NOBLOCK, 0, NULL, "n=3", NULL, describe_n, NULL, 0 },
    { P("sync_file_range", NULL, 0, setup_files, call_sync_file_range, NULL, xteardown),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("fallocate", "grown", 0, setup_files, call_fallocate, effect_grown, xteardown),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("fallocate64", "grown", 0, setup_files, call_fallocate64, effect_grown, xteardown),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("open_by_handle_at", "opened", 0, setup_files, call_open_by_handle_at, effect_new_fd, teardown_newfd),
      XM_NOBLOCK, 0, NULL, NULL, NULL, NULL, NULL, 0 },
    { P("sem_clockwait", "taken", 1, setup_sem, call_sem_clockwait, effect_sem_taken, teardown_sem),
      XM_BLOCKED | XM_DISABLED, 0, NULL, NULL, NULL, NULL, release_sem, 0 },
    { P("pthread_cond_clockwait", NULL, 1, setup_cond, call_cond_clockwait, NULL, teardown_cond),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_cond, 1 },
    { P("pthread_clockjoin_np", "joined", 1, setup_join, call_pthread_clockjoin_np, effect_joined, teardown_join),
      XM_BLOCKED | XM_DISABLED, 0, NULL, "value=42", NULL, describe_value, release_join, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    report_wait_checks();
    return test_finish();
}
