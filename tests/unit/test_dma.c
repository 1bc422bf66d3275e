// SPDX-License-Identifier: MIT
/*
 * DMA memory against the mocked kernel: buffers mapped through both
 * backends at IOVAs that honour the ranges, the DMA mask and the page
 * alignment; the VA -> IOVA lookup; memlock, mapping-limit and IOVA-space
 * errors with their fixes; hugepage fallbacks; the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <liburing.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "fixture.h"

#define BDF "0000:03:00.0"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define lsan_ignore(p) __lsan_ignore_object(p)
#else
#define lsan_ignore(p) ((void)(p))
#endif
#define MiB ((size_t)1 << 20)

static const struct fpgactl_dma_opts small = {
	.page_size = FPGACTL_PAGE_4K,
	.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES,
};

static struct fpgactl_device *open_dev(void)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(BDF, NULL, &err);

	if (!dev)
		print_message("open: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	return dev;
}

static struct fpgactl_dma_buf *alloc_ok(struct fpgactl_device *dev, size_t size,
					const struct fpgactl_dma_opts *opts)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_alloc(dev, size, opts, &err);

	if (!b)
		print_message("dma_alloc: %d\n%s", err, fixture_log());
	assert_non_null(b);
	return b;
}

/* The mock holds exactly one mapping for @b, with its IOVA, size and VA. */
static void assert_mapped(const struct fpgactl_dma_buf *b, bool iommufd)
{
	struct mock_dma_mapping m[16];
	size_t n = mock_mappings(m, 16);
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		if (m[i].iova != b->iova)
			continue;
		found++;
		assert_int_equal(m[i].size, b->size);
		assert_int_equal(m[i].vaddr, (uintptr_t)b->vaddr);
		assert_true(m[i].readable && m[i].writable);
		assert_int_equal(m[i].iommufd, iommufd);
	}
	assert_int_equal(found, 1);
}

static void test_alloc_legacy(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a, *b;
	uint64_t iova;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	a = alloc_ok(dev, 10000, &small);
	b = alloc_ok(dev, 3 * MiB, &small);
	assert_int_equal(a->size, 12288);	/* rounded to the page size */
	assert_int_equal(a->page_size, FPGACTL_PAGE_4K);
	assert_int_equal(a->iova % 4096, 0);
	assert_true(a->iova >= MiB);		/* IOVA 0 is never handed out */
	assert_true(b->iova >= a->iova + a->size || b->iova + b->size <= a->iova);
	assert_mapped(a, false);
	assert_mapped(b, false);
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_MAP_DMA), 2);
	/* Zeroed, and the CPU can use it. */
	for (size_t i = 0; i < a->size; i++)
		assert_int_equal(((uint8_t *)a->vaddr)[i], 0);
	memset(b->vaddr, 0x5a, b->size);
	/* Lookup of any pointer inside any buffer. */
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev),
					  (uint8_t *)b->vaddr + 12345, 8, &iova), 0);
	assert_int_equal(iova, b->iova + 12345);
	assert_int_equal(fpgactl_dma_buf_iova(b, (uint8_t *)b->vaddr + 12345), iova);
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev),
					  (uint8_t *)a->vaddr + a->size - 4, 4, &iova), 0);
	assert_int_equal(iova, a->iova + a->size - 4);
	/* One past the end, straddling the end, and foreign memory: refused. */
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev),
					  (uint8_t *)a->vaddr + a->size, 1, &iova), -EFAULT);
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev),
					  (uint8_t *)a->vaddr + a->size - 4, 8, &iova), -EFAULT);
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), &iova, 8, &iova),
			 -EFAULT);
	fpgactl_dma_free(a);
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_UNMAP_DMA), 1);
	assert_int_equal(mock_mappings(NULL, 0), 1);
	fpgactl_dma_free(b);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
}

static void test_alloc_iommufd(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;

	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	dev = open_dev();
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	b = alloc_ok(dev, MiB, &small);
	assert_mapped(b, true);
	fpgactl_dma_free(b);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
}

