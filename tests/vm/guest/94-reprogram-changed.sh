# machine: hotplug
# Reprogram to another device in the same slot (QEMU's pci-testdev,
# 1b36:0005, other BAR sizes): without --expect it is refused at the check
# step and reported as changed; then fpgactl reprogram --expect 1234:11e8
# from it back to edu succeeds and prints both changes.  See 94-reprogram.sh.
. /lib/vmtest.sh
need_program edu_reload
reprogram_setup

# 1. Another device in the slot, not announced: reported, not opened.
run edu_reload "$edu" /tmp/programmer.sh pci-testdev
expect_rc 1
expect_out '^edu_reload: result -19 \(No such device\) step check ids 1234:11e8 -> 1b36:0005 ids_changed 1 bars_changed 1 BAR0 1048576 -> 4096 '
expect_err "check: came back as 1b36:0005, expected 1234:11e8: another image was loaded; if that is intended, give its ids \\(--expect 1b36:0005\\); the device is left unbound"
check_masks "changed device"
report "reprogram, changed device without --expect: $(echo "$err" | grep 'check:' | head -1)"

# 2. Back to edu through the CLI, announced with --expect: ids and BAR
# sizes reported as changed.
testdev=$(need_device $TESTDEV_ID) || exit 1
run fpgactl bind "$testdev"
expect_ok
run fpgactl -d "$testdev" reprogram --expect 1234:11e8 -- /tmp/programmer.sh edu
expect_rc 0
expect_out "^$testdev: back as 1234:11e8 behind $port, reopened "
expect_out "^$testdev: changed: 1b36:0005 -> 1234:11e8\$"
expect_out "^$testdev: changed: BAR0 4096 -> 1048576 bytes\$"
expect_out "^$testdev: bridge $port: AER surprise down masked, DPC untouched, restored: yes\$"
check_masks "CLI, changed back to edu"
report "fpgactl reprogram --expect: $(echo "$out" | grep "^$testdev: back as")"

