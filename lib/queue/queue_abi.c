// SPDX-License-Identifier: MIT
/*
 * The data path's inline functions of include/fpgactl/queue.h compiled once
 * as exported functions: fpgactl_queue_get_sqe(), fpgactl_queue_submit()
 * and fpgactl_queue_reap() keep their LIBFPGACTL_0.1 symbols for
 * applications built before they became inline, and for bindings that
 * cannot call an inline function (FPGACTL_NO_INLINE).  The same source as
 * the inline copies, so both behave alike.
 */
#define FPGACTL_QUEUE_INLINE __attribute__((visibility("default")))

#include "core/core.h"
