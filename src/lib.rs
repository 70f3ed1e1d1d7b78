//! ptcancel: musl's race-free POSIX thread cancellation for glibc programs on x86_64 and i386.
//!
//! Loaded with `LD_PRELOAD` (or linked ahead of libc), it replaces the cancellation API and
//! every cancellation point a program calls. A cancellable syscall runs in a small asm thunk;
//! the cancel signal's handler acts only while the thread's program counter is between the
//! thunk's flag check and its syscall instruction, so a syscall that completed always returns
//! its result: no lost bytes, no leaked file descriptors (DESIGN.md §2). Acting calls glibc's
//! `pthread_exit(PTHREAD_CANCELED)`, so cleanup handlers, destructors and TSD destructors run.
#![no_std]

/// cbindgen:ignore
#[cfg(target_arch = "x86_64")]
#[path = "../arch/x86_64/mod.rs"]
mod arch;

/// cbindgen:ignore
#[cfg(target_arch = "x86")]
#[path = "../arch/i386/mod.rs"]
mod arch;

pub mod api;
/// cbindgen:ignore
mod env;
/// cbindgen:ignore
mod futex;
/// cbindgen:ignore
mod glibc;
/// cbindgen:ignore
mod glibc_cp;
/// cbindgen:ignore
mod handler;
/// cbindgen:ignore
mod lifecycle;
/// cbindgen:ignore
mod load_check;
/// cbindgen:ignore
mod points;
/// cbindgen:ignore
mod state;
/// cbindgen:ignore
mod sys;
/// cbindgen:ignore
mod syscall_cp;
/// cbindgen:ignore
mod too_old;
/// cbindgen:ignore
#[cfg(target_arch = "x86")]
mod vdso;

pub use api::*;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    unsafe extern "C" {
        fn abort() -> !;
    }
    // SAFETY: abort takes no arguments and never returns.
    unsafe { abort() }
}
