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
# (modules/order: the .ko names init.sh loads at boot, in load order;
# modules/GROUP.order: the modules a test loads on demand with
# "load_modules GROUP", see testlib.sh) and a file "current" naming the
# release vm.py boots.  Prints one line per thing done.
set -eu

cache=${FPGACTL_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libfpgactl-vm}
# One set-up at a time per cache: the matrix rows may run in parallel
# (tests/vm/meson.build), and two of them may find the kernel missing.
mkdir -p "$cache"
exec 9>"$cache/.lock-setup"
flock 9

# The guest modules vm.py loads, in load order (see docs/vm-tests.md).
modules="kernel/virt/lib/irqbypass.ko
kernel/drivers/vfio/vfio.ko
kernel/drivers/vfio/vfio_iommu_type1.ko
kernel/drivers/vfio/vfio_virqfd.ko
kernel/drivers/vfio/pci/vfio-pci-core.ko
kernel/drivers/vfio/pci/vfio-pci.ko"

# Modules the tests load on demand, by group, in load order (GROUP.order):
# "nvme", the guest kernel's NVMe driver (nvme-core needs t10-pi, which
# needs the CRC modules), for the benchmark that compares it with
# libfpgactl's queues.  Not loaded at boot: the driver would take the NVMe
# controller that the other tests give to vfio-pci.
groups="nvme"
group_nvme="kernel/crypto/crct10dif_common.ko
kernel/crypto/crct10dif_generic.ko
kernel/lib/crc-t10dif.ko
kernel/lib/crc64.ko
kernel/crypto/crc64_rocksoft_generic.ko
kernel/lib/crc64-rocksoft.ko
kernel/block/t10-pi.ko
kernel/drivers/nvme/host/nvme-core.ko
kernel/drivers/nvme/host/nvme.ko"

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
# needs is in it ("complete" is written last; a group's GROUP.order is
# written after its modules).
has_groups() {
	for g in $groups; do
		[ -f "$1/modules/$g.order" ] || return 1
	done
}
complete() {
	[ -z "${FPGACTL_VM_REFRESH:-}" ] && [ -f "$1/complete" ] && [ -f "$1/modules/order" ] &&
		has_groups "$1"
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

# copy_modules PKG REL LIST DIR ORDER: the modules of LIST (paths under
# lib/modules/REL of the unpacked PKG) into DIR, their names in load order
# into the file ORDER (written last).
copy_modules() {
	rm -f "$5.tmp"
	for m in $3; do
		src="$work/root/lib/modules/$2/$m"
		name=$(basename "$m")
		if [ -f "$src" ]; then
			cp "$src" "$4/$name"
		elif [ -f "$src.xz" ]; then
			xz -dc "$src.xz" >"$4/$name"
		elif [ -f "$src.zst" ]; then
			zstd -qdc "$src.zst" >"$4/$name"
		else
			die "$1 has no $m"
		fi
		echo "$name" >>"$5.tmp"
	done
	mv "$5.tmp" "$5"
}

# copy_groups PKG REL DIR: every on-demand group into DIR/modules.
copy_groups() {
	for g in $groups; do
		eval "list=\$group_$g"
		copy_modules "$1" "$2" "$list" "$3/modules" "$3/modules/$g.order"
	done
}

# unpack PKG DEB DEST: vmlinuz and the modules of DEB into DEST.
unpack() {
	say "unpacking $(basename "$2")"
	dpkg-deb -x "$2" "$work/root"
	rel=${1#linux-image-}
	rm -rf "$3.tmp"
	mkdir -p "$3.tmp/modules"
	cp "$work/root/boot/vmlinuz-$rel" "$3.tmp/vmlinuz"
	copy_modules "$1" "$rel" "$modules" "$3.tmp/modules" "$3.tmp/modules/order"
	copy_groups "$1" "$rel" "$3.tmp"
	echo "$rel" >"$3.tmp/release"
	echo "$1" >"$3.tmp/package"
	touch "$3.tmp/complete"
	rm -rf "$3"
	mv "$3.tmp" "$3"
	rm -rf "$work/root"
}

# add_groups PKG DEB DEST: the on-demand modules into a kernel directory
# cached before they existed, in place (vmlinux, which vm.py extracted,
# stays; a vm.py running meanwhile still finds what it reads).
add_groups() {
	say "unpacking $(basename "$2") for the on-demand modules ($groups)"
	dpkg-deb -x "$2" "$work/root"
	copy_groups "$1" "${1#linux-image-}" "$3"
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
	dest=$cache/kernel/${pkg#linux-image-}
	if [ -z "${FPGACTL_VM_REFRESH:-}" ] && [ -f "$dest/complete" ] && [ -f "$dest/modules/order" ]; then
		add_groups "$pkg" "$deb" "$dest"
		say "kernel ${pkg#linux-image-}: on-demand modules ($groups) added in $dest"
	else
		unpack "$pkg" "$deb" "$dest"
		say "kernel ${pkg#linux-image-}: vmlinuz, $(echo "$modules" | wc -l) VFIO modules and the on-demand modules ($groups) in $dest"
	fi
else
	say "kernel ${pkg#linux-image-}: cached in $cache/kernel/${pkg#linux-image-}"
fi
release=${pkg#linux-image-}
echo "$release" >"$cache/current.tmp"
mv "$cache/current.tmp" "$cache/current"
say "guest kernel is $release"
