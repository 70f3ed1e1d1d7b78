//! The artifacts themselves: exported names, the generated header, size.

mod harness;

use harness::{Arch, arches, library, root};
use std::process::Command;

/// The API the library adds to the cancellation points.
const API: &[&str] = &[
    "pthread_cancel",
    "pthread_setcancelstate",
    "pthread_setcanceltype",
    "pthread_testcancel",
    "__pthread_register_cancel_defer",
    "__pthread_unregister_cancel_restore",
    "ptcancel_version",
    "ptcancel_syscall_mode",
];

fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64",
        Arch::I386 => "i386",
    }
}

fn checked_in_list(file: &str) -> Vec<String> {
    let list = std::fs::read_to_string(root().join("tests/points").join(file)).unwrap();
    list.lines().map(str::to_owned).collect()
}

/// Every cancellation point under every name glibc gives it, derived from the installed glibc
/// by tests/points/derive.sh and checked in.
fn cancellation_points(arch: Arch) -> Vec<String> {
    checked_in_list(&format!("glibc-2.36-{}.txt", arch_name(arch)))
}

/// Every exported glibc function that reaches glibc's own cancellation machinery, derived from
/// glibc's machine code by tests/points/derive-cancellable.sh and checked in.
fn glibc_cancellable(arch: Arch) -> Vec<String> {
    checked_in_list(&format!("glibc-2.36-cancellable-{}.txt", arch_name(arch)))
}

/// Never less cancellable than glibc: whatever glibc can cancel is in the export list (so the
/// test above makes the library export it).
#[test]
fn everything_glibc_cancels_is_a_point() {
    for arch in [Arch::X86_64, Arch::I386] {
        let points = cancellation_points(arch);
        let cancellable = glibc_cancellable(arch);
        assert!(
            cancellable.len() > 100,
            "{arch:?}: the derived list is too short"
        );
        let missing: Vec<_> = cancellable
            .iter()
            .filter(|n| !points.contains(n) && !API.contains(&n.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{arch:?}: glibc cancels {missing:?}, which ptcancel does not export"
        );
    }
}

fn dynamic_symbols(arch: Arch) -> Vec<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&library(arch).shared)
        .output()
        .expect("run nm");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .collect()
}

#[test]
fn shared_library_exports_every_point() {
    for arch in arches() {
        let symbols = dynamic_symbols(arch);
        let points = cancellation_points(arch);
        assert!(
            points.len() > 100,
            "{arch:?}: the checked-in list is too short"
        );
        let wanted = API.iter().copied().chain(points.iter().map(String::as_str));
        let missing: Vec<_> = wanted.filter(|n| !symbols.iter().any(|s| s == n)).collect();
        assert!(
            missing.is_empty(),
            "{arch:?}: libptcancel.so lacks {missing:?}"
        );
        // Nothing internal leaks into the dynamic symbol table.
        let internal: Vec<_> = symbols
            .iter()
            .filter(|s| s.starts_with("ptcancel_") && !API.contains(&s.as_str()))
            .collect();
        assert!(
            internal.is_empty(),
            "{arch:?}: internal symbols exported: {internal:?}"
        );
    }
}

#[test]
fn stripped_shared_library_is_small() {
    for arch in arches() {
        let stripped = root()
            .join("target")
            .join(format!("ctests-strip-{arch:?}.so"));
        let status = Command::new("strip")
            .arg("-o")
            .arg(&stripped)
            .arg(&library(arch).shared)
            .status()
            .expect("run strip");
        assert!(status.success());
        let size = std::fs::metadata(&stripped).unwrap().len();
        assert!(
            size < 80 * 1024,
            "{arch:?}: stripped libptcancel.so is {size} bytes"
        );
    }
}

#[test]
fn header_compiles_beside_libc_headers() {
    let probe = root().join("target").join("ctests-header.c");
    std::fs::create_dir_all(probe.parent().unwrap()).unwrap();
    std::fs::write(
        &probe,
        "#include <pthread.h>\n#include <unistd.h>\n#include <ptcancel.h>\n\
         int main(void) { int old; return pthread_setcancelstate(PTHREAD_CANCEL_MASKED, &old)\n\
         + (ptcancel_version() == 0); }\n",
    )
    .unwrap();
    for flags in [
        ["-m64", "-std=c11"],
        ["-m32", "-std=c11"],
        ["-m64", "-std=gnu89"],
    ] {
        let out = Command::new("gcc")
            .args(["-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"])
            .args(flags)
            .arg(format!("-I{}", root().join("include").display()))
            .arg(&probe)
            .output()
            .expect("run gcc");
        assert!(
            out.status.success(),
            "{flags:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// include/ptcancel.h must be what cbindgen makes of the current source. Needs cbindgen
/// (`.ci/run` installs it); set PTCANCEL_SKIP_CBINDGEN=1 to skip knowingly.
#[test]
fn header_is_current() {
    if std::env::var_os("PTCANCEL_SKIP_CBINDGEN").is_some() {
        eprintln!("header_is_current: skipped by PTCANCEL_SKIP_CBINDGEN");
        return;
    }
    let fresh = root().join("target").join("ctests-ptcancel.h");
    let out = Command::new("cbindgen")
        .current_dir(root())
        .args(["--quiet", "--config", "cbindgen.toml", "--output"])
        .arg(&fresh)
        .output()
        .expect("cbindgen not found: `cargo install cbindgen --version 0.29.0` (or set PTCANCEL_SKIP_CBINDGEN=1)");
    assert!(
        out.status.success(),
        "cbindgen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(root().join("include/ptcancel.h")).unwrap();
    let generated = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        committed == generated,
        "include/ptcancel.h is stale: regenerate it with\n  cbindgen --config cbindgen.toml --output include/ptcancel.h"
    );
}
