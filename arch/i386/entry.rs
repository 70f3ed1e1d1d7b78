//! Which entry the i386 thunk uses to enter the kernel, chosen once at start-up (DESIGN §4):
//!
//! 1. `kernel-helpers`: the vDSO exports `__vdso_pending_syscall_return_address` and
//!    `__vdso_abort_pending_syscall`; the thunk calls AT_SYSINFO and the handler asks them.
//! 2. `emulated-helpers`: no helpers, but `__kernel_vsyscall`'s bytes match a layout verified
//!    here; the thunk calls AT_SYSINFO and the handler uses our implementation of the helpers.
//! 3. `int80`: anything else; the thunk calls an `int $0x80` stub (helpers emulated for it).
//!
//! `PTCANCEL_I386_MODE` forces a mode (falling back, with a message, when it is impossible);
//! `PTCANCEL_DEBUG=1` reports the choice on stderr; `PTCANCEL_TEST_VDSO=/path.so` makes a
//! shared object stand in for the vDSO, in test builds only (the `test-hooks` feature). None of
//! them is read in a set-uid/set-gid program (AT_SECURE).

use core::ffi::{CStr, c_void};
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use crate::env::{self, say};
use crate::vdso::{Elf, Image, mapped_size};

const KERNEL_HELPERS: u8 = 1;
const EMULATED_HELPERS: u8 = 2;
const INT80: u8 = 3;

static MODE: AtomicU8 = AtomicU8::new(INT80);
/// The entry's first byte and its landing pad (the first PC after the syscall completed).
static ENTRY_START: AtomicUsize = AtomicUsize::new(0);
static ENTRY_LANDING: AtomicUsize = AtomicUsize::new(0);
/// How many words the entry pushes before its syscall instruction (one per byte, from start).
static ENTRY_PUSHES: AtomicUsize = AtomicUsize::new(0);
/// The real vDSO entry (AT_SYSINFO), which glibc calls, if its layout is verified; else 0.
static GLIBC_ENTRY: AtomicUsize = AtomicUsize::new(0);
/// The vDSO helper functions in kernel-helpers mode.
static PENDING_RETURN_ADDRESS: AtomicUsize = AtomicUsize::new(0);
static ABORT_PENDING: AtomicUsize = AtomicUsize::new(0);

type PendingFn = unsafe extern "C" fn(*const c_void) -> usize;
type AbortFn = unsafe extern "C" fn(*mut c_void) -> isize;

const NOT_PENDING: usize = usize::MAX;
const EINTR: usize = libc::EINTR as usize;

/// The mode's name, as `PTCANCEL_I386_MODE` spells it.
pub fn mode_name() -> &'static CStr {
    match MODE.load(Ordering::Relaxed) {
        KERNEL_HELPERS => c"kernel-helpers",
        EMULATED_HELPERS => c"emulated-helpers",
        _ => c"int80",
    }
}

// ---- The helpers' contract, implemented for an entry whose layout we know -------------------

/// `__vdso_pending_syscall_return_address` for the verified layouts: the return address of a
/// call into the entry that has not yet entered the kernel or is being restarted, else -1.
unsafe extern "C" fn emulated_pending_return_address(uc: *const c_void) -> usize {
    let uc = uc as *mut c_void;
    let start = ENTRY_START.load(Ordering::Relaxed);
    // SAFETY: `uc` is the handler's context (the only caller).
    let (pc, sp) = unsafe { (super::context_pc(uc), super::context_reg(uc, libc::REG_ESP)) };
    if !(start..ENTRY_LANDING.load(Ordering::Relaxed)).contains(&pc) {
        return NOT_PENDING;
    }
    // Each of the entry's first bytes is a one-byte push: at start + k, k words are pushed.
    let pushed = (pc - start).min(ENTRY_PUSHES.load(Ordering::Relaxed));
    // SAFETY: the interrupted thread is inside a call into the entry, so its stack holds the
    // pushed words and the return address right there.
    unsafe { *((sp + 4 * pushed) as *const usize) }
}

