//! The calls glibc also makes cancellable beyond POSIX's and musl's lists: moving data between
//! descriptors (splice, tee, vmsplice, copy_file_range), syncing and allocating file ranges,
//! and opening by handle. ptcancel owns the cancel signal, so glibc's wrappers of these could
//! never be cancelled again: they are ptcancel's points too.

use core::ffi::{c_int, c_uint, c_void};
use libc::{iovec, loff_t, off64_t, size_t, ssize_t};

use crate::arch::fast_point;

fast_point! { libc::SYS_splice =>
    splice(fd_in: c_int, off_in: *mut loff_t, fd_out: c_int, off_out: *mut loff_t, len: size_t, flags: c_uint) -> ssize_t;
}
fast_point! { libc::SYS_tee =>
    tee(fd_in: c_int, fd_out: c_int, len: size_t, flags: c_uint) -> ssize_t;
}
fast_point! { libc::SYS_vmsplice =>
    vmsplice(fd: c_int, iov: *const iovec, count: size_t, flags: c_uint) -> ssize_t;
}
fast_point! { libc::SYS_copy_file_range =>
    copy_file_range(fd_in: c_int, off_in: *mut off64_t, fd_out: c_int, off_out: *mut off64_t, len: size_t, flags: c_uint) -> ssize_t;
}
fast_point! { libc::SYS_open_by_handle_at =>
    open_by_handle_at(mount_fd: c_int, handle: *mut c_void, flags: c_int) -> c_int;
}

// The 64-bit offsets: on x86_64 one register each; on i386 two stack words each, low first,
// which is exactly how the i386 syscalls take them (fd, lo, hi, lo, hi, flags): the words go
// to the kernel unchanged.
fast_point! { libc::SYS_sync_file_range =>
    sync_file_range(fd: c_int, offset: off64_t, nbytes: off64_t, flags: c_uint) -> c_int;
}
#[cfg(target_arch = "x86_64")]
fast_point! { libc::SYS_fallocate =>
    fallocate(fd: c_int, mode: c_int, offset: off64_t, len: off64_t) -> c_int;
    fallocate64(fd: c_int, mode: c_int, offset: off64_t, len: off64_t) -> c_int;
}
#[cfg(target_arch = "x86")]
fast_point! { libc::SYS_fallocate =>
    fallocate64(fd: c_int, mode: c_int, offset: off64_t, len: off64_t) -> c_int;
}

#[cfg(target_arch = "x86")]
crate::arch::export! {
    /// i386's `fallocate` with a 32-bit `off_t`: widened to the syscall's 64-bit halves.
    pub extern "C" fn fallocate(
        fd: c_int,
        mode: c_int,
        offset: libc::off_t,
        len: libc::off_t,
    ) -> c_int {
        let (offset, len) = (i64::from(offset) as u64, i64::from(len) as u64);
        // SAFETY: integer arguments only.
        crate::sys::c_ret(unsafe {
            crate::syscall_cp::syscall_cp(
                libc::SYS_fallocate,
                fd as usize,
                mode as usize,
                offset as u32 as usize,
                (offset >> 32) as usize,
                len as u32 as usize,
                (len >> 32) as usize,
            )
        }) as c_int
    }
}
