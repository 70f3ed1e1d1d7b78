#!/bin/sh
# validate_points2.sh -- like validate.sh, for the second set of
# cancellation-point programs (the ones built on xpoints.h):
#   - musl-validated: points_sync points_ipc points_signal points_wait
#     points_misc points_abi64 disabled_blocked.  The musl build must exit
#     0 and print exactly expected/<prog>.out; the plain glibc builds
#     (x86_64 and i386) are run for information (glibc 2.36 is known to
#     differ in some lines, see README.md).
#   - glibc-only: glibc_misc, built plain and with
#     -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64, x86_64 and i386; every build
#     must exit 0 and print exactly expected/glibc_misc.out.
#
# Needs: gcc, gcc-multilib (for -m32), musl-tools.
# Usage: sh tests/c/validate_points2.sh    (exit 0 iff every reference held)
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/ptcancel-c2.XXXXXX")
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

for p in points_sync points_ipc points_signal points_wait points_misc points_abi64 disabled_blocked; do
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

for m in "" -m32; do
    build "glibc_misc$m" gcc "$here/glibc_misc.c" $m &&
        run_ref "glibc_misc$m" glibc_misc.out
    build "glibc_misc_t64$m" gcc "$here/glibc_misc.c" -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 $m &&
        run_ref "glibc_misc_t64$m" glibc_misc.out
done

if [ $status = 0 ]; then note "all references held"; else note "SOME REFERENCES FAILED"; fi
exit $status
