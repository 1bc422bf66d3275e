# edu's registers through peek, poke and dump (QEMU docs/specs/edu.rst):
# 0x00 identification 0x010000ed; 0x04 liveness, reads back the inverse of
# what was written; 0x08 factorial, computed once written, while bit 0 of the
# status register 0x20 is set; 0x80 the 64-bit DMA source address.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

run fpgactl -d "$edu" peek 0x00
expect_ok
expect_eq "$out" 0x010000ed "identification register"

for v in 0x12345678:0xedcba987 0xa5a5a5a5:0x5a5a5a5a; do
	run fpgactl -d "$edu" poke 0x04 ${v%:*}
	expect_ok
	expect_no_out
	run fpgactl -d "$edu" peek 0x04
	expect_ok
	expect_eq "$out" ${v#*:} "liveness register after writing ${v%:*}"
done

run fpgactl -d "$edu" poke 0x08 5
expect_ok
i=0
while :; do
	run fpgactl -d "$edu" peek 0x20
	expect_ok
	[ $((out & 1)) -eq 0 ] && break
	i=$((i + 1))
	[ $i -lt 50 ] || fail "status bit 0 (computing) still set after 50 reads"
	sleep 0.1
done
run fpgactl -d "$edu" peek 0x08
expect_ok
expect_eq "$out" 0x00000078 "factorial register after writing 5 (5! = 120)"

# Several registers in one run: OFFSET: VALUE lines.
run fpgactl -d "$edu" peek 0x00 3
expect_ok
expect_out '^0x00000000: 0x010000ed$'
expect_out '^0x00000004: 0x5a5a5a5a$'
expect_out '^0x00000008: 0x00000078$'

# 16 bytes a line, in memory (little-endian) order; edu reads all ones at
# the offsets it does not implement (0x0c..0x1f).
run fpgactl -d "$edu" dump 0x00 0x20
expect_ok
lines=$(printf '%s\n' "$out" | wc -l)
expect_eq "$lines" 2 "lines of a 32-byte dump"
expect_out '^00000000: ed00 0001 5a5a 5a5a 7800 0000 ffff ffff '
expect_out '^00000010: ffff ffff ffff ffff ffff ffff ffff ffff '

# 64-bit access, allowed by edu from 0x80 on.
run fpgactl -d "$edu" poke -w 64 0x80 0x123456789a
expect_ok
run fpgactl -d "$edu" peek -w 64 0x80
expect_ok
expect_eq "$out" 0x000000123456789a "DMA source address register (64-bit)"
