// SPDX-License-Identifier: MIT
//
// The RTL bridge's store order (examples/softcore-rtl/sim/bridge_order.h),
// with a scripted host instead of a thread, so that the interleaving that
// broke CI once (rtl-model test_reset: QERR) happens every time: the scan
// reads word 0 before the host writes it, and word 1 after the host wrote
// both.  The design must still get word 0's new value first.
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "bridge_order.h"

namespace {

int failures;

void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

struct Bar {
	std::vector<uint32_t> mem, last;
	std::vector<std::pair<size_t, uint32_t>> delivered;
	// Stores the host makes, in order, just before the scan's load of
	// word @at (the first time it is loaded).
	size_t at = SIZE_MAX;
	std::vector<std::pair<size_t, uint32_t>> host;

	explicit Bar(size_t n) : mem(n), last(n) {}

	bool pass()
	{
		return bridge_forward(
			mem.size(), last.data(),
			[this](size_t i) {
				if (i == at) {
					for (auto &s : host)
						mem[s.first] = s.second;
					at = SIZE_MAX;
				}
				return mem[i];
			},
			[this](size_t i, uint32_t v) {
				last[i] = v;
				delivered.emplace_back(i, v);
			});
	}
};

// SIZE (word 0) then QCTRL.QEN (word 1), both stored while the scan sat
// between its loads of word 0 and word 1.
void test_earlier_word_first()
{
	Bar b(3);

	b.at = 1;
	b.host = { { 0, 64 }, { 1, 1 } };
	check(b.pass(), "a pass that saw a change says so");
	check(b.delivered.size() == 2, "both stores delivered in the same pass");
	check(b.delivered.size() == 2 && b.delivered[0] == std::make_pair<size_t, uint32_t>(0, 64) &&
	      b.delivered[1] == std::make_pair<size_t, uint32_t>(1, 1),
	      "SIZE reaches the design before QCTRL.QEN");
	b.delivered.clear();
	check(!b.pass() && b.delivered.empty(), "nothing delivered twice");
}

// A store to a later word only, and one to a word after the change seen.
void test_plain_changes()
{
	Bar b(3);

	b.mem[2] = 7;
	check(b.pass(), "a change is seen");
	check(b.delivered.size() == 1 && b.delivered[0].first == 2 && b.delivered[0].second == 7,
	      "a single change delivered once");
	b.delivered.clear();
	b.at = 1;
	b.host = { { 2, 8 } };
	b.mem[0] = 5;
	check(b.pass(), "changes are seen");
	check(b.delivered.size() == 2 && b.delivered[0].first == 0 && b.delivered[1].first == 2,
	      "ascending order when the host's stores were");
	b.delivered.clear();
	check(!b.pass(), "a quiet pass delivers nothing");
}

} // namespace

int main()
{
	test_earlier_word_first();
	test_plain_changes();
	if (failures)
		return 1;
	std::printf("bridge order: ok\n");
	return 0;
}
