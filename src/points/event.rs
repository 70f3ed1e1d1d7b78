//! Waiting for events: epoll_wait, epoll_pwait, epoll_pwait2, aio_suspend.

use core::ffi::c_int;
use libc::{aiocb, epoll_event, sigset_t, timespec};

use crate::arch::fast_point;
use crate::glibc::set_errno;
use crate::sys::{KERNEL_SIGSET_SIZE, c_ret, copy_timeout};
use crate::syscall_cp::syscall_cp;

fast_point! { libc::SYS_epoll_wait =>
    epoll_wait(epfd: c_int, events: *mut epoll_event, max: c_int, timeout: c_int) -> c_int;
}

crate::arch::export! {
    pub extern "C" fn epoll_pwait(
        epfd: c_int,
        events: *mut epoll_event,
        max: c_int,
        timeout: c_int,
        mask: *const sigset_t,
    ) -> c_int {
        // SAFETY: the caller's pointers go to the kernel, which validates them.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_epoll_pwait,
                epfd as usize,
                events as usize,
                max as usize,
                timeout as usize,
                mask as usize,
                KERNEL_SIGSET_SIZE,
            )
        }) as c_int
    }
}

const SYS_EPOLL_PWAIT2: libc::c_long = 441;

/// epoll_pwait2's kernel timeout is a 64-bit `struct __kernel_timespec` on every arch.
fn epoll_pwait2_raw(
    epfd: c_int,
    events: *mut epoll_event,
    max: c_int,
    timeout: usize,
    mask: *const sigset_t,
) -> c_int {
    // SAFETY: as above.
    c_ret(unsafe {
        syscall_cp(
            SYS_EPOLL_PWAIT2,
            epfd as usize,
            events as usize,
            max as usize,
            timeout,
            mask as usize,
            KERNEL_SIGSET_SIZE,
        )
    }) as c_int
}

crate::arch::export! {
    pub extern "C" fn epoll_pwait2(
        epfd: c_int,
        events: *mut epoll_event,
        max: c_int,
        timeout: *const timespec,
        mask: *const sigset_t,
    ) -> c_int {
        #[cfg(target_arch = "x86_64")]
        return epoll_pwait2_raw(epfd, events, max, timeout as usize, mask);
        #[cfg(target_arch = "x86")]
        {
            // Widen the 32-bit timespec, read as glibc reads it.
            // SAFETY: the C caller's timeout is NULL or readable.
            let wide = unsafe { copy_timeout(timeout) }.map(|t| super::Timespec64 {
                tv_sec: t.tv_sec.into(),
                tv_nsec: t.tv_nsec.into(),
            });
            epoll_pwait2_raw(
                epfd,
                events,
                max,
                wide.as_ref().map_or(0, |t| t as *const _ as usize),
                mask,
            )
        }
    }
}

#[cfg(target_arch = "x86")]
crate::arch::export! {
    /// i386 `_TIME_BITS=64` entry point: the timeout is already the kernel's.
    pub extern "C" fn __epoll_pwait2_time64(
        epfd: c_int,
        events: *mut epoll_event,
        max: c_int,
        timeout: *const super::Timespec64,
        mask: *const sigset_t,
    ) -> c_int {
        epoll_pwait2_raw(epfd, events, max, timeout as usize, mask)
    }
}

unsafe extern "C" {
    /// glibc's: reads the request's error field (`struct aiocb` and `aiocb64` put it at the
    /// same offset, before the offset field they differ in).
    fn aio_error(cb: *const aiocb) -> c_int;
    fn clock_gettime(clock: libc::clockid_t, now: *mut timespec) -> c_int;
}

