//! i386 backend: the cancellable syscall thunk, the int80 entry, the signal restorer, ucontext
//! access, the exported fast cancellation-point entries, and the choice of syscall entry
//! (AT_SYSINFO with kernel or emulated vDSO helpers, or int $0x80: `entry.rs`).

use core::arch::{asm, global_asm};
use core::ffi::c_void;

pub use crate::syscall_cp::CancelRange;

mod entry;
mod glibc_cp;
pub use entry::{abort_pending_call, mode_name, returning_to_thunk};
pub use glibc_cp::{SYSCALL_CANCEL_ARCH, at_syscall, skip_syscall};

global_asm!(
    include_str!("syscall_cp.s"),
    cancel_raw = sym crate::syscall_cp::cancel_raw,
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
    static ptcancel_restore_rt: u8;
    static ptcancel_int80_entry: u8;
    /// The entry the thunk calls (written once at start-up by `entry.rs`).
    static mut ptcancel_syscall_entry: usize;
}

/// The thread pointer, which glibc also uses as the `pthread_t` value.
#[inline(always)]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: %gs:0 holds the TCB's self pointer on i386 Linux (TLS ABI, variant II).
    unsafe {
        asm!("mov {}, dword ptr gs:[0]", out(reg) tp, options(nostack, readonly, preserves_flags))
    };
    tp
}

/// Offset of the per-thread cancel state from the thread pointer: the same in every thread.
#[inline(always)]
pub fn tls_offset() -> isize {
    // SAFETY: a leaf asm function with no side effects that returns an initial-exec offset.
    unsafe { ptcancel_tls_offset() }
}

/// The thunk's window: the flag check up to and including the call of the syscall entry.
/// `end` is also the return address of that call.
#[inline(always)]
pub fn cancel_ranges() -> [CancelRange; 1] {
    [CancelRange {
        entry: &raw const ptcancel_cp_entry as usize,
        begin: &raw const ptcancel_cp_begin as usize,
        end: &raw const ptcancel_cp_end as usize,
        cancel: &raw const ptcancel_cp_cancel as usize,
        exit: &raw const ptcancel_cp_exit as usize,
    }]
}

/// `SA_RESTORER` and the restorer to pass with it (the kernel would otherwise use the vDSO's,
/// which a process without a vDSO lacks).
pub fn restorer() -> Option<usize> {
    Some(&raw const ptcancel_restore_rt as usize)
}

fn gregs(uc: *mut c_void) -> *mut libc::greg_t {
    // SAFETY (for callers): `uc` is a kernel-written ucontext_t; only the address is formed.
    unsafe { &raw mut (*(uc as *mut libc::ucontext_t)).uc_mcontext.gregs as *mut libc::greg_t }
}

/// Register `index` (`libc::REG_*`) of a signal handler's `ucontext_t`.
///
/// # Safety
/// `uc` must be the context pointer the kernel passed to an `SA_SIGINFO` handler.
#[inline(always)]
pub unsafe fn context_reg(uc: *mut c_void, index: i32) -> usize {
    // SAFETY: per the contract; REG_* indices are within gregs.
    unsafe { *gregs(uc).add(index as usize) as usize }
}

/// # Safety
/// As for [`context_reg`]; the kernel loads the value into the register on rt_sigreturn.
#[inline(always)]
pub unsafe fn set_context_reg(uc: *mut c_void, index: i32, value: usize) {
    // SAFETY: as above.
    unsafe { *gregs(uc).add(index as usize) = value as libc::greg_t }
}

/// The interrupted program counter.
///
/// # Safety
/// As for [`context_reg`].
#[inline(always)]
pub unsafe fn context_pc(uc: *mut c_void) -> usize {
    // SAFETY: the caller's contract.
    unsafe { context_reg(uc, libc::REG_EIP) }
}

/// Make the interrupted context resume at `pc`.
///
/// # Safety
/// As for [`context_reg`].
#[inline(always)]
pub unsafe fn set_context_pc(uc: *mut c_void, pc: usize) {
    // SAFETY: the caller's contract.
    unsafe { set_context_reg(uc, libc::REG_EIP, pc) }
}

