#!/bin/sh
# Build the x86 guest kernel with iommufd (IOMMUFD=y, VFIO_DEVICE_CDEV=y,
# everything built in) that the 6.12 rows of the VM matrix boot, from a
# pinned version of Debian trixie's linux-source-6.12, and cache it outside
# the source tree.  Idempotent: a cached kernel whose key matches is reused.
#
# Usage: tests/vm/build-kernel.sh          build (or reuse) and print the
#                                          kernel directory on the last line
#        tests/vm/build-kernel.sh --path   print the kernel directory; exit 0
#                                          when it is built, 1 when not
# Env:   FPGACTL_VM_CACHE    cache directory (as setup.sh)
#        FPGACTL_VM_KERNEL_JOBS   make -j (default 2)
#
# Steps: the build tools from Debian (apt-get, as root or through sudo);
# linux-source-6.12=$version fetched through a private apt sources list
# (its own lists and cache under the cache directory; the machine's apt
# set-up is not touched, nothing is installed from trixie); "make
# tinyconfig", the fragment tests/vm/kernel/iommufd.config appended, "make
# olddefconfig"; a check that every line of the fragment is in the final
# .config (the build stops naming the options Kconfig dropped); "make
# bzImage".  The result, in $cache/built/x86-6.12-iommufd-KEY/:
#   vmlinux (ELF with the PVH entry QEMU boots), bzImage, config, release,
#   key (what the key was made of), build.log, seconds, complete (last).
# KEY hashes the source version, the fragment, the compiler's version line
# and $recipe, so that a changed fragment, source or compiler never reuses
# a stale kernel.  The fresh build takes about 10 minutes on 2 cores.
set -eu

# The pinned source.  Debian's mirror keeps the current trixie version and
# often one before it (apt-cache madison shows which); moving the pin is a
# one-line change here.
package=linux-source-6.12
version=6.12.117-1
suite=trixie
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# Bump when the build steps below change what comes out.
recipe=1

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/kernel/iommufd.config
cache=${FPGACTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm}
jobs=${FPGACTL_VM_KERNEL_JOBS:-2}
cc=${CC:-gcc}

say() { echo "build-kernel: $*" >&2; }
die() { echo "build-kernel: error: $*" >&2; exit 1; }

[ -f "$fragment" ] || die "no config fragment $fragment"

# The cache key: everything that decides the bytes of the kernel.
ccver=$($cc --version 2>/dev/null | head -n 1) || ccver=""
# key_for VERSION: set key_text, key and dest for that source version.
key_for() {
	key_text="package=$package
version=$1
fragment-sha256=$(sha256sum "$fragment" | cut -d' ' -f1)
compiler=$ccver
recipe=$recipe"
	key=$(printf '%s\n' "$key_text" | sha256sum | cut -c1-16)
	dest=$cache/built/x86-6.12-iommufd-$key
}
key_for "$version"
# When the mirror no longer has the pinned version, the newest one there is
# built instead, under its own key; this file names it (see step 2).
instead=$dest.instead
if [ -f "$instead" ] && [ -f "$(cat "$instead")/complete" ]; then
	dest=$(cat "$instead")
fi

if [ "${1:-}" = "--path" ]; then
	echo "$dest"
	[ -f "$dest/complete" ]
	exit
fi
[ $# -eq 0 ] || die "usage: build-kernel.sh [--path]"

# One set-up at a time per cache: the matrix rows may run in parallel
# (tests/vm/meson.build), and two of them may find the kernel missing.
mkdir -p "$cache"
exec 9>"$cache/.lock-build-kernel"
flock 9

if [ -f "$dest/complete" ]; then
	say "cached: $dest ($(cat "$dest/release"), built in $(cat "$dest/seconds") s)"
	echo "$dest"
	exit 0
fi

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "not root and no sudo: cannot run $*"
	fi
}

# 1. Build tools (from the machine's own apt sources).
tools="make gcc flex bison libelf-dev bc libssl-dev xz-utils cpio"
missing=""
for p in $tools; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing$missing"
	as_root apt-get update -qq || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
fi
# The compiler was missing when the key was made: make it again.
[ -n "$ccver" ] || exec sh "$0"

# 2. The source, through a private apt sources list.
apt_dir=$cache/apt-$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/built"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache
 -o Dir::State::status=/dev/null -o APT::Architecture=amd64
 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
