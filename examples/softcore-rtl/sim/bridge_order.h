// SPDX-License-Identifier: MIT
//
// The order in which the soft-core's PCIe bridge model (plugin.cpp) hands
// the host's BAR0 stores to the design.  On hardware the host's stores are
// PCIe posted writes and reach the device in the order they were made; the
// model only sees BAR memory change, scanning the host-writable words in
// ascending offset order.  A store to word j < i made before a store to
// word i can be missed by a pass that read word j before the host wrote it
// and reads word i after (say a queue's SIZE, then its QCTRL.QEN): so a
// change found at word i is delivered after the changes now visible in the
// words before it.  Kept apart from plugin.cpp (which needs Verilator) so
// that tests/rtl/test_bridge_order.cpp can drive it with a scripted host.
#ifndef SOFTCORE_SIM_BRIDGE_ORDER_H
#define SOFTCORE_SIM_BRIDGE_ORDER_H

#include <cstddef>
#include <cstdint>

// One pass over @n watched words.  @last[i] is word i's value as last
// delivered (deliver() updates it); load(i) reads word i with acquire
// ordering, so what the host stored before it is visible to the loads of
// the words before it that follow; deliver(i, v) hands word i's new value
// to the design.  Returns true when anything was delivered.
template <typename Load, typename Deliver>
bool bridge_forward(size_t n, const uint32_t *last, Load load, Deliver deliver)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		uint32_t v = load(i);

		if (v == last[i])
			continue;
		any = true;
		for (size_t j = 0; j < i; j++) {
			uint32_t w = load(j);

			if (w != last[j])
				deliver(j, w);
		}
		deliver(i, v);
	}
	return any;
}

#endif
