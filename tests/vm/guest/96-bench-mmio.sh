# machine: bench
# Benchmark, not a test: what mapping a BAR saves (tests/vm/progs/
# bench_mmio.c).  edu's identification register read 100000 times through
# BAR0's mapping and 100000 times through pread() on the VFIO device
# (opened with FPGACTL_OPEN_NO_MMAP), in 5 alternating rounds; prints ns per
# read of each and their ratio.  Asserts only that it ran: every read
# returned the identification value, and the flag left BAR0 unmapped.
. /lib/vmtest.sh
need_program bench_mmio

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"

run bench_mmio -n 100000 -r 5 "$edu"
expect_ok
expect_out '^bench_mmio: .* pread/mmap [0-9.]+$'
report "$(out_line '^bench_mmio: .* ident register')"
report "$(out_line '^bench_mmio: open ')"
