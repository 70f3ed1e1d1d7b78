//! Links libptcancel.so to libdl, librt and libpthread: on glibc before 2.34 `dlsym`,
//! `aio_error`, `pthread_tryjoin_np`... live there (src/glibc.rs binds their old versions);
//! from 2.34 on they are empty stubs of libc. `--no-as-needed`, because on the build machine
//! (2.34+) nothing would seem to need them.
fn main() {
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
