/* A stand-in for an i386 vDSO that exports the 2016 proposal's cancellation helpers, so that
 * ptcancel's kernel-helpers mode runs for real (PTCANCEL_TEST_VDSO=fake_vdso.so). No released
 * kernel has them. Built by the test harness:
 *   gcc -m32 -shared -fPIC -O2 -nostdlib -Wl,--version-script=fake_vdso.map fake_vdso.c
 *
 * __kernel_vsyscall is the kernel's int80-only entry: three pushes, int $0x80, then the landing
 * pad that pops them. Its layout deliberately differs from the ones ptcancel verifies itself
 * (no 4-byte sysenter/syscall slot), so only the helpers below can make cancellation work.
 *
 * The helpers follow the published contract (DESIGN.md §4):
 *   unsigned long __vdso_pending_syscall_return_address(const void *ucontext)
 *       the return address of the pending AT_SYSINFO call, or -1UL if none is pending;
 *   long __vdso_abort_pending_syscall(void *ucontext)
 *       if pending: pop the call frame (EIP = return address, ESP as just after the call
 *       returned), EAX = -EINTR, all other GPRs clobbered, return 0; else return -EINVAL.
 *
 * -DMISBEHAVE=N builds helpers that break the contract, which ptcancel must survive without
 * cancelling anything or losing a result: 1 abort says 0 but does nothing; 2 abort jumps
 * elsewhere; 3 abort pops the wrong number of words; 4 abort always fails; 5 the pending
 * return address is off by one.
 */
#ifndef MISBEHAVE
#define MISBEHAVE 0
#endif
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ucontext.h>

#define EINTR 4
#define EINVAL 22

void __kernel_vsyscall(void);
void fake_int80_landing_pad(void);

__asm__(".text\n"
        ".globl __kernel_vsyscall\n"
        ".type __kernel_vsyscall,@function\n"
        "__kernel_vsyscall:\n"
        "  .cfi_startproc\n"
        "  pushl %ecx\n"
        "  .cfi_adjust_cfa_offset 4\n"
        "  pushl %edx\n"
        "  .cfi_adjust_cfa_offset 4\n"
        "  pushl %ebp\n"
        "  .cfi_adjust_cfa_offset 4\n"
        "  int $0x80\n"
        ".globl fake_int80_landing_pad\n"
        "fake_int80_landing_pad:\n"
        "  popl %ebp\n"
        "  .cfi_adjust_cfa_offset -4\n"
        "  popl %edx\n"
        "  .cfi_adjust_cfa_offset -4\n"
        "  popl %ecx\n"
        "  .cfi_adjust_cfa_offset -4\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size __kernel_vsyscall, .-__kernel_vsyscall\n");

/* Words pushed by __kernel_vsyscall when the PC is at `ip`, or -1 if no syscall is pending. */
static long pushed_at(unsigned long ip)
{
    unsigned long start = (unsigned long)__kernel_vsyscall;
    if (ip < start || ip >= (unsigned long)fake_int80_landing_pad)
        return -1;
    return ip - start < 3 ? (long)(ip - start) : 3;
}

unsigned long __vdso_pending_syscall_return_address(const void *ctx)
{
    const ucontext_t *uc = ctx;
    long pushed = pushed_at(uc->uc_mcontext.gregs[REG_EIP]);
    if (pushed < 0)
        return -1UL;
    return *(const unsigned long *)(uc->uc_mcontext.gregs[REG_ESP] + 4 * pushed) + (MISBEHAVE == 5);
}

long __vdso_abort_pending_syscall(void *ctx)
{
    ucontext_t *uc = ctx;
    greg_t *r = uc->uc_mcontext.gregs;
    long pushed = pushed_at(r[REG_EIP]);
    if (pushed < 0 || MISBEHAVE == 4)
        return -EINVAL;
    if (MISBEHAVE == 1)
        return 0;
    if (MISBEHAVE == 3)
        pushed--;
    unsigned long sp = r[REG_ESP];
    r[REG_EIP] = *(const unsigned long *)(sp + 4 * pushed);
    r[REG_ESP] = sp + 4 * pushed + 4;
    r[REG_EAX] = -EINTR;
    if (MISBEHAVE == 2)
        r[REG_EIP] = 0x1000;
    /* "All other GPRs clobbered": make sure nobody relies on them. */
    r[REG_EBX] = r[REG_ECX] = r[REG_EDX] = r[REG_ESI] = r[REG_EDI] = r[REG_EBP] = 0x0badc0de;
    return 0;
}
