//! Raw, non-cancellable syscalls with fewer arguments, and the C return convention.

use crate::arch;
use crate::glibc::set_errno;

/// `syscall!(nr, args...)`: a raw syscall with up to 6 arguments, each cast to `usize`.
macro_rules! syscall {
    ($nr:expr $(, $a:expr)* $(,)?) => {
        $crate::sys::raw($nr as isize, &[$($a as usize),*])
    };
}
pub(crate) use syscall;

#[inline(always)]
pub unsafe fn raw(nr: isize, args: &[usize]) -> isize {
    let arg = |i: usize| args.get(i).copied().unwrap_or(0);
    // SAFETY: the caller passes valid arguments for `nr`.
    unsafe { arch::syscall6(nr, arg(0), arg(1), arg(2), arg(3), arg(4), arg(5)) }
}

/// The kernel's sigset size (`_NSIG / 8`), which rt_sigaction, ppoll, pselect6, epoll_pwait,
/// rt_sigsuspend and rt_sigtimedwait all take.
pub const KERNEL_SIGSET_SIZE: usize = 8;

/// Kernel result → C convention: a negative errno becomes -1 with `errno` set.
#[inline(always)]
pub fn c_ret(raw: isize) -> isize {
    if (raw as usize) > (-4096isize) as usize {
        set_errno(-raw as i32);
        -1
    } else {
        raw
    }
}

/// Kernel result → the convention of calls that return an error number (0 on success).
#[inline(always)]
pub fn errno_ret(raw: isize) -> i32 {
    if raw < 0 { -raw as i32 } else { 0 }
}

/// A copy of a caller's optional timeout (`T` is any timespec layout): the kernel writes the
/// time left into what it is given, which glibc's ppoll/pselect do not show the caller. Read
/// with a plain load, as glibc does: a bad pointer faults as it would in glibc (reading through
/// the kernel instead would cost a syscall glibc never makes, which seccomp policies kill).
///
/// # Safety
/// `timeout` must be NULL or valid for reading.
pub unsafe fn copy_timeout<T: Copy>(timeout: *const T) -> Option<T> {
    // SAFETY: the caller's contract.
    unsafe { timeout.as_ref() }.copied()
}
