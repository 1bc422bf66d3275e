// SPDX-License-Identifier: MIT
//
// The soft-core RTL as a libfpgactl simulated device (docs/simdev.md):
// a Verilator model of rtl/softcore.sv clocked by a thread of its own, with
// the PCIe bridge modelled around it.
//
//  * BAR0 is memory the library maps (the queue engine writes doorbells with
//    plain stores, as on hardware).  The bridge thread watches the words the
//    host may write (CTRL, SCRATCH, queue set-up, doorbells) and turns every
//    change into an AXI4-Lite write, in ascending offset order; it mirrors
//    the read-only registers into that memory with AXI4-Lite reads whenever
//    the design flags a change (o_reg_event), before any DMA write of the
//    design becomes visible to the host.  So a completion is never seen
//    before the register values that preceded it.
//  * BAR2 (local memory) is not mapped: fpgactl_region_read/write reach it
//    as AXI4-Lite transactions on the s_lmem port.
//  * The AXI4 master's bursts are served from host memory through the
//    library's DMA services (IOMMU context mappings): a burst outside one
//    mapping gets SLVERR (reads: every beat; writes: the B response).
//    Latency model (options): the first read beat rd_lat cycles after the
//    AR handshake, then one beat per cycle; B wr_lat cycles after the last
//    W beat (0, 0 by default: an ideal host).
//  * An MSI-X request is acknowledged the clock it is seen and signals the
//    vector's eventfd.
//
// Options (sim:/path/libsoftcore-sim.so:KEY=VALUE,...): rd_lat, wr_lat,
// slow=US (every read burst's data arrives no sooner than US µs of wall
// clock after its AR: a slow device, for deadline tests), spin (µs of busy
// polling after the last activity, 50), idle (µs slept between polls after
// that, 50), trace=PATH (cycle-stamped doorbells, DMA
// bursts and interrupts, for tools/rtl-figures.py).
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>

#include "Vsoftcore.h"
#include "bridge_order.h"
#include "verilated.h"
#include "fpgactl/simdev.h"

#ifndef SC_NQ
#error "build with -DSC_NQ=... -DSC_LMEM=... -DSC_DW=... matching the RTL parameters"
#endif

namespace {

constexpr uint32_t BAR0_SIZE = 64 << 10;
constexpr unsigned W = SC_DW / 8;
constexpr int LOG_ERR = 3, LOG_INFO = 6;

struct Req {
	enum { NONE, BAR2_READ, BAR2_WRITE, RESET } op = NONE;
	uint64_t off = 0;
	uint8_t data[8] = {};
	size_t len = 0;
	int ret = 0;
	bool done = false;
};

struct Dev {
	const fpgactl_sim_host *host = nullptr;
	VerilatedContext *vctx = nullptr;
	Vsoftcore *top = nullptr;
	uint8_t *bar0 = nullptr;
	std::vector<uint32_t> watch;	// host-writable BAR0 words, ascending
	std::vector<uint32_t> last;	// their values as forwarded
	std::vector<uint32_t> ro;	// read-only words mirrored from the design
	uint64_t cycle = 0;
	bool reg_dirty = true;
	unsigned rd_lat = 0, wr_lat = 0;
	uint64_t slow_ns = 0, rd_ready_ns = 0;	// slow=: wall-clock delay of reads
	bool rd_hold = false;
	uint64_t spin_ns = 50000, idle_ns = 50000;
	FILE *trace = nullptr;

	// DMA slave
	bool rd_busy = false, rd_err = false;
	uint64_t rd_addr = 0;
	unsigned rd_beats = 0, rd_idx = 0, rd_wait = 0;
	std::vector<uint8_t> rd_buf;
	bool aw_busy = false, w_done = false, b_pend = false, b_err = false, commit = false;
	uint64_t aw_addr = 0;
	unsigned aw_beats = 0, w_idx = 0, b_wait = 0;
	std::vector<uint8_t> w_buf, w_strb;

