//! i386 `_TIME_BITS=64` entry points: the 64-bit-time calls glibc exports, on the kernel's
//! time64 syscalls (Linux 5.1+).

use core::ffi::c_int;
use libc::{clockid_t, fd_set, mqd_t, nfds_t, pollfd, sigset_t, size_t, ssize_t};

use super::Timespec64;
use super::time::{clock_sleep, ppoll_copying, pselect_copying, pselect_raw};
use crate::arch::nr;
use crate::glibc::set_errno;
use crate::sys::c_ret;
use crate::syscall_cp::syscall_cp;

crate::arch::export! {
    pub extern "C" fn __clock_nanosleep_time64(
        clock: clockid_t,
        flags: c_int,
        req: *const Timespec64,
        rem: *mut Timespec64,
    ) -> c_int {
        clock_sleep(
            nr::CLOCK_NANOSLEEP_TIME64,
            clock,
            flags,
            req as usize,
            rem as usize,
        )
    }
}

crate::arch::export! {
    pub extern "C" fn __nanosleep64(req: *const Timespec64, rem: *mut Timespec64) -> c_int {
        match __clock_nanosleep_time64(libc::CLOCK_REALTIME, 0, req, rem) {
            0 => 0,
            errno => {
                set_errno(errno);
                -1
            }
        }
    }
}

crate::arch::export! {
    pub extern "C" fn __ppoll64(
        fds: *mut pollfd,
        nfds: nfds_t,
        timeout: *const Timespec64,
        mask: *const sigset_t,
    ) -> c_int {
        ppoll_copying(nr::PPOLL_TIME64, fds, nfds, timeout, mask)
    }
}

crate::arch::export! {
    pub extern "C" fn __pselect64(
        nfds: c_int,
        r: *mut fd_set,
        w: *mut fd_set,
        e: *mut fd_set,
        timeout: *const Timespec64,
        mask: *const sigset_t,
    ) -> c_int {
        pselect_copying(nr::PSELECT6_TIME64, nfds, [r, w, e], timeout, mask)
    }
}

/// glibc's `struct __timeval64`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Timeval64 {
    tv_sec: i64,
    tv_usec: i64,
}

crate::arch::export! {
    /// glibc's `__select64`: the timeval is normalised (and must not be negative), the wait goes
    /// through pselect6, and the time left is written back, as Linux's select does.
    pub unsafe extern "C" fn __select64(
        nfds: c_int,
        r: *mut fd_set,
        w: *mut fd_set,
        e: *mut fd_set,
        timeout: *mut Timeval64,
    ) -> c_int {
        // SAFETY: POSIX requires the timeout to be NULL or valid (glibc reads it directly too).
        let Some(tv) = (unsafe { timeout.as_mut() }) else {
            return c_ret(pselect_raw(
                nr::PSELECT6_TIME64,
                nfds,
                [r, w, e],
                0,
                core::ptr::null(),
            )) as c_int;
        };
        if tv.tv_sec < 0 || tv.tv_usec < 0 {
            set_errno(libc::EINVAL);
            return -1;
        }
        let carry = tv.tv_usec / 1_000_000;
        let mut ts = if carry > i64::MAX - tv.tv_sec {
            Timespec64 {
                tv_sec: i64::MAX,
                tv_nsec: 999_999_999,
            }
        } else {
            Timespec64 {
                tv_sec: tv.tv_sec + carry,
                tv_nsec: tv.tv_usec % 1_000_000 * 1000,
            }
        };
        let raw = pselect_raw(
            nr::PSELECT6_TIME64,
            nfds,
            [r, w, e],
            &raw mut ts as usize,
            core::ptr::null(),
        );
        tv.tv_sec = ts.tv_sec;
        tv.tv_usec = ts.tv_nsec / 1000;
        c_ret(raw) as c_int
    }
}

crate::arch::export! {
    pub extern "C" fn __mq_timedreceive_time64(
        q: mqd_t,
        buf: *mut core::ffi::c_char,
        len: size_t,
        prio: *mut core::ffi::c_uint,
        timeout: *const Timespec64,
    ) -> ssize_t {
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                nr::MQ_TIMEDRECEIVE_TIME64,
                q as usize,
                buf as usize,
                len,
                prio as usize,
                timeout as usize,
                0,
            )
        })
    }
}

