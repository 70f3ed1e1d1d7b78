//! The environment variables the library reads, and its one-line messages on stderr.

use core::ffi::{CStr, c_char};

unsafe extern "C" {
    fn getenv(name: *const c_char) -> *const c_char;
}

/// An environment variable, never in a set-uid/set-gid (AT_SECURE) program: a static link
/// brings the library into those too, and their environment is the caller's. Not
/// async-signal-safe (getenv): start-up and first-cancel code only.
pub fn var(name: &CStr) -> Option<&'static [u8]> {
    // SAFETY: getauxval has no preconditions.
    if unsafe { libc::getauxval(libc::AT_SECURE) } != 0 {
        return None;
    }
    // SAFETY: getenv with a NUL-terminated name; the string outlives us (nobody here calls
    // setenv).
    let value = unsafe { getenv(name.as_ptr()) };
    // SAFETY: a non-NULL getenv result is a NUL-terminated string.
    (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_bytes())
}

/// Whether `PTCANCEL_DEBUG` asks for reports of the choices the library made.
pub fn debug() -> bool {
    var(c"PTCANCEL_DEBUG").is_some_and(|v| v != b"0")
}

/// Writes the parts to stderr with raw writes (no stdio, no allocation).
pub fn say(parts: &[&[u8]]) {
    for part in parts {
        // SAFETY: writing a valid buffer to fd 2.
        unsafe { crate::sys::syscall!(libc::SYS_write, 2, part.as_ptr(), part.len()) };
    }
}
