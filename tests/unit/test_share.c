// SPDX-License-Identifier: MIT
/*
 * fpgactl_share_export() and fpgactl_share_import() (lib/dma/share.c) against
 * the mocked kernel, over a socketpair in this process.
 *
 * The export side: the message's header and the files its fds name
 * (container and group, or /dev/iommu; the device), and the refusals
 * (model device, a buffer without a file, another context's buffer).  The
 * import side: every malformed message is refused with its errno and
 * leaves no fd open.  A successful import is tested in the guest only
 * (tests/vm/guest/99-share.sh): the mock keeps its state per fd number and
 * does not model one open file under two numbers, which SCM_RIGHTS makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "dma/share_wire.h"
#include "compat/iommufd.h"

#define BDF "0000:03:00.0"

static const struct fpgactl_dma_opts small = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

static int sv[2];

static int setup(void **state)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	return fixture_setup(state);
}

static int teardown(void **state)
{
	close(sv[0]);
	close(sv[1]);
	return fixture_teardown(state);
}

static unsigned int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static struct fpgactl_device *open_dev(int cdev)
{
	int err = 0;
	struct fpgactl_open_opts o = {
		.backend = cdev >= 0 ? FPGACTL_IOMMU_IOMMUFD : FPGACTL_IOMMU_LEGACY };
	struct fpgactl_device *dev;

	if (cdev >= 0)
		assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, cdev);
	dev = fpgactl_device_open(BDF, &o, &err);
	if (!dev)
		print_message("open: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	return dev;
}

/* Receive one raw message into @h; its fds into @fds.  Return their number. */
static unsigned int recv_raw(struct share_hdr *h, int *fds, unsigned int max)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SHARE_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = h, .iov_len = sizeof(*h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;
	unsigned int n;

	assert_int_equal(recvmsg(sv[1], &msg, 0), sizeof(*h));
	c = CMSG_FIRSTHDR(&msg);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	n = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
	assert_true(n <= max);
	memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	return n;
}

/* The received @fd is the file at @rel in the fake tree. */
static void assert_fd_is(int fd, const char *rel)
{
	char link[64], got[PATH_MAX], want[PATH_MAX];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, got, sizeof(got) - 1);
	assert_true(len > 0);
	got[len] = 0;
	if (!strcmp(rel, "mock-regions")) {
		assert_non_null(strstr(got, "/mock-regions"));
		return;
	}
	assert_non_null(realpath(faketree_path(tree, rel), want));
	assert_string_equal(got, want);
}

static void check_header(const struct share_hdr *h, uint32_t backend, unsigned int fds)
{
	assert_int_equal(h->magic, SHARE_MAGIC);
	assert_int_equal(h->version, SHARE_VERSION);
	assert_int_equal(h->hdr_size, sizeof(*h));
	assert_int_equal(h->backend, backend);
	assert_int_equal(h->nr_bufs, 0);
	assert_int_equal(h->nr_fds, fds);
	assert_string_equal(h->bdf, BDF);
	assert_int_equal(h->dma_limit, (UINT64_C(1) << 32) - 1);
}

static void test_export_legacy(void **state)
{
	struct fpgactl_device *dev;
	struct share_hdr h;
	int fds[SHARE_MAX_FDS];

	(void)state;
	dev = open_dev(-1);
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 32), 0);
	assert_int_equal(fpgactl_share_export(sv[0], dev, NULL, 0), 0);
	assert_int_equal(recv_raw(&h, fds, SHARE_MAX_FDS), 3);
	check_header(&h, FPGACTL_IOMMU_LEGACY, 3);
	assert_fd_is(fds[0], "dev/vfio/vfio");
	assert_fd_is(fds[1], "dev/vfio/5");
	assert_fd_is(fds[2], "mock-regions");
	/* The exporter's close leaves the group in the container: the files
	 * are the importers' too. */
	fpgactl_device_close(dev);
	assert_int_equal(mock_ioctl_count(VFIO_GROUP_UNSET_CONTAINER), 0);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void test_export_iommufd(void **state)
{
	struct fpgactl_device *dev;
	struct share_hdr h;
	int fds[SHARE_MAX_FDS];

	(void)state;
	dev = open_dev(0);
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 32), 0);
	assert_int_equal(fpgactl_share_export(sv[0], dev, NULL, 0), 0);
	assert_int_equal(recv_raw(&h, fds, SHARE_MAX_FDS), 2);
	check_header(&h, FPGACTL_IOMMU_IOMMUFD, 2);
	assert_fd_is(fds[0], "dev/iommu");
	assert_fd_is(fds[1], "mock-regions");
	/* The exporter's close neither detaches the device nor destroys the
	 * IOAS: the files are the importers' too. */
	fpgactl_device_close(dev);
	assert_int_equal(mock_ioctl_count(VFIO_DEVICE_DETACH_IOMMUFD_PT), 0);
	assert_int_equal(mock_ioctl_count(IOMMU_DESTROY), 0);
	for (int i = 0; i < 2; i++)
		close(fds[i]);
}

