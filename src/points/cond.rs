//! The condition-variable family. glibc's wait and its cleanup are glibc-internal, so they
//! cannot be made cancellable from outside: ptcancel owns the whole family (DESIGN §3) with
//! an algorithm that fits `pthread_cond_t` and reads all-zero bytes as a valid condvar.
//! Mutexes go through glibc's `pthread_mutex_lock/unlock`, so every mutex type works.
//!
//! The algorithm: `seq` counts signals and broadcasts. A waiter registers (`waiters`) and
//! notes `seq` while it holds the mutex, unlocks it and sleeps while `seq` is unchanged; any
//! change means it was woken (spurious wake-ups are allowed, never lost ones). A signal bumps
//! `seq` and wakes one sleeper: the oldest, since same-priority futex waiters queue in order;
//! a sleeper woken while `seq` still equals its note was handed a wake meant for an older
//! waiter and passes it on to waiters of older notes (bitset by note) before sleeping again.
//!
//! Broadcast requeues every sleeper onto a second word, `chain`, and wakes one; each woken
//! waiter wakes the next only once it holds the mutex again. So waiters come back one at a
//! time instead of all fighting over the mutex at once (no thundering herd), and a waiter
//! that times out or is cancelled passes its turn on the same way.
//!
//! Cancellation: the sleep is MASKED (see `Hold`). A cancelled waiter whose `seq` changed was
//! woken and returns normally (the cancel acts at the next point); otherwise it withdraws,
//! re-locks the mutex and only then acts, so cleanup handlers run with the mutex held.

use core::ffi::c_int;
use core::sync::atomic::AtomicU32;
use core::sync::atomic::Ordering::{Relaxed, SeqCst};

use crate::futex::{self, AbsTime, Deadline, Scope, Wake};
use crate::state::{self, ENABLE};
use crate::syscall_cp::{self, Hold};

#[repr(C)]
struct Cond {
    /// Futex word: bumped by every signal and broadcast.
    seq: AtomicU32,
    /// Threads between registering and leaving a wait; `DESTROYING` when destroy waits.
    waiters: AtomicU32,
    /// Futex word broadcast moves sleepers to.
    chain: AtomicU32,
    /// Turns still to pass along the chain (how many were moved there).
    chain_turns: AtomicU32,
    /// Set by init from glibc's condattr: bit 0 process-shared, bit 1 CLOCK_MONOTONIC.
    flags: AtomicU32,
}
const _: () = assert!(core::mem::size_of::<Cond>() <= core::mem::size_of::<libc::pthread_cond_t>());
const _: () =
    assert!(core::mem::align_of::<Cond>() <= core::mem::align_of::<libc::pthread_cond_t>());

const DESTROYING: u32 = 1 << 31;
const COUNT: u32 = DESTROYING - 1;
const SHARED_FLAG: u32 = 1;
const MONOTONIC_FLAG: u32 = 2;

impl Cond {
    /// # Safety
    /// `cond` must point to a live `pthread_cond_t`.
    unsafe fn at<'a>(cond: *mut libc::pthread_cond_t) -> &'a Cond {
        // SAFETY: the caller's contract; every field is an atomic u32 and all-zero is valid.
        unsafe { &*(cond as *const Cond) }
    }
    fn scope(&self) -> Scope {
        if self.flags.load(Relaxed) & SHARED_FLAG != 0 {
            futex::SHARED
        } else {
            futex::PRIVATE
        }
    }
    fn clock(&self) -> libc::clockid_t {
        if self.flags.load(Relaxed) & MONOTONIC_FLAG != 0 {
            libc::CLOCK_MONOTONIC
        } else {
            libc::CLOCK_REALTIME
        }
    }
    /// Takes one turn to pass along the chain, if any is left.
    fn take_turn(&self) -> bool {
        self.chain_turns
            .fetch_update(SeqCst, SeqCst, |turns| turns.checked_sub(1))
            .is_ok()
    }
    /// The waiter's last touch of the condvar (what destroy waits for).
    fn leave(&self) {
        if self.waiters.fetch_sub(1, SeqCst) == DESTROYING | 1 {
            futex::wake(&self.waiters, u32::MAX, self.scope());
        }
    }
}

/// A waiter's sleeper bitset: one bit per `seq` value modulo 32, so a wake passed on can skip
/// the waiters that noted the current value.
fn note_bit(seq: u32) -> u32 {
    1 << (seq % 32)
}

