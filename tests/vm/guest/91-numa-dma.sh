# machine: numa
# DMA memory follows the device's NUMA node: edu is on node 1, so dma-plan
# plans node 1 and dma-test's buffer takes a hugepage of node 1 (seen in
# the per-node counters), unless --node says otherwise; doctor reports the
# hugepages per node and exits 0.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
expect_eq "$(numa_node_of "$edu")" 1 "numa_node of edu"
free0=$(hugepages 0 free_hugepages)
free1=$(hugepages 1 free_hugepages)

run fpgactl -d "$edu" dma-plan --dma-bits 28
expect_ok
expect_eq "$(text_value 'numa node')" 1 "numa node"
expect_eq "$(text_value backing)" hugetlbfs:/dev/hugepages "backing"
expect_eq "$(text_value 'hugepages free')" "$free1" "free hugepages (those of node 1)"
run fpgactl -d "$edu" dma-plan --dma-bits 28 --json
expect_ok
expect_eq "$(json_value node)" 1 "JSON node"
run fpgactl -d "$edu" dma-plan --node 0
expect_ok
expect_eq "$(text_value 'numa node')" 0 "numa node with --node 0"
expect_eq "$(text_value 'hugepages free')" "$free0" "free hugepages with --node 0 (those of node 0)"

# 10 rounds (about 1 s, edu's DMA takes 0.1 s a round under TCG): the
# watcher, a shell loop that forks for every sample, must see the buffer;
# with 2 rounds it sometimes did not (x86-6.12-iommufd, host load 12).
run_watch_hugepages fpgactl -d "$edu" dma-test --rounds 10
expect_ok
expect_out '^dma-test: 10 rounds x 4000 bytes host -> edu -> host verified, '
expect_out '^buffer: 2 MiB page\(s\) on node 1 at IOVA 0x[0-9a-f]+$'
expect_eq "$hp_min_1" $((free1 - 1)) "free hugepages of node 1 while dma-test ran"
expect_eq "$hp_min_0" "$free0" "free hugepages of node 0 while dma-test ran"

run_watch_hugepages fpgactl -d "$edu" dma-test --rounds 10 --node 0
expect_ok
expect_out '^dma-test: 10 rounds x 4000 bytes host -> edu -> host verified, '
expect_out '^buffer: 2 MiB page\(s\) on node 0 at IOVA 0x[0-9a-f]+$'
expect_eq "$hp_min_0" $((free0 - 1)) "free hugepages of node 0 while dma-test --node 0 ran"
expect_eq "$hp_min_1" "$free1" "free hugepages of node 1 while dma-test --node 0 ran"

run fpgactl -d "$edu" dma-test --small-pages --page-size 4k --rounds 1
expect_ok
expect_out '^buffer: 4 KiB page\(s\) on node 1 at IOVA 0x[0-9a-f]+$'

run fpgactl -d "$edu" doctor
expect_ok
expect_no_out_line '^(FAIL|warn) '
expect_out "^ok +hugepages-2M +2 MiB pages: $((free0 + free1)) free of [0-9]+ \\(node0: $free0, node1: $free1\\)\$"
expect_out '^ok +dma +2 MiB pages on node 1 from hugetlbfs:/dev/hugepages; '

expect_eq "$(hugepages 0 free_hugepages) $(hugepages 1 free_hugepages)" "$free0 $free1" "free hugepages of nodes 0 and 1 at the end"
