#!/bin/sh
# The library exports exactly the symbols of its version map, and every
# function declared in the public headers is in the map.
# Usage: symbols.sh LIBRARY MAP INCLUDE_DIR
set -eu
lib=$1
map=$2
inc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n 's/^[[:space:]]*\(fpgactl_[a-z0-9_]*\);.*/\1/p' "$map" | sort >"$tmp/map"
nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
	sort >"$tmp/exported"
# Out-of-line declarations in the preprocessed public API: statements that
# name fpgactl_x( and are not static inline definitions.
echo '#include <fpgactl.h>' | cc -E -P -DFPGACTL_NO_INLINE -I"$inc" - | tr '\n' ' ' | tr ';' '\n' | grep -v 'static inline' |
	grep -o '[^a-z0-9_]fpgactl_[a-z0-9_]*(' | sed 's/^.//; s/($//' |
	sort -u >"$tmp/declared"

status=0
if ! diff -u "$tmp/map" "$tmp/exported"; then
	echo "exported symbols differ from $map"
	status=1
fi
if ! diff -u "$tmp/declared" "$tmp/map"; then
	echo "public functions differ from $map"
	status=1
fi
[ "$status" -eq 0 ] && echo "symbols: $(wc -l <"$tmp/map") in map, exported and declared"
exit $status
