/* i386 callers with a 4-byte aligned stack (code built with -mpreferred-stack-boundary=2, by
 * tcc, or hand-written asm): glibc works with them, so ptcancel must too. Every kind of
 * ptcancel entry is called with %esp 4, 8 and 12 bytes past a 16-byte boundary: the fast
 * thunk (plain, slow path, error path), the points written in Rust, the aliases, the thread
 * waits and the API, including a cancel that acts and a MASKED one.
 * Prints one line per case; a crash (movaps on a misaligned slot) is the failure.
 * On x86_64 it prints a note and exits 0 (the x86_64 ABI keeps 16-byte alignment).
 */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __i386__
int main(void)
{
    puts("not i386: nothing to check");
    return 0;
}
#else

/* long call_misaligned(void *fn, int mis, long a, long b, long c, long d, long e, long f):
 * calls fn(a..f) with %esp `mis` bytes below a 16-byte boundary at the call. */
__asm__(".text\n"
        ".globl call_misaligned\n"
        "call_misaligned:\n"
        "    push %ebp\n"
        "    mov %esp, %ebp\n"
        "    and $-16, %esp\n"
        "    sub $32, %esp\n"
        "    sub 12(%ebp), %esp\n"
        "    mov 16(%ebp), %eax\n mov %eax, 0(%esp)\n"
        "    mov 20(%ebp), %eax\n mov %eax, 4(%esp)\n"
        "    mov 24(%ebp), %eax\n mov %eax, 8(%esp)\n"
        "    mov 28(%ebp), %eax\n mov %eax, 12(%esp)\n"
        "    mov 32(%ebp), %eax\n mov %eax, 16(%esp)\n"
        "    mov 36(%ebp), %eax\n mov %eax, 20(%esp)\n"
        "    call *8(%ebp)\n"
        "    leave\n"
        "    ret\n");
long call_misaligned(void *fn, int mis, long a, long b, long c, long d, long e, long f);

#define MIS(fn, ...) call_misaligned((void *)(fn), mis, __VA_ARGS__)

static int fds[2];

static void *blocked_reader(void *arg)
{
    char b;
    int mis = (int)(long)arg;
    MIS(read, fds[0], (long)&b, 1, 0, 0, 0);
    return NULL;
}

static void *masked_reader(void *arg)
{
    char b;
    int mis = (int)(long)arg;
    MIS(pthread_setcancelstate, 2 /* PTHREAD_CANCEL_MASKED */, 0, 0, 0, 0, 0);
    return (void *)MIS(read, fds[0], (long)&b, 1, 0, 0, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pipe(fds);
    for (int mis = 4; mis <= 12; mis += 4) {
        struct timespec zero = {0, 0};
        struct pollfd pfd = {fds[0], POLLIN, 0};
        char buf[4];
        sigset_t none;
        sigemptyset(&none);
        printf("misaligned by %d:", mis);
        MIS(read, fds[0], (long)buf, 0, 0, 0, 0);              /* fast thunk */
        MIS(read, -1, (long)buf, 1, 0, 0, 0);                  /* its error path */
        MIS(ppoll, (long)&pfd, 1, (long)&zero, (long)&none, 0, 0);
        MIS(pselect, 0, 0, 0, 0, (long)&zero, (long)&none);
        MIS(fcntl, fds[0], F_GETFL, 0, 0, 0, 0);
        MIS(lockf, fds[0], F_TEST, 0, 0, 0, 0);
        int ep = epoll_create1(0);
        struct epoll_event ev;
        MIS(epoll_pwait2, ep, (long)&ev, 1, (long)&zero, 0, 0);
        close(ep);
        const struct aiocb *none_aio[1] = {NULL};
        MIS(aio_suspend, (long)none_aio, 1, (long)&zero, 0, 0, 0);
        MIS(wait4, -1, 0, WNOHANG, 0, 0, 0);
        MIS(clock_nanosleep, CLOCK_MONOTONIC, 0, (long)&zero, 0, 0, 0);
        sem_t sem;
        sem_init(&sem, 0, 1);
        MIS(sem_wait, (long)&sem, 0, 0, 0, 0, 0);
        MIS(sem_timedwait, (long)&sem, (long)&zero, 0, 0, 0, 0);
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t c;
        MIS(pthread_cond_init, (long)&c, 0, 0, 0, 0, 0);
        pthread_mutex_lock(&m);
        MIS(pthread_cond_timedwait, (long)&c, (long)&m, (long)&zero, 0, 0, 0);
        pthread_mutex_unlock(&m);
        MIS(pthread_cond_signal, (long)&c, 0, 0, 0, 0, 0);
        MIS(pthread_cond_broadcast, (long)&c, 0, 0, 0, 0, 0);
        MIS(pthread_cond_destroy, (long)&c, 0, 0, 0, 0, 0);
        int old;
        MIS(pthread_setcancelstate, PTHREAD_CANCEL_ENABLE, (long)&old, 0, 0, 0, 0);
        MIS(pthread_setcanceltype, PTHREAD_CANCEL_DEFERRED, (long)&old, 0, 0, 0, 0);
        MIS(pthread_testcancel, 0, 0, 0, 0, 0, 0);

        /* A cancel that acts in a misaligned read, cancelled and joined misaligned. */
        pthread_t t;
        void *rv;
        MIS(pthread_create, (long)&t, 0, (long)blocked_reader, mis, 0, 0);
        MIS(pthread_cancel, (long)t, 0, 0, 0, 0, 0);
        MIS(pthread_join, (long)t, (long)&rv, 0, 0, 0, 0);
        printf(" cancelled=%s", rv == PTHREAD_CANCELED ? "yes" : "NO");
        /* MASKED: the read's slow path reports ECANCELED. */
        pthread_create(&t, NULL, masked_reader, (void *)(long)mis);
        pthread_cancel(t);
        pthread_join(t, &rv);
        printf(" masked=%s\n", (long)rv == -1 ? "ECANCELED" : "NO");
    }
    return 0;
}
#endif
