// SPDX-License-Identifier: MIT
/*
 * fpgactl_dma_map(): the application's own memory mapped for DMA against
 * the mocked kernel (both backends), with the placement rules of
 * fpgactl_dma_alloc(), the lookup table, the memlock budget, and the
 * refusals of memory the kernel cannot pin, classified from the real
 * /proc/self/smaps of this process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <cmocka.h>

#include "fixture.h"
#include "compat/iommufd.h"
#include "dma/dma_user.h"

#define BDF "0000:03:00.0"
#define MiB ((size_t)1 << 20)
#define SLOT (2 * MiB)

static struct fpgactl_device *open_dev(void)
{
	int err = 0;
	struct fpgactl_device *dev = fpgactl_device_open(BDF, NULL, &err);

	if (!dev)
		print_message("open: %d\n%s", err, fixture_log());
	assert_non_null(dev);
	return dev;
}

/* @len bytes of anonymous memory starting on a 2 MiB boundary. */
static void *anon_slot_aligned(size_t len)
{
	uint8_t *p = mmap(NULL, len + SLOT, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	assert_true(p != MAP_FAILED);
	a = ((uintptr_t)p + SLOT - 1) & ~(uintptr_t)(SLOT - 1);
	return (void *)a;
}

static struct fpgactl_dma_buf *map_ok(struct fpgactl_device *dev, void *p, size_t len)
{
	int err = 0;
	struct fpgactl_dma_buf *b = fpgactl_dma_map(dev, p, len, 0, &err);

	if (!b)
		print_message("dma_map: %d\n%s", err, fixture_log());
	assert_non_null(b);
	return b;
}

/* Refused with @want, a log line holding @needle, and nothing mapped. */
static void map_refused(struct fpgactl_device *dev, void *p, size_t len,
			unsigned int flags, int want, const char *needle)
{
	int maps = mock_ioctl_count(VFIO_IOMMU_MAP_DMA) + mock_ioctl_count(IOMMU_IOAS_MAP);
	int err = 0;

	fixture_log_clear();
	assert_null(fpgactl_dma_map(dev, p, len, flags, &err));
	if (err != want || !log_has(needle))
		print_message("want %d '%s', got %d:\n%s", want, needle, err, fixture_log());
	assert_int_equal(err, want);
	assert_true(log_has(needle));
	assert_int_equal(mock_ioctl_count(VFIO_IOMMU_MAP_DMA) +
			 mock_ioctl_count(IOMMU_IOAS_MAP), maps);
}

/* The mock holds one mapping at @b's IOVA, of @b's VA and size. */
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

static void map_anon(bool iommufd)
{
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *b;
	uint8_t *p = anon_slot_aligned(3 * MiB);
	uint64_t iova;

	if (iommufd)
		assert_int_equal(faketree_set_iommufd(tree, true), 0);
	add_ready_device(BDF, 5, iommufd ? 0 : -1);
	dev = open_dev();
	memset(p, 0x3c, 3 * MiB);
	b = map_ok(dev, p, 3 * MiB);
	assert_ptr_equal(b->vaddr, p);
	assert_int_equal(b->size, 3 * MiB);
	assert_int_equal(b->node, -1);
	assert_true(b->iova >= MiB);		/* IOVA 0 is never handed out */
	assert_int_equal(b->iova % b->page_size, 0);
	assert_mapped(b, iommufd);
	/* The lookup table covers it. */
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), p + 2 * MiB + 8,
					  16, &iova), 0);
	assert_int_equal(iova, b->iova + 2 * MiB + 8);
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), p + 3 * MiB, 1,
					  &iova), -EFAULT);
	assert_int_equal(fpgactl_dma_unmap(b), 0);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), p, 1, &iova),
			 -EFAULT);
	/* The memory is still the application's, untouched. */
	for (size_t i = 0; i < 3 * MiB; i += 4096)
		assert_int_equal(p[i], 0x3c);
	fpgactl_device_close(dev);
	munmap(p, 3 * MiB);
}

static void test_map_anon_legacy(void **state)
{
	map_anon(false);
}

static void test_map_anon_iommufd(void **state)
{
	map_anon(true);
}

/* The DMA mask and the IOVA ranges apply as for fpgactl_dma_alloc(). */
static void test_map_dma_mask(void **state)
{
	struct fpgactl_dma_buf *bufs[8];
	struct fpgactl_device *dev;
	uint8_t *p = anon_slot_aligned(16 * MiB);
	int n = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	/* 23 bits: 8 MiB of IOVA, the lowest 1 MiB reserved: 3 x 2 MiB fit. */
	assert_int_equal(fpgactl_device_set_dma_mask(dev, 23), 0);
	for (; n < 3; n++) {
		bufs[n] = map_ok(dev, p + n * SLOT, SLOT);
		assert_true(bufs[n]->iova + bufs[n]->size - 1 <= 0x7fffff);
	}
	map_refused(dev, p + 3 * SLOT, SLOT, 0, -ENOSPC,
		    "below the device's DMA limit 0x7fffff");
	while (n--)
		assert_int_equal(fpgactl_dma_unmap(bufs[n]), 0);
	fpgactl_device_close(dev);
	munmap(p, 16 * MiB);
}

