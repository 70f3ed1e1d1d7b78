#!/usr/bin/env bash
# Derives, mechanically from the machine code of glibc itself, the exported functions that are
# cancellation points *in glibc*: the functions whose code reaches glibc's own cancellation
# machinery. Its output is compared with tests/points/glibc-2.36-ARCH.txt (what ptcancel
# exports, from derive.sh): a name glibc cancels that ptcancel does not export is a call that
# ptcancel's pthread_cancel cannot interrupt (DESIGN.md §8).
#
#   usage: tests/points/derive-cancellable.sh LIBC.so.6 DEBUGFILE ARCH \
#              > tests/points/glibc-2.36-cancellable-ARCH.txt
#   EXPLAIN=1 prints, instead of the names, "name  tier  call chain" (and the excluded names).
#   MAXDEPTH=N (default 3) bounds the chains through glibc-internal functions.
#
# Getting LIBC.so.6 and DEBUGFILE (Debian 12, glibc 2.36-9+deb12u14) without touching the host's
# apt state — a private list/status/cache directory under /tmp/dbg:
#
#   mkdir -p /tmp/dbg/src /tmp/dbg/lists/partial /tmp/dbg/cache/archives/partial /tmp/dbg/deb
#   : > /tmp/dbg/status
#   sed 's/^Components: main$/&\nArchitectures: amd64 i386/' \
#       /etc/apt/sources.list.d/debian.sources > /tmp/dbg/src/debian.sources
#   A="-o Dir::State::Lists=/tmp/dbg/lists -o Dir::State::status=/tmp/dbg/status
#      -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/tmp/dbg/src
#      -o Dir::Cache=/tmp/dbg/cache -o APT::Architectures::=amd64 -o APT::Architectures::=i386"
#   apt-get $A update
#   cd /tmp/dbg/deb && apt-get $A download libc6-dbg:amd64=2.36-9+deb12u14 \
#       libc6:i386=2.36-9+deb12u14 libc6-dbg:i386=2.36-9+deb12u14
#   for d in *.deb; do dpkg-deb -x "$d" /tmp/dbg/x; done
#   bid() { readelf -n "$1" | awk '/Build ID/ { print substr($3,1,2) "/" substr($3,3) }'; }
#   L64=/lib/x86_64-linux-gnu/libc.so.6         # the host's libc6
#   L32=/tmp/dbg/x/lib/i386-linux-gnu/libc.so.6 # libc6:i386, see below
#   tests/points/derive-cancellable.sh $L64 /tmp/dbg/x/usr/lib/debug/.build-id/$(bid $L64).debug \
#       x86_64 > tests/points/glibc-2.36-cancellable-x86_64.txt
#   tests/points/derive-cancellable.sh $L32 /tmp/dbg/x/usr/lib/debug/.build-id/$(bid $L32).debug \
#       i386 > tests/points/glibc-2.36-cancellable-i386.txt
#
# i386: the host's /usr/lib32/libc.so.6 comes from libc6-i386 (built on amd64), whose debug file
# is only in the debian-debug archive (libc6-i386-dbgsym), not in libc6-dbg of either arch. The
# same source version built natively, libc6:i386, has its debug file in libc6-dbg:i386 and
# exports exactly the same dynamic symbols (names, types, versions); only addresses differ.
#
# Method. The debug file's full symbol table (local functions included, with sizes) gives every
# function's extent; `objdump -d` of the real .so gives every direct call/jump. An edge
# caller -> callee is a call, or a jump (tail call), from inside one function to the *start* of
# another. Then:
#   seeds   glibc 2.36's cancellation machinery, below.
#   tier A  an exported function that reaches a seed through glibc-internal (non-exported)
#           functions only, at most MAXDEPTH calls away: the function itself is a cancellable
#           syscall wrapper or thread wait (read, splice, sem_wait via __new_sem_wait_slow64,
#           pthread_join via __pthread_clockjoin_ex, ...).
#   tier B  an exported function that reaches a tier-A function in the same way: a thin public
#           wrapper around another public cancellation point (sleep -> __nanosleep, system ->
#           do_system -> __waitpid, thrd_sleep -> __clock_nanosleep, ...). glibc calls the
#           hidden alias (__GI_...), so interposing the callee does not cover the caller.
#   Chains longer than that (fgets -> _IO_getline -> __uflow -> _IO_file_underflow -> vtable ->
#   _IO_file_read -> __read) are glibc's "internal callers" (stdio, getaddrinfo, ...), a
#   different issue; the few that still show up as tier B are dropped by EXCLUDE, below.
#   "Exported" means: some dynamic symbol of LIBC.so.6 has the function's address. All dynamic
#   names at a reached address are printed, version suffixes dropped.
set -euo pipefail

