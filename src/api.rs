//! The cancellation API that programs call (POSIX, plus musl's `PTHREAD_CANCEL_MASKED`).

use core::ffi::{c_int, c_void};

use crate::arch;
use crate::glibc;
use crate::handler;
use crate::load_check;
use crate::state::{self, ASYNCHRONOUS, DEFERRED, DISABLE, ENABLE, MASKED};
use crate::syscall_cp;

/// musl's third cancel state: cancellation points fail with `ECANCELED` instead of acting, and
/// the state becomes `PTHREAD_CANCEL_DISABLE`.
pub const PTHREAD_CANCEL_MASKED: c_int = 2;
const _: () = assert!(PTHREAD_CANCEL_MASKED == MASKED as c_int);

/// Requests cancellation of `thread`. Returns 0 (also for a thread that has exited but is not
/// yet joined), an error from installing the signal handler, or `ENOTSUP` (with a message on
/// stderr) when this copy of the library was loaded after libc and so cannot interpose its
/// cancellation points.
///
/// # Safety
/// `thread` must be a thread of this process that has not been joined or detached-and-exited.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_cancel(thread: libc::pthread_t) -> c_int {
    crate::arch::entry_to!(cancel)
}

/// [`pthread_cancel`] itself (the exported name is a naked entry: arch::entry_to).
unsafe extern "C" fn cancel(thread: libc::pthread_t) -> c_int {
    if let Err(err) = load_check::interposes() {
        return err;
    }
    // SAFETY: the caller's contract.
    let target = unsafe { state::of(thread) };
    if thread == crate::arch::thread_pointer() as libc::pthread_t {
        target.set_pending();
        if target.state() == ENABLE && target.kind() == ASYNCHRONOUS {
            syscall_cp::exit(target);
        }
        return 0;
    }
    if let Err(err) = handler::install() {
        return err;
    }
    target.set_pending();
    if target.state() == DISABLE {
        // Nothing to interrupt: a disabled thread notices the cancel at its first cancellation
        // point after enabling (state.rs explains why this cannot miss). Not signalling keeps
        // its non-restartable calls (poll, nanosleep, pause...) from failing with a spurious
        // EINTR, as glibc does; musl signals anyway.
        return 0;
    }
    // SAFETY: the caller's contract.
    let tid = unsafe { glibc::thread_tid(thread) };
    if tid == 0 {
        return 0; // exited, not yet joined: nothing to interrupt
    }
    // ESRCH here means the thread exited between the two reads: also not an error.
    handler::send(tid);
    0
}

/// Sets the calling thread's cancel state (ENABLE 0, DISABLE 1, MASKED 2); `EINVAL` leaves
/// everything untouched. `old` may be NULL. Enabling acts on a pending cancel only in the
/// asynchronous type (POSIX); deferred, the cancel acts at the next cancellation point.
///
/// # Safety
/// `old` must be NULL or valid for writing an int.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_setcancelstate(new_state: c_int, old: *mut c_int) -> c_int {
    crate::arch::entry_to!(set_state)
}

/// [`pthread_setcancelstate`] itself (the exported name is a naked entry: arch::entry_to).
unsafe extern "C" fn set_state(new_state: c_int, old: *mut c_int) -> c_int {
    if !(0..=MASKED as c_int).contains(&new_state) {
        return libc::EINVAL;
    }
    let me = state::current();
    let previous = me.set_state(new_state as u8);
    // SAFETY: the caller's contract.
    if let Some(old) = unsafe { old.as_mut() } {
        *old = previous as c_int;
    }
    if new_state == ENABLE as c_int && me.pending() && me.state() == ENABLE {
        if me.kind() == ASYNCHRONOUS {
            // POSIX: an asynchronous cancel acts as soon as it is enabled.
            syscall_cp::exit(me);
        }
        if me.in_call() {
            // A signal handler that had disabled cancellation while the thread was blocked in a
            // cancellable syscall re-enables it: the cancel that arrived meanwhile must act on
            // the restarted syscall once the handler returns (the handler arranges that).
            handler::send_self();
        }
    }
    0
}

/// Sets the calling thread's cancel type (DEFERRED 0, ASYNCHRONOUS 1); `EINVAL` leaves
/// everything untouched. Switching to ASYNCHRONOUS acts at once on a pending cancel.
///
/// # Safety
/// `old` must be NULL or valid for writing an int.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pthread_setcanceltype(new_type: c_int, old: *mut c_int) -> c_int {
    crate::arch::entry_to!(set_type)
}

