//! The artifacts themselves: exported names, the generated header (C and C++), size.

mod harness;

use harness::{
    Arch, Link, arches, builds, crate_version, library, require_compiler, root, run, runnable,
};
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
    // Where threads start to exit (src/lifecycle.rs).
    "pthread_create",
    "pthread_exit",
    "thrd_create",
    "thrd_exit",
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

/// The names the library exports: a default version's name plain (`fcntl@@GLIBC_2.28` is
/// `fcntl`), another version's with it (`fcntl@GLIBC_2.0`).
fn dynamic_symbols(arch: Arch) -> Vec<String> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&library(arch).shared)
        .output()
        .expect("run nm");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|name| match name.split_once("@@") {
            Some((name, _)) => name.to_owned(),
            None => name.to_owned(),
        })
        .collect()
}

/// Where glibc defines a point in two versions with different semantics, the library does
/// too (i386 `fcntl@GLIBC_2.0` for binaries built before 2.28, `fcntl@@GLIBC_2.28`), and
/// nothing else carries a version: every other export is in the base version, which ld.so
/// matches against a reference to any version.
#[test]
fn versioned_exports_are_glibcs() {
    for arch in arches() {
        let versioned: Vec<_> = dynamic_symbols(arch)
            .into_iter()
            .filter(|n| n.contains('@'))
            .collect();
        let expected: &[&str] = match arch {
            Arch::X86_64 => &[],
            Arch::I386 => &["fcntl@GLIBC_2.0"],
        };
        assert_eq!(versioned, expected, "{arch:?}");
        let out = Command::new("objdump")
            .arg("-T")
            .arg(&library(arch).shared)
            .output()
            .expect("run objdump");
        let table = String::from_utf8_lossy(&out.stdout);
        let defaults: Vec<_> = table
            .lines()
            .filter(|l| l.contains(" .text") && !l.contains(" Base "))
            .collect();
        let expected = match arch {
            Arch::X86_64 => 0,
            Arch::I386 => 2,
        };
        assert_eq!(defaults.len(), expected, "{arch:?}: {defaults:#?}");
    }
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
            .filter(|s| {
                (s.starts_with("ptcancel_") && !API.contains(&s.as_str()))
                    // Rust's mangled names (the i386 version map keeps them local).
                    || s.starts_with("_ZN")
                    || s.starts_with("_R")
            })
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
        // 2026-11-30, test build: x86_64 41 KiB, i386 80 KiB (a realigning entry per export,
        // the vDSO code); the guard catches a runaway dependency or lost LTO, not a feature.
        assert!(
            size < 96 * 1024,
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
    for (compiler, flags) in [
        ("gcc", ["-m64", "-std=c11"]),
        ("gcc", ["-m32", "-std=c11"]),
        ("gcc", ["-m64", "-std=gnu89"]),
        ("g++", ["-m64", "-std=c++98"]),
        ("g++", ["-m32", "-std=c++17"]),
    ] {
        let arch = if flags[0] == "-m32" {
            Arch::I386
        } else {
            Arch::X86_64
        };
        require_compiler(compiler, Some(arch));
        let out = Command::new(compiler)
            .args(["-x", if compiler == "g++" { "c++" } else { "c" }])
            .args(["-Wall", "-Wextra", "-pedantic", "-Werror", "-fsyntax-only"])
            .args(flags)
            .arg(format!("-I{}", root().join("include").display()))
            .arg(&probe)
            .output()
            .expect("run the compiler");
        assert!(
            out.status.success(),
            "{compiler} {flags:?}: {}",
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
    // Another cbindgen version may lay the header out differently: insist on the one it
    // was generated with.
    // tests/setup.sh installs it into target/tools when PATH has no cbindgen 0.29.0.
    let local = root().join("target/tools/bin/cbindgen");
    let cbindgen = if local.exists() {
        local
    } else {
        "cbindgen".into()
    };
    let version = Command::new(&cbindgen).arg("--version").output();
    if !version.is_ok_and(|v| String::from_utf8_lossy(&v.stdout).trim() == "cbindgen 0.29.0") {
        harness::missing_tool(
            "cbindgen 0.29.0",
            "cbindgen 0.29.0",
            "cargo install --locked cbindgen --version 0.29.0",
        );
    }
    let fresh = root().join("target").join("ctests-ptcancel.h");
    let out = Command::new(&cbindgen)
        .current_dir(root())
        .args(["--quiet", "--config", "cbindgen.toml", "--output"])
        .arg(&fresh)
        .output()
        .expect("run cbindgen");
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

/// (address, name) of every function a shared object defines: a default version's name plain,
/// another version's with it (`fcntl@GLIBC_2.0`), as `nm -D` shows them.
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
                .then(|| (f[0].to_owned(), f[2].split("@@").next().unwrap().to_owned()))
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
    /// jumps (and i386's realigning entries) lead: the first address that is neither.
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
            } else if instruction.starts_with("push") && instruction.contains("%ebp") {
                // i386's realigning entries: push %ebp ... call TARGET ... leave; ret.
                let call = self
                    .at
                    .range(address..)
                    .take(32)
                    .find_map(|(_, i)| i.strip_prefix("call").map(str::trim));
                match call.and_then(|t| u64::from_str_radix(t.split_whitespace().next()?, 16).ok())
                {
                    Some(target) => pc = target,
                    None => return (setup, address),
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

/// The names of the functions include/ptcancel.h declares (its prototypes, comments and
/// preprocessor lines aside).
fn declared_functions() -> Vec<String> {
    let header = std::fs::read_to_string(root().join("include/ptcancel.h")).unwrap();
    let mut code = String::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        code += &rest[..start];
        let end = rest[start..].find("*/").expect("unterminated comment") + start + 2;
        rest = &rest[end..];
    }
    code += rest;
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ");
    code.split(';')
        .filter_map(|statement| {
            let before = statement.split_once('(')?.0.trim_end();
            let name = before.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
            name.into_iter().next().map(str::to_owned)
        })
        .collect()
}

/// A C++ program calls every function the header declares (so the header must give them C
/// linkage), linked against libptcancel.so (and preloaded) and against libptcancel.a, on every
/// arch and i386 syscall mode; it must run and report the build's mode.
#[test]
fn cxx_program_calls_every_declared_function_linked_both_ways() {
    let source = "tests/header/api.cpp";
    let text = std::fs::read_to_string(root().join(source)).unwrap();
    let declared = declared_functions();
    assert!(
        declared.len() >= 6,
        "too few prototypes found in include/ptcancel.h: {declared:?}"
    );
    let uncalled: Vec<_> = declared
        .iter()
        .filter(|f| !text.contains(&format!("{f}(")))
        .collect();
    assert!(
        uncalled.is_empty(),
        "{source} does not call {uncalled:?}, which include/ptcancel.h declares"
    );
    let version = crate_version();
    let mut failures = vec![];
    for build in runnable(builds(false)) {
        let lib = library(build.arch);
        let dir = root().join("target/ctests-cxx").join(build.name());
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("api");
        let flag = if build.arch == Arch::I386 {
            "-m32"
        } else {
            "-m64"
        };
        require_compiler("g++", Some(build.arch));
        let mut cmd = Command::new("g++");
        cmd.args([
            flag,
            "-std=c++11",
            "-O2",
            "-pthread",
            "-Wall",
            "-Wextra",
            "-pedantic",
        ])
        .args(["-Werror", "-I"])
        .arg(root().join("include"))
        .arg(root().join(source));
        match build.link {
            // Linked against the shared library (found again through the rpath), and preloaded
            // by run() as well: the loader keeps one copy.
            Link::Preload => {
                let dir = lib.shared.parent().unwrap();
                cmd.arg(&lib.shared)
                    .arg(format!("-Wl,-rpath,{}", dir.display()));
            }
            _ => {
                cmd.arg(&lib.archive);
            }
        }
        let out = cmd.arg("-o").arg(&exe).output().expect("run g++");
        if !out.status.success() {
            failures.push(format!(
                "[{}] g++ {source} failed:\n{}",
                build.name(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let out = run(&exe, build, &[&version], 60);
        let mode = build.mode.map_or("syscall", |m| m.env_name());
        let want = format!("ptcancel {version} ({mode}): C++ calls every declared function\n");
        if out.code != Some(0) || out.stdout != want {
            failures.push(harness::describe(source, build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The signal handler and the i386 helpers it uses call nothing through the PLT: a static link
/// without `-z now` would resolve such a call lazily, inside the handler (it once copied the
/// ucontext with memcpy).
/// Functions the handler runs (names as objdump -C shows them).
const HANDLER_PARTS: [&str; 5] = [
    "on_cancel_signal",
    "emulated_",
    "abort_pending_call",
    "returning_to_thunk",
    "copy_words",
];

#[test]
fn signal_handler_makes_no_plt_calls() {
    for arch in arches() {
        let out = Command::new("objdump")
            .args(["-d", "--no-show-raw-insn", "-C"])
            .arg(&library(arch).shared)
            .output()
            .expect("run objdump");
        let text = String::from_utf8_lossy(&out.stdout);
        let mut function = String::new();
        let mut checked = 0;
        let mut offending = vec![];
        for line in text.lines() {
            if line.ends_with(">:") {
                function = line.to_owned();
                if HANDLER_PARTS.iter().any(|n| function.contains(n)) {
                    checked += 1;
                }
            } else if line.contains("@plt>") && HANDLER_PARTS.iter().any(|n| function.contains(n)) {
                offending.push(format!("{function} {}", line.trim()));
            }
        }
        assert!(checked >= 1, "{arch:?}: the handler was not found");
        assert!(
            offending.is_empty(),
            "{arch:?}: PLT calls in the handler:\n{}",
            offending.join("\n")
        );
    }
}