static void test_map_bad_args(void **state)
{
	struct fpgactl_device *dev;
	uint8_t *p = anon_slot_aligned(SLOT);

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	map_refused(dev, p + 1, 4096, 0, -EINVAL, "multiples of 4 KiB");
	map_refused(dev, p, 4095, 0, -EINVAL, "multiples of 4 KiB");
	map_refused(dev, p, 0, 0, -EINVAL, "multiples of 4 KiB");
	map_refused(dev, NULL, 4096, 0, -EINVAL, "multiples of 4 KiB");
	map_refused(dev, (void *)(uintptr_t)-4096, 8192, 0, -EINVAL,
		    "multiples of 4 KiB");
	map_refused(dev, p, 4096, 1, -EINVAL, "flags 0x1");
	fpgactl_device_close(dev);
	munmap(p, SLOT);
}

/* Holes, read-only memory and files with writeback are refused. */
static void test_map_refusals(void **state)
{
	struct fpgactl_device *dev;
	uint8_t *p = anon_slot_aligned(4 * MiB);
	char path[] = "test_dma_user.XXXXXX";
	void *ro, *file;
	int fd;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	/* A hole in the middle. */
	assert_int_equal(munmap(p + MiB, 4096), 0);
	map_refused(dev, p, 2 * MiB, 0, -EFAULT, "nothing mapped at 0x");
	/* Read-only. */
	ro = mmap(p + 2 * MiB, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		  -1, 0);
	assert_ptr_equal(ro, p + 2 * MiB);
	map_refused(dev, ro, 8192, 0, -EACCES, "PROT_READ|PROT_WRITE");
	/* A shared mapping of a file in the build directory (not tmpfs). */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * MiB), 0);
	file = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(file != MAP_FAILED);
	{
		char why[512];
		size_t ps;

		/* Only a build directory on tmpfs makes this file shmem. */
		if (!vma_classify_range((uintptr_t)file, 2 * MiB, &ps, why, sizeof(why)))
			print_message("build directory on tmpfs: writeback case not checked\n");
		else
			map_refused(dev, file, 2 * MiB, 0, -EOPNOTSUPP, "a file with writeback");
	}
	/* The same file mapped privately is fine: the pin breaks COW. */
	munmap(file, 2 * MiB);
	file = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(file != MAP_FAILED);
	assert_int_equal(fpgactl_dma_unmap(map_ok(dev, file, 2 * MiB)), 0);
	munmap(file, 2 * MiB);
	close(fd);
	unlink(path);
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
	munmap(p, 4 * MiB);
}

/* The kernel's [vvar] page is VM_IO|VM_PFNMAP: device memory. */
static void test_map_device_memory(void **state)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long long start = 0, end = 0;
	struct fpgactl_device *dev;
	char line[256];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vvar]") &&
		    sscanf(line, "%llx-%llx", &start, &end) == 2)
			break;
	fclose(f);
	if (!start)
		skip();
	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	map_refused(dev, (void *)(uintptr_t)start, 4096, 0, -EOPNOTSUPP,
		    "is device memory ([vvar], VM_IO/VM_PFNMAP");
	fpgactl_device_close(dev);
}

/* vma_check() on VMAs as a vfio BAR mapping and shmem show them. */
static void test_vma_check(void **state)
{
	struct vma_desc bar = { .perms = "rw-s", .path = "anon_inode:[vfio-device]",
				.flags = " rd wr sh mr mw me ms io pf dc de dd sd\n",
				.page_size = 4096 };
	struct vma_desc shm = { .perms = "rw-s", .path = "/memfd:buf (deleted)",
				.flags = " rd wr sh mr mw me ms sd\n", .page_size = 4096 };
	struct vma_desc anon_shared = { .perms = "rw-s", .path = "/dev/zero (deleted)",
					.flags = " rd wr sh mr mw me ms sd\n",
					.page_size = 4096 };
	struct vma_desc huge = { .perms = "rw-s", .path = "/anon_hugepage (deleted)",
				 .flags = " rd wr sh mr mw me ms de ht sd\n",
				 .page_size = 2 * MiB };
	struct vma_desc wo = { .perms = "-w-p", .path = "",
			       .flags = " wr mw me ac sd\n", .page_size = 4096 };
	/* "wr" inside another word must not count. */
	struct vma_desc tricky = { .perms = "r--p", .path = "", .flags = " rd mwr sd\n",
				   .page_size = 4096 };
	char why[512];

	assert_int_equal(vma_check(&bar, why, sizeof(why)), -EOPNOTSUPP);
	assert_non_null(strstr(why, "device memory (anon_inode:[vfio-device]"));
	assert_int_equal(vma_check(&shm, why, sizeof(why)), 0);
	assert_int_equal(vma_check(&anon_shared, why, sizeof(why)), 0);
	assert_int_equal(vma_check(&huge, why, sizeof(why)), 0);
	assert_int_equal(vma_check(&wo, why, sizeof(why)), -EACCES);
	assert_int_equal(vma_check(&tricky, why, sizeof(why)), -EACCES);
}