libc=$1 debug=$2 arch=$3
maxdepth=${MAXDEPTH:-3}
hops=${HOPS:-2}
case $arch in x86_64|i386) ;; *) echo "derive-cancellable.sh: ARCH is x86_64 or i386" >&2; exit 2 ;; esac

# The debug file must describe exactly this libc: otherwise its addresses mean nothing here.
buildid() { readelf -n "$1" 2>/dev/null | awk '/Build ID/ { print $3 }'; }
if [ "$(buildid "$libc")" != "$(buildid "$debug")" ]; then
    echo "derive-cancellable.sh: $debug is not the debug file of $libc (build-ids differ)" >&2
    exit 1
fi

# glibc 2.36's cancellation machinery (nptl/cancellation.c, nptl/pthread_testcancel.c,
# nptl/futex-internal.c):
#   __pthread_enable_asynccancel       what SYSCALL_CANCEL / LIBC_CANCEL_ASYNC call around a
#                                      blocking syscall when the process is multi-threaded
#   __pthread_testcancel               the explicit test (exported as pthread_testcancel)
#   __futex_abstimed_wait_cancelable64 the cancellable futex wait of sem_*, pthread_cond_*,
#                                      pthread_join (tail-calls the common code below)
seeds="__pthread_enable_asynccancel __pthread_testcancel __GI___pthread_testcancel
__futex_abstimed_wait_cancelable64"
# Callers of the machinery that are NOT cancellation points: __futex_abstimed_wait_common calls
# __pthread_enable_asynccancel only when its `cancel` argument is true, i.e. only when entered
# through __futex_abstimed_wait_cancelable64 (a seed); __futex_abstimed_wait64 (mutex, rwlock
# timed locks) passes false. Following it would make every timed lock "cancellable".
conditional="__futex_abstimed_wait_common"

# Tier-B names dropped as glibc-internal callers (exported functions that are cancellable only
# because some of glibc's own machinery, not the public function's contract, reaches another
# exported cancellation point). Each is explained where it is listed, per arch.
exclude=""

# 1. Every function of libc with its extent: "start size name" (decimal, sorted by address),
#    from the debug file's .symtab. readelf prints sizes above 99999 in hex.
funcs=$(readelf -sW "$debug" 2>/dev/null | awk '
    function hex(s,   i, n) { s = tolower(s); sub(/^0x/, "", s); n = 0
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n }
    $4 == "FUNC" && $7 != "UND" && $7 != "ABS" { print hex($2), ($3 ~ /^0x/ ? hex($3) : $3), $8 }' |
    sort -n -k1,1)

