# Locked memory is charged per process by type1 (legacy) and per user by
# iommufd (issue 12 item 6).  As uid 1000 with 'ulimit -l 3072' (3 MiB,
# tests/vm/progs/runas.c), process A holds a 2 MiB DMA buffer on edu
# (dma-test, 2 MiB hugepage) while process B, same user, looks at the NVMe
# device: dma-plan and a 2 MiB allocation (bench map).
# - legacy (type1 charges B's own mm->locked_vm): B's dma-plan says
#   "3 MiB (0 bytes used by this process)" and its 2 MiB buffers map.
# - iommufd (the user's locked_vm, A's 2 MiB included), where the kernel
#   has it: B's dma-plan counts A's pins ("used by this user's processes")
#   and its allocation is refused with EDQUOT before the kernel's ENOMEM.
. /lib/vmtest.sh
need_program runas

edu=$(need_device $EDU_ID) || exit 1
nvme=$(need_device $NVME_ID) || exit 1
vfio_bind_sysfs "$edu"
vfio_bind_sysfs "$nvme"
for g in "$(group_of "$edu")" "$(group_of "$nvme")"; do
	chmod 666 "/dev/vfio/$g"
done
chmod 666 /dev/vfio/vfio
[ -d /dev/vfio/devices ] && chmod 666 /dev/vfio/devices/* /dev/iommu 2>/dev/null
if [ -e /dev/iommu ] && [ -d /dev/vfio/devices ]; then
	backends="legacy iommufd"
else
	backends=legacy
	note "no /dev/iommu or vfio cdevs in this kernel: legacy only"
fi

for backend in $backends; do
	echo "\$ FPGACTL_IOMMU=$backend runas 1000 3072 fpgactl -d $edu dma-test --rounds 1000 &"
	export FPGACTL_IOMMU=$backend
	runas 1000 3072 fpgactl -d "$edu" dma-test --rounds 1000 >/tmp/holder.out 2>&1 &
	pid=$!
	i=0
	until grep -q 'VmLck\|VmPin' /proc/$pid/status 2>/dev/null &&
		[ "$(awk '/^VmLck|^VmPin/ { s += $2 } END { print s }' /proc/$pid/status)" -ge 2048 ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
			kill -9 $pid 2>/dev/null
			cat /tmp/holder.out
			fail "$backend: dma-test as uid 1000 did not pin its 2 MiB buffer within 10 s"
		fi
		sleep 0.1
	done
	note "$backend: holder $(grep -E '^(VmLck|VmPin)' /proc/$pid/status | tr -s ' \t' ' ' | tr '\n' ' ')"
	run runas 1000 3072 fpgactl -d "$nvme" dma-plan
	memlock=$(text_value memlock)
	run runas 1000 3072 fpgactl -d "$nvme" bench map --size 2097152 --rounds 1
	kill -9 $pid
	wait $pid 2>/dev/null
	unset FPGACTL_IOMMU
	case $backend in
	legacy)
		expect_eq "$memlock" "3 MiB (0 bytes used by this process)" "legacy: B's memlock line"
		expect_rc 0
		;;
	iommufd)
		echo "$memlock" | grep -Eq "^3 MiB \\((2|[2-9]\\.[0-9]+) MiB used by this user's processes" ||
			fail "iommufd: B's memlock line does not count A's pins: $memlock"
		expect_rc 1
		expect_err "iommufd charges pinned memory to the user"
		;;
	esac
	report "memlock-per-backend: $backend: B sees '$memlock'"
done
