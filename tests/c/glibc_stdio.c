/*
 * glibc_stdio.c (glibc only) -- glibc's own cancellation points inside
 * stdio: a thread blocked in fgets, fread, getline or fgetc on a pipe, in
 * fprintf + fflush on a full pipe, or in fopen of a FIFO with no writer.
 * glibc cancels all of them; musl 1.2.3 makes stdio's syscalls plain
 * (uncancellable) ones, so plain glibc 2.36 is the reference
 * (expected/glibc_stdio.out).  Under ptcancel they are glibc-internal
 * syscalls it cannot interpose: its signal handler acts while the thread
 * is on glibc's syscall instruction (src/glibc_cp.rs).
 *
 * Modes, lines and the release mechanism: see xpoints.h.  Set-ups:
 *   read rows:  pipe, read end wrapped in a FILE (fdopen); blocked: empty;
 *               ready: "x\n" in the pipe.  Effect consumed= the pipe was
 *               read.  The release writes a line.
 *   fprintf:    pipe, write end wrapped in a FILE; blocked: the pipe is
 *               full.  Effect written= the pipe got the line.  The release
 *               drains the pipe.
 *   fopen:      a FIFO; blocked: no writer; ready: main holds it open
 *               O_RDWR.  Effect opened= fopen returned a stream.  The
 *               release opens the FIFO for writing.
 * After every case the stream must still be usable: its lock free (glibc's
 * own cleanup inside stdio released it while the thread unwound) and, for
 * the read rows, a line written afterwards readable through it.  The last
 * line counts the cases where it was not.
 *
 * Build: gcc -O2 -pthread -Wall -Wextra glibc_stdio.c
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, prints
 * exactly expected/glibc_stdio.out and exits 0.
 */
#include "xpoints.h"
#include <sys/stat.h>

#if !defined(__GLIBC__)
#error "glibc only: musl's stdio is not cancellable"
#endif

static FILE *g_file;
static char *g_line;
static size_t g_line_size;
static int g_unusable;

/* ------------------------------------------------------ read rows */

static int setup_reader(struct pctx *c, int block)
{
    make_pipe(c->fd);
    g_file = fdopen(c->fd[0], "r");
    if (!g_file) return -1;
    if (!block && write(c->fd[1], "x\n", 2) != 2) return -1;
    return 0;
}

static long call_fgets(struct pctx *c)
{
    char buf[64];
    (void)c;
    return fgets(buf, sizeof buf, g_file) ? 0 : -1;
}

static long call_fread(struct pctx *c)
{
    char buf[2];
    (void)c;
    return fread(buf, 1, 2, g_file) == 2 ? 0 : -1;
}

static long call_getline(struct pctx *c)
{
    (void)c;
    return getline(&g_line, &g_line_size, g_file) > 0 ? 0 : -1;
}

static long call_fgetc(struct pctx *c)
{
    (void)c;
    return fgetc(g_file) == EOF ? -1 : 0;
}

static int effect_pipe_read(struct pctx *c) { return bytes_available(c->fd[0]) == 0; }

static void release_line(struct xctx *x)
{
    if (write(x->c.fd[1], "rr\n", 3) != 3) { /* the call stays blocked: a HANG shows it */ }
}

/* The stream still works: its lock is free, and a line written now comes
 * out of it (after whatever the case left in the pipe or its buffer). */
static void teardown_reader(struct pctx *c)
{
    char buf[64];
    int found = 0, lines;

    if (ftrylockfile(g_file) != 0) {
        g_unusable++;
        printf("  %s: stream still locked\n", g_case);
    } else {
        funlockfile(g_file);
        set_nonblock(c->fd[0], 1);
        if (write(c->fd[1], "u\n", 2) != 2) g_unusable++;
        for (lines = 0; lines < 4 && !found && fgets(buf, sizeof buf, g_file); lines++)
            found = strcmp(buf, "u\n") == 0;
        if (!found) {
            g_unusable++;
            printf("  %s: stream unreadable\n", g_case);
        }
    }
    fclose(g_file);
    g_file = NULL;
    c->fd[0] = -1; /* closed by fclose */
    free(g_line);
    g_line = NULL;
    g_line_size = 0;
    pctx_close_all(c);
}

/* ------------------------------------------------------- fprintf */

static int setup_writer(struct pctx *c, int block)
{
    make_pipe(c->fd);
    g_file = fdopen(c->fd[1], "w");
    if (!g_file) return -1;
    if (block) fill_fd(c->fd[1]);
    return 0;
}

static long call_fprintf(struct pctx *c)
{
    (void)c;
    return fprintf(g_file, "hello\n") < 0 || fflush(g_file) != 0 ? -1 : 0;
}

static int effect_pipe_written(struct pctx *c) { return bytes_available(c->fd[0]) > 0; }

static void teardown_writer(struct pctx *c)
{
    if (ftrylockfile(g_file) != 0) {
        g_unusable++;
        printf("  %s: stream still locked\n", g_case);
    } else {
        funlockfile(g_file);
    }
    set_nonblock(c->fd[1], 1); /* fclose's flush must not block on a full pipe */
    fclose(g_file);
    g_file = NULL;
    c->fd[1] = -1;
    pctx_close_all(c);
}

/* --------------------------------------------------------- fopen */

static int setup_fifo(struct pctx *c, int block)
{
    pctx_path(c, ".fifo");
    unlink(c->path);
    if (mkfifo(c->path, 0600) != 0) return -1;
    if (!block) {
        c->fd[1] = open(c->path, O_RDWR | O_CLOEXEC);
        if (c->fd[1] < 0) return -1;
    }
    return 0;
}

static long call_fopen(struct pctx *c)
{
    g_file = fopen(c->path, "re");
    return g_file ? 0 : -1;
}

static int effect_opened(struct pctx *c)
{
    (void)c;
    return g_file != NULL;
}

static void release_fifo(struct xctx *x)
{
    x->c.fd[1] = open(x->c.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static void teardown_fifo(struct pctx *c)
{
    if (g_file) fclose(g_file);
    g_file = NULL;
    pctx_close_all(c);
    unlink(c->path);
}

/* ------------------------------------------------------------ table */

#define P(name, effect, setup, call, eff, td) { name, effect, 1, setup, call, eff, td }

static const struct xpoint points[] = {
    { P("fgets", "consumed", setup_reader, call_fgets, effect_pipe_read, teardown_reader),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_line, 0 },
    { P("fread", "consumed", setup_reader, call_fread, effect_pipe_read, teardown_reader),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_line, 0 },
    { P("getline", "consumed", setup_reader, call_getline, effect_pipe_read, teardown_reader),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_line, 0 },
    { P("fgetc", "consumed", setup_reader, call_fgetc, effect_pipe_read, teardown_reader),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_line, 0 },
    { P("fprintf+fflush", "written", setup_writer, call_fprintf, effect_pipe_written, teardown_writer),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_drain, 0 },
    { P("fopen-fifo", "opened", setup_fifo, call_fopen, effect_opened, teardown_fifo),
      XM_ALL, 0, NULL, NULL, NULL, NULL, release_fifo, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    printf("streams unusable after a case: %d\n", g_unusable);
    if (g_unusable) g_failures++;
    return test_finish();
}
