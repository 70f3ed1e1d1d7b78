//! The library on other glibc releases: C test programs built against Debian's glibc 2.31
//! (bullseye) and 2.43 (forky) — 2.41 (trixie) too with `PTCANCEL_GLIBCS=all` — and run with that
//! release's own dynamic loader and libraries, preloaded and statically linked, on x86_64 and on
//! i386 in every syscall mode. Each must print exactly what it prints on the host (the checked-in
//! tests/c/expected/NAME.out, or NAME.ptcancel.out where ptcancel deliberately differs from musl).
//!
//! The sysroots come from `bash tests/glibcs/fetch.sh` (`... all` for trixie) into
//! target/glibcs/; a missing one stops this test binary with one line saying so.

mod harness;

use harness::{
    Arch, Build, Glibc, Link, Mode, builds, compile_for, describe, glibcs, line_diff, run_on,
    runnable, sysroot,
};

/// Whether `glibc` is selected; a test of an unselected release passes with a note.
fn selected(glibc: Glibc) -> bool {
    let on = glibcs().contains(&glibc);
    if !on {
        eprintln!(
            "NOTE: glibc {} not selected (PTCANCEL_GLIBCS=all runs it)",
            glibc.version
        );
    }
    on
}

/// The ptcancel builds: both link modes on every arch, i386 in each syscall mode.
fn ptcancel_builds() -> Vec<Build> {
    runnable(builds(false)).collect()
}

