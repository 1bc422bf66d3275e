// SPDX-License-Identifier: MIT
/*
 * Several processes on one device: the exporter passes its IOMMU context,
 * the device and its DMA buffers' memory as fds over a UNIX socket
 * (SCM_RIGHTS); the importer builds a device and buffers on them, in a
 * context that maps nothing and only closes what it received.  The message
 * is described in share_wire.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "iommu/iommu.h"
#include "vfio/vfio.h"
#include "dma/dma.h"
#include "share_wire.h"

/* ---- the imported context's backend ------------------------------------ */

int share_refuse_map(void)
{
	log_err("this IOMMU context was imported from another process "
		"(fpgactl_share_import()), which owns its address space: it maps "
		"no new DMA memory; allocate the buffers in the exporting process "
		"and pass them with fpgactl_share_export()");
	return -EPERM;
}

static int imp_open(struct fpgactl_iommu *iommu)
{
	iommu->imported.ctx_fd = -1;
	iommu->imported.group_fd = -1;
	return 0;
}

/* Only the fds: the container, group and IOAS are the exporter's too. */
static void imp_close(struct fpgactl_iommu *iommu)
{
	if (iommu->imported.group_fd >= 0)
		close(iommu->imported.group_fd);
	if (iommu->imported.ctx_fd >= 0)
		close(iommu->imported.ctx_fd);
}

static int imp_attach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	(void)iommu;
	log_err("%s: cannot open a device into an imported IOMMU context: "
		"export the device from the process that opened it", dev->bdf);
	dev->fd = -1;
	return -EPERM;
}

/* Closing the received device fd leaves the device bound and attached. */
static void imp_detach(struct fpgactl_iommu *iommu, struct iommu_dev *dev)
{
	(void)iommu;
	close(dev->fd);
	dev->fd = -1;
}

static int imp_dma_info(struct fpgactl_iommu *iommu, struct iova_range **ranges,
			size_t *nr_ranges, int64_t *mappings_avail)
{
	(void)iommu;
	(void)ranges;
	(void)nr_ranges;
	(void)mappings_avail;
	return share_refuse_map();
}

static int imp_map(struct fpgactl_iommu *iommu, void *vaddr, uint64_t iova,
		   uint64_t size)
{
	(void)iommu;
	(void)vaddr;
	(void)iova;
	(void)size;
	return share_refuse_map();
}

/* The exporter's mapping stays: it is its to unmap. */
static int imp_unmap(struct fpgactl_iommu *iommu, uint64_t iova, uint64_t size)
{
	(void)iommu;
	(void)iova;
	(void)size;
	return 0;
}

#define IMPORTED_BACKEND(NAME, ID) {					\
	.name = NAME, .id = ID, .open = imp_open, .close = imp_close,	\
	.attach = imp_attach, .detach = imp_detach,			\
	.dma_info = imp_dma_info, .map = imp_map, .unmap = imp_unmap,	\
	.imported = true }

static const struct iommu_backend imported_legacy =
	IMPORTED_BACKEND("legacy (imported)", FPGACTL_IOMMU_LEGACY);
static const struct iommu_backend imported_iommufd =
	IMPORTED_BACKEND("iommufd (imported)", FPGACTL_IOMMU_IOMMUFD);

/* ---- the imported device's operations ----------------------------------- */

static int imp_reset(struct fpgactl_device *dev)
{
	log_err("%s: imported from another process: resets belong to the "
		"process that exported it", dev->bdf);
	return -EPERM;
}

static bool imp_hot_reset_possible(struct fpgactl_device *dev)
{
	(void)dev;
	return false;
}

/* The device's interrupts stay routed to the exporter's eventfds. */
static int imp_set_irqs(struct fpgactl_device *dev, uint32_t index, uint32_t start,
			uint32_t count, const int *fds)
{
	(void)index;
	(void)start;
	(void)fds;
	if (!count)
		return 0;	/* never enabled here: the exporter's stay */
	log_err("%s: imported from another process: its interrupts belong to "
		"the process that exported it (poll for completion instead)",
		dev->bdf);
	return -EPERM;
}

static void imp_device_close(struct fpgactl_device *dev)
{
	regions_teardown(dev);
	if (dev->fd >= 0)
		device_detach(dev);
}

static const struct device_ops imported_device_ops = {
	.region_rw = vfio_region_rw,
	.irq_info = vfio_irq_info,
	.reset = imp_reset,
	.hot_reset = imp_reset,
	.hot_reset_possible = imp_hot_reset_possible,
	.set_irqs = imp_set_irqs,
	.close = imp_device_close,
};

/* ---- export -------------------------------------------------------------- */

