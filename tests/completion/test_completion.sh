#!/bin/bash
# bash completion of fpgactl (tools/completion/fpgactl.bash) against a fake
# sysfs: commands, options, option values, and PCI addresses for -d with the
# devices bound to vfio-pci first.  Each case runs twice: with Debian's
# bash-completion loaded (_init_completion) and without it.
# Usage: test_completion.sh COMPLETION_FILE FPGACTL MKFAKETREE
set -u
comp=$1 fpgactl=$2 mkfaketree=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vfio-pci devices sort after the others here, so the order is the script's.
"$mkfaketree" "$tmp/tree" \
	--device 0000:03:00.0,driver=xdma --device 0000:04:00.0 \
	--device 0000:05:00.0,driver=vfio-pci,group=5 \
	--device 0000:06:00.0,driver=vfio-pci,group=6 || exit 1
export FPGACTL_SYSFS_ROOT=$tmp/tree/sys

failures=0
modes=plain
bc=/usr/share/bash-completion/bash_completion
if [[ -r $bc ]]; then
	modes="plain bash-completion"
else
	echo "note: $bc missing (apt-get install bash-completion): plain mode only"
fi

# complete LINE: the words bash would offer for the end of LINE (bash splits
# words at ':' too, and COMPREPLY then holds the part after the last ':';
# the prefix is put back here for readable results).
complete_line()
{
	local line=$1 tok
	COMP_LINE=$line COMP_POINT=${#line}
	COMP_WORDS=()
	for tok in $line; do
		tok=${tok//:/ : }
		COMP_WORDS+=($tok)
	done
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_fpgactl
	local last=${line##* } prefix=""
	[[ $last == *:* ]] && prefix=${last%"${last##*:}"}
	local out=() w
	for w in "${COMPREPLY[@]}"; do out+=("$prefix$w"); done
	echo "${out[*]}"
}

check()
{
	local line=$1 want=$2 got
	got=$(complete_line "$line")
	if [[ $got != "$want" ]]; then
		echo "FAIL [$mode] '$line': got '$got', want '$want'"
		failures=$((failures + 1))
	else
		echo "ok   [$mode] '$line' -> $got"
	fi
}

for mode in $modes; do
	(
		[[ $mode == bash-completion ]] && source "$bc"
		source "$comp"
		F=$fpgactl
		check "$F d" "dump doctor dma-plan dma-test"
		check "$F se" "selftest"
		check "$F -d " "0000:05:00.0 0000:06:00.0 0000:03:00.0 0000:04:00.0 model"
		check "$F -d 0000:0" "0000:05:00.0 0000:06:00.0 0000:03:00.0 0000:04:00.0"
		check "$F -d 0000:04" "0000:04:00.0"
		check "$F -d m" "model"
		check "$F peek -d " "0000:05:00.0 0000:06:00.0 0000:03:00.0 0000:04:00.0 model"
		check "$F bind -d " "0000:05:00.0 0000:06:00.0 0000:03:00.0 0000:04:00.0"
		check "$F bind " "0000:03:00.0 0000:04:00.0"
		check "$F unbind " "0000:05:00.0 0000:06:00.0"
		check "$F -d model irq-wait --t" "--type --trigger --timeout-ms"
		check "$F --v" "--verbose --version"
		check "$F peek -w 1" "16"
		check "$F irq-wait --type m" "msix msi"
		check "$F bench w" "wakeup"
		check "$F help sa" "save"
		check "$F dma-plan --page-size " "4k 2m 1g"
		exit $failures
	)
	failures=$((failures + $?))
done
[[ $failures -eq 0 ]] || { echo "$failures completions wrong"; exit 1; }
