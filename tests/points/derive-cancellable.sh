#!/usr/bin/env bash
# Derives, mechanically from glibc's machine code, the exported functions that are cancellation
# points *in glibc itself*: those whose code reaches glibc's own cancellation machinery. Compare
# the output with tests/points/glibc-2.36-ARCH.txt (what ptcancel exports, from derive.sh): a
# name glibc cancels that ptcancel does not export is a call ptcancel's pthread_cancel cannot
# interrupt (DESIGN.md §8).
#
#   usage: tests/points/derive-cancellable.sh LIBC.so.6 DEBUGFILE ARCH \
#              > tests/points/glibc-2.36-cancellable-ARCH.txt
#   EXPLAIN=1  prints "name  tier  call chain" instead, and the dropped names (tier x...).
#   MAXDEPTH=N (default 3) glibc-internal calls followed from one exported function.
#   HOPS=N     (default 3) exported wrappers followed (tiers B, C, D), see below.
#
# Getting LIBC.so.6 and DEBUGFILE (Debian 12, glibc 2.36-9+deb12u14) without touching the host's
# apt state: private lists, status and cache under /tmp/dbg.
#
#   mkdir -p /tmp/dbg/src /tmp/dbg/lists/partial /tmp/dbg/cache/archives/partial /tmp/dbg/deb
#   : > /tmp/dbg/status
#   sed 's/^Components: main$/&\nArchitectures: amd64 i386/' \
#       /etc/apt/sources.list.d/debian.sources > /tmp/dbg/src/debian.sources
#   A="-o Dir::State::Lists=/tmp/dbg/lists -o Dir::State::status=/tmp/dbg/status
#      -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/tmp/dbg/src
#      -o Dir::Cache=/tmp/dbg/cache -o APT::Architectures::=amd64 -o APT::Architectures::=i386"
#   apt-get $A update || true   # only bookworm/main is needed; other indexes may fail
#   (cd /tmp/dbg/deb && apt-get $A download libc6-dbg:amd64=2.36-9+deb12u14 \
#       libc6:i386=2.36-9+deb12u14 libc6-dbg:i386=2.36-9+deb12u14)
#   for d in /tmp/dbg/deb/*.deb; do dpkg-deb -x "$d" /tmp/dbg/x; done
#   dbg() { readelf -n "$1" | awk '/Build ID/ { print "/tmp/dbg/x/usr/lib/debug/.build-id/" \
#               substr($3, 1, 2) "/" substr($3, 3) ".debug" }'; }
#   L64=/lib/x86_64-linux-gnu/libc.so.6 L32=/tmp/dbg/x/lib/i386-linux-gnu/libc.so.6
#   tests/points/derive-cancellable.sh $L64 $(dbg $L64) x86_64 \
#       > tests/points/glibc-2.36-cancellable-x86_64.txt
#   tests/points/derive-cancellable.sh $L32 $(dbg $L32) i386 \
#       > tests/points/glibc-2.36-cancellable-i386.txt
#
# i386: the host's /usr/lib32/libc.so.6 comes from libc6-i386 (an amd64 package), whose debug
# file is only in the debian-debug archive (libc6-i386-dbgsym), not in libc6-dbg of either arch.
# The same source version built natively, libc6:i386, has its debug file in libc6-dbg:i386 and
# exports exactly the same dynamic symbols (names, types, versions); only addresses differ.
#
# Method. The debug file's full symbol table (local functions too, with sizes) gives every
# function's extent; `objdump -d` of the real .so gives every direct call and jump. An edge
# caller -> callee is a call, or a jump (tail call), from inside one function to the start of
# another. "Exported" means some dynamic symbol of LIBC.so.6 has the function's address; every
# dynamic name at a printed address is printed, without its version.
#   seeds   glibc 2.36's cancellation machinery, below.
#   tier A  exported functions that reach a seed through glibc-internal (non-exported)
#           functions only, at most MAXDEPTH calls: cancellable syscall wrappers (read,
#           splice, ...) and thread waits (sem_wait -> __new_sem_wait_slow64 -> do_futex_wait,
#           pthread_join -> __pthread_clockjoin_ex, ...).
#   tier B  exported functions that reach a tier-A function in the same way; tier C those that
#           reach a tier-B one, and so on (HOPS levels): glibc's public functions built on other
#           public ones. They call the hidden alias (__GI___nanosleep), so interposing the
#           callee does not cover them: sleep -> __nanosleep -> __clock_nanosleep, system ->
#           do_system -> __waitpid -> __wait4 (-> __wait4_time64 on i386), thrd_sleep, cnd_wait,
#           eventfd_read (a read), the _FORTIFY_SOURCE entries, i386's 32-bit-time entries
#           (select -> __select64).
#   Not points: functions that disable cancellation around their wait (they call
#   __pthread_setcancelstate: gai_suspend, getaddrinfo_a, pclose's _IO_proc_close, sem_open,
#   posix_spawn's __spawnix, __assert_fail_base, error...), and the not_points list below.
#   glibc's "internal callers" (stdio, malloc, resolver, RPC, syslog, ... calling a cancellable
#   syscall in passing) are a different issue: not_points drops the ones this method reaches;
#   most are out of reach anyway (stdio reads and writes go through vtables: indirect calls).
set -euo pipefail

