//! Programs that check ptcancel against glibc itself rather than against musl.

mod harness;

use std::path::Path;

use harness::{
    Arch, Build, Link, Mode, arches, build_fake_vdso, builds, check_ptcancel_builds, compile,
    describe, library, run, run_env, runnable,
};

/// Bad input: the kernel's errno, glibc's results, never a crash.
#[test]
fn bad_input_matches_glibc() {
    check_ptcancel_builds("tests/special/bad_input.c", &["-ldl"], &[]);
}

/// Bad input to the thread waits (timeouts, clocks, unowned mutexes, self/detached joins,
/// garbage objects): glibc's results, never a crash or a wait.
#[test]
fn bad_waits_match_glibc() {
    check_ptcancel_builds("tests/special/bad_waits.c", &["-ldl"], &[]);
    check_ptcancel_builds(
        "tests/special/bad_waits.c",
        &["-ldl", "-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"],
        &[],
    );
}

/// Under seccomp's @debug kill filter (no process_vm_readv...), every point with a timeout or a
/// struct to read, the waits and a real cancellation keep the process alive.
#[test]
fn seccomp_debug_filter_never_kills() {
    check_ptcancel_builds("tests/special/seccomp.c", &[], &[]);
    check_ptcancel_builds(
        "tests/special/seccomp.c",
        &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"],
        &[],
    );
}

