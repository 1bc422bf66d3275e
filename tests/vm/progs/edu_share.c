// SPDX-License-Identifier: MIT
/*
 * edu_share: QEMU's edu device shared by three processes (guest test
 * share), fpgactl_share_export() and fpgactl_share_import().
 *
 *   edu_share export BDF SOCKET LOCKFILE
 *	opens edu, allocates NBUF 2 MiB hugepage buffers, marks each, waits
 *	for two workers on the UNIX socket SOCKET and exports the device and
 *	the buffers to each, does ROUNDS DMA rounds in buffer 0, closes the
 *	device (without freeing the shared buffers) and exits.
 *   edu_share worker SOCKET LOCKFILE ID
 *	imports, checks its buffer ID (1 or 2): the exporter's mark, the IOVA
 *	lookup, the refusals of an imported context; ROUNDS DMA rounds; waits
 *	for the exporter's exit (its end of the socket closes); ROUNDS more.
 *
 * A DMA round: a pattern of the process's own is copied host -> edu ->
 * host through its buffer and compared.  edu has one DMA engine and one
 * 4 KiB buffer: a round holds flock(LOCKFILE).  One line per step; exit 0
 * when all held, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>

#include <fpgactl.h>

#include "edu_dma.h"
#include "prog_log.h"
#include "share.h"

#define NBUF 3
#define ROUNDS 2
#define XFER 4000
#define MARK "edu_share buffer %u"

static struct fpgactl_device *dev;
/* @rounds rounds through the first 8 KiB of @b, holding @lock_fd. */
static int dma_rounds(const struct fpgactl_dma_buf *b, int lock_fd, unsigned int id,
		      unsigned int first, const char *when)
{
	uint8_t *src = b->vaddr, *dst = (uint8_t *)b->vaddr + 4096;
	int err = 0;

	for (unsigned int r = first; r < first + ROUNDS && !err; r++) {
		for (size_t i = 0; i < XFER; i++) {
			src[i] = (uint8_t)(i * 7 + id * 31 + r * 101);
			dst[i] = (uint8_t)~src[i];
		}
		if (flock(lock_fd, LOCK_EX))
			return fail("flock", errno);
		err = edu_dma(dev, b->iova, EDU_BUFFER, XFER, 0);
		if (!err)
			err = edu_dma(dev, EDU_BUFFER, b->iova + 4096, XFER, EDU_DMA_TO_RAM);
		flock(lock_fd, LOCK_UN);
		if (!err && memcmp(src, dst, XFER))
			err = -EIO;
	}
	if (err)
		return fail(when, err);
	printf("%s: %s: %u rounds host -> edu -> host verified in buffer %u at "
	       "IOVA 0x%" PRIx64 "\n", who, when, ROUNDS, id, b->iova);
	return 0;
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static int open_lock(const char *path)
{
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

static int exporter(const char *bdf, const char *sock_path, const char *lock_path)
{
	struct fpgactl_dma_buf *bufs[NBUF];
	struct sockaddr_un sa;
	int err = 0, lsock, lock_fd = open_lock(lock_path), conns[2];

	who = "exporter";
	dev = fpgactl_device_open(bdf, NULL, &err);
	if (!dev || fpgactl_device_set_dma_mask(dev, EDU_DMA_BITS) ||
	    fpgactl_set_bus_master(dev, true))
		return fail("open", err);
	for (unsigned int i = 0; i < NBUF; i++) {
		bufs[i] = fpgactl_dma_alloc(dev, FPGACTL_PAGE_2M, NULL, &err);
		if (!bufs[i])
			return fail("fpgactl_dma_alloc", err);
		snprintf((char *)bufs[i]->vaddr + bufs[i]->size - 64, 64, MARK, i);
	}
	lsock = unix_socket(sock_path, &sa);
	if (lsock < 0 && (errno == ENOSYS || errno == EAFNOSUPPORT)) {
		printf("no UNIX sockets in this kernel (socket: %s)\n", strerror(errno));
		return 77;	/* a kernel built without CONFIG_NET/CONFIG_UNIX */
	}
	if (lsock < 0 || lock_fd < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lsock, 2))
		return fail("socket", errno);
	printf("exporter: ready, %s with the %s backend\n", fpgactl_device_bdf(dev),
	       fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)));
	fflush(stdout);
	for (int i = 0; i < 2; i++) {
		conns[i] = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
		if (conns[i] < 0)
			return fail("accept", errno);
		err = fpgactl_share_export(conns[i], dev, bufs, NBUF);
		if (err)
			return fail("fpgactl_share_export", err);
	}
	printf("exporter: exported to 2 workers\n");
	if (dma_rounds(bufs[0], lock_fd, 0, 0, "own"))
		return 1;
	/* The shared buffers stay mapped for the workers: not freed. */
	fpgactl_device_close(dev);
	printf("exporter: device closed, exiting\n");
	fflush(stdout);
	return 0;	/* the sockets close at exit: the workers see it */
}

