//! Waiting for child processes, and `system`.

use core::ffi::{c_char, c_int};
use libc::{id_t, idtype_t, pid_t, rusage, siginfo_t};

use super::alias;
use crate::arch::fast_point;
use crate::sys::c_ret;
use crate::syscall_cp::syscall_cp;

fast_point! { libc::SYS_wait4 =>
    wait4(pid: pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t;
}

fn wait4_cp(pid: pid_t, status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t {
    // SAFETY: the caller's pointers go to the kernel, which validates them.
    c_ret(unsafe {
        syscall_cp(
            libc::SYS_wait4,
            pid as usize,
            status as usize,
            options as usize,
            usage as usize,
            0,
            0,
        )
    }) as pid_t
}

extern "C" fn waitpid_impl(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t {
    wait4_cp(pid, status, options, core::ptr::null_mut())
}
alias! { waitpid_impl =>
    waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t;
    __waitpid(pid: pid_t, status: *mut c_int, options: c_int) -> pid_t;
}

extern "C" fn wait_impl(status: *mut c_int) -> pid_t {
    wait4_cp(-1, status, 0, core::ptr::null_mut())
}
alias! { wait_impl =>
    wait(status: *mut c_int) -> pid_t;
    __wait(status: *mut c_int) -> pid_t;
}

crate::arch::export! {
    pub extern "C" fn wait3(status: *mut c_int, options: c_int, usage: *mut rusage) -> pid_t {
        wait4_cp(-1, status, options, usage)
    }
}

crate::arch::export! {
    pub extern "C" fn waitid(kind: idtype_t, id: id_t, info: *mut siginfo_t, options: c_int) -> c_int {
        // SAFETY: as above; the kernel's 5th argument (rusage) is NULL.
        c_ret(unsafe {
            syscall_cp(
                libc::SYS_waitid,
                kind as usize,
                id as usize,
                info as usize,
                options as usize,
                0,
                0,
            )
        }) as c_int
    }
}

/// `system`: a cancellation point at entry (musl's rule), otherwise glibc's own (libc.so.6's
/// own definition: see `glibc::in_libc`).
extern "C" fn system_impl(command: *const c_char) -> c_int {
    crate::api::testcancel();
    let libc_system = crate::glibc::in_libc(c"system");
    if libc_system.is_null() {
        crate::glibc::set_errno(libc::ENOSYS);
        return -1;
    }
    // SAFETY: glibc's `int system(const char *)`.
    let libc_system: extern "C" fn(*const c_char) -> c_int =
        unsafe { core::mem::transmute(libc_system) };
    libc_system(command)
}
alias! { system_impl =>
    system(command: *const c_char) -> c_int;
    __libc_system(command: *const c_char) -> c_int;
}