work=$(mktemp -d "$cache/built/work.XXXXXX")
trap 'rm -rf "$work"' EXIT
deb=$(ls "$apt_dir/cache/archives/${package}_${version}_all.deb" 2>/dev/null || true)
if [ -z "$deb" ]; then
	say "fetching $package=$version from $suite (private apt lists in $apt_dir)"
	# shellcheck disable=SC2086
	apt-get $apt_opts -qq update >&2 || die "apt-get update of the private $suite list failed"
	# Debian's mirror drops a version a release or two after the next one:
	# then build the newest there, under its own key, and say so.
	# shellcheck disable=SC2086
	newest=$(apt-cache $apt_opts madison $package 2>/dev/null | awk 'NR == 1 { print $3 }')
	# shellcheck disable=SC2086
	if [ -n "$newest" ] && [ "$newest" != "$version" ] &&
		! apt-cache $apt_opts madison $package 2>/dev/null | awk '{ print $3 }' | grep -qxF "$version"; then
		say "$package=$version is no longer in $suite: building $newest instead (move the pin in $0)"
		pinned_instead=$instead
		version=$newest
		key_for "$version"
		if [ -f "$dest/complete" ]; then
			echo "$dest" >"$pinned_instead"
			say "cached: $dest ($(cat "$dest/release"))"
			echo "$dest"
			exit 0
		fi
	fi
	# shellcheck disable=SC2086
	(cd "$apt_dir/cache/archives" &&
		apt-get $apt_opts -qq download "$package=$version" >&2) ||
		die "cannot download $package=$version from $suite; versions there now:
$(apt-cache $apt_opts madison $package 2>/dev/null)
(move the pin in $0)"
	deb=$apt_dir/cache/archives/${package}_${version}_all.deb
	[ -f "$deb" ] || die "apt-get download left no $deb"
fi

start=$(date +%s)
say "unpacking $(basename "$deb")"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards '*/linux-source-*.tar.xz'
tarball=$(ls "$work"/usr/src/linux-source-*.tar.xz)
tar -xJf "$tarball" -C "$work"
rm -rf "$work/usr"
src=$(ls -d "$work"/linux-source-*)

# 3. Configure and check.
say "configuring: tinyconfig + $(basename "$fragment") + olddefconfig"
make -C "$src" -s tinyconfig >"$work/build.log" 2>&1 || die "make tinyconfig failed (see $work/build.log)"
grep -v '^##' "$fragment" >>"$src/.config"
make -C "$src" -s olddefconfig >>"$work/build.log" 2>&1 || die "make olddefconfig failed"
dropped=""
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF "$line" "$src/.config" || dropped="$dropped
  $line (now: $(grep -E "^(# )?${line%%=*}[= ]" "$src/.config" || echo absent))" ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$src/.config" || dropped="$dropped
  $line (now: $(grep "^$opt=" "$src/.config"))" ;;
	esac
done <"$fragment"
[ -z "$dropped" ] || die "options of $fragment not in the configured kernel (unmet dependencies?):$dropped"
say "all $(grep -c '^CONFIG_' "$fragment") options of the fragment are set"

# 4. Build.
say "make -j$jobs bzImage (about 10 minutes on 2 cores; log: $dest.log)"
if ! make -C "$src" -j"$jobs" bzImage >>"$work/build.log" 2>&1; then
	cp "$work/build.log" "$dest.log"
	tail -n 30 "$dest.log" >&2
	die "make bzImage failed (log: $dest.log)"
fi
end=$(date +%s)

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
cp "$src/vmlinux" "$dest.tmp/vmlinux"
strip --strip-debug "$dest.tmp/vmlinux" 2>/dev/null || true
cp "$src/arch/x86/boot/bzImage" "$dest.tmp/bzImage"
cp "$src/.config" "$dest.tmp/config"
cp "$work/build.log" "$dest.tmp/build.log"
make -C "$src" -s kernelrelease >"$dest.tmp/release"
printf '%s\n' "$key_text" >"$dest.tmp/key"
echo $((end - start)) >"$dest.tmp/seconds"
touch "$dest.tmp/complete"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
rm -f "$dest.log"
[ -z "${pinned_instead:-}" ] || echo "$dest" >"$pinned_instead"
say "built $(cat "$dest/release") in $((end - start)) s: $dest"
echo "$dest"
