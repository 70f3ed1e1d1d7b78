//! Race stress: a thread blocked in read(), open() or accept() is cancelled at random moments,
//! 20,000 times per run (5,000 in each i386 build); every byte read is either recorded by the
//! reader or still in the pipe, and no file descriptor leaks. The same for waiters on condvars
//! and semaphores, and a thread pool's shutdown. Run in every ptcancel build (x86_64; i386 in each syscall
//! mode; preloaded and static) and against musl. `PTCANCEL_STRESS_ROUNDS` changes the count.

mod harness;

use harness::{Arch, Build, Link, builds, compile, run, runnable};

fn rounds() -> String {
    rounds_or("20000")
}

/// `PTCANCEL_STRESS_ROUNDS` if set, else `default`.
fn rounds_or(default: &str) -> String {
    std::env::var("PTCANCEL_STRESS_ROUNDS").unwrap_or_else(|_| default.into())
}

fn stress(name: &str) {
    stress_rounds(name, &rounds());
}

fn stress_rounds(name: &str, rounds: &str) {
    stress_in(name, rounds, true);
}

/// Runs tests/stress/NAME.c in every ptcancel build, and against musl when `with_musl`.
fn stress_in(name: &str, rounds: &str, with_musl: bool) {
    let source = format!("tests/stress/{name}.c");
    let mut all = vec![];
    if with_musl {
        all.push(Build::new(Arch::X86_64, Link::Musl));
    }
    all.extend(builds(false));
    let mut failures = vec![];
    for build in runnable(all) {
        // The i386 builds (six of the nine: two link modes by three syscall modes) run a
        // quarter of the long counts each, which keeps the suite within CI's time on a loaded
        // 2-core machine (under two CPU hogs the full count took 25 minutes): together they
        // still make more cancellations than one x86_64 build.
        let rounds = match build.arch {
            Arch::I386 => (rounds.parse::<u64>().unwrap_or(20000) / 4)
                .max(500)
                .to_string(),
            Arch::X86_64 => rounds.to_owned(),
        };
        let exe = compile(&source, build, &[]);
        let out = run(&exe, build, &[&rounds], 300);
        let expected = format!("{name}: rounds={rounds} lost=0");
        if out.code != Some(0) || !out.stdout.lines().any(|l| l == expected) {
            failures.push(format!(
                "[{}] exited {:?}: {}{}",
                build.name(),
                out.code,
                out.stdout,
                out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

#[test]
fn cancelled_reads_lose_no_bytes() {
    stress("stress_read");
}

#[test]
fn cancelled_opens_leak_no_fds() {
    stress("stress_open");
}

#[test]
fn cancelled_accepts_leak_no_fds() {
    stress("stress_accept");
}

/// glibc's own cancellable syscalls inside stdio: a reader in fgets()/fread() on a pipe is
/// cancelled at random moments; every byte written was returned to it or is still readable
/// through the FILE. glibc only: musl's stdio is not cancellable, so no musl run.
#[test]
fn cancelled_stdio_reads_lose_no_bytes() {
    stress_in("stress_stdio", &rounds(), false);
}

/// Condvars: signals and broadcasts racing with cancellation of the waiters, timed and untimed:
/// no lost wake-up, every cancelled waiter held the mutex in its cleanup handler, counts balance.
#[test]
fn cancelled_condvar_waiters_lose_no_wakeup() {
    // Each round waits for the items to be taken: 5,000 keep CI's time on a busy machine.
    stress_rounds("stress_cond", &rounds_or("5000"));
}

/// Semaphores: posts == successful waits + final value, exactly; no waiter left registered.
#[test]
fn cancelled_semaphore_waiters_lose_no_token() {
    stress_rounds("stress_sem", &rounds_or("5000"));
}

/// A thread pool shut down by pthread_cancel + pthread_join, 1,000 times: never hangs.
#[test]
fn thread_pool_shutdown_never_hangs() {
    stress_rounds("stress_pool", "1000");
}

/// The checks can fail: plain glibc 2.36 (bug 12683) loses bytes and leaks fds in these very
/// programs. Thousands of bad rounds are typical, so zero would mean the stress is broken.
#[test]
fn stress_detects_glibc_losses() {
    for name in [
        "stress_read",
        "stress_open",
        "stress_accept",
        "stress_stdio",
    ] {
        let build = Build::new(Arch::X86_64, Link::Glibc);
        let exe = compile(&format!("tests/stress/{name}.c"), build, &[]);
        let out = run(&exe, build, &["5000"], 300);
        assert_eq!(
            out.code,
            Some(1),
            "{name} under plain glibc should report losses: {}",
            out.stdout
        );
        assert!(!out.stdout.contains("lost=0"), "{name}: {}", out.stdout);
    }
}
