// SPDX-License-Identifier: MIT
/*
 * fpgactl irq-wait: interrupt bring-up from the command line.
 *
 * Enables one interrupt type (fpgactl_irq_enable()), watches the vector's
 * eventfd with an fpgactl_events engine, and --count times: makes the
 * device interrupt (--trigger: a 32-bit BAR0 write), waits, prints the
 * latency from the trigger, acknowledges (--ack: another BAR0 write) and,
 * for INTx, unmasks.  Exit 1 when an interrupt does not arrive within
 * --timeout-ms.
 *
 * On the soft-core's model the only interrupts are MSI-X, one vector per
 * queue pair, raised after completions when interrupts are on: the
 * soft-core is brought up with interrupts and, without --trigger, a NOP on
 * queue --vector is the trigger.
 *
 * Everything is checked before the device is touched: the arguments first,
 * then, with the device open, the vector count and the register offsets.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fpgactl.h>

#include "commands.h"
#include "device_arg.h"
#include "sc_util.h"
#include "util.h"

#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TIMEOUT_MS 3600000
#define MAX_COUNT 1000000
#define MAX_VECTOR 2047		/* PCI: at most 2048 MSI-X vectors */
#define MODEL_DEPTH 64		/* the model's ring, when the NOP is the trigger */
#define REAP_TIMEOUT_NS 2000000000ull
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x4

/**
 * struct reg_write - a --trigger or --ack
 * @set: given on the command line
 * @offset: BAR0 offset, a multiple of 4
 * @value: 32-bit value
 */
struct reg_write {
	bool set;
	uint64_t offset;
	uint32_t value;
};

/**
 * struct irq_wait - one invocation
 * @device: device name
 * @model: @device is the software model
 * @type: FPGACTL_IRQ_MSIX, _MSI or _INTX; -1 for the best the device has
 * @vector: vector waited for
 * @count: interrupts to wait for
 * @timeout_ns: longest wait for each
 * @trigger: --trigger
 * @ack: --ack
 * @dev: the device
 * @sc: the model's soft-core (NOP trigger), else NULL
 * @q: its queue --vector
 * @ev: the event engine
 * @fd: the vector's eventfd
 * @saved_command: PCI command register before bus mastering was enabled,
 *	-1 when it was not touched
 * @lat: latency of each interrupt received, ns
 */
struct irq_wait {
	char device[FPGACTL_DEVICE_NAME_MAX];
	bool model;
	int type;
	uint64_t vector;
	uint64_t count;
	uint64_t timeout_ns;
	struct reg_write trigger;
	struct reg_write ack;
	struct fpgactl_device *dev;
	struct fpgactl_sc *sc;
	struct fpgactl_queue *q;
	struct fpgactl_events *ev;
	int fd;
	int saved_command;
	uint64_t *lat;
};

static const char *const type_names[] = {
	[FPGACTL_IRQ_INTX] = "INTx",
	[FPGACTL_IRQ_MSI] = "MSI",
	[FPGACTL_IRQ_MSIX] = "MSI-X",
};

#define CMD "irq-wait"

static int parse_type(const char *text, int *type)
{
	if (!strcasecmp(text, "msix") || !strcasecmp(text, "msi-x"))
		*type = FPGACTL_IRQ_MSIX;
	else if (!strcasecmp(text, "msi"))
		*type = FPGACTL_IRQ_MSI;
	else if (!strcasecmp(text, "intx"))
		*type = FPGACTL_IRQ_INTX;
	else
		return usage_error(CMD, "type '%s' is not msix, msi or intx", text);
	return STATUS_OK;
}

/* OFFSET=VALUE: a 4-byte aligned BAR0 offset and a 32-bit value. */
static int parse_reg_write(const char *what, const char *text, struct reg_write *w)
{
	const char *eq = strchr(text, '=');
	char offset[32], name[32];
	uint64_t value;
	int status;

	if (!eq || eq == text || eq - text >= (ptrdiff_t)sizeof(offset))
		return usage_error(CMD, "%s '%s' is not OFFSET=VALUE", what, text);
	memcpy(offset, text, (size_t)(eq - text));
	offset[eq - text] = '\0';
	snprintf(name, sizeof(name), "%s offset", what);
	status = parse_number_arg(CMD, name, offset, UINT64_MAX, &w->offset);
	if (status)
		return status;
	if (w->offset % 4)
		return usage_error(CMD, "%s offset 0x%" PRIx64 " is not aligned to 4 bytes", what,
				   w->offset);
	snprintf(name, sizeof(name), "%s value", what);
	status = parse_number_arg(CMD, name, eq + 1, UINT32_MAX, &value);
	if (status)
		return status;
	w->value = (uint32_t)value;
	w->set = true;
	return STATUS_OK;
}

