//! A glibc older than the oldest release ptcancel is tested on (2.31) is refused at start-up,
//! with one line on stderr, and the program runs on with glibc's own cancellation: a library
//! preloaded with `LD_PRELOAD` (or by the `ptcancel` launcher) re-executes the program once
//! with itself taken out of `LD_PRELOAD`, before the program's own code has run.
//!
//! Where it cannot step aside (statically linked into the program, preloaded by
//! /etc/ld.so.preload or by an explicit `ld.so --preload`), it says so and stays in charge.

use core::ffi::{CStr, c_char, c_int, c_void};

use crate::env;
use crate::sys::syscall;

/// The oldest glibc minor version the suite runs on (tests/glibcs.rs).
const OLDEST_MINOR: u32 = 31;

/// Room for the new environment: pointers, and the rewritten `LD_PRELOAD=` string.
const MAX_ENV: usize = 4096;
const MAX_PRELOAD: usize = 4096;

/// Runs when the library is loaded, before the program's own constructors and `main`
/// (glibc passes init_array functions the program's argc, argv and environment).
extern "C" fn check(_argc: c_int, argv: *const *const c_char, envp: *const *const c_char) {
    let version = crate::glibc_cp::glibc_version();
    // Test builds only: pretend to be on an older glibc.
    #[cfg(feature = "test-hooks")]
    let version = env::var(c"PTCANCEL_TEST_GLIBC_VERSION").unwrap_or(version);
    if crate::glibc_cp::minor_of(version).is_some_and(|minor| minor >= OLDEST_MINOR) {
        return;
    }
    env::say(&[
        b"ptcancel: glibc ",
        version,
        b" is older than 2.31, the oldest release ptcancel supports: ",
    ]);
    // SAFETY: glibc's argv and environment arrays, NULL-terminated, valid at start-up.
    if unsafe { step_aside(argv, envp) } {
        return; // not reached: the program was re-executed
    }
    env::say(&[b"it cannot step aside here and stays in charge\n"]);
}

/// Re-executes the program without this library in `LD_PRELOAD`; returns only if it cannot.
///
/// # Safety
/// `argv` and `envp` must be the process's NULL-terminated argument and environment arrays.
unsafe fn step_aside(argv: *const *const c_char, envp: *const *const c_char) -> bool {
    // An explicit loader invocation (`ld.so prog`): the kernel ran ld.so itself (no AT_BASE),
    // and re-executing /proc/self/exe would lose its options.
    // SAFETY: getauxval has no preconditions.
    if unsafe { libc::getauxval(libc::AT_BASE) } == 0 || argv.is_null() || envp.is_null() {
        return false;
    }
    // SAFETY: Dl_info is plain data (pointers and integers), valid when zeroed.
    let mut info: libc::Dl_info = unsafe { core::mem::zeroed() };
    // SAFETY: dladdr with an address inside this library and a plain-data out-parameter.
    if unsafe { crate::glibc::dladdr(check as *const c_void, &mut info) } == 0
        || info.dli_fname.is_null()
    {
        return false;
    }
    // SAFETY: dladdr's file name is a NUL-terminated string owned by the loader.
    let ours = unsafe { CStr::from_ptr(info.dli_fname) }.to_bytes();
    let mut preload = [0u8; MAX_PRELOAD];
    let mut env = [core::ptr::null::<c_char>(); MAX_ENV];
    let mut found = false;
    let mut n = 0;
    let mut at = envp;
    // SAFETY: walking the NULL-terminated environment array.
    while let Some(entry) = unsafe { (*at).as_ref() } {
        // SAFETY: each entry is a NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(entry) }.to_bytes();
        let slot = if let Some(list) = bytes.strip_prefix(b"LD_PRELOAD=") {
            match without(list, ours, &mut preload) {
                Some(new) => {
                    found = true;
                    new.as_ptr().cast()
                }
                None => return false,
            }
        } else {
            entry
        };
        let Some(out) = env.get_mut(n) else {
            return false;
        };
        *out = slot;
        n += 1;
        // SAFETY: still inside the array: the loop stops at its NULL.
        at = unsafe { at.add(1) };
    }
    if !found || n >= MAX_ENV {
        return false;
    }
    env::say(&[b"running the program with glibc's own cancellation, without ptcancel\n"]);
    // SAFETY: NUL-terminated path, argv as given, and a NULL-terminated environment whose
    // strings all outlive the call (they are the process's own, or `preload` on this stack).
    unsafe {
        syscall!(
            libc::SYS_execve,
            c"/proc/self/exe".as_ptr(),
            argv,
            env.as_ptr()
        )
    };
    env::say(&[b"ptcancel: re-executing the program failed; "]);
    false
}

/// `LD_PRELOAD=` with the entries that name this library (`ours`: its path as loaded) left
/// out, written NUL-terminated into `buf`; None if no entry names it or `buf` is too small.
fn without<'a>(list: &[u8], ours: &[u8], buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let file_name = |path: &[u8]| path.rsplit(|&b| b == b'/').next().map(<[u8]>::len);
    let ours_name = ours.get(ours.len() - file_name(ours)?..)?;
    let mut len = 0;
    let mut put = |bytes: &[u8], buf: &mut [u8]| -> Option<()> {
        let end = len + bytes.len();
        buf.get_mut(len..end)?.copy_from_slice(bytes);
        len = end;
        Some(())
    };
    put(b"LD_PRELOAD=", buf)?;
    let mut removed = false;
    let mut first = true;
    // ld.so separates LD_PRELOAD entries with spaces or colons.
    for entry in list
        .split(|&b| b == b' ' || b == b':')
        .filter(|e| !e.is_empty())
    {
        // A path names this file; a bare name is looked up, so compare the file name. (Not
        // `contains`: core's memchr brings in code built to unwind, rust_eh_personality.)
        #[allow(clippy::manual_contains)]
        if entry == ours || (!entry.iter().any(|&b| b == b'/') && entry == ours_name) {
            removed = true;
            continue;
        }
        if !first {
            put(b":", buf)?;
        }
        put(entry, buf)?;
        first = false;
    }
    put(b"\0", buf)?;
    if removed { buf.get(..len) } else { None }
}

/// Runs `check` when the library is loaded (or, statically linked, before `main`).
#[used]
#[unsafe(link_section = ".init_array")]
static CHECK: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = check;