crate::arch::export! {
    /// # Safety
    /// `cond` writable; `attr` NULL or an initialised `pthread_condattr_t`.
    pub unsafe extern "C" fn pthread_cond_init(
        cond: *mut libc::pthread_cond_t,
        attr: *const libc::pthread_condattr_t,
    ) -> c_int {
        // glibc's condattr is one int: bit 0 process-shared, bit 1 the clock (1: MONOTONIC).
        // SAFETY: the caller's contract.
        let flags = unsafe { attr.cast::<u32>().as_ref() }.map_or(0, |value| value & 3);
        // SAFETY: the caller's contract.
        unsafe {
            cond.write_bytes(0, 1);
            Cond::at(cond).flags.store(flags, Relaxed);
        }
        0
    }
}

crate::arch::export! {
    /// Waits until the waiters that were woken have left (as glibc's does); destroying a condvar
    /// that threads are still blocked on is undefined, and waits as glibc's does. Requeued
    /// waiters are all released at once so that a destroyer holding the mutex cannot deadlock.
    ///
    /// # Safety
    /// `cond` must be a live condvar.
    pub unsafe extern "C" fn pthread_cond_destroy(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        let c = unsafe { Cond::at(cond) };
        let mut waiters = c.waiters.fetch_or(DESTROYING, SeqCst) | DESTROYING;
        if waiters & COUNT != 0 {
            c.chain_turns.store(0, SeqCst);
            futex::wake(&c.chain, u32::MAX, c.scope());
            while waiters & COUNT != 0 {
                futex::wait_plain(&c.waiters, waiters, c.scope());
                waiters = c.waiters.load(SeqCst);
            }
        }
        0
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` must be a live condvar.
    pub unsafe extern "C" fn pthread_cond_signal(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        let c = unsafe { Cond::at(cond) };
        if c.waiters.load(SeqCst) & COUNT != 0 {
            c.seq.fetch_add(1, SeqCst);
            futex::wake(&c.seq, 1, c.scope());
        }
        0
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` must be a live condvar.
    pub unsafe extern "C" fn pthread_cond_broadcast(cond: *mut libc::pthread_cond_t) -> c_int {
        // SAFETY: the caller's contract.
        let c = unsafe { Cond::at(cond) };
        if c.waiters.load(SeqCst) & COUNT == 0 {
            return 0;
        }
        let mut seq = c.seq.fetch_add(1, SeqCst).wrapping_add(1);
        let moved = loop {
            match futex::requeue_all(&c.seq, seq, &c.chain, c.scope()) {
                r if r == -(libc::EAGAIN as isize) => seq = c.seq.load(SeqCst), // another signal
                r => break r,
            }
        };
        if moved > 0 {
            c.chain_turns.fetch_add(moved as u32, SeqCst);
            if c.take_turn() {
                futex::wake(&c.chain, 1, c.scope());
            }
        } else if moved < 0 {
            futex::wake(&c.seq, u32::MAX, c.scope()); // cannot requeue: wake them all
        }
        0
    }
}

/// How a wait ended.
enum Outcome {
    Signalled,
    TimedOut,
    Cancelled,
}

/// The common wait. glibc's checks first (`EINVAL` for a bad timeout, before the mutex is
/// touched); a pending cancel acts at entry with the mutex held.
///
/// # Safety
/// `cond` and `mutex` live; `timeout` NULL (no deadline) or readable.
unsafe fn wait(
    cond: *mut libc::pthread_cond_t,
    mutex: *mut libc::pthread_mutex_t,
    clock: Option<libc::clockid_t>,
    timeout: Option<(i64, i64)>,
) -> c_int {
    // SAFETY: the caller's contract.
    let c = unsafe { Cond::at(cond) };
    let deadline = match Deadline::new(clock.unwrap_or_else(|| c.clock()), timeout) {
        Ok(deadline) => deadline,
        Err(err) => return err,
    };
    let me = state::current();
    if me.pending() && me.state() == ENABLE {
        syscall_cp::exit(me);
    }
    c.waiters.fetch_add(1, SeqCst);
    let note = c.seq.load(SeqCst);
    // SAFETY: the caller's mutex; an error-checking one the caller does not own says EPERM.
    let err = unsafe { libc::pthread_mutex_unlock(mutex) };
    if err != 0 {
        c.leave();
        return err;
    }
    let hold = Hold::new(true);
    let outcome = sleep(c, note, deadline.as_ref());
    let pass_turn = c.take_turn();
    c.leave();
    // SAFETY: the caller's mutex. (A robust mutex's EOWNERDEAD is returned as glibc does.)
    let relock = unsafe { libc::pthread_mutex_lock(mutex) };
    if pass_turn {
        // Only the address is used: harmless even if the condvar was destroyed meanwhile.
        futex::wake(&c.chain, 1, c.scope());
    }
    let result = match outcome {
        Outcome::Cancelled => {
            // The mutex is held again: act (exits; under MASKED reports ECANCELED).
            hold.act();
            return libc::ECANCELED;
        }
        Outcome::Signalled => 0,
        Outcome::TimedOut => libc::ETIMEDOUT,
    };
    hold.end();
    if relock != 0 { relock } else { result }
}

/// Sleeps until `seq` moves past `note`, the deadline passes or a cancel arrives. A change of
/// `seq` wins over a timeout or a cancel that raced with it: the wake-up is never lost.
fn sleep(c: &Cond, note: u32, deadline: Option<&Deadline>) -> Outcome {
    loop {
        // Signalled already (typically while the mutex was being handed over): no syscall.
        if c.seq.load(SeqCst) != note {
            return Outcome::Signalled;
        }
        let wake = futex::wait(&c.seq, note, c.scope(), deadline, note_bit(note));
        if c.seq.load(SeqCst) != note {
            return Outcome::Signalled;
        }
        match wake {
            Wake::TimedOut => return Outcome::TimedOut,
            Wake::Cancelled => return Outcome::Cancelled,
            Wake::Interrupted => {}
            // Woken with `seq` unchanged: a wake meant for someone else. Either a signal's,
            // for an older waiter: pass it on to sleepers with other notes (ours share our
            // bit); or a chain turn, if a broadcast moved us along with its waiters just
            // after we noted `seq`: pass the turn on. Then sleep again.
            Wake::Woken => {
                futex::wake_bitset(&c.seq, 1, c.scope(), !note_bit(note));
                futex::wake(&c.chain, 1, c.scope());
            }
        }
    }
}

crate::arch::export! {
    /// # Safety
    /// `cond` and `mutex` live, the mutex locked by the caller.
    pub unsafe extern "C" fn pthread_cond_wait(
        cond: *mut libc::pthread_cond_t,
        mutex: *mut libc::pthread_mutex_t,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { wait(cond, mutex, None, None) }
    }
}

crate::arch::export! {
    /// # Safety
    /// As for [`pthread_cond_wait`]; `timeout` readable (NULL is `EINVAL`).
    pub unsafe extern "C" fn pthread_cond_timedwait(
        cond: *mut libc::pthread_cond_t,
        mutex: *mut libc::pthread_mutex_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { timed_wait(cond, mutex, None, timeout) }
    }
}

crate::arch::export! {
    /// # Safety
    /// As for [`pthread_cond_timedwait`].
    pub unsafe extern "C" fn pthread_cond_clockwait(
        cond: *mut libc::pthread_cond_t,
        mutex: *mut libc::pthread_mutex_t,
        clock: libc::clockid_t,
        timeout: *const libc::timespec,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { timed_wait(cond, mutex, Some(clock), timeout) }
    }
}

/// The timed waits: a NULL timeout is `EINVAL` (glibc would fault reading it).
///
/// # Safety
/// As for [`wait`].
pub(super) unsafe fn timed_wait<T: AbsTime>(
    cond: *mut libc::pthread_cond_t,
    mutex: *mut libc::pthread_mutex_t,
    clock: Option<libc::clockid_t>,
    timeout: *const T,
) -> c_int {
    if timeout.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: the caller's contract.
    unsafe { wait(cond, mutex, clock, futex::read_timeout(timeout)) }
}

#[cfg(target_arch = "x86")]
mod time64 {
    use super::*;
    use crate::points::Timespec64;

    crate::arch::export! {
        /// # Safety
        /// As for [`pthread_cond_timedwait`].
        pub unsafe extern "C" fn __pthread_cond_timedwait64(
            cond: *mut libc::pthread_cond_t,
            mutex: *mut libc::pthread_mutex_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { timed_wait(cond, mutex, None, timeout) }
        }
    }

    crate::arch::export! {
        /// # Safety
        /// As for [`pthread_cond_timedwait`].
        pub unsafe extern "C" fn __pthread_cond_clockwait64(
            cond: *mut libc::pthread_cond_t,
            mutex: *mut libc::pthread_mutex_t,
            clock: libc::clockid_t,
            timeout: *const Timespec64,
        ) -> c_int {
            // SAFETY: the caller's contract.
            unsafe { timed_wait(cond, mutex, Some(clock), timeout) }
        }
    }
}
