/* SPDX-License-Identifier: MIT */
/*
 * Common set-up of the library's unit tests: a fresh fake tree and mock
 * state per test, and the library's log captured for assertions.
 */
#ifndef UNIT_FIXTURE_H
#define UNIT_FIXTURE_H

#include <stdbool.h>

#include "faketree.h"
#include "fpgactl.h"
#include "mock_kernel.h"

struct CMUnitTest;

extern struct faketree *tree;

/* cmocka group-style setup/teardown: new tree, mock reset, log captured. */
int fixture_setup(void **state);
/* Destroys the tree and checks that no fake fd was leaked. */
int fixture_teardown(void **state);

/* Everything the library logged since the last fixture_log_clear(). */
const char *fixture_log(void);
void fixture_log_clear(void);
/* The log contains @needle. */
bool log_has(const char *needle);

/*
 * A device bound to vfio-pci in IOMMU group @group, with a cdev index
 * @cdev (-1: none); the default description otherwise (fake_dev_default()).
 */
void add_ready_device(const char *bdf, int group, int cdev);

/*
 * Run @tests (@n of them) as cmocka group @group, leaving out those named in
 * @not_under_qemu_user (NULL-terminated) when FPGACTL_TEST_QEMU_USER is set:
 * tests/unit/meson.build sets it where the tests run under QEMU's user-mode
 * emulation (the aarch64 cross build), for the cases that emulation cannot
 * run; each caller says why next to its list.
 */
int fixture_run(const char *group, const struct CMUnitTest *tests, size_t n,
		const char *const *not_under_qemu_user);
#endif
