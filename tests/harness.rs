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

/// The arches to test: x86_64 and i386 (`PTCANCEL_ARCHES=x86_64` restricts the set, e.g. on a
/// machine without the i686 Rust target).
pub fn arches() -> Vec<Arch> {
    let wanted = std::env::var("PTCANCEL_ARCHES").unwrap_or_else(|_| "x86_64,i386".into());
    [(Arch::X86_64, "x86_64"), (Arch::I386, "i386")]
        .into_iter()
        .filter(|(_, name)| wanted.contains(name))
        .map(|(arch, _)| arch)
        .collect()
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
    require_rust_target(arch);
    // The stand-in vDSO of kernel-helpers mode (PTCANCEL_TEST_VDSO) needs the test hook.
    let dir = cargo_build(arch, "artifacts", &["--features", "test-hooks"]);
    let lib: &'static Library = Box::leak(Box::new(Library {
        shared: dir.join("libptcancel.so"),
        archive: dir.join("libptcancel.a"),
    }));
    built.push((arch, lib));
    lib
}

/// `cargo build --release` of the library for `arch` into `target/<target_dir>` (its own, so
/// that it does not wait on the lock of the `cargo test` that runs us); the output directory.
pub fn cargo_build(arch: Arch, target_dir: &str, extra: &[&str]) -> PathBuf {
    let target_dir = root().join("target").join(target_dir);
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
        .args(extra)
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .expect("run cargo build");
    assert!(
        status.success(),
        "cargo build for {} failed",
        arch.rust_target()
    );
    target_dir.join(arch.rust_target()).join("release")
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

/// How the i386 library enters the kernel (`PTCANCEL_I386_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The stand-in vDSO of tests/vdso/fake_vdso.c provides the helpers.
    KernelHelpers,
    EmulatedHelpers,
    Int80,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::KernelHelpers, Mode::EmulatedHelpers, Mode::Int80];
    pub fn env_name(self) -> &'static str {
        match self {
            Mode::KernelHelpers => "kernel-helpers",
            Mode::EmulatedHelpers => "emulated-helpers",
            Mode::Int80 => "int80",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Build {
    pub arch: Arch,
    pub link: Link,
    /// i386 with the library: the syscall mode to force (and check).
    pub mode: Option<Mode>,
}

impl Build {
    pub fn new(arch: Arch, link: Link) -> Build {
        Build {
            arch,
            link,
            mode: None,
        }
    }
    pub fn name(&self) -> String {
        let mode = self
            .mode
            .map(|m| format!("-{}", m.env_name()))
            .unwrap_or_default();
        format!("{:?}-{:?}{mode}", self.arch, self.link).to_lowercase()
    }
    /// Where this build's executables go (the mode does not change the executable).
    fn dir_name(&self) -> String {
        format!("{:?}-{:?}", self.arch, self.link).to_lowercase()
    }
}

/// Every build a C test runs as: reference first, then both link modes on every arch, i386 in
/// each syscall mode.
pub fn builds(with_musl: bool) -> Vec<Build> {
    let mut builds = vec![];
    if with_musl {
        builds.push(Build::new(Arch::X86_64, Link::Musl));
    }
    for arch in arches() {
        for link in [Link::Preload, Link::Static] {
            match arch {
                Arch::X86_64 => builds.push(Build::new(arch, link)),
                Arch::I386 => builds.extend(Mode::ALL.iter().map(|&m| Build {
                    arch,
                    link,
                    mode: Some(m),
                })),
            }
        }
    }
    builds
}

/// The stand-in vDSO for kernel-helpers mode, built once.
pub fn fake_vdso() -> &'static Path {
    static FAKE: OnceLock<PathBuf> = OnceLock::new();
    FAKE.get_or_init(|| build_fake_vdso(0))
}

