//! Locking and synchronisation to storage: fcntl (only the waiting lock commands are
//! cancellation points), lockf, fsync, fdatasync, msync, tcdrain.

use core::ffi::{c_int, c_void};
use libc::{off_t, size_t};

use super::alias;
use crate::arch::fast_point;
use crate::sys::{c_ret, syscall};
use crate::syscall_cp::syscall_cp;

fast_point! { libc::SYS_fsync => fsync(fd: c_int) -> c_int; }
fast_point! { libc::SYS_fdatasync => fdatasync(fd: c_int) -> c_int; }
fast_point! { libc::SYS_msync => msync(addr: *mut c_void, len: size_t, flags: c_int) -> c_int; }

crate::arch::export! {
    /// Waits until all output written to the terminal has been transmitted (TCSBRK with a
    /// non-zero argument, as glibc and musl do it).
    pub extern "C" fn tcdrain(fd: c_int) -> c_int {
        // SAFETY: TCSBRK takes an integer argument.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_ioctl,
                fd as usize,
                libc::TCSBRK as usize,
                1,
                0,
                0,
                0,
            )
        }) as c_int
    }
}

/// The fcntl syscall that takes `struct flock64` for the LFS commands on i386.
#[cfg(target_arch = "x86_64")]
const SYS_FCNTL: libc::c_long = libc::SYS_fcntl;
#[cfg(target_arch = "x86")]
const SYS_FCNTL: libc::c_long = libc::SYS_fcntl64;

/// F_SETLKW64 (i386's LFS command; the same as F_SETLKW on x86_64).
#[cfg(target_arch = "x86_64")]
const F_SETLKW64: c_int = libc::F_SETLKW;
#[cfg(target_arch = "x86")]
const F_SETLKW64: c_int = 14;
const F_OFD_SETLKW: c_int = 38;
const F_GETOWN_EX: c_int = 16;
const F_OWNER_PGRP: c_int = 2;

/// `fcntl(fd, cmd, ...)`: the optional argument is read as a word, as C's va_arg would, and
/// only commands that use it pass it on. Only the waiting lock commands are cancellation points;
/// F_GETOWN goes through F_GETOWN_EX as in glibc (a negative owner is a process group).
extern "C" fn fcntl_impl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    let raw = match cmd {
        // SAFETY: the lock commands take a pointer the kernel validates.
        c if [libc::F_SETLKW, F_SETLKW64, F_OFD_SETLKW].contains(&c) => unsafe {
            syscall_cp(SYS_FCNTL, fd as usize, cmd as usize, arg, 0, 0, 0)
        },
        libc::F_GETOWN => {
            // struct f_owner_ex { int type; pid_t pid; }
            let mut owner = [0 as c_int; 2];
            // SAFETY: `owner` is valid for writing a struct f_owner_ex.
            // A process group is returned negated: not an error, so not through c_ret.
            match unsafe { syscall!(SYS_FCNTL, fd, F_GETOWN_EX, owner.as_mut_ptr()) } {
                r if r < 0 => r,
                _ if owner[0] == F_OWNER_PGRP => return -owner[1],
                _ => return owner[1],
            }
        }
        // SAFETY: the kernel validates the argument for every other command.
        _ => unsafe { syscall!(SYS_FCNTL, fd, cmd, arg) },
    };
    c_ret(raw) as c_int
}

#[cfg(target_arch = "x86_64")]
alias! { fcntl_impl =>
    fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    __fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    __libc_fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}
#[cfg(target_arch = "x86")]
alias! { fcntl_impl =>
    fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    __libc_fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
    __fcntl_time64(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}

/// i386's `fcntl` for 32-bit `off_t` callers: the open-file-description lock commands exist
/// only with `struct flock64`, so, as glibc does, their 32-bit `struct flock` goes through a
/// 64-bit copy (EOVERFLOW if F_OFD_GETLK's answer does not fit back).
#[cfg(target_arch = "x86")]
extern "C" fn fcntl32_impl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    const F_OFD_GETLK: c_int = 36;
    const F_OFD_SETLK: c_int = 37;
    if ![F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW].contains(&cmd) {
        return fcntl_impl(fd, cmd, arg);
    }
    let narrow = arg as *mut libc::flock;
    // SAFETY: these commands take a struct flock, which glibc reads the same way.
    let lock = unsafe { narrow.read() };
    let mut wide = libc::flock64 {
        l_type: lock.l_type,
        l_whence: lock.l_whence,
        l_start: lock.l_start.into(),
        l_len: lock.l_len.into(),
        l_pid: lock.l_pid,
    };
    let r = fcntl_impl(fd, cmd, &raw mut wide as usize);
    if r < 0 || cmd != F_OFD_GETLK {
        return r;
    }
    let (Ok(start), Ok(len)) = (i32::try_from(wide.l_start), i32::try_from(wide.l_len)) else {
        crate::glibc::set_errno(libc::EOVERFLOW);
        return -1;
    };
    let back = libc::flock {
        l_type: wide.l_type,
        l_whence: wide.l_whence,
        l_start: start,
        l_len: len,
        l_pid: wide.l_pid,
    };
    // SAFETY: the caller passed a struct flock for the answer (glibc writes it back the same way).
    unsafe { narrow.write(back) };
    r
}
#[cfg(target_arch = "x86")]
alias! { fcntl32_impl =>
    __fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}
