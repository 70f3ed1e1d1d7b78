//! Message queues: POSIX (mq_*) and System V (msgrcv, msgsnd).

use core::ffi::{c_char, c_int, c_long, c_uint, c_void};
use libc::{mqd_t, size_t, ssize_t, timespec};

use super::alias;
use crate::arch::fast_point;
use crate::sys::c_ret;
use crate::syscall_cp::syscall_cp;

fast_point! { libc::SYS_mq_timedreceive =>
    mq_timedreceive(q: mqd_t, buf: *mut c_char, len: size_t, prio: *mut c_uint, timeout: *const timespec) -> ssize_t;
}
fast_point! { libc::SYS_mq_timedsend =>
    mq_timedsend(q: mqd_t, buf: *const c_char, len: size_t, prio: c_uint, timeout: *const timespec) -> c_int;
}

crate::arch::export! {
    /// `mq_receive`: mq_timedreceive without a timeout.
    pub unsafe extern "C" fn mq_receive(
        q: mqd_t,
        buf: *mut c_char,
        len: size_t,
        prio: *mut c_uint,
    ) -> ssize_t {
        // SAFETY: the caller's pointers go to the kernel, which validates them.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_mq_timedreceive,
                q as usize,
                buf as usize,
                len,
                prio as usize,
                0,
                0,
            )
        })
    }
}

crate::arch::export! {
    /// `mq_send`: mq_timedsend without a timeout.
    pub unsafe extern "C" fn mq_send(q: mqd_t, buf: *const c_char, len: size_t, prio: c_uint) -> c_int {
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_mq_timedsend,
                q as usize,
                buf as usize,
                len,
                prio as usize,
                0,
                0,
            )
        }) as c_int
    }
}

/// System V message syscalls: direct on x86_64; on i386 the direct calls of Linux 5.1+ (the
/// old `ipc()` multiplexer needs a different argument packing).
#[cfg(target_arch = "x86_64")]
const SYS_MSGSND: c_long = libc::SYS_msgsnd;
#[cfg(target_arch = "x86_64")]
const SYS_MSGRCV: c_long = libc::SYS_msgrcv;
#[cfg(target_arch = "x86")]
const SYS_MSGSND: c_long = 400;
#[cfg(target_arch = "x86")]
const SYS_MSGRCV: c_long = 401;

extern "C" fn msgrcv_impl(
    id: c_int,
    msg: *mut c_void,
    size: size_t,
    kind: c_long,
    flags: c_int,
) -> ssize_t {
    // SAFETY: the caller's buffer goes to the kernel, which validates it.
    c_ret(unsafe {
        syscall_cp(
            SYS_MSGRCV,
            id as usize,
            msg as usize,
            size,
            kind as usize,
            flags as usize,
            0,
        )
    })
}
alias! { msgrcv_impl =>
    msgrcv(id: c_int, msg: *mut c_void, size: size_t, kind: c_long, flags: c_int) -> ssize_t;
    __libc_msgrcv(id: c_int, msg: *mut c_void, size: size_t, kind: c_long, flags: c_int) -> ssize_t;
}

extern "C" fn msgsnd_impl(id: c_int, msg: *const c_void, size: size_t, flags: c_int) -> c_int {
    // SAFETY: as above.
    c_ret(unsafe {
        syscall_cp(
            SYS_MSGSND,
            id as usize,
            msg as usize,
            size,
            flags as usize,
            0,
            0,
        )
    }) as c_int
}
alias! { msgsnd_impl =>
    msgsnd(id: c_int, msg: *const c_void, size: size_t, flags: c_int) -> c_int;
    __libc_msgsnd(id: c_int, msg: *const c_void, size: size_t, flags: c_int) -> c_int;
}
