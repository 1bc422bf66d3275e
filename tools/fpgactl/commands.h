/* SPDX-License-Identifier: MIT */
/*
 * The fpgactl command table.  main.c parses the global and per-command
 * options into a &struct invocation, checks the argument count, and calls
 * the command's run function with the positional arguments only.
 */
#ifndef FPGACTL_TOOL_COMMANDS_H
#define FPGACTL_TOOL_COMMANDS_H

#include <stdbool.h>

/* Options a command accepts after its name (a bit mask in &struct command). */
#define OPT_DEVICE (1u << 0) /* -d, --device DEVICE */
#define OPT_JSON (1u << 1)   /* --json */
#define OPT_WIDTH (1u << 2)  /* -w, --width BITS */
#define OPT_BAR (1u << 3)    /* -b, --bar BAR */
#define OPT_PAGE_SIZE (1u << 4)   /* --page-size 4k|2m|1g */
#define OPT_NODE (1u << 5)        /* --node N */
#define OPT_DMA_BITS (1u << 6)    /* --dma-bits N */
#define OPT_SIZE (1u << 7)        /* --size BYTES */
#define OPT_ROUNDS (1u << 8)      /* --rounds N */
#define OPT_NEGATIVE (1u << 9)    /* --negative */
#define OPT_SMALL_PAGES (1u << 10) /* --small-pages */
#define OPT_DEPTH (1u << 11)      /* --depth N */
#define OPT_BATCH (1u << 12)      /* --batch N */
#define OPT_COUNT (1u << 13)      /* --count N */
#define OPT_OFFSET (1u << 14)     /* --offset N */
#define OPT_VERIFY (1u << 15)     /* --verify */
#define OPT_FILE (1u << 16)       /* --file PATH */
#define OPT_IRQ_TYPE (1u << 17)   /* --type msix|msi|intx */
#define OPT_VECTOR (1u << 18)     /* --vector N */
#define OPT_TRIGGER (1u << 19)    /* --trigger OFFSET=VALUE */
#define OPT_ACK (1u << 20)        /* --ack OFFSET=VALUE */
#define OPT_TIMEOUT (1u << 21)    /* --timeout-ms N */
#define OPT_EXPECT (1u << 22)     /* --expect VENDOR:DEVICE */
#define OPT_DEADLINE (1u << 23)   /* --deadline SECONDS */
#define OPT_ENGINE (1u << 24)     /* --engine NAME */
#define OPT_MEMORY (1u << 25)     /* --memory alloc|anon|memfd */
#define OPT_MEMLOCK (1u << 26)    /* --memlock SIZE */
#define OPT_VF_TOKEN (1u << 27)   /* --vf-token UUID */

struct command;

/**
 * struct invocation - one parsed command line
 * @cmd: the command being run
 * @device: the -d argument as typed (not validated), or NULL
 * @json: --json was given
 * @width: the -w argument as typed, or NULL
 * @bar: the -b argument as typed, or NULL
 * @page_size: the --page-size argument as typed, or NULL
 * @node: the --node argument as typed, or NULL
 * @dma_bits: the --dma-bits argument as typed, or NULL
 * @size: the --size argument as typed, or NULL
 * @rounds: the --rounds argument as typed, or NULL
 * @negative: --negative was given
 * @small_pages: --small-pages was given
 * @depth: the --depth argument as typed, or NULL
 * @batch: the --batch argument as typed, or NULL
 * @count: the --count argument as typed, or NULL
 * @offset: the --offset argument as typed, or NULL
 * @verify: --verify was given
 * @file: the --file argument as typed, or NULL
 * @irq_type: the --type argument as typed, or NULL
 * @vector: the --vector argument as typed, or NULL
 * @trigger: the --trigger argument as typed, or NULL
 * @ack: the --ack argument as typed, or NULL
 * @timeout_ms: the --timeout-ms argument as typed, or NULL
 * @expect: the --expect argument as typed, or NULL
 * @deadline: the --deadline argument as typed, or NULL
 * @engine: the --engine argument as typed, or NULL
 * @memory: the --memory argument as typed, or NULL
 * @memlock: the --memlock argument as typed, or NULL
 * @vf_token: the --vf-token argument as typed, or NULL
 * @argc: number of positional arguments (the command name excluded)
 * @argv: the positional arguments
 */
struct invocation {
	const struct command *cmd;
	const char *device;
	bool json;
	const char *width;
	const char *bar;
	const char *page_size;
	const char *node;
	const char *dma_bits;
	const char *size;
	const char *rounds;
	bool negative;
	bool small_pages;
	const char *depth;
	const char *batch;
	const char *count;
	const char *offset;
	bool verify;
	const char *file;
	const char *irq_type;
	const char *vector;
	const char *trigger;
	const char *ack;
	const char *timeout_ms;
	const char *expect;
	const char *deadline;
	const char *engine;
	const char *memory;
	const char *memlock;
	const char *vf_token;
	int argc;
	char **argv;
};

/**
 * struct command - one entry of the command table
 * @name: what the user types
 * @args: synopsis of the positional arguments, "" when none
 * @summary: one line for "fpgactl --help"
 * @details: more text for "fpgactl COMMAND --help", or NULL
 * @options: OPT_* accepted after the command name
 * @model: -d also accepts the software model ("model[:OPTIONS]")
 * @min_args: fewest positional arguments
 * @max_args: most positional arguments
 * @run: does the work; returns an exit status (enum exit_status)
 */
struct command {
	const char *name;
	const char *args;
	const char *summary;
	const char *details;
	unsigned int options;
	bool model;
	int min_args;
	int max_args;
	int (*run)(const struct invocation *inv);
};

extern const struct command cmd_list;
extern const struct command cmd_bind;
extern const struct command cmd_unbind;
extern const struct command cmd_info;
extern const struct command cmd_peek;
extern const struct command cmd_poke;
extern const struct command cmd_dump;
extern const struct command cmd_reset;
extern const struct command cmd_doctor;
extern const struct command cmd_dma_plan;
extern const struct command cmd_dma_test;
extern const struct command cmd_grant;
extern const struct command cmd_sriov;
extern const struct command cmd_bench;
extern const struct command cmd_selftest;
extern const struct command cmd_load;
extern const struct command cmd_save;
extern const struct command cmd_irq_wait;
extern const struct command cmd_reprogram;
extern const struct command cmd_remove;
extern const struct command cmd_rescan;

#endif
