//! File and pipe I/O cancellation points.

use core::ffi::{c_char, c_int, c_uint, c_void};
use libc::{iovec, off_t, size_t, ssize_t};

use super::alias;
use crate::arch::fast_point;
use crate::sys::c_ret;
use crate::syscall_cp::{self, syscall_cp};

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
pub use i386::*;

#[cfg(target_arch = "x86")]
mod i386 {
    use super::*;
    use crate::sys::c_ret;
    use crate::syscall_cp::syscall_cp;

    unsafe extern "C" fn pread_impl(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: off_t,
    ) -> ssize_t {
        let (low, high) = super::offset_words(offset.into());
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
        let (low, high) = super::offset_words(offset.into());
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

    crate::arch::export! {
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
    }

    crate::arch::export! {
        pub unsafe extern "C" fn creat64(path: *const c_char, mode: c_uint) -> c_int {
            let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_LARGEFILE) as usize;
            // SAFETY: as above.
            c_ret(unsafe { syscall_cp(libc::SYS_open, path as usize, flags, mode as usize, 0, 0, 0) })
                as c_int
        }
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

fast_point! { libc::SYS_getrandom =>
    getrandom(buf: *mut c_void, len: size_t, flags: c_uint) -> ssize_t;
}

// Vectored I/O at an offset. The kernel takes the offset as (low, high) words; on x86_64 the
// high word is ignored, so preadv/pwritev go straight through.
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_preadv =>
    preadv(fd: c_int, iov: *const iovec, count: c_int, offset: off_t) -> ssize_t;
    preadv64(fd: c_int, iov: *const iovec, count: c_int, offset: off_t) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_pwritev =>
    pwritev(fd: c_int, iov: *const iovec, count: c_int, offset: off_t) -> ssize_t;
    pwritev64(fd: c_int, iov: *const iovec, count: c_int, offset: off_t) -> ssize_t;
}
// i386: a 64-bit offset's stack words are already (low, high).
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_preadv =>
    preadv64(fd: c_int, iov: *const iovec, count: c_int, offset: libc::off64_t) -> ssize_t;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_pwritev =>
    pwritev64(fd: c_int, iov: *const iovec, count: c_int, offset: libc::off64_t) -> ssize_t;
}

/// A file offset as the kernel's pread64/preadv/preadv2 family takes it: (low, high) words.
/// On x86_64 the low word is the whole offset and the kernel ignores the high one.
fn offset_words(offset: i64) -> (usize, usize) {
    (offset as usize, ((offset as u64) >> 32) as usize)
}

fn rw_v2(
    nr: libc::c_long,
    fd: c_int,
    iov: *const iovec,
    count: c_int,
    offset: i64,
    flags: c_int,
) -> ssize_t {
    let (low, high) = offset_words(offset);
    // SAFETY: the caller's vector goes to the kernel, which validates it.
    c_ret(unsafe {
        syscall_cp(
            nr,
            fd as usize,
            iov as usize,
            count as usize,
            low,
            high,
            flags as usize,
        )
    })
}

/// `preadv2`/`pwritev2`: offset -1 means the file position (so they block on pipes like readv).
extern "C" fn preadv2_impl(
    fd: c_int,
    iov: *const iovec,
    count: c_int,
    offset: off_t,
    flags: c_int,
) -> ssize_t {
    rw_v2(libc::SYS_preadv2, fd, iov, count, offset.into(), flags)
}
extern "C" fn pwritev2_impl(
    fd: c_int,
    iov: *const iovec,
    count: c_int,
    offset: off_t,
    flags: c_int,
) -> ssize_t {
    rw_v2(libc::SYS_pwritev2, fd, iov, count, offset.into(), flags)
}
#[cfg(target_arch = "x86_64")]
alias! { preadv2_impl =>
    preadv2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t;
    preadv64v2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
alias! { pwritev2_impl =>
    pwritev2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t;
    pwritev64v2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t;
}
#[cfg(target_arch = "x86")]
alias! { preadv2_impl => preadv2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t; }
#[cfg(target_arch = "x86")]
alias! { pwritev2_impl => pwritev2(fd: c_int, iov: *const iovec, count: c_int, offset: off_t, flags: c_int) -> ssize_t; }

/// i386's 64-bit-offset and 32-bit-offset vectored calls.
#[cfg(target_arch = "x86")]
mod i386_vectored {
    use super::*;

    crate::arch::export! {
        pub extern "C" fn preadv64v2(
            fd: c_int,
            iov: *const iovec,
            count: c_int,
            offset: libc::off64_t,
            flags: c_int,
        ) -> ssize_t {
            rw_v2(libc::SYS_preadv2, fd, iov, count, offset, flags)
        }
    }
    crate::arch::export! {
        pub extern "C" fn pwritev64v2(
            fd: c_int,
            iov: *const iovec,
            count: c_int,
            offset: libc::off64_t,
            flags: c_int,
        ) -> ssize_t {
            rw_v2(libc::SYS_pwritev2, fd, iov, count, offset, flags)
        }
    }
    crate::arch::export! {
        pub extern "C" fn preadv(fd: c_int, iov: *const iovec, count: c_int, offset: off_t) -> ssize_t {
            rw_v2(libc::SYS_preadv, fd, iov, count, offset.into(), 0)
        }
    }
    crate::arch::export! {
        pub extern "C" fn pwritev(
            fd: c_int,
            iov: *const iovec,
            count: c_int,
            offset: off_t,
        ) -> ssize_t {
            rw_v2(libc::SYS_pwritev, fd, iov, count, offset.into(), 0)
        }
    }
}

crate::arch::export! {
    /// glibc's `eventfd_read`: one 8-byte read of the counter; 0, or -1 with errno (also for a
    /// short read, which an eventfd never gives).
    ///
    /// # Safety
    /// `value` must be writable.
    pub unsafe extern "C" fn eventfd_read(fd: c_int, value: *mut u64) -> c_int {
        // SAFETY: the kernel validates `value`.
        let n = c_ret(unsafe { syscall_cp(libc::SYS_read, fd as usize, value as usize, 8, 0, 0, 0) });
        if n == 8 { 0 } else { -1 }
    }
}

crate::arch::export! {
    /// glibc's `eventfd_write`: one 8-byte write of `value`.
    pub extern "C" fn eventfd_write(fd: c_int, value: u64) -> c_int {
        let at = &raw const value as usize;
        // SAFETY: `value` lives on our stack for the call.
        let n = c_ret(unsafe { syscall_cp(libc::SYS_write, fd as usize, at, 8, 0, 0, 0) });
        if n == 8 { 0 } else { -1 }
    }
}
