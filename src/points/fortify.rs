//! `_FORTIFY_SOURCE` entry points: glibc's overflow checks, then the cancellation point.
//! A detected overflow ends the process through glibc's own `__chk_fail` / `__fortify_fail`,
//! with glibc's message.

use core::ffi::{c_char, c_int, c_void};
use libc::{nfds_t, off_t, pollfd, sigset_t, size_t, sockaddr, socklen_t, ssize_t, timespec};

use super::{io, net, time};

unsafe extern "C" {
    fn __chk_fail() -> !;
}

/// glibc's `__fortify_fail(msg)` (GLIBC_PRIVATE, so looked up, not linked); `__chk_fail` if it
/// is not there.
fn fortify_fail(message: &core::ffi::CStr) -> ! {
    // SAFETY: RTLD_DEFAULT lookup with NUL-terminated names; the function takes a C string.
    unsafe {
        let f = crate::glibc::dlsym(crate::glibc::RTLD_DEFAULT, c"__fortify_fail".as_ptr());
        if !f.is_null() {
            let f: extern "C" fn(*const c_char) -> ! = core::mem::transmute(f);
            f(message.as_ptr());
        }
        __chk_fail()
    }
}

fn check(fits: bool) {
    if !fits {
        // SAFETY: no arguments; never returns.
        unsafe { __chk_fail() }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __read_chk(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        buflen: size_t,
    ) -> ssize_t {
        check(count <= buflen);
        // SAFETY: the caller's arguments, checked as glibc checks them.
        unsafe { io::read(fd, buf, count) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __pread_chk(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: off_t,
        buflen: size_t,
    ) -> ssize_t {
        check(count <= buflen);
        // SAFETY: as above.
        unsafe { io::pread(fd, buf, count, offset) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __pread64_chk(
        fd: c_int,
        buf: *mut c_void,
        count: size_t,
        offset: libc::off64_t,
        buflen: size_t,
    ) -> ssize_t {
        check(count <= buflen);
        // SAFETY: as above.
        unsafe { io::pread64(fd, buf, count, offset) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __recv_chk(
        fd: c_int,
        buf: *mut c_void,
        len: size_t,
        buflen: size_t,
        flags: c_int,
    ) -> ssize_t {
        check(len <= buflen);
        // SAFETY: as above.
        unsafe { net::recv(fd, buf, len, flags) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __recvfrom_chk(
        fd: c_int,
        buf: *mut c_void,
        len: size_t,
        buflen: size_t,
        flags: c_int,
        addr: *mut sockaddr,
        alen: *mut socklen_t,
    ) -> ssize_t {
        check(len <= buflen);
        // SAFETY: as above.
        unsafe { net::recvfrom(fd, buf, len, flags, addr, alen) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __poll_chk(
        fds: *mut pollfd,
        nfds: nfds_t,
        timeout: c_int,
        fdslen: size_t,
    ) -> c_int {
        check(fdslen / core::mem::size_of::<pollfd>() >= nfds as size_t);
        // SAFETY: as above.
        unsafe { time::poll(fds, nfds, timeout) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __ppoll_chk(
        fds: *mut pollfd,
        nfds: nfds_t,
        timeout: *const timespec,
        mask: *const sigset_t,
        fdslen: size_t,
    ) -> c_int {
        check(fdslen / core::mem::size_of::<pollfd>() >= nfds as size_t);
        time::ppoll(fds, nfds, timeout, mask)
    }
}

/// glibc's `__OPEN_NEEDS_MODE`: O_CREAT, or O_TMPFILE (which includes O_DIRECTORY).
fn needs_mode(flags: c_int) -> bool {
    flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
}

/// glibc's message names the function the program called.
fn check_open(flags: c_int, message: &core::ffi::CStr) {
    if needs_mode(flags) {
        fortify_fail(message);
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __open_2(path: *const c_char, flags: c_int) -> c_int {
        check_open(
            flags,
            c"invalid open call: O_CREAT or O_TMPFILE without mode",
        );
        // SAFETY: as above; no mode is needed.
        unsafe { io::open(path, flags, 0) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __open64_2(path: *const c_char, flags: c_int) -> c_int {
        check_open(
            flags,
            c"invalid open64 call: O_CREAT or O_TMPFILE without mode",
        );
        // SAFETY: as above.
        unsafe { io::open64(path, flags, 0) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __openat_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
        check_open(
            flags,
            c"invalid openat call: O_CREAT or O_TMPFILE without mode",
        );
        // SAFETY: as above.
        unsafe { io::openat(dirfd, path, flags, 0) }
    }
}

crate::arch::export! {
    pub unsafe extern "C" fn __openat64_2(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
        check_open(
            flags,
            c"invalid openat64 call: O_CREAT or O_TMPFILE without mode",
        );
        // SAFETY: as above.
        unsafe { io::openat64(dirfd, path, flags, 0) }
    }
}
