// SPDX-License-Identifier: MIT
/*
 * fpgactl: command-line front end of libfpgactl.
 *
 * main.c parses the global options, finds the command, parses the options
 * that follow the command name, checks the argument count, installs the log
 * hook and runs the command.  Every usage error is one line on stderr and
 * exit status 2, before anything is touched.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fpgactl.h>

#include "commands.h"
#include "config.h"
#include "util.h"

static int run_help(const struct invocation *inv);

static const struct command cmd_help = {
	.name = "help",
	.args = "[COMMAND]",
	.summary = "show the help of fpgactl or of one command",
	.min_args = 0,
	.max_args = 1,
	.run = run_help,
};

static const struct command *const commands[] = {
	&cmd_list,   &cmd_bind,	    &cmd_unbind, &cmd_info,  &cmd_peek,
	&cmd_poke,   &cmd_dump,	    &cmd_reset,	 &cmd_doctor, &cmd_dma_plan,
	&cmd_dma_test, &cmd_grant, &cmd_sriov, &cmd_selftest, &cmd_load, &cmd_save, &cmd_irq_wait,
	&cmd_reprogram, &cmd_remove, &cmd_rescan,
	&cmd_bench, &cmd_help,
};

/* Option values without a short form. */
enum {
	OPT_VAL_JSON = 256,
	OPT_VAL_PAGE_SIZE,
	OPT_VAL_NODE,
	OPT_VAL_DMA_BITS,
	OPT_VAL_SIZE,
	OPT_VAL_ROUNDS,
	OPT_VAL_NEGATIVE,
	OPT_VAL_SMALL_PAGES,
	OPT_VAL_DEPTH,
	OPT_VAL_BATCH,
	OPT_VAL_COUNT,
	OPT_VAL_OFFSET,
	OPT_VAL_VERIFY,
	OPT_VAL_FILE,
	OPT_VAL_IRQ_TYPE,
	OPT_VAL_VECTOR,
	OPT_VAL_TRIGGER,
	OPT_VAL_ACK,
	OPT_VAL_TIMEOUT,
	OPT_VAL_EXPECT,
	OPT_VAL_DEADLINE,
	OPT_VAL_ENGINE,
	OPT_VAL_MEMORY,
	OPT_VAL_MEMLOCK,
	OPT_VAL_VF_TOKEN,
};

/* Options accepted after a command name, as getopt_long() wants them. */
static const struct option command_long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "device", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPT_VAL_JSON },
	{ "width", required_argument, NULL, 'w' },
	{ "bar", required_argument, NULL, 'b' },
	{ "page-size", required_argument, NULL, OPT_VAL_PAGE_SIZE },
	{ "node", required_argument, NULL, OPT_VAL_NODE },
	{ "dma-bits", required_argument, NULL, OPT_VAL_DMA_BITS },
	{ "size", required_argument, NULL, OPT_VAL_SIZE },
	{ "rounds", required_argument, NULL, OPT_VAL_ROUNDS },
	{ "negative", no_argument, NULL, OPT_VAL_NEGATIVE },
	{ "small-pages", no_argument, NULL, OPT_VAL_SMALL_PAGES },
	{ "depth", required_argument, NULL, OPT_VAL_DEPTH },
	{ "batch", required_argument, NULL, OPT_VAL_BATCH },
	{ "count", required_argument, NULL, OPT_VAL_COUNT },
	{ "offset", required_argument, NULL, OPT_VAL_OFFSET },
	{ "verify", no_argument, NULL, OPT_VAL_VERIFY },
	{ "file", required_argument, NULL, OPT_VAL_FILE },
	{ "type", required_argument, NULL, OPT_VAL_IRQ_TYPE },
	{ "vector", required_argument, NULL, OPT_VAL_VECTOR },
	{ "trigger", required_argument, NULL, OPT_VAL_TRIGGER },
	{ "ack", required_argument, NULL, OPT_VAL_ACK },
	{ "timeout-ms", required_argument, NULL, OPT_VAL_TIMEOUT },
	{ "expect", required_argument, NULL, OPT_VAL_EXPECT },
	{ "deadline", required_argument, NULL, OPT_VAL_DEADLINE },
	{ "engine", required_argument, NULL, OPT_VAL_ENGINE },
	{ "memory", required_argument, NULL, OPT_VAL_MEMORY },
	{ "memlock", required_argument, NULL, OPT_VAL_MEMLOCK },
	{ "vf-token", required_argument, NULL, OPT_VAL_VF_TOKEN },
	{ NULL, 0, NULL, 0 },
};
/* Leading ":": report a missing argument apart from an unknown option. */
static const char command_short_options[] = ":hvd:w:b:";