static void test_dma_mask(void **state)
{
	struct fpgactl_dma_buf *bufs[8];
	struct fpgactl_device *dev;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 11), -EINVAL);
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 65), -EINVAL);
	/* 23 bits: 8 MiB of IOVA space, the lowest 1 MiB reserved. */
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 23), 0);
	for (int i = 0; i < 7; i++) {
		bufs[i] = alloc_ok(dev, MiB, &small);
		assert_true(bufs[i]->iova + bufs[i]->size - 1 <= 0x7fffff);
	}
	assert_null(fpgactl_dma_alloc(dev, MiB, &small, &err));
	assert_int_equal(err, -ENOSPC);
	assert_true(log_has("below the device's DMA limit 0x7fffff"));
	/* Freed space is reused. */
	fpgactl_dma_free(bufs[3]);
	bufs[3] = alloc_ok(dev, MiB, &small);
	for (int i = 0; i < 7; i++)
		fpgactl_dma_free(bufs[i]);
	fpgactl_device_close(dev);
}

static void test_mapping_limit(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a, *b;
	int err = 0;

	mock_set_dma_limit(2);
	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	a = alloc_ok(dev, 4096, &small);
	b = alloc_ok(dev, 4096, &small);
	/* Refused by the library before the kernel would refuse it. */
	assert_null(fpgactl_dma_alloc(dev, 4096, &small, &err));
	assert_int_equal(err, -E2BIG);
	assert_true(log_has("dma_entry_limit"));
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_MAP_DMA), 2);
	fpgactl_dma_free(a);
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
}

/* Drop CAP_IPC_LOCK from the effective set, so RLIMIT_MEMLOCK applies. */
static void drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	assert_int_equal(syscall(SYS_capget, &hdr, data), 0);
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	assert_int_equal(syscall(SYS_capset, &hdr, data), 0);
}

/*
 * Give CAP_IPC_LOCK back (still permitted): the tests after one that
 * dropped it must not depend on how much the user's other processes pin
 * (iommufd charges the user), nor on RLIMIT_MEMLOCK.
 */
static int restore_ipc_lock(void **state)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	const unsigned int i = CAP_IPC_LOCK / 32, bit = 1u << (CAP_IPC_LOCK % 32);

	assert_int_equal(syscall(SYS_capget, &hdr, data), 0);
	if ((data[i].permitted & bit) && !(data[i].effective & bit)) {
		data[i].effective |= bit;
		assert_int_equal(syscall(SYS_capset, &hdr, data), 0);
	}
	return fixture_teardown(state);
}

/*
 * A limit of @cur bytes, the hard limit raised to it if need be (as root):
 * the user's other processes may pin more than the hard limit, and a soft
 * limit above the hard one is refused (EINVAL).
 */
static struct rlimit limit_at(uint64_t cur, const struct rlimit *old)
{
	return (struct rlimit){ cur, old->rlim_max < cur ? cur : old->rlim_max };
}

static void test_memlock(void **state)
{
	struct rlimit old, low;
	struct fpgactl_dma_plan plan;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a;
	char want[128];
	uint64_t base;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	drop_ipc_lock();
	/* Earlier tests may have left memory pinned on purpose. */
	assert_int_equal(fpgactl_dma_get_plan(dev, &small, &plan), 0);
	base = plan.memlock_used;
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	low = limit_at(base + 4 * MiB, &old);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &low), 0);
	a = alloc_ok(dev, 3 * MiB, &small);
	assert_null(fpgactl_dma_alloc(dev, 2 * MiB, &small, &err));
	assert_int_equal(err, -EDQUOT);
	snprintf(want, sizeof(want), "RLIMIT_MEMLOCK is %llu KiB but DMA needs %llu KiB",
		 (unsigned long long)(low.rlim_cur >> 10),
		 (unsigned long long)((base + 5 * MiB) >> 10));
	assert_true(log_has(want));
	snprintf(want, sizeof(want), "ulimit -l %llu",
		 (unsigned long long)((base + 5 * MiB) >> 10));
	assert_true(log_has(want));
	assert_int_equal(fpgactl_dma_get_plan(dev, &small, &plan), 0);
	assert_int_equal(plan.memlock_limit, low.rlim_cur);
	assert_int_equal(plan.memlock_used, base + 3 * MiB);
	fpgactl_dma_free(a);
	/* Freed memory no longer counts. */
	a = alloc_ok(dev, 4 * MiB, &small);
	fpgactl_dma_free(a);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	fpgactl_device_close(dev);
}

