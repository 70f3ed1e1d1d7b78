//! What a newcomer meets: `make install` / `make uninstall` (layout, soname, DESTDIR), the
//! installed pkg-config files (both link lines, as they are), the `ptcancel` launcher (every
//! case it handles), and the one-line message of a test whose tool is missing.

mod harness;

use harness::{Arch, Build, Link, arches, crate_version, missing_tool, require_compiler, root};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

fn scratch() -> PathBuf {
    root().join("target/install-tests")
}

fn multiarch(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "x86_64-linux-gnu",
        Arch::I386 => "i386-linux-gnu",
    }
}

fn gcc_flag(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "-m64",
        Arch::I386 => "-m32",
    }
}

/// Checks once that a command-line tool exists (one line naming its package otherwise).
fn require_tool(tool: &str, package: &str) {
    if Command::new(tool).arg("--version").output().is_err() {
        missing_tool(tool, package, &format!("apt-get install -y {package}"));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `make -s ARGS` in the repository. One make at a time: installs share target/make.
fn make(args: &[&str]) -> Output {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    require_tool("make", "make");
    Command::new("make")
        .current_dir(root())
        .arg("-s")
        .args(args)
        .arg("LDCONFIG=:")
        .output()
        .expect("run make")
}

fn make_ok(args: &[&str]) -> Output {
    let out = make(args);
    assert!(
        out.status.success(),
        "make {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// A fresh `make install PREFIX=…` (no DESTDIR) with the given ARCHES, made once per test binary.
fn install(name: &str, archs: &str) -> PathBuf {
    if archs.contains("i386") {
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .map(|o| text(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let target = "i686-unknown-linux-gnu";
        if !Path::new(&sysroot)
            .join("lib/rustlib")
            .join(target)
            .exists()
        {
            missing_tool(
                &format!("the Rust target {target}"),
                target,
                &format!("rustup target add {target}"),
            );
        }
    }
    let prefix = scratch().join(name);
    let _ = std::fs::remove_dir_all(&prefix);
    let prefix_arg = format!("PREFIX={}", prefix.display());
    make_ok(&["install", &prefix_arg, &format!("ARCHES={archs}")]);
    prefix
}

/// Both arches installed under target/install-tests/prefix.
fn installed() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let names: Vec<_> = arches()
            .iter()
            .map(|a| match a {
                Arch::X86_64 => "x86_64",
                Arch::I386 => "i386",
            })
            .collect();
        install("prefix", &names.join(" "))
    })
}

/// Only the x86_64 library installed: what a machine without the i686 Rust target gets.
fn installed_64_only() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| install("prefix-x86_64-only", "x86_64"))
}

/// Every path under `dir` (relative), with its kind and, for a symbolic link, its target.
fn tree(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.insert(format!("{rel} -> {}", target.display()));
            } else if meta.is_dir() {
                out.insert(format!("{rel}/"));
                walk(base, &path, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

fn readelf_dynamic(file: &Path) -> String {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(file)
        .output()
        .expect("run readelf");
    assert!(out.status.success(), "readelf -d {}", file.display());
    text(&out.stdout)
}

/// `make install DESTDIR=…` puts exactly the documented files in place (the .so with its
/// soname, its two links, the archive and a .pc per arch, the header, the launcher, the
/// manifest), and `make uninstall` takes exactly those away again: the staging tree, which held
/// an unrelated file in a shared directory beforehand, is as it was.
#[test]
fn make_install_and_uninstall_with_destdir() {
    let stage = scratch().join("stage");
    let _ = std::fs::remove_dir_all(&stage);
    let shared = stage.join("usr/local/lib/x86_64-linux-gnu/pkgconfig");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("someone-else.pc"), "Name: x\n").unwrap();
    let before = tree(&stage);
    let destdir = format!("DESTDIR={}", stage.display());
    make_ok(&["install", &destdir]);

    let v = crate_version();
    let mut want: BTreeSet<String> = before.clone();
    let mut dirs = vec![
        "usr/local/bin",
        "usr/local/include",
        "usr/local/lib/i386-linux-gnu",
        "usr/local/lib/i386-linux-gnu/pkgconfig",
        "usr/local/share",
        "usr/local/share/ptcancel",
    ];
    dirs.sort();
    want.extend(dirs.iter().map(|d| format!("{d}/")));
    want.extend(
        [
            "usr/local/bin/ptcancel",
            "usr/local/include/ptcancel.h",
            "usr/local/share/ptcancel/installed-files",
        ]
        .map(String::from),
    );
    for arch in [Arch::X86_64, Arch::I386] {
        let lib = format!("usr/local/lib/{}", multiarch(arch));
        want.insert(format!("{lib}/libptcancel.so.{v}"));
        want.insert(format!("{lib}/libptcancel.so.0 -> libptcancel.so.{v}"));
        want.insert(format!("{lib}/libptcancel.so -> libptcancel.so.0"));
        want.insert(format!("{lib}/libptcancel.a"));
        want.insert(format!("{lib}/pkgconfig/ptcancel.pc"));
    }
    let after = tree(&stage);
    let extra: Vec<_> = after.difference(&want).collect();
    let missing: Vec<_> = want.difference(&after).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "make install: unexpected {extra:?}, missing {missing:?}"
    );

    for arch in [Arch::X86_64, Arch::I386] {
        let so = stage.join(format!(
            "usr/local/lib/{}/libptcancel.so.{v}",
            multiarch(arch)
        ));
        let dynamic = readelf_dynamic(&so);
        assert!(
            dynamic.contains("Library soname: [libptcancel.so.0]"),
            "{arch:?}: no soname libptcancel.so.0:\n{dynamic}"
        );
        let header = std::fs::read(&so).unwrap();
        let class = if arch == Arch::X86_64 { 2 } else { 1 };
        assert_eq!(
            header[4],
            class,
            "{arch:?}: {} has the wrong ELF class",
            so.display()
        );
    }
    let launcher = std::fs::read_to_string(stage.join("usr/local/bin/ptcancel")).unwrap();
    assert!(
        launcher.contains("libdir_i386='/usr/local/lib/i386-linux-gnu'")
            && !["@VERSION@", "@SONAME@", "@LIBDIR_"]
                .iter()
                .any(|p| launcher.contains(p)),
        "the installed launcher does not name the install paths (DESTDIR left out)"
    );

    make_ok(&["uninstall", &destdir]);
    let left = tree(&stage);
    assert!(
        left == before,
        "make uninstall left {:?} and removed {:?}",
        left.difference(&before).collect::<Vec<_>>(),
        before.difference(&left).collect::<Vec<_>>()
    );
    // Nothing installed any more: one line, and a failure.
    let again = make(&["uninstall", &destdir]);
    assert!(!again.status.success());
    let lines: Vec<_> = text(&again.stderr)
        .lines()
        .filter(|l| !l.starts_with("make: ***"))
        .map(str::to_owned)
        .collect();
    assert!(
        lines.len() == 1 && lines[0].contains("nothing to uninstall"),
        "second uninstall: {lines:?}"
    );
}

/// Runs `pkg-config ARGS ptcancel` against one arch's installed .pc file only.
fn pkg_config(prefix: &Path, arch: Arch, args: &[&str]) -> Vec<String> {
    require_tool("pkg-config", "pkg-config");
    let dir = prefix.join("lib").join(multiarch(arch)).join("pkgconfig");
    let out = Command::new("pkg-config")
        .env("PKG_CONFIG_LIBDIR", &dir)
        .env_remove("PKG_CONFIG_PATH")
        .args(args)
        .arg("ptcancel")
        .output()
        .expect("run pkg-config");
    assert!(
        out.status.success(),
        "pkg-config {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn gcc(arch: Arch, args: &[String]) {
    require_compiler("gcc", Some(arch));
    let out = Command::new("gcc")
        .arg(gcc_flag(arch))
        .args(args)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {} {args:?}:\n{}",
        gcc_flag(arch),
        text(&out.stderr)
    );
}

/// The example examples/masked_read.c, built with exactly what `pkg-config --cflags --libs` and
/// `pkg-config --cflags --static --libs` print: both link the installed archive into the
/// program (no libptcancel.so needed, ptcancel's symbols defined in the program), which runs
/// and gets musl's MASKED behaviour. A dynamic link (-lptcancel) records the soname.
#[test]
fn pkg_config_link_lines_work_as_is() {
    let prefix = installed();
    let v = crate_version();
    for arch in arches() {
        let libdir = prefix.join("lib").join(multiarch(arch));
        for static_flag in [false, true] {
            let mut args = vec!["--cflags"];
            if static_flag {
                args.push("--static");
            }
            args.push("--libs");
            let flags = pkg_config(prefix, arch, &args);
            let exe = scratch().join(format!("masked_read-{arch:?}-{static_flag}"));
            let mut cmd = vec![
                "-O2".to_owned(),
                "-Wall".into(),
                "-Wextra".into(),
                "-Werror".into(),
            ];
            cmd.push(root().join("examples/masked_read.c").display().to_string());
            cmd.extend(flags.iter().cloned());
            cmd.extend(["-o".into(), exe.display().to_string()]);
            gcc(arch, &cmd);
            let dynamic = readelf_dynamic(&exe);
            assert!(
                !dynamic.contains("libptcancel"),
                "{arch:?} pkg-config {args:?} ({flags:?}) linked the shared library:\n{dynamic}"
            );
            let nm = Command::new("nm").arg(&exe).output().expect("run nm");
            assert!(
                text(&nm.stdout)
                    .lines()
                    .any(|l| l.ends_with(" T pthread_cancel")),
                "{arch:?} pkg-config {args:?}: pthread_cancel is not ptcancel's, in the program"
            );
            let out = Command::new(&exe)
                .env_remove("LD_PRELOAD")
                .output()
                .unwrap();
            let stdout = text(&out.stdout);
            assert!(
                out.status.success()
                    && stdout.starts_with(&format!("ptcancel {v}, syscall mode "))
                    && stdout.ends_with(
                        "read() failed with ECANCELED; the worker closed its pipe and returned\n"
                    ),
                "{arch:?} pkg-config {args:?}: {:?}\n{stdout}{}",
                out.status,
                text(&out.stderr)
            );
        }
        // The shared library through its soname, found through the rpath.
        let exe = scratch().join(format!("masked_read-{arch:?}-dynamic"));
        let mut cmd: Vec<String> = pkg_config(prefix, arch, &["--cflags"]);
        cmd.push(root().join("examples/masked_read.c").display().to_string());
        cmd.push(format!("-L{}", libdir.display()));
        cmd.push("-lptcancel".into());
        cmd.push(format!("-Wl,-rpath,{}", libdir.display()));
        cmd.extend(["-o".into(), exe.display().to_string()]);
        gcc(arch, &cmd);
        let dynamic = readelf_dynamic(&exe);
        assert!(
            dynamic.contains("Shared library: [libptcancel.so.0]"),
            "{arch:?}: -lptcancel does not record the soname:\n{dynamic}"
        );
        let out = Command::new(&exe)
            .env_remove("LD_PRELOAD")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{arch:?} -lptcancel: {}",
            text(&out.stdout)
        );
        // The variable the .pc offers for LD_PRELOAD names the installed soname.
        let preload = pkg_config(prefix, arch, &["--variable=preload"]);
        assert_eq!(
            preload,
            [libdir.join("libptcancel.so.0").display().to_string()]
        );
    }
}

