/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel/clock.h"
#include "kernel/cgroupfs.h"
#include "kernel/cgvalues.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/ratelimit.h"
#include "sense/psi.h"
#include "sense/sense.h"

#define SENSE_BUF_INITIAL     4096       /* memory.stat is ~1.5 KiB on 6.1, ~2 KiB on 6.18 */
#define SENSE_BUF_LIMIT       (1 << 20)  /* a file larger than this is not a cgroup statistics file */
#define SENSE_IO_DEVICES_MAX  32         /* io.stat lines kept per tick (the newest device comes first) */
#define SENSE_NOTE_CPU_NO_MAX (1u << 31) /* in a missing-set note: cpu.stat without the cpu controller */

static const char *const vm_files[_SENSE_FILE_MAX] = {
        [SENSE_CPU_STAT] = "cpu.stat",
        [SENSE_CPU_PRESSURE] = "cpu.pressure",
        [SENSE_MEMORY_PRESSURE] = "memory.pressure",
        [SENSE_IO_PRESSURE] = "io.pressure",
        [SENSE_MEMORY_CURRENT] = "memory.current",
        [SENSE_MEMORY_STAT] = "memory.stat",
        [SENSE_MEMORY_EVENTS] = "memory.events",
        [SENSE_MEMORY_HIGH] = "memory.high",
        [SENSE_MEMORY_MAX] = "memory.max",
        [SENSE_IO_STAT] = "io.stat",
};

enum host_file {
        HOST_CPU_PRESSURE,
        HOST_MEMORY_PRESSURE,
        HOST_IO_PRESSURE,
        _HOST_FILE_MAX,
};

static const char *const host_files[_HOST_FILE_MAX] = {
        [HOST_CPU_PRESSURE] = "pressure/cpu",
        [HOST_MEMORY_PRESSURE] = "pressure/memory",
        [HOST_IO_PRESSURE] = "pressure/io",
};

/* How a sensor fills the read buffer. */
struct sense_reader {
        sense_read_fn read;
        bool holds; /* counted in read_buf.users */
};

/*
 * One read buffer for every sensor of the process: a tick parses each file right after reading it, so nothing
 * needs it longer, and 1000 sensors share one cache-hot buffer instead of 1000 cold ones (a per-sensor buffer cost
 * ~2 µs per VM per tick in cache misses with 1000 cgroups, and 4 KiB of memory each). Sensors are ticked from one
 * thread. Freed with the last sensor.
 */
static struct {
        char *buf;
        size_t size;
        unsigned users;
} read_buf;

struct sense_vm {
        char *name;
        int fd[_SENSE_FILE_MAX];
        unsigned missing; /* SENSE_FILE_BIT()s */
        bool transient;   /* the files are opened beneath dir_fd (the caller's) at each tick, not held */
        int dir_fd;
        bool swap;
        bool reclaim; /* memory.reclaim exists */
        struct sense_reader rd;

        bool have_prev;
        uint64_t prev_usec;
        struct psi_snapshot prev_psi;
        struct cgv_cpu_stat prev_cpu;
        struct cgv_memory_events prev_events;
        struct cgv_io_stat_device *prev_io; /* as many as the last tick had: most cgroups use a device or two */
        size_t n_prev_io, prev_io_allocated;
};

/* This tick's io.stat, parsed: shared by every sensor for the reason read_buf is. */
static struct cgv_io_stat_device cur_io[SENSE_IO_DEVICES_MAX];

struct sense_host {
        char *name;
        int fd[_HOST_FILE_MAX];
        unsigned ncpus;
        struct sense_reader rd;
        bool have_prev;
        uint64_t prev_usec;
        struct psi_snapshot prev_psi;
};

/* Said once per process: the last set of missing files reported at info level, and the host's notes. */
static bool note_missing_said;
static unsigned note_missing_last;
static bool note_no_proc_pressure;

const char *sense_file_name(enum sense_file f)
{
        return (unsigned)f < _SENSE_FILE_MAX ? vm_files[f] : NULL;
}

static int read_record(int fd, const char *file, char *buf, size_t size)
{
        (void)file;
        return cgroupfs_pread_record(fd, buf, size);
}

static int reader_init(struct sense_reader *rd, const struct sense_options *opts)
{
        rd->read = opts && opts->read ? opts->read : read_record;
        if (!read_buf.buf) {
                read_buf.buf = malloc(SENSE_BUF_INITIAL);
                if (!read_buf.buf)
                        return -ENOMEM;
                read_buf.size = SENSE_BUF_INITIAL;
        }
        read_buf.users++;
        rd->holds = true;
        return 0;
}

