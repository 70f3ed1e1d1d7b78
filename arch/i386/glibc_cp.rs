//! i386 facts about glibc's own cancellable syscalls (see `src/glibc_cp.rs`). Before 2.41
//! glibc enters the kernel through the vDSO (`call *%gs:0x10`), from 2.41 with `int $0x80`.

use core::ffi::c_void;
use core::ops::Range;

use crate::glibc_cp::Layout;

const INT80: [u8; 2] = [0xcd, 0x80];
/// `call *%gs:0x10`: glibc's call of the vDSO entry (AT_SYSINFO, kept in its TCB).
pub const CALL_SYSINFO: [u8; 7] = [0x65, 0xff, 0x15, 0x10, 0x00, 0x00, 0x00];

/// glibc 2.41+'s `__syscall_cancel_arch` (sysdeps/unix/sysv/linux/i386/syscall_cancel.S), from
/// the function's first byte; checked byte for byte in Debian's 2.41 and 2.43. `None`: the
/// rel8 of the jump to the `__syscall_do_cancel` tail. The window is [start label (after the
/// four pushes), int $0x80].
pub const SYSCALL_CANCEL_ARCH: Layout = Layout {
    bytes: &[
        Some(0x55),
        Some(0x57),
        Some(0x56),
        Some(0x53), // push %ebp, %edi, %esi, %ebx
        Some(0x8b),
        Some(0x44),
        Some(0x24),
        Some(0x14), // mov 0x14(%esp),%eax
        Some(0xf6),
        Some(0x00),
        Some(0x08), // testb $TCB_CANCELED_BITMASK,(%eax)
        Some(0x75),
        None, // jne 1f
        Some(0x8b),
        Some(0x44),
        Some(0x24),
        Some(0x18), // mov 0x18(%esp),%eax
        Some(0x8b),
        Some(0x5c),
        Some(0x24),
        Some(0x1c), // mov 0x1c(%esp),%ebx
        Some(0x8b),
        Some(0x4c),
        Some(0x24),
        Some(0x20), // mov 0x20(%esp),%ecx
        Some(0x8b),
        Some(0x54),
        Some(0x24),
        Some(0x24), // mov 0x24(%esp),%edx
        Some(0x8b),
        Some(0x74),
        Some(0x24),
        Some(0x28), // mov 0x28(%esp),%esi
        Some(0x8b),
        Some(0x7c),
        Some(0x24),
        Some(0x2c), // mov 0x2c(%esp),%edi
        Some(0x8b),
        Some(0x6c),
        Some(0x24),
        Some(0x30), // mov 0x30(%esp),%ebp
        Some(0xcd),
        Some(0x80), // int $0x80
        Some(0x5b),
        Some(0x5e),
        Some(0x5f),
        Some(0x5d),
        Some(0xc3), // pop x4; ret
    ],
    start: 4,
    syscall: 41,
};

/// Whether the interrupted thread is about to make a syscall from glibc's code `text`: on an
/// `int $0x80` there, or inside a call glibc made into the vDSO entry whose syscall is pending
/// (then the entry's frame is popped and the PC put back on glibc's `call *%gs:0x10`).
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`.
pub unsafe fn at_syscall(uc: *mut c_void, text: &Range<usize>) -> bool {
    // SAFETY: the caller's contract.
    let pc = unsafe { super::context_pc(uc) };
    // SAFETY: both bytes lie inside libc's mapped executable segment.
    if text.contains(&pc) && pc + 2 <= text.end && unsafe { *(pc as *const [u8; 2]) } == INT80 {
        return true;
    }
    // SAFETY: as above.
    unsafe { super::entry::leave_glibc_vsyscall(uc, text) }
}

/// Makes the syscall instruction (or glibc's call of the vDSO entry) at the interrupted PC
/// return `value` without running it.
///
/// # Safety
/// As for [`at_syscall`], which must have returned true (or the PC be on the `int $0x80` of
/// the verified `__syscall_cancel_arch`).
pub unsafe fn skip_syscall(uc: *mut c_void, value: isize) {
    // SAFETY: the caller's contract: the PC is on one of the two instructions, in libc.
    unsafe {
        let pc = super::context_pc(uc);
        let len = if *(pc as *const [u8; 2]) == INT80 {
            INT80.len()
        } else {
            CALL_SYSINFO.len()
        };
        super::set_context_pc(uc, pc + len);
        super::set_context_reg(uc, libc::REG_EAX, value as usize);
    }
}
