/* i386 only: glibc's two versions of fcntl, each with its own semantics.
 *
 *   fcntl@GLIBC_2.0   what binaries built before glibc 2.28 call; with 64-bit off_t they pass
 *                     struct flock64 to the open-file-description (OFD) lock commands, which
 *                     this version hands to the kernel unchanged;
 *   fcntl@GLIBC_2.28  today's fcntl for 32-bit off_t: struct flock for the OFD commands.
 *
 * Both are called through explicitly versioned references (as an old and a new binary would
 * bind them): OFD set, get and unlock with each one's struct, and a thread blocked in
 * F_OFD_SETLKW through the old version is cancelled (glibc makes it a cancellation point in
 * both). Prints one line per check; exits 0 iff all of them give glibc's results, so the same
 * program checks plain glibc and ptcancel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "blocked.h"

#if !defined(__i386__)
#error "i386 only: x86_64 glibc has one fcntl"
#endif

int fcntl_2_0(int fd, int cmd, ...);
int fcntl_2_28(int fd, int cmd, ...);
__asm__(".symver fcntl_2_0, fcntl@GLIBC_2.0");
__asm__(".symver fcntl_2_28, fcntl@GLIBC_2.28");

static int failures;
static int fd_a, fd_b; /* two open file descriptions of one file */
static volatile int tid, cleaned, returned;

static void check(const char *what, int ok, int r)
{
    printf("%s: %s (r=%d%s%s)\n", what, ok ? "ok" : "WRONG", r, r < 0 ? " " : "",
           r < 0 ? strerror(errno) : "");
    failures += !ok;
}

static struct flock64 lock64(short type, off64_t start, off64_t len)
{
    struct flock64 l;
    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET;
    l.l_start = start;
    l.l_len = len;
    return l;
}

static void mark(void *arg)
{
    (void)arg;
    cleaned = 1;
}

static void *blocked_locker(void *arg)
{
    struct flock64 l = lock64(F_WRLCK, 0, 10);
    (void)arg;
    pthread_cleanup_push(mark, NULL);
    tid = syscall(SYS_gettid);
    fcntl_2_0(fd_b, F_OFD_SETLKW, &l);
    returned = 1;
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    char path[] = "/tmp/ptcancel-fcntl-XXXXXX";
    int r;
    alarm(20);
    fd_a = mkstemp(path);
    fd_b = open(path, O_RDWR);
    unlink(path);

    /* The old version: struct flock64 for the OFD commands. */
    struct flock64 l64 = lock64(F_WRLCK, 0, 10);
    r = fcntl_2_0(fd_a, F_OFD_SETLK, &l64);
    check("fcntl@GLIBC_2.0 F_OFD_SETLK struct flock64", r == 0, r);
    l64 = lock64(F_WRLCK, 0, 10);
    r = fcntl_2_0(fd_b, F_OFD_GETLK, &l64);
    check("fcntl@GLIBC_2.0 F_OFD_GETLK struct flock64 sees the lock",
          r == 0 && l64.l_type == F_WRLCK && l64.l_start == 0 && l64.l_len == 10, r);

    /* A thread blocked in F_OFD_SETLKW through the old version is cancelled. */
    pthread_t t;
    void *value;
    pthread_create(&t, NULL, blocked_locker, NULL);
    wait_blocked_tid(&tid);
    pthread_cancel(t);
    pthread_join(t, &value);
    check("fcntl@GLIBC_2.0 F_OFD_SETLKW blocked, then cancelled",
          value == PTHREAD_CANCELED && cleaned && !returned, 0);

    l64 = lock64(F_UNLCK, 0, 10);
    r = fcntl_2_0(fd_a, F_OFD_SETLK, &l64);
    check("fcntl@GLIBC_2.0 F_OFD_SETLK unlock", r == 0, r);

    /* The new version: struct flock (32-bit off_t) for the same commands. */
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = F_RDLCK;
    l.l_whence = SEEK_SET;
    l.l_start = 100;
    l.l_len = 5;
    r = fcntl_2_28(fd_a, F_OFD_SETLK, &l);
    check("fcntl@GLIBC_2.28 F_OFD_SETLK struct flock", r == 0, r);
    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    l.l_start = 0;
    l.l_len = 200;
    r = fcntl_2_28(fd_b, F_OFD_GETLK, &l);
    check("fcntl@GLIBC_2.28 F_OFD_GETLK struct flock sees the lock",
          r == 0 && l.l_type == F_RDLCK && l.l_start == 100 && l.l_len == 5, r);
    return failures ? 1 : 0;
}
