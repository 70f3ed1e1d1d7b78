/*
 * glibc_internal.c (glibc only) -- glibc's own cancellation points inside
 * its own functions: a thread blocked in fgets, fread, getline or fgetc on
 * a pipe, in fprintf + fflush on a full pipe, in fopen of a FIFO with no
 * writer, in system() waiting for its child, or in res_query() waiting for
 * a DNS server that never answers.  glibc cancels all of them; musl 1.2.3
 * makes stdio's syscalls plain (uncancellable) ones, so plain glibc 2.36
 * is the reference (expected/glibc_internal.out).  Under ptcancel they are
 * glibc-internal syscalls it cannot interpose: its signal handler acts
 * while the thread is on glibc's syscall instruction (src/glibc_cp.rs).
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
 *   system:     -blocked only: "exec cat FIFO >/dev/null" waits for a
 *               writer; glibc's cancellation handler kills and reaps the
 *               child (a child left over shows as child-leak).  The release
 *               opens and closes the FIFO for writing: cat sees EOF.
 *   res_query:  -blocked only: the thread's resolver points at a UDP
 *               socket of main's that never answers (30 s timeout).  The
 *               release answers nothing: the call is left to time out.
 * After every case the stream must still be usable: its lock free (glibc's
 * own cleanup inside stdio released it while the thread unwound) and, for
 * the read rows, a line written afterwards readable through it.  The last
 * line counts the cases where it was not.
 *
 * Build: gcc -O2 -pthread -Wall -Wextra glibc_internal.c -lresolv
 * Validated: plain glibc 2.36 (no ptcancel), x86_64 and i386, prints
 * exactly expected/glibc_internal.out and exits 0.
 */
#include "xpoints.h"
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
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

/* -------------------------------------------------------- system */

static long call_system(struct pctx *c)
{
    char cmd[192];
    snprintf(cmd, sizeof cmd, "exec cat %s >/dev/null", c->path);
    return system(cmd);
}

static void release_system(struct xctx *x)
{
    int fd = open(x->c.path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) close(fd);
}

/* ----------------------------------------------------- res_query */

/* fd[0]: a UDP socket on 127.0.0.1 that never answers. */
static struct sockaddr_in g_dns;

static int setup_dns(struct pctx *c, int block)
{
    socklen_t len = sizeof g_dns;
    (void)block;
    c->fd[0] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&g_dns, 0, sizeof g_dns);
    g_dns.sin_family = AF_INET;
    g_dns.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (c->fd[0] < 0 || bind(c->fd[0], (struct sockaddr *)&g_dns, sizeof g_dns) != 0)
        return -1;
    return getsockname(c->fd[0], (struct sockaddr *)&g_dns, &len);
}

static long call_res_query(struct pctx *c)
{
    unsigned char answer[512];
    (void)c;
    if (res_init() != 0) return -2;
    _res.nscount = 1;
    _res.nsaddr_list[0] = g_dns;
    _res.retrans = 30;
    _res.retry = 1;
    return res_query("ptcancel.invalid", C_IN, T_A, answer, sizeof answer);
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
    { P("system", NULL, setup_fifo, call_system, NULL, teardown_fifo),
      XM_BLOCKED, 0, NULL, NULL, NULL, NULL, release_system, 0 },
    { P("res_query", NULL, setup_dns, call_res_query, NULL, teardown_fds),
      XM_BLOCKED, 0, NULL, NULL, NULL, NULL, NULL, 0 },
};

int main(void)
{
    test_init();
    run_xpoints(points, sizeof points / sizeof points[0]);
    printf("streams unusable after a case: %d\n", g_unusable);
    if (g_unusable) g_failures++;
    return test_finish();
}
