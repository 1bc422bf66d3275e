// SPDX-License-Identifier: MIT
/*
 * bench_uring: random 4 KiB reads from a block device through the kernel's
 * driver and io_uring, for comparison with libfpgactl's queues (nvme_rw -b)
 * on the same controller.
 *
 *	bench_uring [-q QD[,QD...]] [-T MS] [-p] DEVICE
 *
 * Opens DEVICE with O_DIRECT (no page cache), registers one 4 KiB buffer per
 * request (IORING_OP_READ_FIXED), keeps QD reads at random 4 KiB-aligned
 * offsets in flight for MS milliseconds (default 2000) at each queue depth
 * (default 1,32), and prints one line per depth:
 *
 *	bench_uring: QD 32: 12345 random 4 KiB reads in 2000.1 ms: 6172 IOPS,
 *	25.3 MB/s, mean latency 5184.0 us (interrupts)
 *
 * -p sets up the ring with IORING_SETUP_IOPOLL: completions are polled for
 * instead of interrupting, which needs a driver with poll queues (for nvme,
 * the poll_queues module parameter).  Nothing is written.
 *
 * Exit status: 0 done; 1 a failure (a read that failed or came back short);
 * 2 bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#define IO_SIZE 4096u
#define MAX_QD 256
#define MAX_DEPTHS 8

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

struct bench {
	int fd;
	uint64_t blocks;	/* 4 KiB blocks of the device */
	bool iopoll;
	uint64_t ms;
};

static void prep(struct io_uring *ring, struct bench *b, uint8_t *bufs,
		 unsigned int slot, uint64_t *start)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	/* Slot k reads into registered buffer k. */
	io_uring_prep_read_fixed(sqe, b->fd, bufs + (size_t)slot * IO_SIZE, IO_SIZE,
				 (rnd() % b->blocks) * IO_SIZE, (int)slot);
	io_uring_sqe_set_data64(sqe, slot);
	start[slot] = now_ns();
}

static int run_depth(struct bench *b, unsigned int qd)
{
	struct io_uring ring;
	struct iovec iov[MAX_QD];
	uint64_t start[MAX_QD], t0, stop, done = 0, lat_sum = 0, elapsed;
	unsigned int inflight = 0;
	uint8_t *bufs = NULL;
	int ret;

	ret = io_uring_queue_init(qd, &ring, b->iopoll ? IORING_SETUP_IOPOLL : 0);
	if (ret) {
		fprintf(stderr, "bench_uring: io_uring_queue_init(%u): %s\n", qd,
			strerror(-ret));
		return -1;
	}
	if (posix_memalign((void **)&bufs, IO_SIZE, (size_t)qd * IO_SIZE)) {
		fprintf(stderr, "bench_uring: out of memory\n");
		io_uring_queue_exit(&ring);
		return -1;
	}
	memset(bufs, 0, (size_t)qd * IO_SIZE);
	for (unsigned int i = 0; i < qd; i++)
		iov[i] = (struct iovec){ bufs + (size_t)i * IO_SIZE, IO_SIZE };
	ret = io_uring_register_buffers(&ring, iov, qd);
	if (ret) {
		fprintf(stderr, "bench_uring: io_uring_register_buffers: %s\n",
			strerror(-ret));
		goto out;
	}
	t0 = now_ns();
	stop = t0 + b->ms * 1000000u;
	for (unsigned int i = 0; i < qd; i++)
		prep(&ring, b, bufs, i, start);
	inflight = qd;
	while (inflight) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		uint64_t now;

		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "bench_uring: io_uring_submit_and_wait: %s\n",
				strerror(-ret));
			goto out;
		}
		now = now_ns();
		io_uring_for_each_cqe(&ring, head, cqe) {
			unsigned int slot = (unsigned int)io_uring_cqe_get_data64(cqe);

			seen++;
			if (cqe->res != (int)IO_SIZE) {
				fprintf(stderr, "bench_uring: a read returned %d (%s)\n",
					cqe->res, cqe->res < 0 ? strerror(-cqe->res) : "short");
				ret = -EIO;
				break;
			}
			lat_sum += now - start[slot];
			done++;
			if (now < stop)
				prep(&ring, b, bufs, slot, start);
			else
				inflight--;
		}
		io_uring_cq_advance(&ring, seen);
		if (ret == -EIO)
			goto out;
	}
	elapsed = now_ns() - t0;
	printf("bench_uring: QD %u: %" PRIu64 " random 4 KiB reads in %.1f ms: %.0f IOPS, "
	       "%.1f MB/s, mean latency %.1f us (%s)\n", qd, done, elapsed / 1e6,
	       done * 1e9 / elapsed, done * (double)IO_SIZE * 1e3 / elapsed,
	       done ? lat_sum / 1e3 / done : 0.0,
	       b->iopoll ? "IOPOLL, polled completions" : "interrupts");
	ret = 0;
out:
	io_uring_queue_exit(&ring);
	free(bufs);
	return ret ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .ms = 2000 };
	unsigned int depths[MAX_DEPTHS] = { 1, 32 }, ndepths = 2;
	uint64_t bytes = 0;
	int opt;
	char *e;

	while ((opt = getopt(argc, argv, "q:T:p")) != -1) {
		if (opt == 'p') {
			b.iopoll = true;
		} else if (opt == 'T') {
			b.ms = strtoull(optarg, &e, 0);
			if (*e || !b.ms || b.ms > 3600000)
				goto usage;
		} else if (opt == 'q') {
			char *s = optarg;

			for (ndepths = 0; *s; ndepths++) {
				unsigned long v = strtoul(s, &e, 0);

				if (ndepths == MAX_DEPTHS || !v || v > MAX_QD ||
				    (*e && *e != ','))
					goto usage;
				depths[ndepths] = (unsigned int)v;
				s = *e ? e + 1 : e;
			}
			if (!ndepths)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	b.fd = open(argv[optind], O_RDONLY | O_DIRECT);
	if (b.fd < 0 || ioctl(b.fd, BLKGETSIZE64, &bytes)) {
		fprintf(stderr, "bench_uring: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	b.blocks = bytes / IO_SIZE;
	if (!b.blocks) {
		fprintf(stderr, "bench_uring: %s is smaller than 4 KiB\n", argv[optind]);
		return 1;
	}
	rnd_state = now_ns() | 1;
	printf("bench_uring: %s: %" PRIu64 " bytes, O_DIRECT, registered buffers, "
	       "%" PRIu64 " ms per queue depth\n", argv[optind], bytes, b.ms);
	for (unsigned int i = 0; i < ndepths; i++)
		if (run_depth(&b, depths[i]))
			return 1;
	close(b.fd);
	return 0;

usage:
	fprintf(stderr, "usage: bench_uring [-q QD[,QD...]] [-T MS] [-p] DEVICE\n");
	return 2;
}
