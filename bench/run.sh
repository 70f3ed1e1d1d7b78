#!/usr/bin/env bash
# bench/run.sh: builds ptcancel (x86_64 and i386) and the three benchmark programs, runs them
# under ptcancel and under glibc alone (bench_waits also under musl, when musl-gcc is there),
# and prints a summary of medians.
#
# This is a benchmark, not a test: it never judges timings by its exit status. It exits
# non-zero only if something could not be built or a program failed to run.
#
#   bench/run.sh                        # about 3 minutes on a 2-core VM
#
# Knobs (environment variables):
#   REPEAT=3              how many times each configuration runs (interleaved); the summary
#                         gives the median over the repetitions
#   READ_ARGS64="31 200000"  bench_read arguments on x86_64 (trials, calls per trial)
#   READ_ARGS32="31 50000"   bench_read arguments on i386 (fewer calls: int $0x80 is slow)
#   LAT_ROUNDS=2000       bench_cancel_latency rounds
#   LAT_PASSES=3          bench_cancel_latency runs per configuration in each repetition (it
#                         is quick, and its run-to-run noise is larger than its in-run noise)
#   WAITS_ARGS="11 0.5"   bench_waits arguments (trials, scale of the iteration counts); each
#                         run takes about 6 s
#   BENCH_WAITS=0         skip bench_waits
#   BENCH_STATIC=1        also run the programs with libptcancel.a linked in statically
#   BENCH_OUT=target/bench   where the binaries and the raw outputs go
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

REPEAT=${REPEAT:-3}
READ_ARGS64=${READ_ARGS64:-"31 200000"}
READ_ARGS32=${READ_ARGS32:-"31 50000"}
LAT_ROUNDS=${LAT_ROUNDS:-2000}
LAT_PASSES=${LAT_PASSES:-3}
WAITS_ARGS=${WAITS_ARGS:-"11 0.5"}
BENCH_WAITS=${BENCH_WAITS:-1}
BENCH_STATIC=${BENCH_STATIC:-0}
OUT=${BENCH_OUT:-target/bench}
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
BIN=$OUT/bin
RES=$OUT/results
I686=i686-unknown-linux-gnu
# The benchmarks use copies of the libraries taken right after the build, so that a rebuild
# in target/ while they run cannot mix two builds into one set of figures.
LIB64=$OUT/lib/x86_64/libptcancel.so
LIB32=$OUT/lib/i386/libptcancel.so
STATIC64=$OUT/lib/x86_64/libptcancel.a
STATIC32=$OUT/lib/i386/libptcancel.a

# Nothing from the caller's environment may change what is measured.
unset LD_PRELOAD PTCANCEL_I386_MODE PTCANCEL_TEST_VDSO PTCANCEL_DEBUG

