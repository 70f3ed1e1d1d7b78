//! The cancel signal (glibc's SIGCANCEL, 32) and its handler (DESIGN §2, §3).
//!
//! Async-signal-safe throughout: raw syscalls only, no locks, no allocation, no formatting.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch;
use crate::glibc_cp;
use crate::state::{self, ThreadCancel};
use crate::sys::{KERNEL_SIGSET_SIZE, syscall};
use crate::syscall_cp;

/// glibc reserves 32 for cancellation and refuses it to programs, so nobody else uses it —
/// except SIGEV_THREAD timers (SI_TIMER), which the handler ignores.
pub const SIGCANCEL: c_int = 32;
/// The bit of signal 32 in the low word of a kernel sigset.
const SIGCANCEL_BIT: u64 = 1 << (SIGCANCEL - 1);

const SA_RESTORER: usize = 0x0400_0000;

/// The kernel's `struct sigaction` for rt_sigaction (same layout on x86_64 and i386).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: usize,
    restorer: usize,
    mask: [u32; 2],
}

static INSTALLED: AtomicBool = AtomicBool::new(false);
/// The program runs under valgrind, which ignores a handler's edits to the interrupted signal
/// mask (see the end of the handler).
static UNDER_VALGRIND: AtomicBool = AtomicBool::new(false);

/// Installs the handler with the raw syscall (glibc's `sigaction` refuses signal 32).
/// Idempotent; concurrent first callers each install the same handler before sending.
pub fn install() -> Result<(), i32> {
    if INSTALLED.load(Ordering::Acquire) {
        return Ok(());
    }
    crate::glibc::prepare();
    UNDER_VALGRIND.store(running_on_valgrind(), Ordering::Relaxed);
    let (restorer_flag, restorer) = match arch::restorer() {
        Some(addr) => (SA_RESTORER, addr),
        None => (0, 0),
    };
    let action = KernelSigaction {
        handler: on_cancel_signal as *const () as usize,
        // Not SA_ONSTACK (as glibc's): an asynchronous cancel unwinds from the handler, which
        // needs more stack than a minimum-size alternate signal stack has.
        flags: (libc::SA_SIGINFO | libc::SA_RESTART) as usize | restorer_flag,
        restorer,
        // Block everything while the handler runs; it restores what it needs explicitly.
        mask: [u32::MAX; 2],
    };
    // SAFETY: a valid kernel sigaction for signal 32; the handler and restorer live as long as
    // the library (a loaded copy is never unloaded while threads can take the signal).
    let r = unsafe {
        syscall!(
            libc::SYS_rt_sigaction,
            SIGCANCEL,
            &raw const action,
            0,
            KERNEL_SIGSET_SIZE
        )
    };
    if r < 0 {
        return Err(-r as i32);
    }
    INSTALLED.store(true, Ordering::Release);
    Ok(())
}

/// Whether the program runs under valgrind (its RUNNING_ON_VALGRIND client request).
fn running_on_valgrind() -> bool {
    const RUNNING_ON_VALGRIND: usize = 0x1001;
    let block = [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0];
    // SAFETY: a six-word request block.
    unsafe { arch::valgrind_request(block.as_ptr(), 0) != 0 }
}

/// Sends the cancel signal to thread `tid` of this process.
pub fn send(tid: i32) -> isize {
    // SAFETY: plain integer arguments.
    unsafe { syscall!(libc::SYS_tgkill, syscall!(libc::SYS_getpid), tid, SIGCANCEL) }
}

/// Sends the cancel signal to the calling thread. Async-signal-safe.
pub fn send_self() {
    // SAFETY: plain integer arguments.
    unsafe {
        syscall!(
            libc::SYS_tgkill,
            syscall!(libc::SYS_getpid),
            syscall!(libc::SYS_gettid),
            SIGCANCEL
        )
    };
}

/// The interrupted context's signal mask, in the kernel's 64-bit layout (the first 8 bytes of
/// `uc_sigmask` on both arches).
///
/// # Safety
/// `uc` must be the context pointer the kernel passed to an `SA_SIGINFO` handler.
unsafe fn context_sigmask(uc: *mut c_void) -> *mut u64 {
    // SAFETY: per the contract, `uc` points to a kernel-written ucontext_t.
    unsafe { &raw mut (*(uc as *mut libc::ucontext_t)).uc_sigmask as *mut u64 }
}