/*
 * In a child: pin @len bytes with an io_uring fixed buffer without
 * CAP_IPC_LOCK, which charges this user's locked_vm and the child's
 * VmPin, as another process of the user holding iommufd or io_uring pins.
 * Writes the result (0 or -errno) to @ready, then waits for @go to close.
 */
static void child_pin(size_t len, int ready, int go)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct io_uring ring;
	struct iovec iov;
	char c;
	int ret;

	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	ret = syscall(SYS_capget, &hdr, data) ? -errno : 0;
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	if (!ret && syscall(SYS_capset, &hdr, data))
		ret = -errno;
	if (!ret)
		ret = io_uring_queue_init(2, &ring, 0);
	iov.iov_len = len;
	iov.iov_base = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ret && iov.iov_base == MAP_FAILED)
		ret = -ENOMEM;
	if (!ret)
		ret = io_uring_register_buffers(&ring, &iov, 1);
	if (write(ready, &ret, sizeof(ret)) != sizeof(ret))
		_exit(1);
	while (read(go, &c, 1) > 0)
		;
	_exit(0);
}

/*
 * iommufd charges the user, type1 the process: another process of this
 * user pinning 2 MiB counts against an iommufd context's limit, not
 * against a legacy one's.
 */
static void test_memlock_per_backend(void **state)
{
	struct fpgactl_open_opts legacy = { .backend = FPGACTL_IOMMU_LEGACY };
	struct fpgactl_dma_plan plan;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a;
	struct rlimit old, low;
	int ready[2], go[2], ret, status, err = 0;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		child_pin(2 * MiB, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &ret, sizeof(ret)), sizeof(ret));
	if (ret) {
		close(go[1]);
		waitpid(pid, &status, 0);
		print_message("cannot pin memory with io_uring in a child: %s\n",
			      strerror(-ret));
		skip();
	}
	assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, 0);
	dev = open_dev();
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    "iommufd");
	drop_ipc_lock();
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	/*
	 * The other process's pins are the user's: a limit 1 MiB above what
	 * the user pins refuses 2 MiB more.  The user's other processes (tests
	 * run beside this one) may pin or unpin meanwhile: a few tries.
	 */
	for (int tries = 0;; tries++) {
		assert_int_equal(fpgactl_dma_get_plan(dev, &small, &plan), 0);
		assert_true(plan.memlock_used >= 2 * MiB);
		low = limit_at(plan.memlock_used + MiB, &old);
		if (setrlimit(RLIMIT_MEMLOCK, &low)) {
			print_message("this user's processes pin %llu KiB, more than the hard "
				      "RLIMIT_MEMLOCK (%llu KiB), which this process cannot "
				      "raise (no CAP_SYS_RESOURCE)\n",
				      (unsigned long long)(plan.memlock_used >> 10),
				      (unsigned long long)(old.rlim_max >> 10));
			fpgactl_device_close(dev);
			close(go[1]);
			waitpid(pid, &status, 0);
			skip();
		}
		a = fpgactl_dma_alloc(dev, 2 * MiB, &small, &err);
		if (!a)
			break;
		fpgactl_dma_free(a);	/* others unpinned meanwhile */
		assert_true(tries < 5);
	}
	assert_int_equal(err, -EDQUOT);
	assert_true(log_has("iommufd charges pinned memory to the user"));
	fpgactl_device_close(dev);
	/* type1 charges this process only: the same buffer fits. */
	dev = fpgactl_device_open(BDF, &legacy, &err);
	assert_non_null(dev);
	assert_int_equal(fpgactl_dma_get_plan(dev, &small, &plan), 0);
	assert_true(plan.memlock_used + 2 * MiB <= low.rlim_cur);
	a = alloc_ok(dev, 2 * MiB, &small);
	fpgactl_dma_free(a);
	fpgactl_device_close(dev);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* lib/dma/memlock.c (internal). */
