/* SPDX-License-Identifier: MIT */
/*
 * Internals of the kernel mock, shared by its files:
 *
 *	mock_libc.c	the libc entry points it replaces
 *	mock_state.c	fd records, kernel objects, failures, test control
 *	mock_vfio.c	the container and group ioctls
 *	mock_device.c	the device ioctls, reads, writes and mmap checks
 *	mock_irq.c	VFIO_DEVICE_SET_IRQS and the interrupt eventfds
 *	mock_iommufd.c	/dev/iommu and the cdev bind/attach ioctls
 *
 * Every mock_* function here expects the mock lock held unless it says
 * otherwise.  Handlers return a value >= 0 or -errno, like the kernel.
 */
#ifndef MOCK_INTERNAL_H
#define MOCK_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

#include "compat/iommufd.h"
#include "fakedesc.h"
#include "mock_kernel.h"

#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define MOCK_PAGE_SIZE 4096ull
/* IOMMU page sizes the mock reports: 4 KiB, 2 MiB, 1 GiB (VT-d, AMD-Vi). */
#define MOCK_PGSIZES 0x40201000ull
#define MOCK_DMA_LIMIT_DEFAULT 65535u	/* vfio_iommu_type1 dma_entry_limit */

/* Cdev hot-reset flags and devids (Linux 6.6); absent from older headers. */
#define MOCK_HOT_RESET_FLAG_DEV_ID (1u << 0)
#define MOCK_HOT_RESET_FLAG_DEV_ID_OWNED (1u << 1)
#define MOCK_DEVID_OWNED 0u
#define MOCK_DEVID_NOT_OWNED 0xffffffffu

/* ---- libc ------------------------------------------------------------------ */

/* The real functions, found with dlsym(RTLD_NEXT). */
struct mock_libc {
	int (*ioctl)(int fd, unsigned long request, ...);
	int (*close)(int fd);
	int (*openat)(int dirfd, const char *path, int flags, ...);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
	int (*faccessat)(int dirfd, const char *path, int mode, int flags);
};

extern struct mock_libc mock_real;

/*
 * Resolve mock_real, once.  Takes no lock.
 * Return false while that is in progress on this thread (a call from inside
 * dlsym() or a sanitizer runtime): the caller must then use the raw system
 * call, as mock_real is not filled in yet.
 */
bool mock_init(void);
void mock_lock(void);
void mock_unlock(void);

/* ---- kernel objects ------------------------------------------------------ */

/* One DMA mapping, in a container or an IOAS, sorted by IOVA. */
struct mock_map {
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	bool readable;
	bool writable;
	struct mock_map *next;
};

/* /dev/vfio/vfio: lives while its fd or an attached group holds it. */
struct mock_container {
	unsigned int refs;
	unsigned int nr_groups;
	uint32_t iommu_type;	/* 0 until VFIO_SET_IOMMU */
	unsigned int dma_avail;
	struct mock_map *maps;
	struct mock_container *next;
};

/* /dev/vfio/N: lives while its fd or a device fd from it is open. */
struct mock_group {
	int number;
	bool fd_open;
	unsigned int device_users;
	struct mock_container *container;
	struct mock_group *next;
};

/* An iommufd object: an IOAS, or the device id of a bound cdev. */
struct mock_ioas {
	uint32_t id;
	bool is_device;		/* a devid, not an IOAS */
	unsigned int users;	/* devices attached to this IOAS */
	struct mock_map *maps;
	struct mock_ioas *next;
};

/* /dev/iommu: lives while its fd or a bound device holds it. */
struct mock_ictx {
	unsigned int refs;
	uint32_t next_id;
	struct mock_ioas *objects;
	struct mock_ictx *next;
};

/* The IRQ state of a device (vfio_pci_core_device's). */
struct mock_irqs {
	int type;		/* -1, or the active index: INTx, MSI, MSI-X */
	unsigned int nvec;	/* vector slots in efd */
	int *efd;		/* our dup of each vector's eventfd, or -1 */
	bool intx_masked;
	bool intx_pending;
	int err_efd;
	int req_efd;
};

