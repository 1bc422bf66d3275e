#!/bin/sh
# Install what building and testing libfpgactl needs on Debian 12.
# Idempotent; a no-op when everything is present.  Needs root (or sudo).
#
# Usage: tools/deps.sh            native build and tests
#        tools/deps.sh aarch64    also the aarch64 cross build and its tests
#                                 under user-mode emulation: the arm64 dpkg
#                                 architecture, gcc-aarch64-linux-gnu, the
#                                 :arm64 -dev packages, qemu-user
set -eu

packages="build-essential meson ninja-build pkg-config python3
liburing-dev libnuma-dev libhugetlbfs-dev libcmocka-dev
groff-base man-db bash-completion python3-cffi python3-pytest python3-numpy
verilator yosys valgrind ccache"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
updated=""

if [ "${1:-}" = aarch64 ]; then
	packages="$packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
liburing-dev:arm64 libnuma-dev:arm64 libhugetlbfs-dev:arm64 libcmocka-dev:arm64"
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "deps: adding the arm64 dpkg architecture"
		$SUDO dpkg --add-architecture arm64
		$SUDO apt-get update -qq
		updated=1
	fi
fi

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing$missing"
[ -n "$updated" ] || $SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