uint64_t memlock_limit(void);

/*
 * CAP_IPC_LOCK exempts only in the initial user namespace (the kernel asks
 * capable()): the root of a new user namespace has it in capget() and is
 * still charged.
 */
static void test_memlock_userns(void **state)
{
	struct rlimit old;
	uint64_t want;
	int status;
	pid_t pid;

	/* A finite limit the process may set without CAP_SYS_RESOURCE: the
	 * hard one (8 MiB on some machines), else 64 MiB. */
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	want = old.rlim_max == RLIM_INFINITY ? 64 * MiB : old.rlim_max;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit lim = { want, old.rlim_max };

		if (setrlimit(RLIMIT_MEMLOCK, &lim))
			_exit(76);
		if (unshare(CLONE_NEWUSER))
			_exit(77);
		_exit(memlock_limit() == want ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 76);
	if (WEXITSTATUS(status) == 77) {
		print_message("unshare(CLONE_NEWUSER) refused: no user namespaces here\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static long host_free_hugepages(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * Hugepages come from the host kernel even under the mock.  Without any
 * free, a 2 MiB allocation must fail with the sysctl that fixes it, and
 * fall back to 4 KiB pages only when allowed; with some, it must get them.
 */
static void test_hugepage_paths(void **state)
{
	struct fpgactl_dma_opts allow = { .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES };
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	int err = 0;

	static const char *const dirs[] = { "sys/kernel/mm", "sys/kernel/mm/hugepages",
					    "sys/kernel/mm/hugepages/hugepages-2048kB" };

	for (size_t i = 0; i < 3; i++)
		assert_true(!mkdir(faketree_path(tree, dirs[i]), 0755) || errno == EEXIST);
	assert_int_equal(faketree_write_file(tree, "sys/kernel/mm/hugepages/"
					     "hugepages-2048kB/free_hugepages", "0\n"), 0);
	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	if (host_free_hugepages() > 0) {
		b = alloc_ok(dev, 1, NULL);
		assert_int_equal(b->page_size, FPGACTL_PAGE_2M);
		assert_int_equal(b->iova % FPGACTL_PAGE_2M, 0);
		fpgactl_dma_free(b);
		fpgactl_device_close(dev);
		return;
	}
	assert_null(fpgactl_dma_alloc(dev, 1, NULL, &err));
	assert_int_equal(err, -ENOMEM);
	assert_true(log_has("not enough free 2 MiB hugepages: 1 needed, 0 free"));
	assert_true(log_has("nr_hugepages"));
	fixture_log_clear();
	b = alloc_ok(dev, 1, &allow);
	assert_int_equal(b->page_size, FPGACTL_PAGE_4K);
	/* Rounded to the pages actually used, not to the hugepage size. */
	assert_int_equal(b->size, FPGACTL_PAGE_4K);
	assert_true(log_has("falling back to 4 KiB pages"));
	fpgactl_dma_free(b);
	/* 4 KiB pages asked for outright still need the flag. */
	struct fpgactl_dma_opts only4k = { .page_size = FPGACTL_PAGE_4K };

	assert_null(fpgactl_dma_alloc(dev, 1, &only4k, &err));
	assert_int_equal(err, -EINVAL);
	assert_true(log_has("FPGACTL_DMA_ALLOW_SMALL_PAGES"));
	fpgactl_device_close(dev);
}

static void test_bad_opts(void **state)
{
	struct fpgactl_dma_opts odd = { .page_size = 8192 };
	struct fpgactl_device *dev;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	assert_null(fpgactl_dma_alloc(dev, 4096, &odd, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_dma_alloc(dev, 0, &small, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(fpgactl_dma_alloc(dev, SIZE_MAX, &small, &err));
	assert_int_equal(err, -EINVAL);
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_MAP_DMA), 0);
	fpgactl_device_close(dev);
}

/* A legacy IOMMU context of its own, with the device BDF ready to join it. */
static struct fpgactl_iommu *legacy_context(void)
{
	int err = 0;
	struct fpgactl_iommu *iommu;

	add_ready_device(BDF, 5, -1);
	iommu = fpgactl_iommu_open(FPGACTL_IOMMU_LEGACY, &err);
	assert_non_null(iommu);
	return iommu;
}

/* Open BDF in @iommu; NULL and *@err on failure. */
static struct fpgactl_device *open_in(struct fpgactl_iommu *iommu, int *err)
{
	const struct fpgactl_open_opts opts = { .iommu = iommu };

	return fpgactl_device_open(BDF, &opts, err);
}

/* A 1 MiB buffer mapped through a device of @iommu that has closed since. */
static struct fpgactl_dma_buf *orphan_buffer(struct fpgactl_iommu *iommu)
{
	int err = 0;
	struct fpgactl_device *dev = open_in(iommu, &err);
	struct fpgactl_dma_buf *b;

	assert_non_null(dev);
	b = alloc_ok(dev, MiB, &small);
	fpgactl_device_close(dev);
	return b;
}

/* Legacy: the last group leaving drops every mapping in the kernel; the
 * buffers must be remapped when a device joins the context again, and
 * freeing after the devices are gone must not leak. */
static void test_legacy_context_outlives_devices(void **state)
{
	struct fpgactl_iommu *iommu;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	int err = 0;

	iommu = legacy_context();
	b = orphan_buffer(iommu);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	dev = open_in(iommu, &err);
	assert_non_null(dev);
	assert_mapped(b, false);
	fpgactl_device_close(dev);
	fpgactl_dma_free(b);
	assert_false(strstr(fixture_log(), "leaked"));
	fpgactl_iommu_close(iommu);
}

static void test_unmap_failure_leaks_safely(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	b = alloc_ok(dev, 4096, &small);
	mock_fail_next(VFIO_IOMMU_UNMAP_DMA, EIO);
	/* The library keeps the buffer's bookkeeping on purpose. */
	lsan_ignore(b);
	fpgactl_dma_free(b);
	assert_true(log_has("leaked on purpose"));
	/* The mapping is still there in the kernel; the memory was kept. */
	assert_int_equal(mock_mappings(NULL, 0), 1);
	fpgactl_device_close(dev);
}

/*
 * A buffer whose unmap failed is still mapped: its IOVA range must never be
 * handed out again, also after the allocator's ranges are rebuilt for a
 * device that joins the context.
 */
static void test_unmap_failure_keeps_iova_reserved(void **state)
{
	struct fpgactl_iommu *iommu;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	uint64_t leaked;
	int err = 0;

	iommu = legacy_context();

	dev = open_in(iommu, &err);
	assert_non_null(dev);
	b = alloc_ok(dev, 4096, &small);
	leaked = b->iova;
	mock_fail_next(VFIO_IOMMU_UNMAP_DMA, EIO);
	lsan_ignore(b);
	fpgactl_dma_free(b);
	assert_true(log_has("leaked on purpose"));
	fpgactl_device_close(dev);
	/* A new attach rebuilds the ranges from what is still mapped. */
	dev = open_in(iommu, &err);
	assert_non_null(dev);
	b = alloc_ok(dev, 4096, &small);
	assert_true(b->iova + b->size <= leaked || b->iova >= leaked + 4096);
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
	fpgactl_iommu_close(iommu);
}

/*
 * A device joining a legacy context whose mappings cannot be replayed into
 * the container is refused, and leaves the container as it found it: the
 * next attempt sets the IOMMU type again and succeeds.
 */
static void test_legacy_remap_failure_leaves_context_usable(void **state)
{
	struct fpgactl_iommu *iommu;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	int err = 0;

	iommu = legacy_context();
	b = orphan_buffer(iommu);
	mock_fail_next(VFIO_IOMMU_MAP_DMA, ENOMEM);
	assert_null(open_in(iommu, &err));
	assert_int_equal(err, -ENOMEM);
	dev = open_in(iommu, &err);
	if (!dev)
		print_message("open after a failed remap: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	assert_mapped(b, false);
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
	fpgactl_iommu_close(iommu);
}

static void test_plan(void **state)
{
	struct fpgactl_dma_plan plan;
	struct fpgactl_device *dev;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 28), 0);
	assert_int_equal(fpgactl_dma_get_plan(dev, NULL, &plan), 0);
	assert_int_equal(plan.page_size, FPGACTL_PAGE_2M);
	assert_int_equal(plan.iova_first, MiB);
	assert_int_equal(plan.iova_last, 0xfffffff);
	assert_int_equal(plan.iova_free, 0x10000000 - MiB);
	assert_int_equal(plan.mappings_avail, 65535);
	fpgactl_device_close(dev);
}

static void test_pool(void **state)
{
	struct fpgactl_dma_pool *pool;
	struct fpgactl_device *dev;
	void *objs[10];
	uint64_t iova, looked_up;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	assert_null(fpgactl_dma_pool_create(dev, 100, 10, 48, &small, &err));
	assert_int_equal(err, -EINVAL);
	pool = fpgactl_dma_pool_create(dev, 100, 10, 64, &small, &err);
	assert_non_null(pool);
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_MAP_DMA), 1);
	for (int i = 0; i < 10; i++) {
		objs[i] = fpgactl_dma_pool_get(pool, &iova);
		assert_non_null(objs[i]);
		assert_int_equal((uintptr_t)objs[i] % 64, 0);
		assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), objs[i],
						  100, &looked_up), 0);
		assert_int_equal(looked_up, iova);
		for (int j = 0; j < i; j++)
			assert_true(objs[j] != objs[i]);
		memset(objs[i], i, 100);
	}
	assert_null(fpgactl_dma_pool_get(pool, NULL));
	assert_int_equal(fpgactl_dma_pool_available(pool), 0);
	assert_int_equal(fpgactl_dma_pool_put(pool, (uint8_t *)objs[2] + 1), -EINVAL);
	assert_int_equal(fpgactl_dma_pool_put(pool, &iova), -EINVAL);
	assert_int_equal(fpgactl_dma_pool_put(pool, objs[2]), 0);
	assert_int_equal(fpgactl_dma_pool_put(pool, objs[2]), -EINVAL);
	assert_int_equal(fpgactl_dma_pool_available(pool), 1);
	assert_ptr_equal(fpgactl_dma_pool_get(pool, NULL), objs[2]);
	for (int i = 0; i < 10; i++)
		assert_int_equal(fpgactl_dma_pool_put(pool, objs[i]), 0);
	assert_int_equal(fpgactl_dma_pool_available(pool), 10);
	fpgactl_dma_pool_destroy(pool);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
