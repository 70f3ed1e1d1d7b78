//! What ptcancel uses from glibc, and glibc facts found at run time (DESIGN §3).

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::sync::atomic::{AtomicIsize, AtomicU32, AtomicUsize, Ordering};

unsafe extern "C" {
    pub fn __errno_location() -> *mut c_int;
    pub fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    pub fn dladdr(addr: *const c_void, info: *mut libc::Dl_info) -> c_int;
    fn dlopen(file: *const c_char, flags: c_int) -> *mut c_void;
    fn backtrace(buffer: *mut *mut c_void, size: c_int) -> c_int;
    /// glibc's own cleanup-buffer chain (the part of `__pthread_register_cancel_defer` that we
    /// do not replace). On i386 these are regparm(1): call them only through
    /// `arch::call_cleanup_fct`.
    pub fn __pthread_register_cancel(buf: *mut c_void);
    pub fn __pthread_unregister_cancel(buf: *mut c_void);
}

pub const RTLD_DEFAULT: *mut c_void = core::ptr::null_mut();
pub const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

// The glibc symbols ptcancel links to, bound at the oldest version that glibc 2.31 (where they
// live in libdl, librt and libpthread) and every later glibc (libc, keeping the old versions
// as compatibility symbols) both define. Left to the linker they would bind at 2.34's new
// versions, and the library would not load on older glibcs. The build links libdl, librt and
// libpthread in (build.rs) so that 2.31 finds them. (The rest of what ptcancel uses predates
// 2.31 in libc itself.)
#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".symver dlsym, dlsym@GLIBC_2.2.5",
    ".symver dlopen, dlopen@GLIBC_2.2.5",
    ".symver aio_error, aio_error@GLIBC_2.2.5",
    ".symver pthread_getattr_np, pthread_getattr_np@GLIBC_2.2.5",
    ".symver pthread_tryjoin_np, pthread_tryjoin_np@GLIBC_2.3.3",
    ".symver __pthread_register_cancel, __pthread_register_cancel@GLIBC_2.3.3",
    ".symver __pthread_unregister_cancel, __pthread_unregister_cancel@GLIBC_2.3.3",
    ".symver dladdr, dladdr@GLIBC_2.2.5",
);
#[cfg(target_arch = "x86")]
core::arch::global_asm!(
    ".symver dlsym, dlsym@GLIBC_2.0",
    ".symver dlopen, dlopen@GLIBC_2.1",
    ".symver aio_error, aio_error@GLIBC_2.1",
    ".symver pthread_getattr_np, pthread_getattr_np@GLIBC_2.2.3",
    ".symver pthread_tryjoin_np, pthread_tryjoin_np@GLIBC_2.3.3",
    ".symver __pthread_register_cancel, __pthread_register_cancel@GLIBC_2.3.3",
    ".symver __pthread_unregister_cancel, __pthread_unregister_cancel@GLIBC_2.3.3",
    ".symver dladdr, dladdr@GLIBC_2.0",
);

/// `PTHREAD_CANCELED`.
pub const CANCELED: *mut c_void = usize::MAX as *mut c_void;

pub fn set_errno(value: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot.
    unsafe { *__errno_location() = value }
}

/// Offset of `tid` in glibc's `struct pthread` (the kernel clears it when the thread exits).
/// glibc 2.36 values, used only if the thread_db descriptor cannot be found.
#[cfg(target_arch = "x86_64")]
const TID_OFFSET_FALLBACK: isize = 720;
#[cfg(target_arch = "x86")]
const TID_OFFSET_FALLBACK: isize = 104;

static TID_OFFSET: AtomicIsize = AtomicIsize::new(-1);

/// glibc's thread_db descriptor of a `struct pthread` field, `_thread_db_pthread_<field>` =
/// {bits, count, offset}, if glibc publishes it (GLIBC_PRIVATE, its only version: in libc from
/// 2.34; 2.31's libpthread keeps them out of its dynamic symbols).
pub fn thread_db_descriptor(name: &core::ffi::CStr) -> Option<[c_uint; 3]> {
    // SAFETY: dlsym with a NUL-terminated name; the result, when not NULL, points to glibc's
    // three-word descriptor.
    unsafe { (dlsym(RTLD_DEFAULT, name.as_ptr()) as *const [c_uint; 3]).as_ref() }.copied()
}

/// `tid`'s offset from glibc's descriptor.
fn lookup_tid_offset() -> isize {
    match thread_db_descriptor(c"_thread_db_pthread_tid") {
        Some([32, 1, offset]) => offset as isize,
        _ => TID_OFFSET_FALLBACK,
    }
}

/// glibc's own definitions of names ptcancel also exports (found past ours with RTLD_NEXT).
/// Declared `extern "C"`, not `"C-unwind"`: glibc's forced unwind from `pthread_exit` then
/// passes through our frames (all without destructors), where `C-unwind` with panic=abort
/// would abort.
pub struct Next {
    pub pthread_exit: unsafe extern "C" fn(*mut c_void) -> !,
    pub pthread_create: unsafe extern "C" fn(
        *mut libc::pthread_t,
        *const libc::pthread_attr_t,
        extern "C" fn(*mut c_void) -> *mut c_void,
        *mut c_void,
    ) -> c_int,
}

static NEXT_EXIT: AtomicUsize = AtomicUsize::new(0);
static NEXT_CREATE: AtomicUsize = AtomicUsize::new(0);

