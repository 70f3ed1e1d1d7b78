//! Per-thread cancellation state and how to reach another thread's copy.
//!
//! The state lives in 4 bytes of initial-exec TLS defined by the arch thunk file (the thunks
//! test the whole word with one compare). A new thread's TLS is zeroed, which reads as
//! "enabled, deferred, nothing pending": exactly a new thread's POSIX defaults, so a thread
//! that never called into the library is already in a valid state.

use core::sync::atomic::{AtomicU8, Ordering};

use crate::arch;
use crate::glibc_cp;

pub const ENABLE: u8 = 0;
pub const DISABLE: u8 = 1;
/// musl's `PTHREAD_CANCEL_MASKED`: a cancellation point reports `ECANCELED` instead of acting.
pub const MASKED: u8 = 2;

pub const DEFERRED: u8 = 0;
pub const ASYNCHRONOUS: u8 = 1;

/// A flag bit in the state byte: the thread is exiting (see [`ThreadCancel::set_exiting`]).
const EXITING: u8 = 0x80;

/// One thread's cancellation state. `pending` is written by any thread (`pthread_cancel`) and
/// never cleared; `state` (with its EXITING bit) and `kind` are written only by the owning
/// thread. Each byte has a
/// single kind of writer, so plain byte stores cannot lose each other's updates.
#[repr(C)]
pub struct ThreadCancel {
    pending: AtomicU8,
    state: AtomicU8,
    kind: AtomicU8,
    /// How many cancellable syscalls the thread is inside (counted by the arch thunks; more
    /// than one only when signal handlers on top of one make another).
    in_call: AtomicU8,
}

const _: () = assert!(core::mem::size_of::<ThreadCancel>() == 4);
const _: () = assert!(core::mem::offset_of!(ThreadCancel, pending) == 0);
const _: () = assert!(core::mem::offset_of!(ThreadCancel, in_call) == 3);

impl ThreadCancel {
    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst) != 0
    }
    pub fn set_pending(&self) {
        self.pending.store(1, Ordering::SeqCst)
    }
    /// SeqCst (free on x86: plain loads and xchg): `pthread_cancel` stores `pending` then loads
    /// `state`, the thread stores `state` then loads `pending` (in the thunk). With both pairs
    /// ordered, at least one side sees the other's store, so a cancel is never lost when it
    /// skips signalling a thread whose cancellation is disabled.
    ///
    /// A thread that has started to exit reads as DISABLE for good.
    pub fn state(&self) -> u8 {
        match self.state.load(Ordering::SeqCst) {
            s if s & EXITING != 0 => DISABLE,
            // glibc itself acted on the cancel (its next internal cancellable syscall did, see
            // glibc_cp): the thread is exiting, though not through ptcancel.
            _ if self.pending() && glibc_cp::exiting(self) => DISABLE,
            s => s,
        }
    }
    /// Sets the state (ENABLE, DISABLE, MASKED) and returns the previous one as `state()` saw
    /// it. Once the thread is exiting the new state is recorded but never takes effect.
    pub fn set_state(&self, state: u8) -> u8 {
        let exiting = self.state.load(Ordering::Relaxed) & EXITING;
        let old = self.state.swap(state | exiting, Ordering::SeqCst);
        if self.pending() {
            // After the store: a cancel handled before it set glibc's bit, one after it sees
            // the new state.
            glibc_cp::mirror(self, state | exiting == ENABLE);
        }
        match old {
            old if old & EXITING != 0 => DISABLE,
            old => old,
        }
    }
    /// From the moment a thread starts to exit (pthread_exit, acting on a cancel, its start
    /// routine returning), no cancel acts in it again: its cleanup handlers and TSD
    /// destructors make plain calls (glibc's rule; a second exit would run them twice).
    pub fn set_exiting(&self) {
        self.set_kind(DEFERRED);
        let state = self.state.load(Ordering::Relaxed);
        self.state.store(state | EXITING, Ordering::SeqCst);
        if self.pending() {
            glibc_cp::mirror(self, false);
        }
    }
    /// Whether the thread is inside a cancellable syscall (possibly below a signal handler).
    pub fn in_call(&self) -> bool {
        self.in_call.load(Ordering::Relaxed) != 0
    }
    /// Leaves a cancellable syscall in the thunk's stead (the handler, acting for it).
    pub fn leave_call(&self) {
        self.in_call.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn kind(&self) -> u8 {
        self.kind.load(Ordering::Relaxed)
    }
    pub fn set_kind(&self, kind: u8) -> u8 {
        self.kind.swap(kind, Ordering::Relaxed)
    }
}

/// The calling thread's state.
#[inline(always)]
pub fn current() -> &'static ThreadCancel {
    let at = arch::thread_pointer().wrapping_add_signed(arch::tls_offset());
    // SAFETY: the thread pointer plus the initial-exec offset is this thread's live TLS copy,
    // valid for the thread's whole life; all access to it is atomic.
    unsafe { &*(at as *const ThreadCancel) }
}

/// The state of thread `thread` (a glibc `pthread_t`, i.e. its thread pointer).
///
/// # Safety
/// `thread` must identify a thread that has not been joined or, if detached, has not exited
/// (the same rule POSIX gives every `pthread_t` use).
pub unsafe fn of(thread: libc::pthread_t) -> &'static ThreadCancel {
    let at = (thread as usize).wrapping_add_signed(arch::tls_offset());
    // SAFETY: initial-exec TLS sits at the same offset from every thread's thread pointer
    // (DESIGN §5), and the caller guarantees the thread's memory is still allocated.
    unsafe { &*(at as *const ThreadCancel) }
}
