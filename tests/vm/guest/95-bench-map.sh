# machine: bench
# fpgactl bench map on edu: map + unmap 1 GiB backed by 2 MiB pages and by
# 4 KiB pages, through the emulated IOMMU, in one run.  A benchmark, not a
# test: the figures are printed (they reach docs/vm-tests.md through the
# guest's output); what is checked is only that both variants ran and that
# every hugepage came back.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
free=$(hugepages all free_hugepages)

run fpgactl -d "$edu" bench map --rounds 1
expect_ok
expect_out '^ratio: 4 KiB pages take [0-9.]+x the map\+unmap time of 2 MiB pages \(baseline\)$'
report "$(out_line '^ratio: ')"
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages after bench map"