/* Per-BDF state: outlives its fds so that counters can be read after. */
struct mock_device {
	char bdf[16];
	unsigned int open_count;
	bool cdev_bound;	/* bound through its cdev: blocks the group */
	struct mock_ictx *ictx;	/* the iommufd it is bound to */
	uint32_t devid;
	unsigned int resets;
	unsigned int hot_resets;
	uint8_t vids[4];	/* vendor + device id as read at the first open */
	struct mock_irqs irqs;
	struct mock_device *next;
};

enum mock_kind {
	MOCK_NONE,
	MOCK_CONTAINER,
	MOCK_GROUP,
	MOCK_DEVICE,
	MOCK_IOMMUFD,
};

/* A device file: from VFIO_GROUP_GET_DEVICE_FD, or an opened cdev. */
struct mock_devfile {
	struct mock_device *dev;
	struct mock_group *group;	/* NULL for a cdev */
	bool granted;			/* group fd, or cdev after BIND */
	struct mock_ioas *ioas;		/* cdev: attached IOAS */
};

/* One fake fd of this process. */
struct mock_fd {
	int fd;
	enum mock_kind kind;
	char path[PATH_MAX];
	union {
		struct mock_container *container;
		struct mock_group *group;
		struct mock_devfile devfile;
		struct mock_ictx *ictx;
	};
	struct mock_fd *next;
};

/* What a resolved path is in the fake tree. */
struct mock_target {
	enum mock_kind kind;
	int group;		/* MOCK_GROUP */
	char bdf[16];		/* MOCK_DEVICE */
};

/* ---- mock_state.c ---------------------------------------------------------- */

/* The realpath()s of the two roots; false when unset or missing. */
bool mock_sys_root(char *buf);
bool mock_dev_root(char *buf);

/* Is the resolved @path an attribute of the fake sysfs (not a mock file)? */
bool mock_is_sysfs_attr(const char *path);
/* Classify the resolved path @path. */
void mock_classify(const char *path, struct mock_target *t);

/*
 * The record of fake fd @fd, created on first sight (a cdev the mock did not
 * hand out, a node opened by means it does not see); NULL for other fds.
 */
struct mock_fd *mock_fd_get(int fd);
/* A record for a fd the mock just opened or saw opened. */
struct mock_fd *mock_fd_add(int fd, const char *path,
			    const struct mock_target *t);
/* Release what @fd held, as the kernel does on its last close. */
void mock_fd_forget(int fd);
/* The record of a group fd whose group is @number, or NULL. */
struct mock_group *mock_group_find(int number);

/* Per-BDF state, created on first use / looked up only. */
struct mock_device *mock_device_get(const char *bdf);
struct mock_device *mock_device_find(const char *bdf);
/* Leave the container (the last group out releases its IOMMU). */
void mock_group_detach(struct mock_group *g);
void mock_container_put(struct mock_container *c);
void mock_group_put(struct mock_group *g);
void mock_ictx_put(struct mock_ictx *ictx);
void mock_maps_free(struct mock_map **maps);
void mock_note_reset(struct mock_device *dev, enum mock_reset_kind kind);

/* Injected failure for ioctl @request: -errno, or 0. */
int mock_injected_ioctl(unsigned long request);
/* Injected failure for opening @abspath: errno, or 0. */
int mock_injected_open(const char *abspath, bool exist_only);
void mock_count_ioctl(unsigned long request);
unsigned int mock_dma_limit(void);

/* ---- sysfs of the fake tree (mock_state.c) ---------------------------------- */

/* Read the mock-vfio description of @bdf.  Return 0 or -errno. */
int mock_read_desc(const char *bdf, struct fake_dev_desc *d);
/* Driver bound to @bdf into @buf ("" when none). */
void mock_sysfs_driver(const char *bdf, char *buf, size_t size);
/* IOMMU group of @bdf, -1 when none. */
int mock_sysfs_group(const char *bdf);
/*
 * Call @fn for every device of IOMMU group @group (or, with @group < 0, for
 * every PCI device) until it returns non-zero; return that value.
 */
