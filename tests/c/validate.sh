#!/bin/sh
# validate.sh -- build every C test program the ways README.md lists, run it
# against its reference, and compare its stdout with expected/<name>.out:
#   - musl-validated programs: the musl build must exit 0 and print exactly
#     expected/<prog>.out;
#   - glibc-only programs (cleanup_attr, cxx_destructors, glibc_defer_np):
#     the plain glibc builds (x86_64 and i386) must do so.
# Plain-glibc runs of the musl-validated programs are shown for information
# only (glibc 2.36 is known to differ; see README.md).
#
# Needs: gcc, g++, gcc-multilib/g++-multilib (for -m32), musl-tools.
# Usage: sh tests/c/validate.sh            (exit 0 iff every reference held)
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/ptcancel-c.XXXXXX")
trap 'rm -rf "$out"' EXIT
W="-O2 -pthread -Wall -Wextra -Werror"
status=0

note() { printf '%s\n' "$*"; }
bad() { printf 'FAILED: %s\n' "$*"; status=1; }

# build NAME COMPILER SRC FLAGS...
build() {
    n=$1 cc=$2 src=$3
    shift 3
    $cc $W "$@" "$src" -o "$out/$n" 2>"$out/$n.log" || { cat "$out/$n.log"; bad "build $n"; return 1; }
}

# run_ref NAME EXPECTED: must exit 0 and print EXPECTED exactly
run_ref() {
    "$out/$1" >"$out/$1.out" 2>"$out/$1.err" || { cat "$out/$1.err"; bad "run $1"; return 1; }
    if ! cmp -s "$out/$1.out" "$here/expected/$2"; then
        diff "$here/expected/$2" "$out/$1.out"
        bad "$1 stdout differs from expected/$2"
        return 1
    fi
    note "ok   $1"
}

# musl-validated programs: musl is the reference; glibc runs for information.
for p in points_io points_net points_time semantics masked async sighandler cleanup race; do
    build "$p.musl" musl-gcc "$here/$p.c" -static && run_ref "$p.musl" "$p.out"
    for v in glibc:"" glibc32:-m32; do
        name=$p.${v%%:*}
        # shellcheck disable=SC2086
        build "$name" gcc "$here/$p.c" ${v#*:} || continue
        if "$out/$name" >"$out/$name.out" 2>/dev/null; then
            note "info $name: same as musl"
        else
            note "info $name: differs from musl (expected for plain glibc):"
            diff "$here/expected/$p.out" "$out/$name.out" | sed -n 's/^> /       /p'
        fi
    done
done

# glibc references.
for m in "" -m32; do
    build "cleanup_attr$m" gcc "$here/cleanup_attr.c" -fexceptions $m &&
        run_ref "cleanup_attr$m" cleanup_attr.out
    build "cxx_destructors$m" g++ "$here/cxx_destructors.cpp" $m &&
        run_ref "cxx_destructors$m" cxx_destructors.out
    build "glibc_defer_np$m" gcc "$here/glibc_defer_np.c" $m &&
        run_ref "glibc_defer_np$m" glibc_defer_np.out
    build "glibc_defer_np_exc$m" gcc "$here/glibc_defer_np.c" -fexceptions $m &&
        run_ref "glibc_defer_np_exc$m" glibc_defer_np.fexceptions.out
done

if [ $status = 0 ]; then note "all references held"; else note "SOME REFERENCES FAILED"; fi
exit $status
