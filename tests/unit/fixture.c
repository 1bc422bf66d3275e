// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fixture.h"

struct faketree *tree;
static char log_text[16384];

static void capture(void *arg, int level, const char *msg)
{
	size_t len = strlen(log_text);

	snprintf(log_text + len, sizeof(log_text) - len, "%s\n", msg);
}

const char *fixture_log(void)
{
	return log_text;
}

void fixture_log_clear(void)
{
	log_text[0] = '\0';
}

bool log_has(const char *needle)
{
	if (strstr(log_text, needle))
		return true;
	print_message("log does not contain '%s'; it is:\n%s", needle, log_text);
	return false;
}

int fixture_setup(void **state)
{
	mock_reset_state();
	tree = faketree_create();
	assert_non_null(tree);
	fixture_log_clear();
	fpgactl_set_log(capture, NULL, FPGACTL_LOG_DEBUG);
	return 0;
}

int fixture_teardown(void **state)
{
	unsigned int leaked = mock_open_fds();

	faketree_destroy(tree);
	tree = NULL;
	assert_int_equal(leaked, 0);
	return 0;
}

void add_ready_device(const char *bdf, int group, int cdev)
{
	struct fake_dev_desc d;

	fake_dev_default(&d, bdf);
	d.group = group;
	d.driver = "vfio-pci";
	d.cdev_index = cdev;
	assert_int_equal(faketree_add_device(tree, &d), 0);
}

int fixture_run(const char *group, const struct CMUnitTest *tests, size_t n,
		const char *const *not_under_qemu_user)
{
	struct CMUnitTest *kept = calloc(n, sizeof(*kept));
	bool emulated = getenv("FPGACTL_TEST_QEMU_USER") != NULL;
	size_t k = 0;
	int ret;

	if (!kept)
		return 1;
	for (size_t i = 0; i < n; i++) {
		bool drop = false;

		for (const char *const *x = not_under_qemu_user; emulated && x && *x; x++)
			drop |= !strcmp(tests[i].name, *x);
		if (!drop)
			kept[k++] = tests[i];
	}
	ret = _cmocka_run_group_tests(group, kept, k, NULL, NULL);
	free(kept);
	return ret;
}
