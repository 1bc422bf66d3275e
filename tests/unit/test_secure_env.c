// SPDX-License-Identifier: MIT
/*
 * The sysfs and /dev roots ignore the environment in a set-user-ID or
 * set-group-ID program (AT_SECURE), because the library writes
 * driver_override, unbind and drivers_probe under them.
 *
 * Run as root: the test copies itself into a temporary directory, makes the
 * copy set-group-ID to group nogroup (65534) and runs it with
 * FPGACTL_SYSFS_ROOT and FPGACTL_DEV_ROOT set; the kernel marks that exec
 * AT_SECURE (effective gid != real gid), and the copy checks that both
 * roots are still /sys and /dev.  Without root, or where the temporary
 * directory is mounted nosuid, it skips (exit 77) saying why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"

#define SKIP 77
#define NOGROUP 65534

/* In the set-group-ID copy: 0 when the roots ignored the environment. */
static int child(void)
{
	if (!getauxval(AT_SECURE)) {
		printf("SKIP: the set-group-ID copy did not run with AT_SECURE "
		       "(temporary directory mounted nosuid?)\n");
		return SKIP;
	}
	if (strcmp(sysfs_root(), "/sys") || strcmp(dev_root(), "/dev")) {
		printf("FAIL: with AT_SECURE the roots are %s and %s, taken from "
		       "the environment (expected /sys and /dev)\n",
		       sysfs_root(), dev_root());
		return 1;
	}
	printf("ok: AT_SECURE, roots /sys and /dev despite the environment\n");
	return 0;
}

static int copy_self(const char *dst)
{
	struct stat st;
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out;
	ssize_t n = 0;

	if (in < 0 || fstat(in, &st))
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (out < 0)
		return -1;
	for (off_t left = st.st_size; left > 0 && n >= 0; left -= n)
		n = sendfile(out, in, NULL, (size_t)left);
	close(in);
	if (close(out) || n < 0)
		return -1;
	if (chown(dst, 0, NOGROUP) || chmod(dst, 02755))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/fpgactl-secure-env.XXXXXX", exe[64];
	int status, ret;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "--child"))
		return child();
	/* The environment is honoured in an ordinary program. */
	setenv("FPGACTL_SYSFS_ROOT", "/nonexistent/sys", 1);
	setenv("FPGACTL_DEV_ROOT", "/nonexistent/dev", 1);
	if (strcmp(sysfs_root(), "/nonexistent/sys") ||
	    strcmp(dev_root(), "/nonexistent/dev")) {
		printf("FAIL: the roots ignore the environment in an ordinary program\n");
		return 1;
	}
	if (geteuid() != 0) {
		printf("SKIP: needs root to make a set-group-ID copy of itself\n");
		return SKIP;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(exe, sizeof(exe), "%s/exe", dir);
	if (copy_self(exe)) {
		printf("SKIP: cannot make a set-group-ID copy in %s: %s\n", dir,
		       strerror(errno));
		unlink(exe);
		rmdir(dir);
		return SKIP;
	}
	pid = fork();
	if (pid == 0) {
		execl(exe, exe, "--child", (char *)NULL);
		_exit(127);
	}
	ret = pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ?
	      1 : WEXITSTATUS(status);
	unlink(exe);
	rmdir(dir);
	return ret;
}