/* A test that drops CAP_IPC_LOCK. */
#define TC(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, restore_ipc_lock)

/*
 * Sizes near SIZE_MAX are refused before any rounding can wrap (it used to
 * wrap in map_small() and write through unmapped memory).
 */
static void test_size_overflow(void **state)
{
	static const struct fpgactl_dma_opts huge = { .page_size = FPGACTL_PAGE_2M,
		.flags = FPGACTL_DMA_ALLOW_SMALL_PAGES };
	const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 4096, SIZE_MAX - 3 * 4096,
				 SIZE_MAX - 2 * MiB, SIZE_MAX - 2 * MiB - 4096 };
	struct fpgactl_device *dev;
	int err;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		err = 0;
		assert_null(fpgactl_dma_alloc(dev, sizes[i], &small, &err));
		assert_true(err == -EINVAL || err == -ENOMEM);
		err = 0;
		assert_null(fpgactl_dma_alloc(dev, sizes[i], &huge, &err));
		assert_true(err == -EINVAL || err == -ENOMEM);
	}
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
}

/*
 * MADV_POPULATE_WRITE refused with EINVAL on a kernel that knows it is an
 * error; only a kernel that does not know the advice (before 5.14) gets the
 * page-touching fallback.
 */
static void test_populate_einval(void **state)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	mock_fail_madvise(MADV_POPULATE_WRITE, EINVAL, 1);
	assert_null(fpgactl_dma_alloc(dev, 8192, &small, &err));
	assert_int_equal(err, -EINVAL);
	/* Every MADV_POPULATE_WRITE refused: an old kernel, fallback. */
	mock_fail_madvise(MADV_POPULATE_WRITE, EINVAL, 0);
	b = alloc_ok(dev, 8192, &small);
	fpgactl_dma_free(b);
	mock_fail_madvise(0, 0, 0);
	fpgactl_device_close(dev);
}

