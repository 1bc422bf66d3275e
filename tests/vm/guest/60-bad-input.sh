# Bad input against a real device: exit status 2, a message on stderr,
# nothing on stdout, and the device left as it was.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

run fpgactl -d "$edu" poke 0x04 0x11111111
expect_ok
run fpgactl -d "$edu" peek 0x04
expect_eq "$out" 0xeeeeeeee "liveness register before the bad input"

# bad CMD ARGS... REGEX: exit status 2, nothing on stdout, stderr matches.
bad() {
	re=$1
	shift
	run "$@"
	expect_rc 2
	expect_no_out
	expect_err "$re"
}

bad 'outside BAR0 \(size 0x100000\)' fpgactl -d "$edu" peek 0x100000
bad 'outside BAR0' fpgactl -d "$edu" peek 0xfffffffffffffff0
bad 'runs past the end of BAR0' fpgactl -d "$edu" peek 0xffffc 2
bad 'runs past the end of BAR0' fpgactl -d "$edu" dump 0xffff0 0x20
bad 'outside BAR0' fpgactl -d "$edu" poke 0x100000 1
bad 'has no BAR1' fpgactl -d "$edu" peek -b 1 0
bad 'BAR' fpgactl -d "$edu" peek -b 6 0
bad 'not aligned' fpgactl -d "$edu" poke 0x06 1
bad 'does not fit in 32 bits' fpgactl -d "$edu" poke 0x04 0x1eeeeeeee
bad 'width' fpgactl -d "$edu" peek -w 24 0x04
bad 'not a PCI address' fpgactl -d 0000:00:1g.0 peek 0

run fpgactl -d "$edu" peek 0x04
expect_ok
expect_eq "$out" 0xeeeeeeee "liveness register after the bad input"
expect_eq "$(driver_of "$edu")" vfio-pci "driver after the bad input"

