//! File and pipe I/O cancellation points.

use core::ffi::{c_char, c_int, c_uint, c_void};
use libc::{iovec, off_t, size_t, ssize_t};

use super::alias;
use crate::arch::fast_point;
use crate::syscall_cp;

fast_point! { libc::SYS_read =>
    read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t;
    __read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t;
}
fast_point! { libc::SYS_write =>
    write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t;
    __write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t;
}
fast_point! { libc::SYS_readv =>
    readv(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t;
}
fast_point! { libc::SYS_writev =>
    writev(fd: c_int, iov: *const iovec, iovcnt: c_int) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_pread64 =>
    pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    __pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    __libc_pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_pwrite64 =>
    pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    __pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    __libc_pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
}
// i386: the 64-bit offset's two stack words are already the kernel's (low, high) arguments.
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_pread64 =>
    pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
    __pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_pwrite64 =>
    pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
    __pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: libc::off64_t) -> ssize_t;
}

// open and openat are variadic in C: the mode register is read unconditionally and the kernel
// ignores it unless the flags need it (O_CREAT, O_TMPFILE), which is when C callers pass it.
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_open =>
    open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    __open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    __open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_openat =>
    openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_creat =>
    creat(path: *const c_char, mode: c_uint) -> c_int;
    creat64(path: *const c_char, mode: c_uint) -> c_int;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_open =>
    open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    __open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_openat =>
    openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_creat =>
    creat(path: *const c_char, mode: c_uint) -> c_int;
}

/// i386's 32-bit-offset calls and the large-file names, which add O_LARGEFILE as glibc does.
#[cfg(target_arch = "x86")]
mod i386 {
    use super::*;
    use crate::sys::c_ret;
    use crate::syscall_cp::syscall_cp;

    /// The kernel's (low, high) words of a 32-bit offset: the high word is its sign.
    fn offset_words(offset: off_t) -> (usize, usize) {
        (offset as usize, (offset >> 31) as usize)
    }

    unsafe extern "C" fn pread_impl(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: off_t,
    ) -> ssize_t {
        let (low, high) = offset_words(offset);
        // SAFETY: the caller's buffer goes to the kernel, which validates it.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_pread64,
                fd as usize,
                buf as usize,
                count,
                low,
                high,
                0,
            )
        })
    }
    alias! { pread_impl =>
        pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
        __libc_pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    }

    unsafe extern "C" fn pwrite_impl(
        fd: c_int,
        buf: *const c_void,
        count: size_t,
        offset: off_t,
    ) -> ssize_t {
        let (low, high) = offset_words(offset);
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_pwrite64,
                fd as usize,
                buf as usize,
                count,
                low,
                high,
                0,
            )
        })
    }
    alias! { pwrite_impl =>
        pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
        __libc_pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    }

    /// Variadic in C: `mode` is read like va_arg would, and ignored unless the flags need it.
    unsafe extern "C" fn open64_impl(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
        let flags = (flags | libc::O_LARGEFILE) as usize;
        // SAFETY: the caller's path goes to the kernel, which validates it.
        c_ret(unsafe { syscall_cp(libc::SYS_open, path as usize, flags, mode as usize, 0, 0, 0) })
            as c_int
    }
    alias! { open64_impl =>
        open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
        __open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn openat64(
        dirfd: c_int,
        path: *const c_char,
        flags: c_int,
        mode: c_uint,
    ) -> c_int {
        let flags = (flags | libc::O_LARGEFILE) as usize;
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_openat,
                dirfd as usize,
                path as usize,
                flags,
                mode as usize,
                0,
                0,
            )
        }) as c_int
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn creat64(path: *const c_char, mode: c_uint) -> c_int {
        let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_LARGEFILE) as usize;
        // SAFETY: as above.
        c_ret(unsafe { syscall_cp(libc::SYS_open, path as usize, flags, mode as usize, 0, 0, 0) })
            as c_int
    }
}

/// `close`: cancellable only before the syscall (see [`syscall_cp::close`]).
extern "C" fn close_impl(fd: c_int) -> c_int {
    syscall_cp::close(fd) as c_int
}
alias! { close_impl =>
    close(fd: c_int) -> c_int;
    __close(fd: c_int) -> c_int;
}