#[cfg(all(target_arch = "x86", not(glibc_versions)))]
alias! { fcntl32_impl =>
    fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}

// glibc's i386 `fcntl` has two versions (objdump -T): `fcntl@@GLIBC_2.28`, the 32-bit `off_t`
// one above, and `fcntl@GLIBC_2.0`, which binaries built before 2.28 call (with 64-bit `off_t`
// they pass `struct flock64` to the OFD lock commands): it passes everything to the fcntl64
// syscall unchanged, as `fcntl64` does. With the version nodes of arch/i386/versioned-gcc (see
// build.rs) each is exported under its own version; `remove` drops the helper names.
#[cfg(all(target_arch = "x86", glibc_versions))]
alias! { fcntl32_impl =>
    ptcancel_fcntl_glibc_2_28(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}
#[cfg(all(target_arch = "x86", glibc_versions))]
alias! { fcntl_impl =>
    ptcancel_fcntl_glibc_2_0(fd: c_int, cmd: c_int, arg: usize) -> c_int;
}
#[cfg(all(target_arch = "x86", glibc_versions))]
core::arch::global_asm!(
    ".symver ptcancel_fcntl_glibc_2_28, fcntl@@GLIBC_2.28, remove",
    ".symver ptcancel_fcntl_glibc_2_0, fcntl@GLIBC_2.0, remove",
);

/// The two `struct flock` layouts lockf uses, and the fcntl commands that go with each.
trait Lock: Sized {
    /// (F_GETLK, F_SETLK, F_SETLKW) for this layout.
    const COMMANDS: [c_int; 3];
    fn new(len: i64) -> Self;
    fn set_type(&mut self, kind: c_int);
    fn is_unlocked_or_owned_by(&self, pid: i32) -> bool;
}

macro_rules! impl_lock {
    ($flock:ty, $commands:expr) => {
        impl Lock for $flock {
            const COMMANDS: [c_int; 3] = $commands;
            fn new(len: i64) -> Self {
                // SAFETY: an all-zero flock is valid.
                let mut lock: Self = unsafe { core::mem::zeroed() };
                lock.l_whence = libc::SEEK_CUR as i16;
                lock.l_len = len as _;
                lock
            }
            fn set_type(&mut self, kind: c_int) {
                self.l_type = kind as i16;
            }
            fn is_unlocked_or_owned_by(&self, pid: i32) -> bool {
                self.l_type == libc::F_UNLCK as i16 || self.l_pid == pid
            }
        }
    };
}
impl_lock!(libc::flock, [libc::F_GETLK, libc::F_SETLK, libc::F_SETLKW]);
#[cfg(target_arch = "x86")]
impl_lock!(libc::flock64, [12, 13, 14]); // F_GETLK64, F_SETLK64, F_SETLKW64

/// `lockf` as glibc builds it on fcntl: a lock from the current offset for `len` bytes. Only
/// F_LOCK waits, and so only F_LOCK is a cancellation point.
fn lockf_with<L: Lock>(fd: c_int, cmd: c_int, len: i64) -> c_int {
    let [getlk, setlk, setlkw] = L::COMMANDS;
    let mut lock = L::new(len);
    let (kind, command) = match cmd {
        libc::F_TEST => (libc::F_RDLCK, getlk),
        libc::F_ULOCK => (libc::F_UNLCK, setlk),
        libc::F_LOCK => (libc::F_WRLCK, setlkw),
        libc::F_TLOCK => (libc::F_WRLCK, setlk),
        _ => {
            crate::glibc::set_errno(libc::EINVAL);
            return -1;
        }
    };
    lock.set_type(kind);
    let r = fcntl_impl(fd, command, &raw mut lock as usize);
    if cmd != libc::F_TEST || r < 0 {
        return r;
    }
    // F_GETLK wrote back the conflicting lock, or F_UNLCK if there is none.
    // SAFETY: getpid has no arguments.
    if lock.is_unlocked_or_owned_by(unsafe { syscall!(libc::SYS_getpid) } as i32) {
        return 0;
    }
    crate::glibc::set_errno(libc::EACCES);
    -1
}

extern "C" fn lockf_impl(fd: c_int, cmd: c_int, len: off_t) -> c_int {
    lockf_with::<libc::flock>(fd, cmd, len.into())
}

#[cfg(target_arch = "x86_64")]
alias! { lockf_impl =>
    lockf(fd: c_int, cmd: c_int, len: off_t) -> c_int;
    lockf64(fd: c_int, cmd: c_int, len: off_t) -> c_int;
}

#[cfg(target_arch = "x86")]
alias! { lockf_impl => lockf(fd: c_int, cmd: c_int, len: off_t) -> c_int; }

#[cfg(target_arch = "x86")]
crate::arch::export! {
    /// i386's large-file lockf: `struct flock64` with the LFS commands.
    pub extern "C" fn lockf64(fd: c_int, cmd: c_int, len: libc::off64_t) -> c_int {
        lockf_with::<libc::flock64>(fd, cmd, len)
    }
}
