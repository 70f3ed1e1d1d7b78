#!/usr/bin/env bash
# Installs what the test suite, the demo and `make install` need and a fresh Debian/Ubuntu
# machine lacks, and nothing else: the packages gcc-multilib g++-multilib musl-tools pkg-config
# make valgrind, the i686 Rust target, cbindgen 0.29.0 (into target/tools/bin, which tests/run.sh puts
# first on PATH; an installed cbindgen of another version is left alone). Says what it installs;
# does nothing when everything is there. apt-get needs root, or sudo. Then the other glibcs'
# sysroots (tests/glibcs/fetch.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

command -v cargo >/dev/null ||
    fail "cargo is missing: install Rust with rustup (https://rustup.rs), then run this again"

packages=(gcc-multilib g++-multilib musl-tools pkg-config make valgrind)
if command -v dpkg-query >/dev/null; then
    missing=()
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -eq 0 ]; then
            sudo=()
        elif command -v sudo >/dev/null; then
            sudo=(sudo)
        else
            fail "missing packages ${missing[*]}: run \`apt-get install -y ${missing[*]}\` as root"
        fi
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -qq
        "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
else
    for tool in gcc g++ musl-gcc pkg-config make; do
        command -v "$tool" >/dev/null ||
            fail "$tool is missing (not a Debian system: install your distribution's equivalent of ${packages[*]})"
    done
fi

target=i686-unknown-linux-gnu
if ! [ -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
    command -v rustup >/dev/null ||
        fail "the Rust target $target is missing and rustup is not installed: install the i686 standard library of your Rust"
    say "adding the Rust target $target"
    rustup target add "$target"
fi

# include/ptcancel.h is checked against what this exact cbindgen generates.
tools=$PWD/target/tools
if ! PATH="$tools/bin:$PATH" cbindgen --version 2>/dev/null | grep -qx 'cbindgen 0.29.0'; then
    say "installing cbindgen 0.29.0 into target/tools (a few minutes, once)"
    cargo install --quiet --locked --root "$tools" cbindgen --version 0.29.0 ||
        fail "could not install cbindgen: run \`cargo install --locked cbindgen --version 0.29.0\`"
fi

# The glibc 2.31 and 2.43 sysroots tests/glibcs.rs runs the C programs against (about 30 s,
# once; the host's apt state and libc are not touched).
if [ "${PTCANCEL_GLIBCS:-}" = all ]; then
    bash tests/glibcs/fetch.sh all
else
    bash tests/glibcs/fetch.sh
fi