/**
 * struct option_doc - how an optional command option is shown in the help
 * @mask: OPT_* bit of &struct command.options
 * @synopsis: as shown in the usage line
 * @help: line of the option list
 */
struct option_doc {
	unsigned int mask;
	const char *synopsis;
	const char *help;
};

static const struct option_doc option_docs[] = {
	{ OPT_DEVICE, "[-d DEVICE]",
	  "  -d, --device DEVICE  PCI address, dddd:bb:dd.f or bb:dd.f\n" },
	{ OPT_WIDTH, "[-w 8|16|32|64]",
	  "  -w, --width BITS     access width in bits (default 32)\n" },
	{ OPT_BAR, "[-b BAR]", "  -b, --bar BAR        BAR number, 0..5 (default 0)\n" },
	{ OPT_SIZE, "[--size BYTES]", "      --size BYTES     bytes per buffer or transfer\n" },
	{ OPT_ROUNDS, "[--rounds N]", "      --rounds N       repetitions, at least 1\n" },
	{ OPT_NEGATIVE, "[--negative]",
	  "      --negative       also check that the IOMMU stops a stray DMA write\n" },
	{ OPT_PAGE_SIZE, "[--page-size 4k|2m|1g]",
	  "      --page-size SIZE pages backing the buffer: 4k, 2m (default) or 1g\n" },
	{ OPT_NODE, "[--node N]",
	  "      --node N         NUMA node of the buffer (default: the device's)\n" },
	{ OPT_DMA_BITS, "[--dma-bits N]",
	  "      --dma-bits N     address bits the device drives, 12..64 (default 64)\n" },
	{ OPT_SMALL_PAGES, "[--small-pages]",
	  "      --small-pages    fall back to 4 KiB pages when no hugepage is free\n" },
	{ OPT_DEPTH, "[--depth N]", "      --depth N        entries per ring, a power of two\n" },
	{ OPT_BATCH, "[--batch N]", "      --batch N        commands per submission\n" },
	{ OPT_COUNT, "[--count N]", "      --count N        commands (interrupts, samples) per run\n" },
	{ OPT_OFFSET, "[--offset N]",
	  "      --offset N       offset in the device's local memory (default 0)\n" },
	{ OPT_VERIFY, "[--verify]",
	  "      --verify         read the data back (READ commands and BAR2) and compare\n" },
	{ OPT_FILE, "[--file PATH]",
	  "      --file PATH      file to read (default: a temporary file)\n" },
	{ OPT_IRQ_TYPE, "[--type msix|msi|intx]",
	  "      --type TYPE      interrupt type: msix, msi or intx\n" },
	{ OPT_VECTOR, "[--vector N]", "      --vector N       vector number (default 0)\n" },
	{ OPT_TRIGGER, "[--trigger OFFSET=VALUE]",
	  "      --trigger OFFSET=VALUE  32-bit BAR0 write that makes the device interrupt\n" },
	{ OPT_ACK, "[--ack OFFSET=VALUE]",
	  "      --ack OFFSET=VALUE      32-bit BAR0 write after each interrupt\n" },
	{ OPT_TIMEOUT, "[--timeout-ms N]",
	  "      --timeout-ms N   longest wait, ms (irq-wait: per interrupt, default 1000;\n"
	  "                       unbind: for the device's users to close it, default none)\n" },
	{ OPT_EXPECT, "[--expect VENDOR:DEVICE]",
	  "      --expect V:D     ids the device must come back with (default: the same)\n" },
	{ OPT_DEADLINE, "[--deadline SECONDS]",
	  "      --deadline S     how long to wait for the device to come back (default 30)\n" },
	{ OPT_ENGINE, "[--engine NAME]",
	  "      --engine NAME    run only this engine (bench queue: fpgactl, io_uring, inline, uring_inline)\n" },
	{ OPT_MEMORY, "[--memory alloc|anon|memfd]",
	  "      --memory KIND    buffer: fpgactl_dma_alloc(), or the program's own memory\n"
	  "                       mapped with fpgactl_dma_map() (anon, memfd)\n" },
	{ OPT_MEMLOCK, "[--memlock SIZE]",
	  "      --memlock SIZE   DMA memory the user will map (e.g. 64M, 1G)\n" },
	{ OPT_VF_TOKEN, "[--vf-token UUID]",
	  "      --vf-token UUID  SR-IOV VF token (set on the PF with sriov --vf-token)\n" },
	{ OPT_JSON, "[--json]", "      --json           print JSON instead of text\n" },
};