/*
 * An IOMMU whose smallest page is 64 KiB (arm64 SMMU with a 64K granule):
 * ordinary-page buffers are sized and placed in whole IOMMU pages, which
 * both backends refuse otherwise (EINVAL).
 */
static void alloc_on_64k_iommu(bool iommufd)
{
	struct mock_dma_mapping m;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;

	if (iommufd)
		assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, iommufd ? 0 : -1);
	mock_set_iommu_pgsize(64 << 10);
	dev = open_dev();
	assert_string_equal(fpgactl_iommu_backend_name(fpgactl_device_iommu(dev)),
			    iommufd ? "iommufd" : "legacy");
	b = alloc_ok(dev, 8192, &small);
	assert_int_equal(b->size, 64 << 10);
	assert_int_equal(b->iova % (64 << 10), 0);
	assert_int_equal(mock_mappings(&m, 1), 1);
	assert_int_equal(m.iova, b->iova);
	assert_int_equal(m.size, 64 << 10);
	fpgactl_dma_free(b);
	fpgactl_device_close(dev);
}

static void test_iommu_64k_legacy(void **state)
{
	alloc_on_64k_iommu(false);
}

static void test_iommu_64k_iommufd(void **state)
{
	alloc_on_64k_iommu(true);
}

/*
 * A type1 container that reports no IOVA ranges (kernels before 5.4):
 * 39 bits of IOVA minus the x86 MSI window, not the whole 64-bit space.
 */
