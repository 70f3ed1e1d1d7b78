//! Links libptcancel.so to libdl, librt and libpthread: on glibc before 2.34 `dlsym`,
//! `aio_error`, `pthread_tryjoin_np`... live there (src/glibc.rs binds their old versions);
//! from 2.34 on they are empty stubs of libc. `--no-as-needed`, because on the build machine
//! (2.34+) nothing would seem to need them. And says whether the i386 library can have
//! versioned exports (`cfg(glibc_versions)`).
fn main() {
    versioned_exports();
    // By file name: from 2.34 on, -lpthread would find an empty libpthread.a instead.
    for arg in [
        "-Wl,--no-as-needed",
        "-l:libpthread.so.0",
        "-l:libdl.so.2",
        "-l:librt.so.1",
        "-Wl,--as-needed",
    ] {
        println!("cargo:rustc-link-arg-cdylib={arg}");
    }
}

/// i386 with arch/i386/versioned-gcc as the linker (.cargo/config.toml): the library can define
/// versioned symbols (`fcntl@GLIBC_2.0` beside `fcntl@@GLIBC_2.28`), so `cfg(glibc_versions)`.
/// With any other linker rustc's anonymous version script stays, and there are none.
fn versioned_exports() {
    println!("cargo:rustc-check-cfg=cfg(glibc_versions)");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let x86 = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86");
    let ours = std::env::var("RUSTC_LINKER").is_ok_and(|l| l.ends_with("arch/i386/versioned-gcc"));
    if x86 && ours {
        println!("cargo:rustc-cfg=glibc_versions");
    }
}
