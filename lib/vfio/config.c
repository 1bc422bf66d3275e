// SPDX-License-Identifier: MIT
/*
 * PCI configuration space, through the VFIO config region.
 */
#include <endian.h>
#include <string.h>

#include "core/core.h"
#include "vfio/vfio.h"

FPGACTL_EXPORT int fpgactl_config_read(struct fpgactl_device *dev, uint32_t offset,
				       void *buf, size_t len)
{
	return fpgactl_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, offset, buf, len);
}

FPGACTL_EXPORT int fpgactl_config_write(struct fpgactl_device *dev, uint32_t offset,
					const void *buf, size_t len)
{
	return fpgactl_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, offset, buf, len);
}

int config_read_command(struct fpgactl_device *dev, uint16_t *cmd)
{
	int ret = fpgactl_config_read(dev, PCI_COMMAND, cmd, sizeof(*cmd));

	/* Config space is little-endian. */
	*cmd = le16toh(*cmd);
	return ret;
}

FPGACTL_EXPORT int fpgactl_set_bus_master(struct fpgactl_device *dev, bool enable)
{
	uint16_t cmd;
	int ret = config_read_command(dev, &cmd);

	if (ret)
		return ret;
	cmd = enable ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
	cmd = htole16(cmd);
	return fpgactl_config_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
}
