#!/usr/bin/env bash
# The demonstration: builds libptcancel and examples/demo.c, then cancels thousands of threads
# blocked in read() and accept() three ways — glibc alone, glibc + LD_PRELOAD=libptcancel.so,
# glibc + libptcancel.a — and, where the i386 toolchain is installed, on i386 too.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/demo
mkdir -p "$out"
cargo build --release --quiet -p ptcancel
lib=$PWD/target/release
gcc -O2 -pthread -Wall -Wextra examples/demo.c -o "$out/demo" -ldl
gcc -O2 -pthread -Wall -Wextra examples/demo.c "$lib/libptcancel.a" -o "$out/demo-static" -ldl

echo "=== x86_64, glibc alone"
"$out/demo"
echo
echo "=== x86_64, glibc + LD_PRELOAD=libptcancel.so"
LD_PRELOAD="$lib/libptcancel.so" "$out/demo"
echo
echo "=== x86_64, glibc + libptcancel.a linked ahead of libc"
"$out/demo-static"

if rustup target list --installed 2>/dev/null | grep -qx i686-unknown-linux-gnu &&
    gcc -m32 -O2 -pthread examples/demo.c -o "$out/demo32" -ldl 2>/dev/null; then
    cargo build --release --quiet -p ptcancel --target i686-unknown-linux-gnu
    lib32=$PWD/target/i686-unknown-linux-gnu/release
    echo
    echo "=== i386, glibc alone"
    "$out/demo32"
    echo
    echo "=== i386, glibc + LD_PRELOAD=libptcancel.so (PTCANCEL_DEBUG=1 names the syscall mode)"
    PTCANCEL_DEBUG=1 LD_PRELOAD="$lib32/libptcancel.so" "$out/demo32"
fi
