//! The generic half of a cancellable syscall (DESIGN §2): what happens around the arch thunk.

use crate::arch;
use crate::glibc;
use crate::state::{self, ThreadCancel};
use crate::sys::{c_ret, syscall};

/// A thunk's pending-syscall window `[begin, end)` and its cancel label, where the signal
/// handler sends a thread caught inside the window, and the whole thunk `[entry, exit)`, in
/// which the thunk itself notices a cancel (each arch lists its thunks' ranges).
pub struct CancelRange {
    pub entry: usize,
    pub begin: usize,
    pub end: usize,
    pub cancel: usize,
    pub exit: usize,
}

const EINTR: isize = libc::EINTR as isize;
const ECANCELED: isize = libc::ECANCELED as isize;

/// Acts on the calling thread's pending cancel: exits if cancellation is enabled (or the type
/// is asynchronous); under MASKED reports `-ECANCELED` once and switches to DISABLE.
pub fn act(me: &ThreadCancel) -> isize {
    if me.state() == state::ENABLE || me.kind() == state::ASYNCHRONOUS {
        exit(me)
    }
    me.set_state(state::DISABLE);
    -ECANCELED
}

/// Terminates the calling thread as cancelled. Cleanup handlers see cancellation disabled, as
/// POSIX requires, so the cancellation points they call do not act again.
pub fn exit(me: &ThreadCancel) -> ! {
    me.set_state(state::DISABLE);
    crate::lifecycle::exit_thread(glibc::CANCELED)
}

/// After the thunk: an interrupted syscall with a cancel pending acts (musl's rule).
#[inline(always)]
fn after(me: &ThreadCancel, raw: isize) -> isize {
    if raw == -EINTR && me.pending() && me.state() != state::DISABLE {
        act(me)
    } else {
        raw
    }
}

/// A cancellable syscall, raw result. The entry point for points written in Rust.
///
/// # Safety
/// The arguments must be valid for syscall `nr`.
pub unsafe fn syscall_cp(
    nr: libc::c_long,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> isize {
    let me = state::current();
    let nr = nr as isize;
    if me.state() == state::DISABLE {
        // SAFETY: caller's contract.
        return unsafe { arch::syscall6(nr, a, b, c, d, e, f) };
    }
    // SAFETY: caller's contract.
    let raw = unsafe { arch::ptcancel_syscall_cp(a, b, c, d, e, f, nr) };
    after(me, raw)
}

/// `close` (musl's rule, DESIGN §2): the fd is gone even on EINTR, so close never acts after
/// the syscall and reports EINTR as success; under MASKED it is not a cancellation point.
pub fn close(fd: libc::c_int) -> isize {
    let me = state::current();
    let raw = if me.state() == state::ENABLE {
        // SAFETY: close takes one integer argument.
        unsafe { arch::ptcancel_syscall_cp(fd as usize, 0, 0, 0, 0, 0, libc::SYS_close as isize) }
    } else {
        // SAFETY: as above.
        unsafe { syscall!(libc::SYS_close, fd) }
    };
    c_ret(if raw == -EINTR { 0 } else { raw })
}

// Targets of the arch thunks' jumps (referenced with `sym`, never called from Rust).

/// The generic thunk's cancel label: the pending cancel was seen before the syscall.
pub extern "C" fn cancel_raw() -> isize {
    act(state::current())
}

/// The fast thunk's cancel label; C return convention (x86_64: i386's fast path has no label
/// of its own).
#[cfg_attr(target_arch = "x86", allow(dead_code))]
pub extern "C" fn cancel_c() -> isize {
    c_ret(act(state::current()))
}

/// The fast thunk's error exit: `raw` is in -4095..=-1.
pub extern "C" fn fail(raw: isize) -> isize {
    c_ret(after(state::current(), raw))
}

/// The fast thunk's slow path, taken whenever the thread's state word is not all zero.
pub extern "C" fn slow(
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
    nr: usize,
) -> isize {
    // SAFETY: the arguments are the C caller's, for the syscall its entry names.
    c_ret(unsafe { syscall_cp(nr as libc::c_long, a, b, c, d, e, f) })
}

/// The calling thread's cancellation settings, held while a thread wait has registered itself
/// somewhere (a semaphore's waiter count, a condvar's) that it must undo before a cancel acts.
/// During the hold the state is MASKED (a cancel makes the wait return `-ECANCELED` instead
/// of exiting) or DISABLE, and the type is deferred, so an asynchronous cancel cannot strike
/// mid-update either. The caller then ends the hold, or undoes its registration and acts.
pub struct Hold {
    me: &'static ThreadCancel,
    state: u8,
    kind: u8,
}

impl Hold {
    /// Starts a hold. `cancellable`: whether a cancel may end the caller's wait at all (join
    /// waits only when cancellation is enabled, as musl's does).
    pub fn new(cancellable: bool) -> Hold {
        let me = state::current();
        let state = me.state();
        let during = if cancellable && state != state::DISABLE {
            state::MASKED
        } else {
            state::DISABLE
        };
        let kind = me.set_kind(state::DEFERRED);
        me.set_state(during);
        Hold { me, state, kind }
    }

    /// Restores the caller's settings. A cancel that arrived but did not end the wait stays
    /// pending; if the caller's type is asynchronous it acts now.
    pub fn end(self) {
        self.restore();
        if self.kind == state::ASYNCHRONOUS {
            crate::api::testcancel();
        }
    }

    /// After the wait returned `Cancelled` and the caller undid its registration: restores the
    /// caller's settings and acts (exits; under MASKED returns `-ECANCELED` and disables).
    pub fn act(self) -> isize {
        self.restore();
        act(self.me)
    }

    fn restore(&self) {
        self.me.set_state(self.state);
        self.me.set_kind(self.kind);
    }
}