static void test_legacy_no_iova_ranges(void **state)
{
	struct fpgactl_dma_plan plan;
	struct fpgactl_device *dev;

	mock_set_type1_iova_ranges(false);
	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	assert_int_equal(fpgactl_dma_get_plan(dev, NULL, &plan), 0);
	assert_int_equal(plan.iova_first, MiB);
	assert_int_equal(plan.iova_last, (1ull << 39) - 1);
#if defined(__x86_64__)
	assert_int_equal(plan.iova_free,
			 (0xfee00000ull - MiB) + ((1ull << 39) - 0xfef00000ull));
#endif
	fpgactl_device_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_alloc_legacy),
		T(test_alloc_iommufd),
		T(test_dma_mask),
		T(test_mapping_limit),
		T(test_hugepage_paths),
		T(test_bad_opts),
		T(test_size_overflow),
		TC(test_memlock_per_backend),
		T(test_memlock_userns),
		T(test_iommu_64k_legacy),
		T(test_iommu_64k_iommufd),
		T(test_legacy_no_iova_ranges),
		T(test_populate_einval),
		T(test_legacy_context_outlives_devices),
		T(test_unmap_failure_leaks_safely),
		T(test_unmap_failure_keeps_iova_reserved),
		T(test_legacy_remap_failure_leaves_context_usable),
		T(test_plan),
		T(test_pool),
		TC(test_memlock),
	};
	/* QEMU 7.2's user mode refuses mmap of a hugetlb memfd with EINVAL
	 * (it maps guest pages of 4 KiB) where a kernel says ENOMEM for want
	 * of free hugepages; runs natively and in the arm64 guest. */
	static const char *const emulated_no[] = { "test_hugepage_paths", NULL };

	return fixture_run("test_dma", tests, sizeof(tests) / sizeof(tests[0]), emulated_no);
}
