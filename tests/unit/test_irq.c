// SPDX-License-Identifier: MIT
/*
 * Interrupts against the mocked kernel: eventfds routed through
 * VFIO_DEVICE_SET_IRQS, one of INTx/MSI/MSI-X at a time, automasked INTx and
 * its unmask, the best type for a vector count, ERR and REQ for removal, and
 * interrupts raised by mock_irq_trigger() reaching the event engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "fixture.h"

#define BDF "0000:03:00.0"
#define MS 1000000ll

/* A device bound to vfio-pci with these vector counts (-1: default). */
static void add_device(int msi, int msix, int intx, bool pcie)
{
	struct fake_dev_desc d;

	fake_dev_default(&d, BDF);
	d.group = 5;
	d.driver = "vfio-pci";
	d.cdev_index = -1;
	d.pcie = pcie;
	if (msi >= 0)
		d.irq_count[FPGACTL_IRQ_MSI] = (uint32_t)msi;
	if (msix >= 0)
		d.irq_count[FPGACTL_IRQ_MSIX] = (uint32_t)msix;
	if (intx >= 0)
		d.irq_count[FPGACTL_IRQ_INTX] = (uint32_t)intx;
	d.irq_count[FPGACTL_IRQ_ERR] = pcie;
	assert_int_equal(faketree_add_device(tree, &d), 0);
}

/* A PCIe device with 8 MSI-X vectors that can be added while enabled
 * (dynamic MSI-X, Linux 6.5+: VFIO_IRQ_INFO_NORESIZE clear). */
static void add_dyn_device(void)
{
	struct fake_dev_desc d;

	fake_dev_default(&d, BDF);
	d.group = 5;
	d.driver = "vfio-pci";
	d.cdev_index = -1;
	d.msix_dyn = true;
	assert_int_equal(faketree_add_device(tree, &d), 0);
}

/* Vector @v's eventfd holds exactly @count interrupts (and is drained). */
static void assert_fired(struct fpgactl_device *dev, uint32_t v, uint64_t count)
{
	int fd = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, v);
	uint64_t n = 0;

	assert_true(fd >= 0);
	if (!count) {
		assert_int_equal(read(fd, &n, 8), -1);
		return;
	}
	assert_int_equal(read(fd, &n, 8), 8);
	assert_int_equal(n, count);
}

static struct fpgactl_device *open_dev(void)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(BDF, NULL, &err);

	if (!dev)
		print_message("open: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	return dev;
}

static struct fpgactl_events *engine(unsigned int max)
{
	int err = 0;
	struct fpgactl_events *ev = fpgactl_events_create(max, &err);

	if (!ev)
		print_message("events_create: %d\n%s", err, fixture_log());
	assert_non_null(ev);
	return ev;
}

static unsigned int open_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static bool is_eventfd(int fd)
{
	char link[64], target[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:[eventfd]");
}

static void test_enable_msix(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_events *ev;
	uint64_t tags[8], counter;
	int fds[4];

	add_device(-1, -1, -1, true);
	dev = open_dev();
	ev = engine(8);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 4), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 4);
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSIX), 4);
	for (int i = 0; i < 4; i++) {
		fds[i] = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, (uint32_t)i);
		assert_true(fds[i] >= 0);
		assert_true(is_eventfd(fds[i]));
		assert_true(fcntl(fds[i], F_GETFL) & O_NONBLOCK);
		assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
		assert_int_equal(fpgactl_events_watch(ev, fds[i], 100 + (uint64_t)i), 0);
	}
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 4), -ENOENT);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSI, 0), -ENOENT);
	/* Enabling again with the same count changes nothing. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 4), 0);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), fds[0]);

	/* Nothing yet. */
	assert_int_equal(fpgactl_events_wait(ev, 0, tags, 8), 0);
	/* Two interrupts on vector 2 are one event; vector 3 is another. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 2), 0);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 2), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, tags, 8), 1);
	assert_int_equal(tags[0], 102);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 3), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, tags, 8), 1);
	assert_int_equal(tags[0], 103);
	/* The engine drained the counters (on its next io_uring_enter). */
	assert_int_equal(fpgactl_events_wait(ev, 20 * MS, tags, 8), 0);
	assert_int_equal(read(fds[2], &counter, 8), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(read(fds[3], &counter, 8), -1);
	assert_int_equal(errno, EAGAIN);

	for (int i = 0; i < 4; i++)
		assert_int_equal(fpgactl_events_unwatch(ev, fds[i]), 0);
	assert_int_equal(fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 0);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), -ENOENT);
	/* Disabling what is disabled does nothing. */
	assert_int_equal(fpgactl_irq_disable(dev, FPGACTL_IRQ_MSIX), 0);
	fpgactl_events_destroy(ev);
	fpgactl_device_close(dev);
}

