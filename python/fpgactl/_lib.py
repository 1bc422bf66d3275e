# SPDX-License-Identifier: MIT
"""The C library through cffi's ABI mode: the declarations below are those
of include/fpgactl/*.h (tests/python/test_abi.py checks every struct's size
and field offsets against the C compiler's), and the library is dlopen()ed:
no compile step.  Also: the log hook routed into Python's logging, and the
errno-to-exception helpers every wrapper uses."""
import errno as _errno
import logging
import os
import threading

import cffi

CDEF = """
typedef long ssize_t;

/* log.h */
typedef void (*fpgactl_log_fn)(void *arg, int level, const char *msg);
void fpgactl_set_log(fpgactl_log_fn fn, void *arg, int max_level);
const char *fpgactl_version(void);

/* pci.h */
int fpgactl_pci_parse_bdf(const char *in, char out[13]);

/* device.h */
enum fpgactl_iommu_backend { FPGACTL_IOMMU_AUTO, FPGACTL_IOMMU_LEGACY, FPGACTL_IOMMU_IOMMUFD };
struct fpgactl_iommu;
struct fpgactl_device;
struct fpgactl_open_opts {
    struct fpgactl_iommu *iommu;
    enum fpgactl_iommu_backend backend;
    unsigned int flags;
    const char *vf_token;
};
struct fpgactl_device_info {
    uint32_t num_regions;
    uint32_t num_irqs;
    uint32_t flags;
    enum fpgactl_iommu_backend backend;
};
struct fpgactl_region_info {
    uint32_t index;
    uint32_t flags;
    uint64_t size;
    uint32_t nr_areas;
};
struct fpgactl_irq_info {
    uint32_t index;
    uint32_t count;
    uint32_t flags;
};
struct fpgactl_device *fpgactl_device_open(const char *bdf,
        const struct fpgactl_open_opts *opts, int *err);
void fpgactl_device_close(struct fpgactl_device *dev);
const char *fpgactl_device_bdf(const struct fpgactl_device *dev);
struct fpgactl_iommu *fpgactl_device_iommu(const struct fpgactl_device *dev);
const char *fpgactl_iommu_backend_name(const struct fpgactl_iommu *iommu);
int fpgactl_device_get_info(struct fpgactl_device *dev, struct fpgactl_device_info *info);
int fpgactl_region_get_info(struct fpgactl_device *dev, uint32_t index,
        struct fpgactl_region_info *info);
int fpgactl_region_read(struct fpgactl_device *dev, uint32_t index, uint64_t offset,
        void *buf, size_t len);
int fpgactl_region_write(struct fpgactl_device *dev, uint32_t index, uint64_t offset,
        const void *buf, size_t len);
int fpgactl_irq_get_info(struct fpgactl_device *dev, uint32_t index,
        struct fpgactl_irq_info *info);
int fpgactl_config_read(struct fpgactl_device *dev, uint32_t offset, void *buf, size_t len);
int fpgactl_config_write(struct fpgactl_device *dev, uint32_t offset, const void *buf,
        size_t len);
int fpgactl_set_bus_master(struct fpgactl_device *dev, bool enable);
int fpgactl_device_reset(struct fpgactl_device *dev);
int fpgactl_device_hot_reset(struct fpgactl_device *dev);

/* mmio.h */
int fpgactl_reg_read(struct fpgactl_device *dev, uint32_t bar, uint64_t offset,
        unsigned int width, uint64_t *val);
int fpgactl_reg_write(struct fpgactl_device *dev, uint32_t bar, uint64_t offset,
        unsigned int width, uint64_t val);
int fpgactl_reg_poll(struct fpgactl_device *dev, uint32_t bar, uint64_t offset,
        unsigned int width, uint64_t mask, uint64_t value, uint64_t timeout_us,
        uint64_t *last);
int fpgactl_device_removed(struct fpgactl_device *dev);

/* dma.h */
struct fpgactl_dma_opts {
    size_t page_size;
    int node;
    unsigned int flags;
};
struct fpgactl_dma_buf {
    void *vaddr;
    uint64_t iova;
    size_t size;
    size_t page_size;
    int node;
};
struct fpgactl_dma_buf *fpgactl_dma_alloc(struct fpgactl_device *dev, size_t size,
        const struct fpgactl_dma_opts *opts, int *err);
void fpgactl_dma_free(struct fpgactl_dma_buf *buf);
int fpgactl_device_set_dma_mask(struct fpgactl_device *dev, unsigned int bits);

/* queue.h */
struct fpgactl_sqe {
    uint8_t opc;
    uint8_t flags;
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2;
    uint32_t cdw3;
    uint64_t mptr;
    uint64_t addr0;
    uint64_t addr1;
    uint32_t cdw10;
    uint32_t cdw11;
    uint32_t cdw12;
    uint32_t cdw13;
    uint32_t cdw14;
    uint32_t cdw15;
};
struct fpgactl_queue_cfg {
    uint16_t qid;
    uint32_t depth;
    uint32_t bar;
    uint64_t db_offset;
    uint32_t db_stride;
};
struct fpgactl_completion {
    void *ctx;
    uint32_t result;
    uint16_t status;
    int error;
};
struct fpgactl_queue_stats {
    uint64_t submitted;
    uint64_t completed;
    uint64_t sq_doorbells;
    uint64_t cq_doorbells;
    uint64_t bad_completions;
    uint64_t timeouts;
    uint64_t aborted;
    uint64_t late_completions;
};
struct fpgactl_queue;
struct fpgactl_queue *fpgactl_queue_create(struct fpgactl_device *dev,
        const struct fpgactl_queue_cfg *cfg, int *err);
void fpgactl_queue_destroy(struct fpgactl_queue *q);
uint32_t fpgactl_queue_depth(const struct fpgactl_queue *q);
struct fpgactl_sqe *fpgactl_queue_get_sqe(struct fpgactl_queue *q, void *ctx,
        uint64_t timeout_ns);
unsigned int fpgactl_queue_submit(struct fpgactl_queue *q);
unsigned int fpgactl_queue_reap(struct fpgactl_queue *q, struct fpgactl_completion *out,
        unsigned int max);
unsigned int fpgactl_queue_abort(struct fpgactl_queue *q);
void fpgactl_queue_reset(struct fpgactl_queue *q);
unsigned int fpgactl_queue_in_flight(const struct fpgactl_queue *q);
void fpgactl_queue_get_stats(const struct fpgactl_queue *q, struct fpgactl_queue_stats *stats);

/* irq.h */
int fpgactl_irq_enable(struct fpgactl_device *dev, uint32_t index, uint32_t count);
int fpgactl_irq_disable(struct fpgactl_device *dev, uint32_t index);
int fpgactl_irq_fd(struct fpgactl_device *dev, uint32_t index, uint32_t vector);
uint32_t fpgactl_irq_enabled(struct fpgactl_device *dev, uint32_t index);
int fpgactl_irq_unmask(struct fpgactl_device *dev);

/* events.h */
enum fpgactl_wait_mode { FPGACTL_WAIT_POLL, FPGACTL_WAIT_INTERRUPT, FPGACTL_WAIT_HYBRID };
struct fpgactl_events;
struct fpgactl_events *fpgactl_events_create(unsigned int max_fds, int *err);
void fpgactl_events_destroy(struct fpgactl_events *ev);
int fpgactl_events_watch(struct fpgactl_events *ev, int fd, uint64_t tag);
int fpgactl_events_unwatch(struct fpgactl_events *ev, int fd);
int fpgactl_events_wait_fd(struct fpgactl_events *ev, int fd, int64_t timeout_ns);
int fpgactl_queue_set_eventfd(struct fpgactl_queue *q, int efd);
int fpgactl_queue_wait(struct fpgactl_queue *q, struct fpgactl_events *ev,
        enum fpgactl_wait_mode mode, uint64_t spin_ns, int64_t timeout_ns,
        struct fpgactl_completion *out, unsigned int max);

/* stream.h */
struct fpgactl_stream;
typedef int (*fpgactl_stream_progress_fn)(void *arg, uint64_t done, uint64_t total);
struct fpgactl_stream_stats {
    uint64_t bytes;
    uint64_t direct_bytes;
    uint64_t requests;
    uint64_t short_transfers;
    uint64_t direct_fallbacks;
};
struct fpgactl_stream *fpgactl_stream_create(unsigned int depth,
        struct fpgactl_dma_buf *const *bufs, unsigned int nbufs, int *err);
void fpgactl_stream_destroy(struct fpgactl_stream *st);
int fpgactl_stream_set_chunk_size(struct fpgactl_stream *st, size_t bytes);
enum fpgactl_stream_io {
    FPGACTL_STREAM_IO_AUTO = 0,
    FPGACTL_STREAM_IO_CACHED = 1,
    FPGACTL_STREAM_IO_BUFFERED = 2,
};
int fpgactl_stream_set_io(struct fpgactl_stream *st, enum fpgactl_stream_io io);
ssize_t fpgactl_stream_file_to_buf(struct fpgactl_stream *st, const char *path,
        const struct fpgactl_dma_buf *buf, size_t buf_off, size_t max_len,
        fpgactl_stream_progress_fn progress, void *arg);
ssize_t fpgactl_stream_buf_to_file(struct fpgactl_stream *st,
        const struct fpgactl_dma_buf *buf, size_t buf_off, size_t len, const char *path,
        fpgactl_stream_progress_fn progress, void *arg);
void fpgactl_stream_get_stats(const struct fpgactl_stream *st,
        struct fpgactl_stream_stats *stats);

/* softcore.h */
struct fpgactl_sc_opts {
    unsigned int nr_queues;
    uint32_t depth;
    bool interrupts;
};
struct fpgactl_sc_info {
    uint32_t version;
    uint32_t nr_queues;
    uint32_t max_depth;
    uint32_t db_stride;
    uint32_t lmem_size;
    uint32_t max_xfer;
};
struct fpgactl_sc;
struct fpgactl_sc *fpgactl_sc_open(struct fpgactl_device *dev,
        const struct fpgactl_sc_opts *opts, int *err);
void fpgactl_sc_close(struct fpgactl_sc *sc);
void fpgactl_sc_get_info(const struct fpgactl_sc *sc, struct fpgactl_sc_info *info);
struct fpgactl_queue *fpgactl_sc_queue(struct fpgactl_sc *sc, unsigned int qid);
uint16_t fpgactl_sc_guard_crc(uint32_t reg, uint32_t value);
uint32_t fpgactl_crc32c(const void *buf, size_t len);
const char *fpgactl_sc_status_name(unsigned int status);
int fpgactl_sc_wait(struct fpgactl_queue *q, void *ctx, uint64_t timeout_ns,
        struct fpgactl_completion *out);
"""

