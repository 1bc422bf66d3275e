// SPDX-License-Identifier: MIT
/*
 * run_as UID GID COMMAND [ARG]...: drop root for a user who is not, keeping
 * the environment, then exec COMMAND (guest test grant).  No capabilities
 * survive: setuid() from root to another uid clears them all.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: run_as UID GID COMMAND [ARG]...\n");
		return 2;
	}
	if (setgroups(0, NULL) || setgid((gid_t)atoi(argv[2])) ||
	    setuid((uid_t)atoi(argv[1]))) {
		perror("run_as");
		return 2;
	}
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