/*
 * Issue 12 item 14: where the kernel allows it (NORESIZE clear), a new
 * MSI-X vector count is applied in place: the vectors kept never stop
 * delivering (an interrupt raised before the resize is still in its
 * eventfd after it), and a failure keeps the previous set-up.
 */
static void test_msix_resize_in_place(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_irq_info info;
	int fd0;

	add_dyn_device();
	dev = open_dev();
	assert_int_equal(fpgactl_irq_get_info(dev, FPGACTL_IRQ_MSIX, &info), 0);
	assert_false(info.flags & VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	fd0 = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 0), 0);
	/* Grow. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 5), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 5);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0), fd0);
	assert_fired(dev, 0, 1);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 4), 0);
	assert_fired(dev, 4, 1);
	/* Shrink: the vectors above go, the others stay. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 3), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 3);
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSIX), 3);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 3), -ENOENT);
	assert_fired(dev, 1, 1);
	/* The kernel refuses to grow: the three vectors are kept, working. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 2), 0);
	mock_fail_next(VFIO_DEVICE_SET_IRQS, ENOSPC);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 8), -ENOSPC);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 3);
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSIX), 3);
	assert_fired(dev, 2, 1);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 0), 0);
	assert_fired(dev, 0, 1);
	fpgactl_device_close(dev);
}

/* NORESIZE (every kernel before 6.5, MSI always): disable and enable again;
 * when the new count fails, the previous set-up comes back on the same
 * eventfds. */
static void test_msix_noresize_failure_restores(void **state)
{
	struct fpgactl_device *dev;
	int fd1;

	add_device(-1, -1, -1, true);
	dev = open_dev();
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 2), 0);
	fd1 = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 1);
	/* The disable goes through, the enable with 4 fails. */
	mock_fail_ioctl_after(VFIO_DEVICE_SET_IRQS, ENOSPC, 1, 1);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 4), -ENOSPC);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 2);
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSIX), 2);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 1), fd1);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 1), 0);
	assert_fired(dev, 1, 1);
	/* Without a failure the count changes (new eventfds). */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 4), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 4);
	fpgactl_device_close(dev);
}

static void test_switch_types(void **state)
{
	struct fpgactl_device *dev;
	unsigned int base, before;

	add_device(4, -1, -1, true);
	base = open_fd_count();
	dev = open_dev();
	before = open_fd_count();
	/* Each eventfd is open twice: ours, and the (mocked) kernel's. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 8), 0);
	assert_int_equal(open_fd_count(), before + 2 * 8);
	/* MSI-X -> MSI: the kernel refuses two types, so MSI-X goes first. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSI, 2), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSIX), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSI), 2);
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSIX), 0);
	assert_int_equal(open_fd_count(), before + 2 * 2);
	/* Another MSI count: disabled and enabled again. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSI, 4), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSI), 4);
	/* MSI -> INTx. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 1), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSI), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_INTX), 1);
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 0);
	/* ERR and REQ are independent of the type. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_REQ, 1), 0);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_INTX), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_REQ), 1);
	assert_int_equal(open_fd_count(), before + 2 * 2);
	/* Closing the device releases every eventfd. */
	fpgactl_device_close(dev);
	assert_int_equal(open_fd_count(), base);
}

