/* Is a thread blocked in the kernel? For the special programs that block one thread in a call
 * and cancel it: the state letter of /proc/self/task/TID/stat, read with plain syscalls. */
#ifndef PTCANCEL_SPECIAL_BLOCKED_H
#define PTCANCEL_SPECIAL_BLOCKED_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The state letter of thread `tid` ('S': sleeping in the kernel), '?' if unknown. */
static inline char thread_state_of(int tid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits (at most 2 s) until the thread whose tid `*tid` publishes sleeps in the kernel, then
 * 10 ms more. */
static inline void wait_blocked_tid(volatile int *tid)
{
    struct timespec ms = {0, 1000000}, settle = {0, 10000000};
    for (int i = 0; i < 2000 && (*tid == 0 || thread_state_of(*tid) != 'S'); i++)
        syscall(SYS_nanosleep, &ms, NULL);
    syscall(SYS_nanosleep, &settle, NULL);
}

#endif
