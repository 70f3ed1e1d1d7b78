//! `sem_wait`, `sem_timedwait`, `sem_clockwait`: cancellable waits that follow glibc's `sem_t`
//! protocol (DESIGN §3), so glibc's own `sem_post`, `sem_trywait`, `sem_getvalue`, `sem_init`,
//! `sem_open`... keep working on the same object, process-shared ones included. A cancelled
//! waiter withdraws its waiter registration before it acts.

use core::ffi::c_int;
use core::sync::atomic::Ordering::{Acquire, Relaxed};

use crate::futex::{self, AbsTime, Deadline, Scope, Wake};
use crate::glibc::set_errno;
use crate::state::{self, ENABLE};
use crate::syscall_cp::{self, Hold};

/// x86_64 (64-bit atomics): one word, tokens in the low 32 bits, registered waiters in the
/// high 32; `private` (glibc's XOR value: 0 private, 128 shared) follows. Waiters sleep on the low half while
/// it is 0; `sem_post` wakes one when the waiter count is not zero.
#[cfg(target_arch = "x86_64")]
mod protocol {
    use super::*;
    use core::sync::atomic::{AtomicU32, AtomicU64};

    #[repr(C)]
    pub struct Sem {
        data: AtomicU64,
        private: i32,
    }
    const _: () = assert!(core::mem::size_of::<Sem>() <= core::mem::size_of::<libc::sem_t>());

    const WAITER: u64 = 1 << 32;
    const TOKENS: u64 = u32::MAX as u64;

    impl Sem {
        pub fn scope(&self) -> Scope {
            Scope::from_glibc(self.private)
        }
        pub fn try_take(&self) -> bool {
            let mut d = self.data.load(Relaxed);
            while d & TOKENS != 0 {
                match self.data.compare_exchange_weak(d, d - 1, Acquire, Relaxed) {
                    Ok(_) => return true,
                    Err(now) => d = now,
                }
            }
            false
        }
        fn tokens_word(&self) -> &AtomicU32 {
            // SAFETY: the low half of a little-endian u64, 4-byte aligned, atomically accessed
            // by glibc and the kernel as a u32 futex word.
            unsafe { &*(self.data.as_ptr() as *const AtomicU32) }
        }
        /// Registered as a waiter, waits for a token and takes it; on failure unregisters.
        pub fn wait_slow(&self, deadline: Option<&Deadline>) -> Wake {
            let mut d = self.data.fetch_add(WAITER, Relaxed) + WAITER;
            loop {
                if d & TOKENS == 0 {
                    match futex::wait(
                        self.tokens_word(),
                        0,
                        self.scope(),
                        deadline,
                        futex::MATCH_ANY,
                    ) {
                        Wake::Woken => d = self.data.load(Relaxed),
                        failed => {
                            self.data.fetch_sub(WAITER, Relaxed);
                            return failed;
                        }
                    }
                } else {
                    // Take a token and stop being a waiter in one step.
                    match self
                        .data
                        .compare_exchange_weak(d, d - 1 - WAITER, Acquire, Relaxed)
                    {
                        Ok(_) => return Wake::Woken,
                        Err(now) => d = now,
                    }
                }
            }
        }
    }
}

/// i386 (32-bit atomics): `value` is tokens << 1 | a "waiters present" bit, `private` follows,
/// `nwaiters` counts registered waiters. Waiters sleep while `value` is exactly 1 (no token,
/// bit set); `sem_post` wakes one when the bit is set. The bit may be cleared speculatively by
/// a leaving waiter; one that finds it guessed wrong sets it again and wakes waiters for the
/// tokens there are (glibc's rule, which `sem_post` relies on).
#[cfg(target_arch = "x86")]
mod protocol {
    use super::*;
    use core::sync::atomic::AtomicU32;
    use core::sync::atomic::Ordering::Release;

    #[repr(C)]
    pub struct Sem {
        value: AtomicU32,
        private: i32,
        _pad: i32,
        nwaiters: AtomicU32,
    }
    const _: () = assert!(core::mem::size_of::<Sem>() <= core::mem::size_of::<libc::sem_t>());

    const WAITERS_BIT: u32 = 1;
    const ONE_TOKEN: u32 = 2;