fn resolve_next(slot: &AtomicUsize, name: &core::ffi::CStr) -> usize {
    match slot.load(Ordering::Acquire) {
        0 => {
            // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name.
            let found = unsafe { dlsym(RTLD_NEXT, name.as_ptr()) } as usize;
            if found == 0 {
                // glibc always defines them; without them nothing can work.
                crate::env::say(&[b"ptcancel: glibc's pthread functions not found\n"]);
                // SAFETY: abort has no preconditions.
                unsafe { libc::abort() }
            }
            slot.store(found, Ordering::Release);
            found
        }
        found => found,
    }
}

/// glibc's own definition of `name` in libc.so.6 itself, or NULL. Unlike RTLD_NEXT this never
/// finds a wrapper that calls back into one of ptcancel's names: glibc 2.31's libpthread has a
/// `system` that calls `__libc_system`, which ptcancel also exports.
pub fn in_libc(name: &core::ffi::CStr) -> *mut c_void {
    // SAFETY: NUL-terminated names; RTLD_NOLOAD only finds the libc already loaded, and a
    // handle lookup searches that object (and the loader) only.
    unsafe {
        let libc = dlopen(c"libc.so.6".as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        if libc.is_null() {
            return core::ptr::null_mut();
        }
        dlsym(libc, name.as_ptr())
    }
}

/// glibc's functions behind ours. The first call is not async-signal-safe; `prepare` makes it.
pub fn next() -> Next {
    let exit = resolve_next(&NEXT_EXIT, c"pthread_exit");
    let create = resolve_next(&NEXT_CREATE, c"pthread_create");
    // SAFETY: dlsym found glibc's functions with exactly these C signatures.
    unsafe {
        Next {
            pthread_exit: core::mem::transmute::<usize, unsafe extern "C" fn(*mut c_void) -> !>(
                exit,
            ),
            pthread_create: core::mem::transmute::<
                usize,
                unsafe extern "C" fn(
                    *mut libc::pthread_t,
                    *const libc::pthread_attr_t,
                    extern "C" fn(*mut c_void) -> *mut c_void,
                    *mut c_void,
                ) -> c_int,
            >(create),
        }
    }
}

/// Prepares what acting on a cancel from a signal handler needs. Not async-signal-safe: called
/// by `pthread_cancel` before the first signal is sent.
pub fn prepare() {
    crate::glibc_cp::prepare();
    tid_offset();
    exit_word_offset();
    next();
    // pthread_exit dlopens libgcc_s on first use; backtrace() does it now, outside any handler.
    let mut frame = [core::ptr::null_mut(); 1];
    // SAFETY: a one-entry buffer for one frame.
    unsafe { backtrace(frame.as_mut_ptr(), 1) };
}

fn tid_offset() -> isize {
    match TID_OFFSET.load(Ordering::Relaxed) {
        offset if offset >= 0 => offset,
        _ => {
            let offset = lookup_tid_offset();
            TID_OFFSET.store(offset, Ordering::Relaxed);
            offset
        }
    }
}

static EXIT_WORD_OFFSET: AtomicIsize = AtomicIsize::new(-1);

/// Offset of the word the kernel clears (with a shared futex wake) when a thread exits, the
/// CLONE_CHILD_CLEARTID address glibc gives every thread: `tid` up to glibc 2.42, a join-state
/// word of its own from 2.43. Asked of the kernel for the calling thread (the same offset in
/// every thread); where the kernel cannot say (no CONFIG_CHECKPOINT_RESTORE), `tid`.
fn exit_word_offset() -> isize {
    match EXIT_WORD_OFFSET.load(Ordering::Relaxed) {
        offset if offset >= 0 => offset,
        _ => {
            const PR_GET_TID_ADDRESS: usize = 40;
            let mut address = 0usize;
            // SAFETY: the kernel writes one pointer into `address`.
            let r = unsafe {
                crate::sys::syscall!(libc::SYS_prctl, PR_GET_TID_ADDRESS, &raw mut address)
            };
            let tp = crate::arch::thread_pointer();
            let offset = match address.wrapping_sub(tp) as isize {
                // Inside glibc's struct pthread (a few KiB past the thread pointer).
                offset if r == 0 && (0..65536).contains(&offset) && offset % 4 == 0 => offset,
                _ => tid_offset(),
            };
            EXIT_WORD_OFFSET.store(offset, Ordering::Relaxed);
            offset
        }
    }
}

/// The word of `thread` that the kernel clears to 0 (with a shared futex wake) when the thread
/// exits: non-zero while it lives. Not async-signal-safe on first use.
///
/// # Safety
/// As for [`crate::state::of`].
pub unsafe fn exit_word(thread: libc::pthread_t) -> &'static AtomicU32 {
    let at = (thread as usize).wrapping_add_signed(exit_word_offset());
    // SAFETY: an aligned word inside the caller-guaranteed live `struct pthread`; the kernel
    // writes it, so it is only accessed atomically.
    unsafe { &*(at as *const AtomicU32) }
}

/// The `tid` word of `thread`: its kernel thread id while it lives. Not async-signal-safe on
/// first use.
///
/// # Safety
/// As for [`crate::state::of`].
pub unsafe fn tid_word(thread: libc::pthread_t) -> &'static AtomicU32 {
    let at = (thread as usize).wrapping_add_signed(tid_offset());
    // SAFETY: `tid` is an aligned int inside the caller-guaranteed live `struct pthread`; the
    // kernel writes it (CLONE_CHILD_CLEARTID), so it is only accessed atomically.
    unsafe { &*(at as *const AtomicU32) }
}

/// The kernel thread id of `thread`, or 0 once the thread has exited.
///
/// # Safety
/// As for [`crate::state::of`].
pub unsafe fn thread_tid(thread: libc::pthread_t) -> i32 {
    // SAFETY: the caller's contract.
    unsafe { tid_word(thread) }.load(Ordering::Acquire) as i32
}
