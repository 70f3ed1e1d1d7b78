//! Detects a copy of the library that cannot work: one loaded after libc (by `dlopen`, or
//! linked behind libc). Such a copy does not interpose libc's cancellation points, so threads
//! blocked in libc's wrappers would take our signal handler and never act; glibc's own
//! `pthread_cancel` would break too. It refuses instead, and says so once on stderr.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const FIRST: u8 = 1;
const AFTER_LIBC: u8 = 2;

static VERDICT: AtomicU8 = AtomicU8::new(UNKNOWN);

const MESSAGE: &[u8] =
    b"ptcancel: this copy of libptcancel was loaded after libc (dlopen?), so it \
cannot replace libc's cancellation points; pthread_cancel returns ENOTSUP. Use LD_PRELOAD or link \
libptcancel.a ahead of libc.\n";

/// `Ok` if this copy comes before libc in the search order, else `Err(ENOTSUP)`.
pub fn interposes() -> Result<(), c_int> {
    let verdict = match VERDICT.load(Ordering::Relaxed) {
        UNKNOWN => {
            let v = if loaded_before_libc() {
                FIRST
            } else {
                AFTER_LIBC
            };
            if v == AFTER_LIBC && VERDICT.swap(v, Ordering::Relaxed) != AFTER_LIBC {
                crate::env::say(&[MESSAGE]);
            }
            VERDICT.store(v, Ordering::Relaxed);
            v
        }
        v => v,
    };
    if verdict == FIRST {
        Ok(())
    } else {
        Err(libc::ENOTSUP)
    }
}

/// Position in the loaded-object list of the objects containing two addresses.
struct Search {
    ours: usize,
    libc: usize,
    ours_at: Option<usize>,
    libc_at: Option<usize>,
    index: usize,
}

fn contains(info: &libc::dl_phdr_info, addr: usize) -> bool {
    // SAFETY: dl_iterate_phdr passes dlpi_phnum valid program headers.
    let headers = unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
    headers.iter().any(|h| {
        let start = (info.dlpi_addr as usize).wrapping_add(h.p_vaddr as usize);
        h.p_type == libc::PT_LOAD && (start..start + h.p_memsz as usize).contains(&addr)
    })
}

extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: `data` is the `Search` passed below; `info` is valid during the callback.
    let (search, info) = unsafe { (&mut *(data as *mut Search), &*info) };
    if search.ours_at.is_none() && contains(info, search.ours) {
        search.ours_at = Some(search.index);
    }
    if search.libc_at.is_none() && contains(info, search.libc) {
        search.libc_at = Some(search.index);
    }
    search.index += 1;
    0
}

/// dl_iterate_phdr walks objects in load order: the executable, LD_PRELOAD objects, then
/// DT_NEEDED ones, then dlopen'ed ones.
fn loaded_before_libc() -> bool {
    let mut search = Search {
        ours: interposes as *const () as usize,
        libc: crate::glibc::__errno_location as *const () as usize,
        ours_at: None,
        libc_at: None,
        index: 0,
    };
    // SAFETY: the callback only reads the headers it is given and writes `search`.
    unsafe { libc::dl_iterate_phdr(Some(visit), &raw mut search as *mut c_void) };
    match (search.ours_at, search.libc_at) {
        (Some(ours), Some(libc)) => ours <= libc,
        // Cannot tell (e.g. a fully static program): assume the documented set-ups.
        _ => true,
    }
}
