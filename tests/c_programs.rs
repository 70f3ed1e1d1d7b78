//! The C test programs of tests/c/, each run as musl (reference), glibc + LD_PRELOAD and glibc +
//! static link on every arch: all must pass their own checks and print the same lines.

mod harness;