/* Nothing is sent for a refused export. */
static void assert_nothing_sent(void)
{
	char c;

	assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_export_refused(void **state)
{
	struct fpgactl_device *dev, *other, *model;
	struct fpgactl_dma_buf *b, *ob, *many[FPGACTL_SHARE_MAX_BUFS + 1];
	int err = 0;

	(void)state;
	dev = open_dev(-1);
	add_ready_device("0000:04:00.0", 6, -1);
	other = fpgactl_device_open("0000:04:00.0", NULL, &err);
	assert_non_null(other);
	/* Ordinary pages: anonymous memory, no file to pass. */
	b = fpgactl_dma_alloc(dev, 4096, &small, &err);
	assert_non_null(b);
	assert_int_equal(fpgactl_share_export(sv[0], dev, &b, 1), -EINVAL);
	assert_true(log_has("has no file to share"));
	/* Another context's buffer. */
	ob = fpgactl_dma_alloc(other, 4096, &small, &err);
	assert_non_null(ob);
	fixture_log_clear();
	assert_int_equal(fpgactl_share_export(sv[0], dev, &ob, 1), -EINVAL);
	assert_true(log_has("is not one of this device's IOMMU context"));
	for (unsigned int i = 0; i <= FPGACTL_SHARE_MAX_BUFS; i++)
		many[i] = b;
	assert_int_equal(fpgactl_share_export(sv[0], dev, many,
					      FPGACTL_SHARE_MAX_BUFS + 1), -EINVAL);
	/* The model lives in this process only. */
	model = fpgactl_device_open("model", NULL, &err);
	assert_non_null(model);
	assert_int_equal(fpgactl_share_export(sv[0], model, NULL, 0), -EOPNOTSUPP);
	assert_nothing_sent();
	fpgactl_device_close(model);
	fpgactl_dma_free(ob);
	fpgactl_dma_free(b);
	fpgactl_device_close(other);
	fpgactl_device_close(dev);
}

/* Send @h (@len bytes) with @nfds fds of /dev/null. */
static void send_crafted(const void *h, size_t len, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)h, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[8];

	assert_true(nfds <= 8);
	for (unsigned int i = 0; i < nfds; i++)
		assert_true((fds[i] = open("/dev/null", O_RDWR)) >= 0);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(sv[0], &msg, 0), (ssize_t)len);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* fpgactl_share_import() of what was sent fails with @want, leaving no fd. */
static void expect_import(int want, const char *log)
{
	struct fpgactl_dma_buf *bufs[4];
	unsigned int before = open_fds(), n = 99;
	int err = 0;

	fixture_log_clear();
	assert_null(fpgactl_share_import(sv[1], bufs, 4, &n, &err));
	if (err != want || !log_has(log))
		print_message("import: %d\n%s", err, fixture_log());
	assert_int_equal(err, want);
	assert_true(log_has(log));
	assert_int_equal(n, 99);
	assert_int_equal(open_fds(), before);
}

static struct share_hdr good_hdr(unsigned int nr_bufs)
{
	struct share_hdr h = { .magic = SHARE_MAGIC, .version = SHARE_VERSION,
			       .hdr_size = sizeof(h), .backend = FPGACTL_IOMMU_IOMMUFD,
			       .nr_bufs = nr_bufs, .nr_fds = 2 + nr_bufs,
			       .numa_node = -1, .dma_limit = UINT64_MAX };

	snprintf(h.bdf, sizeof(h.bdf), "%s", BDF);
	return h;
}

static void test_import_malformed(void **state)
{
	struct {
		struct share_hdr h;
		struct share_buf b[5];
	} m;
	char junk[40] = "GET / HTTP/1.0\r\n";

	(void)state;
	send_crafted(junk, sizeof(junk), 2);
	expect_import(-EPROTO, "did not carry a libfpgactl export message");

	m.h = good_hdr(0);
	m.h.version = 2;
	send_crafted(&m.h, sizeof(m.h), 2);
	expect_import(-EPROTONOSUPPORT, "this library reads version 1");

	/* Five buffers for room for four. */
	m.h = good_hdr(5);
	memset(m.b, 0, sizeof(m.b));
	send_crafted(&m, sizeof(m), 7);
	expect_import(-ENOSPC, "room for 4");

	/* An fd short. */
	m.h = good_hdr(0);
	send_crafted(&m.h, sizeof(m.h), 1);
	expect_import(-EPROTO, "malformed export message");

	/* Not a PCI address. */
	m.h = good_hdr(0);
	snprintf(m.h.bdf, sizeof(m.h.bdf), "model");
	send_crafted(&m.h, sizeof(m.h), 2);
	expect_import(-EPROTO, "malformed export message");

	/* A buffer whose IOVA range wraps. */
	m.h = good_hdr(1);
	m.b[0] = (struct share_buf){ .iova = UINT64_MAX - 4095, .size = 8192,
				     .page_size = 4096 };
	send_crafted(&m, sizeof(m.h) + sizeof(m.b[0]), 3);
	expect_import(-EPROTO, "impossible IOVA");

	/* A device fd that is not one (/dev/null): the kernel's refusal,
	 * ENOTTY; QEMU's user mode answers an ioctl it does not know with
	 * ENOSYS instead (the aarch64 cross build, FPGACTL_TEST_QEMU_USER). */
	m.h = good_hdr(1);
	m.b[0] = (struct share_buf){ .iova = 1 << 20, .size = 4096, .page_size = 4096 };
	send_crafted(&m, sizeof(m.h) + sizeof(m.b[0]), 3);
	expect_import(getenv("FPGACTL_TEST_QEMU_USER") ? -ENOSYS : -ENOTTY,
		      "VFIO_DEVICE_GET_INFO failed");

	close(sv[0]);
	sv[0] = -1;
	expect_import(-ECONNRESET, "cannot receive an export message");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_export_legacy),
		T(test_export_iommufd),
		T(test_export_refused),
		T(test_import_malformed),
	};

	return fixture_run("test_share", tests, sizeof(tests) / sizeof(tests[0]), NULL);
}