# The structs of CDEF, for the layout test.
STRUCTS = sorted(set(
    line.split()[1] for line in CDEF.splitlines()
    if line.startswith('struct ') and line.rstrip().endswith('{')))

ffi = cffi.FFI()
ffi.cdef(CDEF)


def _library_candidates():
    """FPGACTL_LIBRARY first (the tests point it at the build tree), then
    the library meson installed next to this package, then the soname."""
    env = os.environ.get('FPGACTL_LIBRARY')
    if env:
        return [env]
    out = []
    try:
        from . import _config
        out.append(os.path.join(_config.LIBDIR, 'libfpgactl.so.0'))
    except ImportError:
        pass
    out.append('libfpgactl.so.0')
    return out


def _load():
    errors = []
    for path in _library_candidates():
        try:
            return ffi.dlopen(path), path
        except OSError as e:
            errors.append('%s: %s' % (path, e))
    raise ImportError('fpgactl: cannot load libfpgactl (set FPGACTL_LIBRARY to the '
                      'path of libfpgactl.so.0): ' + '; '.join(errors))


lib, library_path = _load()

# ---- errors ----------------------------------------------------------------

log = logging.getLogger('fpgactl')
_LEVELS = {3: logging.ERROR, 4: logging.WARNING, 5: logging.INFO, 6: logging.INFO,
           7: logging.DEBUG}