/// `__vdso_abort_pending_syscall` for the verified layouts: pops the call frame, EIP = return
/// address, EAX = -EINTR; 0, or -EINVAL if nothing is pending.
unsafe extern "C" fn emulated_abort_pending(uc: *mut c_void) -> isize {
    // SAFETY: as above.
    let ret = unsafe { emulated_pending_return_address(uc) };
    if ret == NOT_PENDING {
        return -(libc::EINVAL as isize);
    }
    // SAFETY: as above; only the context is edited.
    unsafe {
        let pushed = (super::context_pc(uc) - ENTRY_START.load(Ordering::Relaxed))
            .min(ENTRY_PUSHES.load(Ordering::Relaxed));
        let sp = super::context_reg(uc, libc::REG_ESP);
        super::set_context_reg(uc, libc::REG_ESP, sp + 4 * pushed + 4);
        super::set_context_pc(uc, ret);
        super::set_context_reg(uc, libc::REG_EAX, EINTR.wrapping_neg());
    }
    0
}

/// Whether the interrupted thread is on its way back from a call our thunk made into the
/// entry, its syscall completed: in the landing pad (`pop %ebp; pop %edx; pop %ecx; ret`, or
/// the int80 stub's `ret`) with `ours.end` as the return address. Known only for the layouts
/// verified here (emulated-helpers and int80 modes); glibc's own syscalls use the same vDSO
/// entry, so the return address is what tells them apart.
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`.
pub unsafe fn returning_to_thunk(uc: *mut c_void, ours: &super::CancelRange) -> bool {
    if MODE.load(Ordering::Relaxed) == KERNEL_HELPERS {
        return false;
    }
    let landing = ENTRY_LANDING.load(Ordering::Relaxed);
    let pushes = ENTRY_PUSHES.load(Ordering::Relaxed);
    // SAFETY: the caller's contract.
    let (pc, sp) = unsafe { (super::context_pc(uc), super::context_reg(uc, libc::REG_ESP)) };
    if !(landing..=landing + pushes).contains(&pc) {
        return false;
    }
    // One one-byte pop per byte from the landing pad: the words not yet popped, then the
    // return address.
    let left = pushes - (pc - landing);
    // SAFETY: the thread is in the entry's landing pad, so its stack holds those words and a
    // return address right there.
    unsafe { *((sp + 4 * left) as *const usize) == ours.end }
}

/// Called by the signal handler: if the thread is inside a call into the entry that our thunk
/// made and the syscall is still pending, aborts it and returns where to resume (the thunk's
/// cancel label). Calls that are not ours, or helpers that misbehave, leave the context as it
/// was and return `None`.
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`.
pub unsafe fn abort_pending_call(uc: *mut c_void, ours: &super::CancelRange) -> Option<usize> {
    let (pending, abort): (PendingFn, AbortFn) = match MODE.load(Ordering::Relaxed) {
        KERNEL_HELPERS => {
            // SAFETY: set once at start-up to the vDSO's functions with this contract.
            unsafe {
                (
                    core::mem::transmute::<usize, PendingFn>(
                        PENDING_RETURN_ADDRESS.load(Ordering::Relaxed),
                    ),
                    core::mem::transmute::<usize, AbortFn>(ABORT_PENDING.load(Ordering::Relaxed)),
                )
            }
        }
        _ => (emulated_pending_return_address, emulated_abort_pending),
    };
    // SAFETY: the helpers take the handler's context.
    if unsafe { pending(uc) } != ours.end {
        return None;
    }
    // Keep the context so that a helper breaking its contract cannot lose the call's result.
    // (Not zero-initialised: that would be a memset call.)
    let mut saved = core::mem::MaybeUninit::<[usize; CONTEXT_WORDS]>::uninit();
    // SAFETY: `uc` is a valid ucontext_t of CONTEXT_WORDS words; `saved` is as large.
    unsafe { copy_words(saved.as_mut_ptr().cast(), uc as *const usize) };
    // SAFETY: as above.
    let old_sp = unsafe { super::context_reg(uc, libc::REG_ESP) };
    // SAFETY: as above.
    let aborted = unsafe { abort(uc) } == 0 && unsafe { popped_to_thunk(uc, old_sp, ours) };
    if !aborted {
        // SAFETY: restores the copy taken above.
        unsafe { copy_words(uc as *mut usize, saved.as_ptr().cast()) };
        return None;
    }
    Some(ours.cancel)
}

const CONTEXT_WORDS: usize = core::mem::size_of::<libc::ucontext_t>() / 4;
const _: () = assert!(core::mem::size_of::<libc::ucontext_t>().is_multiple_of(4));

