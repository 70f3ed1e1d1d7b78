//! glibc's own cancellable syscalls: the ones glibc makes inside stdio, `fopen`, `system`,
//! getaddrinfo... through its internal wrappers, which ptcancel cannot interpose (DESIGN §3).
//!
//! The cancel handler acts on a thread inside one of them only while its syscall has not run
//! (the PC is on the syscall instruction, or the kernel rewound it there to restart), so such a
//! cancel loses nothing, unlike glibc's own before 2.41. How glibc marks the window differs:
//!
//! - glibc 2.31–2.40 switches the thread to asynchronous cancellation around each internal
//!   cancellable syscall: a bit in `struct pthread.cancelhandling`.
//! - glibc 2.41+ makes the syscall inside `__syscall_cancel_arch`, a hand-written assembly
//!   function it does not export: found by its exact bytes in libc's code, once.
//!
//! A cancel that lands anywhere else in glibc sets glibc's own "canceled" bit (only while
//! cancellation is enabled), so glibc's next internal cancellable syscall acts before it is
//! made: glibc's check at `__pthread_enable_asynccancel` (≤ 2.40) or at the start of
//! `__syscall_cancel_arch` (2.41+) exits through `__do_cancel`, glibc's `pthread_exit`.
//! Anything not recognised here leaves all of this off: a cancel then waits for the next
//! ptcancel cancellation point, as it did before (`PTCANCEL_DEBUG=1` says so once).

use core::ffi::{c_char, c_int, c_void};
use core::ops::Range;
use core::sync::atomic::{AtomicIsize, AtomicU8, AtomicU32, AtomicUsize, Ordering};

use crate::arch;
use crate::env;
use crate::glibc::{RTLD_NEXT, dlsym};
use crate::state::ThreadCancel;

/// `cancelhandling` bits, the same from 2.31 to 2.43 (nptl/descr.h; checked on each release:
/// glibc's `pthread_cancel` of a disabled thread sets 0x8, exiting adds 0x10).
const ASYNC_BIT: u32 = 0x02;
const CANCELED_BIT: u32 = 0x08;
const EXITING_BIT: u32 = 0x10;

const NOT_RECOGNISED: u8 = 0;
/// glibc 2.31–2.40: the async bit marks the window; its syscall is at a syscall instruction.
const ASYNC_WINDOW: u8 = 1;
/// glibc 2.41+: `[RANGE.start, RANGE.syscall]` of `__syscall_cancel_arch`.
const ARCH_RANGE: u8 = 2;

static SCHEME: AtomicU8 = AtomicU8::new(NOT_RECOGNISED);
/// Offset of `cancelhandling` from the thread pointer; -1 until known.
static OFFSET: AtomicIsize = AtomicIsize::new(-1);
/// libc's executable segment.
static TEXT_START: AtomicUsize = AtomicUsize::new(0);
static TEXT_END: AtomicUsize = AtomicUsize::new(0);
/// 2.41+: the first instruction of `__syscall_cancel_arch`'s window and its syscall.
static RANGE_START: AtomicUsize = AtomicUsize::new(0);
static RANGE_SYSCALL: AtomicUsize = AtomicUsize::new(0);
/// `prepare`: 0 not started, 1 under way, 2 done.
static LOOKED: AtomicU8 = AtomicU8::new(0);

unsafe extern "C" {
    fn gnu_get_libc_version() -> *const c_char;
}

/// A byte layout to recognise: `None` matches any byte (a relocated displacement).
pub struct Layout {
    pub bytes: &'static [Option<u8>],
    /// Offsets of the window's first instruction and of its syscall instruction.
    pub start: usize,
    pub syscall: usize,
}

