/* SPDX-License-Identifier: MIT */
/* The benchmarks of fpgactl bench, one file each. */
#ifndef FPGACTL_TOOL_BENCH_H
#define FPGACTL_TOOL_BENCH_H

#include "commands.h"

/* bench queue (cmd_bench_queue.c): NOPs through the soft-core's queues. */
int run_bench_queue(const struct invocation *inv);

/* bench wakeup (cmd_bench_wakeup.c): completion wake-up latency, three ways. */
int run_bench_wakeup(const struct invocation *inv);

/* bench stream (cmd_bench_stream.c): file -> DMA buffer, io_uring against read(). */
int run_bench_stream(const struct invocation *inv);

#endif
