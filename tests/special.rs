//! Programs that check ptcancel against glibc itself rather than against musl.

mod harness;

use harness::{
    Arch, Build, Link, Mode, arches, build_fake_vdso, check_ptcancel_builds, compile, library, run,
    run_env,
};

/// Bad input: the kernel's errno, glibc's results, never a crash.
#[test]
fn bad_input_matches_glibc() {
    check_ptcancel_builds("tests/special/bad_input.c", &["-ldl"], &[]);
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
