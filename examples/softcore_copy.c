// SPDX-License-Identifier: MIT
/*
 * A minimal soft-core program: open the device, bring the soft-core up,
 * map a DMA buffer, have the soft-core COPY one half of it to the other,
 * and check the result.
 *
 *	softcore_copy [DEVICE]     DEVICE: a PCI address, or "model" (default)
 */
#include <stdio.h>
#include <string.h>

#include <fpgactl.h>

#define HALF 4096

static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "libfpgactl: %s\n", msg);
}

static int copy_and_check(struct fpgactl_sc *sc, struct fpgactl_dma_buf *buf)
{
	struct fpgactl_queue *q = fpgactl_sc_queue(sc, 0);
	uint8_t *src = buf->vaddr, *dst = src + HALF;
	struct fpgactl_completion done;
	int ret;

	for (int i = 0; i < HALF; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	memset(dst, 0, HALF);
	ret = fpgactl_sc_prep_copy(q, fpgactl_dma_buf_iova(buf, src),
				   fpgactl_dma_buf_iova(buf, dst), HALF, buf, 0);
	if (!ret)
		ret = fpgactl_sc_wait(q, buf, 1000000000ull, &done);
	if (ret)
		return ret;
	if (done.error || done.status) {
		fprintf(stderr, "COPY failed: error %d, status %s\n", done.error,
			fpgactl_sc_status_name(done.status));
		return -1;
	}
	if (memcmp(src, dst, HALF)) {
		fprintf(stderr, "COPY completed but the data differ\n");
		return -1;
	}
	printf("COPY of %d bytes from IOVA 0x%llx to 0x%llx: verified\n", HALF,
	       (unsigned long long)fpgactl_dma_buf_iova(buf, src),
	       (unsigned long long)fpgactl_dma_buf_iova(buf, dst));
	return 0;
}

int main(int argc, char **argv)
{
	const struct fpgactl_dma_opts small_ok = { .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES };
	const struct fpgactl_sc_opts sc_opts = { .nr_queues = 1, .depth = 64 };
	const char *name = argc > 1 ? argv[1] : "model";
	struct fpgactl_dma_buf *buf = NULL;
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc = NULL;
	int err = 0;

	fpgactl_set_log(log_stderr, NULL, FPGACTL_LOG_WARNING);
	dev = fpgactl_device_open(name, NULL, &err);
	if (dev)
		sc = fpgactl_sc_open(dev, &sc_opts, &err);
	if (sc)
		buf = fpgactl_dma_alloc(dev, 2 * HALF, &small_ok, &err);
	if (buf)
		err = copy_and_check(sc, buf);
	fpgactl_dma_free(buf);
	fpgactl_sc_close(sc);
	fpgactl_device_close(dev);
	if (err)
		fprintf(stderr, "softcore_copy: failed (%s)\n", strerror(err < 0 ? -err : EIO));
	return err ? 1 : 0;
}
