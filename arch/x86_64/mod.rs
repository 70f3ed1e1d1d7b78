//! x86_64 backend: raw syscalls, the cancellable syscall thunks, the signal restorer, ucontext
//! access and the exported fast cancellation-point entries. Everything the generic code needs
//! from the architecture goes through the items of this module.

use core::arch::{asm, global_asm};
use core::ffi::c_void;

pub use crate::syscall_cp::CancelRange;

mod glibc_cp;
pub use glibc_cp::{SYSCALL_CANCEL_ARCH, at_syscall, skip_syscall};

global_asm!(
    include_str!("syscall_cp.s"),
    cancel_raw = sym crate::syscall_cp::cancel_raw,
    cancel_c = sym crate::syscall_cp::cancel_c,
    fail = sym crate::syscall_cp::fail,
    slow = sym crate::syscall_cp::slow,
    options(att_syntax)
);

unsafe extern "C" {
    fn ptcancel_tls_offset() -> isize;
    /// Raw cancellable syscall (see `syscall_cp.s`). The caller handles the DISABLE state.
    pub fn ptcancel_syscall_cp(
        a: usize,
        b: usize,
        c: usize,
        d: usize,
        e: usize,
        f: usize,
        nr: isize,
    ) -> isize;
    pub fn ptcancel_cp_fast();
    static ptcancel_cp_entry: u8;
    static ptcancel_cp_begin: u8;
    static ptcancel_cp_end: u8;
    static ptcancel_cp_cancel: u8;
    static ptcancel_cp_exit: u8;
    static ptcancel_cp_fast_entry: u8;
    static ptcancel_cp_fast_begin: u8;
    static ptcancel_cp_fast_end: u8;
    static ptcancel_cp_fast_cancel: u8;
    static ptcancel_cp_fast_exit: u8;
    static ptcancel_restore_rt: u8;
}

/// The thread pointer, which glibc also uses as the `pthread_t` value.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: %fs:0 holds the TCB's self pointer on x86_64 Linux (TLS ABI, variant II).
    unsafe {
        asm!("mov {}, qword ptr fs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags))
    };
    tp
}

/// Offset of the per-thread cancel state from the thread pointer: the same in every thread.
#[inline(always)]
pub fn tls_offset() -> isize {
    // SAFETY: a leaf asm function with no side effects that returns an initial-exec offset.
    unsafe { ptcancel_tls_offset() }
}

/// The windows of both thunks.
#[inline(always)]
pub fn cancel_ranges() -> [CancelRange; 2] {
    [
        CancelRange {
            entry: &raw const ptcancel_cp_entry as usize,
            begin: &raw const ptcancel_cp_begin as usize,
            end: &raw const ptcancel_cp_end as usize,
            cancel: &raw const ptcancel_cp_cancel as usize,
            exit: &raw const ptcancel_cp_exit as usize,
        },
        CancelRange {
            entry: &raw const ptcancel_cp_fast_entry as usize,
            begin: &raw const ptcancel_cp_fast_begin as usize,
            end: &raw const ptcancel_cp_fast_end as usize,
            cancel: &raw const ptcancel_cp_fast_cancel as usize,
            exit: &raw const ptcancel_cp_fast_exit as usize,
        },
    ]
}

/// x86_64 makes syscalls in the thunk itself: there is never a pending call elsewhere.
///
/// # Safety
/// Nothing to uphold; unsafe to match the i386 signature.
#[inline(always)]
pub unsafe fn abort_pending_call(_uc: *mut c_void, _ours: &CancelRange) -> Option<usize> {
    None
}

/// x86_64's thunks make the syscall themselves: they never return from an entry elsewhere.
///
/// # Safety
/// Nothing to uphold; unsafe to match the i386 signature.
#[inline(always)]
pub unsafe fn returning_to_thunk(_uc: *mut c_void, _ours: &CancelRange) -> bool {
    false
}

/// How this arch enters the kernel for cancellable syscalls.
pub fn mode_name() -> &'static core::ffi::CStr {
    c"syscall"
}

/// `SA_RESTORER` and the restorer to pass with it: x86_64 cannot deliver a signal without one.
pub fn restorer() -> Option<usize> {
    Some(&raw const ptcancel_restore_rt as usize)
}