int mock_for_each_device(int group, int (*fn)(const char *bdf, void *arg),
			 void *arg);
/* True when no device of @group has a driver that claims DMA ownership. */
bool mock_group_viable(int group);

/* ---- capability chains (mock_state.c) ---------------------------------------- */

struct mock_caps {
	uint8_t buf[1024];
	size_t size;
};

/* Append a zeroed capability of @size bytes; return it (the chain's tail). */
void *mock_cap_add(struct mock_caps *caps, size_t size, uint16_t id,
		   uint16_t version);
/*
 * The kernel's argsz dance for a *_INFO ioctl with a capability chain: when
 * the caller's buffer holds the info struct (@info_size) plus the chain,
 * copy the chain behind it and return the offset to store in cap_offset;
 * otherwise raise *@argsz to the size needed and return 0.
 */
uint32_t mock_caps_copy(const struct mock_caps *caps, void *arg,
			size_t info_size, uint32_t *argsz);

/* ---- mock_vfio.c ------------------------------------------------------------- */

/* Count, apply injected failures, and dispatch by kind of fd. */
long mock_ioctl(struct mock_fd *f, unsigned long req, void *arg);
/* Would the kernel refuse to open @t now?  Return errno or 0. */
int mock_open_check(const struct mock_target *t);
/* The IOVA ranges an attached IOMMU domain allows; returns how many. */
unsigned int mock_iova_ranges(uint64_t *start, uint64_t *last, unsigned int max);
/* Does [iova, iova + size) lie inside one allowed range? */
bool mock_iova_allowed(uint64_t iova, uint64_t size);

/* ---- handlers ----------------------------------------------------------------- */

long mock_container_ioctl(struct mock_fd *f, unsigned long req, void *arg);
long mock_group_ioctl(struct mock_fd *f, unsigned long req, void *arg);
long mock_device_ioctl(struct mock_fd *f, unsigned long req, void *arg);
long mock_iommufd_ioctl(struct mock_fd *f, unsigned long req, void *arg);
long mock_irq_set(struct mock_device *dev, const struct fake_dev_desc *d,
		  void *arg);
void mock_irqs_release(struct mock_irqs *irqs);
/* cdev ioctls handled before access is granted. */
long mock_cdev_ioctl(struct mock_fd *f, unsigned long req, void *arg);
/* Drop a cdev's binding and attachment (its close). */
void mock_cdev_release(struct mock_devfile *df);

/* Access checks for pread/pwrite/mmap on a device fd: 0 or -errno. */
long mock_device_rw_check(struct mock_fd *f, uint64_t off, size_t *count,
			  bool write);
int mock_madvise_failure(int advice);
/* The IOMMU's smallest page and page-size bitmap (mock_set_iommu_pgsize()). */
uint64_t mock_iommu_pgsize(void);
uint64_t mock_iommu_pgsizes(void);
/* type1 reports VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE (Linux 5.4+). */
bool mock_type1_iova_ranges(void);
void mock_note_rw(uint32_t index, uint64_t offset, size_t len, bool write);
void mock_device_first_open(struct mock_device *dev, int fd);
void mock_device_read_fixup(struct mock_fd *f, uint64_t off, void *buf, size_t n);
long mock_device_mmap_check(struct mock_fd *f, uint64_t off, size_t len,
			    int flags);

/* Type1 and iommufd DMA: does [vaddr, vaddr + size) exist in this process? */
bool mock_user_range_valid(uint64_t vaddr, uint64_t size);
/* Insert @m into @maps, sorted; no overlap check. */
void mock_maps_insert(struct mock_map **maps, struct mock_map *m);
/* The first mapping of @maps that overlaps [iova, iova + size). */
struct mock_map *mock_maps_overlap(struct mock_map *maps, uint64_t iova,
				   uint64_t size);

#endif
