//! Futex operations and absolute deadlines for the thread waits (join, semaphores, condition
//! variables). Waits go through the cancellable thunk; whether a cancel can end them is the
//! caller's [`crate::syscall_cp::Hold`].

use core::ffi::c_int;
use core::sync::atomic::AtomicU32;

use crate::sys::syscall;
use crate::syscall_cp::syscall_cp;

const FUTEX_WAKE: usize = 1;
const FUTEX_CMP_REQUEUE: usize = 4;
const FUTEX_WAIT_BITSET: usize = 9;
const FUTEX_WAKE_BITSET: usize = 10;
const FUTEX_PRIVATE_FLAG: usize = 128;
const FUTEX_CLOCK_REALTIME: usize = 256;
pub const MATCH_ANY: u32 = u32::MAX;

/// The kernel's `struct __kernel_timespec` (64-bit fields on both arches).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct KernelTimespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// Timed waits need the 64-bit-time futex on i386 (glibc uses it too); x86_64's futex takes
/// 64-bit time already.
#[cfg(target_arch = "x86_64")]
const SYS_FUTEX_TIME64: libc::c_long = libc::SYS_futex;
#[cfg(target_arch = "x86")]
const SYS_FUTEX_TIME64: libc::c_long = 422;

/// An absolute deadline on CLOCK_REALTIME or CLOCK_MONOTONIC (the only clocks futexes take).
#[derive(Clone, Copy)]
pub struct Deadline {
    realtime: bool,
    at: KernelTimespec,
}

/// A caller's absolute timeout in any of the C layouts (`struct timespec`, i386's
/// `struct __timespec64`).
pub trait AbsTime: Copy {
    fn parts(&self) -> (i64, i64);
}
impl AbsTime for libc::timespec {
    #[allow(clippy::useless_conversion)] // 32-bit fields on i386
    fn parts(&self) -> (i64, i64) {
        (self.tv_sec.into(), self.tv_nsec.into())
    }
}
#[cfg(target_arch = "x86")]
impl AbsTime for crate::points::Timespec64 {
    fn parts(&self) -> (i64, i64) {
        (self.tv_sec, self.tv_nsec)
    }
}

fn now(clock: libc::clockid_t) -> KernelTimespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec (glibc's: the vDSO, no cancellation point).
    unsafe { libc::clock_gettime(clock, &mut ts) };
    #[allow(clippy::useless_conversion)] // 32-bit fields on i386
    KernelTimespec {
        tv_sec: ts.tv_sec.into(),
        tv_nsec: ts.tv_nsec.into(),
    }
}

/// A caller's absolute timeout, read once: (seconds, nanoseconds), or None for NULL.
///
/// # Safety
/// `timeout` must be NULL or valid for reading (glibc reads it directly too).
pub unsafe fn read_timeout<T: AbsTime>(timeout: *const T) -> Option<(i64, i64)> {
    // SAFETY: the caller's contract.
    unsafe { timeout.as_ref() }.map(AbsTime::parts)
}

impl Deadline {
    /// One millisecond from now (CLOCK_MONOTONIC): for a short look-again wait.
    pub fn soon() -> Deadline {
        let now = now(libc::CLOCK_MONOTONIC);
        let nsec = now.tv_nsec + 1_000_000;
        Deadline {
            realtime: false,
            at: KernelTimespec {
                tv_sec: now.tv_sec + nsec / 1_000_000_000,
                tv_nsec: nsec % 1_000_000_000,
            },
        }
    }

    /// Whether the deadline has passed.
    pub fn passed(&self) -> bool {
        let now = now(if self.realtime {
            libc::CLOCK_REALTIME
        } else {
            libc::CLOCK_MONOTONIC
        });
        (now.tv_sec, now.tv_nsec) >= (self.at.tv_sec, self.at.tv_nsec)
    }

    /// glibc's checks, in its order: a clock futexes cannot wait on is `EINVAL`, so is a
    /// `tv_nsec` outside [0, 1e9). No timeout means no deadline.
    pub fn new(
        clock: libc::clockid_t,
        timeout: Option<(i64, i64)>,
    ) -> Result<Option<Deadline>, c_int> {
        if clock != libc::CLOCK_REALTIME && clock != libc::CLOCK_MONOTONIC {
            return Err(libc::EINVAL);
        }
        let Some((tv_sec, tv_nsec)) = timeout else {
            return Ok(None);
        };
        if !(0..1_000_000_000).contains(&tv_nsec) {
            return Err(libc::EINVAL);
        }
        Ok(Some(Deadline {
            realtime: clock == libc::CLOCK_REALTIME,
            at: KernelTimespec { tv_sec, tv_nsec },
        }))
    }
}

/// Whether a futex is private to the process (`FUTEX_PRIVATE_FLAG`) or process-shared.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Scope(pub usize);
pub const PRIVATE: Scope = Scope(FUTEX_PRIVATE_FLAG);
pub const SHARED: Scope = Scope(0);