/// The launcher's test programs, built once: probe (64- and 32-bit), a marker library, a static
/// program.
struct Programs {
    probe64: PathBuf,
    probe32: PathBuf,
    marker: PathBuf,
    static64: PathBuf,
}

fn programs() -> &'static Programs {
    static PROGRAMS: OnceLock<Programs> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        let dir = scratch().join("programs");
        std::fs::create_dir_all(&dir).unwrap();
        let src = |name: &str| {
            root()
                .join("tests/install")
                .join(name)
                .display()
                .to_string()
        };
        let out = |name: &str| dir.join(name);
        let build = |arch: Arch, source: &str, exe: &Path, extra: &[&str]| {
            let mut args = vec!["-O2".to_owned(), "-Wall".into(), "-Werror".into()];
            args.extend(extra.iter().map(|s| s.to_string()));
            args.extend([src(source), "-o".into(), exe.display().to_string()]);
            gcc(arch, &args);
        };
        let p = Programs {
            probe64: out("probe64"),
            probe32: out("probe32"),
            marker: out("marker.so"),
            static64: out("static64"),
        };
        build(Arch::X86_64, "probe.c", &p.probe64, &["-ldl"]);
        if arches().contains(&Arch::I386) {
            build(Arch::I386, "probe.c", &p.probe32, &["-ldl"]);
        }
        build(Arch::X86_64, "marker.c", &p.marker, &["-shared", "-fPIC"]);
        build(Arch::X86_64, "static.c", &p.static64, &["-static"]);
        p
    })
}