static int parse_args(const struct invocation *inv, struct irq_wait *w)
{
	uint64_t ms = DEFAULT_TIMEOUT_MS;
	int status = require_device_or_model(inv, w->device, sizeof(w->device));

	w->model = !status && is_model_name(w->device);
	w->type = -1;
	w->count = 1;
	if (!status && inv->irq_type)
		status = parse_type(inv->irq_type, &w->type);
	if (!status && inv->vector)
		status = parse_number_arg(CMD, "vector", inv->vector, MAX_VECTOR, &w->vector);
	if (!status && w->type == FPGACTL_IRQ_INTX && w->vector)
		return usage_error(CMD, "INTx has one vector: --vector must be 0");
	if (!status && inv->count) {
		status = parse_number_arg(CMD, "count", inv->count, MAX_COUNT, &w->count);
		if (!status && !w->count)
			return usage_error(CMD, "count must be at least 1");
	}
	if (!status && inv->timeout_ms) {
		status = parse_number_arg(CMD, "timeout-ms", inv->timeout_ms, MAX_TIMEOUT_MS, &ms);
		if (!status && !ms)
			return usage_error(CMD, "timeout-ms must be at least 1");
	}
	w->timeout_ns = ms * 1000000;
	if (!status && inv->trigger)
		status = parse_reg_write("trigger", inv->trigger, &w->trigger);
	if (!status && inv->ack)
		status = parse_reg_write("ack", inv->ack, &w->ack);
	return status;
}

/* "INTx: 1, MSI: 1, MSI-X: 8" */
static void describe_irqs(struct irq_wait *w, char *buf, size_t size, uint32_t counts[3])
{
	snprintf(buf, size, "INTx: %" PRIu32 ", MSI: %" PRIu32 ", MSI-X: %" PRIu32,
		 counts[FPGACTL_IRQ_INTX], counts[FPGACTL_IRQ_MSI], counts[FPGACTL_IRQ_MSIX]);
}

/* With the device open: the type, the vector and the offsets.  Reads only. */
static int check_device(struct irq_wait *w)
{
	struct fpgactl_region_info bar0;
	uint32_t counts[3] = { 0 };
	char text[64];
	int err, status;

	for (int t = FPGACTL_IRQ_INTX; t <= FPGACTL_IRQ_MSIX; t++) {
		struct fpgactl_irq_info info;

		if (!fpgactl_irq_get_info(w->dev, (uint32_t)t, &info))
			counts[t] = info.count;
	}
	describe_irqs(w, text, sizeof(text), counts);
	if (w->type < 0) {
		/* The best type with that vector. */
		for (int t = FPGACTL_IRQ_MSIX; t >= FPGACTL_IRQ_INTX && w->type < 0; t--)
			if (counts[t] > w->vector)
				w->type = t;
		if (w->type < 0)
			return usage_error(CMD, "%s has no interrupt vector %" PRIu64 " (%s)",
					   w->device, w->vector, text);
	}
	if (!counts[w->type])
		return usage_error(CMD, "%s has no %s interrupt (%s)", w->device,
				   type_names[w->type], text);
	if (w->vector >= counts[w->type])
		return usage_error(CMD, "%s has no %s vector %" PRIu64 " (%s)", w->device,
				   type_names[w->type], w->vector, text);
	if (w->trigger.set || w->ack.set) {
		err = fpgactl_region_get_info(w->dev, FPGACTL_REGION_BAR0, &bar0);
		if (err)
			return failure(CMD, "%s: cannot describe BAR0: %s", w->device,
				       errno_text(err));
		for (int i = 0; i < 2; i++) {
			const struct reg_write *r = i ? &w->ack : &w->trigger;

			if (r->set && (bar0.size < 4 || r->offset > bar0.size - 4))
				return usage_error(CMD, "%s offset 0x%" PRIx64 " is outside BAR0 "
						   "(size 0x%" PRIx64 ")", i ? "ack" : "trigger",
						   r->offset, bar0.size);
		}
	}
	if (w->model) {
		status = check_softcore(CMD, w->dev, w->device, NULL);
		if (status)
			return status;
	}
	return STATUS_OK;
}