    impl Sem {
        pub fn scope(&self) -> Scope {
            Scope::from_glibc(self.private)
        }
        pub fn try_take(&self) -> bool {
            let mut v = self.value.load(Relaxed);
            while v >= ONE_TOKEN {
                match self
                    .value
                    .compare_exchange_weak(v, v - ONE_TOKEN, Acquire, Relaxed)
                {
                    Ok(_) => return true,
                    Err(now) => v = now,
                }
            }
            false
        }
        pub fn wait_slow(&self, deadline: Option<&Deadline>) -> Wake {
            self.nwaiters.fetch_add(1, Acquire);
            let outcome = self.take_as_waiter(deadline);
            self.unregister();
            outcome
        }
        fn take_as_waiter(&self, deadline: Option<&Deadline>) -> Wake {
            let mut v = self.value.load(Relaxed);
            loop {
                if v < ONE_TOKEN {
                    // About to sleep: make sure sem_post will wake us.
                    if v & WAITERS_BIT == 0
                        && let Err(now) =
                            self.value
                                .compare_exchange_weak(v, v | WAITERS_BIT, Release, Relaxed)
                    {
                        v = now;
                        continue;
                    }
                    match futex::wait(
                        &self.value,
                        WAITERS_BIT,
                        self.scope(),
                        deadline,
                        futex::MATCH_ANY,
                    ) {
                        Wake::Woken => v = self.value.load(Relaxed),
                        failed => return failed,
                    }
                } else {
                    match self
                        .value
                        .compare_exchange_weak(v, v - ONE_TOKEN, Acquire, Relaxed)
                    {
                        Ok(_) => return Wake::Woken,
                        Err(now) => v = now,
                    }
                }
            }
        }
        /// Stops being a waiter. The last one clears the bit first; if another waiter came in
        /// meanwhile, the bit is restored and the tokens posted in between are handed out.
        fn unregister(&self) {
            let guess = self.nwaiters.load(Relaxed);
            if guess == 1 {
                self.value.fetch_and(!WAITERS_BIT, Acquire);
            }
            let before = self.nwaiters.fetch_sub(1, Release);
            if before > 1 && guess == 1 {
                let tokens = self.value.fetch_or(WAITERS_BIT, Relaxed) / ONE_TOKEN;
                if tokens > 0 {
                    futex::wake(&self.value, tokens, self.scope());
                }
            }
        }
    }
}

use protocol::Sem;

/// The common wait. glibc's order: the timeout is checked first (`EINVAL` even when a token is
/// available), then a pending cancel acts, then a free token is taken without waiting.
///
/// # Safety
/// `sem` must be a live semaphore.
unsafe fn sem_wait_common(
    sem: *mut libc::sem_t,
    clock: libc::clockid_t,
    timeout: Option<(i64, i64)>,
) -> c_int {
    let deadline = match Deadline::new(clock, timeout) {
        Ok(deadline) => deadline,
        Err(err) => {
            set_errno(err);
            return -1;
        }
    };
    let me = state::current();
    if me.pending() && me.state() == ENABLE {
        syscall_cp::exit(me);
    }
    // SAFETY: a live sem_t has glibc's layout (checked sizes above).
    let sem = unsafe { &*(sem as *const Sem) };
    if sem.try_take() {
        return 0;
    }
    let hold = Hold::new(true);
    let err = match sem.wait_slow(deadline.as_ref()) {
        Wake::Cancelled => {
            // Unregistered already: act (exits; under MASKED reports ECANCELED).
            hold.act();
            libc::ECANCELED
        }
        outcome => {
            hold.end();
            match outcome {
                Wake::Interrupted => libc::EINTR,
                Wake::TimedOut => libc::ETIMEDOUT,
                _ => return 0,
            }
        }
    };
    set_errno(err);
    -1
}

crate::arch::export! {
    /// # Safety
    /// `sem` must be a live semaphore.
    pub unsafe extern "C" fn sem_wait(sem: *mut libc::sem_t) -> c_int {
        // SAFETY: the caller's contract; no timeout.
        unsafe { sem_wait_common(sem, libc::CLOCK_REALTIME, None) }
    }
}

crate::arch::export! {
    /// # Safety
    /// `sem` must be a live semaphore, `timeout` readable.
    pub unsafe extern "C" fn sem_timedwait(
        sem: *mut libc::sem_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { sem_timed(sem, libc::CLOCK_REALTIME, timeout) }
    }
}

crate::arch::export! {
    /// # Safety
    /// `sem` must be a live semaphore, `timeout` readable.
    pub unsafe extern "C" fn sem_clockwait(
        sem: *mut libc::sem_t,
        clock: libc::clockid_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { sem_timed(sem, clock, timeout) }
    }
}

/// The timed waits: a NULL timeout is `EINVAL` (glibc would fault reading it).
///
/// # Safety
/// As for [`sem_wait_common`].
unsafe fn sem_timed<T: AbsTime>(
    sem: *mut libc::sem_t,
    clock: libc::clockid_t,
    timeout: *const T,
) -> c_int {
    if timeout.is_null() {
        set_errno(libc::EINVAL);
        return -1;
    }
    // SAFETY: the caller's contract.
    unsafe { sem_wait_common(sem, clock, futex::read_timeout(timeout)) }
}

#[cfg(target_arch = "x86")]
mod time64 {
    use super::*;
    use crate::points::Timespec64;

    crate::arch::export! {
        /// # Safety
        /// `sem` must be a live semaphore, `timeout` readable.
        pub unsafe extern "C" fn __sem_timedwait64(
            sem: *mut libc::sem_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { sem_timed(sem, libc::CLOCK_REALTIME, timeout) }
        }
    }

    crate::arch::export! {
        /// # Safety
        /// `sem` must be a live semaphore, `timeout` readable.
        pub unsafe extern "C" fn __sem_clockwait64(
            sem: *mut libc::sem_t,
            clock: libc::clockid_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { sem_timed(sem, clock, timeout) }
        }
    }
}