static void reader_done(struct sense_reader *rd)
{
        if (!rd->holds)
                return;
        rd->holds = false;
        if (--read_buf.users == 0) {
                free(read_buf.buf);
                read_buf.buf = NULL;
                read_buf.size = 0;
        }
}

/* Read fd into read_buf, growing it (only until it fits the largest file: not in the steady state). */
static int reader_read(struct sense_reader *rd, int fd, const char *file)
{
        for (;;) {
                int r = rd->read(fd, file, read_buf.buf, read_buf.size);
                char *b;

                if (r != -E2BIG || read_buf.size >= SENSE_BUF_LIMIT)
                        return r;
                b = realloc(read_buf.buf, read_buf.size * 2);
                if (!b)
                        return -ENOMEM;
                read_buf.buf = b;
                read_buf.size *= 2;
        }
}

static uint64_t delta(uint64_t prev, uint64_t now)
{
        return now > prev ? now - prev : 0; /* a counter that went back (reset): no increase known */
}

/* closep() leaves the number behind: a sensor checks fd < 0 to skip a file. */
static void fd_drop(int *fd)
{
        closep(fd);
        *fd = -1;
}

static void fd_drop_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fd_drop(&fds[i]);
}

void sense_notes_reset(void)
{
        note_missing_said = false;
        note_missing_last = 0;
        note_no_proc_pressure = false;
}

/* Append to buf (a message being built), silently cut at size. */
static void append(char *buf, size_t size, const char *s)
{
        size_t n = strnlen(buf, size);

        if (n + 1 < size)
                snprintf(buf + n, size - n, "%s", s);
}

static void note_missing(const struct sense_vm *s, bool cpu_controller)
{
        const unsigned memory_files = SENSE_FILE_BIT(SENSE_MEMORY_CURRENT) | SENSE_FILE_BIT(SENSE_MEMORY_STAT) |
                                      SENSE_FILE_BIT(SENSE_MEMORY_EVENTS) | SENSE_FILE_BIT(SENSE_MEMORY_HIGH) |
                                      SENSE_FILE_BIT(SENSE_MEMORY_MAX);
        const unsigned psi_files = SENSE_FILE_BIT(SENSE_CPU_PRESSURE) | SENSE_FILE_BIT(SENSE_MEMORY_PRESSURE) |
                                   SENSE_FILE_BIT(SENSE_IO_PRESSURE);
        unsigned key = s->missing | (cpu_controller ? 0 : SENSE_NOTE_CPU_NO_MAX);
        char msg[512] = "";
        bool first = true;
        int level;

        if (key == 0)
                return;
        level = note_missing_said && note_missing_last == key ? LOG_DEBUG : LOG_INFO;
        note_missing_said = true;
        note_missing_last = key;

        for (unsigned f = 0; f < _SENSE_FILE_MAX; f++)
                if (s->missing & SENSE_FILE_BIT(f)) {
                        append(msg, sizeof(msg), first ? "no " : ", ");
                        append(msg, sizeof(msg), vm_files[f]);
                        first = false;
                }
        if (!cpu_controller || (s->missing & (memory_files | SENSE_FILE_BIT(SENSE_IO_STAT)))) {
                append(msg, sizeof(msg),
                       first ? "controllers not enabled for it:" : " (controllers not enabled for it:");
                if (!cpu_controller)
                        append(msg, sizeof(msg), " cpu");
                if (s->missing & memory_files)
                        append(msg, sizeof(msg), " memory");
                if (s->missing & SENSE_FILE_BIT(SENSE_IO_STAT))
                        append(msg, sizeof(msg), " io");
                if (!cpu_controller)
                        append(msg, sizeof(msg), "; cpu.stat has no throttling counters");
                if (!first)
                        append(msg, sizeof(msg), ")");
        }
        if (s->missing & psi_files)
                append(msg, sizeof(msg), " (no PSI files: a kernel without CONFIG_PSI, or booted with psi=0)");
        log_full_errno(level, 0, "%s: %s: those signals stay 0", s->name, msg);
}

/* The parts of sensor_open common to both sensors: a name for messages and the read buffer. */
static int sensor_init(const struct sense_options *opts, const char *default_name, char **ret_name,
                       struct sense_reader *rd)
{
        *ret_name = strdup(opts && opts->name ? opts->name : default_name);
        if (!*ret_name)
                return -ENOMEM;
        return reader_init(rd, opts);
}