/// Runs tests/c/NAME.c in every ptcancel build against `glibc`: each run must exit 0 and print
/// tests/c/expected/NAME.out — or, where NAME.ptcancel.out exists, print exactly that and exit
/// 0 or 1 (the program then reports its own mismatch with musl), as tests/c_programs.rs checks.
fn expected_output(name: &str, glibc: Glibc) {
    if !selected(glibc) {
        return;
    }
    let failures = disagreements(name, &[], name, glibc);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What [`expected_output`] checks, for tests/c/NAME.c built with `extra`, against
/// tests/c/expected/EXPECTED.out (or EXPECTED.ptcancel.out): the failures.
fn disagreements(name: &str, extra: &[&str], expected: &str, glibc: Glibc) -> Vec<String> {
    let source = format!("tests/c/{name}.c");
    let deviations = harness::root().join(format!("tests/c/expected/{expected}.ptcancel.out"));
    let deviating = deviations.exists();
    let expected_path = if deviating {
        deviations
    } else {
        harness::root().join(format!("tests/c/expected/{expected}.out"))
    };
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    let mut failures = vec![];
    for build in ptcancel_builds() {
        let root = sysroot(glibc, build.arch);
        let exe = compile_for(&root, &source, build, extra);
        let out = run_on(&root, &exe, build, &[], 60);
        let on = format!("{source} {} on {}", extra.join(" "), root.name());
        if out.code != Some(0) && !(deviating && out.code == Some(1)) {
            failures.push(describe(&on, build, &out));
        } else if out.stdout != expected {
            failures.push(format!(
                "{on} [{}] does not print {}:\n{}",
                build.name(),
                expected_path
                    .strip_prefix(harness::root())
                    .unwrap()
                    .display(),
                line_diff(&expected, &out.stdout)
            ));
        }
    }
    failures
}

/// With `PTCANCEL_GLIBCS=all`, every other C program of tests/c/ too (tests/c_programs.rs's
/// list; the C++ one needs a C++ standard library the sysroots do not have), against the
/// checked-in outputs; glibc_misc.c (epoll_pwait2) from glibc 2.35 on.
fn other_programs(glibc: Glibc) {
    if std::env::var("PTCANCEL_GLIBCS").as_deref() != Ok("all") {
        eprintln!("NOTE: the other programs run with PTCANCEL_GLIBCS=all");
        return;
    }
    let time64: &[&str] = &["-D_TIME_BITS=64", "-D_FILE_OFFSET_BITS=64"];
    let mut programs: Vec<(&str, &[&str], &str)> = [
        "points_net",
        "points_time",
        "sighandler",
        "cleanup",
        "race",
        "points_sync",
        "points_ipc",
        "points_signal",
        "points_wait",
        "points_misc",
        "points_abi64",
        "disabled_blocked",
        "exiting",
        "glibc_cancellable",
        "glibc_defer_np",
    ]
    .into_iter()
    .map(|name| (name, &[][..], name))
    .collect();
    programs.extend([
        ("points_io", &["-D_FILE_OFFSET_BITS=64"][..], "points_io"),
        (
            "points_io",
            &["-D_FORTIFY_SOURCE=2", "-Wno-unused-result"][..],
            "points_io",
        ),
        ("points_time", time64, "points_time"),
        ("points_net", time64, "points_net"),
        ("points_threads", time64, "points_threads"),
        ("glibc_cancellable", time64, "glibc_cancellable"),
        ("cleanup_attr", &["-fexceptions"][..], "cleanup_attr"),
        (
            "glibc_defer_np",
            &["-fexceptions"][..],
            "glibc_defer_np.fexceptions",
        ),
    ]);
    let minor: u32 = glibc.version.trim_start_matches("2.").parse().unwrap();
    if minor >= 35 {
        programs.push(("glibc_misc", &[], "glibc_misc"));
        programs.push(("glibc_misc", time64, "glibc_misc"));
    }
    // -lrt: before 2.34 mq_*, aio_* and clock_* are in librt (POSIX's link line for them).
    let failures: Vec<String> = programs
        .into_iter()
        .flat_map(|(name, extra, expected)| {
            let extra: Vec<&str> = extra.iter().copied().chain(["-lrt"]).collect();
            disagreements(name, &extra, expected, glibc)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// tests/stress/NAME.c, 2,000 rounds, in every ptcancel build against `glibc`: no byte read by
/// a cancelled thread is lost (stress_read: read(); stress_stdio: glibc's own read() inside
/// fgets/fread).
fn stress(name: &str, glibc: Glibc) {
    if !selected(glibc) {
        return;
    }
    let rounds = "2000";
    let expected = format!("{name}: rounds={rounds} lost=0");
    let source = format!("tests/stress/{name}.c");
    let mut failures = vec![];
    for build in ptcancel_builds() {
        let root = sysroot(glibc, build.arch);
        let exe = compile_for(&root, &source, build, &[]);
        let out = run_on(&root, &exe, build, &[rounds], 300);
        if out.code != Some(0) || !out.stdout.lines().any(|l| l == expected) {
            failures.push(describe(&format!("{name} on {}", root.name()), build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same programs without ptcancel, on the release's glibc alone: before 2.41 (bug 12683) it
/// loses bytes — hundreds in 2,000 rounds — from 2.41 on none. This shows the release's own
/// cancellation code runs, not the host's (2.36, which loses bytes too).
fn stress_glibc_alone(name: &str, glibc: Glibc) {
    if !selected(glibc) {
        return;
    }
    let minor: u32 = glibc.version.trim_start_matches("2.").parse().unwrap();
    let fixed = minor >= 41;
    let source = format!("tests/stress/{name}.c");
    let none_lost = format!("{name}: rounds=2000 lost=0");
    let mut failures = vec![];
    for arch in harness::arches() {
        let build = Build::new(arch, Link::Glibc);
        let root = sysroot(glibc, arch);
        let exe = compile_for(&root, &source, build, &[]);
        let out = run_on(&root, &exe, build, &["2000"], 300);
        let lost_none = out.stdout.lines().any(|l| l == none_lost);
        let as_expected = if fixed {
            out.code == Some(0) && lost_none
        } else {
            out.code == Some(1) && !lost_none && out.stdout.contains("lost=")
        };
        if !as_expected {
            failures.push(format!(
                "{name} on {} [{}]: glibc {} alone should lose {} bytes:\n{}",
                root.name(),
                build.name(),
                glibc.version,
                if fixed { "no" } else { "some" },
                describe(name, build, &out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The machinery itself: a program built against `glibc` runs on that glibc (not the host's)
/// with the release's crt files (its constructors run), plain and with ptcancel in it in every
/// build, in the forced i386 mode.
fn runs_on(glibc: Glibc) {
    if !selected(glibc) {
        return;
    }
    let mut all = vec![];
    for arch in harness::arches() {
        all.push(Build::new(arch, Link::Glibc));
    }
    all.extend(ptcancel_builds());
    let mut failures = vec![];
    for build in all {
        let root = sysroot(glibc, build.arch);
        let version = root.unpacked_version();
        if version != glibc.version {
            eprintln!(
                "NOTE: {} holds glibc {version}, not {}: the release moved on",
                root.dir.display(),
                glibc.version
            );
        }
        let mut extra = vec!["-ldl"];
        if build.link == Link::Static {
            extra.extend(["-Wl,-u,ptcancel_version", "-Wl,-u,ptcancel_syscall_mode"]);
        }
        let exe = compile_for(&root, "tests/glibcs/probe.c", build, &extra);
        let out = run_on(&root, &exe, build, &[], 30);
        let line = out.stdout.trim_end();
        let ok = match build.link {
            Link::Glibc => line == format!("glibc {version} init_array ran ptcancel none none"),
            _ => {
                let mode = match (build.arch, build.mode) {
                    (Arch::X86_64, _) => "syscall",
                    (Arch::I386, Some(mode)) => mode.env_name(),
                    (Arch::I386, None) => Mode::Int80.env_name(),
                };
                line.starts_with(&format!("glibc {version} init_array ran ptcancel "))
                    && line.ends_with(&format!(" {mode}"))
                    && !line.contains(" none")
            }
        };
        if out.code != Some(0) || !ok {
            failures.push(describe(&format!("probe on {}", root.name()), build, &out));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// One module per check, one test per release: `semantics::glibc_2_31`, ...
macro_rules! per_release {
    ($module:ident, $check:expr) => {
        mod $module {
            use super::*;
            #[test]
            fn glibc_2_31() {
                $check(Glibc::BULLSEYE)
            }
            #[test]
            fn glibc_2_41() {
                $check(Glibc::TRIXIE)
            }
            #[test]
            fn glibc_2_43() {
                $check(Glibc::FORKY)
            }
        }
    };
}

per_release!(loader, runs_on);
per_release!(semantics, |g| expected_output("semantics", g));
per_release!(points_io, |g| expected_output("points_io", g));
per_release!(points_threads, |g| expected_output("points_threads", g));
per_release!(masked, |g| expected_output("masked", g));
per_release!(asynchronous, |g| expected_output("async", g));
per_release!(glibc_internal, |g| {
    if selected(g) {
        let failures = disagreements("glibc_internal", &["-lresolv"], "glibc_internal", g);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
});
per_release!(stress, |g| stress("stress_read", g));
per_release!(stress_stdio, |g| stress("stress_stdio", g));
per_release!(glibc_alone_stress, |g| stress_glibc_alone("stress_read", g));
per_release!(glibc_alone_stdio_stress, |g| stress_glibc_alone(
    "stress_stdio",
    g
));
per_release!(other_programs, other_programs);
