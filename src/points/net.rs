//! Socket cancellation points.

use core::ffi::{c_int, c_void};
use libc::{msghdr, size_t, sockaddr, socklen_t, ssize_t};

use crate::arch::{fast_point, fast_point_null56};

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
fast_point_null56! { libc::SYS_recvfrom =>
    recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
    __recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_recvmsg =>
    recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_sendto =>
    sendto(fd: c_int, buf: *const c_void, len: size_t, flags: c_int, addr: *const sockaddr, alen: socklen_t) -> ssize_t;
}
fast_point_null56! { libc::SYS_sendto =>
    send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
    __send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t;
}
fast_point! { libc::SYS_sendmsg =>
    sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t;
}
