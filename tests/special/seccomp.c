/* No syscall a glibc program would not make: under a seccomp filter that kills the process on
 * the "debug" syscalls (what systemd's SystemCallFilter=~@debug does without
 * SystemCallErrorNumber=), every point ptcancel implements in Rust with a timeout or a struct
 * to read, the thread waits and a real cancellation keep the process alive.
 * Prints one line per case and "survived"; a killed process (SIGSYS) is the failure.
 */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

/* systemd's @debug set: ptrace, process_vm_readv/writev, perf_event_open, lookup_dcookie. */
static const int killed[] = {
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_perf_event_open,
#ifdef SYS_lookup_dcookie
    SYS_lookup_dcookie,
#endif
};

static void install_filter(void)
{
    struct sock_filter prog[16];
    unsigned n = 0, count = sizeof killed / sizeof killed[0];
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (unsigned i = 0; i < count; i++)
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)killed[i], count - i, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    struct sock_fprog fprog = {(unsigned short)n, prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
        perror("seccomp");
        exit(2);
    }
}

static int fds[2];

static void *blocked_in_ppoll(void *arg)
{
    struct pollfd pfd = {fds[0], POLLIN, 0};
    struct timespec ts = {60, 0};
    (void)arg;
    ppoll(&pfd, 1, &ts, NULL);
    return NULL;
}

int main(void)
{
    struct timespec zero = {0, 0};
    struct pollfd pfd;
    sigset_t none;
    sigemptyset(&none);
    pipe(fds);
    pfd = (struct pollfd){fds[0], POLLIN, 0};
    install_filter();
    setvbuf(stdout, NULL, _IONBF, 0);

    printf("ppoll: %d\n", ppoll(&pfd, 1, &zero, &none));
    printf("pselect: %d\n", pselect(0, NULL, NULL, NULL, &zero, &none));
    int ep = epoll_create1(0);
    struct epoll_event ev;
    printf("epoll_pwait2: %d\n", epoll_pwait2(ep, &ev, 1, &zero, NULL));
    const struct aiocb *none_aio[1] = {NULL};
    printf("aio_suspend: %d\n", aio_suspend(none_aio, 1, &zero));
    struct flock lock = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    FILE *tmp = tmpfile();
    printf("fcntl F_OFD_GETLK: %d\n", fcntl(fileno(tmp), F_OFD_GETLK, &lock));
    sem_t sem;
    sem_init(&sem, 0, 0);
    struct timespec past = {0, 0};
    printf("sem_timedwait: %d\n", sem_timedwait(&sem, &past));
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    printf("pthread_cond_timedwait: %d\n", pthread_cond_timedwait(&c, &m, &past));
    pthread_mutex_unlock(&m);

    /* A real cancellation of a blocked thread. */
    pthread_t t;
    void *rv;
    pthread_create(&t, NULL, blocked_in_ppoll, NULL);
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
    pthread_cancel(t);
    pthread_join(t, &rv);
    printf("cancelled: %s\n", rv == PTHREAD_CANCELED ? "yes" : "no");
    printf("survived\n");
    return rv == PTHREAD_CANCELED ? 0 : 1;
}
