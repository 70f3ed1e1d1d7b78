#!/usr/bin/env bash
# The demonstration: builds libptcancel and examples/demo.c, then cancels 5,000 threads blocked
# in read() and 2,000 blocked in accept() at random moments, three ways per arch — glibc alone,
# glibc + LD_PRELOAD=libptcancel.so, glibc + libptcancel.a linked ahead of libc — on x86_64 and,
# when the 32-bit toolchain is there, on i386 (else one line says what was skipped and how to
# enable it). Prints one table; each run's full output is kept in target/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/demo
mkdir -p "$out"
rows=()
skipped=()

# run ARCH HOW LABEL EXE [ENV...]: one row of the table.
run() {
    local arch=$1 how=$2 exe=$3
    shift 3
    local log="$out/$arch-$how.txt" mode=""
    if [ -t 2 ]; then printf '  running: %-7s %-30s\r' "$arch" "$how" >&2; fi
    env "$@" PTCANCEL_DEBUG=1 "$exe" >"$log" 2>&1
    # i386 with ptcancel: the syscall mode it chose (PTCANCEL_DEBUG=1).
    mode=$(sed -n 's/^ptcancel: i386 syscall mode \(.*\)$/ (\1)/p' "$log" | head -n 1)
    local summary
    summary=$(sed -n 's/^summary: //p' "$log")
    local lost leaked ns
    lost=$(sed 's/.*lost=\([-0-9]*\).*/\1/' <<<"$summary")
    leaked=$(sed 's/.*leaked=\([-0-9]*\).*/\1/' <<<"$summary")
    ns=$(sed 's/.*median_cancel_join_ns=\([0-9]*\).*/\1/' <<<"$summary")
    rows+=("$(printf '%-7s %-40s %10s %12s %12s us' "$arch" "$how$mode" "$lost" "$leaked" \
        "$((ns / 1000))")")
}

if [ -t 2 ]; then printf '  building...\r' >&2; fi
cargo build --release --quiet -p ptcancel
lib=$PWD/target/release
gcc -O2 -pthread -Wall -Wextra examples/demo.c -o "$out/demo" -ldl
gcc -O2 -pthread -Wall -Wextra examples/demo.c "$lib/libptcancel.a" -o "$out/demo-static" -ldl

run x86_64 "glibc alone" "$out/demo" -u LD_PRELOAD
run x86_64 "ptcancel, LD_PRELOAD" "$out/demo" LD_PRELOAD="$lib/libptcancel.so"
run x86_64 "ptcancel, static" "$out/demo-static" -u LD_PRELOAD

i686=i686-unknown-linux-gnu
if ! [ -d "$(rustc --print sysroot)/lib/rustlib/$i686" ]; then
    skipped+=("i386 skipped: the Rust target $i686 is not installed; enable it with \`rustup target add $i686\` (or \`bash tests/setup.sh\`)")
elif ! gcc -m32 -O2 -pthread examples/demo.c -o "$out/demo32" -ldl 2>/dev/null; then
    skipped+=("i386 skipped: gcc cannot build 32-bit programs; enable it with \`apt-get install -y gcc-multilib\` (or \`bash tests/setup.sh\`)")
else
    cargo build --release --quiet -p ptcancel --target "$i686"
    lib32=$PWD/target/$i686/release
    gcc -m32 -O2 -pthread -Wall -Wextra examples/demo.c "$lib32/libptcancel.a" \
        -o "$out/demo32-static" -ldl
    run i386 "glibc alone" "$out/demo32" -u LD_PRELOAD
    run i386 "ptcancel, LD_PRELOAD" "$out/demo32" LD_PRELOAD="$lib32/libptcancel.so"
    run i386 "ptcancel, static" "$out/demo32-static" -u LD_PRELOAD
fi

if [ -t 2 ]; then printf '%*s\r' 60 '' >&2; fi
echo "5,000 threads cancelled in read() and 2,000 in accept() at random moments, per row:"
echo
printf '%-7s %-40s %10s %12s %15s\n' arch cancellation "bytes lost" "fds leaked" "cancel->join"
printf '%-7s %-40s %10s %12s %15s\n' "" "" "" "" "(median)"
printf '%s\n' "${rows[@]}"
for line in "${skipped[@]+"${skipped[@]}"}"; do
    echo
    echo "$line"
done
echo
echo "(each run's full output: $out/*.txt)"
