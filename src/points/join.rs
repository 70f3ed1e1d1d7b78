//! `pthread_join` and its timed forms: wait cancellably for the target's exit (the kernel
//! clears a word of the thread's and wakes its futex: `tid` up to glibc 2.42, a join-state
//! word from 2.43), then let glibc reap it, so glibc's bookkeeping (stack cache, detach state, `pthread_tryjoin_np`) stays
//! glibc's. A cancelled joiner never claimed the target: it stays joinable by someone else.

use core::ffi::{c_int, c_void};
use core::sync::atomic::Ordering;

use crate::futex::{self, AbsTime, Deadline, Wake};
use crate::glibc;
use crate::state::{self, ENABLE};
use crate::syscall_cp::{self, Hold};

unsafe extern "C" {
    fn pthread_attr_getdetachstate(attr: *const libc::pthread_attr_t, state: *mut c_int) -> c_int;
}

/// Whether `thread` (alive, so its attributes are readable) is detached.
fn is_detached(thread: libc::pthread_t) -> bool {
    let mut attr = core::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    let mut detach = libc::PTHREAD_CREATE_JOINABLE;
    // SAFETY: glibc fills `attr` for a live thread; it is destroyed after one query.
    unsafe {
        if libc::pthread_getattr_np(thread, attr.as_mut_ptr()) != 0 {
            return false; // cannot tell: glibc's own join will say
        }
        pthread_attr_getdetachstate(attr.as_ptr(), &mut detach);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
    }
    detach == libc::PTHREAD_CREATE_DETACHED
}

/// The common join: `clock` and `timeout` as `pthread_clockjoin_np` takes them (NULL: no
/// deadline). musl's semantics: a pending cancel acts at entry even if the target already
/// exited; the wait is a cancellation point only while cancellation is enabled.
///
/// # Safety
/// `thread` must be joinable (POSIX's rule); `result` NULL or writable; `timeout` NULL or
/// readable.
pub(super) unsafe fn join<T: AbsTime>(
    thread: libc::pthread_t,
    result: *mut *mut c_void,
    clock: libc::clockid_t,
    timeout: *const T,
) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { join_impl(thread, result, clock, futex::read_timeout(timeout)) }
}

/// [`join`] with the timeout read.
///
/// # Safety
/// As for [`join`].
unsafe fn join_impl(
    thread: libc::pthread_t,
    result: *mut *mut c_void,
    clock: libc::clockid_t,
    timeout: Option<(i64, i64)>,
) -> c_int {
    if clock != libc::CLOCK_REALTIME && clock != libc::CLOCK_MONOTONIC {
        return libc::EINVAL;
    }
    let me = state::current();
    if me.pending() && me.state() == ENABLE {
        syscall_cp::exit(me);
    }
    if thread == crate::arch::thread_pointer() as libc::pthread_t {
        return libc::EDEADLK;
    }
    // SAFETY: the caller's contract keeps the target's descriptor allocated.
    let (exit_word, tid_word) = unsafe { (glibc::exit_word(thread), glibc::tid_word(thread)) };
    // A negative tid is a thread glibc already reaped: its own join says ESRCH.
    if tid_word.load(Ordering::Acquire) as i32 > 0 || exit_word.load(Ordering::Acquire) != 0 {
        if is_detached(thread) {
            return libc::EINVAL;
        }
        let deadline = match Deadline::new(clock, timeout) {
            Ok(deadline) => deadline,
            Err(err) => return err,
        };
        let hold = Hold::new(me.state() == ENABLE);
        loop {
            let wake = match (
                exit_word.load(Ordering::Acquire),
                tid_word.load(Ordering::Acquire),
            ) {
                (0, 0) => break,
                // The kernel's wake at thread exit is a shared-futex wake.
                (live, _) if live != 0 => futex::wait(
                    exit_word,
                    live,
                    futex::SHARED,
                    deadline.as_ref(),
                    futex::MATCH_ANY,
                ),
                // glibc 2.43+: a new thread sets up its exit word itself, just after it
                // starts (its tid is already there). Look again in a moment.
                (_, tid) => futex::wait(
                    tid_word,
                    tid,
                    futex::SHARED,
                    Some(&Deadline::soon()),
                    futex::MATCH_ANY,
                ),
            };
            match wake {
                Wake::TimedOut if deadline.as_ref().is_some_and(Deadline::passed) => {
                    hold.end();
                    return libc::ETIMEDOUT;
                }
                Wake::Cancelled => {
                    // Only an enabled hold is cancellable, and then acting exits.
                    hold.act();
                    return libc::ECANCELED;
                }
                _ => {}
            }
        }
        hold.end();
    }
    // The target has exited: glibc's own (non-blocking) join reaps it.
    // SAFETY: the caller's contract.
    unsafe { libc::pthread_tryjoin_np(thread, result) }
}

/// No deadline: the timeout type is irrelevant.
const NO_TIMEOUT: *const libc::timespec = core::ptr::null();

crate::arch::export! {
    /// # Safety
    /// As for [`join`].
    pub unsafe extern "C" fn pthread_join(thread: libc::pthread_t, result: *mut *mut c_void) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { join(thread, result, libc::CLOCK_REALTIME, NO_TIMEOUT) }
    }
}

crate::arch::export! {
    /// # Safety
    /// As for [`join`].
    pub unsafe extern "C" fn pthread_timedjoin_np(
        thread: libc::pthread_t,
        result: *mut *mut c_void,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { join(thread, result, libc::CLOCK_REALTIME, timeout) }
    }
}

crate::arch::export! {
    /// # Safety
    /// As for [`join`].
    pub unsafe extern "C" fn pthread_clockjoin_np(
        thread: libc::pthread_t,
        result: *mut *mut c_void,
        clock: libc::clockid_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { join(thread, result, clock, timeout) }
    }
}

crate::arch::export! {
    /// C11 `thrd_join`: the thread's `int` result.
    ///
    /// # Safety
    /// As for [`join`]; `result` NULL or writable.
    pub unsafe extern "C" fn thrd_join(thread: libc::pthread_t, result: *mut c_int) -> c_int {
        let mut value = core::ptr::null_mut();
        // SAFETY: the caller's contract.
        let err = unsafe { join(thread, &mut value, libc::CLOCK_REALTIME, NO_TIMEOUT) };
        // SAFETY: the caller's contract.
        if let Some(result) = unsafe { result.as_mut() } {
            *result = value as usize as c_int;
        }
        super::c11::thrd_result(err)
    }
}

#[cfg(target_arch = "x86")]
mod time64 {
    use super::*;
    use crate::points::Timespec64;

    crate::arch::export! {
        /// # Safety
        /// As for [`join`].
        pub unsafe extern "C" fn __pthread_timedjoin_np64(
            thread: libc::pthread_t,
            result: *mut *mut c_void,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { join(thread, result, libc::CLOCK_REALTIME, timeout) }
        }
    }

    crate::arch::export! {
        /// # Safety
        /// As for [`join`].
        pub unsafe extern "C" fn __pthread_clockjoin_np64(
            thread: libc::pthread_t,
            result: *mut *mut c_void,
            clock: libc::clockid_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { join(thread, result, clock, timeout) }
        }
    }
}
