#!/bin/sh
# Prepare the arm64 VM tests: qemu-system-arm (qemu-system-aarch64), and in
# the cache directory Debian's arm64 6.1 kernel (vmlinuz and the VFIO
# modules) and busybox-static:arm64, fetched with apt-get download for the
# arm64 architecture (nothing is installed for arm64).  Idempotent: what is
# there is reused.
#
# Usage: tests/vm/setup-arm64.sh      (root, or a user with sudo, for apt-get)
# Env:   FPGACTL_VM_CACHE   cache directory
#                           (default ${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm)
#
# The cache holds arm64/kernel/<release>/{vmlinuz,modules/*.ko,modules/order,
# complete}, arm64/busybox (static, aarch64) and arm64/current naming the
# release vm.py boots (--arch arm64).  See docs/vm-tests.md, "arm64".
set -eu

cache=${FPGACTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm}/arm64
# One set-up at a time per cache: the matrix rows may run in parallel
# (tests/vm/meson.build), and two of them may find the kernel missing.
mkdir -p "$cache"
exec 9>"$cache/.lock-setup-arm64"
flock 9

# Load order.  Debian's arm64 kernel has irqbypass built in (no .ko).
modules="kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/vfio_iommu_type1.ko
kernel/drivers/vfio/vfio_virqfd.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko
kernel/drivers/vfio/pci/vfio-pci.ko
kernel/drivers/virtio/virtio_mmio.ko
kernel/drivers/char/virtio_console.ko"
# virtio_mmio and virtio_console (modules in Debian's arm64 kernel; the
# virtio core is built in): the virtio-serial ports on virt's virtio-mmio
# transport that carry the test protocol and the host requests (virt has
# one UART, the console; see qemu_command_arm64 in vm.py).  A cached kernel
# without them is unpacked again.

say() { echo "vm-setup-arm64: $*"; }
die() { echo "vm-setup-arm64: error: $*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo -n "$@"
	else
		die "not root and no sudo: cannot run $*"
	fi
}

ARM="-o APT::Architecture=arm64"

# 1. Host packages.
missing=""
for p in qemu-system-arm cpio; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing$missing"
	as_root apt-get update -qq || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
fi

# resolve: the kernel package linux-image-arm64 depends on.
resolve() {
	apt-cache $ARM depends linux-image-arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n 1
}
pkg=$(resolve)
if [ -z "$pkg" ]; then
	# The arm64 package lists are fetched only once the dpkg architecture
	# is there (tools/deps.sh aarch64 adds it).
	as_root apt-get update -qq $ARM || die "apt-get update failed"
	pkg=$(resolve)
fi
[ -n "$pkg" ] || die "apt-cache depends linux-image-arm64 (arm64) names no kernel package: run tools/deps.sh aarch64 first"
release=${pkg#linux-image-}
mkdir -p "$cache/kernel"
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

download() {
	(cd "$work" && apt-get download -q $ARM "$1:arm64" 2>&1 |
		grep -v '^W: Download is performed unsandboxed' >&2) || true
	ls "$work"/"$1"_*.deb 2>/dev/null | head -n 1
}

# 2. busybox.
if [ -x "$cache/busybox" ]; then
	say "busybox: cached in $cache/busybox"
else
	say "downloading busybox-static (arm64)"
	deb=$(download busybox-static)
	[ -n "$deb" ] || die "apt-get download busybox-static:arm64 failed"
	dpkg-deb -x "$deb" "$work/bb"
	cp "$work/bb/bin/busybox" "$cache/busybox.tmp"
	mv "$cache/busybox.tmp" "$cache/busybox"
	say "busybox: $cache/busybox"
fi

# 3. Kernel.
dest=$cache/kernel/$release
if [ -f "$dest/complete" ] && [ -f "$dest/modules/virtio_console.ko" ]; then
	say "kernel $release: cached in $dest"
else
	say "downloading $pkg (arm64)"
	deb=$(download "$pkg")
	[ -n "$deb" ] || die "apt-get download $pkg:arm64 failed"
	say "unpacking $(basename "$deb")"
	dpkg-deb -x "$deb" "$work/root"
	rm -rf "$dest.tmp"
	mkdir -p "$dest.tmp/modules"
	cp "$work/root/boot/vmlinuz-$release" "$dest.tmp/vmlinuz"
	cp "$work/root/boot/config-$release" "$dest.tmp/config"
	: >"$dest.tmp/modules/order"
	for m in $modules; do
		src=$work/root/lib/modules/$release/$m
		name=$(basename "$m")
		if [ -f "$src" ]; then
			cp "$src" "$dest.tmp/modules/$name"
		elif [ -f "$src.xz" ]; then
			xz -dc "$src.xz" >"$dest.tmp/modules/$name"
		else
			die "$pkg has no $m"
		fi
		echo "$name" >>"$dest.tmp/modules/order"
	done
	echo "$release" >"$dest.tmp/release"
	touch "$dest.tmp/complete"
	rm -rf "$dest"
	mv "$dest.tmp" "$dest"
	say "kernel $release: vmlinuz, config and $(echo "$modules" | wc -l) modules (VFIO, virtio-serial) in $dest"
fi
echo "$release" >"$cache/current.tmp"
mv "$cache/current.tmp" "$cache/current"
say "arm64 guest kernel is $release"
