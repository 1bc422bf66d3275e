// SPDX-License-Identifier: MIT
/*
 * A C++ program against the installed library: the public headers must
 * compile as C++ (g++ -pedantic) and link through their extern "C" guards.
 * run.sh compiles it with every installed header included before it
 * (-include), so a header added later is covered without editing this file.
 */
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fpgactl.h>

int main()
{
	char bdf[FPGACTL_BDF_LEN];
	int err = 0;

	if (fpgactl_pci_parse_bdf("3:0.1", bdf) || std::strcmp(bdf, "0000:03:00.1")) {
		std::fprintf(stderr, "parse_bdf gave '%s'\n", bdf);
		return 1;
	}
	if (fpgactl_device_open("nonsense", nullptr, &err) || err != -EINVAL) {
		std::fprintf(stderr, "device_open(nonsense): err %d\n", err);
		return 1;
	}
	static_assert(sizeof(struct fpgactl_sqe) == 64, "SQE layout");
	std::printf("consumer_cxx: libfpgactl %s from C++: ok\n", fpgactl_version());
	return 0;
}
