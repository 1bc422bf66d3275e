#!/bin/sh
# Install the build into a staging directory, then build a program against it
# with nothing but `pkg-config --cflags --libs libfpgactl`, and run it.
# Then check what else is installed: man pages, bash completion, and the
# Python package (importable, and working on the staged library).
# Usage: run.sh BUILD_DIR SOURCE_FILE [PYTHON PYTHON_INSTALL_DIR]
set -eu
build=$1
src=$2
python=${3:-}
pyinstdir=${4:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

meson install -C "$build" --destdir "$stage" --no-rebuild --quiet
pcdir=$(dirname "$(find "$stage" -name libfpgactl.pc | head -n 1)")
[ -n "$pcdir" ] || { echo "libfpgactl.pc was not installed"; exit 1; }

# The sysroot makes pkg-config prefix its -I and -L paths with the stage.
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$stage"
flags=$(pkg-config --cflags --libs libfpgactl)
echo "pkg-config: $flags"
cc -std=gnu11 -Wall -Wextra -Werror -o "$stage/consumer" "$src" $flags
# pkgconf already prefixes variables with the sysroot.
libdir=$(pkg-config --variable=libdir libfpgactl)
LD_LIBRARY_PATH="$libdir" "$stage/consumer"
# The binary must really use the staged library, not one from the system.
LD_LIBRARY_PATH="$libdir" ldd "$stage/consumer" | grep -q "$libdir/libfpgactl.so.0"

# The man pages are installed and man(1) renders them (docs/man).
for page in man1/fpgactl.1 man3/fpgactl_queue_reap.3 man3/libfpgactl.3; do
	path=$(find "$stage" -path "*/share/man/$page" | head -n 1)
	[ -n "$path" ] || { echo "$page was not installed"; exit 1; }
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$path" 2>"$stage/man.err" | grep -q '^NAME' ||
			{ echo "man -l $path does not render:"; cat "$stage/man.err"; exit 1; }
	fi
done
echo "man pages: installed and rendered"

# bash completion, where bash-completion looks (tools/completion).
comp=$(find "$stage" -path "*/share/bash-completion/completions/fpgactl" | head -n 1)
[ -n "$comp" ] || { echo "bash completion was not installed"; exit 1; }
bash -c ". '$comp' && complete -p fpgactl" | grep -q _fpgactl ||
	{ echo "$comp does not register a completion for fpgactl"; exit 1; }
echo "bash completion: $comp"

# The Python package, in the interpreter's own install directory
# (python/, docs/python.md): importable from there, pointing at the
# installed library, and working on the staged copy of it.
if [ -n "$python" ]; then
	init="$stage$pyinstdir/fpgactl/__init__.py"
	[ -f "$init" ] || { echo "the Python package is not in $pyinstdir"; exit 1; }
	env PYTHONPATH="$stage$pyinstdir" FPGACTL_LIBRARY="$libdir/libfpgactl.so.0" \
		PYTHONDONTWRITEBYTECODE=1 "$python" -c "
import os, fpgactl, fpgactl._config, sys
assert os.path.samefile(fpgactl.__file__, sys.argv[1]), fpgactl.__file__
assert sys.argv[2].endswith(fpgactl._config.LIBDIR), fpgactl._config.LIBDIR
with fpgactl.Device('model') as dev:
    assert dev.bar(0).read32(0) == 0x5C0FC0DE
print('python: import fpgactl from', sys.argv[1])
" "$init" "$libdir"
fi