/// Finds what this glibc does, once. Not async-signal-safe: called by `pthread_cancel` before
/// it first sends the signal (`glibc::prepare`); the handler reads only what was stored.
pub fn prepare() {
    if LOOKED
        .compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire)
        .is_err()
    {
        // Another thread's first pthread_cancel is looking (about a millisecond): this one's
        // signal must not go out before the handler knows what to look for.
        while LOOKED.load(Ordering::Acquire) != 2 {
            // SAFETY: sched_yield has no preconditions.
            unsafe { crate::sys::syscall!(libc::SYS_sched_yield) };
        }
        return;
    }
    let found = recognise();
    // Test builds only: simulate a glibc whose layout is not recognised.
    #[cfg(feature = "test-hooks")]
    let found = match env::var(c"PTCANCEL_TEST_GLIBC_LAYOUT") {
        Some(b"unknown") => Err(b"layout made unknown by PTCANCEL_TEST_GLIBC_LAYOUT".as_slice()),
        _ => found,
    };
    // All or nothing: without a recognised scheme glibc's bits are not touched either.
    let (scheme, why): (u8, &[u8]) = match found {
        Ok(found) => {
            TEXT_START.store(found.text.start, Ordering::Relaxed);
            TEXT_END.store(found.text.end, Ordering::Relaxed);
            RANGE_START.store(found.range.0, Ordering::Relaxed);
            RANGE_SYSCALL.store(found.range.1, Ordering::Relaxed);
            OFFSET.store(found.offset, Ordering::Relaxed);
            (found.scheme, b"")
        }
        Err(why) => (NOT_RECOGNISED, why),
    };
    SCHEME.store(scheme, Ordering::Release);
    LOOKED.store(2, Ordering::Release);
    if env::debug() {
        let version = glibc_version();
        match scheme {
            ASYNC_WINDOW => env::say(&[
                b"ptcancel: glibc ",
                version,
                b": its own cancellable syscalls recognised by the async-cancel bit\n",
            ]),
            ARCH_RANGE => env::say(&[
                b"ptcancel: glibc ",
                version,
                b": its own cancellable syscalls recognised in __syscall_cancel_arch\n",
            ]),
            _ => env::say(&[
                b"ptcancel: glibc ",
                version,
                b": its own cancellable syscalls (stdio, fopen...) not recognised (",
                why,
                b"); a cancel reaching one acts at the next ptcancel cancellation point\n",
            ]),
        }
    }
}

/// What `recognise` found.
struct Found {
    scheme: u8,
    offset: isize,
    text: Range<usize>,
    /// 2.41+: `__syscall_cancel_arch`'s window start and syscall instruction.
    range: (usize, usize),
}

fn recognise() -> Result<Found, &'static [u8]> {
    let minor = glibc_minor().ok_or(b"unknown version".as_slice())?;
    if minor < 31 {
        return Err(b"older than 2.31");
    }
    let offset = cancelhandling_offset().ok_or(b"cancelhandling not found".as_slice())?;
    let text = libc_text().ok_or(b"libc's code not found".as_slice())?;
    if minor <= 40 {
        return Ok(Found {
            scheme: ASYNC_WINDOW,
            offset,
            text,
            range: (0, 0),
        });
    }
    // The layout also pins the canceled bit (its `testb`) for releases after 2.43.
    let at = find_unique(&text, &arch::SYSCALL_CANCEL_ARCH)
        .ok_or(b"__syscall_cancel_arch not found".as_slice())?;
    let layout = &arch::SYSCALL_CANCEL_ARCH;
    Ok(Found {
        scheme: ARCH_RANGE,
        offset,
        text,
        range: (at + layout.start, at + layout.syscall),
    })
}

/// glibc's version string ("2.36").
pub fn glibc_version() -> &'static [u8] {
    // SAFETY: glibc returns a static NUL-terminated string.
    unsafe { core::ffi::CStr::from_ptr(gnu_get_libc_version()) }.to_bytes()
}

/// The minor number of a glibc version ("2.36" → 36).
pub fn minor_of(version: &[u8]) -> Option<u32> {
    let minor = version.strip_prefix(b"2.")?;
    // By hand: core's str::parse brings in code built to unwind (rust_eh_personality).
    let digits = minor.iter().take_while(|b| b.is_ascii_digit());
    let value = digits.fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    (minor.first()?.is_ascii_digit()).then_some(value)
}

/// The minor number of this glibc's version.
fn glibc_minor() -> Option<u32> {
    minor_of(glibc_version())
}

/// How much of a `struct pthread` (from its start) may be searched for `cancelhandling` when
/// glibc does not publish its offset (before 2.34): well inside the struct (2.36: 2,368 bytes
/// on x86_64, 1,216 on i386; 2.31 has `cancelhandling` at 776 and 132), so the reads stay in it.
#[cfg(target_arch = "x86_64")]
const SCAN_WORDS: usize = 256;
#[cfg(target_arch = "x86")]
const SCAN_WORDS: usize = 128;

