//! Builds the library and C test programs, runs them every way the library is used, and
//! compares each run with the reference (the same program built against real musl).
//!
//! Builds of a program: glibc + `LD_PRELOAD=libptcancel.so`, glibc + static link of
//! `libptcancel.a`, on every arch the toolchain supports, and `musl-gcc -static` (the reference
//! for behaviour; x86_64 only, as Debian ships musl for the native arch only).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scratch() -> PathBuf {
    root().join("target").join("ctests")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    I386,
}

impl Arch {
    pub fn rust_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::I386 => "i686-unknown-linux-gnu",
        }
    }
    fn gcc_flag(self) -> &'static str {
        match self {
            Arch::X86_64 => "-m64",
            Arch::I386 => "-m32",
        }
    }
}

/// The arches to test: x86_64 always; i386 when the crate has an i386 backend and the Rust
/// target is installed (`PTCANCEL_ARCHES=x86_64` restricts the set).
pub fn arches() -> Vec<Arch> {
    let wanted = std::env::var("PTCANCEL_ARCHES").unwrap_or_else(|_| "x86_64,i386".into());
    let mut arches = vec![];
    if wanted.contains("x86_64") {
        arches.push(Arch::X86_64);
    }
    if wanted.contains("i386") && i386_backend_exists() {
        arches.push(Arch::I386);
    }
    arches
}

fn i386_backend_exists() -> bool {
    let src = std::fs::read_to_string(root().join("arch/i386/mod.rs")).unwrap_or_default();
    !src.contains("compile_error!")
}

/// The built library of one arch.
pub struct Library {
    pub shared: PathBuf,
    pub archive: PathBuf,
}

static LIBRARIES: Mutex<Vec<(Arch, &'static Library)>> = Mutex::new(Vec::new());

/// Builds (once per test binary) the release library for `arch` into its own target dir, so it
/// does not wait on the lock of the `cargo test` that runs us.
pub fn library(arch: Arch) -> &'static Library {
    let mut built = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, lib)) = built.iter().find(|(a, _)| *a == arch) {
        return lib;
    }
    let target_dir = root().join("target").join("artifacts");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args([
            "build",
            "--release",
            "-p",
            "ptcancel",
            "--target",
            arch.rust_target(),
        ])
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .expect("run cargo build");
    assert!(
        status.success(),
        "cargo build for {} failed",
        arch.rust_target()
    );
    let dir = target_dir.join(arch.rust_target()).join("release");
    let lib: &'static Library = Box::leak(Box::new(Library {
        shared: dir.join("libptcancel.so"),
        archive: dir.join("libptcancel.a"),
    }));
    built.push((arch, lib));
    lib
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// glibc, library loaded with LD_PRELOAD.
    Preload,
    /// glibc, libptcancel.a linked ahead of libc.
    Static,
    /// glibc alone: what the library fixes (used by the demo, never as a reference).
    Glibc,
    /// `musl-gcc -static`: the reference.
    Musl,
}

#[derive(Clone, Copy, Debug)]
pub struct Build {
    pub arch: Arch,
    pub link: Link,
}

impl Build {
    pub fn name(&self) -> String {
        format!("{:?}-{:?}", self.arch, self.link).to_lowercase()
    }
}

/// Every build a C test runs as: reference first.
pub fn builds(with_musl: bool) -> Vec<Build> {
    let mut builds = vec![];
    if with_musl {
        builds.push(Build {
            arch: Arch::X86_64,
            link: Link::Musl,
        });
    }
    for arch in arches() {
        builds.push(Build {
            arch,
            link: Link::Preload,
        });
        builds.push(Build {
            arch,
            link: Link::Static,
        });
    }
    builds
}

