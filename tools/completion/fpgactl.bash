# SPDX-License-Identifier: MIT
# bash completion for fpgactl (installed by meson where bash-completion
# looks: `pkg-config --variable=completionsdir bash-completion`).
#
# Commands and each command's options come from the installed fpgactl's own
# --help (cached per shell), so they never drift from the tool.  PCI
# addresses for -d come from sysfs (FPGACTL_SYSFS_ROOT replaces /sys, as for
# fpgactl): devices bound to vfio-pci first, then the others, then 'model'
# for the commands that accept the software model.

# The devices of sysfs, vfio-pci ones first.  $1: "vfio" for only those
# bound to vfio-pci, "other" for only the others, "" for all.
_fpgactl_pci_devices()
{
	local sys=${FPGACTL_SYSFS_ROOT:-/sys} dev drv bdf
	local -a vfio=() other=()

	for dev in "$sys"/bus/pci/devices/*; do
		[[ -e $dev ]] || continue
		bdf=${dev##*/}
		drv=$(readlink "$dev/driver" 2>/dev/null)
		if [[ ${drv##*/} == vfio-pci ]]; then
			vfio+=("$bdf")
		else
			other+=("$bdf")
		fi
	done
	[[ $1 != other ]] && printf '%s\n' "${vfio[@]}"
	[[ $1 != vfio ]] && printf '%s\n' "${other[@]}"
}

# The help text of fpgactl ($1) or of one of its commands ($2), cached per
# shell in _fpgactl_help_text.  Call it outside a subshell ($(...) or a
# pipe would lose the cache).
declare -gA _fpgactl_help_cache 2>/dev/null
_fpgactl_help()
{
	local key="$1 ${2-}"

	if [[ -z ${_fpgactl_help_cache[$key]+set} ]]; then
		if [[ -n ${2-} ]]; then
			_fpgactl_help_cache[$key]=$("$1" "$2" --help 2>/dev/null)
		else
			_fpgactl_help_cache[$key]=$("$1" --help 2>/dev/null)
		fi
	fi
	_fpgactl_help_text=${_fpgactl_help_cache[$key]}
}

# The command names of 'fpgactl --help'.
_fpgactl_commands()
{
	_fpgactl_help "$1"
	sed -n '/^Commands:/,/^$/{s/^  \([a-z][a-z-]*\) .*/\1/p}' <<<"$_fpgactl_help_text"
}

# The options of 'fpgactl COMMAND --help' (both spellings).
_fpgactl_options()
{
	_fpgactl_help "$1" "$2"
	sed -n '/^Options:/,$p' <<<"$_fpgactl_help_text" |
		grep -oE '(^|[ ,])--?[a-zA-Z][a-z-]*' | tr -d ' ,'
}

# Add to COMPREPLY, in the order given, the arguments that start with $cur.
_fpgactl_add()
{
	local w
	for w; do
		[[ -n $w && $w == "$cur"* ]] && COMPREPLY+=("$w")
	done
}

_fpgactl()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n := || return
	else
		# Without bash-completion: words split at blanks only (bash
		# also splits at ':', which PCI addresses contain).
		local line=${COMP_LINE:0:COMP_POINT}
		read -ra words <<<"$line"
		[[ $line == *[[:space:]] || -z $line ]] && words+=("")
		cword=$((${#words[@]} - 1))
		cur=${words[cword]} prev=${words[cword - 1]}
	fi
	COMPREPLY=()
	_fpgactl_complete
	# bash replaces only the part of $cur after its last ':'.
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		local colon_prefix=${cur%"${cur##*:}"} i
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"$colon_prefix"}
		done
	fi
}

# The completions of the word $cur; sets COMPREPLY.
_fpgactl_complete()
{

	local prog=${words[0]} cmd="" i w
	prog=$(type -P "$prog" 2>/dev/null || echo "$prog")
	# The command is the first word that is not an option or its argument.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case $w in
		-d | --device) ((i++)) ;;
		-*) ;;
		*) cmd=$w; break ;;
		esac
	done

	case $prev in
	-d | --device)
		compopt -o nosort 2>/dev/null
		local model=model
		if [[ -n $cmd && $cmd != bench ]]; then
			_fpgactl_help "$prog" "$cmd"
			[[ $_fpgactl_help_text == *"'model'"* ]] || model=""
		fi
		_fpgactl_add $(_fpgactl_pci_devices "") $model
		return
		;;
	-w | --width) _fpgactl_add 8 16 32 64; return ;;
	-b | --bar) _fpgactl_add 0 1 2 3 4 5; return ;;
	--type) _fpgactl_add msix msi intx; return ;;
	--page-size) _fpgactl_add 4k 2m 1g; return ;;
	--file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--size | --rounds | --depth | --batch | --count | --offset | --node | \
	--dma-bits | --vector | --trigger | --ack | --timeout-ms)
		return ;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_fpgactl_add -d --device -v --verbose -h --help -V --version
		else
			_fpgactl_help "$prog"
			_fpgactl_add $(_fpgactl_commands "$prog")
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		_fpgactl_help "$prog" "$cmd"
		_fpgactl_add $(_fpgactl_options "$prog" "$cmd")
		return
	fi
	case $cmd in
	help) _fpgactl_help "$prog"; _fpgactl_add $(_fpgactl_commands "$prog") ;;
	bench) _fpgactl_add map queue wakeup stream ;;
	bind) compopt -o nosort 2>/dev/null; _fpgactl_add $(_fpgactl_pci_devices other) ;;
	unbind) _fpgactl_add $(_fpgactl_pci_devices vfio) ;;
	load | save) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}
complete -F _fpgactl fpgactl