/// The offset of `cancelhandling` in glibc's `struct pthread`, checked on the calling thread:
/// glibc's own `pthread_setcanceltype(ASYNCHRONOUS)` must set exactly the async bit there and
/// `DEFERRED` clear it again. glibc 2.34+ publishes the offset
/// (`_thread_db_pthread_cancelhandling`), which is then the only word checked; before, it must
/// be the one word of the struct's first `SCAN_WORDS` that the switch changes.
fn cancelhandling_offset() -> Option<isize> {
    type SetType = unsafe extern "C" fn(c_int, *mut c_int) -> c_int;
    // SAFETY: RTLD_NEXT lookup of glibc's function, which has this signature.
    let set_type: SetType = unsafe {
        let f = dlsym(RTLD_NEXT, c"pthread_setcanceltype".as_ptr());
        if f.is_null() {
            return None;
        }
        core::mem::transmute::<*mut c_void, SetType>(f)
    };
    let published = crate::glibc::thread_db_descriptor(c"_thread_db_pthread_cancelhandling");
    let (first, count) = match published {
        Some([32, 1, at]) if at % 4 == 0 && at < 65536 => (at as usize / 4, 1),
        Some(_) => return None,
        None => (0, SCAN_WORDS),
    };
    let pd = arch::thread_pointer() as *const AtomicU32;
    // SAFETY: words of the calling thread's own struct pthread: the published field, or the
    // first SCAN_WORDS, which every glibc's struct is larger than.
    let word = |i: usize| unsafe { (*pd.add(first + i)).load(Ordering::Relaxed) };
    let mut before = [0u32; SCAN_WORDS];
    for (i, slot) in before.iter_mut().take(count).enumerate() {
        *slot = word(i);
    }
    let mut old = 0;
    // SAFETY: glibc's own function on the calling thread. No cancel of glibc's is ever pending
    // (ptcancel owns pthread_cancel, and sets glibc's canceled bit only once this is known), so
    // switching glibc's type cannot make it act.
    unsafe {
        set_type(1 /* PTHREAD_CANCEL_ASYNCHRONOUS */, &mut old)
    };
    // (how many words changed, the last one, its value)
    let mut changed = (0, 0, 0);
    for (i, &was) in before.iter().take(count).enumerate() {
        let now = word(i);
        if now != was {
            changed = (changed.0 + 1, i, now);
        }
    }
    // SAFETY: as above, back to glibc's deferred type.
    unsafe {
        set_type(0 /* PTHREAD_CANCEL_DEFERRED */, &mut old)
    };
    let (n, i, set) = changed;
    let was = *before.get(i)?;
    // Exactly one word gained exactly the async bit, and lost it again.
    (n == 1 && set == was | ASYNC_BIT && set != was && word(i) == was)
        .then_some(((first + i) * 4) as isize)
}

/// The executable segment of the object that holds `gnu_get_libc_version` (libc.so.6).
fn libc_text() -> Option<Range<usize>> {
    struct Search {
        inside: usize,
        found: Option<Range<usize>>,
    }
    extern "C" fn visit(info: *mut libc::dl_phdr_info, _: usize, data: *mut c_void) -> c_int {
        // SAFETY: `data` is the Search below; `info` and its headers are valid here.
        let (search, info) = unsafe { (&mut *(data as *mut Search), &*info) };
        // SAFETY: dl_iterate_phdr passes dlpi_phnum valid program headers.
        let headers =
            unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
        for h in headers {
            let start = (info.dlpi_addr as usize).wrapping_add(h.p_vaddr as usize);
            let segment = start..start + h.p_memsz as usize;
            if h.p_type == libc::PT_LOAD
                && h.p_flags & libc::PF_X != 0
                && segment.contains(&search.inside)
            {
                search.found = Some(segment);
                return 1;
            }
        }
        0
    }
    let mut search = Search {
        inside: gnu_get_libc_version as *const () as usize,
        found: None,
    };
    // SAFETY: the callback only reads the headers it is given and writes `search`.
    unsafe { libc::dl_iterate_phdr(Some(visit), &raw mut search as *mut c_void) };
    search.found
}