/// Runs the installed launcher with `args`, LD_PRELOAD set to `preload` (or unset).
fn launch(prefix: &Path, args: &[&str], preload: Option<&str>) -> Output {
    let mut cmd = Command::new(prefix.join("bin/ptcancel"));
    cmd.args(args).env_remove("PTCANCEL_I386_MODE");
    match preload {
        Some(p) => cmd.env("LD_PRELOAD", p),
        None => cmd.env_remove("LD_PRELOAD"),
    };
    cmd.output().expect("run the launcher")
}

/// A refusal: the given status, nothing on stdout, one line on stderr containing `want`.
fn assert_one_line_error(out: &Output, status: i32, want: &str, case: &str) {
    let stderr = text(&out.stderr);
    assert!(
        out.status.code() == Some(status)
            && out.stdout.is_empty()
            && stderr.lines().count() == 1
            && stderr.starts_with("ptcancel: ")
            && stderr.contains(want),
        "{case}: wanted status {status} and one line with {want:?}; got {:?}\nstdout: {}stderr: {stderr}",
        out.status,
        text(&out.stdout)
    );
}

fn lib_path(prefix: &Path, arch: Arch) -> String {
    prefix
        .join("lib")
        .join(multiarch(arch))
        .join("libptcancel.so.0")
        .display()
        .to_string()
}