/* The -d line of the commands that also work on the software model. */
#define MODEL_DEVICE_HELP                                                          \
	"  -d, --device DEVICE  PCI address, dddd:bb:dd.f or bb:dd.f, or 'model' or\n" \
	"                       'model:OPTIONS' for the software model (docs/model.md)\n"

/* The OPT_* bit that @opt needs, or 0 for options every command takes. */
static unsigned int option_mask(int opt)
{
	switch (opt) {
	case 'd':
		return OPT_DEVICE;
	case 'w':
		return OPT_WIDTH;
	case 'b':
		return OPT_BAR;
	case OPT_VAL_JSON:
		return OPT_JSON;
	case OPT_VAL_PAGE_SIZE:
		return OPT_PAGE_SIZE;
	case OPT_VAL_NODE:
		return OPT_NODE;
	case OPT_VAL_DMA_BITS:
		return OPT_DMA_BITS;
	case OPT_VAL_SIZE:
		return OPT_SIZE;
	case OPT_VAL_ROUNDS:
		return OPT_ROUNDS;
	case OPT_VAL_NEGATIVE:
		return OPT_NEGATIVE;
	case OPT_VAL_SMALL_PAGES:
		return OPT_SMALL_PAGES;
	case OPT_VAL_DEPTH:
		return OPT_DEPTH;
	case OPT_VAL_BATCH:
		return OPT_BATCH;
	case OPT_VAL_COUNT:
		return OPT_COUNT;
	case OPT_VAL_OFFSET:
		return OPT_OFFSET;
	case OPT_VAL_VERIFY:
		return OPT_VERIFY;
	case OPT_VAL_FILE:
		return OPT_FILE;
	case OPT_VAL_IRQ_TYPE:
		return OPT_IRQ_TYPE;
	case OPT_VAL_VECTOR:
		return OPT_VECTOR;
	case OPT_VAL_TRIGGER:
		return OPT_TRIGGER;
	case OPT_VAL_ACK:
		return OPT_ACK;
	case OPT_VAL_TIMEOUT:
		return OPT_TIMEOUT;
	case OPT_VAL_EXPECT:
		return OPT_EXPECT;
	case OPT_VAL_DEADLINE:
		return OPT_DEADLINE;
	case OPT_VAL_ENGINE:
		return OPT_ENGINE;
	case OPT_VAL_MEMORY:
		return OPT_MEMORY;
	case OPT_VAL_MEMLOCK:
		return OPT_MEMLOCK;
	case OPT_VAL_VF_TOKEN:
		return OPT_VF_TOKEN;
	default:
		return 0;
	}
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void print_main_usage(FILE *out)
{
	fputs("usage: fpgactl [-v] [-d DEVICE] [--iommu BACKEND] COMMAND [ARGS...]\n"
	      "       fpgactl COMMAND --help\n"
	      "       fpgactl --version\n"
	      "\n"
	      "Drive a PCIe device from user space through VFIO.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Global options:\n"
	      "  -d, --device DEVICE  PCI address of the device, dddd:bb:dd.f or bb:dd.f;\n"
	      "                       'model[:OPTIONS]', the software model of the\n"
	      "                       soft-core, for info, peek, poke, dump, reset,\n"
	      "                       selftest, load, save, irq-wait and bench\n"
	      "                       queue|wakeup|stream\n"
	      "      --iommu BACKEND  auto, legacy (VFIO container) or iommufd; default:\n"
	      "                       FPGACTL_IOMMU from the environment, else auto\n"
	      "  -v, --verbose        also print the library's informational messages\n"
	      "  -h, --help           print this help\n"
	      "  -V, --version        print the versions of fpgactl and libfpgactl\n"
	      "\n"
	      "Numbers are decimal or 0x-prefixed hexadecimal.\n"
	      "FPGACTL_SYSFS_ROOT and FPGACTL_DEV_ROOT replace /sys and /dev.\n"
	      "Exit status: 0 success, 1 the operation failed, 2 bad usage (nothing done).\n",
	      out);
}

static void print_command_synopsis(FILE *out, const struct command *cmd)
{
	fprintf(out, "usage: fpgactl [-v] %s", cmd->name);
	for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
		if (cmd->options & option_docs[i].mask)
			fprintf(out, " %s", option_docs[i].synopsis);
	fprintf(out, "%s%s\n", *cmd->args ? " " : "", cmd->args);
}

static void print_command_usage(FILE *out, const struct command *cmd)
{
	print_command_synopsis(out, cmd);
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)cmd->summary[0]),
		cmd->summary + 1);
	if (cmd->details)
		fprintf(out, "\n%s", cmd->details);
	fputs("\nOptions:\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++) {
		if (!(cmd->options & option_docs[i].mask))
			continue;
		if (option_docs[i].mask == OPT_DEVICE && cmd->model)
			fputs(MODEL_DEVICE_HELP, out);
		else
			fputs(option_docs[i].help, out);
	}
	fputs("  -v, --verbose        also print the library's informational messages\n"
	      "  -h, --help           print this help\n",
	      out);
}