# 2. The exported names: "start name" (decimal, version dropped) for every defined dynamic
#    function symbol (T/W; i = IFUNC, whose address is the resolver's).
exports=$(nm -D --defined-only "$libc" | awk '
    function hex(s,   i, n) { s = tolower(s); n = 0
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n }
    $2 ~ /^[TtWwi]$/ { sub(/@.*/, "", $3); print hex($1), $3 }' | sort -u)

# 3.+4. Call graph from the disassembly, then the closure. One awk program: it reads the
#    function table, the export table, then objdump's output on stdin ("-").
objdump -d --no-show-raw-insn "$libc" | awk -v maxdepth="$maxdepth" -v hops="$hops" \
    -v seednames="$seeds" -v condnames="$conditional" -v exclnames="$exclude" \
    -v explain="${EXPLAIN:-0}" '
    function hex(s,   i, n) { s = tolower(s); n = 0
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n }
    function pick(names,   w, n, i) {      # a readable name for chains: not __GI_*, no @VERSION
        n = split(names, w, " "); for (i = 1; i < n && w[i] ~ /^__GI_/; i++) ;
        sub(/@.*/, "", w[i]); return w[i] }
    BEGIN { split(seednames, t); for (i in t) isseed[t[i]] = 1
            split(condnames, t); for (i in t) iscond[t[i]] = 1 }
    FILENAME == ARGV[1] {                     # function table
        a = $1 + 0
        if (!(a in size)) { starts[++nf] = a; size[a] = 0 }
        if ($2 + 0 > size[a]) size[a] = $2 + 0
        fname[a] = (a in fname) ? fname[a] " " $3 : $3
        if ($3 in isseed) seed[a] = 1
        if ($3 in iscond) cond[a] = 1
        next }
    FILENAME == ARGV[2] {                     # exports
        a = $1 + 0; exported[a] = 1
        ename[a] = (a in ename) ? ename[a] " " $2 : $2
        next }
    !cur { cur = 1 }                          # starts[] is in address order (sort -n)
    # Instruction lines: "  85e60:\tcall   85820 <...>". Keep direct calls and jumps.
    /^ *[0-9a-f]+:\t/ {
        split($0, f, "\t"); n = split(f[2], w, " "); gsub(/[ :]/, "", f[1])
        if (w[1] == "bnd" || w[1] == "notrack") { m = w[2]; tgt = w[3] } else { m = w[1]; tgt = w[2] }
        if (m !~ /^(call|j[a-z]+)$/ || tgt !~ /^[0-9a-f]+$/) next
        pc = hex(f[1]); to = hex(tgt)
        while (cur < nf && starts[cur + 1] <= pc) cur++   # objdump goes in address order
        from = starts[cur]
        if (pc < from || pc >= from + size[from]) next    # not inside a known function
        if (!(to in size) || to == from) next             # not a call to another function
        if (!((to, from) in edge)) { edge[to, from] = 1; callers[to] = callers[to] " " from }
        next }
    # Breadth-first over callers. A node passes reachability on to its callers if it is a
    # root, or if it is glibc-internal (no exported name) and the depth allows it. An exported
    # function reached is recorded with the tier (and the chain, for EXPLAIN=1), unless it is
    # excluded: then it is only remembered for EXPLAIN=1 and never becomes a root.
    function closure(tier,   q, h, tl, v, d, k, c, nc, i, w) {
        h = 1; tl = 0
        for (v in root) { q[++tl] = v; depth[v] = 0; via[v] = chain[v] }
        while (h <= tl) {
            v = q[h++]; d = depth[v]
            if (!(v in root) && (v in exported || d >= maxdepth)) continue
            nc = split(callers[v], c, " ")
            for (i = 1; i <= nc; i++) {
                k = c[i] + 0
                if (k in depth || k in cond) continue
                depth[k] = d + 1; q[++tl] = k
                via[k] = pick(fname[k]) " -> " via[v]
                if (!(k in exported) || k in found || k in dropped) continue
                if (k in excluded) dropped[k] = tier; else found[k] = tier
                chain[k] = via[k]
            }
        }
    }
    END {
        split(exclnames, t, " "); for (i in t) isexcl[t[i]] = 1
        for (a in ename) { n = split(ename[a], e, " ")
            for (i = 1; i <= n; i++) if (e[i] in isexcl) excluded[a] = 1 }
        # Tier A: the roots are the seeds (pthread_testcancel is itself exported).
        for (a in seed) { root[a] = 1; chain[a] = pick(fname[a]); if (a in exported) found[a] = "A" }
        closure("A")
        # Tiers B, C, ...: the roots are all the exported cancellable functions found so far.
        for (hop = 1; hop <= hops; hop++) {
            for (a in root) delete root[a]
            for (a in depth) delete depth[a]
            for (a in found) root[a] = 1
            closure(substr("BCDEFGH", hop, 1))
        }
        for (a in found) { n = split(ename[a], e, " ")
            for (i = 1; i <= n; i++)
                if (explain == 1) printf "%-28s %s  %s\n", e[i], found[a], chain[a]
                else print e[i] }
        if (explain == 1) for (a in dropped) { n = split(ename[a], e, " ")
            for (i = 1; i <= n; i++) printf "%-28s %s  %s\n", e[i], "x" dropped[a], chain[a] }
    }' <(printf '%s\n' "$funcs") <(printf '%s\n' "$exports") - | sort -u
