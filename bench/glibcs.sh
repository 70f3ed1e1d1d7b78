#!/usr/bin/env bash
# bench/glibcs.sh: bench_read and bench_cancel_latency across glibc releases — 2.31
# (bullseye), the host's (2.36 on bookworm), 2.41 (trixie) and 2.43 (forky) — on x86_64 and
# i386 (ptcancel in emulated-helpers mode), glibc alone and with ptcancel preloaded, and one
# table of medians (bench/README.md, "Across glibc releases").
#
# Each program is built against the release's sysroot (gcc --sysroot=DIR -B DIR/usr/lib/ -L
# DIR/usr/lib/<triplet>, as tests/harness.rs's compile_for does) and run by that release's
# own loader with its libraries only (DIR/lib/<triplet>/ld-linux*.so.2 --inhibit-cache
# --library-path ...). The host's release is built and run the ordinary way.
#
# Needs the sysroots under target/glibcs/ (fetch them with: bash tests/glibcs/fetch.sh all),
# cargo with the i686-unknown-linux-gnu target and gcc-multilib. A benchmark, not a test:
# it exits non-zero only if something fails to build or run. Run it on a quiet machine.
#
#   bench/glibcs.sh                 # about 100 s on a 2-vCPU VM (3 repetitions)
#
# Knobs: REPEAT=3 (runs of each configuration, interleaved; the table gives the median),
# READ_ARGS64="21 100000", READ_ARGS32="21 15000" (bench_read trials and calls per trial;
# int $0x80 is slow, and glibc 2.41+ on i386 uses it), LAT_ROUNDS=1000,
# BENCH_OUT=target/bench-glibcs (binaries and raw outputs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPEAT=${REPEAT:-3}
READ_ARGS64=${READ_ARGS64:-"21 100000"}
READ_ARGS32=${READ_ARGS32:-"21 15000"}
LAT_ROUNDS=${LAT_ROUNDS:-1000}
OUT=${BENCH_OUT:-target/bench-glibcs}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
BIN=$OUT/bin
RES=$OUT/results
I686=i686-unknown-linux-gnu
unset LD_PRELOAD PTCANCEL_I386_MODE PTCANCEL_TEST_VDSO PTCANCEL_DEBUG

die() { printf 'bench/glibcs.sh: %s\n' "$*" >&2; exit 1; }

# release label | sysroot directory stem under target/glibcs/ ("host" for the host's glibc)
RELEASES=("2.31|bullseye" "2.36|host" "2.41|trixie" "2.43|forky")
ARCHES=(x86_64 i386)

triplet() { [ "$1" = x86_64 ] && echo x86_64-linux-gnu || echo i386-linux-gnu; }
debarch() { [ "$1" = x86_64 ] && echo amd64 || echo i386; }
loader() { [ "$1" = x86_64 ] && echo ld-linux-x86-64.so.2 || echo ld-linux.so.2; }

for r in "${RELEASES[@]}"; do
    IFS='|' read -r ver stem <<<"$r"
    [ "$stem" = host ] && continue
    for a in "${ARCHES[@]}"; do
        d=target/glibcs/$stem-$(debarch "$a")
        [ -f "$d/glibc-version" ] || die "$d missing: bash tests/glibcs/fetch.sh all"
        [ "$(cat "$d/glibc-version")" = "$ver" ] || die "$d holds glibc $(cat "$d/glibc-version"), not $ver"
    done
done
host_ver=$(ldd --version 2>&1 | sed -n '1s/.* //p')
[ "$host_ver" = 2.36 ] || echo "note: the host's glibc is $host_ver, labelled 2.36 below" >&2

