//! Programs that check ptcancel against glibc itself rather than against musl.

mod harness;

use harness::{Build, Link, arches, check_ptcancel_builds, compile, library, run};

/// Bad input: the kernel's errno, glibc's results, never a crash.
#[test]
fn bad_input_matches_glibc() {
    check_ptcancel_builds("tests/special/bad_input.c", &["-ldl"]);
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