/// A set-uid program statically linked with the i386 library ignores every PTCANCEL_*
/// variable (AT_SECURE), even in a build with the test hook compiled in; a release build has
/// no test hook at all. Needs root (to make the set-uid file and run it as nobody).
#[test]
fn setuid_programs_ignore_the_environment() {
    if !arches().contains(&Arch::I386) {
        return;
    }
    // Release build: no PTCANCEL_TEST_VDSO anywhere in it.
    let release = harness::cargo_build(Arch::I386, "release-check", &[]).join("libptcancel.so");
    let bytes = std::fs::read(&release).unwrap();
    assert!(
        !bytes.windows(18).any(|w| w == b"PTCANCEL_TEST_VDSO"),
        "the release build still reads PTCANCEL_TEST_VDSO"
    );

    // SAFETY: geteuid has no preconditions.
    if unsafe { geteuid() } != 0 {
        eprintln!("NOTE: not root: the set-uid half of this test is skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ptcancel-setuid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let build = Build::new(Arch::I386, Link::Static);
    let exe = compile("tests/special/static_mode.c", build, &[]);
    let hook = dir.join("hook.so");
    let st = std::process::Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-o"])
        .arg(&hook)
        .arg(harness::root().join("tests/special/hook.c"))
        .status()
        .unwrap();
    assert!(st.success());
    let setuid = dir.join("print_mode");
    std::fs::copy(&exe, &setuid).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&setuid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let mark = dir.join("mark");
    let run = |args: &[&str]| {
        std::process::Command::new(args[0])
            .args(&args[1..])
            .env("PTCANCEL_DEBUG", "1")
            .env("PTCANCEL_I386_MODE", "int80")
            .env("PTCANCEL_TEST_VDSO", &hook)
            .env("HOOK_MARK", &mark)
            .output()
            .expect("run")
    };
    let path = setuid.to_str().unwrap();
    // As root (not set-uid for root): the variables are honoured, proving they would matter.
    let honoured = run(&[path]);
    assert_eq!(String::from_utf8_lossy(&honoured.stdout).trim(), "int80");
    let _ = std::fs::remove_file(&mark);
    let secure = run(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        path,
    ]);
    let stdout = String::from_utf8_lossy(&secure.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&secure.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(secure.status.success(), "{stdout}{stderr}");
    assert!(
        !mark.exists(),
        "the set-uid program loaded PTCANCEL_TEST_VDSO's object"
    );
    assert!(
        !stderr.contains("ptcancel:"),
        "PTCANCEL_DEBUG honoured: {stderr}"
    );
    assert!(
        stdout.trim() != "int80" || !harness::emulated_mode_possible(),
        "PTCANCEL_I386_MODE honoured: {stdout}"
    );
}

unsafe extern "C" {
    fn geteuid() -> u32;
}

/// A cancel that cannot act where it lands leaves no signal 32 blocked or queued behind: not
/// in the thread, not in a child, not in an exec'd program.
#[test]
fn no_signal_32_leaks_into_children_or_exec() {
    check_ptcancel_builds("tests/special/sig32_leak.c", &[], &[]);
}

/// Under valgrind (which ignores a handler's signal-mask edits), cancelling threads blocked in
/// poll() and nanosleep() acts once and does not livelock, nor does a cancel that lands in a
/// signal handler on top of a blocked read() (it acts once the read returns). Skipped, with a note, without
/// valgrind (`apt-get install valgrind`; the test set-up installs it).
#[test]
fn cancels_under_valgrind() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("NOTE: valgrind is not installed (apt-get install valgrind): test skipped");
        return;
    }
    // x86_64 only: valgrind cannot start 32-bit programs without i386 glibc debug symbols.
    for arch in arches().into_iter().filter(|&a| a == Arch::X86_64) {
        let build = Build::new(arch, Link::Preload);
        let exe = compile("tests/special/valgrind_poll.c", build, &[]);
        let lib = library(arch).shared.to_string_lossy().into_owned();
        let out = std::process::Command::new("timeout")
            .args(["300", "valgrind", "-q", "--error-exitcode=99"])
            .arg(&exe)
            .env("LD_PRELOAD", &lib)
            .output()
            .expect("run valgrind");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success()
                && stdout.contains("poll: canceled")
                && stdout.contains("nanosleep: canceled")
                && stdout.contains("handler: canceled"),
            "{arch:?} under valgrind: {:?}\n{stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// i386 callers with a 4-byte aligned stack (tcc, -mpreferred-stack-boundary=2, asm) work:
/// every kind of entry is called 4, 8 and 12 bytes off a 16-byte boundary.
#[test]
fn misaligned_i386_callers_work() {
    check_ptcancel_builds("tests/special/stack_align.c", &[], &[]);
}

/// An asynchronous cancel of a thread with a minimum-size alternate signal stack unwinds on
/// the thread's own stack (the handler is not SA_ONSTACK, as glibc's is not).
#[test]
fn async_cancel_with_small_alternate_stack() {
    check_ptcancel_builds("tests/special/altstack.c", &[], &[]);
}

/// A dlopen'ed copy refuses (ENOTSUP and a message) and leaves glibc's cancellation working.
#[test]
fn dlopen_copy_refuses() {
    for arch in arches() {
        let build = Build::new(arch, Link::Glibc);
        let exe = compile("tests/special/dlopen_copy.c", build, &["-ldl"]);
        let lib = library(arch).shared.to_string_lossy().into_owned();
        let out = run(&exe, build, &[&lib], 30);
        assert_eq!(out.code, Some(0), "{arch:?}: {}{}", out.stdout, out.stderr);
        if !out.stdout.starts_with("dlopen refused") {
            assert!(
                out.stdout.contains("copy pthread_cancel: ENOTSUP"),
                "{}",
                out.stdout
            );
            assert!(
                out.stderr.contains("loaded after libc"),
                "no diagnostic: {}",
                out.stderr
            );
        }
    }
}

/// A cancel never interrupts a syscall that is not a ptcancel cancellation point (glibc's
/// `syscall()`, which on i386 also enters through the vDSO), and the call's result survives.
#[test]
fn foreign_syscalls_are_not_cancelled() {
    check_ptcancel_builds("tests/special/not_ours.c", &[], &["syscall"]);
}

/// vDSO helpers that break their contract (tests/vdso/fake_vdso.c -DMISBEHAVE=1..5): ptcancel
/// must not crash, must not cancel the call, and must not lose its result.
#[test]
fn misbehaving_vdso_helpers_are_not_trusted() {
    if !arches().contains(&Arch::I386) {
        return;
    }
    let mut failures = vec![];
    for link in [Link::Preload, Link::Static] {
        let build = Build {
            arch: Arch::I386,
            link,
            mode: Some(Mode::KernelHelpers),
        };
        let exe = compile("tests/special/not_ours.c", build, &[]);
        for misbehave in 1..=5 {
            let fake = build_fake_vdso(misbehave);
            let out = run_env(&exe, build, &["read"], &[("PTCANCEL_TEST_VDSO", &fake)], 30);
            if out.code != Some(0) {
                failures.push(format!(
                    "[{}] misbehave={misbehave} {:?}: {}{}",
                    build.name(),
                    out.code,
                    out.stdout,
                    out.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// i386 `_TIME_BITS=64` entry points give glibc's results (non-blocking cases; the blocking
/// ones are the tests/c programs built with -D_TIME_BITS=64).
#[test]
fn time64_entry_points_match_glibc() {
    let flags = ["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64", "-ldl"];
    let mut failures = vec![];
    for build in runnable(builds(false)).filter(|b| b.arch == Arch::I386) {
        let out = run(
            &compile("tests/special/time64_i386.c", build, &flags),
            build,
            &[],
            30,
        );
        if out.code != Some(0) {
            failures.push(describe("time64_i386.c", build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `_FORTIFY_SOURCE` entry points are cancellation points and keep glibc's overflow checks.
#[test]
fn fortified_entry_points() {
    let flags = ["-D_FORTIFY_SOURCE=2", "-Wno-unused-result"];
    let mut failures = vec![];
    for build in runnable(builds(false)) {
        let exe = compile("tests/special/fortify.c", build, &flags);
        if build.link == Link::Preload {
            // The program really calls the fortified names (they are what ptcancel must export).
            let imports = std::process::Command::new("nm")
                .arg("-u")
                .arg(&exe)
                .output()
                .unwrap();
            let imports = String::from_utf8_lossy(&imports.stdout);
            for name in [
                "__read_chk",
                "__pread_chk",
                "__recv_chk",
                "__recvfrom_chk",
                "__poll_chk",
                "__ppoll_chk",
                "__open_2",
                "__openat_2",
            ] {
                assert!(
                    imports.contains(name),
                    "{}: fortify.c does not call {name}",
                    build.name()
                );
            }
        }
        let out = run(&exe, build, &[], 60);
        if out.code != Some(0) {
            failures.push(describe("fortify.c", build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// aio_suspend (which polls, see README): cancellable, notices completion, times out.
#[test]
fn aio_suspend_is_a_cancellation_point() {
    check_ptcancel_builds("tests/special/aio.c", &[], &[]);
}

/// glibc's own cancellable syscalls under PTHREAD_CANCEL_MASKED: a thread blocked in fgets() or
/// in fprintf() + fflush() gets NULL / EOF with errno ECANCELED and the stream's error flag,
/// and its state becomes DISABLE; the stream stays usable.
#[test]
fn masked_stdio_reports_ecanceled() {
    check_ptcancel_builds("tests/special/stdio.c", &[], &["masked"]);
}

/// A glibc whose cancellable-syscall layout the library does not recognise (simulated in test
/// builds with PTCANCEL_TEST_GLIBC_LAYOUT=unknown): a thread blocked in fgets() stays blocked,
/// as before, the cancel acts at the next cancellation point, and PTCANCEL_DEBUG=1 says so
/// once.
#[test]
fn unrecognised_glibc_layout_falls_back() {
    let env = [
        ("PTCANCEL_TEST_GLIBC_LAYOUT", Path::new("unknown")),
        ("PTCANCEL_DEBUG", Path::new("1")),
    ];
    let mut failures = vec![];
    for build in runnable(builds(false)) {
        let exe = compile("tests/special/stdio.c", build, &[]);
        let out = run_env(&exe, build, &["unrecognised"], &env, 30);
        let said = out.stderr.matches("not recognised").count();
        if out.code != Some(0) || said != 1 {
            failures.push(describe("tests/special/stdio.c unrecognised", build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// i386 `fcntl@GLIBC_2.0` (binaries built before glibc 2.28: `struct flock64` for the OFD lock
/// commands) and `fcntl@GLIBC_2.28` (`struct flock`), each with glibc's semantics, and the old
/// one's F_OFD_SETLKW a cancellation point: plain glibc and every i386 build.
#[test]
fn fcntl_versions_keep_their_semantics() {
    if !arches().contains(&Arch::I386) {
        return;
    }
    let mut all = vec![Build::new(Arch::I386, Link::Glibc)];
    all.extend(builds(false).into_iter().filter(|b| b.arch == Arch::I386));
    let mut failures = vec![];
    for build in runnable(all) {
        let exe = compile("tests/special/fcntl_versions.c", build, &[]);
        let out = run(&exe, build, &[], 30);
        if out.code != Some(0) {
            failures.push(describe("tests/special/fcntl_versions.c", build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// On a glibc older than 2.31 (simulated in test builds: PTCANCEL_TEST_GLIBC_VERSION=2.28) the
/// library refuses with one line on stderr. Preloaded, it re-executes the program without
/// itself, which then runs with glibc's own cancellation (a blocked read() is cancelled by
/// glibc), arguments intact; statically linked it cannot step aside, says so and stays in
/// charge. On a supported glibc nothing is said.
#[test]
fn too_old_glibc_is_refused() {
    let old = [("PTCANCEL_TEST_GLIBC_VERSION", Path::new("2.28"))];
    let mut failures = vec![];
    for build in runnable(builds(false)) {
        let exe = compile("tests/special/too_old.c", build, &["-ldl"]);
        let out = run_env(&exe, build, &["arg"], &old, 30);
        let said = out.stderr.matches("older than 2.31").count();
        let ok = match build.link {
            Link::Preload => {
                out.stdout
                    .contains("ptcancel in the process: no; blocked read cancelled: yes")
                    && out.stdout.contains("args: 2 arg")
                    && out.stderr.contains("without ptcancel")
            }
            _ => out.stderr.contains("stays in charge"),
        };
        if out.code != Some(0) || said != 1 || !ok {
            failures.push(describe("too_old (glibc 2.28)", build, &out));
        }
        let out = run(&exe, build, &["arg"], 30);
        let present =
            build.link != Link::Preload || out.stdout.contains("ptcancel in the process: yes");
        if out.code != Some(0) || out.stderr.contains("older than") || !present {
            failures.push(describe("too_old (this glibc)", build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
