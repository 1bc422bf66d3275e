/* SPDX-License-Identifier: MIT */
#ifndef FPGACTL_SHARE_H
#define FPGACTL_SHARE_H

#ifdef __cplusplus
extern "C" {
#endif

struct fpgactl_device;
struct fpgactl_dma_buf;

/** Most DMA buffers one fpgactl_share_export() message carries. */
#define FPGACTL_SHARE_MAX_BUFS 64

/**
 * fpgactl_share_export() - hand a device, its address space and buffers to
 *	another process
 * @sock: a connected UNIX socket (SOCK_SEQPACKET recommended; SOCK_STREAM
 *	works when nothing else is sent on it at the same time)
 * @dev: a VFIO device opened by this process (not the model, not a
 *	simulated device, not an imported one)
 * @bufs: DMA buffers of @dev's IOMMU context to share, from
 *	fpgactl_dma_alloc() with hugepages (their memory has a file); may be
 *	NULL when @n is 0
 * @n: their number, at most FPGACTL_SHARE_MAX_BUFS
 *
 * Sends one message: a versioned header, one record per buffer (its IOVA
 * and size) and, with SCM_RIGHTS, the context's container (with the
 * device's group) or /dev/iommu fd, the device fd and each buffer's memory
 * fd.  The receiver calls fpgactl_share_import().  The objects stay this
 * process's: it keeps using them, and they live in the kernel as long as
 * any process holds the fds, so importers go on after this process exits.
 * Interrupts and resets stay with this process.  See "Sharing a device
 * between processes" in docs/architecture.md.
 *
 * Return: 0, -EOPNOTSUPP (a model, simulated or imported device), -EINVAL
 * (a buffer of another context, without a file (ordinary pages or the
 * application's memory), or @n too large), or -errno of sendmsg(); each
 * logged.
 */
int fpgactl_share_export(int sock, struct fpgactl_device *dev,
			 struct fpgactl_dma_buf *const *bufs, unsigned int n);

/**
 * fpgactl_share_import() - take a device and buffers another process exported
 * @sock: the other end of the exporter's socket
 * @bufs: receives the buffers, in the exporter's order (at least @max)
 * @max: room in @bufs
 * @n: receives the number of buffers
 * @err: receives -errno on failure; may be NULL
 *
 * The device is usable as one this process opened for register access and
 * for DMA through the received buffers, which are mapped at new CPU
 * addresses but keep the exporter's IOVAs (fpgactl_dma_iova() knows them).
 * The imported IOMMU context maps nothing new: fpgactl_dma_alloc(),
 * fpgactl_dma_map() and fpgactl_dma_pool_create() fail with -EPERM, as do
 * interrupts (fpgactl_irq_enable()) and resets, which stay with the
 * exporter.  fpgactl_dma_free() of an imported buffer only drops this
 * process's view of it; fpgactl_device_close() closes the fds and leaves
 * the device and the address space to the others.
 *
 * Return: the device, or NULL with *@err set: -EPROTO (not an export
 * message, truncated, or fds missing), -EPROTONOSUPPORT (another version),
 * -ENOSPC (more than @max buffers), -ECONNRESET (the peer closed the
 * socket), or another -errno; each logged.  Nothing stays open on failure.
 */
struct fpgactl_device *fpgactl_share_import(int sock, struct fpgactl_dma_buf **bufs,
					    unsigned int max, unsigned int *n,
					    int *err);

#ifdef __cplusplus
}
#endif

#endif
