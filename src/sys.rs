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