crate::arch::export! {
    pub extern "C" fn __mq_timedsend_time64(
        q: mqd_t,
        buf: *const core::ffi::c_char,
        len: size_t,
        prio: core::ffi::c_uint,
        timeout: *const Timespec64,
    ) -> c_int {
        // SAFETY: as above.
        c_ret(unsafe {
            syscall_cp(
                nr::MQ_TIMEDSEND_TIME64,
                q as usize,
                buf as usize,
                len,
                prio as usize,
                timeout as usize,
                0,
            )
        }) as c_int
    }
}

/// glibc's `struct __rusage64`: the 32-bit rusage with 64-bit timevals.
#[repr(C)]
pub struct Rusage64 {
    utime: Timeval64,
    stime: Timeval64,
    rest: [core::ffi::c_long; 14],
}

crate::arch::export! {
    /// `__wait4_time64`: the kernel's 32-bit rusage, widened.
    pub extern "C" fn __wait4_time64(
        pid: libc::pid_t,
        status: *mut c_int,
        options: c_int,
        usage: *mut Rusage64,
    ) -> libc::pid_t {
        // SAFETY: an all-zero rusage is valid.
        let mut narrow: libc::rusage = unsafe { core::mem::zeroed() };
        let narrow_ptr = if usage.is_null() {
            0
        } else {
            &raw mut narrow as usize
        };
        // SAFETY: the caller's status pointer goes to the kernel; `narrow` is ours.
        let raw = unsafe {
            syscall_cp(
                libc::SYS_wait4,
                pid as usize,
                status as usize,
                options as usize,
                narrow_ptr,
                0,
                0,
            )
        };
        // SAFETY: the caller's rusage pointer, when not NULL, is valid for writing (glibc writes it too).
        if let (true, Some(usage)) = (raw > 0, unsafe { usage.as_mut() }) {
            usage.utime = Timeval64 {
                tv_sec: narrow.ru_utime.tv_sec.into(),
                tv_usec: narrow.ru_utime.tv_usec.into(),
            };
            usage.stime = Timeval64 {
                tv_sec: narrow.ru_stime.tv_sec.into(),
                tv_usec: narrow.ru_stime.tv_usec.into(),
            };
            // SAFETY: the 14 longs after the two timevals have the same layout in both structs.
            usage.rest = unsafe { *((&raw const narrow.ru_maxrss) as *const [core::ffi::c_long; 14]) };
        }
        c_ret(raw) as libc::pid_t
    }
}

crate::arch::export! {
    pub extern "C" fn __wait3_time64(
        status: *mut c_int,
        options: c_int,
        usage: *mut Rusage64,
    ) -> libc::pid_t {
        __wait4_time64(-1, status, options, usage)
    }
}

/// SOL_SOCKET control-message types: the 32-bit-time timestamps the kernel sends an i386
/// process, and their 64-bit-time versions that `_TIME_BITS=64` callers look for.
const SO_TIMESTAMP_OLD: c_int = 29;
const SO_TIMESTAMPNS_OLD: c_int = 35;
const SO_TIMESTAMP_NEW: c_int = 63;
const SO_TIMESTAMPNS_NEW: c_int = 64;
/// `struct cmsghdr` on i386: {size_t len; int level; int type;}, aligned to 4.
const CMSG_HEADER: usize = 12;
const TIMESTAMP64: usize = 16;

