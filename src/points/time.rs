//! Sleeping and waiting cancellation points.

use core::ffi::{c_int, c_uint};
use libc::{clockid_t, fd_set, nfds_t, pollfd, sigset_t, timespec, useconds_t};

use crate::arch::fast_point;
use crate::glibc::set_errno;
use crate::sys::{c_ret, copy_in, errno_ret};
use crate::syscall_cp::syscall_cp;

/// The kernel's sigset size for the calls that take one (`_NSIG / 8`).
const KERNEL_SIGSET_SIZE: usize = 8;

fast_point! { libc::SYS_nanosleep =>
    nanosleep(req: *const timespec, rem: *mut timespec) -> c_int;
    __nanosleep(req: *const timespec, rem: *mut timespec) -> c_int;
}
fast_point! { libc::SYS_poll =>
    poll(fds: *mut pollfd, nfds: nfds_t, timeout: c_int) -> c_int;
    __poll(fds: *mut pollfd, nfds: nfds_t, timeout: c_int) -> c_int;
}
// The kernel's select updates the timeout to the time not slept, as glibc's does. (i386's
// SYS_select is the old one-struct-argument call; _newselect is the real one.)
#[cfg(target_arch = "x86_64")]
const SYS_SELECT: libc::c_long = libc::SYS_select;
#[cfg(target_arch = "x86")]
const SYS_SELECT: libc::c_long = libc::SYS__newselect;
fast_point! { SYS_SELECT =>
    select(nfds: c_int, r: *mut fd_set, w: *mut fd_set, e: *mut fd_set, timeout: *mut libc::timeval) -> c_int;
    __select(nfds: c_int, r: *mut fd_set, w: *mut fd_set, e: *mut fd_set, timeout: *mut libc::timeval) -> c_int;
}

/// Returns an error number, not -1/errno. Sleeping on the calling thread's own CPU clock can
/// never end: glibc (and musl) say `EINVAL` where the kernel would say `EOPNOTSUPP`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn clock_nanosleep(
    clock: clockid_t,
    flags: c_int,
    req: *const timespec,
    rem: *mut timespec,
) -> c_int {
    if clock == libc::CLOCK_THREAD_CPUTIME_ID {
        return libc::EINVAL;
    }
    // SAFETY: the caller's pointers go to the kernel, which validates them.
    errno_ret(unsafe {
        syscall_cp(
            libc::SYS_clock_nanosleep,
            clock as usize,
            flags as usize,
            req as usize,
            rem as usize,
            0,
            0,
        )
    })
}

/// glibc's semantics: the whole seconds not slept if interrupted (errno EINTR), else 0 with
/// errno untouched. Where time_t is 32 bits, sleeps longer than its maximum go in steps.
#[unsafe(no_mangle)]
pub extern "C" fn sleep(seconds: c_uint) -> c_uint {
    let step_max = c_uint::try_from(libc::time_t::MAX).unwrap_or(c_uint::MAX);
    let mut left = seconds;
    // At least one nanosleep, as glibc and musl do: sleep(0) is a cancellation point too.
    loop {
        let step = left.min(step_max);
        left -= step;
        let mut ts = timespec {
            tv_sec: step as libc::time_t,
            tv_nsec: 0,
        };
        let ts_ptr = &raw mut ts as usize;
        // SAFETY: `ts` is valid for reading and writing.
        let raw = unsafe { syscall_cp(libc::SYS_nanosleep, ts_ptr, ts_ptr, 0, 0, 0, 0) };
        if raw < 0 {
            set_errno(-raw as c_int);
            return left + ts.tv_sec as c_uint;
        }
        if left == 0 {
            return 0;
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn usleep(useconds: useconds_t) -> c_int {
    let ts = timespec {
        tv_sec: (useconds / 1_000_000) as libc::time_t,
        tv_nsec: (useconds % 1_000_000 * 1000) as libc::c_long,
    };
    // SAFETY: `ts` is valid for reading; no remainder is asked for.
    c_ret(unsafe { syscall_cp(libc::SYS_nanosleep, &raw const ts as usize, 0, 0, 0, 0, 0) })
        as c_int
}

/// The caller's timeout, copied so that the kernel's update of it is not seen (glibc's
/// behaviour); a bad pointer is `EFAULT`, as the kernel would report it.
fn timeout_copy(timeout: *const timespec) -> Result<Option<timespec>, i32> {
    if timeout.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL; copy_in validates it through the kernel.
    unsafe { copy_in(timeout) }.map(Some)
}

/// Like glibc, works on a copy of the timeout: the caller's is never modified.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ppoll(
    fds: *mut pollfd,
    nfds: nfds_t,
    timeout: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let mut copy = match timeout_copy(timeout) {
        Ok(copy) => copy,
        Err(errno) => return c_ret(-(errno as isize)) as c_int,
    };
    let timeout = copy.as_mut().map_or(0, |t| t as *mut timespec as usize);
    // SAFETY: the remaining pointers go to the kernel, which validates them.
    c_ret(unsafe {
        syscall_cp(
            libc::SYS_ppoll,
            fds as usize,
            nfds as usize,
            timeout,
            mask as usize,
            KERNEL_SIGSET_SIZE,
            0,
        )
    }) as c_int
}

/// Like glibc, works on a copy of the timeout (POSIX: pselect does not modify it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pselect(
    nfds: c_int,
    r: *mut fd_set,
    w: *mut fd_set,
    e: *mut fd_set,
    timeout: *const timespec,
    mask: *const sigset_t,
) -> c_int {
    let mut copy = match timeout_copy(timeout) {
        Ok(copy) => copy,
        Err(errno) => return c_ret(-(errno as isize)) as c_int,
    };
    let timeout = copy.as_mut().map_or(0, |t| t as *mut timespec as usize);
    // The kernel's 6th argument: {const sigset_t *, size_t}.
    let sigmask = [mask as usize, KERNEL_SIGSET_SIZE];
    // SAFETY: as above; `sigmask` outlives the call.
    c_ret(unsafe {
        syscall_cp(
            libc::SYS_pselect6,
            nfds as usize,
            r as usize,
            w as usize,
            e as usize,
            timeout,
            sigmask.as_ptr() as usize,
        )
    }) as c_int
}
