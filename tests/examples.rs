//! The example programs of examples/, built and run the way their comments say. (The one built
//! through pkg-config against the installed archive, examples/masked_read.c, is in install.rs.)

mod harness;

use harness::check_ptcancel_builds;

/// examples/tcp_server.c: 500 shutdowns by pthread_cancel + pthread_join of workers blocked in
/// accept()/read(); with ptcancel, preloaded or linked, on every arch and i386 mode, no
/// connection leaks and no request byte is lost (`--check` makes it exit 1 otherwise). The
/// cancels land at random moments; what is checked holds at every one of them.
#[test]
fn tcp_server_shutdown_leaks_and_loses_nothing() {
    check_ptcancel_builds("examples/tcp_server.c", &["-ldl"], &["--check"]);
}
