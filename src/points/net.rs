//! Socket cancellation points.

use core::ffi::{c_int, c_void};
use libc::{msghdr, size_t, sockaddr, socklen_t, ssize_t};

use crate::arch::fast_point;

#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_accept =>
    accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
}
fast_point! { libc::SYS_accept4 =>
    accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int;
}
fast_point! { libc::SYS_connect =>
    connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
    __connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int;
}
fast_point! { libc::SYS_recvfrom =>
    recvfrom(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int, addr: *mut sockaddr, alen: *mut socklen_t) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_recvfrom, ["xor r8d, r8d", "xor r9d, r9d"] =>
    recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
    __recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_recvmsg =>
    recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_sendto =>
    sendto(fd: c_int, buf: *const c_void, len: size_t, flags: c_int, addr: *const sockaddr, alen: socklen_t) -> ssize_t;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_sendto, ["xor r8d, r8d", "xor r9d, r9d"] =>
    send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
    __send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_sendmsg =>
    sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
}

/// i386 has no accept, recv or send syscalls (only socketcall): their fuller siblings, with the
/// extra arguments zero, do the same.
#[cfg(target_arch = "x86")]
pub use i386::*;

#[cfg(target_arch = "x86")]
mod i386 {
    use super::*;
    use crate::points::alias;
    use crate::sys::c_ret;
    use crate::syscall_cp::syscall_cp;

    unsafe extern "C" fn accept_impl(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
        // SAFETY: the caller's pointers go to the kernel, which validates them.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_accept4,
                fd as usize,
                addr as usize,
                len as usize,
                0,
                0,
                0,
            )
        }) as c_int
    }

    unsafe extern "C" fn recv_impl(
        fd: c_int,
        buf: *mut c_void,
        len: size_t,
        flags: c_int,
    ) -> ssize_t {
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_recvfrom,
                fd as usize,
                buf as usize,
                len,
                flags as usize,
                0,
                0,
            )
        })
    }
    alias! { accept_impl =>
        accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int;
    }
    alias! { recv_impl =>
        recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
        __recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
    }

    unsafe extern "C" fn send_impl(
        fd: c_int,
        buf: *const c_void,
        len: size_t,
        flags: c_int,
    ) -> ssize_t {
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_sendto,
                fd as usize,
                buf as usize,
                len,
                flags as usize,
                0,
                0,
            )
        })
    }
    alias! { send_impl =>
        send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
        __send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
    }
}

// The kernel updates recvmmsg's timeout to the time left, as glibc's does on x86_64.
fast_point! { libc::SYS_recvmmsg =>
    recvmmsg(fd: c_int, msgs: *mut libc::mmsghdr, count: libc::c_uint, flags: c_int, timeout: *mut libc::timespec) -> c_int;
}
fast_point! { libc::SYS_sendmmsg =>
    sendmmsg(fd: c_int, msgs: *mut libc::mmsghdr, count: libc::c_uint, flags: c_int) -> c_int;
    __sendmmsg(fd: c_int, msgs: *mut libc::mmsghdr, count: libc::c_uint, flags: c_int) -> c_int;
}

// i386 `_TIME_BITS=64` names that glibc gives the same functions.
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_sendmsg =>
    __sendmsg64(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_sendmmsg =>
    __sendmmsg64(fd: c_int, msgs: *mut libc::mmsghdr, count: libc::c_uint, flags: c_int) -> c_int;
}
