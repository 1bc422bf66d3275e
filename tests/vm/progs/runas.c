// SPDX-License-Identifier: MIT
/*
 * runas: run a command as an unprivileged user with a memlock limit, for
 * the memlock-per-backend test of the VM suite (the guest's busybox has no
 * user database to su to).
 *
 *	runas UID LIMIT_KIB COMMAND [ARG]...
 *
 * Sets RLIMIT_MEMLOCK (soft and hard) to LIMIT_KIB KiB, drops every group
 * and takes gid and uid UID, which drops every capability (CAP_IPC_LOCK
 * included), then execs COMMAND.  Exit status 127 when that fails.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rlimit lim;
	uid_t uid;

	if (argc < 4) {
		fprintf(stderr, "usage: runas UID LIMIT_KIB COMMAND [ARG]...\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[1], NULL, 10);
	lim.rlim_cur = lim.rlim_max = (rlim_t)strtoull(argv[2], NULL, 10) << 10;
	if (setrlimit(RLIMIT_MEMLOCK, &lim) || setgroups(0, NULL) ||
	    setgid((gid_t)uid) || setuid(uid)) {
		perror("runas");
		return 127;
	}
	execvp(argv[3], argv + 3);
	perror("runas: exec");
	return 127;
}