static void test_bad_requests(void **state)
{
	struct fpgactl_device *dev;

	add_device(-1, 0, -1, false);
	dev = open_dev();
	assert_int_equal(fpgactl_irq_enable(dev, 7, 1), -EINVAL);
	assert_true(log_has("IRQ index 7 does not exist"));
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSI, 0), -EINVAL);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSI, 2), -EINVAL);
	assert_true(log_has("2 MSI vectors asked for; the device has 1"));
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 2), -EINVAL);
	fixture_log_clear();
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), -EOPNOTSUPP);
	assert_true(log_has("no MSI-X interrupt"));
	/* Conventional PCI: no ERR index. */
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_ERR, 1), -EOPNOTSUPP);
	assert_int_equal(fpgactl_irq_disable(dev, 9), -EINVAL);
	/* The kernel's refusal is passed on and nothing stays enabled. */
	mock_fail_next(VFIO_DEVICE_SET_IRQS, EINVAL);
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSI, 1), -EINVAL);
	assert_true(log_has("VFIO_DEVICE_SET_IRQS(index 1"));
	assert_int_equal(fpgactl_irq_enabled(dev, FPGACTL_IRQ_MSI), 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_MSI), 0);
	fpgactl_device_close(dev);
}

static void test_intx_unmask(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_events *ev;
	uint64_t tag;
	int fd;

	add_device(-1, -1, -1, true);
	dev = open_dev();
	ev = engine(2);
	assert_int_equal(fpgactl_irq_unmask(dev), -EINVAL);
	assert_true(log_has("without INTx enabled"));
	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_INTX, 1), 0);
	fd = fpgactl_irq_fd(dev, FPGACTL_IRQ_INTX, 0);
	assert_int_equal(fpgactl_events_watch(ev, fd, 7), 0);
	/* Fires, and VFIO masks the line. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, &tag, 1), 1);
	assert_int_equal(tag, 7);
	/* Raised while masked: pending, not delivered. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 1);
	assert_int_equal(fpgactl_events_wait(ev, 30 * MS, &tag, 1), 0);
	/* The unmask delivers it. */
	assert_int_equal(fpgactl_irq_unmask(dev), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, &tag, 1), 1);
	assert_int_equal(tag, 7);
	/* Masked again until the next unmask. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_INTX, 0), 1);
	mock_fail_next(VFIO_DEVICE_SET_IRQS, EIO);
	assert_int_equal(fpgactl_irq_unmask(dev), -EIO);
	assert_true(log_has("unmasking INTx"));
	assert_int_equal(fpgactl_irq_unmask(dev), 0);
	assert_int_equal(fpgactl_events_wait(ev, 1000 * MS, &tag, 1), 1);
	fpgactl_events_destroy(ev);
	fpgactl_device_close(dev);
}

static void test_enable_best(void **state)
{
	static const struct {
		int msi, msix, intx;
		uint32_t wanted, index, count;
	} cases[] = {
		{ 1, 8, 1, 4, FPGACTL_IRQ_MSIX, 4 },
		{ 1, 8, 1, 8, FPGACTL_IRQ_MSIX, 8 },
		{ 1, 8, 1, 16, FPGACTL_IRQ_MSIX, 8 },	/* the most vectors */
		{ 16, 8, 1, 16, FPGACTL_IRQ_MSI, 16 },	/* MSI has them all */
		{ 8, 2, 1, 16, FPGACTL_IRQ_MSI, 8 },
		{ 4, 0, 1, 2, FPGACTL_IRQ_MSI, 2 },
		{ 0, 0, 1, 4, FPGACTL_IRQ_INTX, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fpgactl_device *dev;
		uint32_t index = 99, count = 0;

		fixture_teardown(state);
		fixture_setup(state);
		add_device(cases[i].msi, cases[i].msix, cases[i].intx, true);
		dev = open_dev();
		assert_int_equal(fpgactl_irq_enable_best(dev, cases[i].wanted, &index,
							 &count), 0);
		assert_int_equal(index, cases[i].index);
		assert_int_equal(count, cases[i].count);
		assert_int_equal(mock_irq_vectors(BDF, index), count);
		fpgactl_device_close(dev);
	}
}

