#!/usr/bin/env bash
# Fetches the glibc of other Debian releases into sysroots for tests/glibcs.rs:
#
#     bash tests/glibcs/fetch.sh                    # bullseye and forky, amd64 and i386
#     bash tests/glibcs/fetch.sh all                # also trixie (what PTCANCEL_GLIBCS=all tests)
#     bash tests/glibcs/fetch.sh trixie:i386 ...    # release[:arch], arch = amd64 | i386
#
# Releases: bullseye = glibc 2.31, trixie = 2.41, forky = 2.43 (bookworm = 2.36 is the host).
# Each goes to target/glibcs/<release>-<arch>/: the packages below unpacked with dpkg-deb into a
# merged-/usr tree (lib -> usr/lib, so DIR/lib/<triplet>/ld-linux*.so.2 exists whatever the
# release's layout), absolute symlinks made relative, and `glibc-version` (what libc6 says).
# A sysroot already there is skipped; a new one is built beside it and renamed when complete.
#
# Packages come from the mirror the host's apt uses (/etc/apt/sources.list.d/*.sources or
# /etc/apt/sources.list; PTCANCEL_DEBIAN_MIRROR overrides) through `apt-get download` with a
# private apt state under target/glibcs/.apt/: the host's package lists, status, cache and
# installed libc are never touched. Works as root (a fresh Debian 12 CI machine) or not.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'fetch.sh: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }

packages=(libc6 libc6-dev linux-libc-dev libgcc-s1 libstdc++6)

declare -A glibc_of=([bullseye]=2.31 [trixie]=2.41 [forky]=2.43)
declare -A triplet_of=([amd64]=x86_64-linux-gnu [i386]=i386-linux-gnu)

