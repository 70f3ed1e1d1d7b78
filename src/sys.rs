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

/// Copies a `T` from a caller-supplied pointer without trusting it: the kernel does the read
/// (process_vm_readv on ourselves), so a bad pointer gives `Err(EFAULT)` instead of a crash
/// inside the library. Where that syscall is unavailable (seccomp), reads directly, as glibc.
///
/// # Safety
/// `ptr` must be non-NULL; if process_vm_readv is unavailable it must also be valid.
pub unsafe fn copy_in<T: Copy>(ptr: *const T) -> Result<T, i32> {
    let mut value = core::mem::MaybeUninit::<T>::uninit();
    let size = core::mem::size_of::<T>();
    let local = libc::iovec {
        iov_base: value.as_mut_ptr().cast(),
        iov_len: size,
    };
    let remote = libc::iovec {
        iov_base: ptr as *mut _,
        iov_len: size,
    };
    // SAFETY: both iovecs describe `size` bytes; the kernel checks the remote one.
    let r = unsafe {
        syscall!(
            libc::SYS_process_vm_readv,
            syscall!(libc::SYS_getpid),
            &raw const local,
            1,
            &raw const remote,
            1,
            0
        )
    };
    match r {
        // SAFETY: the kernel filled all `size` bytes.
        r if r == size as isize => Ok(unsafe { value.assume_init() }),
        r if r == -(libc::EFAULT as isize) || r >= 0 => Err(libc::EFAULT),
        // SAFETY: the caller's contract for this fallback.
        _ => Ok(unsafe { ptr.read() }),
    }
}

/// A copy of a caller's optional timeout (`T` is any timespec layout): the kernel writes the
/// time left into what it is given, which glibc's ppoll/pselect do not show the caller. A bad
/// pointer is `Err(-EFAULT)`, a raw kernel-style result.
pub fn copy_timeout<T: Copy>(timeout: *const T) -> Result<Option<T>, isize> {
    if timeout.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL; copy_in validates it through the kernel.
    unsafe { copy_in(timeout) }
        .map(Some)
        .map_err(|errno| -(errno as isize))
}