impl Scope {
    /// From glibc's own `private` fields (e.g. `sem_t`'s), which hold the value glibc XORs
    /// into a private futex operation: 0 for process-private, FUTEX_PRIVATE_FLAG for shared.
    pub fn from_glibc(private: i32) -> Scope {
        Scope(FUTEX_PRIVATE_FLAG ^ (private as usize & FUTEX_PRIVATE_FLAG))
    }
}

/// What ended a wait. Wake-ups that are not a timeout, a signal or a cancel (a real wake, the
/// value already changed, a spurious wake) are all `Woken`: callers re-check their word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wake {
    Woken,
    Interrupted,
    TimedOut,
    Cancelled,
}

/// Sleeps while `*word == expected`, until `deadline`, woken by wakes that match `bitset`.
/// A cancellation point exactly when the caller's [`crate::syscall_cp::Hold`] allows one.
pub fn wait(
    word: &AtomicU32,
    expected: u32,
    scope: Scope,
    deadline: Option<&Deadline>,
    bitset: u32,
) -> Wake {
    let (timeout, clock) = match deadline {
        // The kernel refuses negative times; glibc reports them as already past.
        Some(d) if d.at.tv_sec < 0 => return Wake::TimedOut,
        Some(d) => (
            Some(&d.at),
            if d.realtime { FUTEX_CLOCK_REALTIME } else { 0 },
        ),
        None => (None, 0),
    };
    let op = FUTEX_WAIT_BITSET | scope.0 | clock;
    let raw = wait_syscall(word, op, expected, timeout, bitset);
    match -raw as c_int {
        libc::EINTR => Wake::Interrupted,
        libc::ETIMEDOUT => Wake::TimedOut,
        libc::ECANCELED => Wake::Cancelled,
        _ => Wake::Woken,
    }
}

/// The cancellable FUTEX_WAIT_BITSET syscall. Timed waits use the 64-bit-time futex (i386:
/// futex_time64, Linux 5.1+); where the kernel lacks it, the 32-bit one, as glibc falls back.
fn wait_syscall(
    word: &AtomicU32,
    op: usize,
    expected: u32,
    timeout: Option<&KernelTimespec>,
    bitset: u32,
) -> isize {
    let futex_cp = |nr: libc::c_long, timeout: usize| {
        // SAFETY: `word` is a live futex word; `timeout` is NULL or points to a timespec of
        // the layout syscall `nr` takes, alive for the call.
        unsafe {
            syscall_cp(
                nr,
                word.as_ptr() as usize,
                op,
                expected as usize,
                timeout,
                0,
                bitset as usize,
            )
        }
    };
    let Some(at) = timeout else {
        return futex_cp(libc::SYS_futex, 0);
    };
    let raw = futex_cp(SYS_FUTEX_TIME64, at as *const KernelTimespec as usize);
    #[cfg(target_arch = "x86")]
    if raw == -(libc::ENOSYS as isize) {
        let old = libc::timespec {
            tv_sec: at.tv_sec.clamp(0, libc::time_t::MAX.into()) as libc::time_t,
            tv_nsec: at.tv_nsec as libc::c_long,
        };
        return futex_cp(libc::SYS_futex, &raw const old as usize);
    }
    raw
}

/// A plain (never cancellable) wait without deadline, for `pthread_cond_destroy`.
pub fn wait_plain(word: &AtomicU32, expected: u32, scope: Scope) {
    // SAFETY: `word` is a live futex word; no timeout.
    unsafe {
        syscall!(
            libc::SYS_futex,
            word.as_ptr(),
            FUTEX_WAIT_BITSET | scope.0,
            expected,
            0,
            0,
            MATCH_ANY
        )
    };
}

/// Wakes up to `count` waiters of `word`. Only the address is used: waking a futex whose
/// memory was freed meanwhile is harmless (at worst a spurious wake of its new user's waiter,
/// which every futex user must tolerate).
pub fn wake(word: *const AtomicU32, count: u32, scope: Scope) {
    // SAFETY: the kernel only hashes the address.
    unsafe {
        syscall!(
            libc::SYS_futex,
            word,
            FUTEX_WAKE | scope.0,
            count.min(i32::MAX as u32)
        )
    };
}

/// Wakes one waiter of `word` whose bitset intersects `bitset`.
pub fn wake_bitset(word: &AtomicU32, count: u32, scope: Scope, bitset: u32) {
    // SAFETY: as for `wake`.
    unsafe {
        syscall!(
            libc::SYS_futex,
            word.as_ptr(),
            FUTEX_WAKE_BITSET | scope.0,
            count,
            0,
            0,
            bitset
        )
    };
}

/// Moves every waiter of `from` (if `*from == expected`) to `to`'s queue without waking any.
/// Returns how many moved, or the kernel's negative errno (`-EAGAIN`: `from` changed).
pub fn requeue_all(from: &AtomicU32, expected: u32, to: &AtomicU32, scope: Scope) -> isize {
    // SAFETY: two live futex words; nr_requeue travels in the timeout slot as a value.
    unsafe {
        syscall!(
            libc::SYS_futex,
            from.as_ptr(),
            FUTEX_CMP_REQUEUE | scope.0,
            0,
            i32::MAX,
            to.as_ptr(),
            expected
        )
    }
}
