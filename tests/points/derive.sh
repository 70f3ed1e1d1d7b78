#!/usr/bin/env bash
# Derives the list of names libptcancel.so must export from the installed glibc: every
# cancellation point of POSIX and of musl's Linux extras, everything else glibc itself cancels
# (derive-cancellable.sh finds those mechanically; the export test checks this list covers
# them) and the condvar family the waits need, under every name glibc gives it
# (names at the same address in libc.so.6's dynamic symbol table), plus the fortified and
# (i386) 64-bit-time entry points, which are separate functions.
#   usage: tests/points/derive.sh LIBC.so.6 ARCH > tests/points/glibc-2.36-ARCH.txt
set -euo pipefail
libc=$1 arch=$2

points="accept aio_suspend clock_nanosleep close connect creat fcntl fdatasync fsync lockf
mq_receive mq_send mq_timedreceive mq_timedsend msgrcv msgsnd msync nanosleep open openat pause
poll pread pselect pwrite read readv recv recvfrom recvmsg select send sendmsg sendto sigpause
sigsuspend sigtimedwait sigwait sigwaitinfo sleep system tcdrain usleep wait waitid waitpid write
writev accept4 epoll_wait epoll_pwait epoll_pwait2 ppoll preadv pwritev preadv2 pwritev2
recvmmsg sendmmsg wait3 wait4 getrandom
pread64 pwrite64 open64 openat64 creat64 preadv64 pwritev64 preadv64v2 pwritev64v2 lockf64
fcntl64 aio_suspend64 __sigpause __xpg_sigpause
__read_chk __pread_chk __pread64_chk __recv_chk __recvfrom_chk __poll_chk __ppoll_chk __open_2
__open64_2 __openat_2 __openat64_2
pthread_join pthread_timedjoin_np pthread_clockjoin_np thrd_join sem_wait sem_timedwait
sem_clockwait pthread_cond_init pthread_cond_destroy pthread_cond_signal pthread_cond_broadcast
pthread_cond_wait pthread_cond_timedwait pthread_cond_clockwait cnd_init cnd_destroy cnd_signal
cnd_broadcast cnd_wait cnd_timedwait thrd_sleep
splice tee vmsplice copy_file_range sync_file_range fallocate fallocate64 open_by_handle_at
eventfd_read eventfd_write"
if [ "$arch" = i386 ]; then
    points="$points __nanosleep64 __clock_nanosleep_time64 __ppoll64 __pselect64 __select64
__sigtimedwait64 __mq_timedreceive_time64 __mq_timedsend_time64 __wait3_time64 __wait4_time64
__epoll_pwait2_time64 __sendmsg64 __sendmmsg64 __fcntl_time64 __aio_suspend_time64 __recvmsg64
__recvmmsg64 __pthread_timedjoin_np64 __pthread_clockjoin_np64 __sem_timedwait64 __sem_clockwait64
__pthread_cond_timedwait64 __pthread_cond_clockwait64 __cnd_timedwait64 __thrd_sleep64"
fi

# "address name" for every defined function, version suffix dropped.
table=$(nm -D --defined-only "$libc" | awk '$2 ~ /^[TtWw]$/ { sub(/@.*/, "", $3); print $1, $3 }' | sort -u)
{
    for p in $points; do
        addr=$(awk -v n="$p" '$2 == n { print $1; exit }' <<<"$table")
        if [ -z "$addr" ]; then
            echo "derive.sh: $p is not in $libc" >&2
            exit 1
        fi
        awk -v a="$addr" '$1 == a { print $2 }' <<<"$table"
    done
} | sort -u