/* What an imported context must refuse. */
static int check_refusals(void)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_alloc(dev, FPGACTL_PAGE_2M, NULL, &err);

	if (b || err != -EPERM)
		return fail("fpgactl_dma_alloc in an imported context", b ? 0 : err);
	err = fpgactl_irq_enable(dev, 1 /* MSI */, 1);
	if (err != -EPERM)
		return fail("fpgactl_irq_enable in an imported context", err ? err : EINVAL);
	printf("%s: refused: fpgactl_dma_alloc and fpgactl_irq_enable (EPERM)\n", who);
	return 0;
}

static int check_buffer(const struct fpgactl_dma_buf *b, unsigned int id)
{
	char mark[64];
	uint64_t iova;

	snprintf(mark, sizeof(mark), MARK, id);
	if (strcmp((const char *)b->vaddr + b->size - 64, mark))
		return fail("the exporter's mark", EIO);
	if (fpgactl_dma_iova(fpgactl_device_iommu(dev), (uint8_t *)b->vaddr + 4096, 8,
			     &iova) || iova != b->iova + 4096)
		return fail("fpgactl_dma_iova", EFAULT);
	if (b->iova + b->size - 1 >= (UINT64_C(1) << EDU_DMA_BITS))
		return fail("IOVA above edu's mask", ERANGE);
	printf("%s: buffer %u: the exporter's mark, IOVA 0x%" PRIx64 " (lookup ok)\n",
	       who, id, b->iova);
	return 0;
}

static int worker(const char *sock_path, const char *lock_path, const char *id_arg)
{
	struct fpgactl_dma_buf *bufs[NBUF + 1];
	unsigned int id = (unsigned int)atoi(id_arg), n = 0;
	struct sockaddr_un sa;
	static char name[16];
	int err = 0, lock_fd = open_lock(lock_path), sock = unix_socket(sock_path, &sa);
	unsigned int fds_before;
	char c;

	snprintf(name, sizeof(name), "worker %u", id);
	who = name;
	if (id < 1 || id >= NBUF)
		return fail("ID", EINVAL);
	if (sock < 0 || lock_fd < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)))
		return fail("connect", errno);
	fds_before = open_fds();
	dev = fpgactl_share_import(sock, bufs, NBUF + 1, &n, &err);
	if (!dev)
		return fail("fpgactl_share_import", err);
	printf("%s: imported %s with %u buffers, backend %s\n", who,
	       fpgactl_device_bdf(dev), n,
	       fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)));
	if (n != NBUF || check_buffer(bufs[id], id) || check_refusals() ||
	    dma_rounds(bufs[id], lock_fd, id, 0, "with the exporter"))
		return 1;
	fflush(stdout);
	/* Wait for the exporter's exit: its end of the socket closes. */
	while (recv(sock, &c, 1, 0) < 0 && errno == EINTR)
		;
	if (dma_rounds(bufs[id], lock_fd, id, ROUNDS, "after the exporter's exit"))
		return 1;
	for (unsigned int i = 0; i < n; i++)
		fpgactl_dma_free(bufs[i]);
	fpgactl_device_close(dev);
	if (open_fds() != fds_before)
		return fail("fds left open after closing the imports", EBADF);
	printf("%s: done, every received fd closed\n", who);
	return 0;
}

int main(int argc, char **argv)
{
	fpgactl_set_log(prog_log_stderr, PROG_LOG_LIB, FPGACTL_LOG_WARNING);
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(120);	/* a worker that never comes must not hang the test */
	if (argc == 5 && !strcmp(argv[1], "export"))
		return exporter(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "worker"))
		return worker(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: edu_share export BDF SOCKET LOCKFILE\n"
		"       edu_share worker SOCKET LOCKFILE ID\n");
	return 2;
}