	// application threads -> bridge thread
	std::mutex mu;
	std::condition_variable cv;
	std::atomic<Req *> req{nullptr};
	std::atomic<bool> stop{false};
	std::thread thr;
	std::chrono::steady_clock::time_point t0;
	double busy_s = 0;
};

uint64_t now_ns()
{
	return std::chrono::duration_cast<std::chrono::nanoseconds>(
		       std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint32_t ld32(const Dev *d, uint32_t off)
{
	return __atomic_load_n(reinterpret_cast<uint32_t *>(d->bar0 + off), __ATOMIC_ACQUIRE);
}

void st32(Dev *d, uint32_t off, uint32_t v)
{
	__atomic_store_n(reinterpret_cast<uint32_t *>(d->bar0 + off), v, __ATOMIC_RELEASE);
}

void logf(Dev *d, int level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d->host->log(d->host->ctx, level, buf);
}

// ---- one clock -------------------------------------------------------------------

void drive_dma(Dev *d)
{
	Vsoftcore *t = d->top;

	t->m_axi_arready = !d->rd_busy;
	t->m_axi_rvalid = d->rd_busy && !d->rd_wait && !d->rd_hold;
	t->m_axi_rlast = d->rd_idx + 1 == d->rd_beats;
	t->m_axi_rresp = d->rd_err ? 2 : 0;
	if (d->rd_busy)
		std::memcpy(&t->m_axi_rdata, &d->rd_buf[d->rd_idx * W], W);
	t->m_axi_awready = !d->aw_busy;
	t->m_axi_wready = d->aw_busy && !d->w_done;
	t->m_axi_bvalid = d->b_pend && !d->commit && !d->b_wait;
	t->m_axi_bresp = d->b_err ? 2 : 0;
	t->msix_ack = t->msix_valid;
}

// A write burst is complete: it becomes visible when committed (after the
// register mirror is up to date), as runs of enabled bytes.
void commit_write(Dev *d)
{
	size_t n = d->w_buf.size(), i = 0;

	d->b_err = false;
	while (i < n) {
		size_t j;

		if (!d->w_strb[i]) {
			i++;
			continue;
		}
		for (j = i; j < n && d->w_strb[j]; j++)
			;
		if (d->host->dma_write(d->host->ctx, d->aw_addr + i, &d->w_buf[i], j - i))
			d->b_err = true;
		i = j;
	}
	d->commit = false;
	d->b_wait = d->wr_lat;
}

void tick(Dev *d)
{
	Vsoftcore *t = d->top;

	drive_dma(d);
	t->clk = 0;
	t->eval();
	// handshakes, sampled before the edge
	bool ar = t->m_axi_arvalid && t->m_axi_arready;
	bool r = t->m_axi_rvalid && t->m_axi_rready;
	bool aw = t->m_axi_awvalid && t->m_axi_awready;
	bool w = t->m_axi_wvalid && t->m_axi_wready;
	bool b = t->m_axi_bvalid && t->m_axi_bready;
	bool irq = t->msix_valid && t->msix_ack;
	uint64_t araddr = t->m_axi_araddr, awaddr = t->m_axi_awaddr;
	unsigned arlen = t->m_axi_arlen, awlen = t->m_axi_awlen;
	unsigned vec = t->msix_vector;
	uint8_t wdata[W];
	uint32_t wstrb = t->m_axi_wstrb;

	std::memcpy(wdata, &t->m_axi_wdata, W);
	t->clk = 1;
	t->eval();
	d->cycle++;
	if (t->o_reg_event)
		d->reg_dirty = true;

	if (d->rd_wait)
		d->rd_wait--;
	if (ar) {
		d->rd_busy = true;
		d->rd_addr = araddr;
		d->rd_beats = arlen + 1;
		d->rd_idx = 0;
		d->rd_wait = d->rd_lat;
		if (d->slow_ns) {
			d->rd_ready_ns = now_ns() + d->slow_ns;
			d->rd_hold = true;
		}
		d->rd_buf.assign(d->rd_beats * W, 0);
		d->rd_err = d->host->dma_read(d->host->ctx, araddr, d->rd_buf.data(),
					      d->rd_buf.size()) != 0;
		if (d->rd_err)
			std::fill(d->rd_buf.begin(), d->rd_buf.end(), 0);
		if (d->trace)
			std::fprintf(d->trace, "%llu r %llx %u\n", (unsigned long long)d->cycle,
				     (unsigned long long)araddr, d->rd_beats * W);
	}
	if (r && ++d->rd_idx == d->rd_beats)
		d->rd_busy = false;
	if (aw) {
		d->aw_busy = true;
		d->aw_addr = awaddr;
		d->aw_beats = awlen + 1;
		d->w_idx = 0;
		d->w_done = false;
		d->w_buf.assign(d->aw_beats * W, 0);
		d->w_strb.assign(d->aw_beats * W, 0);
	}
	if (w) {
		for (unsigned i = 0; i < W; i++) {
			d->w_buf[d->w_idx * W + i] = wdata[i];
			d->w_strb[d->w_idx * W + i] = (wstrb >> i) & 1;
		}
		if (++d->w_idx == d->aw_beats) {
			d->w_done = true;
			d->b_pend = true;
			d->commit = true;
			if (d->trace) {
				unsigned n = 0;

				for (uint8_t s : d->w_strb)
					n += s;
				std::fprintf(d->trace, "%llu w %llx %u\n", (unsigned long long)d->cycle,
					     (unsigned long long)d->aw_addr, n);
			}
		}
	}
	if (d->b_wait && !d->commit)
		d->b_wait--;
	if (b) {
		d->b_pend = false;
		d->aw_busy = false;
	}
	if (irq) {
		d->host->irq(d->host->ctx, vec);
		if (d->trace)
			std::fprintf(d->trace, "%llu i %u\n", (unsigned long long)d->cycle, vec);
	}
}

// ---- AXI4-Lite master (blocking: clocks the design until done) --------------------

void bar0_write(Dev *d, uint32_t off, uint32_t val)
{
	Vsoftcore *t = d->top;

	t->s_axil_awaddr = off;
	t->s_axil_wdata = val;
	t->s_axil_wstrb = 0xf;
	t->s_axil_awvalid = 1;
	t->s_axil_wvalid = 1;
	t->s_axil_bready = 1;
	for (;;) {
		t->clk = 0;
		t->eval();
		bool hs = t->s_axil_awready;
		tick(d);
		if (hs)
			break;
	}
	if (d->trace && off >= 0x1000)
		std::fprintf(d->trace, "%llu d %x %u\n", (unsigned long long)d->cycle, off, val);
	t->s_axil_awvalid = 0;
	t->s_axil_wvalid = 0;
	while (!t->s_axil_bvalid)
		tick(d);
	tick(d);	// B handshake
	t->s_axil_bready = 0;
}

uint32_t bar0_read(Dev *d, uint32_t off)
{
	Vsoftcore *t = d->top;
	uint32_t v;

	t->s_axil_araddr = off;
	t->s_axil_arvalid = 1;
	t->s_axil_rready = 0;
	for (;;) {
		t->clk = 0;
		t->eval();
		bool hs = t->s_axil_arready;
		tick(d);
		if (hs)
			break;
	}
	t->s_axil_arvalid = 0;
	while (!t->s_axil_rvalid)
		tick(d);
	v = t->s_axil_rdata;
	t->s_axil_rready = 1;
	tick(d);
	t->s_axil_rready = 0;
	return v;
}

void lmem_access(Dev *d, Req *q)
{
	Vsoftcore *t = d->top;
	uint64_t word = q->off & ~(uint64_t)(W - 1);
	unsigned sh = q->off & (W - 1);
	uint8_t buf[W] = {};

	if (q->op == Req::BAR2_WRITE) {
		uint32_t strb = 0;

		std::memcpy(buf + sh, q->data, q->len);
		for (size_t i = 0; i < q->len; i++)
			strb |= 1u << (sh + i);
		t->s_lmem_awaddr = word;
		std::memcpy(&t->s_lmem_wdata, buf, W);
		t->s_lmem_wstrb = strb;
		t->s_lmem_awvalid = 1;
		t->s_lmem_wvalid = 1;
		t->s_lmem_bready = 1;
		for (;;) {
			t->clk = 0;
			t->eval();
			bool hs = t->s_lmem_awready;
			tick(d);
			if (hs)
				break;
		}
		t->s_lmem_awvalid = 0;
		t->s_lmem_wvalid = 0;
		while (!t->s_lmem_bvalid)
			tick(d);
		tick(d);
		t->s_lmem_bready = 0;
		return;
	}
	t->s_lmem_araddr = word;
	t->s_lmem_arvalid = 1;
	for (;;) {
		t->clk = 0;
		t->eval();
		bool hs = t->s_lmem_arready;
		tick(d);
		if (hs)
			break;
	}
	t->s_lmem_arvalid = 0;
	while (!t->s_lmem_rvalid)
		tick(d);
	std::memcpy(buf, &t->s_lmem_rdata, W);
	std::memcpy(q->data, buf + sh, q->len);
	t->s_lmem_rready = 1;
	tick(d);
	t->s_lmem_rready = 0;
}

// ---- the register mirror ------------------------------------------------------------

void mirror(Dev *d)
{
	d->reg_dirty = false;
	for (uint32_t off : d->ro)
		st32(d, off, bar0_read(d, off));
}

// Forward host writes to watched words; return true when any was.
// Hand the design the new value of watched word @i, @v.
void deliver(Dev *d, size_t i, uint32_t v)
{
	uint32_t off = d->watch[i];

	d->last[i] = v;
	bar0_write(d, off, v);
	if (off < 0x1000)
		d->reg_dirty = true;
	bool ctrl_off = off == 0x10 && !(v & 1);
	bool qctrl_off = off >= 0x100 && off < 0x800 && (off & 0x1f) == 0x14 && !(v & 1);
	if (!ctrl_off && !qctrl_off)
		return;
	// the design emptied the doorbells (and, for CTRL.EN = 0, cleared
	// every QEN): so does the mirror
	for (size_t j = 0; j < d->watch.size(); j++) {
		uint32_t o = d->watch[j];
		bool db = o >= 0x1000 &&
			  (ctrl_off || (o - 0x1000) / 8 == (off - 0x100) / 0x20);
		bool qc = ctrl_off && o >= 0x100 && o < 0x800 && (o & 0x1f) == 0x14;

		if (db) {
			st32(d, o, 0);
			d->last[j] = 0;
		} else if (qc) {
			__atomic_fetch_and(reinterpret_cast<uint32_t *>(d->bar0 + o), ~1u,
					   __ATOMIC_ACQ_REL);
			d->last[j] &= ~1u;
		}
	}
}

// The host's stores reach the design in the order it made them, as PCIe
// posted writes do (bridge_order.h; without it a pass could read a queue's
// SIZE old and its QCTRL new and enable the queue with the old size: QERR,
// seen once in CI's rtl-model test_reset).
bool forward(Dev *d)
{
	return bridge_forward(
		d->watch.size(), d->last.data(),
		[d](size_t i) { return ld32(d, d->watch[i]); },
		[d](size_t i, uint32_t v) { deliver(d, i, v); });
}

void do_reset(Dev *d)
{
	d->top->rst_n = 0;
	for (int i = 0; i < 4; i++)
		tick(d);
	d->top->rst_n = 1;
	tick(d);
	// the design's set-up registers are 0 again; SCRATCH survives
	for (size_t i = 0; i < d->watch.size(); i++) {
		if (d->watch[i] == 0x18)
			continue;
		st32(d, d->watch[i], 0);
		d->last[i] = 0;
	}
	mirror(d);
}

void serve_request(Dev *d)
{
	Req *q = d->req.exchange(nullptr, std::memory_order_acq_rel);

	if (!q)
		return;
	if (q->op == Req::RESET)
		do_reset(d);
	else
		lmem_access(d, q);
	std::lock_guard<std::mutex> g(d->mu);
	q->done = true;
	d->cv.notify_all();
}


void bridge(Dev *d)
{
	uint64_t quiet_since = 0;
	unsigned quiet = 0;

	while (!d->stop.load(std::memory_order_acquire)) {
		bool busy = forward(d);

		serve_request(d);
		if (d->reg_dirty)
			mirror(d);
		if (d->commit)
			commit_write(d);
		if (d->rd_hold) {
			// slow=: the read's data is not there yet; sleep, do not clock
			uint64_t t = now_ns();

			if (t < d->rd_ready_ns && !busy) {
				uint64_t ns = d->rd_ready_ns - t;

				std::this_thread::sleep_for(std::chrono::nanoseconds(
					ns < 20000 ? ns : 20000));
				continue;
			}
			d->rd_hold = t < d->rd_ready_ns;
		}
		bool dev_busy = !d->top->o_idle || d->rd_busy || d->aw_busy || d->b_pend ||
				d->top->msix_valid;
		if (busy || dev_busy) {
			auto a = std::chrono::steady_clock::now();
			tick(d);
			quiet = 0;
			quiet_since = 0;
			d->busy_s += std::chrono::duration<double>(
					     std::chrono::steady_clock::now() - a).count();
			continue;
		}
		// idle: a few more clocks so a ready queue gets picked, then poll
		if (quiet < 8) {
			tick(d);
			quiet++;
			continue;
		}
		if (!quiet_since)
			quiet_since = now_ns();
		if (now_ns() - quiet_since < d->spin_ns || !d->idle_ns)
			continue;
		std::this_thread::sleep_for(std::chrono::nanoseconds(d->idle_ns));
	}
}

int submit(Dev *d, Req *q)
{
	std::unique_lock<std::mutex> g(d->mu);

	// one request at a time: submitters set it under the lock
	d->cv.wait(g, [&] { return d->req.load() == nullptr; });
	d->req.store(q, std::memory_order_release);
	d->cv.wait(g, [&] { return q->done; });
	d->cv.notify_all();
	return q->ret;
}

// ---- options --------------------------------------------------------------------------

int parse_options(Dev *d, const char *options)
{
	std::string s(options);
	size_t pos = 0;

	while (pos < s.size()) {
		size_t end = s.find(',', pos);
		std::string kv = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
		size_t eq = kv.find('=');
		std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
		char *e = nullptr;
		unsigned long n = std::strtoul(v.c_str(), &e, 0);
		bool num_ok = !v.empty() && e && !*e && n <= 1000000;

		pos = end == std::string::npos ? s.size() : end + 1;
		if (k == "trace" && !v.empty()) {
			d->trace = std::fopen(v.c_str(), "w");
			if (!d->trace) {
				logf(d, LOG_ERR, "trace=%s: %s", v.c_str(), std::strerror(errno));
				return -errno;
			}
			continue;
		}
		if (num_ok && k == "rd_lat")
			d->rd_lat = n;
		else if (num_ok && k == "wr_lat")
			d->wr_lat = n;
		else if (num_ok && k == "spin")
			d->spin_ns = n * 1000;
		else if (num_ok && k == "idle")
			d->idle_ns = n * 1000;
		else if (num_ok && k == "slow")
			d->slow_ns = n * 1000;
		else {
			logf(d, LOG_ERR, "bad option '%s' (rd_lat=CYCLES, wr_lat=CYCLES, slow=US, spin=US, "
			     "idle=US, trace=PATH; see docs/softcore-rtl.md)", kv.c_str());
			return -EINVAL;
		}
	}
	return 0;
}

// ---- the ops table -------------------------------------------------------------------------

void layout(Dev *d)
{
	for (uint32_t off : {0x10u, 0x18u})
		d->watch.push_back(off);
	for (uint32_t q = 0; q < SC_NQ; q++)
		for (uint32_t r : {0x0u, 0x4u, 0x8u, 0xcu, 0x10u, 0x14u})
			d->watch.push_back(0x100 + 0x20 * q + r);
	for (uint32_t i = 0; i < 2 * SC_NQ; i++)
		d->watch.push_back(0x1000 + 4 * i);
	d->last.assign(d->watch.size(), 0);
	for (uint32_t off : {0x0u, 0x4u, 0x8u, 0xcu, 0x14u, 0x1cu, 0x20u})
		d->ro.push_back(off);
	for (uint32_t q = 0; q < SC_NQ; q++)
		d->ro.push_back(0x100 + 0x20 * q + 0x18);
	for (uint32_t i = 0; i < 64; i++)
		d->ro.push_back(0x800 + 4 * i);
}

void dev_close(void *state)
{
	Dev *d = static_cast<Dev *>(state);

	if (d->thr.joinable()) {
		d->stop.store(true, std::memory_order_release);
		d->thr.join();
		double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() -
							    d->t0).count();
		logf(d, LOG_INFO, "%llu cycles simulated in %.3f s busy (%.0f cycles/s), "
		     "%.3f s open", (unsigned long long)d->cycle, d->busy_s,
		     d->busy_s > 0 ? d->cycle / d->busy_s : 0.0, wall);
		if (d->trace)
			std::fprintf(d->trace, "%llu end %.6f\n", (unsigned long long)d->cycle,
				     d->busy_s);
	}
	if (d->trace)
		std::fclose(d->trace);
	if (d->top) {
		d->top->final();
		delete d->top;
	}
	delete d->vctx;
	if (d->bar0)
		munmap(d->bar0, BAR0_SIZE);
	delete d;
}

int dev_open(const char *options, const fpgactl_sim_host *host, fpgactl_sim_info *info,
	     void **state)
{
	Dev *d = new Dev;
	int ret;

	d->host = host;
	ret = parse_options(d, options);
	void *p = mmap(nullptr, BAR0_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!ret && p == MAP_FAILED)
		ret = -ENOMEM;
	d->bar0 = p == MAP_FAILED ? nullptr : static_cast<uint8_t *>(p);
	if (ret) {
		dev_close(d);
		return ret;
	}
	d->vctx = new VerilatedContext;
	d->top = new Vsoftcore{d->vctx};
	layout(d);
	d->top->rst_n = 0;
	for (int i = 0; i < 4; i++)
		tick(d);
	d->top->rst_n = 1;
	tick(d);
	mirror(d);
	*info = fpgactl_sim_info{};
	info->vendor = 0x5c0f;
	info->device = 0xc0de;
	info->subsystem_vendor = 0x5c0f;
	info->subsystem_device = 0x0002;	// the RTL (the C model is 0x0001)
	info->class_code = 0x120000;
	info->revision = 1;
	info->bar_size[0] = BAR0_SIZE;
	info->bar_mem[0] = d->bar0;
	info->bar_size[2] = SC_LMEM;
	info->msix_vectors = SC_NQ;
	info->msix_table = 0x8000;
	info->msix_pba = 0x9000;
	// A Verilator model clocks some 100 times slower than the fabric and
	// shares the host's CPUs with the test: allow it 50 times the spec's
	// deadlines (STATUS.RDY, QSTATUS), 5 s for a queue enable.
	info->deadline_scale = 50;
	d->t0 = std::chrono::steady_clock::now();
	d->thr = std::thread(bridge, d);
	*state = d;
	return 0;
}

int dev_reset(void *state)
{
	Req q;

	q.op = Req::RESET;
	return submit(static_cast<Dev *>(state), &q);
}

int dev_bar_read(void *state, uint32_t bar, uint64_t off, void *buf, size_t len)
{
	Req q;

	if (bar != 2 || off + len > SC_LMEM || len > 8 || (off & (len - 1)))
		return -EINVAL;
	q.op = Req::BAR2_READ;
	q.off = off;
	q.len = len;
	int ret = submit(static_cast<Dev *>(state), &q);
	std::memcpy(buf, q.data, len);
	return ret;
}

int dev_bar_write(void *state, uint32_t bar, uint64_t off, const void *buf, size_t len)
{
	Req q;

	if (bar != 2 || off + len > SC_LMEM || len > 8 || (off & (len - 1)))
		return -EINVAL;
	q.op = Req::BAR2_WRITE;
	q.off = off;
	q.len = len;
	std::memcpy(q.data, buf, len);
	return submit(static_cast<Dev *>(state), &q);
}

const fpgactl_sim_ops ops = {
	FPGACTL_SIM_ABI, "softcore-rtl", dev_open, dev_close, dev_reset,
	dev_bar_read, dev_bar_write,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const fpgactl_sim_ops *fpgactl_sim_plugin(void)
{
	return &ops;
}