extern "C" fn on_cancel_signal(_sig: c_int, info: *mut libc::siginfo_t, uc: *mut c_void) {
    // SAFETY: the kernel passes valid siginfo and ucontext pointers to an SA_SIGINFO handler.
    unsafe {
        // Only our own tgkill counts; SIGEV_THREAD timers also raise 32.
        if (*info).si_code != libc::SI_TKILL
            || (*info).si_pid() != syscall!(libc::SYS_getpid) as i32
        {
            return;
        }
    }
    let me = state::current();
    if !me.pending() || me.state() == state::DISABLE {
        return;
    }
    // SAFETY: `uc` is the kernel's context (see above); everything below edits only it.
    unsafe {
        if me.kind() == state::ASYNCHRONOUS {
            act_here(me, uc);
        }
        // Inside one of glibc's own cancellable syscalls (stdio, fopen...), not yet made.
        if glibc_cp::syscall_pending(me, uc) {
            if me.state() == state::ENABLE {
                act_here(me, uc);
            }
            // MASKED: the syscall fails with ECANCELED, as ptcancel's own points do, and the
            // glibc function reports it as the I/O error it is.
            arch::skip_syscall(uc, -(libc::ECANCELED as isize));
            me.set_state(state::DISABLE);
            return;
        }
        let pc = arch::context_pc(uc);
        let mut in_thunk = false;
        for range in arch::cancel_ranges() {
            // The syscall has not started, or the kernel rewound to restart it; or (i386) the
            // thread is inside the syscall entry the thunk called (vDSO), the syscall pending.
            let cancel = if (range.begin..range.end).contains(&pc) {
                Some(range.cancel)
            } else {
                arch::abort_pending_call(uc, &range)
            };
            if let Some(cancel) = cancel {
                arch::set_context_pc(uc, cancel);
                if me.state() == state::ENABLE {
                    // Act from here, as glibc's handler does, rather than after returning to
                    // the cancel label: that saves a sigreturn (an int $0x80 on i386, several
                    // microseconds). The unwinder starts at the label, whose frame is the
                    // thunk's; the count the label would drop is dropped here.
                    me.leave_call();
                    act_here(me, uc);
                }
                // MASKED: the label reports ECANCELED.
                return;
            }
            // Elsewhere in the thunk, or (i386) on the way back to it from a completed
            // syscall: it sees the pending cancel or the EINTR itself.
            if (range.entry..range.exit).contains(&pc) || arch::returning_to_thunk(uc, &range) {
                in_thunk = true;
                break;
            }
        }
        // The cancel stays pending. Wherever the thread is, glibc's next own cancellable
        // syscall acts before it is made.
        if me.state() == state::ENABLE {
            glibc_cp::mirror(me, true);
        }
        if in_thunk || !me.in_call() {
            // The thunk, or ordinary code: the cancel acts at the next cancellation point.
            return;
        }
        if UNDER_VALGRIND.load(Ordering::Relaxed) {
            // Valgrind ignores the mask edit below, so the re-sent 32 would come straight back,
            // forever. The cancel stays pending instead: it acts at the next cancellation point,
            // once the restarted call returns.
            return;
        }
        // A signal handler running on top of a cancellable syscall: when it returns, the
        // kernel restarts that syscall past the flag check. Re-send 32 and resume the handler
        // with 32 blocked: the signal stays queued until the handler returns and its mask
        // comes back, and then lands on the restarted syscall, inside the window. (This is the
        // only place ptcancel leaves a 32 queued or blocked, and only until that return.)
        *context_sigmask(uc) |= SIGCANCEL_BIT;
    }
    send_self();
}

/// Acts on the cancel from the handler: the interrupted mask comes back, plus 32 while the
/// thread unwinds from this frame through the interrupted code.
///
/// # Safety
/// `uc` must be the handler's context, and unwinding from it must lose nothing (asynchronous
/// type, or a syscall that has not been made).
unsafe fn act_here(me: &ThreadCancel, uc: *mut c_void) -> ! {
    // SAFETY: the caller's contract; only the context's mask is edited, then installed.
    unsafe {
        *context_sigmask(uc) |= SIGCANCEL_BIT;
        syscall!(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            context_sigmask(uc),
            0,
            KERNEL_SIGSET_SIZE
        );
    }
    syscall_cp::exit(me)
}
