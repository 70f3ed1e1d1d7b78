//! The C (and C++) test programs of tests/c/: each runs as its reference (real musl, or plain
//! glibc where musl cannot run it) and then with ptcancel, preloaded and statically linked, on
//! x86_64 and on i386 in every syscall mode. Every run must pass the program's own checks and
//! print exactly the reference's lines (which are also checked in under tests/c/expected/).

mod harness;

use harness::{Reference, check_agree, check_agree_with};

fn musl_reference(name: &str, extra: &[&str]) {
    // Where the issue makes ptcancel differ from musl 1.2.3 (e.g. F_OFD_SETLKW, wait4 are
    // cancellation points), the ptcancel builds print NAME.ptcancel.out instead.
    let deviations = format!("tests/c/expected/{name}.ptcancel.out");
    let deviations = harness::root()
        .join(&deviations)
        .exists()
        .then_some(deviations);
    check_agree_with(
        &format!("tests/c/{name}.c"),
        extra,
        Reference::Musl,
        Some(&format!("tests/c/expected/{name}.out")),
        deviations.as_deref(),
    );
}

#[test]
fn points_io() {
    musl_reference("points_io", &[]);
}

/// The same program with 64-bit file offsets: on i386 it calls open64, pread64... instead.
#[test]
fn points_io_large_file_names() {
    musl_reference("points_io", &["-D_FILE_OFFSET_BITS=64"]);
}

#[test]
fn points_net() {
    musl_reference("points_net", &[]);
}

#[test]
fn points_time() {
    musl_reference("points_time", &[]);
}

#[test]
fn semantics() {
    musl_reference("semantics", &[]);
}

#[test]
fn masked() {
    musl_reference("masked", &[]);
}

#[test]
fn asynchronous() {
    musl_reference("async", &[]);
}

#[test]
fn signal_handler_reraise() {
    musl_reference("sighandler", &[]);
}

#[test]
fn cleanup_order() {
    musl_reference("cleanup", &[]);
}

#[test]
fn race_completed_calls_keep_their_effect() {
    musl_reference("race", &[]);
}

/// `-fexceptions` C cleanups: musl does not unwind, so glibc's own run is the reference.
#[test]
fn cleanup_attribute_with_fexceptions() {
    check_agree(
        "tests/c/cleanup_attr.c",
        &["-fexceptions"],
        Reference::Glibc,
        Some("tests/c/expected/cleanup_attr.out"),
    );
}

#[test]
fn cxx_destructors() {
    check_agree(
        "tests/c/cxx_destructors.cpp",
        &[],
        Reference::Glibc,
        Some("tests/c/expected/cxx_destructors.out"),
    );
}

#[test]
fn glibc_cleanup_push_defer_np() {
    check_agree(
        "tests/c/glibc_defer_np.c",
        &[],
        Reference::Glibc,
        Some("tests/c/expected/glibc_defer_np.out"),
    );
}

#[test]
fn glibc_cleanup_push_defer_np_fexceptions() {
    check_agree(
        "tests/c/glibc_defer_np.c",
        &["-fexceptions"],
        Reference::Glibc,
        Some("tests/c/expected/glibc_defer_np.fexceptions.out"),
    );
}

/// i386 programs built for 64-bit time call glibc's `__nanosleep64`, `__ppoll64`,
/// `__recvmsg64`... entry points instead: the same programs must behave the same.
#[test]
fn points_time_time64() {
    musl_reference(
        "points_time",
        &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"],
    );
}

#[test]
fn points_net_time64() {
    musl_reference("points_net", &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"]);
}

/// Built with `_FORTIFY_SOURCE`: where sizes are known the calls stay plain, so this checks the
/// headers' inline wrappers change nothing (tests/special/fortify.c covers the `_chk` names).
#[test]
fn points_io_fortified() {
    musl_reference("points_io", &["-D_FORTIFY_SOURCE=2", "-Wno-unused-result"]);
}

#[test]
fn points_sync() {
    musl_reference("points_sync", &[]);
}

#[test]
fn points_ipc() {
    musl_reference("points_ipc", &[]);
}

#[test]
fn points_signal() {
    musl_reference("points_signal", &[]);
}

#[test]
fn points_wait() {
    musl_reference("points_wait", &[]);
}

#[test]
fn points_misc() {
    musl_reference("points_misc", &[]);
}

/// The `*64` and `__*_time64` names (the program sets _FILE_OFFSET_BITS and _TIME_BITS).
#[test]
fn points_abi64() {
    musl_reference("points_abi64", &[]);
}

/// A thread with cancellation disabled is not signalled: its calls are not interrupted.
#[test]
fn disabled_threads_are_not_interrupted() {
    musl_reference("disabled_blocked", &[]);
}

/// epoll_pwait2, preadv2, pwritev2: musl 1.2.3 lacks them; glibc is the reference.
#[test]
fn glibc_only_points() {
    check_agree(
        "tests/c/glibc_misc.c",
        &[],
        Reference::Glibc,
        Some("tests/c/expected/glibc_misc.out"),
    );
}

#[test]
fn glibc_only_points_time64() {
    check_agree(
        "tests/c/glibc_misc.c",
        &["-D_FILE_OFFSET_BITS=64", "-D_TIME_BITS=64"],
        Reference::Glibc,
        Some("tests/c/expected/glibc_misc.out"),
    );
}

/// The thread waits: semaphores, condvars, joins, C11 threads, in every mode, asynchronous and
/// MASKED, and process-shared objects across fork.
#[test]
fn points_threads() {
    musl_reference("points_threads", &[]);
}

/// The same with 64-bit time: on i386 the calls become `__sem_timedwait64`,
/// `__pthread_cond_timedwait64`, `__pthread_timedjoin_np64`, `__cnd_timedwait64`...
#[test]
fn points_threads_time64() {
    musl_reference(
        "points_threads",
        &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"],
    );
}

/// What glibc cancels beyond POSIX and musl (splice, tee, vmsplice, copy_file_range,
/// sync_file_range, fallocate, open_by_handle_at) and the clock waits musl lacks: glibc is
/// the reference.
#[test]
fn glibc_cancellable() {
    check_agree(
        "tests/c/glibc_cancellable.c",
        &[],
        Reference::Glibc,
        Some("tests/c/expected/glibc_cancellable.out"),
    );
}

#[test]
fn glibc_cancellable_time64() {
    check_agree(
        "tests/c/glibc_cancellable.c",
        &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"],
        Reference::Glibc,
        Some("tests/c/expected/glibc_cancellable.out"),
    );
}

/// glibc's own cancellation points inside its own functions (fgets, fread, getline, fgetc,
/// fprintf + fflush, fopen of a FIFO, system, res_query), which musl does not have: glibc is
/// the reference. Under ptcancel they are glibc-internal syscalls (src/glibc_cp.rs); every
/// stream stays usable.
#[test]
fn glibc_internal() {
    check_agree(
        "tests/c/glibc_internal.c",
        &["-lresolv"],
        Reference::Glibc,
        Some("tests/c/expected/glibc_internal.out"),
    );
}

/// A thread that has started to exit (pthread_exit, its start routine returning, acting on a
/// cancel) is never cancelled again: cleanup handlers and TSD destructors run once, with plain
/// calls, and nothing exits twice.
#[test]
fn exiting_threads_are_not_cancelled_again() {
    musl_reference("exiting", &[]);
}
