#!/bin/sh
# Prepare the VM test suite: QEMU, cpio and a static busybox from Debian, and
# Debian's current 6.1 kernel (vmlinuz plus the VFIO modules) in a cache
# directory outside the source tree.  Idempotent: what is there is reused.
#
# Usage: tests/vm/setup.sh            (root, or a user with sudo, for apt-get)
# Env:   FPGACTL_VM_CACHE   cache directory
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm)
#        FPGACTL_VM_REFRESH=1  fetch the kernel again even when one is cached
#
# The cache holds kernel/<release>/{vmlinuz,modules/*.ko,modules/order,release}
# (modules/order: the .ko names in load order) and a file
# "current" naming the release vm.py boots.  Prints one line per thing done.
set -eu

cache=${FPGACTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm}

# The guest modules vm.py loads, in load order (see docs/vm-tests.md).
modules="kernel/virt/lib/irqbypass.ko
kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/vfio_iommu_type1.ko
kernel/drivers/vfio/vfio_virqfd.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko
kernel/drivers/vfio/pci/vfio-pci.ko"

say() { echo "vm-setup: $*"; }
die() { echo "vm-setup: error: $*" >&2; exit 1; }

# as_root CMD...: run CMD as root, through sudo when not root.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "not root and no sudo: cannot run $*"
	fi
}

apt_updated=""
apt_update() {
	[ -n "$apt_updated" ] && return 0
	say "apt-get update"
	as_root apt-get update -qq || die "apt-get update failed"
	apt_updated=1
}

# 1. Host packages.
missing=""
for p in qemu-system-x86 cpio busybox-static; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	apt_update
	say "installing$missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
else
	say "qemu-system-x86, cpio, busybox-static: already installed"
fi

# 2. Guest kernel.  A kernel directory is complete once everything vm.py
# needs is in it ("complete" is written last).
complete() {
	[ -z "${FPGACTL_VM_REFRESH:-}" ] && [ -f "$1/complete" ] && [ -f "$1/modules/order" ]
}
if [ -f "$cache/current" ]; then
	release=$(cat "$cache/current")
	if complete "$cache/kernel/$release"; then
		say "kernel $release: cached in $cache/kernel/$release"
		exit 0
	fi
fi

# The package linux-image-amd64 depends on, e.g. linux-image-6.1.0-28-amd64.
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

# unpack PKG DEB DEST: vmlinuz and the VFIO modules of DEB into DEST.
unpack() {
	say "unpacking $(basename "$2")"
	dpkg-deb -x "$2" "$work/root"
	rel=${1#linux-image-}
	rm -rf "$3.tmp"
	mkdir -p "$3.tmp/modules"
	cp "$work/root/boot/vmlinuz-$rel" "$3.tmp/vmlinuz"
	for m in $modules; do
		src="$work/root/lib/modules/$rel/$m"
		name=$(basename "$m")
		if [ -f "$src" ]; then
			cp "$src" "$3.tmp/modules/$name"
		elif [ -f "$src.xz" ]; then
			xz -dc "$src.xz" >"$3.tmp/modules/$name"
		elif [ -f "$src.zst" ]; then
			zstd -qdc "$src.zst" >"$3.tmp/modules/$name"
		else
			die "$1 has no $m"
		fi
		echo "$name" >>"$3.tmp/modules/order"
	done
	echo "$rel" >"$3.tmp/release"
	echo "$1" >"$3.tmp/package"
	touch "$3.tmp/complete"
	rm -rf "$3"
	mv "$3.tmp" "$3"
	rm -rf "$work/root"
}

pkg=$(resolve)
if [ -z "$pkg" ]; then
	apt_update
	pkg=$(resolve)
fi
[ -n "$pkg" ] || die "apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package"

mkdir -p "$cache/kernel"
if ! complete "$cache/kernel/${pkg#linux-image-}"; then
	work=$(mktemp -d "$cache/fetch.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	say "downloading $pkg"
	if ! (cd "$work" && apt-get download -q "$pkg" >/dev/null 2>&1); then
		# Package lists older than the mirror: update, resolve again.
		apt_update
		pkg=$(resolve)
		[ -n "$pkg" ] || die "apt-cache depends linux-image-amd64 names no linux-image-*-amd64 package"
		say "downloading $pkg"
		(cd "$work" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			true
	fi
	deb=$(ls "$work"/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "apt-get download $pkg failed"
	unpack "$pkg" "$deb" "$cache/kernel/${pkg#linux-image-}"
	say "kernel ${pkg#linux-image-}: vmlinuz and $(echo "$modules" | wc -l) VFIO modules in $cache/kernel/${pkg#linux-image-}"
else
	say "kernel ${pkg#linux-image-}: cached in $cache/kernel/${pkg#linux-image-}"
fi
release=${pkg#linux-image-}
echo "$release" >"$cache/current.tmp"
mv "$cache/current.tmp" "$cache/current"
say "guest kernel is $release"
