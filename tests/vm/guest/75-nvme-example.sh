# examples/nvme_rw against QEMU's NVMe controller: a user-space NVMe driver
# on libfpgactl's queue engine brings the controller up (CC.EN / CSTS.RDY),
# identifies it (model "QEMU NVMe Ctrl", the serial vm.py gives QEMU:
# fpgactl01) and namespace 1, creates a polled I/O queue pair, writes a
# pattern in batches, reads it back into another buffer and verifies it,
# deletes the queues and shuts the controller down.  The 16 MiB disk image
# is scratch; each run writes a new pattern (seeded by the clock), so data
# left by an earlier run cannot pass.  Then the failures it must report:
# a range past the end of the disk (refused; with -u sent anyway, and the
# controller's LBA Out of Range status), commands that time out (-t 1: a
# deadline of 1 us), bad arguments; and a run on 4 KiB pages only.
. /lib/vmtest.sh
need_program nvme_rw

nvme=$(need_device $NVME_ID) || exit 1
vfio_bind_sysfs "$nvme"
free=$(hugepages all free_hugepages)
reserved=$(hugepages all nr_hugepages)

# expect_run KIB: the output of a successful run of KIB KiB from LBA 0.
expect_run() {
	expect_ok
	expect_out "^device: $nvme opened in [0-9.]+ ms\$"
	expect_out '^controller: NVMe 1\.4\.0, CAP 0x[0-9a-f]{16}: MQES [0-9]+, doorbell stride 4 bytes, ready timeout [0-9.]+ s$'
	expect_out '^controller: enabled in [0-9.]+ ms$'
	expect_eq "$(text_value model)" "QEMU NVMe Ctrl" "model number (Identify Controller)"
	expect_eq "$(text_value serial)" fpgactl01 "serial number (Identify Controller; -device nvme,serial=)"
	expect_out '^namespace 1: 32768 blocks of 512 bytes \(16384 KiB\), LBA format [0-9]+ of [0-9]+$'
	expect_out '^I/O queue 1: 64 entries, polled \(no interrupts\), '
	# 8 KiB (PRP1 + PRP2) per command, at most 63 commands per batch.
	cmds=$(($1 / 8))
	batches=$(((cmds + 62) / 63))
	for pass in write read; do
		expect_out "^$pass: $(($1 * 1024)) bytes, LBA 0-$(($1 * 2 - 1)), $cmds commands in $batches batch\\(es\\), [0-9.]+ ms, [0-9.]+ MB/s\$"
	done
	expect_out "^verified: $(($1 * 1024)) bytes read back equal to those written\$"
	# One tail doorbell per batch (write and read); no command lost.
	expect_out "^I/O queue 1: $((cmds * 2)) commands completed, $((batches * 2)) SQ tail doorbells, [0-9]+ CQ head doorbells, 0 bad completions, 0 timeouts\$"
	expect_out '^controller: I/O queues deleted, shut down and disabled in [0-9.]+ ms$'
	expect_out '^nvme_rw: done in [0-9.]+ ms$'
}

run_watch_hugepages nvme_rw "$nvme"
expect_run 1024
# The Identify page, the write and the read buffer take up to 3 hugepages
# (the queue rings use 4 KiB pages), each held for a few ms only: the 50 ms
# sampling of run_watch_hugepages may miss them, so only the upper bound
# and their return afterwards are checked.
expect_le "$((free - 3))" "$hp_min_all" "fewest free 2 MiB hugepages while nvme_rw ran (3 buffers at most)"
expect_eq "$(hugepages all free_hugepages)" "$free" "free 2 MiB hugepages after nvme_rw"

# A transfer that is not a whole number of commands, at the end of the disk.
run nvme_rw "$nvme" 20 32728
expect_ok
expect_out '^write: 20480 bytes, LBA 32728-32767, 3 commands in 1 batch\(es\), '
expect_out '^verified: 20480 bytes read back equal to those written$'

# Past the end of the namespace: refused before any I/O, the controller
# still shut down cleanly.
run nvme_rw "$nvme" 8 32767
expect_rc 1
expect_err 'do not fit namespace 1 \(32768 blocks of 512 bytes\)'
expect_no_out_line '^(write|verified):'
expect_out '^controller: I/O queues deleted, shut down and disabled in '

# The same range sent anyway: the controller's status is reported (SCT,
# SC, its name) with the command's blocks, and the controller is reset
# rather than shut down.
run nvme_rw -u "$nvme" 8 32767
expect_rc 1
expect_err '^nvme_rw: Write failed: NVMe status 0x[0-9a-f]*080: SCT 0, SC 0x80 \(LBA Out of Range\)'
expect_err '^nvme_rw: \(that Write was of LBA 32767, 16 blocks\)$'
expect_err '^nvme_rw: controller disabled \(reset\)$'
expect_err '^nvme_rw: failed \(Input/output error\)$'
expect_no_out_line '^(read|verified):'

# A deadline of 1 us per I/O command: a batch times out (the first one as a
# rule; on a loaded host the controller's completions may all be there
# before the first reap, and a later batch, a Read, is the first to miss
# it: seen on arm64 TCG); the queue engine reports ETIMEDOUT, nothing is
# verified, and the controller is reset.
run nvme_rw -t 1 "$nvme"
expect_rc 1
expect_err '^nvme_rw: (Write|Read): no completion within 0\.001 ms \(Connection timed out\)$'
expect_err '^nvme_rw: controller disabled \(reset\)$'
expect_err '^nvme_rw: failed \(Connection timed out\)$'
expect_no_out_line '^verified:'

# Bad arguments: status 2, the device untouched.
for args in "$nvme 0" "$nvme 1 2 3" "-t 0 $nvme" "-x $nvme" ""; do
	run nvme_rw $args
	expect_rc 2
	expect_no_out
	expect_err '^usage: nvme_rw \[-u\] \[-t US\] BDF'
done

# No hugepages at all: every buffer falls back to 4 KiB pages.
echo 0 >/proc/sys/vm/nr_hugepages
run nvme_rw "$nvme" 256
echo "$reserved" >/proc/sys/vm/nr_hugepages
expect_rc 0
expect_out '^verified: 262144 bytes read back equal to those written$'
expect_err 'no hugepage for the write buffer: using 4 KiB pages'
expect_eq "$(hugepages all nr_hugepages)" "$reserved" "2 MiB hugepages reserved again"
expect_eq "$(hugepages all free_hugepages)" "$free" "2 MiB hugepages free again"
