#!/bin/sh
# Fetch the arm64 guest kernel with 16 KiB pages that the row
# arm64-6.12-16k-legacy boots: Debian trixie's
# linux-image-6.12.117+deb13-arm64-16k-unsigned (ARM64_16K_PAGES, VFIO as
# modules, no IOMMUFD), through a private apt sources list (its own lists
# and cache under the cache directory; the machine's apt set-up is not
# touched, nothing is installed).  Idempotent: a cached kernel of the
# pinned package version is reused.  QEMU and the guest's busybox are
# setup-arm64.sh's (the 6.1 arm64 row's).
#
# Usage: tests/vm/fetch-kernel-16k.sh          fetch (or reuse) and print the
#                                              kernel directory on the last line
#        tests/vm/fetch-kernel-16k.sh --path   print the kernel directory; exit
#                                              0 when it is there, 1 when not
# Env:   FPGACTL_VM_CACHE    cache directory (as setup.sh)
#
# The result, in $cache/arm64/kernel-16k/PACKAGE_VERSION/ (keyed by the
# package's name and version): vmlinuz, config, release, version,
# modules/{order,*.ko} (decompressed from the package's .ko.xz), complete
# (last).  See docs/vm-tests.md, "16 KiB pages".
set -eu

# The pin.  Debian's mirror keeps the current trixie kernel and often one
# before it; when the pinned one is gone, the one linux-image-arm64-16k
# depends on is fetched instead, under its own key, and the script says so.
abi=6.12.117+deb13
version=6.12.117-1
suite=trixie
mirror=http://deb.debian.org/debian
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Load order (init.sh insmods modules/order).  6.12 has vfio_virqfd in
# vfio.ko; virtio_console and irqbypass are built in.
modules="kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/vfio_iommu_type1.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko
kernel/drivers/vfio/pci/vfio-pci.ko
kernel/drivers/virtio/virtio_mmio.ko"

cache=${FPGACTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm}
kcache=$cache/arm64/kernel-16k

say() { echo "fetch-kernel-16k: $*" >&2; }
die() { echo "fetch-kernel-16k: error: $*" >&2; exit 1; }

# dest_for ABI VERSION: set pkg, release and dest.
dest_for() {
	release=$1-arm64-16k
	pkg=linux-image-$release-unsigned
	dest=$kcache/${pkg}_$2
}
dest_for "$abi" "$version"
# A fallback fetched when the pin was gone is named here.
instead=$kcache/instead
if [ ! -f "$dest/complete" ] && [ -f "$instead" ] && [ -f "$(cat "$instead")/complete" ]; then
	dest=$(cat "$instead")
fi

if [ "${1:-}" = "--path" ]; then
	echo "$dest"
	[ -f "$dest/complete" ]
	exit
fi
[ $# -eq 0 ] || die "usage: fetch-kernel-16k.sh [--path]"

# One fetch at a time per cache (the rows may start side by side).
mkdir -p "$kcache"
exec 9>"$kcache/.lock-fetch"
flock 9

if [ -f "$dest/complete" ]; then
	say "cached: $dest"
	echo "$dest"
	exit 0
fi

# The private apt set-up: trixie's arm64 lists only.
apt_dir=$cache/apt-$suite-arm64
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
echo "deb [arch=arm64 signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
apt_opts="-o Dir::Etc::SourceList=$apt_dir/sources.list -o Dir::Etc::SourceParts=/dev/null
 -o Dir::State::Lists=$apt_dir/lists -o Dir::Cache=$apt_dir/cache
 -o Dir::State::status=/dev/null -o APT::Architecture=arm64
 -o APT::Architectures::=arm64 -o Acquire::Languages=none
 -o Debug::NoLocking=1 -o APT::Sandbox::User=root"
work=$(mktemp -d "$kcache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

deb=$apt_dir/cache/archives/${pkg}_${version}_arm64.deb
if [ ! -f "$deb" ]; then
	say "fetching $pkg=$version (arm64) from $suite (private apt lists in $apt_dir)"
	# shellcheck disable=SC2086
	apt-get $apt_opts -qq update >&2 || die "apt-get update of the private $suite list failed"
	# shellcheck disable=SC2086
	if ! apt-cache $apt_opts show "$pkg=$version" >/dev/null 2>&1; then
		# shellcheck disable=SC2086
		dep=$(apt-cache $apt_opts depends linux-image-arm64-16k 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([0-9][^ :]*\)-arm64-16k\(-unsigned\)\{0,1\}\(:arm64\)\{0,1\}$/\1/p' | head -n 1)
		[ -n "$dep" ] || die "$pkg=$version is not in $suite and linux-image-arm64-16k names no kernel (move the pin in $0)"
		# shellcheck disable=SC2086
		newver=$(apt-cache $apt_opts madison "linux-image-$dep-arm64-16k-unsigned" | awk 'NR == 1 { print $3 }')
		say "$pkg=$version is no longer in $suite: fetching linux-image-$dep-arm64-16k-unsigned=$newver instead (move the pin in $0)"
		dest_for "$dep" "$newver"
		version=$newver
		deb=$apt_dir/cache/archives/${pkg}_${version}_arm64.deb
		use_instead=1
	fi
	if [ ! -f "$deb" ]; then
		# shellcheck disable=SC2086
		(cd "$apt_dir/cache/archives" && apt-get $apt_opts -qq download "$pkg=$version" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' >&2) || true
		[ -f "$deb" ] || die "apt-get download $pkg=$version (arm64) from $suite failed"
	fi
fi

say "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"
mdir=$work/root/usr/lib/modules/$release
[ -d "$mdir" ] || mdir=$work/root/lib/modules/$release
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp/modules"
cp "$work/root/boot/vmlinuz-$release" "$dest.tmp/vmlinuz"
cp "$work/root/boot/config-$release" "$dest.tmp/config"
grep -qx 'CONFIG_ARM64_16K_PAGES=y' "$dest.tmp/config" || die "$pkg is not a 16 KiB-page kernel"
: >"$dest.tmp/modules/order"
for m in $modules; do
	name=$(basename "$m")
	if [ -f "$mdir/$m" ]; then
		cp "$mdir/$m" "$dest.tmp/modules/$name"
	elif [ -f "$mdir/$m.xz" ]; then
		xz -dc "$mdir/$m.xz" >"$dest.tmp/modules/$name"
	else
		die "$pkg has no $m"
	fi
	echo "$name" >>"$dest.tmp/modules/order"
done
echo "$release" >"$dest.tmp/release"
echo "$version" >"$dest.tmp/version"
touch "$dest.tmp/complete"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
[ -z "${use_instead:-}" ] || echo "$dest" >"$instead"
# The package is not kept once unpacked (92 MB).
rm -f "$deb"
say "kernel $release ($version): vmlinuz, config and $(echo "$modules" | wc -l) modules in $dest"
echo "$dest"
