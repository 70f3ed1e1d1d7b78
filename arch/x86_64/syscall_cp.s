# Cancellable syscall thunks for x86_64 (DESIGN.md §2). AT&T syntax.
#
# The cancel-signal handler redirects a thread to a thunk's cancel label only while its PC is
# in [begin, end): the flag check or the syscall instruction itself (where the kernel leaves
# the PC when it restarts an interrupted syscall). Once the PC reaches `end` the kernel has
# done the work, and the result is returned whatever happens next: nothing is lost.
#
# Operands filled in by global_asm! (src/arch.rs of this directory):
#   {cancel_raw}  fn() -> isize           act on the pending cancel; raw result (-ECANCELED)
#   {cancel_c}    fn() -> isize           same, C convention (-1, errno = ECANCELED)
#   {fail}        fn(raw: isize) -> isize  negative kernel result, C convention
#   {slow}        fn(a..f, nr) -> isize   the generic path for any non-default thread state

# Per-thread cancel state, 4 bytes, zeroed for every new thread by the dynamic linker:
# byte 0 pending, byte 1 state, byte 2 type, byte 3 how many cancellable syscalls the thread
# is inside (more than one only through signal handlers; layout owned by src/state.rs).
# Initial-exec TLS: the same offset from the thread pointer in every thread, so
# pthread_cancel can reach any thread's copy from its pthread_t.
        .section .tbss,"awT",@nobits
        .p2align 2
        .globl  ptcancel_tls
        .hidden ptcancel_tls
        .type   ptcancel_tls,@object
        .size   ptcancel_tls,4
ptcancel_tls:
        .zero   4

        .text

# isize ptcancel_tls_offset(void): the thread-pointer-relative offset of ptcancel_tls.
        .globl  ptcancel_tls_offset
        .hidden ptcancel_tls_offset
        .type   ptcancel_tls_offset,@function
ptcancel_tls_offset:
        .cfi_startproc
        movq    ptcancel_tls@gottpoff(%rip), %rax
        ret
        .cfi_endproc
        .size   ptcancel_tls_offset, .-ptcancel_tls_offset

# Each thunk counts itself in byte 3 from `entry` until it leaves. The handler acts in
# [begin, end), leaves the thread alone in the rest of [entry, exit) (the thunk itself deals
# with the cancel there), and knows from a non-zero count anywhere else that it interrupted
# a signal handler running on top of a cancellable syscall.

# isize ptcancel_syscall_cp(a, b, c, d, e, f, nr): raw kernel result, or whatever
# {cancel_raw} returns. The caller has already handled the DISABLE state. nr comes last so
# that the six arguments are already in the registers the kernel wants (but the 4th).
        .globl  ptcancel_syscall_cp
        .hidden ptcancel_syscall_cp
        .type   ptcancel_syscall_cp,@function
ptcancel_syscall_cp:
        .cfi_startproc
        mov     8(%rsp), %rax
        mov     %rcx, %r10
        movq    ptcancel_tls@gottpoff(%rip), %r11
        .globl  ptcancel_cp_entry
        .hidden ptcancel_cp_entry
ptcancel_cp_entry:
        incb    %fs:3(%r11)             # inside a cancellable syscall
        .globl  ptcancel_cp_begin
        .hidden ptcancel_cp_begin
ptcancel_cp_begin:
        cmpb    $0, %fs:(%r11)          # pending?
        jne     ptcancel_cp_cancel
        syscall
        .globl  ptcancel_cp_end
        .hidden ptcancel_cp_end
ptcancel_cp_end:
        movq    ptcancel_tls@gottpoff(%rip), %r11   # (the syscall clobbered it)
        decb    %fs:3(%r11)
        ret
        .globl  ptcancel_cp_cancel
        .hidden ptcancel_cp_cancel
ptcancel_cp_cancel:
        movq    ptcancel_tls@gottpoff(%rip), %r11   # (a restarted syscall clobbered it)
        decb    %fs:3(%r11)
        jmp     {cancel_raw}            # tail call: its result is ours
        .globl  ptcancel_cp_exit
        .hidden ptcancel_cp_exit
ptcancel_cp_exit:
        .cfi_endproc
        .size   ptcancel_syscall_cp, .-ptcancel_syscall_cp

# The shared body of every exported cancellation point whose arguments go to the kernel
# unchanged: the entry does `mov $nr, %eax; jmp ptcancel_cp_fast`, so the C caller's frame
# is the only one between the program and the syscall instruction. Fast path: the state word
# is exactly "inside this one syscall" (enabled, deferred, nothing pending, not nested).
# Anything else takes {slow}.
        .globl  ptcancel_cp_fast
        .hidden ptcancel_cp_fast
        .type   ptcancel_cp_fast,@function
ptcancel_cp_fast:
        .cfi_startproc
        movq    ptcancel_tls@gottpoff(%rip), %r11
        mov     %rcx, %r10
        .globl  ptcancel_cp_fast_entry
        .hidden ptcancel_cp_fast_entry
ptcancel_cp_fast_entry:
        incb    %fs:3(%r11)
        .globl  ptcancel_cp_fast_begin
        .hidden ptcancel_cp_fast_begin
ptcancel_cp_fast_begin:
        cmpl    $0x01000000, %fs:(%r11) # only our own count set?
        jne     2f
        syscall
        .globl  ptcancel_cp_fast_end
        .hidden ptcancel_cp_fast_end
ptcancel_cp_fast_end:
        movq    ptcancel_tls@gottpoff(%rip), %r11
        decb    %fs:3(%r11)
        cmp     $-4095, %rax            # unsigned: -4095..-1 are errors
        jae     1f
        ret
1:      mov     %rax, %rdi
        jmp     {fail}
        .globl  ptcancel_cp_fast_cancel
        .hidden ptcancel_cp_fast_cancel
ptcancel_cp_fast_cancel:
        movq    ptcancel_tls@gottpoff(%rip), %r11
        decb    %fs:3(%r11)
        jmp     {cancel_c}
2:      decb    %fs:3(%r11)             # not the fast case: no syscall here after all
        push    %rax                    # nr becomes {slow}'s 7th (stack) argument
        .cfi_adjust_cfa_offset 8
        call    {slow}
        pop     %rcx
        .cfi_adjust_cfa_offset -8
        ret
        .globl  ptcancel_cp_fast_exit
        .hidden ptcancel_cp_fast_exit
ptcancel_cp_fast_exit:
        .cfi_endproc
        .size   ptcancel_cp_fast, .-ptcancel_cp_fast

# Signal restorer. libgcc's unwinder recognises a signal frame by exactly these bytes at the
# return address (mov $15,%rax; syscall). The nop before it has no unwind info, so the lookup
# of (return address - 1) finds no FDE and the byte test runs.
        nop
        .globl  ptcancel_restore_rt
        .hidden ptcancel_restore_rt
ptcancel_restore_rt:
        .byte   0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00
        .byte   0x0f, 0x05