/* MSI and MSI-X messages are memory writes: the device needs bus mastering. */
static int enable_bus_master(struct irq_wait *w)
{
	uint16_t command;
	int err;

	if (w->model || w->type == FPGACTL_IRQ_INTX)
		return STATUS_OK;
	err = fpgactl_config_read(w->dev, PCI_COMMAND, &command, sizeof(command));
	if (!err && !(command & PCI_COMMAND_MASTER)) {
		err = fpgactl_set_bus_master(w->dev, true);
		if (!err)
			w->saved_command = command;
	}
	if (err)
		return failure(CMD, "%s: cannot enable bus mastering (needed for %s): %s",
			       w->device, type_names[w->type], errno_text(err));
	return STATUS_OK;
}

static int set_up(struct irq_wait *w)
{
	int err = 0, status;

	if (w->model) {
		struct fpgactl_sc_opts opts = {
			.nr_queues = (unsigned int)w->vector + 1, .depth = MODEL_DEPTH,
			.interrupts = true,
		};

		status = open_softcore(CMD, w->dev, w->device, &opts, &w->sc);
		if (status)
			return status;
		w->q = fpgactl_sc_queue(w->sc, (unsigned int)w->vector);
	}
	w->ev = fpgactl_events_create(1, &err);
	if (!w->ev)
		return failure(CMD, "event engine: %s", errno_text(err));
	status = enable_bus_master(w);
	if (status)
		return status;
	err = fpgactl_irq_enable(w->dev, (uint32_t)w->type, (uint32_t)w->vector + 1);
	if (err)
		return failure(CMD, "%s: cannot enable %s: %s", w->device, type_names[w->type],
			       errno_text(err));
	w->fd = fpgactl_irq_fd(w->dev, (uint32_t)w->type, (uint32_t)w->vector);
	if (w->fd < 0)
		return failure(CMD, "%s: no eventfd for %s vector %" PRIu64 ": %s", w->device,
			       type_names[w->type], w->vector, errno_text(w->fd));
	err = fpgactl_events_watch(w->ev, w->fd, w->vector);
	if (err)
		return failure(CMD, "watching the eventfd: %s", errno_text(err));
	return STATUS_OK;
}

static void tear_down(struct irq_wait *w)
{
	if (w->ev && w->fd >= 0)
		fpgactl_events_unwatch(w->ev, w->fd);
	if (w->dev && w->type >= 0)
		fpgactl_irq_disable(w->dev, (uint32_t)w->type);
	fpgactl_events_destroy(w->ev);
	fpgactl_sc_close(w->sc);
	if (w->saved_command >= 0)
		fpgactl_set_bus_master(w->dev, false);
	fpgactl_device_close(w->dev);
	free(w->lat);
}

static int reg_write(struct irq_wait *w, const char *what, const struct reg_write *r)
{
	int err = fpgactl_reg_write32(w->dev, 0, r->offset, r->value);

	if (err)
		return failure(CMD, "%s: %s write of 0x%08" PRIx32 " to BAR0 0x%" PRIx64
			       ": %s", w->device, what, r->value, r->offset, errno_text(err));
	return STATUS_OK;
}

/* After the model's interrupt: take the NOP's completion off the ring. */
static int reap_nop(struct irq_wait *w)
{
	struct fpgactl_completion c[4];
	int n;

	while (fpgactl_queue_in_flight(w->q)) {
		n = fpgactl_queue_wait(w->q, NULL, FPGACTL_WAIT_POLL, 0,
				       (int64_t)REAP_TIMEOUT_NS, c, 4);
		if (n <= 0)
			return failure(CMD, "%s: the NOP got no completion", w->device);
		for (int i = 0; i < n; i++)
			if (c[i].error || c[i].status)
				return failure(CMD, "%s: the NOP completed with %s", w->device,
					       c[i].error ? errno_text(c[i].error)
							  : fpgactl_sc_status_name(c[i].status));
	}
	return STATUS_OK;
}

static const char *trigger_text(const struct irq_wait *w)
{
	if (w->trigger.set)
		return "the trigger";
	return w->q ? "the NOP's doorbell" : "the start of the wait";
}

static void print_summary(struct irq_wait *w, uint64_t received)
{
	printf("irq-wait: %" PRIu64 " of %" PRIu64 " interrupt%s on %s vector %" PRIu64,
	       received, w->count, plural(w->count), type_names[w->type], w->vector);
	if (received) {
		sort_u64(w->lat, received);
		printf("; latency min %.1f us, median %.1f us, max %.1f us",
		       (double)w->lat[0] / 1e3, (double)w->lat[received / 2] / 1e3,
		       (double)w->lat[received - 1] / 1e3);
	}
	putchar('\n');
}

