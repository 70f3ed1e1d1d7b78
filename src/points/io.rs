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
fast_point! { libc::SYS_pread64 =>
    pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    __pread64(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
    __libc_pread(fd: c_int, buf: *mut c_void, count: size_t, offset: off_t) -> ssize_t;
}
fast_point! { libc::SYS_pwrite64 =>
    pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    __pwrite64(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
    __libc_pwrite(fd: c_int, buf: *const c_void, count: size_t, offset: off_t) -> ssize_t;
}
// open and openat are variadic in C: the mode register is read unconditionally and the kernel
// ignores it unless the flags need it (O_CREAT, O_TMPFILE), which is when C callers pass it.
fast_point! { libc::SYS_open =>
    open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    __open(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    __open64(path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
fast_point! { libc::SYS_openat =>
    openat(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
    openat64(dirfd: c_int, path: *const c_char, flags: c_int, mode: c_uint) -> c_int;
}
fast_point! { libc::SYS_creat =>
    creat(path: *const c_char, mode: c_uint) -> c_int;
    creat64(path: *const c_char, mode: c_uint) -> c_int;
}

/// `close`: cancellable only before the syscall (see [`syscall_cp::close`]).
#[unsafe(no_mangle)]
pub extern "C" fn close(fd: c_int) -> c_int {
    syscall_cp::close(fd) as c_int
}
alias! { close => __close(fd: c_int) -> c_int; }