log.addHandler(logging.NullHandler())
_tls = threading.local()


class Error(OSError):
    """A library call failed: .errno is the positive errno, .strerror the
    library's own message (what it logged, naming the cause and the fix)
    or os.strerror() when it logged nothing, .call the C function."""

    def __init__(self, err, message=None, call=None):
        super().__init__(err, message or os.strerror(err))
        self.call = call

    def __str__(self):
        name = _errno.errorcode.get(self.errno, str(self.errno))
        where = '%s: ' % self.call if self.call else ''
        return '%s%s (%s)' % (where, self.strerror, name)


Error.__module__ = 'fpgactl'


@ffi.callback('void(void *, int, const char *)')
def _log_hook(arg, level, msg):
    text = ffi.string(msg).decode('utf-8', 'replace')
    if level <= 4:
        # Kept for the exception of the call running in this thread.
        msgs = getattr(_tls, 'messages', None)
        if msgs is not None:
            msgs.append(text)
    log.log(_LEVELS.get(level, logging.DEBUG), '%s', text)


def set_log_level(level=7):
    """Have the library format messages up to syslog LEVEL (7: debug;
    the default installed at import is 6, info)."""
    lib.fpgactl_set_log(_log_hook, ffi.NULL, level)


set_log_level(6)


def begin():
    """Start collecting the library's messages for the coming call."""
    _tls.messages = []


def error(err, call):
    """The exception for -errno ERR of CALL, with the messages logged since
    begin()."""
    msgs = getattr(_tls, 'messages', None) or []
    _tls.messages = None
    return Error(-err if err < 0 else err, '; '.join(msgs) if msgs else None, call)


def check(call, *args):
    """Call lib.CALL(*args); raise Error for a negative result."""
    begin()
    ret = getattr(lib, call)(*args)
    if ret < 0:
        raise error(ret, call)
    _tls.messages = None
    return ret


def check_ptr(call, *args):
    """Call lib.CALL(*args, &err) for a pointer; raise Error on NULL."""
    err = ffi.new('int *')
    begin()
    ptr = getattr(lib, call)(*args, err)
    if ptr == ffi.NULL:
        raise error(err[0] or -_errno.EIO, call)
    _tls.messages = None
    return ptr