/* memfd, MAP_SHARED|MAP_ANONYMOUS and /dev/shm: shmem, mapped. */
static void test_map_shmem(void **state)
{
	struct fpgactl_device *dev;
	char shm[64];
	void *p;
	int fd;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	fd = memfd_create("dma-user", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SLOT), 0);
	p = mmap(NULL, SLOT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(fpgactl_dma_unmap(map_ok(dev, p, SLOT)), 0);
	munmap(p, SLOT);
	close(fd);
	p = mmap(NULL, SLOT, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(fpgactl_dma_unmap(map_ok(dev, p, SLOT)), 0);
	munmap(p, SLOT);
	snprintf(shm, sizeof(shm), "/dev/shm/fpgactl-dma-user-%d", (int)getpid());
	fd = open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		unlink(shm);
		assert_int_equal(ftruncate(fd, SLOT), 0);
		p = mmap(NULL, SLOT, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		assert_true(p != MAP_FAILED);
		assert_int_equal(fpgactl_dma_unmap(map_ok(dev, p, SLOT)), 0);
		munmap(p, SLOT);
		close(fd);
	}
	fpgactl_device_close(dev);
}

/* One lookup slot per buffer: a second range in a taken slot is refused,
 * and so is mapping the same range twice. */
static void test_map_slot_sharing(void **state)
{
	static const struct fpgactl_dma_opts small = {
		.page_size = FPGACTL_PAGE_4K, .flags = FPGACTL_DMA_ALLOW_SMALL_PAGES };
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a, *c;
	uint8_t *p = anon_slot_aligned(2 * SLOT);
	uint64_t iova;
	int err = 0;

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	a = map_ok(dev, p, 8192);
	map_refused(dev, p, 8192, 0, -EBUSY, "mapped already, or shares a 2 MiB");
	map_refused(dev, p + 65536, 4096, 0, -EBUSY, "shares a 2 MiB lookup slot");
	/* The first one is still found, and allocations still work. */
	assert_int_equal(fpgactl_dma_iova(fpgactl_device_iommu(dev), p + 4, 4, &iova), 0);
	assert_int_equal(iova, a->iova + 4);
	c = fpgactl_dma_alloc(dev, 4096, &small, &err);
	assert_non_null(c);
	/* unmap() is only for fpgactl_dma_map() buffers; free() takes both. */
	assert_int_equal(fpgactl_dma_unmap(c), -EINVAL);
	assert_true(log_has("release it with fpgactl_dma_free()"));
	fpgactl_dma_free(c);
	fpgactl_dma_free(a);
	p[0] = 1;	/* still the application's */
	assert_int_equal(mock_mappings(NULL, 0), 0);
	fpgactl_device_close(dev);
	munmap(p, 2 * SLOT);
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

/* The budget is checked before the kernel is asked, and counts mappings. */
static void test_map_memlock(void **state)
{
	struct fpgactl_dma_plan plan;
	struct fpgactl_device *dev;
	struct fpgactl_dma_buf *a;
	struct rlimit old, low;
	uint8_t *p = anon_slot_aligned(4 * SLOT);

	add_ready_device(BDF, 5, -1);
	dev = open_dev();
	drop_ipc_lock();
	assert_int_equal(fpgactl_dma_get_plan(dev, NULL, &plan), 0);
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	low = (struct rlimit){ plan.memlock_used + 3 * MiB, old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &low), 0);
	a = map_ok(dev, p, SLOT);
	map_refused(dev, p + SLOT, SLOT, 0, -EDQUOT, "RLIMIT_MEMLOCK is");
	assert_int_equal(fpgactl_dma_get_plan(dev, NULL, &plan), 0);
	assert_int_equal(plan.memlock_used, low.rlim_cur - 3 * MiB + SLOT);
	assert_int_equal(fpgactl_dma_unmap(a), 0);
	a = map_ok(dev, p + SLOT, SLOT);	/* the budget came back */
	assert_int_equal(fpgactl_dma_unmap(a), 0);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	fpgactl_device_close(dev);
	munmap(p, 4 * SLOT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_map_anon_legacy),
		T(test_map_anon_iommufd),
		T(test_map_dma_mask),
		T(test_map_bad_args),
		T(test_map_refusals),
		T(test_map_device_memory),
		T(test_vma_check),
		T(test_map_shmem),
		T(test_map_slot_sharing),
		T(test_map_memlock),	/* last: drops CAP_IPC_LOCK for good */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