/// A stand-in vDSO whose helpers break their contract in way `misbehave` (1..=5, see
/// tests/vdso/fake_vdso.c); 0 is the well-behaved one.
pub fn build_fake_vdso(misbehave: u32) -> PathBuf {
    let dir = root().join("tests/vdso");
    let out = scratch().join(format!("fake_vdso{misbehave}.so"));
    std::fs::create_dir_all(scratch()).unwrap();
    require_compiler("gcc", Some(Arch::I386));
    let st = Command::new("gcc")
        .args([
            "-m32",
            "-shared",
            "-fPIC",
            "-O2",
            "-nostdlib",
            "-Wall",
            "-Wextra",
            "-Werror",
        ])
        .arg(format!("-DMISBEHAVE={misbehave}"))
        .arg(format!(
            "-Wl,--version-script={}",
            dir.join("fake_vdso.map").display()
        ))
        .arg(dir.join("fake_vdso.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run gcc");
    assert!(st.success(), "building the stand-in vDSO failed");
    out
}

fn serialize_compiles() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: OnceLock<Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| Mutex::new(()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Stops this test binary with ONE line when a tool the tests need is missing: the package, and
/// the command that installs it (instead of a panic with a backtrace in every test).
pub fn missing_tool(what: &str, package: &str, install: &str) -> ! {
    use std::io::Write;
    // Straight to fd 2: the test harness captures eprintln! output of failing tests.
    let _ = writeln!(
        std::io::stderr(),
        "ptcancel tests: {what} is missing: install {package} (`{install}`), \
         or run `bash tests/run.sh`, which installs everything the tests need"
    );
    std::process::exit(1);
}

/// Checks once per test binary that `compiler` exists and can build and link a threaded
/// program for `arch` (`None`: musl-gcc, which is native only).
pub fn require_compiler(compiler: &str, arch: Option<Arch>) {
    static CHECKED: Mutex<Vec<(String, Option<Arch>)>> = Mutex::new(Vec::new());
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if checked.iter().any(|(c, a)| c == compiler && *a == arch) {
        return;
    }
    let (package, multilib) = match compiler {
        "gcc" => ("gcc", "gcc-multilib"),
        "g++" => ("g++", "g++-multilib"),
        "musl-gcc" => ("musl-tools", "musl-tools"),
        other => (other, other),
    };
    let apt = |p: &str| format!("apt-get install -y {p}");
    if Command::new(compiler).arg("--version").output().is_err() {
        missing_tool(compiler, package, &apt(package));
    }
    std::fs::create_dir_all(scratch()).unwrap();
    let probe = scratch().join(format!(
        "probe-{compiler}-{}",
        arch.map(|a| a.gcc_flag()).unwrap_or("musl")
    ));
    let mut cmd = Command::new(compiler);
    cmd.args([
        "-pthread",
        "-x",
        if compiler == "g++" { "c++" } else { "c" },
        "-",
        "-o",
    ])
    .arg(&probe);
    if let Some(arch) = arch {
        cmd.arg(arch.gcc_flag());
    }
    let linked = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let source =
                b"#include <pthread.h>\n#include <stdio.h>\nint main(void) { return 0; }\n";
            child.stdin.take().unwrap().write_all(source)?;
            child.wait()
        })
        .is_ok_and(|st| st.success());
    if !linked {
        let what = format!("{compiler} {}", arch.map(|a| a.gcc_flag()).unwrap_or(""));
        match arch {
            Some(Arch::I386) => missing_tool(&what, multilib, &apt(multilib)),
            _ => missing_tool(&what, "libc6-dev", &apt("libc6-dev")),
        }
    }
    checked.push((compiler.to_owned(), arch));
}

/// Checks that the Rust standard library for `arch` is installed (rustup's i686 target).
fn require_rust_target(arch: Arch) {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let lib = Path::new(&sysroot)
        .join("lib/rustlib")
        .join(arch.rust_target());
    if !lib.exists() {
        let target = arch.rust_target();
        missing_tool(
            &format!("the Rust target {target}"),
            target,
            &format!("rustup target add {target}"),
        );
    }
}