const fn cmsg_align(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// glibc's conversion for 64-bit-time callers: the first 32-bit SO_TIMESTAMP (or the last
/// SO_TIMESTAMPNS) control message is widened into a 64-bit one appended after the last
/// message, if `capacity` (the control buffer's size before the call) has room; otherwise
/// MSG_CTRUNC is set.
///
/// # Safety
/// `msg` is a msghdr the kernel has just filled, whose control buffer holds `capacity` bytes.
unsafe fn append_time64_timestamp(msg: &mut libc::msghdr, capacity: usize) {
    let control = msg.msg_control as *mut u8;
    let used = msg.msg_controllen;
    if control.is_null() || used == 0 {
        return;
    }
    let word = |at: usize| -> u32 {
        // SAFETY: callers only read inside the `used` bytes the kernel wrote.
        unsafe { (control.add(at) as *const u32).read_unaligned() }
    };
    let (mut found, mut value, mut last_end) = (0, [0i64; 2], 0usize);
    let mut at = 0;
    // The CMSG_FIRSTHDR / CMSG_NXTHDR walk.
    while at + CMSG_HEADER <= used {
        let len = word(at) as usize;
        if at.saturating_add(cmsg_align(len)) > used && at != 0 {
            break;
        }
        let (level, kind) = (word(at + 4) as c_int, word(at + 8) as c_int);
        if level == libc::SOL_SOCKET
            && (kind == SO_TIMESTAMPNS_OLD || (kind == SO_TIMESTAMP_OLD && found == 0))
            && at + CMSG_HEADER + 8 <= used
        {
            found = if kind == SO_TIMESTAMP_OLD {
                SO_TIMESTAMP_NEW
            } else {
                SO_TIMESTAMPNS_NEW
            };
            value = [
                word(at + CMSG_HEADER) as i32 as i64,
                word(at + CMSG_HEADER + 4) as i32 as i64,
            ];
        }
        last_end = at.saturating_add(cmsg_align(len));
        if len < CMSG_HEADER {
            break;
        }
        at = last_end;
    }
    if found == 0 {
        return;
    }
    let space = CMSG_HEADER + TIMESTAMP64;
    if space > capacity.saturating_sub(used) {
        msg.msg_flags |= libc::MSG_CTRUNC;
        return;
    }
    msg.msg_controllen = used + space;
    let mut new = [0u8; CMSG_HEADER + TIMESTAMP64];
    new[..4].copy_from_slice(&((CMSG_HEADER + TIMESTAMP64) as u32).to_le_bytes());
    new[4..8].copy_from_slice(&libc::SOL_SOCKET.to_le_bytes());
    new[8..12].copy_from_slice(&found.to_le_bytes());
    new[12..20].copy_from_slice(&value[0].to_le_bytes());
    new[20..28].copy_from_slice(&value[1].to_le_bytes());
    // SAFETY: last_end + space <= used + space <= capacity: inside the caller's buffer.
    unsafe { core::ptr::copy_nonoverlapping(new.as_ptr(), control.add(last_end), space) };
}

crate::arch::export! {
    pub unsafe extern "C" fn __recvmsg64(fd: c_int, msg: *mut libc::msghdr, flags: c_int) -> ssize_t {
        // SAFETY: POSIX requires a valid msghdr (the kernel validates what it points to).
        let capacity = unsafe { msg.as_ref() }.map_or(0, |m| m.msg_controllen);
        // SAFETY: as above.
        let raw = unsafe {
            syscall_cp(
                libc::SYS_recvmsg,
                fd as usize,
                msg as usize,
                flags as usize,
                0,
                0,
                0,
            )
        };
        if raw >= 0 && capacity != 0 {
            // SAFETY: the kernel filled *msg.
            unsafe { append_time64_timestamp(&mut *msg, capacity) };
        }
        c_ret(raw)
    }
}

/// `IOV_MAX`: glibc converts the timestamps of at most this many messages.
const IOV_MAX: usize = 1024;

crate::arch::export! {
    pub unsafe extern "C" fn __recvmmsg64(
        fd: c_int,
        msgs: *mut libc::mmsghdr,
        count: core::ffi::c_uint,
        flags: c_int,
        timeout: *mut Timespec64,
    ) -> c_int {
        let count = (count as usize).min(IOV_MAX);
        let mut capacity = [0usize; IOV_MAX];
        for (i, slot) in capacity[..count].iter_mut().enumerate() {
            // SAFETY: the caller passes `count` valid messages.
            *slot = unsafe { (*msgs.add(i)).msg_hdr.msg_controllen };
        }
        // SAFETY: as above.
        let raw = unsafe {
            syscall_cp(
                nr::RECVMMSG_TIME64,
                fd as usize,
                msgs as usize,
                count,
                flags as usize,
                timeout as usize,
                0,
            )
        };
        for (i, &cap) in capacity[..raw.max(0) as usize].iter().enumerate() {
            // SAFETY: the kernel filled the first `raw` messages.
            unsafe { append_time64_timestamp(&mut (*msgs.add(i)).msg_hdr, cap) };
        }
        c_ret(raw) as c_int
    }
}