static int run_help(const struct invocation *inv)
{
	const struct command *cmd;

	if (!inv->argc) {
		print_main_usage(stdout);
		return STATUS_OK;
	}
	cmd = find_command(inv->argv[0]);
	if (!cmd)
		return usage_error("help", "unknown command '%s'", inv->argv[0]);
	print_command_usage(stdout, cmd);
	return STATUS_OK;
}

static void log_to_stderr(void *arg, int level, const char *msg)
{
	fprintf(stderr, "fpgactl: %s\n", msg);
}

static void install_log_hook(bool verbose)
{
	fpgactl_set_log(log_to_stderr, NULL,
			verbose ? FPGACTL_LOG_DEBUG : FPGACTL_LOG_WARNING);
}

/* Settings of the command line as a whole. */
struct cli_state {
	bool verbose;
	bool help;
	struct invocation inv;
};

/*
 * Report the option getopt_long() just rejected.  @argv and @optind say
 * where it was; @opt is what getopt_long() returned (':' or '?').
 */
static int bad_option(const char *cmd, int opt, char **argv)
{
	const char *text = argv[optind - 1];

	if (opt == ':')
		return usage_error(cmd, "option '%s' needs an argument", text);
	if (optopt >= '0' && optopt <= '9')
		return usage_error(cmd, "unknown option '-%c' (negative numbers are not accepted)",
				   optopt);
	if (optopt)
		return usage_error(cmd, "unknown option '-%c'", optopt);
	return usage_error(cmd, "unknown option '%s'", text);
}

/* The option as the user spelled it, for messages. */
static void option_text(char *buf, size_t size, int opt, int long_index)
{
	if (long_index >= 0)
		snprintf(buf, size, "--%s", command_long_options[long_index].name);
	else
		snprintf(buf, size, "-%c", opt);
}

/* Store one accepted option into @state. */
static void store_option(struct cli_state *state, int opt)
{
	switch (opt) {
	case 'h':
		state->help = true;
		break;
	case 'v':
		state->verbose = true;
		break;
	case 'd':
		state->inv.device = optarg;
		break;
	case 'w':
		state->inv.width = optarg;
		break;
	case 'b':
		state->inv.bar = optarg;
		break;
	case OPT_VAL_JSON:
		state->inv.json = true;
		break;
	case OPT_VAL_PAGE_SIZE:
		state->inv.page_size = optarg;
		break;
	case OPT_VAL_NODE:
		state->inv.node = optarg;
		break;
	case OPT_VAL_DMA_BITS:
		state->inv.dma_bits = optarg;
		break;
	case OPT_VAL_SIZE:
		state->inv.size = optarg;
		break;
	case OPT_VAL_ROUNDS:
		state->inv.rounds = optarg;
		break;
	case OPT_VAL_NEGATIVE:
		state->inv.negative = true;
		break;
	case OPT_VAL_SMALL_PAGES:
		state->inv.small_pages = true;
		break;
	case OPT_VAL_DEPTH:
		state->inv.depth = optarg;
		break;
	case OPT_VAL_BATCH:
		state->inv.batch = optarg;
		break;
	case OPT_VAL_COUNT:
		state->inv.count = optarg;
		break;
	case OPT_VAL_OFFSET:
		state->inv.offset = optarg;
		break;
	case OPT_VAL_VERIFY:
		state->inv.verify = true;
		break;
	case OPT_VAL_FILE:
		state->inv.file = optarg;
		break;
	case OPT_VAL_IRQ_TYPE:
		state->inv.irq_type = optarg;
		break;
	case OPT_VAL_VECTOR:
		state->inv.vector = optarg;
		break;
	case OPT_VAL_TRIGGER:
		state->inv.trigger = optarg;
		break;
	case OPT_VAL_ACK:
		state->inv.ack = optarg;
		break;
	case OPT_VAL_TIMEOUT:
		state->inv.timeout_ms = optarg;
		break;
	case OPT_VAL_EXPECT:
		state->inv.expect = optarg;
		break;
	case OPT_VAL_DEADLINE:
		state->inv.deadline = optarg;
		break;
	case OPT_VAL_ENGINE:
		state->inv.engine = optarg;
		break;
	case OPT_VAL_MEMORY:
		state->inv.memory = optarg;
		break;
	case OPT_VAL_MEMLOCK:
		state->inv.memlock = optarg;
		break;
	case OPT_VAL_VF_TOKEN:
		state->inv.vf_token = optarg;
		break;
	}
}