/// Compiles `source` (relative to the repo root) for `build`, with extra compiler flags.
pub fn compile(source: &str, build: Build, extra: &[&str]) -> PathBuf {
    let src = root().join(source);
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let out_dir = scratch().join(build.dir_name());
    std::fs::create_dir_all(&out_dir).unwrap();
    // Different flags, different executable: tests run in parallel.
    let flags: String = extra
        .concat()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let exe = out_dir.join(if flags.is_empty() {
        stem.clone()
    } else {
        format!("{stem}-{flags}")
    });
    let cxx = source.ends_with(".cpp");
    let compiler = match (build.link, cxx) {
        (Link::Musl, false) => "musl-gcc",
        (Link::Musl, true) => panic!("no musl C++ compiler: {source}"),
        (_, false) => "gcc",
        (_, true) => "g++",
    };
    require_compiler(compiler, (build.link != Link::Musl).then_some(build.arch));
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

/// Runs a compiled program the way `build` needs (LD_PRELOAD, i386 mode), killing it after
/// `limit_secs`. For a forced i386 mode, fails unless the library really used that mode.
pub fn run(exe: &Path, build: Build, args: &[&str], limit_secs: u32) -> Outcome {
    run_env(exe, build, args, &[], limit_secs)
}

/// [`run`] with extra environment variables (set last, so they override the build's).
pub fn run_env(
    exe: &Path,
    build: Build,
    args: &[&str],
    env: &[(&str, &Path)],
    limit_secs: u32,
) -> Outcome {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_remove("LD_PRELOAD")
        .env_remove("PTCANCEL_I386_MODE")
        .env_remove("PTCANCEL_TEST_VDSO");
    if build.link == Link::Preload {
        cmd.env("LD_PRELOAD", &library(build.arch).shared);
    }
    if let Some(mode) = build.mode {
        cmd.env("PTCANCEL_I386_MODE", mode.env_name())
            .env("PTCANCEL_DEBUG", "1");
        if mode == Mode::KernelHelpers {
            cmd.env("PTCANCEL_TEST_VDSO", fake_vdso());
        }
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = output_with_limit(cmd, limit_secs);
    if let (Some(mode), Some(0)) = (build.mode, out.code) {
        let used = format!("i386 syscall mode {}", mode.env_name());
        assert!(
            out.stderr.contains(&used),
            "{} [{}]: the library did not run in {} mode:\n{}",
            exe.display(),
            build.name(),
            mode.env_name(),
            out.stderr
        );
    }
    out
}

/// Whether this machine's vDSO has a layout the library verifies (else emulated-helpers mode
/// cannot be forced, and its runs are skipped with a message).
pub fn emulated_mode_possible() -> bool {
    static POSSIBLE: OnceLock<bool> = OnceLock::new();
    *POSSIBLE.get_or_init(|| {
        let build = Build { arch: Arch::I386, link: Link::Preload, mode: None };
        let exe = compile("tests/vdso/print_mode.c", build, &["-ldl"]);
        let mut cmd = Command::new(exe);
        cmd.env("LD_PRELOAD", &library(Arch::I386).shared).env_remove("PTCANCEL_TEST_VDSO").env_remove("PTCANCEL_I386_MODE");
        let out = output_with_limit(cmd, 30);
        let mode = out.stdout.trim().to_owned();
        if mode != "emulated-helpers" {
            eprintln!("NOTE: this kernel's vDSO is not a verified layout (auto mode: {mode}): emulated-helpers runs skipped");
        }
        mode == "emulated-helpers"
    })
}

fn output_with_limit(mut cmd: Command, limit_secs: u32) -> Outcome {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn test program");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(limit_secs.into());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut stderr = err_reader.join().unwrap();
    if status.is_none() {
        stderr += &format!("\n[killed after {limit_secs} s]\n");
    }
    Outcome {
        code: status.and_then(|s| s.code()),
        stdout: out_reader.join().unwrap(),
        stderr,
    }
}

/// What a program's output is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Real musl (`musl-gcc -static`), for musl's cancellation semantics.
    Musl,
    /// Plain glibc without the library, for what glibc's own unwinding does (cleanup
    /// attributes, C++ destructors, glibc-only macros) and musl cannot run.
    Glibc,
}

/// Builds and runs `source` as the reference and then in every ptcancel build; each must exit
/// 0 and print exactly what the reference printed, which must also equal `expected` (the
/// checked-in reference output) when given. Returns the reference output.
pub fn check_agree(
    source: &str,
    extra: &[&str],
    reference: Reference,
    expected: Option<&str>,
) -> String {
    check_agree_with(source, extra, reference, expected, None)
}

/// [`check_agree`], where ptcancel deliberately differs from the reference on some lines
/// (documented in tests/c/README.md): the ptcancel builds must then print `ptcancel_expected`.
pub fn check_agree_with(
    source: &str,
    extra: &[&str],
    reference: Reference,
    expected: Option<&str>,
    ptcancel_expected: Option<&str>,
) -> String {
    let first = match reference {
        Reference::Musl => Build::new(Arch::X86_64, Link::Musl),
        Reference::Glibc => Build::new(Arch::X86_64, Link::Glibc),
    };
    let mut all = vec![first];
    all.extend(builds(false));
    let mut reference_out: Option<(String, String)> = None;
    let mut failures = vec![];
    for build in runnable(all) {
        let exe = compile(source, build, extra);
        let out = run(&exe, build, &[], 60);
        // A program checks itself against the reference's behaviour (exit 1 on a mismatch);
        // where ptcancel deliberately deviates, its exact output is what is checked instead.
        let deviating = ptcancel_expected.is_some() && reference_out.is_some();
        if out.code != Some(0) && !(deviating && out.code == Some(1)) {
            failures.push(describe(source, build, &out));
            continue;
        }
        assert!(
            !out.stdout.trim().is_empty(),
            "{source} [{}] printed nothing",
            build.name()
        );
        match &reference_out {
            None => {
                if let Some(path) = expected {
                    let want = std::fs::read_to_string(root().join(path)).unwrap();
                    assert!(
                        want == out.stdout,
                        "{source}: the reference [{}] no longer prints {path}:\n{}",
                        build.name(),
                        diff(&want, &out.stdout)
                    );
                }
                reference_out = Some(match ptcancel_expected {
                    Some(path) => (
                        path.to_owned(),
                        std::fs::read_to_string(root().join(path)).unwrap(),
                    ),
                    None => (build.name(), out.stdout),
                })
            }
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
    reference_out.map(|(_, out)| out).unwrap_or_default()
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

/// Builds and runs `source` (with `args`) with ptcancel only, in every build, for programs
/// that check glibc-specific behaviour musl cannot run. Each must exit 0.
pub fn check_ptcancel_builds(source: &str, extra: &[&str], args: &[&str]) {
    let failures: Vec<String> = runnable(builds(false))
        .filter_map(|build| {
            let out = run(&compile(source, build, extra), build, args, 60);
            (out.code != Some(0)).then(|| describe(source, build, &out))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The builds that can run here: emulated-helpers mode needs a vDSO layout the library knows.
pub fn runnable(builds: Vec<Build>) -> impl Iterator<Item = Build> {
    builds
        .into_iter()
        .filter(|b| b.mode != Some(Mode::EmulatedHelpers) || emulated_mode_possible())
}

/// A failed run, for the assertion message.
pub fn describe(source: &str, build: Build, out: &Outcome) -> String {
    format!(
        "{source} [{}] exited {:?}\n--- stdout\n{}--- stderr\n{}",
        build.name(),
        out.code,
        out.stdout,
        out.stderr
    )
}

// ---------------------------------------------------------------------------------------------
// Other glibc releases (tests/glibcs.rs): a C program built against a Debian release's glibc,
// unpacked by tests/glibcs/fetch.sh into target/glibcs/<release>-<arch>/, and run with that
// release's dynamic loader.

/// A Debian release whose glibc the tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Glibc {
    /// The Debian code name, as tests/glibcs/fetch.sh names the sysroot.
    pub release: &'static str,
    /// The glibc version that release ships.
    pub version: &'static str,
}

impl Glibc {
    pub const BULLSEYE: Glibc = Glibc {
        release: "bullseye",
        version: "2.31",
    };
    pub const TRIXIE: Glibc = Glibc {
        release: "trixie",
        version: "2.41",
    };
    pub const FORKY: Glibc = Glibc {
        release: "forky",
        version: "2.43",
    };
    /// Every release fetch.sh knows (bookworm, 2.36, is the host the rest of the suite uses).
    pub const ALL: [Glibc; 3] = [Glibc::BULLSEYE, Glibc::TRIXIE, Glibc::FORKY];
    /// The oldest and the newest: what every `cargo test` runs.
    pub const DEFAULT: [Glibc; 2] = [Glibc::BULLSEYE, Glibc::FORKY];

    pub fn name(&self) -> String {
        format!("glibc-{}", self.version)
    }
}

/// The releases to test: bullseye (2.31) and forky (2.43); `PTCANCEL_GLIBCS=all` adds trixie
/// (2.41); `PTCANCEL_GLIBCS=trixie,2.31` (code names or versions) picks a set.
pub fn glibcs() -> Vec<Glibc> {
    let wanted = std::env::var("PTCANCEL_GLIBCS").unwrap_or_default();
    match wanted.trim() {
        "" => Glibc::DEFAULT.to_vec(),
        "all" => Glibc::ALL.to_vec(),
        list => Glibc::ALL
            .into_iter()
            .filter(|g| {
                list.split(',')
                    .map(str::trim)
                    .any(|w| w == g.release || w == g.version)
            })
            .collect(),
    }
}

/// One release's glibc for one arch, unpacked.
#[derive(Clone, Debug)]
pub struct Sysroot {
    pub glibc: Glibc,
    pub arch: Arch,
    pub dir: PathBuf,
}

impl Sysroot {
    pub fn triplet(&self) -> &'static str {
        match self.arch {
            Arch::X86_64 => "x86_64-linux-gnu",
            Arch::I386 => "i386-linux-gnu",
        }
    }
    fn debian_arch(arch: Arch) -> &'static str {
        match arch {
            Arch::X86_64 => "amd64",
            Arch::I386 => "i386",
        }
    }
    /// The release's dynamic loader, which runs the programs built against it.
    pub fn loader(&self) -> PathBuf {
        let name = match self.arch {
            Arch::X86_64 => "ld-linux-x86-64.so.2",
            Arch::I386 => "ld-linux.so.2",
        };
        self.dir.join("lib").join(self.triplet()).join(name)
    }
    /// The loader's `--library-path`: the release's libc, libpthread, libgcc_s...
    pub fn library_path(&self) -> String {
        format!(
            "{}:{}",
            self.dir.join("lib").join(self.triplet()).display(),
            self.dir.join("usr/lib").join(self.triplet()).display()
        )
    }
    /// The glibc version fetch.sh unpacked (libc6's upstream version, e.g. `2.43`).
    pub fn unpacked_version(&self) -> String {
        std::fs::read_to_string(self.dir.join("glibc-version"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    }
    pub fn name(&self) -> String {
        format!("{}-{:?}", self.glibc.name(), self.arch).to_lowercase()
    }
}

/// The sysroot of `glibc` for `arch`. When it has not been fetched, stops this test binary with
/// ONE line saying how to fetch it (fetch.sh writes `glibc-version` last, so a sysroot that has
/// it is complete).
pub fn sysroot(glibc: Glibc, arch: Arch) -> Sysroot {
    let dir = root().join("target/glibcs").join(format!(
        "{}-{}",
        glibc.release,
        Sysroot::debian_arch(arch)
    ));
    if !dir.join("glibc-version").is_file() {
        use std::io::Write;
        // One line even when several tests find it missing at once: the first one exits while
        // holding the lock.
        static ONCE: Mutex<()> = Mutex::new(());
        let _held = ONCE.lock().unwrap_or_else(|e| e.into_inner());
        let command = if Glibc::DEFAULT.contains(&glibc) {
            "bash tests/glibcs/fetch.sh"
        } else {
            "bash tests/glibcs/fetch.sh all"
        };
        let _ = writeln!(
            std::io::stderr(),
            "ptcancel tests: the glibc {} sysroot target/glibcs/{}-{} is missing: fetch it with `{command}` (once)",
            glibc.version,
            glibc.release,
            Sysroot::debian_arch(arch)
        );
        std::process::exit(1);
    }
    Sysroot { glibc, arch, dir }
}

/// Compiles `source` (relative to the repo root) for `build` against `sysroot`'s headers and
/// libraries, with extra compiler flags: `Link::Glibc` plain, `Link::Preload` plain too (the
/// library comes with [`run_on`]), `Link::Static` as ptcancel.pc links it (libptcancel.a
/// ahead of that libc, then `-lpthread -ldl -lrt`), `-l` flags in `extra` after the source. The
/// host gcc needs `-B DIR/usr/lib/` and `-L DIR/usr/lib/<triplet>` besides `--sysroot`, or its
/// own crt files and libraries win.
/// An executable is built once per test binary (the i386 modes share it).
pub fn compile_for(sysroot: &Sysroot, source: &str, build: Build, extra: &[&str]) -> PathBuf {
    static BUILT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    assert_eq!(
        sysroot.arch,
        build.arch,
        "{source}: a {:?} build against {}",
        build.arch,
        sysroot.name()
    );
    assert!(
        !source.ends_with(".cpp") && build.link != Link::Musl,
        "{source} ({}): only C programs with glibc builds run against another glibc",
        build.name()
    );
    let src = root().join(source);
    let stem = src.file_stem().unwrap().to_string_lossy().into_owned();
    let out_dir = scratch()
        .join(format!(
            "{}-{}",
            sysroot.glibc.release, sysroot.glibc.version
        ))
        .join(build.dir_name());
    std::fs::create_dir_all(&out_dir).unwrap();
    let flags: String = extra
        .concat()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let exe = out_dir.join(if flags.is_empty() {
        stem
    } else {
        format!("{stem}-{flags}")
    });
    require_compiler("gcc", Some(build.arch));
    let archive = (build.link == Link::Static).then(|| &library(build.arch).archive);
    let _guard = serialize_compiles();
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if built.contains(&exe) {
        return exe;
    }
    let libdir = sysroot.dir.join("usr/lib").join(sysroot.triplet());
    let mut cmd = Command::new("gcc");
    cmd.args(["-O2", "-g", "-pthread", "-Wall", "-Wextra", "-Werror"])
        .arg(build.arch.gcc_flag())
        .arg(format!("--sysroot={}", sysroot.dir.display()))
        // -B DIR/usr/lib/ (not DIR/usr/lib/<triplet>): with -m32 gcc looks under the -B prefix
        // for <triplet>/ and 32/ only, before the host's lib32, whose Scrt1.o (2.36's) leaves
        // .init_array to libc, which 2.31's libc does not run: constructors never ran.
        .arg(format!("-B{}/", sysroot.dir.join("usr/lib").display()))
        .arg("-L")
        .arg(&libdir)
        .arg(format!("-I{}", root().join("include").display()))
        .args(extra.iter().filter(|f| !f.starts_with("-l")))
        .arg(&src);
    if let Some(archive) = archive {
        // ptcancel.pc's link line: the archive ahead of libc (the program's references to
        // read(), pthread_cancel()... bind there), then the libraries that before glibc 2.34
        // hold what the archive binds at the old versions (dlsym, aio_error, ...).
        cmd.arg(archive).args(["-lpthread", "-ldl", "-lrt"]);
    }
    // Libraries after the objects that need them (before 2.34 dlsym is in libdl).
    cmd.args(extra.iter().filter(|f| f.starts_with("-l")));
    cmd.arg("-o").arg(&exe);
    let out = cmd.output().unwrap_or_else(|e| panic!("run gcc: {e}"));
    assert!(
        out.status.success(),
        "gcc {source} ({} against {}) failed:\n{}",
        build.name(),
        sysroot.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    built.push(exe.clone());
    exe
}

/// Runs `exe` (built by [`compile_for`]) with `sysroot`'s dynamic loader and libraries only
/// (`--library-path`, `--inhibit-cache`: nothing from the host's ld.so.cache), the way `build`
/// needs: `LD_PRELOAD=libptcancel.so`, the i386 mode (checked as [`run_env`] checks it).
pub fn run_on(
    sysroot: &Sysroot,
    exe: &Path,
    build: Build,
    args: &[&str],
    limit_secs: u32,
) -> Outcome {
    let library_path = sysroot.library_path();
    let exe = exe.to_string_lossy();
    let mut loader_args = vec!["--inhibit-cache", "--library-path", &library_path, &exe];
    loader_args.extend_from_slice(args);
    run_env(&sysroot.loader(), build, &loader_args, &[], limit_secs)
}

/// The lines that differ between `reference` and `other`, marked `-` and `+`.
pub fn line_diff(reference: &str, other: &str) -> String {
    diff(reference, other)
}

/// The crate's version (Cargo.toml's `version`), which `ptcancel_version()` returns.
pub fn crate_version() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_owned()
}
