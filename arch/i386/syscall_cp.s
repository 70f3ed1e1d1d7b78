# Cancellable syscalls for i386 (DESIGN.md §2, §4). AT&T syntax, position-independent.
#
# One thunk makes every cancellable syscall: it calls the syscall entry chosen at start-up
# (`ptcancel_syscall_entry`): the vDSO's __kernel_vsyscall (AT_SYSINFO, fast), or the
# `int $0x80` stub below. The cancel-signal handler redirects a thread to the cancel label
# when its PC is in [ptcancel_cp_begin, ptcancel_cp_end) (flag check, argument loads, the call
# instruction), or when the entry reports a pending syscall whose return address is
# ptcancel_cp_end (src/arch i386: the kernel's or our emulated vDSO helpers). Either way the
# stack at the cancel label is the thunk's own frame, as at the call.
#
# Operands filled in by global_asm!:
#   {cancel_raw} fn() -> isize          act on the pending cancel; raw result (-ECANCELED)
#   {fail}       fn(raw: isize) -> isize negative kernel result, C convention
#   {slow}       fn(a..f, nr) -> isize  generic path for a non-default thread state

# Per-thread cancel state, 4 bytes of initial-exec TLS (layout: src/state.rs): pending, state,
# type, and how many cancellable syscalls the thread is inside.
        .section .tbss,"awT",@nobits
        .p2align 2
        .globl  ptcancel_tls
        .hidden ptcancel_tls
        .type   ptcancel_tls,@object
        .size   ptcancel_tls,4
ptcancel_tls:
        .zero   4

# The syscall entry the thunk calls: int80 until start-up code picks a faster one.
        .data
        .p2align 2
        .globl  ptcancel_syscall_entry
        .hidden ptcancel_syscall_entry
ptcancel_syscall_entry:
        .long   ptcancel_int80_entry

        .text

# %ecx = the caller's return address. PIC on i386 has no PC-relative data addressing: each
# use is `call ptcancel_pc_ecx; addl $_GLOBAL_OFFSET_TABLE_, %ecx`, giving the GOT address.
ptcancel_pc_ecx:
        .cfi_startproc
        movl    (%esp), %ecx
        ret
        .cfi_endproc

# isize ptcancel_tls_offset(void): the thread-pointer-relative offset of ptcancel_tls.
        .globl  ptcancel_tls_offset
        .hidden ptcancel_tls_offset
        .type   ptcancel_tls_offset,@function
ptcancel_tls_offset:
        .cfi_startproc
        call    ptcancel_pc_ecx
        addl    $_GLOBAL_OFFSET_TABLE_, %ecx
        movl    ptcancel_tls@gotntpoff(%ecx), %eax
        ret
        .cfi_endproc

# The int80 mode's entry, called like __kernel_vsyscall (eax = nr, ebx..ebp = arguments).
# A syscall through it is pending iff the PC is on the int $0x80 (not yet run, or rewound by
# the kernel to restart it); its return address is then at (%esp).
        .globl  ptcancel_int80_entry
        .hidden ptcancel_int80_entry
        .type   ptcancel_int80_entry,@function
ptcancel_int80_entry:
        .cfi_startproc
        int     $0x80
        ret
        .cfi_endproc

# Drops the thunk's frame: the entry pointer, the TLS offset and the four saved registers.
.macro pop_thunk_frame
        addl    $8, %esp
        .cfi_adjust_cfa_offset -8
        popl    %ebx
        .cfi_adjust_cfa_offset -4
        .cfi_restore %ebx
        popl    %esi
        .cfi_adjust_cfa_offset -4
        .cfi_restore %esi
        popl    %edi
        .cfi_adjust_cfa_offset -4
        .cfi_restore %edi
        popl    %ebp
        .cfi_adjust_cfa_offset -4
        .cfi_restore %ebp
.endm

# Undoes the thunk's count of itself (byte 3 of the state: how many cancellable syscalls the
# thread is inside; more than one only through signal handlers). Every argument register went
# to the syscall, so the TLS offset comes from the thunk's frame.
.macro leave_count
        movl    4(%esp), %ecx
        decb    %gs:3(%ecx)
.endm

# The thunk counts itself from `entry` until it leaves. The handler acts in [begin, end) (or
# on a pending call in the entry that returns to `end`), leaves the thread alone in the rest
# of [entry, exit) (the thunk deals with the cancel there), and knows from a non-zero count
# anywhere else that it interrupted a signal handler running on top of a cancellable syscall.

# isize ptcancel_syscall_cp(a, b, c, d, e, f, nr): raw kernel result, or {cancel_raw}'s.
# The caller has already handled the DISABLE state. ptcancel_cp_fast, which has the GOT address
# already, enters at ptcancel_syscall_cp_got with it in %ecx.
        .globl  ptcancel_syscall_cp
        .hidden ptcancel_syscall_cp
        .type   ptcancel_syscall_cp,@function
ptcancel_syscall_cp:
        .cfi_startproc
        call    ptcancel_pc_ecx
        addl    $_GLOBAL_OFFSET_TABLE_, %ecx
