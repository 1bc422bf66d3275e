# Where DMA memory comes from when the guest is set up differently:
# without a hugetlbfs mount, 2 MiB pages come from memfd_create(MFD_HUGETLB);
# without free hugepages, dma-test fails (status 1) naming the sysctl that
# fixes it, doctor warns (status 0: DMA is not needed to use VFIO), and
# --small-pages falls back to 4 KiB pages.  Restores the mount and the
# hugepages at the end, whatever happens.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
nr=$(hugepages all nr_hugepages)
restore() {
	echo "$nr" >/proc/sys/vm/nr_hugepages
	grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts ||
		mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
}
trap restore EXIT

# No hugetlbfs mount: memfd.
umount /dev/hugepages || fail "cannot unmount /dev/hugepages"
run fpgactl -d "$edu" dma-plan --dma-bits 28
expect_ok
expect_eq "$(text_value backing)" memfd "backing without a hugetlbfs mount"
run_watch_hugepages fpgactl -d "$edu" dma-test --rounds 2
expect_ok
expect_out '^dma-test: 2 rounds x 4000 bytes host -> edu -> host verified, '
expect_out '^buffer: 2 MiB page\(s\) on node 0 at IOVA 0x[0-9a-f]+$'
expect_eq "$hp_min_all" $((nr - 1)) "free 2 MiB hugepages while dma-test ran on a memfd"
run fpgactl -d "$edu" doctor
expect_ok
expect_out '^info +hugetlbfs +no hugetlbfs mount: hugepage buffers come from memfd_create'
restore

# No free hugepages.
echo 0 >/proc/sys/vm/nr_hugepages
expect_eq "$(hugepages all nr_hugepages)" 0 "2 MiB hugepages after releasing them"
run fpgactl -d "$edu" dma-plan
expect_ok
expect_eq "$(text_value 'hugepages free')" 0 "free hugepages"
run fpgactl -d "$edu" dma-test --rounds 1
expect_rc 1
expect_no_out_line 'verified'
expect_err 'not enough free .*hugepages: 1 needed, 0 free'
expect_err 'nr_hugepages'
run fpgactl -d "$edu" dma-test --rounds 1 --small-pages
expect_rc 0
expect_out '^dma-test: 1 rounds x 4000 bytes host -> edu -> host verified, '
expect_out '^buffer: 4 KiB page\(s\) on node 0 at IOVA 0x[0-9a-f]+$'
run fpgactl -d "$edu" doctor
expect_rc 0
expect_out '^warn +hugepages-2M +2 MiB pages: 0 free of 0 .*; fix: echo [0-9]+ > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
restore
expect_eq "$(hugepages all free_hugepages)" "$nr" "free 2 MiB hugepages after restoring them"