/// The interrupted program counter in a signal handler's `ucontext_t`.
///
/// # Safety
/// `uc` must be the context pointer the kernel passed to an `SA_SIGINFO` handler.
#[inline(always)]
pub unsafe fn context_pc(uc: *mut c_void) -> usize {
    // SAFETY: per the contract, `uc` points to a kernel-written ucontext_t.
    unsafe { (*(uc as *mut libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] as usize }
}

/// Make the interrupted context resume at `pc` when the handler returns.
///
/// # Safety
/// As for [`context_pc`].
#[inline(always)]
pub unsafe fn set_context_pc(uc: *mut c_void, pc: usize) {
    // SAFETY: as above; the kernel reloads RIP from here on rt_sigreturn.
    unsafe {
        (*(uc as *mut libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RIP as usize] = pc as i64
    };
}

/// Raw syscalls: return the kernel's value (negative errno on failure). Not cancellation points.
///
/// # Safety
/// The arguments must be valid for syscall `nr`.
#[inline(always)]
pub unsafe fn syscall6(
    nr: isize,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    e: usize,
    f: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the syscall instruction clobbers only rcx and r11 (and rax, the result).
    unsafe {
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a, in("rsi") b, in("rdx") c,
             in("r10") d, in("r8") e, in("r9") f, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}

/// Defines exported cancellation points that pass their C arguments to syscall `$nr`: a naked
/// trampoline into the shared fast thunk. Optional `$setup` instructions first adjust
/// registers (e.g. zero the arguments a shorter C call does not pass):
/// `fast_point! { nr, ["xor r8d, r8d"] => name(args) -> ret; ... }`.
macro_rules! fast_point {
    ($nr:expr => $($rest:tt)+) => {
        $crate::arch::fast_point!($nr, [] => $($rest)+);
    };
    ($nr:expr, $setup:tt => $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)+) => {$(
        $crate::arch::fast_point!(@one $nr, $setup, $name($($arg: $ty),*) -> $ret);
    )+};
    (@one $nr:expr, [$($setup:literal),*], $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            core::arch::naked_asm!(
                ".cfi_startproc",
                $($setup,)*
                "mov eax, {nr}",
                "jmp {fast}",
                ".cfi_endproc",
                nr = const $nr,
                fast = sym $crate::arch::ptcancel_cp_fast,
            )
        }
    };
}
pub(crate) use fast_point;

/// Exports a Rust `extern "C"` function under its C name (x86_64 callers keep the ABI's
/// 16-byte stack alignment; the i386 version re-aligns).
macro_rules! export {
    ($(#[$m:meta])* $vis:vis unsafe extern "C" fn $name:ident $($rest:tt)*) => {
        $(#[$m])* #[unsafe(no_mangle)] $vis unsafe extern "C" fn $name $($rest)*
    };
    ($(#[$m:meta])* $vis:vis extern "C" fn $name:ident $($rest:tt)*) => {
        $(#[$m])* #[unsafe(no_mangle)] $vis extern "C" fn $name $($rest)*
    };
}
pub(crate) use export;

/// The body of a naked exported function that goes on in `$target`: a tail jump, no frame.
macro_rules! entry_to {
    ($target:path) => {
        core::arch::naked_asm!(".cfi_startproc", "jmp {target}", ".cfi_endproc", target = sym $target)
    };
}
pub(crate) use entry_to;

/// Exports `$name` as one of glibc's cleanup-buffer functions (`__cleanup_fct_attribute`,
/// plain C on x86_64) implemented by `extern "C" fn $target(*mut c_void)`.
macro_rules! export_cleanup_fct {
    ($name:ident => $target:path) => {
        /// # Safety
        /// `buf` must be the `pthread_cleanup_push_defer_np` macro's unwind buffer.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(buf: *mut core::ffi::c_void) {
            core::arch::naked_asm!(".cfi_startproc", "jmp {target}", ".cfi_endproc", target = sym $target)
        }
    };
}
pub(crate) use export_cleanup_fct;

/// Calls one of glibc's cleanup-buffer functions (`__cleanup_fct_attribute`).
///
/// # Safety
/// `f` must be such a function and `buf` what it expects.
pub unsafe fn call_cleanup_fct(f: unsafe extern "C" fn(*mut c_void), buf: *mut c_void) {
    // SAFETY: plain C calling convention on x86_64.
    unsafe { f(buf) }
}

/// Valgrind's client request (the published ABI of valgrind.h): a rotation sequence that
/// leaves `rdi` as it was, then `xchg %rbx,%rbx`, with the request block's address in
/// rax. Under valgrind the answer comes back in rdx; on a CPU nothing changes and rdx
/// keeps `default`.
///
/// # Safety
/// `block` must point to a readable six-word request block.
pub unsafe fn valgrind_request(block: *const usize, default: usize) -> usize {
    let answer: usize;
    // SAFETY: four rotations of rdi by 128 bits in all and an exchange of rbx with
    // itself change no register or memory on a CPU; valgrind only reads the block.
    unsafe {
        asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") block,
            inout("rdx") default => answer,
            inout("rdi") 0usize => _,
            options(nostack, readonly),
        )
    };
    answer
}
