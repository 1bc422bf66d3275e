# fpgactl dma-plan on edu: 2 MiB pages from the hugetlbfs mount on
# /dev/hugepages, on the device's node; with --dma-bits 28 (edu's DMA mask)
# the usable IOVA range ends at or below 0xfffffff; the counts (free
# hugepages, IOMMU mappings allowed) agree with sysfs.  Nothing is allocated.
# What differs by backend: the legacy container (vfio_iommu_type1) allows
# dma_entry_limit mappings; iommufd has no such limit ("unlimited", JSON
# null).
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
node=$(numa_node_of "$edu")
[ "$node" -ge 0 ] && want_node=$node || want_node=any
free=$(hugepages all free_hugepages)
[ "$node" -ge 0 ] && free=$(hugepages "$node" free_hugepages)
limit=$(cat /sys/module/vfio_iommu_type1/parameters/dma_entry_limit)
note "edu numa_node $node, free 2 MiB hugepages $free, vfio_iommu_type1 dma_entry_limit $limit, row $ROW ($BACKEND)"
if [ "$BACKEND" = legacy ]; then
	mappings="$limit more allowed" jmappings=$limit
else
	mappings=unlimited jmappings=null
fi

run fpgactl -d "$edu" dma-plan --page-size 2m --dma-bits 28
expect_ok
expect_eq "$(text_value device)" "$edu" "device"
expect_eq "$(text_value 'page size')" "2 MiB" "page size"
expect_eq "$(text_value 'numa node')" "$want_node" "numa node (sysfs numa_node $node)"
expect_eq "$(text_value backing)" hugetlbfs:/dev/hugepages "backing"
expect_eq "$(text_value 'dma mask')" "28 bits" "dma mask"
range=$(text_value 'iova range')
first=${range%..*}
last=${range#*..}
echo "$range" | grep -Eq '^0x[0-9a-f]+\.\.0x[0-9a-f]+$' || fail "iova range is not FIRST..LAST: '$range'"
expect_le "$last" 0xfffffff "last usable IOVA below the 28-bit DMA mask"
expect_le "$first" "$last" "first usable IOVA"
iova_free=$(text_value 'iova free' | cut -d' ' -f1)
[ "$iova_free" -gt 0 ] || fail "no free IOVA bytes: $iova_free"
expect_le "$iova_free" $((last - first + 1)) "free IOVA bytes within the range"
expect_eq "$(text_value 'iommu mappings')" "$mappings" "IOMMU mappings ($BACKEND backend; type1 dma_entry_limit $limit)"
# Root has CAP_IPC_LOCK: the kernel does not enforce RLIMIT_MEMLOCK.
# type1 charges the process, iommufd the user (lib/dma/memlock.c).
if [ "$BACKEND" = iommufd ]; then
	expect_out "^memlock: +unlimited \\(0 bytes used by this user's processes; iommufd charges the user, estimated from their VmPin\\)\$"
else
	expect_out '^memlock: +unlimited \(0 bytes used by this process\)$'
fi
expect_eq "$(text_value 'hugepages free')" "$free" "free hugepages"

# The same in JSON.
run fpgactl -d "$edu" dma-plan --page-size 2m --dma-bits 28 --json
expect_ok
expect_eq "$(json_value bdf)" "\"$edu\"" "JSON bdf"
expect_eq "$(json_value page_size)" 2097152 "JSON page_size"
[ "$want_node" = any ] && jnode=null || jnode=$node
expect_eq "$(json_value node)" "$jnode" "JSON node"
expect_eq "$(json_value backing)" '"hugetlbfs:/dev/hugepages"' "JSON backing"
expect_eq "$(json_value dma_bits)" 28 "JSON dma_bits"
expect_eq "$(json_value iova_first)" "$((first))" "JSON iova_first"
expect_eq "$(json_value iova_last)" "$((last))" "JSON iova_last"
expect_eq "$(json_value iova_free)" "$iova_free" "JSON iova_free"
expect_eq "$(json_value mappings_avail)" "$jmappings" "JSON mappings_avail ($BACKEND backend)"
expect_eq "$(json_value memlock_limit)" null "JSON memlock_limit"
expect_eq "$(json_value memlock_used)" 0 "JSON memlock_used"
expect_eq "$(json_value hugepages_free)" "$free" "JSON hugepages_free"

# Without --dma-bits the mask is 64 bits: the range reaches past 256 MiB, up
# to what the emulated IOMMU translates (QEMU's intel-iommu: 39 bits).
run fpgactl -d "$edu" dma-plan
expect_ok
expect_eq "$(text_value 'page size')" "2 MiB" "default page size"
expect_eq "$(text_value 'dma mask')" "64 bits" "default dma mask"
last64=$(text_value 'iova range')
last64=${last64#*..}
expect_le 0x10000000 "$last64" "last usable IOVA with a 64-bit mask"

# 4 KiB pages: ordinary memory, no hugepage count.
run fpgactl -d "$edu" dma-plan --page-size 4k --dma-bits 28
expect_ok
expect_eq "$(text_value 'page size')" "4 KiB" "page size with --page-size 4k"
expect_eq "$(text_value 'hugepages free')" "n/a (4 KiB pages)" "hugepages free with 4 KiB pages"

# dma-plan allocates nothing.
expect_eq "$(hugepages all free_hugepages)" "$(hugepages all nr_hugepages)" "free hugepages afterwards"

# The plan is the row's backend's.
expect_backend "$edu"