/// Copies a ucontext_t word by word. Volatile, so that the compiler cannot turn it into a
/// `memcpy` call: the signal handler must not depend on lazy binding (a static link without
/// `-z now` would resolve memcpy's PLT slot inside the handler).
///
/// # Safety
/// Both pointers valid for CONTEXT_WORDS words.
unsafe fn copy_words(to: *mut usize, from: *const usize) {
    for i in 0..CONTEXT_WORDS {
        // SAFETY: the caller's contract.
        unsafe { to.add(i).write_volatile(from.add(i).read_volatile()) };
    }
}

/// Did the abort leave the thread where the contract says: at the thunk's return address, with
/// the stack popped to the thunk's frame (whose top word is the entry it called)?
///
/// # Safety
/// `uc` must be the handler's context, `old_sp` its stack pointer before the abort.
unsafe fn popped_to_thunk(uc: *mut c_void, old_sp: usize, ours: &super::CancelRange) -> bool {
    // SAFETY: the caller's contract.
    let (pc, sp) = unsafe { (super::context_pc(uc), super::context_reg(uc, libc::REG_ESP)) };
    // The entry pushes at most a few words: the thunk's frame is just above the old stack
    // pointer, in memory the interrupted thread was using, so it can be read.
    let near = sp > old_sp && sp - old_sp <= 64;
    // SAFETY: `sp` lies in the live stack region checked above.
    near && pc == ours.end && unsafe { *(sp as *const usize) } == super::syscall_entry()
}

/// If the interrupted thread is inside a call that glibc's code `text` made into the real vDSO
/// entry and its syscall has not been made (or is being restarted), pops the entry's frame
/// (restoring the registers it saved) and puts the PC back on glibc's `call *%gs:0x10`:
/// the thread is then exactly as before the call. Only for the verified entry layout.
///
/// # Safety
/// `uc` must be the handler's `ucontext_t`.
pub unsafe fn leave_glibc_vsyscall(uc: *mut c_void, text: &core::ops::Range<usize>) -> bool {
    let start = GLIBC_ENTRY.load(Ordering::Relaxed);
    // SAFETY: the caller's contract.
    let (pc, sp) = unsafe { (super::context_pc(uc), super::context_reg(uc, libc::REG_ESP)) };
    if start == 0 || !(start..start + VSYSCALL_LANDING).contains(&pc) {
        return false;
    }
    // One one-byte push per byte from the start (ecx, edx, ebp), then the syscall slot.
    let pushed = (pc - start).min(VSYSCALL_PROLOGUE.len());
    // SAFETY: the thread is inside a call into the entry: its stack holds the pushed words
    // and the return address right there.
    let words = unsafe { *((sp) as *const [usize; 4]) };
    let Some(&ret) = words.get(pushed) else {
        return false;
    };
    let call = ret.wrapping_sub(super::glibc_cp::CALL_SYSINFO.len());
    // SAFETY: `call` is checked to lie in libc's mapped code before its bytes are read.
    let from_glibc = text.contains(&call)
        && ret <= text.end
        && unsafe { *(call as *const [u8; 7]) } == super::glibc_cp::CALL_SYSINFO;
    if !from_glibc {
        return false;
    }
    // The saved registers, last pushed first: ebp (if pushed), edx, ecx.
    let saved = [libc::REG_ECX, libc::REG_EDX, libc::REG_EBP];
    for (&reg, &value) in saved
        .iter()
        .take(pushed)
        .zip(words.iter().take(pushed).rev())
    {
        // SAFETY: the handler's context; the words pushed hold the registers' values.
        unsafe { super::set_context_reg(uc, reg, value) };
    }
    // SAFETY: as above.
    unsafe {
        super::set_context_reg(uc, libc::REG_ESP, sp + 4 * (pushed + 1));
        super::set_context_pc(uc, call);
    }
    true
}

// ---- Start-up: find the entry and pick the mode ---------------------------------------------

/// A mapped image of known size, read through checked slices.
struct Mapped {
    base: usize,
    len: usize,
    /// Loaded by the dynamic linker (a test stand-in), which relocated its dynamic section.
    loaded_by_ld_so: bool,
}