static int export_check(struct fpgactl_device *dev, struct fpgactl_dma_buf *const *bufs,
			unsigned int n)
{
	const struct iommu_backend *be = dev->iommu->backend;

	if (dev->ops != &vfio_device_ops || be->imported ||
	    (be->id != FPGACTL_IOMMU_LEGACY && be->id != FPGACTL_IOMMU_IOMMUFD)) {
		log_err("%s: only a VFIO device this process opened can be "
			"exported (not the model, a simulated or an imported device)",
			dev->bdf);
		return -EOPNOTSUPP;
	}
	if (n > FPGACTL_SHARE_MAX_BUFS || (n && !bufs)) {
		log_err("%s: %u DMA buffers to export: at most %u per call",
			dev->bdf, n, FPGACTL_SHARE_MAX_BUFS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (!bufs[i] || dma_buf_iommu(bufs[i]) != dev->iommu) {
			log_err("%s: DMA buffer %u is not one of this device's IOMMU "
				"context", dev->bdf, i);
			return -EINVAL;
		}
		if (!dma_buf_backing(bufs[i])->has_fd) {
			log_err("%s: DMA buffer %u has no file to share (ordinary "
				"pages or the application's memory): allocate the "
				"buffers to export with hugepages", dev->bdf, i);
			return -EINVAL;
		}
	}
	return 0;
}

static int group_fd_of(struct fpgactl_device *dev)
{
	const struct legacy_state *l = &dev->iommu->legacy;

	for (size_t i = 0; i < l->nr_groups; i++)
		if (l->groups[i].number == dev->group)
			return l->groups[i].fd;
	return -1;
}

/* The fds to pass, in wire order; their number. */
static unsigned int export_fds(struct fpgactl_device *dev,
			       struct fpgactl_dma_buf *const *bufs, unsigned int n,
			       int *fds)
{
	unsigned int k = 0;

	if (dev->iommu->backend->id == FPGACTL_IOMMU_LEGACY) {
		fds[k++] = dev->iommu->legacy.container_fd;
		fds[k++] = group_fd_of(dev);
	} else {
		fds[k++] = dev->iommu->iommufd.fd;
	}
	fds[k++] = dev->fd;
	for (unsigned int i = 0; i < n; i++)
		fds[k++] = dma_buf_backing(bufs[i])->fd;
	return k;
}

static int send_all(int sock, const void *data, size_t len, const int *fds,
		    unsigned int nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SHARE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t sent;

	memset(ctl.buf, 0, sizeof(ctl.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	do
		sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (sent < 0 && errno == EINTR);
	if (sent < 0)
		return -errno;
	return (size_t)sent == len ? 0 : -EMSGSIZE;
}

FPGACTL_EXPORT int fpgactl_share_export(int sock, struct fpgactl_device *dev,
					struct fpgactl_dma_buf *const *bufs, unsigned int n)
{
	struct {
		struct share_hdr hdr;
		struct share_buf bufs[FPGACTL_SHARE_MAX_BUFS];
	} m;
	int fds[SHARE_MAX_FDS];
	int ret = export_check(dev, bufs, n);

	if (ret)
		return ret;
	memset(&m, 0, sizeof(m));
	m.hdr = (struct share_hdr){ .magic = SHARE_MAGIC, .version = SHARE_VERSION,
		.hdr_size = sizeof(m.hdr), .backend = dev->iommu->backend->id,
		.nr_bufs = n, .numa_node = dev->numa_node, .dma_limit = dev->dma_limit };
	snprintf(m.hdr.bdf, sizeof(m.hdr.bdf), "%s", dev->bdf);
	for (unsigned int i = 0; i < n; i++) {
		const struct dma_backing *bk = dma_buf_backing(bufs[i]);

		m.bufs[i] = (struct share_buf){ .iova = bufs[i]->iova, .size = bk->len,
			.page_size = bk->page_size, .node = bk->node };
	}
	m.hdr.nr_fds = export_fds(dev, bufs, n, fds);
	if (fds[1] < 0 && m.hdr.backend == FPGACTL_IOMMU_LEGACY) {
		log_err("%s: its VFIO group is not open in its context", dev->bdf);
		return -EINVAL;
	}
	/* From the first send on, the files may be another process's too. */
	dev->iommu->exported = true;
	if (dev->iommu->backend->id == FPGACTL_IOMMU_LEGACY)
		dev->iommu->legacy.shared = true;
	ret = send_all(sock, &m, sizeof(m.hdr) + n * sizeof(m.bufs[0]), fds,
		       m.hdr.nr_fds);
	if (ret)
		log_err("%s: cannot send the export message: %s (the socket must be "
			"a connected UNIX socket)", dev->bdf, strerror(-ret));
	return ret;
}

/* ---- import -------------------------------------------------------------- */

struct share_msg {
	struct share_hdr hdr;
	struct share_buf bufs[FPGACTL_SHARE_MAX_BUFS];
	int fds[SHARE_MAX_FDS];
	unsigned int nr_fds;
	size_t len;
};

static void close_fds(const int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		close(fds[i]);
}

/* The fds of the message's SCM_RIGHTS parts; -EPROTO if some were lost. */
static int take_fds(struct msghdr *msg, struct share_msg *m)
{
	int ret = (msg->msg_flags & MSG_CTRUNC) ? -EPROTO : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (m->nr_fds < SHARE_MAX_FDS)
				m->fds[m->nr_fds++] = fd;
			else
				close(fd), ret = -EPROTO;
		}
	}
	return ret;
}

/* One recvmsg() for the header, the records and the fds; then the rest of
 * the records if a stream socket split them. */
static int receive(int sock, struct share_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SHARE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(m->hdr) + sizeof(m->bufs) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	ssize_t got;
	int ret;

	do
		got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	if (got == 0)
		return -ECONNRESET;
	ret = take_fds(&msg, m);
	m->len = (size_t)got;
	if (!ret && m->len >= sizeof(m->hdr) && m->hdr.nr_bufs <= FPGACTL_SHARE_MAX_BUFS) {
		size_t want = sizeof(m->hdr) + m->hdr.nr_bufs * sizeof(m->bufs[0]);

		while (m->len < want) {
			got = recv(sock, (char *)m + m->len, want - m->len, MSG_WAITALL);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0)
				break;
			m->len += (size_t)got;
		}
	}
	return ret;
}