# ---- build -----------------------------------------------------------------------------------
cargo build --release --quiet
cargo build --release --quiet --target "$I686"
mkdir -p "$BIN" "$RES" "$OUT/lib/x86_64" "$OUT/lib/i386"
rm -f "$RES"/*.txt
cp target/release/libptcancel.so "$OUT/lib/x86_64/"
cp "target/$I686/release/libptcancel.so" "$OUT/lib/i386/"
LIB_x86_64=$OUT/lib/x86_64/libptcancel.so
LIB_i386=$OUT/lib/i386/libptcancel.so

for r in "${RELEASES[@]}"; do
    IFS='|' read -r ver stem <<<"$r"
    for a in "${ARCHES[@]}"; do
        m=(); [ "$a" = i386 ] && m=(-m32)
        sys=()
        if [ "$stem" != host ]; then
            d=$ROOT/target/glibcs/$stem-$(debarch "$a")
            sys=(--sysroot="$d" -B"$d/usr/lib/" -L "$d/usr/lib/$(triplet "$a")")
        fi
        for p in bench_read bench_cancel_latency; do
            gcc -O2 -pthread -Wall -Wextra "${m[@]}" "${sys[@]}" "bench/$p.c" \
                -o "$BIN/$p-$ver-$a" -ldl
        done
    done
done

# run VER STEM ARCH WHO PROG ARGS...: runs one program, output to stdout
run() {
    local ver=$1 stem=$2 a=$3 who=$4 prog=$5
    shift 5
    local env=()
    if [ "$who" = ptcancel ]; then
        local lib=LIB_$a
        env=(LD_PRELOAD="${!lib}")
        [ "$a" = i386 ] && env+=(PTCANCEL_I386_MODE=emulated-helpers)
    fi
    if [ "$stem" = host ]; then
        env "${env[@]}" "$BIN/$prog-$ver-$a" "$@"
    else
        local d=$ROOT/target/glibcs/$stem-$(debarch "$a") t
        t=$(triplet "$a")
        env "${env[@]}" "$d/lib/$t/$(loader "$a")" --inhibit-cache \
            --library-path "$d/lib/$t:$d/usr/lib/$t" "$BIN/$prog-$ver-$a" "$@"
    fi
}

# ---- run: every configuration once per repetition, interleaved ------------------------------
T0=$SECONDS
for rep in $(seq 1 "$REPEAT"); do
    for r in "${RELEASES[@]}"; do
        IFS='|' read -r ver stem <<<"$r"
        for a in "${ARCHES[@]}"; do
            if [ "$a" = x86_64 ]; then args=$READ_ARGS64; else args=$READ_ARGS32; fi
            for who in ptcancel glibc; do
                f=$RES/read.$ver.$a.$who.$rep.txt
                # shellcheck disable=SC2086 # $args splits into trials and calls on purpose
                run "$ver" "$stem" "$a" "$who" bench_read $args >"$f" 2>&1 || { cat "$f" >&2; die "bench_read $ver $a $who failed"; }
                f=$RES/lat.$ver.$a.$who.$rep.txt
                run "$ver" "$stem" "$a" "$who" bench_cancel_latency "$LAT_ROUNDS" >"$f" 2>&1 || { cat "$f" >&2; die "bench_cancel_latency $ver $a $who failed"; }
            done
            # the header must name what was meant to run
            grep -q "^cancellation: ptcancel .*syscall mode $([ "$a" = x86_64 ] && echo syscall || echo emulated-helpers)" \
                "$RES/read.$ver.$a.ptcancel.$rep.txt" || die "read.$ver.$a.ptcancel: not ptcancel in the expected mode"
            grep -q "^cancellation: the C library's own" "$RES/read.$ver.$a.glibc.$rep.txt" ||
                die "read.$ver.$a.glibc: not glibc alone"
        done
    done
    printf 'repetition %s/%s done (%s s)\n' "$rep" "$REPEAT" $((SECONDS - T0)) >&2
done

# get FILES-GLOB KEY: median over the files of a ratio "a / b" of bench_read, or of the
# cancel -> join median
get() {
    local glob=$1 key=$2
    # shellcheck disable=SC2086
    awk -v k="$key" '
        k == "lat" && /^cancel -> join/ { print $(NF-6) }
        k != "lat" && $2 == "/" && $1 " / " $3 == k { print $4 }' $glob |
        sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a";
            else printf "%.3f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo
echo "glibc releases, $(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs; medians of $REPEAT runs;" \
    "bench_read $READ_ARGS64 (x86_64) / $READ_ARGS32 (i386), bench_cancel_latency $LAT_ROUNDS"
echo "stub = raw syscall (x86_64) / call *%gs:0x10, AT_SYSINFO (i386); ptcancel i386 mode emulated-helpers"
echo
echo "| glibc | arch | ptcancel read/stub | glibc read/stub | ptcancel/glibc read | cancel→join median µs, glibc vs ptcancel |"
echo "|---|---|--:|--:|--:|--:|"
for r in "${RELEASES[@]}"; do
    IFS='|' read -r ver _ <<<"$r"
    for a in "${ARCHES[@]}"; do
        stub=stub; [ "$a" = i386 ] && stub=stub-vdso
        p="$RES/read.$ver.$a.ptcancel.*.txt"
        g="$RES/read.$ver.$a.glibc.*.txt"
        lg=$(get "$RES/lat.$ver.$a.glibc.*.txt" lat)
        lp=$(get "$RES/lat.$ver.$a.ptcancel.*.txt" lat)
        printf '| %s | %s | %s | %s | %s | %.1f vs %.1f (%s) |\n' "$ver" "$a" \
            "$(get "$p" "libc-read / $stub")" "$(get "$g" "libc-read / $stub")" \
            "$(get "$p" "libc-read / glibc-read")" "$lg" "$lp" \
            "$(awk -v a="$lp" -v b="$lg" 'BEGIN { printf "%.2f×", a / b }')"
    done
done
echo
echo "ran in $((SECONDS - T0)) s; raw outputs in ${RES#"$ROOT"/}/"
