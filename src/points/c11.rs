//! C11 `<threads.h>` over the POSIX implementations: glibc's `cnd_t` is a `pthread_cond_t`,
//! `mtx_t` a `pthread_mutex_t` and `thrd_t` a `pthread_t`, and glibc builds these functions
//! on internal calls (not the exported pthread names), so each is interposed itself.

use core::ffi::c_int;

use super::cond;
use crate::futex::AbsTime;

const THRD_SUCCESS: c_int = 0;
const THRD_BUSY: c_int = 1;
const THRD_ERROR: c_int = 2;
const THRD_NOMEM: c_int = 3;
const THRD_TIMEDOUT: c_int = 4;

/// glibc's mapping of an error number to a `thrd_*` result.
pub(crate) fn thrd_result(err: c_int) -> c_int {
    match err {
        0 => THRD_SUCCESS,
        libc::ETIMEDOUT => THRD_TIMEDOUT,
        libc::EBUSY => THRD_BUSY,
        libc::ENOMEM => THRD_NOMEM,
        _ => THRD_ERROR,
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` writable.
    pub unsafe extern "C" fn cnd_init(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        thrd_result(unsafe { cond::pthread_cond_init(cond, core::ptr::null()) })
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` a live condvar.
    pub unsafe extern "C" fn cnd_destroy(cond: *mut libc::pthread_cond_t) {
        // SAFETY: the caller's contract.
        unsafe { cond::pthread_cond_destroy(cond) };
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` a live condvar.
    pub unsafe extern "C" fn cnd_signal(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        thrd_result(unsafe { cond::pthread_cond_signal(cond) })
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` a live condvar.
    pub unsafe extern "C" fn cnd_broadcast(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        thrd_result(unsafe { cond::pthread_cond_broadcast(cond) })
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` and `mutex` live, the mutex locked by the caller.
    pub unsafe extern "C" fn cnd_wait(
        cond: *mut libc::pthread_cond_t,
        mutex: *mut libc::pthread_mutex_t,
    ) -> c_int {
        // SAFETY: the caller's contract.
        thrd_result(unsafe { cond::pthread_cond_wait(cond, mutex) })
    }
}

/// # Safety
/// As for [`cnd_wait`]; `timeout` readable.
unsafe fn cnd_timed<T: AbsTime>(
    cond: *mut libc::pthread_cond_t,
    mutex: *mut libc::pthread_mutex_t,
    timeout: *const T,
) -> c_int {
    // SAFETY: the caller's contract. (cnd_init's condvars wait on CLOCK_REALTIME: TIME_UTC.)
    thrd_result(unsafe { cond::timed_wait(cond, mutex, None, timeout) })
}

crate::arch::export! {
    /// # Safety
    /// As for [`cnd_wait`]; `timeout` readable.
    pub unsafe extern "C" fn cnd_timedwait(
        cond: *mut libc::pthread_cond_t,
        mutex: *mut libc::pthread_mutex_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { cnd_timed(cond, mutex, timeout) }
    }
}

/// glibc's results: 0 when slept, -1 when interrupted by a signal, -2 on another error.
fn sleep_result(err: c_int) -> c_int {
    match err {
        0 => 0,
        libc::EINTR => -1,
        _ => -2,
    }
}

crate::arch::export! {
    /// C11 `thrd_sleep`: a cancellable relative `clock_nanosleep` on CLOCK_REALTIME.
    ///
    /// # Safety
    /// `duration` readable, `remaining` NULL or writable.
    pub unsafe extern "C" fn thrd_sleep(
        duration: *const libc::timespec,
        remaining: *mut libc::timespec,
    ) -> c_int {
        sleep_result(super::time::clock_nanosleep(
            libc::CLOCK_REALTIME,
            0,
            duration,
            remaining,
        ))
    }
}

#[cfg(target_arch = "x86")]
mod time64 {
    use super::*;
    use crate::points::Timespec64;

    crate::arch::export! {
        /// # Safety
        /// As for [`cnd_timedwait`].
        pub unsafe extern "C" fn __cnd_timedwait64(
            cond: *mut libc::pthread_cond_t,
            mutex: *mut libc::pthread_mutex_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { cnd_timed(cond, mutex, timeout) }
        }
    }

    crate::arch::export! {
        /// # Safety
        /// As for [`thrd_sleep`].
        pub unsafe extern "C" fn __thrd_sleep64(
            duration: *const Timespec64,
            remaining: *mut Timespec64,
        ) -> c_int {
            sleep_result(crate::points::time64::__clock_nanosleep_time64(
                libc::CLOCK_REALTIME,
                0,
                duration,
                remaining,
            ))
        }
    }
}
