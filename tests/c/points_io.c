/*
 * points_io.c -- file/pipe cancellation points:
 *     read readv write writev pread pwrite open openat creat close
 *
 * Modes and expectations: see points.h.  Effects observed:
 *   read/readv  consumed=  the byte waiting in the pipe was read
 *   write/writev written=  a byte arrived in the pipe
 *   pwrite      written=  the file is no longer empty
 *   open/openat opened=   a new fd exists in the process
 *   creat       created=  the file exists
 *   close       closed=   the fd is no longer open (checked from main
 *                          after join with fcntl(F_GETFD))
 * Blocking set-ups: read on an empty pipe, write on a full pipe, open and
 * openat of a FIFO for reading with no writer.  creat, close, pread and
 * pwrite cannot block: they only have -pending and -disabled cases.
 *
 * Build: cc -O2 -pthread -Wall -Wextra points_io.c
 *
 * Validated: musl 1.2.3 (musl-gcc -static) prints exactly the expected
 * lines and exits 0.  Plain glibc 2.36 (no ptcancel), x86_64 and i386:
 * every line the same as musl.  glibc also acts on a pending cancel when a
 * call is entered, and while blocked it acts asynchronously; these cases
 * involve no race, so the difference does not show here (race.c shows it).
 */
#include "points.h"
#include <sys/uio.h>

/* ---------------------------------------------------------- read(v) */

/* Pipe; READY: one byte waiting. */
static int setup_pipe_data(struct pctx *c, int block)
{
    make_pipe(c->fd);
    if (!block && write(c->fd[1], "x", 1) != 1) return -1;
    return 0;
}

/* Pipe; BLOCKED: full (a blocking write would block). */
static int setup_pipe_space(struct pctx *c, int block)
{
    make_pipe(c->fd);
    if (block) fill_fd(c->fd[1]);
    return 0;
}

static long call_read(struct pctx *c)
{
    char b;
    return read(c->fd[0], &b, 1);
}

static long call_readv(struct pctx *c)
{
    char b;
    struct iovec iov = { &b, 1 };
    return readv(c->fd[0], &iov, 1);
}

static long call_write(struct pctx *c) { return write(c->fd[1], "x", 1); }

static long call_writev(struct pctx *c)
{
    struct iovec iov = { (void *)"x", 1 };
    return writev(c->fd[1], &iov, 1);
}

/* ------------------------------------------------------- pread/pwrite */

/* Regular file opened O_RDWR in fd[0]; `content` written first. */
static int setup_file(struct pctx *c, const char *content)
{
    pctx_path(c, ".file");
    c->fd[0] = open(c->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (c->fd[0] < 0) return -1;
    if (write(c->fd[0], content, strlen(content)) != (ssize_t)strlen(content)) return -1;
    return 0;
}

static int setup_pread(struct pctx *c, int block) { (void)block; return setup_file(c, "abc"); }
static int setup_pwrite(struct pctx *c, int block) { (void)block; return setup_file(c, ""); }

static long call_pread(struct pctx *c)
{
    char b;
    return pread(c->fd[0], &b, 1, 1);
}

static long call_pwrite(struct pctx *c) { return pwrite(c->fd[0], "x", 1, 0); }

static int effect_file_written(struct pctx *c)
{
    struct stat st;
    return fstat(c->fd[0], &st) == 0 && st.st_size > 0;
}

static void teardown_file(struct pctx *c)
{
    pctx_close_all(c);
    unlink(c->path);
}

/* open, openat, creat: also close the fd the call returned */
static void teardown_newfile(struct pctx *c)
{
    teardown_newfd(c);
    unlink(c->path);
}

/* ------------------------------------------------------ open/openat */

/* BLOCKED: a FIFO (open for reading waits for a writer).
 * READY: a regular file.  openat also gets the directory in fd[0]. */
static int setup_open(struct pctx *c, int block)
{
    int fd;
    pctx_path(c, ".f");
    if (block) {
        if (mkfifo(c->path, 0600) != 0) return -1;
    } else {
        fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) return -1;
        close(fd);
    }
    if (strcmp(c->p->name, "openat") == 0) {
        c->fd[0] = open(tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->fd[0] < 0) return -1;
    }
    return 0;
}

static long call_open(struct pctx *c) { return open(c->path, O_RDONLY | O_CLOEXEC); }

static long call_openat(struct pctx *c)
{
    /* relative to the directory fd */
    return openat(c->fd[0], strrchr(c->path, '/') + 1, O_RDONLY | O_CLOEXEC);
}

/* ------------------------------------------------------------ creat */

static int setup_creat(struct pctx *c, int block)
{
    (void)block;
    pctx_path(c, ".new");
    unlink(c->path);
    return 0;
}

static long call_creat(struct pctx *c) { return creat(c->path, 0600); }

static int effect_created(struct pctx *c) { return access(c->path, F_OK) == 0; }

/* ------------------------------------------------------------ close */

static int setup_close(struct pctx *c, int block)
{
    (void)block;
    make_pipe(c->fd);
    return 0;
}

static long call_close(struct pctx *c) { return close(c->fd[0]); }

static int effect_closed(struct pctx *c) { return !fd_is_open(c->fd[0]); }

static void teardown_close(struct pctx *c)
{
    /* close() may have closed fd[0] already: don't close it twice */
    if (!fd_is_open(c->fd[0])) c->fd[0] = -1;
    pctx_close_all(c);
}

/* ------------------------------------------------------------ table */

static const struct point points[] = {
    { "read", "consumed", 1, setup_pipe_data, call_read, effect_consumed, teardown_fds },
    { "readv", "consumed", 1, setup_pipe_data, call_readv, effect_consumed, teardown_fds },
    { "write", "written", 1, setup_pipe_space, call_write, effect_written, teardown_fds },
    { "writev", "written", 1, setup_pipe_space, call_writev, effect_written, teardown_fds },
    { "pread", NULL, 0, setup_pread, call_pread, NULL, teardown_file },
    { "pwrite", "written", 0, setup_pwrite, call_pwrite, effect_file_written, teardown_file },
    { "open", "opened", 1, setup_open, call_open, effect_new_fd, teardown_newfile },
    { "openat", "opened", 1, setup_open, call_openat, effect_new_fd, teardown_newfile },
    { "creat", "created", 0, setup_creat, call_creat, effect_created, teardown_newfile },
    { "close", "closed", 0, setup_close, call_close, effect_closed, teardown_close },
};

int main(void)
{
    test_init();
    run_points(points, sizeof points / sizeof points[0]);
    tmpdir_remove();
    return test_finish();
}