say() { printf '%s\n' "$*"; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites -------------------------------------------------------------------------

command -v cargo >/dev/null || die "cargo not found"
command -v gcc >/dev/null || die "gcc not found"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -x "$I686" >/dev/null; then
    die "Rust target $I686 missing: rustup target add $I686"
fi
mkdir -p "$BIN" "$RES"
rm -f "$RES"/read.*.txt "$RES"/lat.*.txt "$RES"/waits.*.txt # a previous run's outputs would be summarised too
echo 'int main(void){return 0;}' >"$BIN/m32check.c"
gcc -m32 "$BIN/m32check.c" -o "$BIN/m32check" 2>/dev/null ||
    die "gcc -m32 cannot link (install gcc-multilib)"

# ---- build ---------------------------------------------------------------------------------

T0=$SECONDS
say "== building (cargo build --release [--target $I686], gcc -O2 -pthread [-m32])"
cargo build --release --quiet
cargo build --release --quiet --target "$I686"
# The stand-in vDSO is a test hook: only a test-hooks build reads PTCANCEL_TEST_VDSO.
cargo build --release --quiet --target "$I686" --features test-hooks --target-dir target/bench/hooks
mkdir -p "$OUT/lib/x86_64" "$OUT/lib/i386" "$OUT/lib/i386-hooks"
cp target/release/libptcancel.so target/release/libptcancel.a "$OUT/lib/x86_64/"
cp "target/$I686/release/libptcancel.so" "target/$I686/release/libptcancel.a" "$OUT/lib/i386/"
cp "target/bench/hooks/$I686/release/libptcancel.so" "$OUT/lib/i386-hooks/"
LIB32_HOOKS=$OUT/lib/i386-hooks/libptcancel.so

CFLAGS=(-O2 -pthread -Wall -Wextra)
gcc "${CFLAGS[@]}" bench/bench_read.c -o "$BIN/bench_read64" -ldl
gcc "${CFLAGS[@]}" bench/bench_cancel_latency.c -o "$BIN/bench_cancel_latency64" -ldl
gcc -m32 "${CFLAGS[@]}" bench/bench_read.c -o "$BIN/bench_read32" -ldl
gcc -m32 "${CFLAGS[@]}" bench/bench_cancel_latency.c -o "$BIN/bench_cancel_latency32" -ldl
gcc "${CFLAGS[@]}" bench/bench_waits.c -o "$BIN/bench_waits64" -ldl
gcc -m32 "${CFLAGS[@]}" bench/bench_waits.c -o "$BIN/bench_waits32" -ldl
# musl, for reference (bench_waits only): its own condvars, semaphores and join, no glibc variant
WAITS_MUSL=0
if [ "$BENCH_WAITS" = 1 ] && command -v musl-gcc >/dev/null &&
    musl-gcc -static "${CFLAGS[@]}" bench/bench_waits.c -o "$BIN/bench_waits64_musl" 2>/dev/null; then
    WAITS_MUSL=1
fi
# The stand-in vDSO for kernel-helpers mode (its __kernel_vsyscall uses int $0x80).
gcc -m32 -shared -fPIC -O2 -nostdlib -Wl,--version-script=tests/vdso/fake_vdso.map \
    tests/vdso/fake_vdso.c -o "$BIN/fake_vdso.so"
if [ "$BENCH_STATIC" = 1 ]; then
    gcc "${CFLAGS[@]}" bench/bench_read.c "$STATIC64" -o "$BIN/bench_read64_static" -ldl
    gcc "${CFLAGS[@]}" bench/bench_cancel_latency.c "$STATIC64" -o "$BIN/bench_cancel_latency64_static" -ldl
    gcc -m32 "${CFLAGS[@]}" bench/bench_read.c "$STATIC32" -o "$BIN/bench_read32_static" -ldl
    gcc -m32 "${CFLAGS[@]}" bench/bench_cancel_latency.c "$STATIC32" -o "$BIN/bench_cancel_latency32_static" -ldl
    gcc "${CFLAGS[@]}" bench/bench_waits.c "$STATIC64" -o "$BIN/bench_waits64_static" -ldl
    gcc -m32 "${CFLAGS[@]}" bench/bench_waits.c "$STATIC32" -o "$BIN/bench_waits32_static" -ldl
fi
sha() { sha256sum "$1" | cut -c1-12; }
SHAS="x86_64 $(sha "$LIB64"), i386 $(sha "$LIB32")"
say "   built in $((SECONDS - T0)) s; libptcancel.so sha256: $SHAS"

# ---- the configurations --------------------------------------------------------------------
# name | program | expected mode ("-" for glibc alone) | environment (KEY=VALUE ...)

READ_CONFIGS=(
    "x86_64 ptcancel (LD_PRELOAD)|bench_read64 $READ_ARGS64|syscall|LD_PRELOAD=$LIB64"
    "x86_64 glibc alone|bench_read64 $READ_ARGS64|-|"
    "i386 ptcancel emulated-helpers|bench_read32 $READ_ARGS32|emulated-helpers|LD_PRELOAD=$LIB32 PTCANCEL_I386_MODE=emulated-helpers"
    "i386 ptcancel kernel-helpers (stand-in vDSO)|bench_read32 $READ_ARGS32|kernel-helpers|LD_PRELOAD=$LIB32_HOOKS PTCANCEL_I386_MODE=kernel-helpers PTCANCEL_TEST_VDSO=$BIN/fake_vdso.so"
    "i386 ptcancel int80|bench_read32 $READ_ARGS32|int80|LD_PRELOAD=$LIB32 PTCANCEL_I386_MODE=int80"
    "i386 glibc alone|bench_read32 $READ_ARGS32|-|"
)
LAT_CONFIGS=(
    "x86_64 ptcancel (LD_PRELOAD)|bench_cancel_latency64 $LAT_ROUNDS|syscall|LD_PRELOAD=$LIB64"
    "x86_64 glibc alone|bench_cancel_latency64 $LAT_ROUNDS|-|"
    "i386 ptcancel emulated-helpers|bench_cancel_latency32 $LAT_ROUNDS|emulated-helpers|LD_PRELOAD=$LIB32 PTCANCEL_I386_MODE=emulated-helpers"
    "i386 glibc alone|bench_cancel_latency32 $LAT_ROUNDS|-|"
)
WAITS_CONFIGS=(
    "x86_64 ptcancel (LD_PRELOAD)|bench_waits64 $WAITS_ARGS|syscall|LD_PRELOAD=$LIB64"
    "x86_64 glibc alone|bench_waits64 $WAITS_ARGS|-|"
    "i386 ptcancel emulated-helpers|bench_waits32 $WAITS_ARGS|emulated-helpers|LD_PRELOAD=$LIB32 PTCANCEL_I386_MODE=emulated-helpers"
    "i386 glibc alone|bench_waits32 $WAITS_ARGS|-|"
)
if [ "$BENCH_STATIC" = 1 ]; then
    READ_CONFIGS+=(
        "x86_64 ptcancel (static link)|bench_read64_static $READ_ARGS64|syscall|"
        "i386 ptcancel (static link, auto mode)|bench_read32_static $READ_ARGS32|emulated-helpers|"
    )
    LAT_CONFIGS+=(
        "x86_64 ptcancel (static link)|bench_cancel_latency64_static $LAT_ROUNDS|syscall|"
        "i386 ptcancel (static link, auto mode)|bench_cancel_latency32_static $LAT_ROUNDS|emulated-helpers|"
    )
    WAITS_CONFIGS+=(
        "x86_64 ptcancel (static link)|bench_waits64_static $WAITS_ARGS|syscall|"
        "i386 ptcancel (static link, auto mode)|bench_waits32_static $WAITS_ARGS|emulated-helpers|"
    )
fi
[ "$WAITS_MUSL" = 1 ] && WAITS_CONFIGS+=("x86_64 musl (static)|bench_waits64_musl $WAITS_ARGS|-|")
[ "$BENCH_WAITS" = 1 ] || WAITS_CONFIGS=()

slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9_\n' '_' | tr -s '_'; }

# The "cancellation:" header's mode: the word after "syscall mode", or "-" for glibc alone.
mode_of() {
    sed -n '/^cancellation:/{s/.*syscall mode \([a-z0-9-]*\).*/\1/p; s/.*C library.*/-/p; q}' "$1"
}

# run KIND CONFIG RUN: runs one configuration, keeps its output, prints one line.
run() {
    local kind=$1 cfg=$2 rep=$3 name prog mode envs file got
    IFS='|' read -r name prog mode envs <<<"$cfg"
    file=$RES/$kind.$(slug "$name").$rep.txt
    # shellcheck disable=SC2086 # word splitting of $envs and $prog is wanted
    if ! env $envs "$BIN/"$prog >"$file" 2>&1; then
        cat "$file" >&2
        die "$kind: '$name' failed"
    fi
    got=$(mode_of "$file")
    local warn=""
    [ "$got" = "$mode" ] || warn="  WARNING: expected mode $mode, ran $got"
    if [ "$kind" = waits ]; then
        # libc/glibc per test ("a/b": 1cpu/2cpu); a note when nothing is interposed under ptcancel
        awk -v n="$name" -v w="$warn" -v m="$mode" '
            /^the program.s functions/ && /none:/ && m != "-" { w = w "  NOTE: nothing interposed (libc = glibc)" }
            /^  [a-z0-9+-]+ +[a-z\/-]+ +[0-9.]+ / {
                t = $1; sub(/-pingpong/, "", t); sub(/-64$/, "", t)
                if (t ~ /-[12]cpu$/) { sub(/-[12]cpu$/, "", t); sep = "/" } else sep = ""
                if (!(t in v)) { order[++nt] = t; v[t] = $5 } else v[t] = v[t] sep $5 }
            END { for (i = 1; i <= nt; i++) r = r sprintf(" %s %s", order[i], v[order[i]])
                  if (r ~ /^( [a-z+-]+ [-\/]+)*$/) r = " (no glibc variant)"
                  printf "   %-44s libc/glibc (1cpu/2cpu):%s%s\n", n, r, w }' "$file"
    elif [ "$kind" = read ]; then
        awk -v n="$name" -v w="$warn" '
            $NF == "ns" { ns = ns sprintf("  %s %s", $1, $2) }
            $2 == "/" && $1 == "libc-read" && ($3 == "stub" || $3 == "stub-vdso") { r = $4 }
            END { printf "   %-44s%s   libc-read/stub%s %s%s\n", n, ns,
                  (index(ns, "stub-vdso") ? "-vdso" : ""), r, w }' "$file"
    else
        awk -v n="$name" -v w="$warn" '/^cancel -> join/ {
            printf "   %-45s median %s us  p90 %s us%s\n", n, $(NF-6), $(NF-3), w }' "$file"
    fi
}

