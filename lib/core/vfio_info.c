// SPDX-License-Identifier: MIT
/*
 * VFIO's variable-size info ioctls (VFIO_DEVICE_GET_REGION_INFO,
 * VFIO_IOMMU_GET_INFO, ...): the structure starts with argsz; when the
 * kernel needs room for its capability chain it raises argsz, and the call
 * is made again with a buffer that large.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

void *vfio_info_query(int fd, unsigned long request, const void *tmpl,
		      size_t size, int *err)
{
	uint32_t argsz = (uint32_t)size;
	void *info = NULL;

	for (int tries = 0; tries < 2; tries++) {
		void *p = realloc(info, argsz);

		if (!p) {
			*err = -ENOMEM;
			break;
		}
		info = p;
		memset(info, 0, argsz);
		memcpy(info, tmpl, size);
		memcpy(info, &argsz, sizeof(argsz));
		*err = xioctl(fd, request, info);
		if (*err)
			break;
		uint32_t wanted;

		memcpy(&wanted, info, sizeof(wanted));
		if (wanted <= argsz)
			return info;
		argsz = wanted;
		*err = -EPROTO;		/* unless the next round settles it */
	}
	free(info);
	return NULL;
}

const struct vfio_info_cap_header *vfio_info_find_cap(const void *info,
						      size_t hdr_size,
						      uint32_t argsz,
						      uint32_t cap_offset,
						      uint16_t id)
{
	uint32_t off = cap_offset;

	for (int hops = 0; off && hops < 64; hops++) {
		const struct vfio_info_cap_header *h;

		if (off < hdr_size || argsz < sizeof(*h) || off > argsz - sizeof(*h))
			return NULL;
		h = (const void *)((const uint8_t *)info + off);
		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

bool vfio_cap_fits(const void *info, uint32_t argsz,
		   const struct vfio_info_cap_header *h, size_t cap_size,
		   size_t elem_size, uint32_t count)
{
	size_t room = argsz - (size_t)((const uint8_t *)h - (const uint8_t *)info);

	return room >= cap_size && (room - cap_size) / elem_size >= count;
}