static void test_enable_best_fallback(void **state)
{
	struct fpgactl_device *dev;
	uint32_t index, count;

	add_device(1, 8, 1, true);
	dev = open_dev();
	assert_int_equal(fpgactl_irq_enable_best(dev, 0, &index, &count), -EINVAL);
	/* MSI-X refused by the kernel: MSI is next. */
	mock_fail_next(VFIO_DEVICE_SET_IRQS, ENOSPC);
	assert_int_equal(fpgactl_irq_enable_best(dev, 4, &index, &count), 0);
	assert_int_equal(index, FPGACTL_IRQ_MSI);
	assert_int_equal(count, 1);
	assert_true(log_has("MSI-X interrupts could not be enabled"));
	fpgactl_device_close(dev);

	/* No interrupt at all. */
	fixture_teardown(state);
	fixture_setup(state);
	add_device(0, 0, 0, true);
	dev = open_dev();
	assert_int_equal(fpgactl_irq_enable_best(dev, 1, &index, &count), -EOPNOTSUPP);
	assert_true(log_has("no interrupt at all"));
	fpgactl_device_close(dev);
}

static void test_watch_removal(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_events *a, *b;
	uint64_t tag;
	int req, msix;

	add_device(-1, -1, -1, true);
	dev = open_dev();
	a = engine(4);
	b = engine(4);
	req = fpgactl_irq_watch_removal(dev);
	assert_true(req >= 0);
	assert_int_equal(fpgactl_irq_watch_removal(dev), req);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_REQ, 0), req);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_REQ), 1);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_ERR), 1);
	assert_true(fpgactl_irq_fd(dev, FPGACTL_IRQ_ERR, 0) >= 0);

	assert_int_equal(fpgactl_irq_enable(dev, FPGACTL_IRQ_MSIX, 1), 0);
	msix = fpgactl_irq_fd(dev, FPGACTL_IRQ_MSIX, 0);
	assert_int_equal(fpgactl_events_watch(a, msix, 1), 0);
	assert_int_equal(fpgactl_events_watch_removal(a, req), 0);
	assert_int_equal(fpgactl_events_watch_removal(a, req), -EEXIST);
	assert_int_equal(fpgactl_events_watch_removal(b, req), 0);
	assert_false(fpgactl_events_removed(a));
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 0), 0);
	assert_int_equal(fpgactl_events_wait(a, 1000 * MS, &tag, 1), 1);

	/* The kernel asks for the device back: every engine sees it. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_REQ, 0), 0);
	assert_int_equal(fpgactl_events_wait(a, 1000 * MS, &tag, 1), -ENODEV);
	assert_int_equal(fpgactl_events_wait(b, 1000 * MS, &tag, 1), -ENODEV);
	assert_true(fpgactl_events_removed(a));
	assert_true(fpgactl_events_removed(b));
	/* And from then on, even with an event pending. */
	assert_int_equal(mock_irq_trigger(BDF, FPGACTL_IRQ_MSIX, 0), 0);
	assert_int_equal(fpgactl_events_wait(a, 0, &tag, 1), -ENODEV);
	assert_int_equal(fpgactl_events_wait_fd(a, msix, 0), -ENODEV);
	fpgactl_events_destroy(a);
	fpgactl_events_destroy(b);
	fpgactl_device_close(dev);
	assert_int_equal(mock_device_open_count(BDF), 0);
}

static void test_watch_removal_conventional(void **state)
{
	struct fpgactl_device *dev;

	add_device(-1, -1, -1, false);
	dev = open_dev();
	/* No ERR on conventional PCI: REQ alone. */
	assert_true(fpgactl_irq_watch_removal(dev) >= 0);
	assert_int_equal(mock_irq_vectors(BDF, FPGACTL_IRQ_ERR), 0);
	assert_int_equal(fpgactl_irq_fd(dev, FPGACTL_IRQ_ERR, 0), -ENOENT);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable_msix),
		T(test_switch_types),
		T(test_msix_resize_in_place),
		T(test_msix_noresize_failure_restores),
		T(test_bad_requests),
		T(test_intx_unmask),
		T(test_enable_best),
		T(test_enable_best_fallback),
		T(test_watch_removal),
		T(test_watch_removal_conventional),
	};

	/* These create an event engine: QEMU 7.2's user mode has no io_uring
	 * (io_uring_setup fails with ENOSYS). */
	static const char *const emulated_no[] = {
		"test_enable_msix", "test_intx_unmask", "test_watch_removal", NULL
	};

	return fixture_run("test_irq", tests, sizeof(tests) / sizeof(tests[0]), emulated_no);
}
