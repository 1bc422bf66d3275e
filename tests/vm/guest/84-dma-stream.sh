# fpgactl bench stream on edu: a file streamed into a DMA buffer that edu's
# IOMMU maps (VFIO, this row's backend), through io_uring fixed buffers, and
# back, in the three I/O modes, each direction cold and warm: every run is
# checked byte for byte by the benchmark itself (exit 1 on any difference),
# so this is the stream on a real kernel's io_uring registering memory that
# VFIO or iommufd has pinned too, not only on the host's kernel of the unit
# tests.  The files are on the guest's tmpfs: O_DIRECT there needs Linux 6.6,
# so the 6.1 rows take the buffered fallback and the 6.12 rows O_DIRECT.
. /lib/vmtest.sh

edu=$(need_device $EDU_ID) || exit 1
vfio_bind_sysfs "$edu"
export TMPDIR=/tmp
run fpgactl -d "$edu" bench stream --size 4194304 --rounds 1
expect_rc 0
expect_out "^bench stream: 4 MiB from a temporary file in /tmp .* into a DMA buffer of $edu"
for dir in 'file>buf' 'buf>file'; do
	for cache in cold warm; do
		expect_out "^$dir +4 KiB +$cache +io_uring "
		expect_out "^$dir +1 MiB +$cache +uring-buffer "
	done
done