static int check_buf(const struct share_buf *b, uint64_t dma_limit)
{
	size_t host = (size_t)sysconf(_SC_PAGESIZE);

	if (b->page_size < host || (b->page_size & (b->page_size - 1)) ||
	    b->page_size > FPGACTL_PAGE_1G || !b->size || b->size % b->page_size ||
	    b->size > SIZE_MAX - FPGACTL_PAGE_1G ||
	    b->iova % host || b->iova > dma_limit || b->size - 1 > dma_limit - b->iova)
		return -EPROTO;
	return 0;
}

static int check_msg(const struct share_msg *m, unsigned int max)
{
	const struct share_hdr *h = &m->hdr;
	char bdf[FPGACTL_BDF_LEN];
	unsigned int want_fds;

	if (m->len < sizeof(*h) || h->magic != SHARE_MAGIC) {
		log_err("the socket did not carry a libfpgactl export message "
			"(%zu bytes): the peer must call fpgactl_share_export()", m->len);
		return -EPROTO;
	}
	if (h->version != SHARE_VERSION || h->hdr_size != sizeof(*h)) {
		log_err("export message of version %u, this library reads version %u: "
			"use the same libfpgactl in both processes", h->version,
			SHARE_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h->nr_bufs > max) {
		log_err("the exporter sent %u DMA buffers, room for %u: pass a "
			"larger array to fpgactl_share_import()", h->nr_bufs, max);
		return -ENOSPC;
	}
	want_fds = (h->backend == FPGACTL_IOMMU_LEGACY ? 3 : 2) + h->nr_bufs;
	if ((h->backend != FPGACTL_IOMMU_LEGACY && h->backend != FPGACTL_IOMMU_IOMMUFD) ||
	    h->nr_bufs > FPGACTL_SHARE_MAX_BUFS || h->nr_fds != want_fds ||
	    m->nr_fds != want_fds || !memchr(h->bdf, 0, sizeof(h->bdf)) ||
	    fpgactl_pci_parse_bdf(h->bdf, bdf) ||
	    m->len != sizeof(*h) + h->nr_bufs * sizeof(m->bufs[0])) {
		log_err("malformed export message (%zu bytes, %u of %u fds): is "
			"the socket used for something else at the same time?",
			m->len, m->nr_fds, h->nr_fds);
		return -EPROTO;
	}
	for (unsigned int i = 0; i < h->nr_bufs; i++) {
		if (check_buf(&m->bufs[i], h->dma_limit)) {
			log_err("export message: DMA buffer %u has an impossible "
				"IOVA, size or page size", i);
			return -EPROTO;
		}
	}
	return 0;
}

static struct fpgactl_iommu *imported_context(const struct share_msg *m, int *err)
{
	struct fpgactl_iommu *iommu = calloc(1, sizeof(*iommu));

	if (!iommu) {
		*err = -ENOMEM;
		return NULL;
	}
	iommu->backend = m->hdr.backend == FPGACTL_IOMMU_LEGACY ? &imported_legacy
								: &imported_iommufd;
	iommu->refs = 1;
	pthread_mutex_init(&iommu->lock, NULL);
	imp_open(iommu);
	iommu->imported.ctx_fd = m->fds[0];
	if (m->hdr.backend == FPGACTL_IOMMU_LEGACY)
		iommu->imported.group_fd = m->fds[1];
	return iommu;
}

/* The device on the received fd; takes the context's reference. */
static struct fpgactl_device *imported_device(const struct share_msg *m,
					      struct fpgactl_iommu *iommu, int *err)
{
	unsigned int dev_fd = m->hdr.backend == FPGACTL_IOMMU_LEGACY ? 2 : 1;
	struct fpgactl_device *dev = device_alloc();
	int ret;

	if (!dev) {
		fpgactl_iommu_close(iommu);
		close(m->fds[dev_fd]);
		*err = -ENOMEM;
		return NULL;
	}
	/* check_msg() checked it is a PCI address. */
	fpgactl_pci_parse_bdf(m->hdr.bdf, dev->bdf);
	dev->ops = &imported_device_ops;
	dev->iommu = iommu;
	dev->fd = m->fds[dev_fd];
	dev->numa_node = m->hdr.numa_node;
	dev->dma_limit = m->hdr.dma_limit;
	ret = query_device_info(dev);
	if (!ret)
		ret = regions_setup(dev, true);
	if (ret) {
		device_put(dev);
		*err = ret;
		return NULL;
	}
	return dev;
}

/* Map @fd at an address aligned to @align (a power of two, at least a
 * lookup-table slot, as the table needs; the page size for hugetlb). */
static void *map_aligned(int fd, size_t size, size_t align)
{
	size_t len = size + align;
	uint8_t *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (mmap((void *)start, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED) {
		munmap(p, len);
		return NULL;
	}
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((uint8_t *)start + size, (uintptr_t)p + len - start - size);
	return (void *)start;
}

static struct fpgactl_dma_buf *import_buf(struct fpgactl_iommu *iommu,
					  const struct share_buf *sb, int fd, int *err)
{
	struct dma_backing bk = { .len = sb->size, .page_size = sb->page_size,
				  .node = sb->node, .has_fd = true, .fd = fd };
	struct fpgactl_dma_buf *buf;

	snprintf(bk.source, sizeof(bk.source), "shared");
	bk.vaddr = map_aligned(fd, sb->size, sb->page_size > DMA_TABLE_SLOT ?
					      sb->page_size : DMA_TABLE_SLOT);
	if (!bk.vaddr) {
		*err = -errno;
		log_err("cannot map a shared DMA buffer (%llu KiB at IOVA 0x%llx): %s",
			(unsigned long long)(sb->size >> 10),
			(unsigned long long)sb->iova, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = dma_buf_adopt(iommu, &bk, sb->iova, err);
	if (!buf)
		backing_free(&bk);
	return buf;
}

static int import_bufs(struct fpgactl_device *dev, const struct share_msg *m,
		       struct fpgactl_dma_buf **bufs)
{
	unsigned int first = m->hdr.backend == FPGACTL_IOMMU_LEGACY ? 3 : 2;
	int ret = 0;
	unsigned int i;

	for (i = 0; i < m->hdr.nr_bufs && !ret; i++) {
		bufs[i] = import_buf(dev->iommu, &m->bufs[i], m->fds[first + i], &ret);
		if (!bufs[i])
			break;
	}
	if (!ret)
		return 0;
	close_fds(m->fds + first + i + 1, m->hdr.nr_bufs - i - 1);
	while (i--)
		fpgactl_dma_free(bufs[i]);
	return ret;
}

FPGACTL_EXPORT struct fpgactl_device *
fpgactl_share_import(int sock, struct fpgactl_dma_buf **bufs, unsigned int max,
		     unsigned int *n, int *err)
{
	struct share_msg *m = calloc(1, sizeof(*m));
	struct fpgactl_device *dev = NULL;
	struct fpgactl_iommu *iommu;
	int ret = m ? receive(sock, m) : -ENOMEM;

	if (ret == -EPROTO)
		log_err("the export message's fds were cut off (more than %u?)",
			SHARE_MAX_FDS);
	else if (ret && m)
		log_err("cannot receive an export message: %s", strerror(-ret));
	if (!ret)
		ret = check_msg(m, bufs ? max : 0);
	if (ret)
		goto out;
	iommu = imported_context(m, &ret);
	if (!iommu)
		goto out;
	m->nr_fds = 0;	/* owned by the context and the device from here */
	dev = imported_device(m, iommu, &ret);
	if (dev)
		ret = import_bufs(dev, m, bufs);
	else
		close_fds(m->fds + (m->hdr.backend == FPGACTL_IOMMU_LEGACY ? 3 : 2),
			  m->hdr.nr_bufs);
	if (ret && dev) {
		device_put(dev);
		dev = NULL;
	}
out:
	if (m)
		close_fds(m->fds, m->nr_fds);
	if (dev) {
		*n = m->hdr.nr_bufs;
		log_debug("%s: imported with %u DMA buffers", dev->bdf, *n);
	} else if (err) {
		*err = ret;
	}
	free(m);
	return dev;
}