if [ $# -ne 3 ] || { [ "$3" != x86_64 ] && [ "$3" != i386 ]; }; then
    echo "usage: derive-cancellable.sh LIBC.so.6 DEBUGFILE x86_64|i386" >&2
    exit 2
fi
libc=$1 debug=$2 arch=$3   # ARCH only names the list: objdump reads the ELF class itself
maxdepth=${MAXDEPTH:-3}
hops=${HOPS:-3}

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
#   pthread_testcancel                 the explicit test (___pthread_testcancel in the source)
#   __futex_abstimed_wait_cancelable64 the cancellable futex wait of sem_*, pthread_cond_*,
#                                      pthread_join, aio_suspend
# Each must be in the debug file's symbol table (else the glibc is not the one this expects).
seeds="__pthread_enable_asynccancel pthread_testcancel __futex_abstimed_wait_cancelable64"
# A function that calls this brackets its wait with cancellation disabled: not a point.
disable="__pthread_setcancelstate"

# Functions that reach the machinery but are not cancellation points. Names are matched against
# every symbol name of a function (exported or local, without version and without a
# .part.N/.isra.N/.cold suffix); a trailing * matches any rest. A listed function is neither
# printed nor followed, so its callers are not reached through it.
not_points=$(sed 's/#.*//' <<'EOF'
# -- Conditional: the cancellable case is entered through a seed.
__futex_abstimed_wait_common  # asynccancel only if its `cancel` argument is true, i.e. when
                              # called by __futex_abstimed_wait_cancelable64; with false
                              # (__futex_abstimed_wait64: timed mutex/rwlock locks) it is not
pthread_tryjoin_np    # __pthread_clockjoin_ex with block = false: never waits
pthread_create        # waits only on an error path (set-up of a stopped-start thread failed)
# -- glibc-internal callers: an exported function calls a cancellation point in passing
#    (set-up, clean-up, a non-blocking command, an error message), not as its purpose. Local
#    helpers are named where one covers many callers.
ptmalloc_init         # malloc, calloc, realloc, memalign, valloc, ...: the tcache key comes
                      # from getrandom(GRND_NONBLOCK) the first time
__gen_tempname        # mkstemp, mkdtemp, mktemp, tmpnam, tempnam, ...: getrandom(GRND_NONBLOCK)
_IO_*                 # stdio internals (_IO_file_read, _IO_file_open, _IO_proc_open, ...)
fdopen freopen freopen64 tmpfile tmpfile64 perror   # stdio: fcntl F_GETFL, close, open
__assert_fail __assert_perror_fail   # writes the message, then aborts
backtrace_symbols_fd __backtrace_symbols_fd         # writev of the symbol names
fts* __fts* ftw_startup                             # directory walks: open/close of dirs
getcwd                # generic fallback walks up with openat(".."); the syscall path doesn't
getpt posix_openpt openpty forkpty login_tty daemon # open/close of terminals, /dev/null
lckpwdf ulckpwdf      # shadow-file lock: lckpwdf does block in F_SETLKW (15 s alarm), but it
                      # is not a point in POSIX or musl (whose lckpwdf does nothing)
isastream __netlink_assert_response aio_cancel aio_fsync posix_fallocate posix_fallocate64
                      # fcntl with F_GETFL/F_GETFD-like commands; i386 posix_fallocate64 preads
internal_fallocate internal_fallocate64             # posix_fallocate's emulation
__aio_enqueue_request # aio_read/aio_write/lio_listio: pthread_create of a helper thread
# resolver, name services, interfaces, RPC, syslog, wordexp: sockets, pipes, nscd
getaddrinfo _res_hconf_reorder_addrs __netlink_request __nscd_* __res_context_send innetgr
setnetgrent rcmd_af rexec_af rresvport_af openlog_internal __vsyslog_internal closelog exec_comm
key_call_socket getkeyserv_handle key_gendes __get_socket callrpc clnt* svc* rtime
__libc_rpc_getport pmap_getmaps
EOF
)

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

# 3. + 4. The call graph from the disassembly, then the closure: one awk program reading the
#    function table, the export table, then objdump's output on stdin ("-").
objdump -d --no-show-raw-insn "$libc" | awk -v maxdepth="$maxdepth" -v hops="$hops" \
    -v seednames="$seeds" -v disablename="$disable" -v notpoints="$not_points" \
    -v explain="${EXPLAIN:-0}" '
    function hex(s,   i, n) { s = tolower(s); n = 0
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n }
    function base(name) { sub(/@.*/, "", name); sub(/\..*/, "", name); return name }
    function pick(names,   w, n, i) {      # a readable name for chains: not __GI_*, no @VERSION
        n = split(names, w, " "); for (i = 1; i < n && w[i] ~ /^__GI_/; i++) ;
        return base(w[i]) }
    function listed(name,   i) {           # in NOT_POINTS?
        name = base(name); if (name in npexact) return 1
        for (i = 1; i <= nglob; i++) if (index(name, npglob[i]) == 1) return 1
        return 0 }
    BEGIN {
        n = split(seednames, t, " "); for (i = 1; i <= n; i++) isseed[t[i]] = 1
        n = split(notpoints, t, " ")
        for (i = 1; i <= n; i++)
            if (t[i] ~ /\*$/) npglob[++nglob] = substr(t[i], 1, length(t[i]) - 1)
            else npexact[t[i]] = 1 }
    FILENAME == ARGV[1] {                     # function table
        a = $1 + 0
        if (!(a in size)) { starts[++nf] = a; size[a] = 0 }
        if ($2 + 0 > size[a]) size[a] = $2 + 0
        fname[a] = (a in fname) ? fname[a] " " $3 : $3
        if (base($3) in isseed) { seed[a] = 1; seen[base($3)] = 1 }
        if (base($3) == disablename) { disabler = a; seen[disablename] = 1 }
        if (listed($3)) { block[a] = 1; why[a] = "listed" }
        next }
    FILENAME == ARGV[2] {                     # exports
        a = $1 + 0; exported[a] = 1
        ename[a] = (a in ename) ? ename[a] " " $2 : $2
        if (listed($2)) { block[a] = 1; why[a] = "listed" }
        next }
    !cur { cur = 1 }                          # starts[] is in address order (sort -n)
    # Instruction lines: "  85e60:\tcall   85820 <...>". Keep direct calls and jumps.
    /^ *[0-9a-f]+:\t/ {
        split($0, f, "\t"); split(f[2], w, " "); gsub(/[ :]/, "", f[1])
        m = w[1]; tgt = w[2]
        if (m == "bnd" || m == "notrack") { m = w[2]; tgt = w[3] }
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
    # function reached gets the tier (and its chain, for EXPLAIN=1); a blocked one is only
    # remembered for EXPLAIN=1 and is never followed.
    function closure(tier,   q, h, tl, v, d, k, c, nc, i) {
        h = 1; tl = 0
        for (v in root) { q[++tl] = v; depth[v] = 0; via[v] = chain[v] }
        while (h <= tl) {
            v = q[h++]; d = depth[v]
            if (!(v in root) && (v in exported || d >= maxdepth)) continue
            nc = split(callers[v], c, " ")
            for (i = 1; i <= nc; i++) {
                k = c[i] + 0
                if (k in depth) continue
                depth[k] = d + 1; via[k] = pick(fname[k]) " -> " via[v]
                if (k in block) {
                    if (k in exported && !(k in found) && !(k in dropped)) {
                        dropped[k] = "x" tier; chain[k] = "(" why[k] ") " via[k] }
                    continue }
                q[++tl] = k
                if (k in exported && !(k in found)) { found[k] = tier; chain[k] = via[k] }
            }
        }
    }
    END {
        n = split(seednames " " disablename, t, " ")
        for (i = 1; i <= n; i++) if (!(t[i] in seen)) {
            print "derive-cancellable.sh: no function " t[i] " in the debug file" > "/dev/stderr"
            exit 1 }
        # The direct callers of __pthread_setcancelstate disable cancellation: not points.
        n = split(callers[disabler], c, " ")
        for (i = 1; i <= n; i++) {
            a = c[i] + 0; if (!(a in block)) { block[a] = 1; why[a] = "disables" } }
        # Tier A: the roots are the seeds (pthread_testcancel is itself exported).
        for (a in seed) {
            root[a] = 1; chain[a] = pick(fname[a]); if (a in exported) found[a] = "A" }
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
                if (explain == 1) printf "%-28s %-3s %s\n", e[i], found[a], chain[a]
                else print e[i] }
        if (explain == 1) for (a in dropped) { n = split(ename[a], e, " ")
            for (i = 1; i <= n; i++) printf "%-28s %-3s %s\n", e[i], dropped[a], chain[a] }
    }' <(printf '%s\n' "$funcs") <(printf '%s\n' "$exports") - | sort -u
