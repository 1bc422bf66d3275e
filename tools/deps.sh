#!/bin/sh
# Install what building and testing libfpgactl needs on Debian 12.
# Idempotent; a no-op when everything is present.  Needs root (or sudo).
set -eu

packages="build-essential meson ninja-build pkg-config python3
liburing-dev libnuma-dev libhugetlbfs-dev libcmocka-dev
groff-base man-db bash-completion python3-cffi python3-pytest python3-numpy
verilator yosys valgrind"

missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