/* Open n files beneath dir_fd, O_RDONLY|O_CLOEXEC|O_NOFOLLOW. An absent one (ENOENT) keeps fd -1 and gets its bit in
 * *missing; any other error is returned. */
static int files_open(int dir_fd, const char *const *names, unsigned n, int *fds, unsigned *missing)
{
        for (unsigned f = 0; f < n; f++) {
                fds[f] = openat(dir_fd, names[f], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fds[f] >= 0)
                        continue;
                fds[f] = -1;
                if (errno != ENOENT)
                        return -errno;
                *missing |= 1u << f;
        }
        return 0;
}

int sense_vm_open(int cgroup_fd, const struct sense_options *opts, struct sense_vm **ret)
{
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        char buf[64];
        uint64_t swap_max;
        bool cpu_controller;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        for (unsigned f = 0; f < _SENSE_FILE_MAX; f++)
                s->fd[f] = -1;
        r = sensor_init(opts, "cgroup", &s->name, &s->rd);
        if (r < 0)
                return r;
        r = files_open(cgroup_fd, vm_files, _SENSE_FILE_MAX, s->fd, &s->missing);
        if (r < 0)
                return r;
        if (opts && opts->transient) { /* which files there are is known now: none is held */
                s->transient = true;
                s->dir_fd = cgroup_fd;
                for (unsigned f = 0; f < _SENSE_FILE_MAX; f++)
                        fd_drop(&s->fd[f]);
        }
        if (s->missing & SENSE_FILE_BIT(SENSE_CPU_STAT)) /* cgroup core: no cgroup v2 directory, or a removed one */
                return log_debug_errno(-ENOENT, "%s: no cpu.stat: not a cgroup, or it is gone", s->name);

        /* Swap: the host's, unless this cgroup may not use it. memory.swap.max is read once, here. */
        s->swap = opts && opts->swap;
        if (s->swap && cgroupfs_read(cgroup_fd, "memory.swap.max", buf, sizeof(buf)) >= 0 &&
            cgv_parse_u64_or_max(buf, &swap_max) == 0 && swap_max == 0)
                s->swap = false;

        s->reclaim = faccessat(cgroup_fd, "memory.reclaim", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        cpu_controller = faccessat(cgroup_fd, "cpu.max", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
                         faccessat(cgroup_fd, "cpu.weight", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        note_missing(s, cpu_controller);

        *ret = TAKE_PTR(s);
        return 0;
}

/*
 * A read or parse that fails for a VM fails again each tick: say it once per VM, file and cause, then count, and
 * summarise at most once a minute. Keyed by the sensor (forgotten when it is freed); beyond the table's room every
 * other VM shares one key, so even a thousand failing VMs give one line a minute.
 */
#define REPEAT_INTERVAL_USEC (60ULL * 1000000ULL)
static struct ratelimit_entry repeat_entries[256];
static struct ratelimit repeat_rl = {
        .interval_usec = REPEAT_INTERVAL_USEC,
        .cap = ELEMENTSOF(repeat_entries),
        .entries = repeat_entries,
        .overflow = {.vm = RATELIMIT_OVERFLOW_VM},
};

struct sense_vm *sense_vm_free(struct sense_vm *s)
{
        if (!s)
                return NULL;
        ratelimit_forget_vm(&repeat_rl, (uintptr_t)s);
        fd_drop_all(s->fd, _SENSE_FILE_MAX);
        reader_done(&s->rd);
        free(s->prev_io);
        free(s->name);
        free(s);
        return NULL;
}

unsigned sense_vm_missing(const struct sense_vm *s)
{
        return s->missing;
}

bool sense_vm_swap(const struct sense_vm *s)
{
        return s->swap;
}

static bool is_pressure(enum sense_file f)
{
        return f == SENSE_CPU_PRESSURE || f == SENSE_MEMORY_PRESSURE || f == SENSE_IO_PRESSURE;
}

/* A held file stopped reading while the cgroup is still there: stop reading it, say so once. */
static void vm_file_drop(struct sense_vm *s, enum sense_file f, int r)
{
        fd_drop(&s->fd[f]);
        s->missing |= SENSE_FILE_BIT(f);
        if (is_pressure(f) && r == -EOPNOTSUPP) {
                char what[512];
                snprintf(what, sizeof(what), "%s/%s", s->name, vm_files[f]);
                (void)psi_note_read_error(r, what);
        } else
                log_info_errno(r, "%s: %s went away (%m) while the cgroup stays: its signals stay 0 from now on",
                               s->name, vm_files[f]);
}

/* Pick the busiest SIGNALS_IO_DEVICES (by bytes in the tick) when there are more; else all, in io.stat's order. */
static void io_devices_fill(const struct sense_vm *s, size_t n_cur, bool deltas, struct vm_signals *sig)
{
        struct io_device_rates all[SENSE_IO_DEVICES_MAX];

        for (size_t i = 0; i < n_cur; i++) {
                const struct cgv_io_stat_device *c = &cur_io[i];
                const struct cgv_io_stat *p = NULL;
                static const struct cgv_io_stat zero;

                for (size_t j = 0; j < s->n_prev_io; j++)
                        if (s->prev_io[j].major == c->major && s->prev_io[j].minor == c->minor) {
                                p = &s->prev_io[j].stat;
                                break;
                        }
                if (!p) /* a device line appears with the cgroup's first I/O on it: it was all zeros before */
                        p = &zero;
                all[i] = (struct io_device_rates){
                        .major = c->major,
                        .minor = c->minor,
                        .rbytes = deltas ? delta(p->rbytes, c->stat.rbytes) : 0,
                        .wbytes = deltas ? delta(p->wbytes, c->stat.wbytes) : 0,
                        .rios = deltas ? delta(p->rios, c->stat.rios) : 0,
                        .wios = deltas ? delta(p->wios, c->stat.wios) : 0,
                };
        }
        if (n_cur <= SIGNALS_IO_DEVICES) {
                memcpy(sig->io_devices, all, n_cur * sizeof(all[0]));
                sig->n_io_devices = (unsigned)n_cur;
                return;
        }
        for (unsigned k = 0; k < SIGNALS_IO_DEVICES; k++) {
                size_t best = k;
                for (size_t i = k + 1; i < n_cur; i++)
                        if (all[i].rbytes + all[i].wbytes > all[best].rbytes + all[best].wbytes)
                                best = i;
                struct io_device_rates t = all[k];
                all[k] = all[best];
                all[best] = t;
                sig->io_devices[k] = all[k];
        }
        sig->n_io_devices = SIGNALS_IO_DEVICES;
}

enum { REPEAT_READ, REPEAT_PARSE };

static int warn_repeat(struct sense_vm *s, unsigned f, unsigned cause, uint64_t now_usec, int r)
{
        const char *what = cause == REPEAT_READ ? "read" : "cannot parse";

        return log_repeat_errno(&repeat_rl, (uintptr_t)s, f * 2 + cause, now_usec, LOG_WARNING, r, "%s: %s %s: %m",
                                s->name, what, vm_files[f]);
}

int sense_vm_tick(struct sense_vm *s, uint64_t now_usec, struct vm_signals *ret)
{
        struct vm_signals sig = {};
        struct psi_snapshot psi = {};
        struct cgv_cpu_stat cpu = {};
        struct cgv_memory_events ev = {};
        struct cgv_memory_stat ms = {};
        size_t n_io = 0;
        uint64_t elapsed = 0, kernel_unreclaimable;
        bool deltas;
        int r;

        if (now_usec == SENSE_NOW)
                now_usec = monotonic_usec();

        for (unsigned f = 0; f < _SENSE_FILE_MAX; f++) {
                const char *text;

                _cleanup_close_ int once = -1;
                int fd = s->fd[f];

                if (s->missing & SENSE_FILE_BIT(f))
                        continue;
                if (s->transient)
                        fd = once = openat(s->dir_fd, vm_files[f], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                r = fd < 0 ? -errno : reader_read(&s->rd, fd, vm_files[f]);
                if (r < 0) {
                        if (f == SENSE_CPU_STAT && errno_is_vanished(r))
                                return log_debug_errno(-ENODEV, "%s: cgroup gone (cpu.stat: %s)", s->name,
                                                       strerror(-r));
                        if (errno_is_vanished(r) || (is_pressure(f) && r == -EOPNOTSUPP)) {
                                vm_file_drop(s, f, r);
                                continue;
                        }
                        return warn_repeat(s, f, REPEAT_READ, now_usec, r);
                }
                text = read_buf.buf;
                switch (f) {
                case SENSE_CPU_STAT:
                        r = cgv_parse_cpu_stat(text, &cpu);
                        break;
                case SENSE_CPU_PRESSURE:
                        r = psi_parse(text, &psi.cpu);
                        break;
                case SENSE_MEMORY_PRESSURE:
                        r = psi_parse(text, &psi.memory);
                        break;
                case SENSE_IO_PRESSURE:
                        r = psi_parse(text, &psi.io);
                        break;
                case SENSE_MEMORY_CURRENT:
                        r = cgv_parse_u64(text, &sig.memory_current);
                        break;
                case SENSE_MEMORY_STAT:
                        r = cgv_parse_memory_stat(text, &ms);
                        break;
                case SENSE_MEMORY_EVENTS:
                        r = cgv_parse_memory_events(text, &ev);
                        break;
                case SENSE_MEMORY_HIGH:
                        r = cgv_parse_memory(text, &sig.memory_high);
                        break;
                case SENSE_MEMORY_MAX:
                        r = cgv_parse_memory(text, &sig.memory_max);
                        break;
                case SENSE_IO_STAT:
                        r = cgv_parse_io_stat_all(text, cur_io, SENSE_IO_DEVICES_MAX);
                        if (r >= 0)
                                n_io = MIN((size_t)r, (size_t)SENSE_IO_DEVICES_MAX);
                        break;
                default:
                        r = -EINVAL;
                }
                if (r < 0)
                        return warn_repeat(s, f, REPEAT_PARSE, now_usec, r);
        }

        /* room to keep this tick's devices, before anything of the sensor changes: a failure leaves it as it was */
        if (n_io > s->prev_io_allocated) {
                struct cgv_io_stat_device *p = reallocarray(s->prev_io, n_io, sizeof(*p));
                if (!p)
                        return log_warn_errno(-ENOMEM, "%s: out of memory for its io.stat devices", s->name);
                s->prev_io = p;
                s->prev_io_allocated = n_io;
        }

        deltas = s->have_prev && now_usec > s->prev_usec;
        if (deltas) {
                elapsed = now_usec - s->prev_usec;
                sig.interval_usec = elapsed;
                psi_interval(&s->prev_psi.cpu, &psi.cpu, elapsed, &sig.cpu);
                psi_interval(&s->prev_psi.memory, &psi.memory, elapsed, &sig.memory);
                psi_interval(&s->prev_psi.io, &psi.io, elapsed, &sig.io);
                sig.cpu_usage_usec = delta(s->prev_cpu.usage_usec, cpu.usage_usec);
                sig.cpu_user_usec = delta(s->prev_cpu.user_usec, cpu.user_usec);
                sig.cpu_system_usec = delta(s->prev_cpu.system_usec, cpu.system_usec);
                sig.cpu_nr_periods = delta(s->prev_cpu.nr_periods, cpu.nr_periods);
                sig.cpu_nr_throttled = delta(s->prev_cpu.nr_throttled, cpu.nr_throttled);
                sig.cpu_throttled_usec = delta(s->prev_cpu.throttled_usec, cpu.throttled_usec);
                sig.cpu_nr_bursts = delta(s->prev_cpu.nr_bursts, cpu.nr_bursts);
                sig.cpu_burst_usec = delta(s->prev_cpu.burst_usec, cpu.burst_usec);
                sig.cpu_burst_stat = cpu.has_bursts && s->prev_cpu.has_bursts;
                sig.memory_events_high = delta(s->prev_events.high, ev.high);
                sig.memory_events_max = delta(s->prev_events.max, ev.max);
                sig.memory_events_oom = delta(s->prev_events.oom, ev.oom);
                sig.memory_events_oom_kill = delta(s->prev_events.oom_kill, ev.oom_kill);
        }
        sig.psi = psi;

        sig.memory_anon = ms.anon;
        sig.memory_file = ms.file;
        sig.memory_shmem = ms.shmem;
        sig.memory_sock = ms.sock;
        if (ms.has_kernel) {
                sig.memory_kernel = ms.kernel;
                kernel_unreclaimable = delta(ms.slab_reclaimable, ms.kernel);
        } else {
                kernel_unreclaimable = ms.kernel_stack + ms.pagetables + ms.percpu + ms.slab_unreclaimable;
                sig.memory_kernel = kernel_unreclaimable + ms.slab_reclaimable;
        }
        sig.memory_unreclaimable = kernel_unreclaimable + (s->swap ? ms.unevictable : ms.anon + ms.shmem);
        sig.memory_reclaim = s->reclaim;

        io_devices_fill(s, n_io, deltas, &sig);

        /* This tick becomes the previous one. A file dropped this tick leaves zeros, as at open. */
        s->have_prev = true;
        s->prev_usec = now_usec;
        s->prev_psi = psi;
        s->prev_cpu = cpu;
        s->prev_events = ev;
        if (n_io > 0)
                memcpy(s->prev_io, cur_io, n_io * sizeof(cur_io[0]));
        s->n_prev_io = n_io;

        sig.runq = ret->runq;
        *ret = sig;
        return 0;
}

int sense_host_open(int proc_fd, const struct sense_options *opts, struct sense_host **ret)
{
        _cleanup_(sense_host_freep) struct sense_host *h = NULL;
        unsigned missing = 0;
        long n;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        for (unsigned f = 0; f < _HOST_FILE_MAX; f++)
                h->fd[f] = -1;
        r = sensor_init(opts, "/proc", &h->name, &h->rd);
        if (r < 0)
                return r;
        r = files_open(proc_fd, host_files, _HOST_FILE_MAX, h->fd, &missing);
        if (r < 0)
                return r;
        if (missing && !note_no_proc_pressure) {
                note_no_proc_pressure = true;
                log_info("%s/%s does not exist (a kernel without CONFIG_PSI, or booted with psi=0): host pressure "
                         "stays 0",
                         h->name, host_files[__builtin_ctz(missing)]);
        }
        n = sysconf(_SC_NPROCESSORS_ONLN);
        h->ncpus = n > 0 ? (unsigned)n : 1;
        *ret = TAKE_PTR(h);
        return 0;
}

struct sense_host *sense_host_free(struct sense_host *h)
{
        if (!h)
                return NULL;
        fd_drop_all(h->fd, _HOST_FILE_MAX);
        reader_done(&h->rd);
        free(h->name);
        free(h);
        return NULL;
}

int sense_host_tick(struct sense_host *h, uint64_t now_usec, struct host_signals *ret)
{
        struct host_signals sig = {.ncpus = h->ncpus};
        struct psi_resource *res[_HOST_FILE_MAX] = {&sig.psi.cpu, &sig.psi.memory, &sig.psi.io};
        int r;

        if (now_usec == SENSE_NOW)
                now_usec = monotonic_usec();
        for (unsigned f = 0; f < _HOST_FILE_MAX; f++) {
                if (h->fd[f] < 0)
                        continue;
                r = reader_read(&h->rd, h->fd[f], host_files[f]);
                if (r == -EOPNOTSUPP) {
                        char what[512];
                        snprintf(what, sizeof(what), "%s/%s", h->name, host_files[f]);
                        (void)psi_note_read_error(r, what);
                        fd_drop(&h->fd[f]);
                        continue;
                }
                if (r < 0)
                        return log_warn_errno(r, "read %s/%s: %m", h->name, host_files[f]);
                r = psi_parse(read_buf.buf, res[f]);
                if (r < 0)
                        return log_warn_errno(r, "cannot parse %s/%s: %m", h->name, host_files[f]);
        }
        if (h->have_prev && now_usec > h->prev_usec) {
                sig.interval_usec = now_usec - h->prev_usec;
                psi_interval(&h->prev_psi.cpu, &sig.psi.cpu, sig.interval_usec, &sig.cpu);
                psi_interval(&h->prev_psi.memory, &sig.psi.memory, sig.interval_usec, &sig.memory);
                psi_interval(&h->prev_psi.io, &sig.psi.io, sig.interval_usec, &sig.io);
        }
        h->have_prev = true;
        h->prev_usec = now_usec;
        h->prev_psi = sig.psi;
        *ret = sig;
        return 0;
}

int sense_parse_swaps(const char *text, bool *ret_swap)
{
        const char *nl;

        if (!text || strncmp(text, "Filename", 8) != 0)
                return -EINVAL;
        nl = strchr(text, '\n');
        *ret_swap = nl && nl[1] != '\0';
        return 0;
}

int sense_swap_present(int proc_fd, bool *ret_swap)
{
        _cleanup_close_ int fd = -1;
        char buf[512]; /* the header and the first swap line are enough */
        ssize_t n;

        fd = openat(proc_fd, "swaps", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno != ENOENT)
                        return -errno;
                *ret_swap = false;
                return 0;
        }
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return sense_parse_swaps(buf, ret_swap);
}