/// Raw syscall: returns the kernel's value (negative errno on failure). Not a cancellation
/// point. It enters through glibc's own syscall entry (`%gs:0x10`: AT_SYSINFO, or glibc's
/// int $0x80 stub without one), which is ~6x cheaper than `int $0x80` here; the signal
/// handler never mistakes it for a pending cancellable call, whose return address must be
/// the thunk's.
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
    let args = [a, b, c, d, e, f];
    let ret: isize;
    // SAFETY: ebx, esi and ebp cannot be asm operands on x86-32 (LLVM reserves them), so they
    // are saved, loaded from `args` and restored around the call by hand; the entry preserves
    // every other register but eax, and uses only stack below %esp.
    unsafe {
        asm!(
            "push ebp",
            "push esi",
            "push ebx",
            "mov ebx, [edi]",
            "mov esi, [edi + 12]",
            "mov ebp, [edi + 20]",
            "mov edi, [edi + 16]",
            "call dword ptr gs:[0x10]",
            "pop ebx",
            "pop esi",
            "pop ebp",
            inlateout("eax") nr => ret,
            inout("edi") args.as_ptr() => _,
            in("ecx") b,
            in("edx") c,
        );
    }
    ret
}

/// Defines exported cancellation points that pass their C arguments to syscall `$nr`
/// unchanged: a two-instruction naked trampoline into the shared fast thunk.
macro_rules! fast_point {
    ($nr:expr => $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)+) => {$(
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            core::arch::naked_asm!(
                ".cfi_startproc",
                "mov eax, {nr}",
                "jmp {fast}",
                ".cfi_endproc",
                nr = const $nr,
                fast = sym $crate::arch::ptcancel_cp_fast,
            )
        }
    )+};
}
pub(crate) use fast_point;

/// The body of a naked entry that calls `$target` (an `extern "C"` function) on a 16-byte
/// aligned stack with the caller's argument words copied: i386 callers may come with a 4-byte
/// aligned stack (`-mpreferred-stack-boundary=2`, tcc, hand-written asm; glibc works with
/// that), where rustc's i686 code assumes 16 (SSE spills with `movaps`). Eight words are
/// copied whatever the function takes: the extra ones are the caller's frame, never read.
macro_rules! realigning_call {
    ($target:path) => {
        core::arch::naked_asm!(
            ".cfi_startproc",
            "push ebp",
            ".cfi_adjust_cfa_offset 4",
            ".cfi_offset ebp, -8",
            "mov ebp, esp",
            ".cfi_def_cfa_register ebp",
            "and esp, -16",
            "sub esp, 32",
            "mov ecx, [ebp + 8]",
            "mov [esp], ecx",
            "mov ecx, [ebp + 12]",
            "mov [esp + 4], ecx",
            "mov ecx, [ebp + 16]",
            "mov [esp + 8], ecx",
            "mov ecx, [ebp + 20]",
            "mov [esp + 12], ecx",
            "mov ecx, [ebp + 24]",
            "mov [esp + 16], ecx",
            "mov ecx, [ebp + 28]",
            "mov [esp + 20], ecx",
            "mov ecx, [ebp + 32]",
            "mov [esp + 24], ecx",
            "mov ecx, [ebp + 36]",
            "mov [esp + 28], ecx",
            "call {target}",
            "leave",
            ".cfi_def_cfa esp, 4",
            ".cfi_restore ebp",
            "ret",
            ".cfi_endproc",
            target = sym $target,
        )
    };
}
pub(crate) use realigning_call;