/*
 * Parse the options after the command name (argv[0] is the name); options
 * and arguments may be mixed, "--" ends the options.
 */
static int parse_command_options(struct cli_state *state, int argc, char **argv)
{
	const struct command *cmd = state->inv.cmd;
	char text[64];
	int opt, long_index = -1;

	optind = 0; /* glibc: start over, with argument permutation */
	while ((opt = getopt_long(argc, argv, command_short_options,
				  command_long_options, &long_index)) != -1) {
		if (opt == '?' || opt == ':')
			return bad_option(cmd->name, opt, argv);
		if ((option_mask(opt) & cmd->options) != option_mask(opt)) {
			option_text(text, sizeof(text), opt, long_index);
			return usage_error(cmd->name, "unknown option '%s'", text);
		}
		store_option(state, opt);
		long_index = -1;
	}
	state->inv.argc = argc - optind;
	state->inv.argv = argv + optind;
	return STATUS_OK;
}

static int check_argument_count(const struct invocation *inv)
{
	const struct command *cmd = inv->cmd;

	if (inv->argc < cmd->min_args)
		return usage_error(cmd->name, "missing arguments (usage: fpgactl %s %s)",
				   cmd->name, cmd->args);
	if (inv->argc > cmd->max_args)
		return usage_error(cmd->name, "unexpected argument '%s'",
				   inv->argv[cmd->max_args]);
	return STATUS_OK;
}

static const struct option global_long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "device", required_argument, NULL, 'd' },
	{ "iommu", required_argument, NULL, 'I' },
	{ NULL, 0, NULL, 0 },
};

/*
 * --iommu BACKEND: the library's FPGACTL_IOMMU for this run (what
 * FPGACTL_IOMMU_AUTO stands for, lib/iommu/iommu_env.c), so that every device
 * the command opens, doctor's included, uses it.
 */
static int set_iommu(const char *backend)
{
	if (strcmp(backend, "auto") && strcmp(backend, "legacy") &&
	    strcmp(backend, "iommufd"))
		return usage_error(NULL, "--iommu '%s': the backends are auto, legacy "
				   "and iommufd", backend);
	if (setenv("FPGACTL_IOMMU", backend, 1)) {
		perror("fpgactl: setenv FPGACTL_IOMMU");
		return STATUS_FAILED;
	}
	return -1;
}

static int print_version(void)
{
	printf("fpgactl %s (libfpgactl %s)\n", FPGACTL_VERSION, fpgactl_version());
	return STATUS_OK;
}

/*
 * Parse the options before the command name.  Return -1 to go on with the
 * command at argv[optind], or the exit status.
 */
static int parse_global_options(struct cli_state *state, int argc, char **argv)
{
	int opt, status;

	while ((opt = getopt_long(argc, argv, "+:hVvd:", global_long_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_main_usage(stdout);
			return STATUS_OK;
		case 'V':
			return print_version();
		case 'v':
		case 'd':
			store_option(state, opt);
			break;
		case 'I':
			status = set_iommu(optarg);
			if (status >= 0)
				return status;
			break;
		default:
			return bad_option(NULL, opt, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given (try 'fpgactl --help')");
	return -1;
}

int main(int argc, char **argv)
{
	struct cli_state state = { 0 };
	int status;

	opterr = 0;
	status = parse_global_options(&state, argc, argv);
	if (status >= 0)
		return status;
	argc -= optind;
	argv += optind;
	state.inv.cmd = find_command(argv[0]);
	if (!state.inv.cmd)
		return usage_error(NULL, "unknown command '%s' (try 'fpgactl --help')",
				   argv[0]);
	status = parse_command_options(&state, argc, argv);
	if (status)
		return status;
	/* A -d given before the command must mean something to it, too. */
	if (state.inv.device && !(state.inv.cmd->options & OPT_DEVICE))
		return usage_error(state.inv.cmd->name, "takes no device (-d %s)",
				   state.inv.device);
	if (state.help) {
		print_command_usage(stdout, state.inv.cmd);
		return STATUS_OK;
	}
	status = check_argument_count(&state.inv);
	if (status)
		return status;
	install_log_hook(state.verbose);
	return state.inv.cmd->run(&state.inv);
}