wanted=()
if [ $# -eq 0 ]; then
    set -- bullseye forky
elif [ "$*" = all ]; then
    set -- bullseye trixie forky
fi
for spec in "$@"; do
    release=${spec%%:*}
    [ -n "${glibc_of[$release]:-}" ] ||
        fail "unknown release '$release' (known: bullseye trixie forky, or 'all')"
    if [ "$spec" = "$release" ]; then
        wanted+=("$release:amd64" "$release:i386")
    else
        arch=${spec#*:}
        [ -n "${triplet_of[$arch]:-}" ] || fail "unknown arch '$arch' in '$spec' (amd64 or i386)"
        wanted+=("$spec")
    fi
done

for tool in apt-get dpkg-deb tar realpath; do
    command -v "$tool" >/dev/null || fail "$tool is missing: this script needs a Debian or Ubuntu machine"
done

top=$PWD/target/glibcs

# The host's Debian mirror and keyring: the first deb entry that is not a security archive.
mirror=${PTCANCEL_DEBIAN_MIRROR:-}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ -z "$mirror" ]; then
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # deb822 stanzas, blank-line separated; pick one whose URIs is not a -security archive.
        found=$(awk 'BEGIN { RS = ""; FS = "\n" }
            {
                uri = ""; key = ""; types = ""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)      { uri = $i;   sub(/^URIs:[ \t]*/, "", uri); sub(/[ \t].*/, "", uri) }
                    if ($i ~ /^Signed-By:/) { key = $i;   sub(/^Signed-By:[ \t]*/, "", key) }
                    if ($i ~ /^Types:/)     { types = $i }
                    if ($i ~ /^Enabled:[ \t]*no/) { uri = "" }
                }
                if (uri != "" && uri !~ /security/ && types ~ /deb( |$)/) { print uri " " key; exit }
            }' "$f")
        if [ -n "$found" ]; then
            mirror=${found%% *}
            key=${found#* }
            [ "$key" != "$found" ] && [ -f "$key" ] && keyring=$key
            break
        fi
    done
fi
if [ -z "$mirror" ] && [ -r /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ {
            for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; exit } }' \
        /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
    mirror=http://deb.debian.org/debian
    say "no Debian mirror found in /etc/apt: using $mirror"
fi
[ -f "$keyring" ] ||
    fail "the Debian archive keyring $keyring is missing: apt-get install debian-archive-keyring"

# Private apt state for one release: its own sources, lists, status and cache.
apt_for() {
    local release=$1 state=$top/.apt/$1
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/sources" \
        "$state/preferences" "$state/debs"
    : >"$state/status"
    cat >"$state/sources/$release.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $release
Components: main
Architectures: amd64 i386
Signed-By: $keyring
EOF
    apt_opts=(
        -o "Dir::State=$state"
        -o "Dir::State::Lists=$state/lists"
        -o "Dir::State::status=$state/status"
        -o "Dir::State::extended_states=$state/extended_states"
        -o "Dir::Etc::SourceList=/dev/null"
        -o "Dir::Etc::SourceParts=$state/sources"
        -o "Dir::Etc::Preferences=/dev/null"
        -o "Dir::Etc::PreferencesParts=$state/preferences"
        -o "Dir::Cache=$state/cache"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Architecture=amd64"
        -o "APT::Architectures::=amd64"
        -o "APT::Architectures::=i386"
        -o "Acquire::Languages=none"
    )
    # Root drops to _apt for downloads, which cannot always reach into the repository.
    if [ "$(id -u)" -eq 0 ]; then
        apt_opts+=(-o "APT::Sandbox::User=root")
    fi
}

declare -A updated=()

# Newer assemblers (forky's i386 Scrt1.o) mark `push main@GOT(%ebx)` R_386_GOT32X; Debian 12's
# ld (binutils 2.40) then "relaxes" the push into `jmp main`, and every PIE built against that
# release crashes at start. R_386_GOT32 means the same without the relaxation: rewrite the
# relocation type of such pushes (opcode ff /6) in place, and say so.
fix_push_got32x() {
    local root=$1 name=$2 object=$1/$2 count
    count=$(perl -e '
        use strict; use warnings;
        my $file = shift;
        open(my $fh, "+<:raw", $file) or die "$file: $!\n";
        local $/; my $elf = <$fh>;
        die "$file: not a 32-bit little-endian ELF\n" unless substr($elf, 0, 6) eq "\x7fELF\x01\x01";
        my ($shoff) = unpack("V", substr($elf, 0x20, 4));
        my ($shentsize, $shnum) = unpack("v v", substr($elf, 0x2e, 4));
        my @sh = map { [unpack("V10", substr($elf, $shoff + $_ * $shentsize, 40))] } 0 .. $shnum - 1;
        my $fixed = 0;
        for my $s (@sh) {
            next unless $s->[1] == 9;    # SHT_REL
            my $target = $sh[$s->[7]][4];
            for (my $i = 0; $i < $s->[5]; $i += 8) {
                my $at = $s->[4] + $i;
                my ($offset, $info) = unpack("V V", substr($elf, $at, 8));
                next unless ($info & 0xff) == 43;    # R_386_GOT32X
                my ($opcode, $modrm) = unpack("C C", substr($elf, $target + $offset - 2, 2));
                next unless $opcode == 0xff && ($modrm & 0x38) == 0x30;    # push r/m32
                substr($elf, $at + 4, 4) = pack("V", ($info & ~0xff) | 3);    # R_386_GOT32
                $fixed++;
            }
        }
        if ($fixed) { seek($fh, 0, 0); print $fh $elf; }
        close($fh) or die "$file: $!\n";
        print "$fixed\n";
    ' "$object") || return 1
    if [ "$count" -gt 0 ]; then
        say "$name: $count push relocation(s) R_386_GOT32X -> R_386_GOT32 (the host's ld mis-relaxes them)"
        printf '%s: %s push relocation(s) R_386_GOT32X -> R_386_GOT32\n' "$name" "$count" >>"$root/PATCHED"
    fi
}

fetch_one() {
    local release=$1 arch=$2
    local triplet=${triplet_of[$arch]} dir=$top/$release-$arch
    if [ -f "$dir/glibc-version" ]; then
        say "$release-$arch: already there (glibc $(cat "$dir/glibc-version")), skipped"
        return 0
    fi
    apt_for "$release"
    local state=$top/.apt/$release
    if [ -z "${updated[$release]:-}" ]; then
        say "$release: reading the package lists from $mirror"
        apt-get -q "${apt_opts[@]}" --error-on=any update >"$state/update.log" 2>&1 || {
            sed 's/^/    /' "$state/update.log" >&2
            fail "$release: apt-get update with the private state in $state failed (above)"
        }
        updated[$release]=1
    fi

    local debs=$state/debs/$arch
    rm -rf "$debs"
    mkdir -p "$debs"
    say "$release-$arch: downloading ${packages[*]}"
    local log=$state/download-$arch.log p
    : >"$log"
    for p in "${packages[@]}"; do
        # An Architecture: all package (linux-libc-dev from trixie on) exists under the
        # native arch only: then take it as it is, provided it really is arch-independent.
        if ! (cd "$debs" && apt-get -q "${apt_opts[@]}" download "$p:$arch") >>"$log" 2>&1; then
            (cd "$debs" && apt-get -q "${apt_opts[@]}" download "$p") >>"$log" 2>&1 &&
                [ "$(dpkg-deb -f "$debs/${p}"_*.deb Architecture)" = all ] || {
                sed 's/^/    /' "$log" >&2
                fail "$release-$arch: apt-get download of $p failed (above)"
            }
        fi
    done

    local tmp=$dir.partial
    rm -rf "$tmp"
    # Merged /usr, whatever the release: packages of older releases put libc in /lib, newer
    # ones in /usr/lib; both then end up in usr/lib and are reachable as lib/.
    mkdir -p "$tmp/usr/lib" "$tmp/usr/bin" "$tmp/usr/sbin"
    ln -s usr/lib "$tmp/lib"
    ln -s usr/bin "$tmp/bin"
    ln -s usr/sbin "$tmp/sbin"
    if [ "$arch" = amd64 ]; then
        mkdir -p "$tmp/usr/lib64"
        ln -s usr/lib64 "$tmp/lib64"
    fi
    local deb
    for deb in "$debs"/*.deb; do
        [ -e "$deb" ] || fail "$release-$arch: no package was downloaded"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --keep-directory-symlink --no-same-owner ||
            fail "$release-$arch: unpacking $(basename "$deb") failed"
    done
    rm -rf "$tmp/usr/share/doc" "$tmp/usr/share/man" "$tmp/usr/share/locale" "$tmp/usr/share/lintian"

    # Absolute symlinks (lib64/ld-linux-x86-64.so.2 -> /lib/...) would point into the host.
    local link target
    while IFS= read -r -d '' link; do
        target=$(readlink "$link")
        ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$tmp$target")" "$link"
    done < <(find "$tmp" -type l -lname '/*' -print0)

    local loader
    case $arch in
        amd64) loader=$tmp/lib/$triplet/ld-linux-x86-64.so.2 ;;
        i386) loader=$tmp/lib/$triplet/ld-linux.so.2 ;;
    esac
    [ -e "$loader" ] || fail "$release-$arch: the unpacked packages have no ${loader#"$tmp"/}"
    [ -e "$tmp/usr/lib/$triplet/crt1.o" ] || fail "$release-$arch: no usr/lib/$triplet/crt1.o (libc6-dev)"

    if [ "$arch" = i386 ]; then
        fix_push_got32x "$tmp" "usr/lib/$triplet/Scrt1.o" || fail "$release-$arch: patching Scrt1.o failed"
    fi

    local version
    version=$(dpkg-deb -f "$debs"/libc6_*.deb Version)
    local upstream=${version%%-*}
    if [ "${upstream%.*}" != "${glibc_of[$release]}" ] && [ "$upstream" != "${glibc_of[$release]}" ]; then
        say "$release-$arch: NOTE: libc6 is $version, not glibc ${glibc_of[$release]} as expected"
    fi
    printf '%s\n' "$upstream" >"$tmp/glibc-version"
    printf '%s\n' "$version" >"$tmp/libc6-version"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    rm -rf "$debs"
    say "$release-$arch: glibc $version in ${dir#"$PWD"/}"
}

for spec in "${wanted[@]}"; do
    fetch_one "${spec%%:*}" "${spec#*:}"
done