ptcancel_syscall_cp_got:
        pushl   %ebp
        .cfi_adjust_cfa_offset 4
        .cfi_rel_offset %ebp, 0
        pushl   %edi
        .cfi_adjust_cfa_offset 4
        .cfi_rel_offset %edi, 0
        pushl   %esi
        .cfi_adjust_cfa_offset 4
        .cfi_rel_offset %esi, 0
        pushl   %ebx
        .cfi_adjust_cfa_offset 4
        .cfi_rel_offset %ebx, 0
        # All six argument registers are needed: keep the TLS offset and the entry to call on the
        # stack. (A movl, which the linker can relax to a constant in a static link; a pushl of
        # the GOT slot it cannot.)
        movl    ptcancel_tls@gotntpoff(%ecx), %edx
        pushl   %edx
        .cfi_adjust_cfa_offset 4
        pushl   ptcancel_syscall_entry@GOTOFF(%ecx)
        .cfi_adjust_cfa_offset 4
        movl    %edx, %ecx
        .globl  ptcancel_cp_entry
        .hidden ptcancel_cp_entry
ptcancel_cp_entry:
        incb    %gs:3(%ecx)             # inside a cancellable syscall (until it leaves)
        .globl  ptcancel_cp_begin
        .hidden ptcancel_cp_begin
ptcancel_cp_begin:
        cmpb    $0, %gs:(%ecx)          # pending?
        jne     ptcancel_cp_cancel
        movl    28(%esp), %ebx          # 6 frame words + return address above a
        movl    32(%esp), %ecx
        movl    36(%esp), %edx
        movl    40(%esp), %esi
        movl    44(%esp), %edi
        movl    48(%esp), %ebp
        movl    52(%esp), %eax
        call    *(%esp)
        .globl  ptcancel_cp_end
        .hidden ptcancel_cp_end
ptcancel_cp_end:
        .cfi_remember_state
        leave_count
        pop_thunk_frame
        ret
        .cfi_restore_state
        .globl  ptcancel_cp_cancel
        .hidden ptcancel_cp_cancel
ptcancel_cp_cancel:
        leave_count
        pop_thunk_frame
        jmp     {cancel_raw}
        .globl  ptcancel_cp_exit
        .hidden ptcancel_cp_exit
ptcancel_cp_exit:
        .cfi_endproc
        .size   ptcancel_syscall_cp, .-ptcancel_syscall_cp

# The shared body of the exported cancellation points whose C arguments go to the kernel
# unchanged: the entry does `mov $nr, %eax; jmp ptcancel_cp_fast`. It copies the six argument
# words and nr into the thunk's argument order, on a 16-byte aligned frame whatever the
# caller's alignment (i386 callers may use 4: -mpreferred-stack-boundary=2, tcc, asm; the Rust
# functions this reaches assume 16), and, when the thread's state word is all zero (enabled,
# deferred, nothing pending, in no syscall), calls the thunk; otherwise {slow}. Extra argument
# words are read from the caller's frame and ignored by the kernel.
        .globl  ptcancel_cp_fast
        .hidden ptcancel_cp_fast
        .type   ptcancel_cp_fast,@function
ptcancel_cp_fast:
        .cfi_startproc
        pushl   %ebp
        .cfi_adjust_cfa_offset 4
        .cfi_rel_offset %ebp, 0
        movl    %esp, %ebp
        .cfi_def_cfa_register %ebp
        andl    $-16, %esp
        subl    $32, %esp
        movl    %eax, 24(%esp)          # nr, the 7th argument
        .irp    k, 0, 4, 8, 12, 16, 20  # a..f
        movl    8+\k(%ebp), %ecx
        movl    %ecx, \k(%esp)
        .endr
        call    ptcancel_pc_ecx
        addl    $_GLOBAL_OFFSET_TABLE_, %ecx
        movl    ptcancel_tls@gotntpoff(%ecx), %edx
        cmpl    $0, %gs:(%edx)
        jne     2f
        call    ptcancel_syscall_cp_got # %ecx: the GOT address
        cmpl    $-4095, %eax            # unsigned: -4095..-1 are errors
        jae     1f
        leave
        .cfi_remember_state
        .cfi_def_cfa %esp, 4
        .cfi_restore %ebp
        ret
        .cfi_restore_state
1:      movl    %eax, (%esp)
        call    {fail}
        leave
        .cfi_remember_state
        .cfi_def_cfa %esp, 4
        .cfi_restore %ebp
        ret
        .cfi_restore_state
2:      call    {slow}
        leave
        .cfi_def_cfa %esp, 4
        .cfi_restore %ebp
        ret
        .cfi_endproc
        .size   ptcancel_cp_fast, .-ptcancel_cp_fast

# Signal restorer: libgcc recognises an i386 rt signal frame by exactly these bytes at the
# return address (mov $173,%eax; int $0x80). The nop before it has no unwind info.
        nop
        .globl  ptcancel_restore_rt
        .hidden ptcancel_restore_rt
ptcancel_restore_rt:
        .byte   0xb8, 0xad, 0x00, 0x00, 0x00
        .byte   0xcd, 0x80

# The i686 `core` shipped with rustup is built with unwinding, and its unwind tables refer to
# rust_eh_personality, which a panic=abort no_std library does not define. No frame of ours
# has a landing pad and no `core` frame is ever on the stack when glibc unwinds a cancelled
# thread, so this is never called; if it were, it tells the unwinder to continue.
        .text
        .globl  rust_eh_personality
        .hidden rust_eh_personality
        .type   rust_eh_personality,@function
rust_eh_personality:
        .cfi_startproc
        movl    $8, %eax                # _URC_CONTINUE_UNWIND
        ret
        .cfi_endproc