impl Image for Mapped {
    fn bytes(&self, at: usize, len: usize) -> Option<&[u8]> {
        let end = at.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: [base, base + self.len) is mapped and readable (the vDSO, or a dlopen'ed
        // object's span) and the parser only asks for bytes inside its PT_LOAD segments.
        Some(unsafe { core::slice::from_raw_parts((self.base + at) as *const u8, len) })
    }

    fn relocated_to(&self) -> Option<u32> {
        self.loaded_by_ld_so.then_some(self.base as u32)
    }
}

/// `__kernel_vsyscall` layouts verified against the kernel's vdso32/system_call.S: three
/// one-byte pushes (ecx, edx, ebp), a 4-byte slot (`mov %ecx,%ebp; syscall`, `mov %esp,%ebp;
/// sysenter`, or a 4-byte nop when neither exists), `int $0x80`, then the landing pad.
const VSYSCALL_PROLOGUE: [u8; 3] = [0x51, 0x52, 0x55];
const VSYSCALL_SLOTS: [[u8; 4]; 4] = [
    [0x89, 0xcd, 0x0f, 0x05], // mov %ecx,%ebp; syscall
    [0x89, 0xe5, 0x0f, 0x34], // mov %esp,%ebp; sysenter
    [0x0f, 0x1f, 0x40, 0x00], // nopl 0x0(%eax)
    [0x8d, 0x74, 0x26, 0x00], // lea 0x0(%esi,%eiz,1),%esi
];
const VSYSCALL_TAIL: [u8; 6] = [0xcd, 0x80, 0x5d, 0x5a, 0x59, 0xc3]; // int $0x80; pop ebp, edx, ecx; ret
const VSYSCALL_LANDING: usize = 9;

fn vsyscall_layout_verified(code: &[u8]) -> bool {
    code.len() >= 13
        && code[..3] == VSYSCALL_PROLOGUE
        && VSYSCALL_SLOTS.iter().any(|slot| code[3..7] == *slot)
        && code[7..13] == VSYSCALL_TAIL
}

/// What the image offers.
struct Found {
    entry: usize,
    helpers: Option<(usize, usize)>,
    layout_verified: bool,
}

/// Looks at the vDSO (or a stand-in) at `base` whose syscall entry is `entry`.
fn inspect(base: usize, entry: usize, loaded_by_ld_so: bool) -> Option<Found> {
    let header = Mapped {
        base,
        len: 4096,
        loaded_by_ld_so,
    };
    let len = mapped_size(&header)? as usize;
    let image = Mapped {
        base,
        len,
        loaded_by_ld_so,
    };
    let elf = Elf::parse(&image)?;
    // The entry must be the image's own __kernel_vsyscall.
    if elf.lookup(b"__kernel_vsyscall", b"LINUX_2.5")? as usize != entry.checked_sub(base)? {
        return None;
    }
    let code = image.bytes(entry - base, 13);
    let helpers = match (
        elf.lookup(b"__vdso_pending_syscall_return_address", b"LINUX_2.6"),
        elf.lookup(b"__vdso_abort_pending_syscall", b"LINUX_2.6"),
    ) {
        (Some(pending), Some(abort)) => Some((base + pending as usize, base + abort as usize)),
        _ => None,
    };
    Some(Found {
        entry,
        helpers,
        layout_verified: code.is_some_and(vsyscall_layout_verified),
    })
}

#[cfg(feature = "test-hooks")]
unsafe extern "C" {
    fn dlopen(path: *const core::ffi::c_char, flags: core::ffi::c_int) -> *mut c_void;
}

/// The kernel's vDSO: (image base, AT_SYSINFO entry).
fn kernel_entry() -> Option<(usize, usize)> {
    // SAFETY: getauxval has no preconditions.
    let (base, entry) = unsafe {
        (
            libc::getauxval(libc::AT_SYSINFO_EHDR) as usize,
            libc::getauxval(32 /* AT_SYSINFO */) as usize,
        )
    };
    (base != 0 && entry != 0).then_some((base, entry))
}

/// Test builds only (the `test-hooks` feature): the shared object named by PTCANCEL_TEST_VDSO,
/// loaded to stand in for the vDSO: (image base, entry).
#[cfg(feature = "test-hooks")]
fn stand_in(path: &[u8]) -> Option<(usize, usize)> {
    let mut buf = [0u8; 512];
    let path = buf.get_mut(..path.len()).map(|b| {
        b.copy_from_slice(path);
        b.as_ptr()
    })?;
    // SAFETY: a NUL-terminated path (buf is zeroed beyond it); the object stays loaded.
    let handle = unsafe { dlopen(path.cast(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        say(&[b"ptcancel: PTCANCEL_TEST_VDSO could not be loaded\n"]);
        return None;
    }
    // SAFETY: dlsym/dladdr on a live handle; Dl_info is plain data.
    unsafe {
        let entry = crate::glibc::dlsym(handle, c"__kernel_vsyscall".as_ptr());
        let mut info: libc::Dl_info = core::mem::zeroed();
        if entry.is_null() || crate::glibc::dladdr(entry, &mut info) == 0 {
            return None;
        }
        Some((info.dli_fbase as usize, entry as usize))
    }
}

fn select_mode() {
    let real = kernel_entry().and_then(|(base, entry)| inspect(base, entry, false));
    // glibc's own syscalls use the real entry whatever our thunk uses (a test stand-in, or
    // the int80 stub): remember it when its layout is verified.
    if let Some(found) = real.as_ref().filter(|f| f.layout_verified) {
        GLIBC_ENTRY.store(found.entry, Ordering::Relaxed);
    }
    #[cfg(feature = "test-hooks")]
    let real = match env::var(c"PTCANCEL_TEST_VDSO") {
        Some(path) => stand_in(path).and_then(|(base, entry)| inspect(base, entry, true)),
        None => real,
    };
    let found = real;
    let best = match &found {
        Some(f) if f.helpers.is_some() => KERNEL_HELPERS,
        Some(f) if f.layout_verified => EMULATED_HELPERS,
        _ => INT80,
    };
    let wanted = match env::var(c"PTCANCEL_I386_MODE") {
        None | Some(b"") | Some(b"auto") => best,
        Some(b"kernel-helpers") => KERNEL_HELPERS,
        Some(b"emulated-helpers") => EMULATED_HELPERS,
        Some(b"int80") => INT80,
        Some(other) => {
            say(&[
                b"ptcancel: unknown PTCANCEL_I386_MODE '",
                other,
                b"' (kernel-helpers, emulated-helpers, int80)\n",
            ]);
            best
        }
    };
    let possible = |mode| match (mode, &found) {
        (INT80, _) => true,
        (KERNEL_HELPERS, Some(f)) => f.helpers.is_some(),
        (EMULATED_HELPERS, Some(f)) => f.layout_verified,
        _ => false,
    };
    let mode = if possible(wanted) {
        wanted
    } else {
        // A weaker forced mode than `best` is always possible; a stronger one may not be.
        let fallback = if possible(EMULATED_HELPERS) {
            EMULATED_HELPERS
        } else {
            INT80
        };
        MODE.store(wanted, Ordering::Relaxed);
        let wanted_name = mode_name().to_bytes();
        MODE.store(fallback, Ordering::Relaxed);
        say(&[
            b"ptcancel: PTCANCEL_I386_MODE=",
            wanted_name,
            b" is not possible here; using ",
            mode_name().to_bytes(),
            b"\n",
        ]);
        fallback
    };
    let (entry, start, landing, pushes) = match (mode, &found) {
        (KERNEL_HELPERS | EMULATED_HELPERS, Some(f)) => {
            (f.entry, f.entry, f.entry + VSYSCALL_LANDING, 3)
        }
        _ => {
            let stub = super::int80_entry();
            (stub, stub, stub + 2, 0)
        }
    };
    if let (
        KERNEL_HELPERS,
        Some(Found {
            helpers: Some((pending, abort)),
            ..
        }),
    ) = (mode, &found)
    {
        PENDING_RETURN_ADDRESS.store(*pending, Ordering::Relaxed);
        ABORT_PENDING.store(*abort, Ordering::Relaxed);
    }
    ENTRY_START.store(start, Ordering::Relaxed);
    ENTRY_LANDING.store(landing, Ordering::Relaxed);
    ENTRY_PUSHES.store(pushes, Ordering::Relaxed);
    MODE.store(mode, Ordering::Relaxed);
    // SAFETY: start-up, single-threaded; the thunk reads the slot with a plain load.
    unsafe { super::syscall_entry_slot().write_volatile(entry) };
    if env::debug() {
        say(&[
            b"ptcancel: i386 syscall mode ",
            mode_name().to_bytes(),
            b"\n",
        ]);
    }
}

extern "C" fn init() {
    select_mode();
}

/// Runs `init` when the library is loaded (or, statically linked, before `main`).
#[used]
#[unsafe(link_section = ".init_array")]
static INIT: extern "C" fn() = init;