#[test]
fn launcher_version_and_help() {
    let prefix = installed();
    let out = launch(prefix, &["--version"], None);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("ptcancel {}\n", crate_version()));
    let out = launch(prefix, &["--help"], None);
    assert!(out.status.success() && out.stderr.is_empty());
    let help = text(&out.stdout);
    assert!(
        help.starts_with("usage: ptcancel PROGRAM [ARGS...]\n")
            && help.contains(&lib_path(prefix, Arch::X86_64)),
        "{help}"
    );
    // No program: the usage, on stderr, status 2. An unknown option: one line.
    let out = launch(prefix, &[], None);
    assert!(out.status.code() == Some(2) && text(&out.stderr).starts_with("usage: "));
    let out = launch(prefix, &["--frobnicate"], None);
    assert_one_line_error(&out, 2, "unknown option --frobnicate", "unknown option");
}

/// 64- and 32-bit programs get the library of their class, found by path or in PATH, with their
/// arguments intact; a #! script gets its interpreter's.
#[test]
fn launcher_preloads_the_library_of_the_programs_class() {
    let prefix = installed();
    let p = programs();
    let v = crate_version();
    let mut cases = vec![(Arch::X86_64, &p.probe64, "syscall")];
    if arches().contains(&Arch::I386) {
        cases.push((Arch::I386, &p.probe32, ""));
    }
    for (arch, exe, mode) in cases {
        let out = launch(prefix, &[exe.to_str().unwrap(), "a b", "", "-c"], None);
        let stdout = text(&out.stdout);
        let want_start = format!("ptcancel={v} mode={mode}");
        let want_end = format!(
            "marker=no LD_PRELOAD={} args=a b,,-c\n",
            lib_path(prefix, arch)
        );
        assert!(
            out.status.success() && stdout.starts_with(&want_start) && stdout.ends_with(&want_end),
            "{arch:?}: {stdout}{}",
            text(&out.stderr)
        );
    }
    // Found in PATH, like a command.
    let dir = p.probe64.parent().unwrap();
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap());
    let out = Command::new(prefix.join("bin/ptcancel"))
        .arg("probe64")
        .env("PATH", path)
        .env_remove("LD_PRELOAD")
        .output()
        .unwrap();
    assert!(
        out.status.success() && text(&out.stdout).starts_with(&format!("ptcancel={v} ")),
        "probe64 in PATH: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // A #! script: its interpreter (/bin/sh, 64-bit) is what gets the library.
    let script = scratch().join("programs/script.sh");
    std::fs::write(&script, "#!/bin/sh -e\necho \"$LD_PRELOAD $*\"\n").unwrap();
    set_mode(&script, 0o755);
    let out = launch(prefix, &[script.to_str().unwrap(), "x"], None);
    assert_eq!(
        text(&out.stdout),
        format!("{} x\n", lib_path(prefix, Arch::X86_64)),
        "script: {}",
        text(&out.stderr)
    );
}

