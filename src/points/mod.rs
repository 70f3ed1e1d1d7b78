//! Cancellation points, grouped by family. Points whose C arguments go to the kernel unchanged
//! are two-instruction trampolines into the arch fast thunk (`arch::fast_point!`); the others
//! are Rust functions over [`crate::syscall_cp::syscall_cp`].

// time_t, off_t and friends are 64-bit on x86_64 and 32-bit on i386: the conversions that
// widen them on i386 are no-ops on x86_64.
#![allow(clippy::useless_conversion)]

mod c11;
pub(crate) use c11::thrd_result;
mod cond;
mod event;
mod fortify;
mod io;
mod ipc;
mod join;
mod net;
mod process;
mod sem;
mod signal;
mod splice;
mod sync;
mod time;
#[cfg(target_arch = "x86")]
mod time64;

/// Exports C names for an internal function: naked entries (x86_64: a tail jump, no frame;
/// i386: a realigning call). The target is not itself exported, so the entry binds to it even
/// where the exported names could be interposed (i386 PIC forbids a direct jump to a
/// preemptible symbol).
macro_rules! alias {
    ($target:ident => $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)+) => {$(
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            $crate::arch::entry_to!($target)
        }
    )+};
}
pub(crate) use alias;

/// glibc's `struct __timespec64` on i386 (`_TIME_BITS=64`): what the kernel's time64 syscalls
/// take as `struct __kernel_timespec`.
#[cfg(target_arch = "x86")]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Timespec64 {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}
