//! Where a thread starts to exit, so that no cancel acts in it afterwards (DESIGN §8): glibc's
//! `pthread_exit` and `thrd_exit`, and the return of a start routine, which glibc follows with
//! TSD destructors without going through `pthread_exit`. ptcancel wraps the start routines of
//! the threads a program creates to see that return.

use core::ffi::{c_int, c_void};

use crate::glibc;
use crate::state;

type StartRoutine = extern "C" fn(*mut c_void) -> *mut c_void;
type C11Start = extern "C" fn(*mut c_void) -> c_int;

/// What the wrapper needs, on the heap until the new thread has read it.
#[derive(Clone, Copy)]
enum Start {
    Posix(StartRoutine),
    C11(C11Start),
}

#[derive(Clone, Copy)]
struct Boxed {
    start: Start,
    arg: *mut c_void,
}

/// The start routine ptcancel gives glibc: runs the program's, then marks the thread exiting.
extern "C" fn start_wrapper(boxed: *mut c_void) -> *mut c_void {
    // SAFETY: `boxed` is the allocation made in `create`, read once and freed here.
    let Boxed { start, arg } = unsafe {
        let b = *(boxed as *const Boxed);
        libc::free(boxed);
        b
    };
    let result = match start {
        Start::Posix(routine) => routine(arg),
        // glibc's C11 threads hand back the int result as a pointer-sized value.
        Start::C11(routine) => routine(arg) as isize as *mut c_void,
    };
    state::current().set_exiting();
    result
}

/// glibc's `pthread_create` with the wrapper around `start`.
///
/// # Safety
/// As for `pthread_create`.
unsafe fn create(
    thread: *mut libc::pthread_t,
    attr: *const libc::pthread_attr_t,
    start: Start,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: malloc of a small plain struct.
    let boxed = unsafe { libc::malloc(core::mem::size_of::<Boxed>()) } as *mut Boxed;
    if boxed.is_null() {
        return libc::EAGAIN;
    }
    // SAFETY: `boxed` is a fresh allocation of the right size and alignment (malloc's).
    unsafe { boxed.write(Boxed { start, arg }) };
    // SAFETY: the caller's arguments, with our routine and its argument.
    let err = unsafe { (glibc::next().pthread_create)(thread, attr, start_wrapper, boxed.cast()) };
    if err != 0 {
        // SAFETY: the thread was not created, so the allocation is still ours.
        unsafe { libc::free(boxed.cast()) };
    }
    err
}

crate::arch::export! {
    /// # Safety
    /// As for `pthread_create`.
    pub unsafe extern "C" fn pthread_create(
        thread: *mut libc::pthread_t,
        attr: *const libc::pthread_attr_t,
        start: StartRoutine,
        arg: *mut c_void,
    ) -> c_int {
        // SAFETY: the caller's contract.
        unsafe { create(thread, attr, Start::Posix(start), arg) }
    }
}

crate::arch::export! {
    /// C11 `thrd_create`: glibc's result codes (thrd_success, thrd_nomem for ENOMEM, thrd_error).
    ///
    /// # Safety
    /// As for `thrd_create`.
    pub unsafe extern "C" fn thrd_create(
        thread: *mut libc::pthread_t,
        start: C11Start,
        arg: *mut c_void,
    ) -> c_int {
        // SAFETY: the caller's contract.
        let err = unsafe { create(thread, core::ptr::null(), Start::C11(start), arg) };
        crate::points::thrd_result(err)
    }
}

crate::arch::export! {
    /// Terminates the calling thread: from here on no cancel acts in it.
    pub extern "C" fn pthread_exit(value: *mut c_void) -> ! {
        exit_thread(value)
    }
}

crate::arch::export! {
    /// C11 `thrd_exit`.
    pub extern "C" fn thrd_exit(result: c_int) -> ! {
        exit_thread(result as isize as *mut c_void)
    }
}

/// Marks the thread exiting and calls glibc's `pthread_exit`. Async-signal-safe once
/// `glibc::next()` has been resolved (`handler::install` does it before a signal is sent).
pub fn exit_thread(value: *mut c_void) -> ! {
    state::current().set_exiting();
    // SAFETY: glibc unwinds from here; every frame between us and the C caller has unwind
    // info and nothing to drop (DESIGN §5).
    unsafe { (glibc::next().pthread_exit)(value) }
}