/// An LD_PRELOAD already set keeps its libraries, in front; ptcancel is not added twice.
#[test]
fn launcher_keeps_an_existing_ld_preload() {
    let prefix = installed();
    let p = programs();
    let marker = p.marker.display().to_string();
    let ours = lib_path(prefix, Arch::X86_64);
    let out = launch(prefix, &[p.probe64.to_str().unwrap()], Some(&marker));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success()
            && stdout.starts_with(&format!("ptcancel={} ", crate_version()))
            && stdout.contains(&format!("marker=yes LD_PRELOAD={marker}:{ours} ")),
        "{stdout}{}",
        text(&out.stderr)
    );
    let already = format!("{ours} {marker}");
    let out = launch(prefix, &[p.probe64.to_str().unwrap()], Some(&already));
    assert!(
        text(&out.stdout).contains(&format!("marker=yes LD_PRELOAD={already} ")),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn launcher_program_not_found() {
    let prefix = installed();
    let out = launch(prefix, &["ptcancel-no-such-program", "x"], None);
    assert_one_line_error(
        &out,
        127,
        "ptcancel-no-such-program: command not found",
        "not in PATH",
    );
    let out = launch(prefix, &["./ptcancel-no-such-program"], None);
    assert_one_line_error(
        &out,
        127,
        "./ptcancel-no-such-program: no such file",
        "no such file",
    );
}

#[test]
fn launcher_refuses_a_statically_linked_program() {
    let prefix = installed();
    let out = launch(prefix, &[programs().static64.to_str().unwrap()], None);
    assert_one_line_error(&out, 126, "is statically linked", "static program");
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The loader ignores LD_PRELOAD for set-uid/set-gid programs: the launcher says so.
#[test]
fn launcher_refuses_a_set_id_program() {
    let prefix = installed();
    for (name, mode) in [("setuid", 0o4755), ("setgid", 0o2755)] {
        let exe = scratch().join("programs").join(name);
        std::fs::copy(&programs().probe64, &exe).unwrap();
        set_mode(&exe, mode);
        let out = launch(prefix, &[exe.to_str().unwrap()], None);
        assert_one_line_error(&out, 126, "is set-uid/set-gid", name);
    }
}

/// Without the i386 library installed, a 32-bit program is refused with the way to get it; a
/// 64-bit one still runs.
#[test]
fn launcher_without_the_32_bit_library() {
    if !arches().contains(&Arch::I386) {
        eprintln!("launcher_without_the_32_bit_library: i386 not tested (PTCANCEL_ARCHES)");
        return;
    }
    let prefix = installed_64_only();
    let p = programs();
    let out = launch(prefix, &[p.probe32.to_str().unwrap()], None);
    assert_one_line_error(
        &out,
        126,
        "is a 32-bit program, but the 32-bit library",
        "32-bit program",
    );
    assert!(text(&out.stderr).contains("rustup target add i686-unknown-linux-gnu"));
    let out = launch(prefix, &[p.probe64.to_str().unwrap()], None);
    assert!(
        out.status.success() && text(&out.stdout).starts_with("ptcancel="),
        "{}",
        text(&out.stderr)
    );
}

/// A test whose tool is missing stops with ONE line naming the package and its install command
/// (the harness's check), simulated here by re-running this test binary's probe below with a
/// PATH that lacks musl-gcc, a gcc whose -m32 lacks its headers (no gcc-multilib), or a rustc
/// without the i686 target.
#[test]
fn a_missing_tool_is_one_line() {
    let fake = scratch().join("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let gcc = fake.join("gcc");
    std::fs::write(
        &gcc,
        "#!/bin/sh\ncase \" $* \" in *' -m32 '*) \
         echo 'fatal error: bits/wordsize.h: No such file or directory' >&2; exit 1;; esac\n\
         exec /usr/bin/gcc \"$@\"\n",
    )
    .unwrap();
    set_mode(&gcc, 0o755);
    let rustc = fake.join("rustc");
    std::fs::write(&rustc, "#!/bin/sh\necho /nonexistent-sysroot\n").unwrap();
    set_mode(&rustc, 0o755);
    let with_system = format!("{}:/usr/bin:/bin", fake.display());
    for (case, want) in [
        (
            "musl",
            "musl-gcc is missing: install musl-tools (`apt-get install -y musl-tools`)",
        ),
        (
            "multilib",
            "gcc -m32 is missing: install gcc-multilib (`apt-get install -y gcc-multilib`)",
        ),
        (
            "i686",
            "the Rust target i686-unknown-linux-gnu is missing: install i686-unknown-linux-gnu \
             (`rustup target add i686-unknown-linux-gnu`)",
        ),
    ] {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "missing_tool_probe", "--nocapture"])
            .env("PTCANCEL_MISSING_TOOL_PROBE", case)
            // No musl-gcc at all; otherwise the system's tools behind the fakes.
            .env(
                "PATH",
                if case == "musl" {
                    fake.display().to_string()
                } else {
                    with_system.clone()
                },
            )
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(
            out.status.code() == Some(1)
                && stderr.lines().count() == 1
                && stderr.starts_with(&format!("ptcancel tests: {want}"))
                && stderr.contains("bash tests/run.sh"),
            "{case}: {:?}\n{stderr}",
            out.status
        );
    }
}

/// Run by the test above only (does nothing otherwise).
#[test]
fn missing_tool_probe() {
    let Ok(case) = std::env::var("PTCANCEL_MISSING_TOOL_PROBE") else {
        return;
    };
    match case.as_str() {
        "musl" => {
            harness::compile(
                "examples/masked_read.c",
                Build::new(Arch::X86_64, Link::Musl),
                &[],
            );
        }
        "multilib" => {
            harness::compile(
                "examples/masked_read.c",
                Build::new(Arch::I386, Link::Glibc),
                &[],
            );
        }
        "i686" => {
            harness::library(Arch::I386);
        }
        _ => unreachable!(),
    }
    panic!("{case}: the missing tool was not noticed");
}