/// Nanoseconds on the monotonic clock.
fn monotonic_ns() -> i64 {
    let mut now = timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is valid for writing.
    unsafe { clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    to_ns(now.tv_sec.into(), now.tv_nsec.into())
}

/// Seconds and nanoseconds as nanoseconds, saturating (i64 covers 292 years). No i128: its
/// compiler_builtins helpers would drag unwinding glue into the library.
fn to_ns(sec: i64, nsec: i64) -> i64 {
    sec.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// `aio_suspend`: waits until one of the listed requests is no longer in progress.
///
/// glibc's requests complete on its own helper threads and wake waiters through glibc-internal
/// lists we cannot join, so this polls `aio_error` with cancellable sleeps that back off from
/// 20 µs to 5 ms: a completion is noticed at most 5 ms late. Interrupted by a signal: EINTR;
/// timed out: EAGAIN; no request in progress: 0 at once (as glibc).
fn aio_suspend_polling(list: *const *const aiocb, count: c_int, timeout_ns: Option<i64>) -> c_int {
    let deadline = timeout_ns.map(|t| monotonic_ns().saturating_add(t));
    let mut pause_ns: i64 = 20_000;
    loop {
        let mut in_progress = false;
        for i in 0..count.max(0) as usize {
            // SAFETY: POSIX requires `count` valid (possibly NULL) entries.
            let cb = unsafe { *list.add(i) };
            if cb.is_null() {
                continue;
            }
            // SAFETY: a non-NULL entry is the caller's live request.
            if unsafe { aio_error(cb) } != libc::EINPROGRESS {
                return 0;
            }
            in_progress = true;
        }
        if !in_progress {
            return 0;
        }
        let mut nap = pause_ns;
        if let Some(deadline) = deadline {
            let left = deadline - monotonic_ns();
            if left <= 0 {
                set_errno(libc::EAGAIN);
                return -1;
            }
            nap = nap.min(left);
        }
        let ts = timespec {
            tv_sec: (nap / 1_000_000_000) as _,
            tv_nsec: (nap % 1_000_000_000) as _,
        };
        // SAFETY: `ts` is valid for reading. The cancellation point is here.
        let raw = unsafe { syscall_cp(libc::SYS_nanosleep, &raw const ts as usize, 0, 0, 0, 0, 0) };
        if raw < 0 {
            return c_ret(raw) as c_int;
        }
        pause_ns = (pause_ns * 2).min(5_000_000);
    }
}

/// The timeout in nanoseconds, read as glibc reads it: Err is a raw result (-EINVAL for a bad
/// nanosecond field).
fn timeout_ns<T: Copy>(
    timeout: *const T,
    parts: impl Fn(T) -> (i64, i64),
) -> Result<Option<i64>, isize> {
    // SAFETY: the C caller's timeout is NULL or readable.
    let Some((sec, nsec)) = unsafe { copy_timeout(timeout) }.map(parts) else {
        return Ok(None);
    };
    if !(0..1_000_000_000).contains(&nsec) {
        return Err(-(libc::EINVAL as isize));
    }
    Ok(Some(to_ns(sec, nsec)))
}

extern "C" fn aio_suspend_impl(
    list: *const *const aiocb,
    count: c_int,
    timeout: *const timespec,
) -> c_int {
    match timeout_ns(timeout, |t: timespec| (t.tv_sec.into(), t.tv_nsec.into())) {
        Ok(ns) => aio_suspend_polling(list, count, ns),
        Err(raw) => c_ret(raw) as c_int,
    }
}
super::alias! { aio_suspend_impl =>
    aio_suspend(list: *const *const aiocb, count: c_int, timeout: *const timespec) -> c_int;
    aio_suspend64(list: *const *const aiocb, count: c_int, timeout: *const timespec) -> c_int;
}

#[cfg(target_arch = "x86")]
crate::arch::export! {
    /// i386 `_TIME_BITS=64` entry point.
    pub extern "C" fn __aio_suspend_time64(
        list: *const *const aiocb,
        count: c_int,
        timeout: *const super::Timespec64,
    ) -> c_int {
        match timeout_ns(timeout, |t: super::Timespec64| (t.tv_sec, t.tv_nsec)) {
            Ok(ns) => aio_suspend_polling(list, count, ns),
            Err(raw) => c_ret(raw) as c_int,
        }
    }
}
