//! x86_64 facts about glibc's own cancellable syscalls (see `src/glibc_cp.rs`).

use core::ffi::c_void;
use core::ops::Range;

use crate::glibc_cp::Layout;

/// The syscall instruction.
const SYSCALL: [u8; 2] = [0x0f, 0x05];

/// glibc 2.41+'s `__syscall_cancel_arch` (sysdeps/unix/sysv/linux/x86_64/syscall_cancel.S),
/// from its start label; checked byte for byte in Debian's 2.41 and 2.43. `None`: the rel32 of
/// the jump to `__syscall_do_cancel`. The window is [start label, syscall instruction].
pub const SYSCALL_CANCEL_ARCH: Layout = Layout {
    bytes: &[
        Some(0x8b),
        Some(0x07), // mov (%rdi),%eax
        Some(0xf6),
        Some(0x07),
        Some(0x08), // testb $TCB_CANCELED_BITMASK,(%rdi)
        Some(0x0f),
        Some(0x85),
        None,
        None,
        None,
        None, // jne __syscall_do_cancel
        Some(0x49),
        Some(0x89),
        Some(0xfb), // mov %rdi,%r11
        Some(0x48),
        Some(0x89),
        Some(0xf0), // mov %rsi,%rax
        Some(0x48),
        Some(0x89),
        Some(0xd7), // mov %rdx,%rdi
        Some(0x48),
        Some(0x89),
        Some(0xce), // mov %rcx,%rsi
        Some(0x4c),
        Some(0x89),
        Some(0xc2), // mov %r8,%rdx
        Some(0x4d),
        Some(0x89),
        Some(0xca), // mov %r9,%r10
        Some(0x4c),
        Some(0x8b),
        Some(0x44),
        Some(0x24),
        Some(0x08), // mov 0x8(%rsp),%r8
        Some(0x4c),
        Some(0x8b),
        Some(0x4c),
        Some(0x24),
        Some(0x10), // mov 0x10(%rsp),%r9
        Some(0x4c),
        Some(0x89),
        Some(0x5c),
        Some(0x24),
        Some(0x08), // mov %r11,0x8(%rsp)
        Some(0x0f),
        Some(0x05), // syscall
        Some(0xc3), // ret
    ],
    start: 0,
    syscall: 44,
};

/// Whether the interrupted PC is on a syscall instruction inside glibc's code `text`.
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`.
pub unsafe fn at_syscall(uc: *mut c_void, text: &Range<usize>) -> bool {
    // SAFETY: the caller's contract.
    let pc = unsafe { super::context_pc(uc) };
    // SAFETY: both bytes lie inside libc's mapped executable segment.
    text.contains(&pc) && pc + 2 <= text.end && unsafe { *(pc as *const [u8; 2]) } == SYSCALL
}

/// Makes the syscall instruction at the interrupted PC return `value` without running it.
///
/// # Safety
/// As for [`at_syscall`], which must have returned true (or the PC be on the syscall of the
/// verified `__syscall_cancel_arch`).
pub unsafe fn skip_syscall(uc: *mut c_void, value: isize) {
    // SAFETY: the caller's contract; the kernel reloads RAX and RIP from the context.
    unsafe {
        let pc = super::context_pc(uc);
        super::set_context_pc(uc, pc + SYSCALL.len());
        (*(uc as *mut libc::ucontext_t)).uc_mcontext.gregs[libc::REG_RAX as usize] = value as i64;
    }
}
