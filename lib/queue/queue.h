/* SPDX-License-Identifier: MIT */
/*
 * The queue layer: the ring engine and its waits.  Internal to lib/.
 */
#ifndef FPGACTL_QUEUE_LAYER_H
#define FPGACTL_QUEUE_LAYER_H

#include "core/core.h"

struct fpgactl_device;

/* queue.c: what fpgactl_queue_create() checks of @cfg before allocating
 * anything: 0, or -EINVAL after a log line. */
struct fpgactl_queue_cfg;
int queue_cfg_check(struct fpgactl_device *dev, const struct fpgactl_queue_cfg *cfg);

/*
 * queue.c: whether the device may interrupt for this queue (true unless its
 * driver, e.g. the soft-core's without .interrupts, said it never will).
 */
void queue_set_interrupts(struct fpgactl_queue *q, bool on);
bool queue_interrupts(const struct fpgactl_queue *q);

/* queue.c: the device a queue belongs to. */
struct fpgactl_device *queue_device(const struct fpgactl_queue *q);

/* queue.c: the eventfd fpgactl_queue_set_eventfd() gave the queue, or -1. */
struct fpgactl_queue;
int queue_eventfd(const struct fpgactl_queue *q);

/*
 * queue.c: changes whenever the file behind queue_eventfd() may have
 * changed under the same number: fpgactl_queue_set_eventfd() was called, or
 * the device's eventfds were closed (interrupts disabled or enabled again).
 */
uint64_t queue_eventfd_gen(const struct fpgactl_queue *q);

/**
 * struct queue_watch - the eventfd fpgactl_queue_wait() watches for a queue
 * @ev: the event engine it is watched in; NULL before the first wait
 * @fd: the fd number watched
 * @gen: queue_eventfd_gen() when it was watched
 */
struct queue_watch {
	struct fpgactl_events *ev;
	int fd;
	uint64_t gen;
};

/* queue.c: the queue's watch record, owned by queue_wait.c. */
struct queue_watch *queue_watch(struct fpgactl_queue *q);

#endif
