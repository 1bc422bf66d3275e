# machine: numa
# The NUMA machine itself: two nodes with memory, a CPU and 2 MiB hugepages
# each, and edu on node 1 (behind a root port on a PCIe expander bridge
# that ACPI places on node 1), in an IOMMU group of its own.
. /lib/vmtest.sh

note "kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
pci_table
expect_eq "$(cat /sys/devices/system/node/online)" 0-1 "online NUMA nodes"
for n in 0 1; do
	mem=$(awk '/MemTotal/ { print $4 }' /sys/devices/system/node/node$n/meminfo)
	note "node $n: cpus $(cat /sys/devices/system/node/node$n/cpulist), MemTotal $mem kB"
	[ "$mem" -gt 0 ] || fail "node $n has no memory"
done
expect_eq "$(cat /sys/devices/system/node/node1/cpulist)" 1 "CPUs of node 1"
expect_hugepages

[ -e /sys/class/iommu/dmar0 ] || fail "no /sys/class/iommu/dmar0: the emulated IOMMU is off"
edu=$(need_device $EDU_ID) || exit 1
expect_eq "$(numa_node_of "$edu")" 1 "numa_node of edu $edu"
g=$(group_of "$edu")
[ "$g" != - ] || fail "edu $edu has no IOMMU group"
note "edu $edu: node 1, IOMMU group $g with $(ls /sys/kernel/iommu_groups/$g/devices | tr '\n' ' ')"
vfio_bind_sysfs "$edu"
[ -c "/dev/vfio/$g" ] || fail "no /dev/vfio/$g after binding edu"
run fpgactl list $EDU_ID
expect_ok
expect_out "^$edu +$EDU_ID .* $g +1 +ready"
