//! Waiting for signals: pause, sigsuspend, sigpause, sigwait, sigwaitinfo, sigtimedwait.

use core::ffi::c_int;
use libc::{siginfo_t, sigset_t, timespec};

use super::alias;
use crate::arch::fast_point;
use crate::glibc::set_errno;
use crate::sys::{KERNEL_SIGSET_SIZE, c_ret, syscall};
use crate::syscall_cp::syscall_cp;

fast_point! { libc::SYS_pause => pause() -> c_int; }

extern "C" fn sigsuspend_impl(mask: *const sigset_t) -> c_int {
    // SAFETY: the kernel reads the mask and validates the pointer.
    c_ret(unsafe {
        syscall_cp(
            libc::SYS_rt_sigsuspend,
            mask as usize,
            KERNEL_SIGSET_SIZE,
            0,
            0,
            0,
            0,
        )
    }) as c_int
}
alias! { sigsuspend_impl =>
    sigsuspend(mask: *const sigset_t) -> c_int;
    __sigsuspend(mask: *const sigset_t) -> c_int;
}

crate::arch::export! {
    /// glibc's `__sigpause(sig_or_mask, is_sig)`: XSI (`is_sig`): suspend with `sig` removed from
    /// the current mask; BSD: suspend with the mask whose low 32 bits are `sig_or_mask`.
    pub extern "C" fn __sigpause(sig_or_mask: c_int, is_sig: c_int) -> c_int {
        let mut mask = [0u64; 16]; // a glibc sigset_t
        if is_sig != 0 {
            // glibc's sigdelset refuses its two internal signals as well as invalid ones.
            if !(1..=64).contains(&sig_or_mask) || sig_or_mask == 32 || sig_or_mask == 33 {
                set_errno(libc::EINVAL);
                return -1;
            }
            // SAFETY: reads the current mask into `mask`.
            unsafe {
                syscall!(
                    libc::SYS_rt_sigprocmask,
                    libc::SIG_BLOCK,
                    0,
                    mask.as_mut_ptr(),
                    KERNEL_SIGSET_SIZE
                )
            };
            mask[0] &= !(1u64 << (sig_or_mask - 1));
        } else {
            mask[0] = sig_or_mask as u32 as u64;
        }
        sigsuspend_impl(mask.as_ptr().cast())
    }
}

crate::arch::export! {
    /// BSD `sigpause(mask)` (glibc's default `sigpause`).
    pub extern "C" fn sigpause(mask: c_int) -> c_int {
        __sigpause(mask, 0)
    }
}

crate::arch::export! {
    /// XSI `sigpause(sig)` (what `sigpause` means under `_XOPEN_SOURCE`).
    pub extern "C" fn __xpg_sigpause(sig: c_int) -> c_int {
        __sigpause(sig, 1)
    }
}

/// `sigtimedwait`, with glibc's fix-up: a signal sent with tkill/tgkill reports SI_USER.
fn timed_wait(
    nr: libc::c_long,
    set: *const sigset_t,
    info: *mut siginfo_t,
    timeout: usize,
) -> c_int {
    // SAFETY: the caller's pointers go to the kernel, which validates them.
    let raw = unsafe {
        syscall_cp(
            nr,
            set as usize,
            info as usize,
            timeout,
            KERNEL_SIGSET_SIZE,
            0,
            0,
        )
    };
    if raw > 0 {
        // SAFETY: the kernel has just filled *info.
        if let Some(info) = unsafe { info.as_mut() }
            && info.si_code == libc::SI_TKILL
        {
            info.si_code = libc::SI_USER;
        }
    }
    c_ret(raw) as c_int
}

extern "C" fn sigtimedwait_impl(
    set: *const sigset_t,
    info: *mut siginfo_t,
    timeout: *const timespec,
) -> c_int {
    timed_wait(libc::SYS_rt_sigtimedwait, set, info, timeout as usize)
}
alias! { sigtimedwait_impl =>
    sigtimedwait(set: *const sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int;
    __sigtimedwait(set: *const sigset_t, info: *mut siginfo_t, timeout: *const timespec) -> c_int;
}

crate::arch::export! {
    pub extern "C" fn sigwaitinfo(set: *const sigset_t, info: *mut siginfo_t) -> c_int {
        sigtimedwait_impl(set, info, core::ptr::null())
    }
}

crate::arch::export! {
    /// Returns an error number, not -1/errno; retries when another signal's handler interrupts it.
    pub unsafe extern "C" fn sigwait(set: *const sigset_t, sig: *mut c_int) -> c_int {
        loop {
            // SAFETY: the caller's set goes to the kernel, which validates it.
            let raw = unsafe {
                syscall_cp(
                    libc::SYS_rt_sigtimedwait,
                    set as usize,
                    0,
                    0,
                    KERNEL_SIGSET_SIZE,
                    0,
                    0,
                )
            };
            match raw {
                r if r == -(libc::EINTR as isize) => continue,
                r if r < 0 => return -r as c_int,
                r => {
                    // SAFETY: POSIX requires `sig` to be valid.
                    unsafe { *sig = r as c_int };
                    return 0;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86")]
crate::arch::export! {
    /// i386 `_TIME_BITS=64` entry point.
    pub extern "C" fn __sigtimedwait64(
        set: *const sigset_t,
        info: *mut siginfo_t,
        timeout: *const super::Timespec64,
    ) -> c_int {
        timed_wait(
            crate::arch::nr::RT_SIGTIMEDWAIT_TIME64,
            set,
            info,
            timeout as usize,
        )
    }
}
