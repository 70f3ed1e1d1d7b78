//! Sleeping and waiting cancellation points.

use core::ffi::{c_int, c_uint};
use libc::{clockid_t, fd_set, nfds_t, pollfd, sigset_t, timespec, useconds_t};

use crate::arch::fast_point;
use crate::glibc::set_errno;
use crate::sys::{KERNEL_SIGSET_SIZE, c_ret, copy_timeout, errno_ret};
use crate::syscall_cp::syscall_cp;

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

/// clock_nanosleep through syscall `nr` (the time64 one for i386's 64-bit-time entry): returns
/// an error number, not -1/errno. Sleeping on the calling thread's own CPU clock can never end:
/// glibc (and musl) say `EINVAL` where the kernel would say `EOPNOTSUPP`.
pub(super) fn clock_sleep(
    nr: libc::c_long,
    clock: clockid_t,
    flags: c_int,
    req: usize,
    rem: usize,
) -> c_int {
    if clock == libc::CLOCK_THREAD_CPUTIME_ID {
        return libc::EINVAL;
    }
    // SAFETY: the caller's pointers go to the kernel, which validates them.
    errno_ret(unsafe { syscall_cp(nr, clock as usize, flags as usize, req, rem, 0, 0) })
}

crate::arch::export! {
    pub extern "C" fn clock_nanosleep(
        clock: clockid_t,
        flags: c_int,
        req: *const timespec,
        rem: *mut timespec,
    ) -> c_int {
        clock_sleep(
            libc::SYS_clock_nanosleep,
            clock,
            flags,
            req as usize,
            rem as usize,
        )
    }
}

crate::arch::export! {
    /// glibc's semantics: the whole seconds not slept if interrupted (errno EINTR), else 0 with
    /// errno untouched. Where time_t is 32 bits, sleeps longer than its maximum go in steps.
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
}

crate::arch::export! {
    pub extern "C" fn usleep(useconds: useconds_t) -> c_int {
        let ts = timespec {
            tv_sec: (useconds / 1_000_000) as libc::time_t,
            tv_nsec: (useconds % 1_000_000 * 1000) as libc::c_long,
        };
        // SAFETY: `ts` is valid for reading; no remainder is asked for.
        c_ret(unsafe { syscall_cp(libc::SYS_nanosleep, &raw const ts as usize, 0, 0, 0, 0, 0) })
            as c_int
    }
}

/// ppoll through syscall `nr`, on a copy of the timeout (`T`: the timespec layout `nr` takes),
/// so that the caller's is never modified, as with glibc.
pub(super) fn ppoll_copying<T: Copy>(
    nr: libc::c_long,
    fds: *mut pollfd,
    nfds: nfds_t,
    timeout: *const T,
    mask: *const sigset_t,
) -> c_int {
    // SAFETY: the C caller's timeout is NULL or readable (glibc reads it the same way).
    let mut copy = unsafe { copy_timeout(timeout) };
    let timeout = copy.as_mut().map_or(0, |t| t as *mut T as usize);
    // SAFETY: the remaining pointers go to the kernel, which validates them.
    c_ret(unsafe {
        syscall_cp(
            nr,
            fds as usize,
            nfds as usize,
            timeout,
            mask as usize,
            KERNEL_SIGSET_SIZE,
            0,
        )
    }) as c_int
}

/// pselect6 through syscall `nr` with `timeout` (an address, possibly 0) as is: raw result.
pub(super) fn pselect_raw(
    nr: libc::c_long,
    nfds: c_int,
    sets: [*mut fd_set; 3],
    timeout: usize,
    mask: *const sigset_t,
) -> isize {
    // The kernel's 6th argument: {const sigset_t *, size_t}.
    let sigmask = [mask as usize, KERNEL_SIGSET_SIZE];
    let [r, w, e] = sets.map(|set| set as usize);
    // SAFETY: the caller's pointers go to the kernel, which validates them; `sigmask`
    // outlives the call.
    unsafe {
        syscall_cp(
            nr,
            nfds as usize,
            r,
            w,
            e,
            timeout,
            sigmask.as_ptr() as usize,
        )
    }
}

/// pselect on a copy of the timeout (POSIX: pselect does not modify it), as glibc.
pub(super) fn pselect_copying<T: Copy>(
    nr: libc::c_long,
    nfds: c_int,
    sets: [*mut fd_set; 3],
    timeout: *const T,
    mask: *const sigset_t,
) -> c_int {
    // SAFETY: the C caller's timeout is NULL or readable (glibc reads it the same way).
    let mut copy = unsafe { copy_timeout(timeout) };
    let timeout = copy.as_mut().map_or(0, |t| t as *mut T as usize);
    c_ret(pselect_raw(nr, nfds, sets, timeout, mask)) as c_int
}

crate::arch::export! {
    pub extern "C" fn ppoll(
        fds: *mut pollfd,
        nfds: nfds_t,
        timeout: *const timespec,
        mask: *const sigset_t,
    ) -> c_int {
        ppoll_copying(libc::SYS_ppoll, fds, nfds, timeout, mask)
    }
}

crate::arch::export! {
    pub extern "C" fn pselect(
        nfds: c_int,
        r: *mut fd_set,
        w: *mut fd_set,
        e: *mut fd_set,
        timeout: *const timespec,
        mask: *const sigset_t,
    ) -> c_int {
        pselect_copying(libc::SYS_pselect6, nfds, [r, w, e], timeout, mask)
    }
}