static int wait_loop(struct irq_wait *w)
{
	uint64_t received = 0;
	int status = STATUS_OK;

	printf("irq-wait: %s vector %" PRIu64 " of %s, eventfd watched by an io_uring event "
	       "engine; trigger: ", type_names[w->type], w->vector, w->device);
	if (w->trigger.set)
		printf("BAR0 0x%" PRIx64 " = 0x%08" PRIx32, w->trigger.offset, w->trigger.value);
	else if (w->q)
		printf("a NOP on queue %" PRIu64 " (soft-core interrupts on)", w->vector);
	else
		printf("none (waiting for the device)");
	if (w->ack.set)
		printf("; ack: BAR0 0x%" PRIx64 " = 0x%08" PRIx32, w->ack.offset, w->ack.value);
	printf("\n");
	if (w->type == FPGACTL_IRQ_INTX && !w->ack.set && (w->count > 1 || w->trigger.set))
		printf("note: no --ack: an INTx the device still asserts fires again as soon as "
		       "it is unmasked\n");
	fflush(stdout);
	for (uint64_t i = 1; i <= w->count && !status; i++) {
		uint64_t start = mono_ns(), ns;
		int ret;

		if (w->trigger.set)
			status = reg_write(w, "trigger", &w->trigger);
		else if (w->q)
			status = submit_nop(CMD, w->q, w, REAP_TIMEOUT_NS); /* the model's trigger */
		if (status)
			break;
		ret = fpgactl_events_wait_fd(w->ev, w->fd, (int64_t)w->timeout_ns);
		ns = mono_ns() - start;
		if (ret < 0) {
			status = failure(CMD, "waiting for the interrupt: %s", errno_text(ret));
			break;
		}
		if (!ret) {
			printf("interrupt %" PRIu64 ": none within %" PRIu64 " ms\n", i,
			       w->timeout_ns / 1000000);
			status = STATUS_FAILED;
			break;
		}
		w->lat[received++] = ns;
		printf("interrupt %" PRIu64 ": %s vector %" PRIu64 ", %.1f us after %s\n", i,
		       type_names[w->type], w->vector, (double)ns / 1e3, trigger_text(w));
		fflush(stdout);
		if (w->q && !w->trigger.set)
			status = reap_nop(w);
		if (!status && w->ack.set)
			status = reg_write(w, "ack", &w->ack);
		if (!status && w->type == FPGACTL_IRQ_INTX) {
			int err = fpgactl_irq_unmask(w->dev);

			if (err)
				status = failure(CMD, "%s: unmasking INTx: %s", w->device,
						 errno_text(err));
		}
	}
	print_summary(w, received);
	fflush(stdout);
	if (received < w->count && status == STATUS_FAILED)
		fprintf(stderr, "fpgactl: %s: %s: %" PRIu64 " of %" PRIu64 " interrupt%s "
			"arrived\n", CMD, w->device, received, w->count, plural(w->count));
	return status;
}

static int run_irq_wait(const struct invocation *inv)
{
	struct irq_wait w = { .fd = -1, .saved_command = -1 };
	int status = parse_args(inv, &w);

	if (status)
		return status;
	w.lat = calloc(w.count, sizeof(*w.lat));
	if (!w.lat)
		return failure(CMD, "%s", errno_text(ENOMEM));
	status = open_device(inv, w.device, &w.dev);
	if (!status)
		status = check_device(&w);
	if (!status)
		status = set_up(&w);
	if (!status)
		status = wait_loop(&w);
	tear_down(&w);
	return status;
}

const struct command cmd_irq_wait = {
	.name = "irq-wait",
	.args = "",
	.summary = "enable an interrupt, make the device raise it, wait for it",
	.details = "Enables --type (default: MSI-X, MSI or INTx, the first with that\n"
		   "vector) with fpgactl_irq_enable(), watches --vector's eventfd with an\n"
		   "io_uring event engine and, --count times (default 1): writes --trigger\n"
		   "(a 32-bit BAR0 register write), waits at most --timeout-ms, prints the\n"
		   "latency from the trigger, writes --ack, and unmasks INTx.  For MSI and\n"
		   "MSI-X bus mastering is enabled for the run.  QEMU's edu device:\n"
		   "  fpgactl -d BDF irq-wait --type msi --trigger 0x60=1 --ack 0x64=1\n"
		   "On the model (MSI-X only, vector = queue pair) the soft-core is brought\n"
		   "up with interrupts on, and without --trigger a NOP on queue --vector\n"
		   "makes it interrupt.  Exit status 1 when an interrupt does not arrive.\n",
	.options = OPT_DEVICE | OPT_IRQ_TYPE | OPT_VECTOR | OPT_TRIGGER | OPT_ACK | OPT_COUNT |
		   OPT_TIMEOUT,
	.model = true,
	.min_args = 0,
	.max_args = 0,
	.run = run_irq_wait,
};