fn serialize_compiles() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| Mutex::new(()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Compiles `source` (relative to the repo root) for `build`, with extra compiler flags.
pub fn compile(source: &str, build: Build, extra: &[&str]) -> PathBuf {
    let src = root().join(source);
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let out_dir = scratch().join(build.name());
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(&stem);
    let cxx = source.ends_with(".cpp");
    let compiler = match (build.link, cxx) {
        (Link::Musl, false) => "musl-gcc",
        (Link::Musl, true) => panic!("no musl C++ compiler: {source}"),
        (_, false) => "gcc",
        (_, true) => "g++",
    };
    let mut cmd = Command::new(compiler);
    cmd.args(["-O2", "-g", "-pthread", "-Wall", "-Wextra", "-Werror"]);
    cmd.arg(format!("-I{}", root().join("include").display()));
    cmd.args(extra);
    if build.link == Link::Musl {
        cmd.arg("-static");
    } else {
        cmd.arg(build.arch.gcc_flag());
    }
    cmd.arg(&src);
    if build.link == Link::Static {
        // Ahead of libc: the program's references to read(), pthread_cancel()... bind here.
        cmd.arg(&library(build.arch).archive);
    }
    cmd.arg("-o").arg(&exe);
    let _guard = serialize_compiles();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {source} ({}) failed:\n{}",
        build.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a compiled program the way `build` needs (LD_PRELOAD for Preload), with a time limit.
pub fn run(exe: &Path, build: Build, args: &[&str], limit_secs: u32) -> Outcome {
    let mut cmd = Command::new("timeout");
    cmd.args(["-s", "KILL", &limit_secs.to_string()])
        .arg(exe)
        .args(args);
    cmd.env_remove("LD_PRELOAD");
    if build.link == Link::Preload {
        cmd.env("LD_PRELOAD", &library(build.arch).shared);
    }
    let out = cmd.output().expect("run test program");
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Builds and runs `source` in every build; each must exit 0 and print exactly what the first
/// (musl, when `with_musl`) printed. Returns the reference output.
pub fn check_agree(source: &str, extra: &[&str], with_musl: bool) -> String {
    let mut reference: Option<(String, String)> = None;
    let mut failures = vec![];
    for build in builds(with_musl) {
        let exe = compile(source, build, extra);
        let out = run(&exe, build, &[], 60);
        if out.code != Some(0) {
            failures.push(format!(
                "{source} [{}] exited {:?}\n--- stdout\n{}--- stderr\n{}",
                build.name(),
                out.code,
                out.stdout,
                out.stderr
            ));
            continue;
        }
        assert!(
            !out.stdout.trim().is_empty(),
            "{source} [{}] printed nothing",
            build.name()
        );
        match &reference {
            None => reference = Some((build.name(), out.stdout)),
            Some((ref_name, ref_out)) => {
                if *ref_out != out.stdout {
                    failures.push(format!(
                        "{source}: [{}] disagrees with [{ref_name}]\n{}",
                        build.name(),
                        diff(ref_out, &out.stdout)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    reference.map(|(_, out)| out).unwrap_or_default()
}

/// The lines that differ, marked `-` (reference) and `+` (this build).
fn diff(reference: &str, other: &str) -> String {
    let a: Vec<_> = reference.lines().collect();
    let b: Vec<_> = other.lines().collect();
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            if let Some(x) = x {
                out += &format!("- {x}\n");
            }
            if let Some(y) = y {
                out += &format!("+ {y}\n");
            }
        }
    }
    out
}

/// Builds and runs `source` with ptcancel only (preload and static, every arch), for programs
/// that check glibc-specific behaviour musl cannot run. Each must exit 0.
pub fn check_ptcancel_builds(source: &str, extra: &[&str]) {
    let mut failures = vec![];
    for build in builds(false) {
        let exe = compile(source, build, extra);
        let out = run(&exe, build, &[], 60);
        if out.code != Some(0) {
            failures.push(format!(
                "{source} [{}] exited {:?}\n--- stdout\n{}--- stderr\n{}",
                build.name(),
                out.code,
                out.stdout,
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