/// Where `layout` occurs in `text`, if it occurs exactly once. (Panic-free, like the whole
/// library: no indexing.)
fn find_unique(text: &Range<usize>, layout: &Layout) -> Option<usize> {
    // SAFETY: a mapped, readable executable segment of libc (dl_iterate_phdr's own headers).
    let code = unsafe { core::slice::from_raw_parts(text.start as *const u8, text.len()) };
    let first = (*layout.bytes.first()?)?;
    let mut found = None;
    for (at, window) in code.windows(layout.bytes.len()).enumerate() {
        if window.first() != Some(&first) {
            continue;
        }
        let matches = layout
            .bytes
            .iter()
            .zip(window)
            .all(|(want, &have)| want.is_none_or(|w| w == have));
        if matches {
            if found.is_some() {
                return None;
            }
            found = Some(text.start + at);
        }
    }
    found
}

/// The `cancelhandling` word of the thread whose ptcancel state is `tc`, once known.
fn cancelhandling(tc: &ThreadCancel) -> Option<&AtomicU32> {
    let offset = OFFSET.load(Ordering::Relaxed);
    if offset < 0 {
        return None;
    }
    let tp = (tc as *const ThreadCancel as usize).wrapping_add_signed(-arch::tls_offset());
    // SAFETY: `tc` lives in its thread's static TLS, a fixed distance from its thread pointer;
    // the thread's struct pthread is as live as `tc` is, and `cancelhandling` is an aligned
    // int in it that glibc updates only atomically.
    Some(unsafe { &*((tp.wrapping_add_signed(offset)) as *const AtomicU32) })
}

/// Keeps glibc's canceled bit of the calling thread (whose state is `tc`) in step with
/// ptcancel's: set while a cancel is pending and cancellation is enabled, so that glibc's next
/// internal cancellable syscall acts; clear otherwise (disabled, MASKED, exiting), so that
/// glibc never acts when ptcancel would not. Async-signal-safe.
pub fn mirror(tc: &ThreadCancel, act: bool) {
    if let Some(word) = cancelhandling(tc) {
        if act {
            word.fetch_or(CANCELED_BIT, Ordering::SeqCst);
        } else if word.load(Ordering::Relaxed) & CANCELED_BIT != 0 {
            word.fetch_and(!CANCELED_BIT, Ordering::SeqCst);
        }
    }
}

/// Whether glibc itself has started the thread's exit (it acted on its canceled bit).
pub fn exiting(tc: &ThreadCancel) -> bool {
    cancelhandling(tc).is_some_and(|w| w.load(Ordering::Relaxed) & EXITING_BIT != 0)
}

/// In the cancel handler: whether the interrupted thread is inside one of glibc's own
/// cancellable syscalls that has not been made yet. If so, the context has been moved onto
/// that syscall instruction (out of any entry it called): the caller may then unwind from the
/// context or make the syscall return a value with [`arch::skip_syscall`].
///
/// # Safety
/// `uc` must be the handler's `ucontext_t` and `tc` the calling thread's state.
pub unsafe fn syscall_pending(tc: &ThreadCancel, uc: *mut c_void) -> bool {
    let text = TEXT_START.load(Ordering::Relaxed)..TEXT_END.load(Ordering::Relaxed);
    match SCHEME.load(Ordering::Acquire) {
        ASYNC_WINDOW => {
            cancelhandling(tc).is_some_and(|w| w.load(Ordering::Relaxed) & ASYNC_BIT != 0)
                // SAFETY: the caller's contract.
                && unsafe { arch::at_syscall(uc, &text) }
        }
        ARCH_RANGE => {
            let syscall = RANGE_SYSCALL.load(Ordering::Relaxed);
            // SAFETY: the caller's contract.
            let pc = unsafe { arch::context_pc(uc) };
            if !(RANGE_START.load(Ordering::Relaxed)..=syscall).contains(&pc) {
                return false;
            }
            // Between the window's flag check and its syscall only arguments are moved into
            // registers, which nothing reads once the syscall is skipped or unwound past.
            // SAFETY: as above.
            unsafe { arch::set_context_pc(uc, syscall) };
            true
        }
        _ => false,
    }
}
