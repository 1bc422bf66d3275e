/* SPDX-License-Identifier: MIT */
/*
 * What the VM suite's programs of several processes sharing one device
 * (edu_share, nvme_share) have in common: the name of the process on each
 * line, the FAIL line, and the UNIX socket the exporter and the workers
 * meet on.
 */
#ifndef VM_PROGS_SHARE_H
#define VM_PROGS_SHARE_H

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* The process's part, set by each role ("exporter", "control", "worker1"...). */
static const char *who = "?";

/**
 * fail() - print "FAIL WHO: WHAT: REASON" on stdout
 * @what: the step that failed
 * @err: an errno value, positive or negative
 *
 * Return: 1, the exit status of a failed step.
 */
static inline int fail(const char *what, int err)
{
	printf("FAIL %s: %s: %s\n", who, what, strerror(err < 0 ? -err : err));
	return 1;
}

/**
 * unix_socket() - a SOCK_SEQPACKET UNIX socket and the address of @path
 * @path: the socket's path
 * @sa: receives the address, for bind() or connect()
 *
 * Return: the socket, or -1 with errno set.
 */
static inline int unix_socket(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

#endif
