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

/// The names glibc gives one function (one address in libc.so.6) must do the same thing in
/// ptcancel: the alias lists are written by hand, so a name wired to the wrong function (i386
/// `__recv` once went to `accept`) is caught here. A name's code is followed through its
/// leading register set-up and jumps (the trampolines) to the function that does the work;
/// within a glibc group, set-up and final target must agree.
#[test]
fn glibc_aliases_share_their_code() {
    for arch in arches() {
        let libc = match arch {
            Arch::X86_64 => "/lib/x86_64-linux-gnu/libc.so.6",
            Arch::I386 => "/usr/lib32/libc.so.6",
        };
        let points = cancellation_points(arch);
        let code = Disassembly::of(&library(arch).shared);
        let mut groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (address, name) in defined_functions(std::path::Path::new(libc)) {
            if points.contains(&name) {
                groups.entry(address).or_default().push(name);
            }
        }
        let mut wrong = vec![];
        for names in groups.values().filter(|names| names.len() > 1) {
            let first = code.behaviour(&names[0]);
            for name in &names[1..] {
                let this = code.behaviour(name);
                if this != first {
                    wrong.push(format!("{name} {this:?} vs {} {first:?}", names[0]));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{arch:?}: aliases that differ:\n{}",
            wrong.join("\n")
        );
        assert!(
            groups.values().filter(|n| n.len() > 1).count() > 20,
            "{arch:?}: too few groups"
        );
    }
}

/// (address, name) of every function a shared object defines, versions dropped.
fn defined_functions(object: &std::path::Path) -> Vec<(String, String)> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(object)
        .output()
        .expect("run nm");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<_> = l.split_whitespace().collect();
            (f.len() == 3 && "TtWwi".contains(f[1]))
                .then(|| (f[0].to_owned(), f[2].split('@').next().unwrap().to_owned()))
        })
        .collect()
}

/// The instructions of a shared object, by address, and its symbols.
struct Disassembly {
    at: std::collections::BTreeMap<u64, String>,
    symbols: std::collections::HashMap<String, u64>,
}

impl Disassembly {
    fn of(object: &std::path::Path) -> Disassembly {
        let out = Command::new("objdump")
            .args(["-d", "--no-show-raw-insn"])
            .arg(object)
            .output()
            .expect("run objdump");
        let mut at = std::collections::BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some((address, instruction)) = line.trim_start().split_once(":\t") else {
                continue;
            };
            if let Ok(address) = u64::from_str_radix(address, 16) {
                at.insert(address, instruction.trim().to_owned());
            }
        }
        let symbols = defined_functions(object)
            .into_iter()
            .map(|(address, name)| (name, u64::from_str_radix(&address, 16).unwrap()))
            .collect();
        Disassembly { at, symbols }
    }

    /// What calling `name` does: the set-up instructions before its first jump, and where the
    /// jumps lead (the first address that is not a jump).
    fn behaviour(&self, name: &str) -> (Vec<String>, u64) {
        let mut pc = *self
            .symbols
            .get(name)
            .unwrap_or_else(|| panic!("{name} not exported"));
        let mut setup = vec![];
        for _ in 0..16 {
            let (&address, instruction) = self.at.range(pc..).next().expect("code");
            if let Some(target) = instruction.strip_prefix("jmp").map(str::trim) {
                match u64::from_str_radix(target.split_whitespace().next().unwrap_or(""), 16) {
                    Ok(target) => pc = target,
                    Err(_) => return (setup, address), // an indirect jump: stop here
                }
            } else if instruction.starts_with("mov") || instruction.starts_with("xor") {
                setup.push(instruction.split('#').next().unwrap().trim().to_owned());
                pc = self
                    .at
                    .range(address + 1..)
                    .next()
                    .expect("code")
                    .0
                    .to_owned();
            } else {
                return (setup, address);
            }
        }
        (setup, pc)
    }
}