/// [`pthread_setcanceltype`] itself (the exported name is a naked entry: arch::entry_to).
unsafe extern "C" fn set_type(new_type: c_int, old: *mut c_int) -> c_int {
    if !(0..=ASYNCHRONOUS as c_int).contains(&new_type) {
        return libc::EINVAL;
    }
    let previous = state::current().set_kind(new_type as u8);
    // SAFETY: the caller's contract.
    if let Some(old) = unsafe { old.as_mut() } {
        *old = previous as c_int;
    }
    if new_type == ASYNCHRONOUS as c_int {
        testcancel();
    }
    0
}

/// Acts on a pending cancel if cancellation is enabled (not under MASKED or DISABLE).
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn pthread_testcancel() {
    crate::arch::entry_to!(testcancel)
}

/// [`pthread_testcancel`] itself (the exported name is a naked entry: arch::entry_to).
pub(crate) extern "C" fn testcancel() {
    let me = state::current();
    if me.pending() && me.state() == ENABLE {
        syscall_cp::exit(me);
    }
}

/// glibc's `__pthread_unwind_buf_t`, as far as the defer/restore pair uses it.
#[repr(C)]
struct UnwindBuf {
    jmp_buf: [usize; JMP_BUF_WORDS],
    mask_was_saved: c_int,
    prev: *mut c_void,
    cleanup: *mut c_void,
    canceltype: c_int,
}

#[cfg(target_arch = "x86_64")]
const JMP_BUF_WORDS: usize = 8;
#[cfg(target_arch = "x86")]
const JMP_BUF_WORDS: usize = 6;

#[cfg(target_arch = "x86_64")]
const _: () = assert!(core::mem::offset_of!(UnwindBuf, canceltype) == 88);
#[cfg(target_arch = "x86")]
const _: () = assert!(core::mem::offset_of!(UnwindBuf, canceltype) == 36);

/// `pthread_cleanup_push_defer_np`: glibc links `buf` into its cleanup chain; the old cancel
/// type is saved in `buf` and the type becomes deferred.
extern "C" fn register_cancel_defer(buf: *mut c_void) {
    // SAFETY: the macro passes its live unwind buffer; glibc fills prev/cleanup, we own
    // canceltype.
    unsafe {
        arch::call_cleanup_fct(glibc::__pthread_register_cancel, buf);
        (*buf.cast::<UnwindBuf>()).canceltype = state::current().set_kind(DEFERRED) as c_int;
    }
}
arch::export_cleanup_fct!(__pthread_register_cancel_defer => register_cancel_defer);

/// `pthread_cleanup_pop_restore_np`: unlinks `buf` and restores the saved cancel type (acting
/// on a pending cancel if that type is asynchronous).
extern "C" fn unregister_cancel_restore(buf: *mut c_void) {
    // SAFETY: the buffer passed to __pthread_register_cancel_defer.
    let saved = unsafe {
        arch::call_cleanup_fct(glibc::__pthread_unregister_cancel, buf);
        (*buf.cast::<UnwindBuf>()).canceltype
    };
    if saved == ASYNCHRONOUS as c_int {
        // SAFETY: a NULL old pointer is allowed.
        unsafe { set_type(saved, core::ptr::null_mut()) };
    }
}
arch::export_cleanup_fct!(__pthread_unregister_cancel_restore => unregister_cancel_restore);

// The states are C's values.
const _: () = assert!(ENABLE == 0 && DISABLE == 1 && MASKED == 2 && DEFERRED == 0);

/// The library version, e.g. "0.1.0": lets a program find out whether ptcancel is in use
/// (`dlsym(RTLD_DEFAULT, "ptcancel_version")`).
#[unsafe(no_mangle)]
pub extern "C" fn ptcancel_version() -> *const core::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// How cancellable syscalls enter the kernel: "syscall" on x86_64; on i386 "kernel-helpers",
/// "emulated-helpers" or "int80" (chosen at start-up; `PTCANCEL_I386_MODE` forces one).
#[unsafe(no_mangle)]
pub extern "C" fn ptcancel_syscall_mode() -> *const core::ffi::c_char {
    crate::arch::mode_name().as_ptr()
}
