/* SPDX-License-Identifier: MIT */
/*
 * iommufd and VFIO cdev uapi for build hosts whose kernel headers predate it.
 *
 * <linux/iommufd.h> appeared in Linux 6.2 and the VFIO cdev ioctls in 6.6.
 * When the system headers provide an item, theirs is used; otherwise the
 * definition below is.  The values are kernel ABI and never change.
 *
 * The VFIO cdev structures are extensible: later kernels append fields
 * (a VF token pointer, a PASID) behind an argsz check, so the short layouts
 * below are accepted by every kernel that has the ioctls.  Callers fill
 * argsz with sizeof() and touch only the fields defined here.
 */
#ifndef FPGACTL_COMPAT_IOMMUFD_H
#define FPGACTL_COMPAT_IOMMUFD_H

#include <stddef.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* ---- iommufd: /dev/iommu ------------------------------------------------ */

#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#else

#define IOMMUFD_TYPE (';')

/* Command numbers: consecutive from 0x80, in kernel order. */
#define IOMMUFD_CMD_BASE		0x80
#define IOMMUFD_CMD_DESTROY		0x80
#define IOMMUFD_CMD_IOAS_ALLOC		0x81
#define IOMMUFD_CMD_IOAS_ALLOW_IOVAS	0x82
#define IOMMUFD_CMD_IOAS_COPY		0x83
#define IOMMUFD_CMD_IOAS_IOVA_RANGES	0x84
#define IOMMUFD_CMD_IOAS_MAP		0x85
#define IOMMUFD_CMD_IOAS_UNMAP		0x86

/* Free any iommufd object (IOAS, HWPT, ...) by id. */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)	/* 0x3b80 */

/* Create an empty I/O address space; its id comes back in out_ioas_id. */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;		/* 0 */
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC) /* 0x3b81 */

/* One usable IOVA interval; last is inclusive. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * List the IOVA intervals an IOAS may map.  num_iovas: in, capacity of the
 * array at allowed_iovas; out, number of intervals (-EMSGSIZE when the
 * array was too short).  out_iova_alignment: required IOVA/length alignment.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;	/* 0 */
	__aligned_u64 allowed_iovas;	/* struct iommu_iova_range * */
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)	/* 0x3b84 */

/* Flags of IOMMU_IOAS_MAP (and IOMMU_IOAS_COPY). */
#define IOMMU_IOAS_MAP_FIXED_IOVA	(1 << 0)	/* use iova as given */
#define IOMMU_IOAS_MAP_WRITEABLE	(1 << 1)	/* device may write */
#define IOMMU_IOAS_MAP_READABLE		(1 << 2)	/* device may read */

/*
 * Pin [user_va, user_va + length) and map it into the IOAS.  Without
 * FIXED_IOVA the kernel picks the IOVA and returns it in iova.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;	/* 0 */
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)	/* 0x3b85 */

/*
 * Unmap whole earlier mappings inside [iova, iova + length); length returns
 * the number of bytes unmapped.  iova 0, length UINT64_MAX unmaps all.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP) /* 0x3b86 */

_Static_assert(sizeof(struct iommu_destroy) == 8, "iommu_destroy ABI");
_Static_assert(sizeof(struct iommu_ioas_alloc) == 12, "iommu_ioas_alloc ABI");
_Static_assert(sizeof(struct iommu_iova_range) == 16, "iommu_iova_range ABI");
_Static_assert(sizeof(struct iommu_ioas_iova_ranges) == 32,
	       "iommu_ioas_iova_ranges ABI");
_Static_assert(sizeof(struct iommu_ioas_map) == 40, "iommu_ioas_map ABI");
_Static_assert(sizeof(struct iommu_ioas_unmap) == 24, "iommu_ioas_unmap ABI");

#endif /* !__has_include(<linux/iommufd.h>) */

/* ---- VFIO cdev: /dev/vfio/devices/vfioN (Linux 6.6) --------------------- */

/*
 * Tie a cdev fd to an iommufd; until this succeeds the fd refuses every
 * other device ioctl.  out_devid names the device in iommufd commands.
 * Closing the device fd undoes it.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;		/* 0 */
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)	/* 0x3b76 */
_Static_assert(sizeof(struct vfio_device_bind_iommufd) == 16,
	       "vfio_device_bind_iommufd ABI");
#endif

/*
 * Route the bound device's DMA through an IOAS (or a HWPT).  On return
 * pt_id holds the IOAS id or the id of the HWPT actually attached.
 */
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;		/* 0 */
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT \
	_IO(VFIO_TYPE, VFIO_BASE + 19)				/* 0x3b77 */
_Static_assert(sizeof(struct vfio_device_attach_iommufd_pt) == 12,
	       "vfio_device_attach_iommufd_pt ABI");
#endif

/* Leave the current address space: the device's DMA is blocked after it. */
#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;		/* 0 */
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT \
	_IO(VFIO_TYPE, VFIO_BASE + 20)				/* 0x3b78 */
_Static_assert(sizeof(struct vfio_device_detach_iommufd_pt) == 8,
	       "vfio_device_detach_iommufd_pt ABI");
#endif

/*
 * Whichever header won, the fields the library uses sit where the kernel
 * expects them (newer layouts only append).
 */
_Static_assert(offsetof(struct iommu_ioas_alloc, out_ioas_id) == 8,
	       "iommu_ioas_alloc layout");
_Static_assert(offsetof(struct iommu_ioas_map, iova) == 32,
	       "iommu_ioas_map layout");
/*
 * VFIO_DEVICE_BIND_IOMMUFD with a VF token (Linux 6.17, not in 6.12's
 * uapi): flag VFIO_DEVICE_BIND_FLAG_TOKEN, the 16-byte UUID at
 * token_uuid_ptr.  Own name, so that it never clashes with the uapi's.
 */
#ifndef VFIO_DEVICE_BIND_FLAG_TOKEN
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1u << 0)
#endif
struct vfio_device_bind_iommufd_token {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr;
};
_Static_assert(sizeof(struct vfio_device_bind_iommufd_token) == 24,
	       "vfio_device_bind_iommufd with token ABI");

_Static_assert(offsetof(struct vfio_device_bind_iommufd, iommufd) == 8 &&
	       offsetof(struct vfio_device_bind_iommufd, out_devid) == 12,
	       "vfio_device_bind_iommufd layout");
_Static_assert(offsetof(struct vfio_device_attach_iommufd_pt, pt_id) == 8,
	       "vfio_device_attach_iommufd_pt layout");


/* Hot reset through a cdev: devices are named by devid, not group. */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID		(1 << 0)
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED	(1 << 1)
#define VFIO_PCI_DEVID_OWNED			0
#define VFIO_PCI_DEVID_NOT_OWNED		(-1)
#endif

#endif