T1=$SECONDS
for rep in $(seq 1 "$REPEAT"); do
    say "== repetition $rep/$REPEAT: bench_read (ns per read(fd,buf,0))"
    for cfg in "${READ_CONFIGS[@]}"; do run read "$cfg" "$rep"; done
    say "== repetition $rep/$REPEAT: bench_cancel_latency (cancel -> join, both threads on one CPU)"
    for pass in $(seq 1 "$LAT_PASSES"); do
        for cfg in "${LAT_CONFIGS[@]}"; do run lat "$cfg" "$rep.$pass"; done
    done
    if [ ${#WAITS_CONFIGS[@]} -gt 0 ]; then
        say "== repetition $rep/$REPEAT: bench_waits (the program's condvars/semaphores/join vs glibc's, one process)"
        for cfg in "${WAITS_CONFIGS[@]}"; do run waits "$cfg" "$rep"; done
    fi
done
say "   ran in $((SECONDS - T1)) s; raw outputs in ${RES#"$ROOT"/}/"

# ---- summary: medians over the repetitions --------------------------------------------------

# get KIND NAME KEY: the median over the repetitions of KEY (a variant's ns, a ratio
# "a/b", or "median"/"p90" for the latency), or "n/a".
get() {
    local kind=$1 name=$2 key=$3 slugged
    slugged=$(slug "$name")
    for f in "$RES/$kind.$slugged".*.txt; do
        awk -v k="$key" '
            $NF == "ns" && $1 == k { print $2 }
            $2 == "/" && $1 "/" $3 == k { print $4 }
            /^cancel -> join/ && k == "median" { print $(NF-6) }
            /^cancel -> join/ && k == "p90" { print $(NF-3) }' "$f"
    done | sort -g | awk -v fmt="$(case $key in */*) echo %.3f ;; *) echo %.1f ;; esac)" '
        { v[NR] = $1 }
        END { if (NR == 0) print "n/a";
              else printf fmt "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# getw NAME TEST FIELD: bench_waits' median over the repetitions of a test's libc (3), glibc
# (4) or libc/glibc (5) column, or "n/a".
getw() {
    local name=$1 test=$2 field=$3 slugged
    slugged=$(slug "$name")
    for f in "$RES/waits.$slugged".*.txt; do
        [ -e "$f" ] || continue
        awk -v t="$test" -v k="$field" '$1 == t && $k ~ /^[0-9.]+$/ { print $k }' "$f"
    done | sort -g | awk -v fmt="$([ "$field" = 5 ] && echo %.3f || echo %.1f)" '
        { v[NR] = $1 }
        END { if (NR == 0) print "n/a";
              else printf fmt "\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else printf "n/a" }'; }
# verdict VALUE LIMIT: "met" if VALUE <= LIMIT, else "NOT met" (information only; never
# changes the exit status)
verdict() {
    awk -v v="$1" -v l="$2" 'BEGIN {
        if (v == "n/a") print "n/a"; else if (v + 0 <= l + 0) print "met"; else print "NOT met" }'
}

say ""
say "== summary: medians over $REPEAT repetitions (latency: $((REPEAT * LAT_PASSES)) runs) ($(date -u +%Y-%m-%d), $(uname -r)," \
    "glibc $(ldd --version 2>&1 | sed -n '1s/.* //p'), $(nproc) CPUs)"
say "   libptcancel.so sha256: $SHAS"
say ""
say "bench_read, ns per read(fd,buf,0); ratios are medians of per-trial ratios in one process"
say "  (stub = raw syscall on x86_64, call *%gs:0x10 (AT_SYSINFO) on i386)"
printf '  %-44s %9s %10s %9s %10s %10s %10s %11s\n' configuration libc-read glibc-read stub \
    stub-int80 libc/stub libc/glibc int80/vdso
for cfg in "${READ_CONFIGS[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$cfg"
    case $name in
    x86_64*) stub=stub ;;
    *) stub=stub-vdso ;;
    esac
    printf '  %-44s %9s %10s %9s %10s %10s %10s %11s\n' "$name" \
        "$(get read "$name" libc-read)" "$(get read "$name" glibc-read)" \
        "$(get read "$name" "$stub")" "$(get read "$name" stub-int80)" \
        "$(get read "$name" "libc-read/$stub")" "$(get read "$name" libc-read/glibc-read)" \
        "$(get read "$name" stub-int80/stub-vdso)"
done
say ""
say "bench_cancel_latency, us from pthread_cancel() to pthread_join() returning"
printf '  %-44s %9s %9s\n' configuration median p90
for cfg in "${LAT_CONFIGS[@]}"; do
    IFS='|' read -r name _ _ _ <<<"$cfg"
    printf '  %-44s %9s %9s\n' "$name" "$(get lat "$name" median)" "$(get lat "$name" p90)"
done

if [ ${#WAITS_CONFIGS[@]} -gt 0 ]; then
    say ""
    say "bench_waits: the program's pthread_cond_*/sem_*/pthread_join (libc; ptcancel's when it"
    say "  interposes them) against glibc's own in the same process (musl: its own, no glibc column);"
    say "  medians over the repetitions; libc/glibc is the median of per-trial ratios, and under"
    say "  glibc alone it is the noise floor. wake-pattern (first repetition): after a broadcast to"
    say "  64 waiters, with the mutex held, how many wait on the mutex/condvar/another word/no futex"
    printf '  %-44s %-20s %-14s %9s %9s %10s\n' configuration test unit libc glibc libc/glibc
    for cfg in "${WAITS_CONFIGS[@]}"; do
        IFS='|' read -r name _ _ _ <<<"$cfg"
        first=$RES/waits.$(slug "$name").1.txt
        [ -e "$first" ] || continue
        label=$name
        while read -r test unit; do
            printf '  %-44s %-20s %-14s %9s %9s %10s\n' "$label" "$test" "$unit" \
                "$(getw "$name" "$test" 3)" "$(getw "$name" "$test" 4)" "$(getw "$name" "$test" 5)"
            label=""
        done < <(awk '/^  [a-z0-9+-]+ +[a-z\/-]+ +[0-9.]+ / { print $1, $2 }' "$first")
        awk '/^  wake-pattern/ { printf "  %-44s %s %s\n", "", $1, substr($0, index($0, $2)) }' "$first"
        grep -h '^the program.s functions' "$first" | grep -v 'none:' | sed 's/^/  /' || true
    done
fi

x64_stub=$(get read "x86_64 ptcancel (LD_PRELOAD)" libc-read/stub)
x64_glibc_stub=$(get read "x86_64 glibc alone" libc-read/stub)
emu_glibc=$(get read "i386 ptcancel emulated-helpers" libc-read/glibc-read)
kh_glibc=$(get read "i386 ptcancel kernel-helpers (stand-in vDSO)" libc-read/glibc-read)
i80_glibc=$(get read "i386 ptcancel int80" libc-read/glibc-read)
stub_i80=$(get read "i386 glibc alone" stub-int80/stub-vdso)
mode_i80=$(div "$(get read "i386 ptcancel int80" libc-read)" \
    "$(get read "i386 ptcancel emulated-helpers" libc-read)")
lat64=$(get lat "x86_64 ptcancel (LD_PRELOAD)" median)
lat64g=$(get lat "x86_64 glibc alone" median)
lat32=$(get lat "i386 ptcancel emulated-helpers" median)
lat32g=$(get lat "i386 glibc alone" median)

say ""
say "targets (information only; this script never fails on a timing)"
say "  x86_64 ptcancel read / raw syscall stub   $x64_stub  (target <= 1.03: $(verdict "$x64_stub" 1.03);" \
    "glibc alone: $x64_glibc_stub)"
say "  i386 emulated-helpers read / glibc read   $emu_glibc  (target <= 1.10: $(verdict "$emu_glibc" 1.10))"
say "  i386 kernel-helpers read / glibc read     $kh_glibc  (not comparable: the stand-in vDSO enters" \
    "the kernel with int \$0x80; on a kernel with the helpers this mode runs the same" \
    "AT_SYSINFO path as emulated-helpers)"
say "  i386 int80 read / glibc read              $i80_glibc"
say "  cancel -> join median, x86_64             ptcancel $lat64 us vs glibc $lat64g us" \
    "(ratio $(div "$lat64" "$lat64g"); target <= 1: $(verdict "$(div "$lat64" "$lat64g")" 1))"
say "  cancel -> join median, i386               ptcancel $lat32 us vs glibc $lat32g us" \
    "(ratio $(div "$lat32" "$lat32g"); target <= 1: $(verdict "$(div "$lat32" "$lat32g")" 1))"
say ""
say "int \$0x80 vs AT_SYSINFO (what the vDSO helpers buy on i386)"
say "  raw stubs, stub-int80 / stub-vdso (per-trial, glibc-alone run)       $stub_i80"
say "  ptcancel read, int80 mode / emulated-helpers mode (medians of runs) $mode_i80"
say ""
say "total $((SECONDS - T0)) s"