/// Exports a Rust `extern "C"` function under its C name through a realigning entry (see
/// [`realigning_call`]); the Rust function itself keeps its Rust name.
macro_rules! export {
    ($(#[$m:meta])* $vis:vis unsafe extern "C" fn $name:ident $($rest:tt)*) => {
        $(#[$m])* $vis unsafe extern "C" fn $name $($rest)*
        $crate::arch::realigned_entry!($name);
    };
    ($(#[$m:meta])* $vis:vis extern "C" fn $name:ident $($rest:tt)*) => {
        $(#[$m])* $vis extern "C" fn $name $($rest)*
        $crate::arch::realigned_entry!($name);
    };
}
pub(crate) use export;

macro_rules! realigned_entry {
    ($name:ident) => {
        const _: () = {
            #[unsafe(naked)]
            #[unsafe(export_name = stringify!($name))]
            unsafe extern "C" fn entry() {
                $crate::arch::realigning_call!($name)
            }
        };
    };
}
pub(crate) use realigned_entry;

/// The body of a naked exported function that goes on in `$target` (i386: realigning).
macro_rules! entry_to {
    ($target:path) => {
        $crate::arch::realigning_call!($target)
    };
}
pub(crate) use entry_to;

/// Where the thunk's entry pointer lives.
fn syscall_entry_slot() -> *mut usize {
    &raw mut ptcancel_syscall_entry
}

/// The entry the thunk calls.
fn syscall_entry() -> usize {
    // SAFETY: written once at start-up before any thread is cancelled; a plain load after.
    unsafe { syscall_entry_slot().read_volatile() }
}

/// The address of the int80 entry.
fn int80_entry() -> usize {
    &raw const ptcancel_int80_entry as usize
}

/// Exports `$name` as one of glibc's cleanup-buffer functions, which on i386 take their
/// argument in %eax (`__cleanup_fct_attribute` = regparm(1)), implemented by
/// `extern "C" fn $target(*mut c_void)`.
macro_rules! export_cleanup_fct {
    ($name:ident => $target:path) => {
        /// # Safety
        /// `buf` must be the `pthread_cleanup_push_defer_np` macro's unwind buffer.
        #[unsafe(naked)]
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(buf: *mut core::ffi::c_void) {
            // Realigned like every entry (see realigning_call); the argument is in %eax.
            core::arch::naked_asm!(
                ".cfi_startproc",
                "push ebp",
                ".cfi_adjust_cfa_offset 4",
                ".cfi_offset ebp, -8",
                "mov ebp, esp",
                ".cfi_def_cfa_register ebp",
                "and esp, -16",
                "sub esp, 16",
                "mov [esp], eax",
                "call {target}",
                "leave",
                ".cfi_def_cfa esp, 4",
                ".cfi_restore ebp",
                "ret",
                ".cfi_endproc",
                target = sym $target,
            )
        }
    };
}
pub(crate) use export_cleanup_fct;

/// Calls one of glibc's cleanup-buffer functions (regparm(1): the argument goes in %eax).
///
/// # Safety
/// `f` must be such a function and `buf` what it expects.
pub unsafe fn call_cleanup_fct(f: unsafe extern "C" fn(*mut c_void), buf: *mut c_void) {
    // SAFETY: regparm(1) with one argument: %eax holds it, the rest is the C convention.
    unsafe { asm!("call {f}", f = in(reg) f, in("eax") buf, clobber_abi("C")) }
}

/// Syscall numbers the `libc` crate does not list for i386 (Linux 5.1+: the 64-bit time calls).
pub mod nr {
    use core::ffi::c_long;
    pub const CLOCK_NANOSLEEP_TIME64: c_long = 407;
    pub const PSELECT6_TIME64: c_long = 413;
    pub const PPOLL_TIME64: c_long = 414;
    pub const RECVMMSG_TIME64: c_long = 417;
    pub const MQ_TIMEDSEND_TIME64: c_long = 418;
    pub const MQ_TIMEDRECEIVE_TIME64: c_long = 419;
    pub const RT_SIGTIMEDWAIT_TIME64: c_long = 421;
}

/// Valgrind's client request (the published ABI of valgrind.h): a rotation sequence that
/// leaves `edi` as it was, then `xchg %ebx,%ebx`, with the request block's address in
/// eax. Under valgrind the answer comes back in edx; on a CPU nothing changes and edx
/// keeps `default`.
///
/// # Safety
/// `block` must point to a readable six-word request block.
pub unsafe fn valgrind_request(block: *const usize, default: usize) -> usize {
    let answer: usize;
    // SAFETY: four rotations of edi by 64 bits in all and an exchange of ebx with
    // itself change no register or memory on a CPU; valgrind only reads the block.
    unsafe {
        asm!(
            "rol edi, 3",
            "rol edi, 13",
            "rol edi, 29",
            "rol edi, 19",
            "xchg ebx, ebx",
            in("eax") block,
            inout("edx") default => answer,
            inout("edi") 0usize => _,
            options(nostack, readonly),
        )
    };
    answer
}
