/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus text exposition (0.0.4) of the engine's view, and the atomic textfile writer. See metrics.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/macro.h"
#include "kernel/fileio.h"
#include "publish/metrics.h"
#include "kernel/utf8.h"

/* ---- Label values ---- */

/* The controls of utf8_is_control (C0, DEL, C1, line separators, bidi overrides) but tab and newline (escaped as
 * the format says): legal in a label value, but whoever reads the file with cat or curl must not have a VM's name
 * drive their terminal or reorder the line. */
static bool is_control(const unsigned char *p, size_t n)
{
        return utf8_is_control(p, n) && *p != '\t' && *p != '\n';
}

int metrics_escape_label(const char *s, char *buf, size_t size)
{
        static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t len = 0;

        while (*p) {
                const char *add = (const char *)p;
                size_t n = utf8_valid_len(p), step = n;

                if (n == 0 || is_control(p, n)) {
                        add = replacement;
                        step = n ? n : 1;
                        n = 3;
                } else if (*p == '\\')
                        add = "\\\\", n = 2;
                else if (*p == '"')
                        add = "\\\"", n = 2;
                else if (*p == '\n')
                        add = "\\n", n = 2;
                if (len + n >= size)
                        return -ENOBUFS;
                memcpy(buf + len, add, n);
                len += n;
                p += step;
        }
        if (len >= size)
                return -ENOBUFS;
        buf[len] = '\0';
        return (int)len;
}

/* ---- Output ---- */

struct out {
        char *buf;
        size_t len, cap;
        bool oom;
};

static void out_reserve(struct out *o, size_t more)
{
        size_t cap;
        char *b;

        if (o->oom || o->len + more < o->cap)
                return;
        cap = MAX(o->cap * 2, o->len + more + 1);
        cap = MAX(cap, (size_t)4096);
        b = realloc(o->buf, cap);
        if (!b) {
                o->oom = true;
                return;
        }
        o->buf = b;
        o->cap = cap;
}

static void out_add(struct out *o, const char *s)
{
        size_t n = strlen(s);

        out_reserve(o, n);
        if (o->oom)
                return;
        memcpy(o->buf + o->len, s, n + 1);
        o->len += n;
}

/* Formats in place when it fits (nearly always: the buffer doubles), else grows the buffer and formats again. */
_printf_(2, 3) static void out_printf(struct out *o, const char *fmt, ...)
{
        size_t room = o->buf ? o->cap - o->len : 0;
        va_list ap;
        int n;

        if (o->oom)
                return;
        va_start(ap, fmt);
        n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
                o->oom = true;
                return;
        }
        if ((size_t)n >= room) {
                out_reserve(o, (size_t)n);
                if (o->oom)
                        return;
                va_start(ap, fmt);
                vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
                va_end(ap);
        }
        o->len += (size_t)n;
}

/* ---- Numbers: exact decimals from integers, no floating point ---- */

#define VALUE_MAX 48

/* num / 10^digits with up to that many decimals, trailing zeros dropped: (2100, 6) → "0.0021". */
static const char *fmt_fixed(uint64_t num, unsigned digits, char *buf)
{
        uint64_t scale = 1;

        for (unsigned d = 0; d < digits; d++)
                scale *= 10;
        uint64_t frac = num % scale;
        int n = snprintf(buf, VALUE_MAX, "%" PRIu64, num / scale);

        if (frac) {
                n += snprintf(buf + n, VALUE_MAX - n, ".%0*" PRIu64, (int)digits, frac);
                while (buf[n - 1] == '0')
                        buf[--n] = '\0';
        }
        return buf;
}

/* µs or ns as seconds: 1500000 µs → "1.5", 2 ns → "0.000000002". */
static const char *fmt_micro(uint64_t usec, char *buf)
{
        return fmt_fixed(usec, 6, buf);
}

static const char *fmt_nano(uint64_t nsec, char *buf)
{
        return fmt_fixed(nsec, 9, buf);
}

static const char *fmt_u64(uint64_t v, char *buf)
{
        snprintf(buf, VALUE_MAX, "%" PRIu64, v);
        return buf;
}

static const char *fmt_u64_or_inf(uint64_t v, char *buf)
{
        return v == LIMIT_MAX ? "+Inf" : fmt_u64(v, buf);
}

/* ---- Families ---- */

struct family {
        const char *name, *type, *help;
};

static const struct family F_DRY_RUN = {"vmgov_dry_run", "gauge",
                                        "1 when the engine changes nothing and only logs what it would write"};
static const struct family F_TICKS = {"vmgov_ticks_total", "counter",
                                      "Ticks (discover, sense, decide, act) run since the engine started"};
static const struct family F_TICK_DURATION = {"vmgov_tick_duration_seconds", "gauge", "How long the last tick took"};
static const struct family F_INTERVAL = {"vmgov_interval_seconds", "gauge", "Time between two ticks (Interval=)"};
static const struct family F_VMS = {"vmgov_vms", "gauge",
                                    "QEMU processes the engine tracks (one vmgov_vm_info series each)"};
static const struct family F_DECISIONS = {"vmgov_decisions_total", "counter",
                                          "Changes of a cgroup file the engine made (in dry-run: would have made), by "
                                          "file, over every VM since the engine started"};
static const struct family F_WRITE_ERRORS = {
        "vmgov_write_errors_total", "counter",
        "Reads or writes of a cgroup file that failed, over every VM since the engine started"};
static const struct family F_FREEZES = {"vmgov_freezes_total", "counter",
                                        "VMs frozen (cgroup.freeze) under host memory pressure, since the engine "
                                        "started"};
static const struct family F_FROZEN = {"vmgov_vms_frozen", "gauge", "VMs the engine holds frozen now"};
static const struct family F_HOST_STALLED = {
        "vmgov_host_pressure_stalled_seconds_total", "counter",
        "Time in which some (kind=some) or all (kind=full) non-idle tasks of the host stalled on the resource, since "
        "boot (/proc/pressure total)"};
static const struct family F_VM_INFO = {"vmgov_vm_info", "gauge",
                                        "A QEMU process the engine tracks, always 1; labels name its pid, cgroup "
                                        "(relative to the cgroup2 mount) and executable"};
static const struct family F_VM_CPU_WEIGHT = {"vmgov_vm_cpu_weight", "gauge",
                                              "cpu.weight the engine holds the VM at (in dry-run: would hold)"};
static const struct family F_VM_CPU_IDLE = {"vmgov_vm_cpu_idle", "gauge",
                                            "1 when the engine holds the VM at cpu.idle (CPUWeight=idle)"};
static const struct family F_VM_CPU_QUOTA = {"vmgov_vm_cpu_max_quota_seconds", "gauge",
                                             "cpu.max quota: CPU time the VM may use per period; +Inf for max"};
static const struct family F_VM_CPU_PERIOD = {"vmgov_vm_cpu_max_period_seconds", "gauge", "cpu.max period"};
static const struct family F_VM_MEMORY_HIGH = {"vmgov_vm_memory_high_bytes", "gauge",
                                               "memory.high the engine holds the VM at; +Inf for max"};
static const struct family F_VM_MEMORY_MAX = {"vmgov_vm_memory_max_bytes", "gauge",
                                              "memory.max the engine holds the VM at; +Inf for max"};
static const struct family F_VM_IO_WEIGHT = {"vmgov_vm_io_weight", "gauge",
                                             "io.weight (default) the engine holds the VM at"};
static const struct family F_VM_IO_BPS = {"vmgov_vm_io_max_bytes_per_second", "gauge",
                                          "io.max bandwidth limit by device (MAJ:MIN) and direction; +Inf for max"};
static const struct family F_VM_IO_IOPS = {"vmgov_vm_io_max_operations_per_second", "gauge",
                                           "io.max IOPS limit by device (MAJ:MIN) and direction; +Inf for max"};
static const struct family F_VM_MEMORY_CURRENT = {"vmgov_vm_memory_current_bytes", "gauge",
                                                  "memory.current: memory charged to the VM's cgroup"};
static const struct family F_VM_CPU_USAGE = {"vmgov_vm_cpu_usage_seconds_total", "counter",
                                             "CPU time the VM used (cpu.stat usage_usec), since it was first tracked"};
static const struct family F_VM_CPU_THROTTLED = {
        "vmgov_vm_cpu_throttled_seconds_total", "counter",
        "Time the VM's tasks were throttled by cpu.max (cpu.stat throttled_usec), since it was first tracked"};
static const struct family F_VM_CPU_PERIODS = {
        "vmgov_vm_cpu_periods_total", "counter",
        "cpu.max enforcement periods in which the VM ran (cpu.stat nr_periods), since it was first tracked"};
static const struct family F_VM_CPU_THROTTLED_PERIODS = {
        "vmgov_vm_cpu_throttled_periods_total", "counter",
        "Of those, the periods in which the VM was throttled (cpu.stat nr_throttled)"};
static const struct family F_VM_STALLED = {
        "vmgov_vm_pressure_stalled_seconds_total", "counter",
        "Time in which some (kind=some) or all (kind=full) of the VM's tasks stalled on the resource (PSI), since it "
        "was first tracked"};
static const struct family F_VM_MEMORY_EVENTS = {
        "vmgov_vm_memory_events_total", "counter",
        "memory.events of the VM's cgroup: times it went over memory.high (high), hit memory.max (max), the OOM "
        "killer was invoked (oom) or killed a process in it (oom_kill), since it was first tracked"};
static const struct family F_VM_IO_BYTES = {"vmgov_vm_io_bytes_total", "counter",
                                            "Bytes the VM read or wrote, by device (MAJ:MIN), since it was first "
                                            "tracked (io.stat)"};
static const struct family F_VM_IO_OPS = {"vmgov_vm_io_operations_total", "counter",
                                          "Read or write operations of the VM, by device (MAJ:MIN), since it was "
                                          "first tracked (io.stat)"};
static const struct family F_VM_RUNQ_BPF = {
        "vmgov_vm_runqueue_latency_seconds", "histogram",
        "Run-queue latency (wake-up to running) of the VM's threads since it was first tracked, in the log2 buckets "
        "eBPF counts"};
static const struct family F_VM_RUNQ_SCHEDSTAT = {
        "vmgov_vm_runqueue_latency_seconds", "histogram",
        "Run-queue latency (wake-up to running) of the VM's threads since it was first tracked; measured from "
        "schedstat, which gives only the sum and the count, so there are no buckets"};
static const struct family F_VM_VCPU_RUNQ_BPF = {
        "vmgov_vm_vcpu_runqueue_latency_seconds", "histogram",
        "Run-queue latency of the VM's vCPU threads (CPU n/KVM) since it was first tracked, in the log2 buckets eBPF "
        "counts"};
static const struct family F_VM_VCPU_RUNQ_SCHEDSTAT = {
        "vmgov_vm_vcpu_runqueue_latency_seconds", "histogram",
        "Run-queue latency of the VM's vCPU threads (CPU n/KVM) since it was first tracked; measured from schedstat, "
        "which gives only the sum and the count, so there are no buckets"};
static const struct family F_VM_DECISIONS = {
        "vmgov_vm_decisions_total", "counter",
        "Changes of the VM's cgroup files the engine made (in dry-run: would have made), by file"};
static const struct family F_VM_WRITE_ERRORS = {"vmgov_vm_write_errors_total", "counter",
                                                "Reads or writes of the VM's cgroup files that failed"};
static const struct family F_VM_FREEZES = {"vmgov_vm_freezes_total", "counter",
                                           "Times the engine froze the VM (cgroup.freeze) under host memory pressure"};
static const struct family F_VM_FROZEN = {"vmgov_vm_frozen", "gauge", "1 while the engine holds the VM frozen"};
/* A VM whose threads are placed apart: a series per threaded child (thread="vcpu0", "iothread0", "emulator"). */
static const struct family F_THREAD_INFO = {
        "vmgov_thread_info", "gauge",
        "A threaded child of a VM's cgroup: its thread id (none for the emulator's many threads) and the CPUs its "
        "threads may run on (cpuset.cpus.effective)"};
static const struct family F_THREAD_CPU_USAGE = {
        "vmgov_thread_cpu_usage_seconds_total", "counter",
        "CPU time the threads of the child used (cpu.stat usage_usec), since the child was made"};
static const struct family F_THREAD_CPU_THROTTLED = {
        "vmgov_thread_cpu_throttled_seconds_total", "counter",
        "Time the child's threads were throttled by its cpu.max (cpu.stat throttled_usec), since it was made"};
static const struct family F_THREAD_CPU_PERIODS = {"vmgov_thread_cpu_periods_total", "counter",
                                                   "cpu.max periods in which the child's threads ran (nr_periods)"};
static const struct family F_THREAD_CPU_THROTTLED_PERIODS = {
        "vmgov_thread_cpu_throttled_periods_total", "counter",
        "Of those, the periods in which they were throttled (nr_throttled)"};
static const struct family F_THREAD_RUNQ_P99 = {
        "vmgov_thread_runq_latency_p99_seconds", "gauge",
        "A vCPU thread's run-queue latency (wake-up to running), 99th percentile over the last tick (eBPF)"};

/* Writes a family's HELP and TYPE lines before its first sample, so a family without samples leaves no trace. */
struct emitter {
        struct out *o;
        const struct family *f;
        bool started;
};

static void family_begin(struct emitter *em, const struct family *f)
{
        em->f = f;
        em->started = false;
}

/* One sample, NAME{LABELS,EXTRA} VALUE (NAME_SUFFIX for a histogram's _bucket, _sum and _count); labels and extra
 * are escaped already, and either may be NULL or "". */
static void sample_as(struct emitter *em, const char *suffix, const char *labels, const char *extra, const char *value)
{
        const struct family *f = em->f;
        bool l = labels && labels[0], x = extra && extra[0];

        if (!em->started) {
                out_printf(em->o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
                em->started = true;
        }
        /* the hottest line of the file (some 100 per VM): plain appends, no format to interpret */
        out_add(em->o, f->name);
        if (suffix)
                out_add(em->o, suffix);
        if (l || x) {
                out_add(em->o, "{");
                if (l)
                        out_add(em->o, labels);
                if (l && x)
                        out_add(em->o, ",");
                if (x)
                        out_add(em->o, extra);
                out_add(em->o, "}");
        }
        out_add(em->o, " ");
        out_add(em->o, value);
        out_add(em->o, "\n");
}

static void sample(struct emitter *em, const char *labels, const char *extra, const char *value)
{
        sample_as(em, NULL, labels, extra, value);
}

/* Append key="escaped value" to a label list, with a comma after an earlier label. */
static void out_label(struct out *o, const char *key, const char *value)
{
        size_t n = strlen(value ? value : "");
        int r;

        out_reserve(o, strlen(key) + 3 * n + 5);
        if (o->oom)
                return;
        o->len += (size_t)snprintf(o->buf + o->len, o->cap - o->len, "%s%s=\"", o->len ? "," : "", key);
        r = metrics_escape_label(value, o->buf + o->len, o->cap - o->len);
        if (r < 0) {
                o->oom = true;
                return;
        }
        o->len += (size_t)r;
        out_add(o, "\"");
}

/* The labels of every series of one VM: vm, uuid (where it has one), group, and pid when with_pid. NULL when out
 * of memory. */
static char *vm_labels(const struct metrics_vm *vm, bool with_pid)
{
        struct out o = {};
        char pid[VALUE_MAX];

        out_label(&o, "vm", vm_name(vm->id));
        if (vm->id->uuid[0])
                out_label(&o, "uuid", vm->id->uuid);
        out_label(&o, "group", vm->group);
        if (with_pid)
                out_label(&o, "pid", fmt_u64((uint64_t)vm->id->pid, pid));
        if (o.oom) {
                free(o.buf);
                return NULL;
        }
        return o.buf;
}

static int labels_compare(const void *a, const void *b, void *userdata)
{
        char **labels = userdata;
        return strcmp(labels[*(const size_t *)a], labels[*(const size_t *)b]);
}

/* Every VM's labels; two VMs that would have the same ones (same -name, no uuid, same group) get their pid too,
 * or the file would hold one series twice and be refused. -ENOMEM. */
static int vms_labels(const struct metrics_vm *vms, size_t n, char **labels)
{
        _cleanup_free_ size_t *order = calloc(n ? n : 1, sizeof(size_t));

        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                labels[i] = vm_labels(&vms[i], false);
                if (!labels[i])
                        return -ENOMEM;
                order[i] = i;
        }
        qsort_r(order, n, sizeof(size_t), labels_compare, labels);
        for (size_t i = 0; i < n;) {
                size_t j = i + 1;
                while (j < n && strcmp(labels[order[i]], labels[order[j]]) == 0)
                        j++;
                for (size_t k = i; j - i > 1 && k < j; k++) {
                        free(labels[order[k]]);
                        labels[order[k]] = vm_labels(&vms[order[k]], true);
                        if (!labels[order[k]])
                                return -ENOMEM;
                }
                i = j;
        }
        return 0;
}

static const char *const resource_names[] = {"cpu", "memory", "io"};
static const char *const kind_names[] = {"some", "full"};

static void stalled(struct emitter *em, const char *labels, const uint64_t usec[3][2])
{
        char v[VALUE_MAX], extra[64];

        for (size_t r = 0; r < 3; r++)
                for (size_t k = 0; k < 2; k++) {
                        snprintf(extra, sizeof(extra), "resource=\"%s\",kind=\"%s\"", resource_names[r], kind_names[k]);
                        sample(em, labels, extra, fmt_micro(usec[r][k], v));
                }
}

static void decisions(struct emitter *em, const char *labels, const struct metrics_counters *c)
{
        char v[VALUE_MAX], extra[64];

        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++) {
                if (f >= METRICS_FILE_SPARSE_FIRST && !c->decisions[f])
                        continue;
                snprintf(extra, sizeof(extra), "file=\"%s\"", metrics_file_to_string(f));
                sample(em, labels, extra, fmt_u64(c->decisions[f], v));
        }
}

static void io_limits(struct emitter *em, const char *labels, const struct limits *lim, bool iops)
{
        char v[VALUE_MAX], extra[96];

        for (unsigned d = 0; d < lim->n_io_devices && d < IO_DEVICES_MAX; d++) {
                const struct io_device_limit *dl = &lim->io_devices[d];

                snprintf(extra, sizeof(extra), "device=\"%u:%u\",op=\"read\"", dl->major, dl->minor);
                sample(em, labels, extra, fmt_u64_or_inf(iops ? dl->riops : dl->rbps, v));
                snprintf(extra, sizeof(extra), "device=\"%u:%u\",op=\"write\"", dl->major, dl->minor);
                sample(em, labels, extra, fmt_u64_or_inf(iops ? dl->wiops : dl->wbps, v));
        }
}

static void vm_limits(struct emitter *em, const struct metrics_vm *vms, size_t n, char **labels)
{
        char v[VALUE_MAX];

        family_begin(em, &F_VM_CPU_WEIGHT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->cpu_weight_set && !vms[i].limits->cpu_idle)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].limits->cpu_weight, v));
        family_begin(em, &F_VM_CPU_IDLE);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->cpu_idle)
                        sample(em, labels[i], NULL, "1");
        family_begin(em, &F_VM_CPU_QUOTA);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->cpu_max_set) {
                        uint64_t q = vms[i].limits->cpu_quota_usec;
                        sample(em, labels[i], NULL, q == LIMIT_MAX ? "+Inf" : fmt_micro(q, v));
                }
        family_begin(em, &F_VM_CPU_PERIOD);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->cpu_max_set)
                        sample(em, labels[i], NULL, fmt_micro(vms[i].limits->cpu_period_usec, v));
        family_begin(em, &F_VM_MEMORY_HIGH);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->memory_high_set)
                        sample(em, labels[i], NULL, fmt_u64_or_inf(vms[i].limits->memory_high, v));
        family_begin(em, &F_VM_MEMORY_MAX);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->memory_max_set)
                        sample(em, labels[i], NULL, fmt_u64_or_inf(vms[i].limits->memory_max, v));
        family_begin(em, &F_VM_IO_WEIGHT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits && vms[i].limits->io_weight_set)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].limits->io_weight, v));
        family_begin(em, &F_VM_IO_BPS);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits)
                        io_limits(em, labels[i], vms[i].limits, false);
        family_begin(em, &F_VM_IO_IOPS);
        for (size_t i = 0; i < n; i++)
                if (vms[i].limits)
                        io_limits(em, labels[i], vms[i].limits, true);
}

/* A Prometheus histogram from log2 buckets: le is each bucket's upper bound, 2^(b+1) ns (a wait of exactly that
 * many ns is counted in the next bucket: the bounds are the kernel's, to the nanosecond); the last bucket, open
 * above 2^31 ns, is +Inf. Without buckets, only _sum and _count. */
static void histogram(struct emitter *em, const char *labels, const struct runq_histogram *h)
{
        char v[VALUE_MAX], le[VALUE_MAX + 8], bound[VALUE_MAX];
        uint64_t cumulative = 0;

        if (h->buckets) {
                for (unsigned b = 0; b + 1 < RUNQ_BUCKETS; b++) {
                        cumulative += h->count[b];
                        snprintf(le, sizeof(le), "le=\"%s\"", fmt_nano(UINT64_C(2) << b, bound));
                        sample_as(em, "_bucket", labels, le, fmt_u64(cumulative, v));
                }
                cumulative += h->count[RUNQ_BUCKETS - 1];
                sample_as(em, "_bucket", labels, "le=\"+Inf\"", fmt_u64(cumulative, v));
        } else
                cumulative = h->samples;
        sample_as(em, "_sum", labels, NULL, fmt_nano(h->sum_ns, v));
        sample_as(em, "_count", labels, NULL, fmt_u64(cumulative, v));
}

static void vm_counters(struct emitter *em, const struct metrics_vm *vms, size_t n, char **labels, bool bpf)
{
        static const char *const events[] = {"high", "max", "oom", "oom_kill"};
        char v[VALUE_MAX], extra[96];

        family_begin(em, &F_VM_MEMORY_CURRENT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].sig)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].sig->memory_current, v));

        family_begin(em, &F_VM_CPU_USAGE);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals)
                        sample(em, labels[i], NULL, fmt_micro(vms[i].totals->cpu_usage_usec, v));
        family_begin(em, &F_VM_CPU_THROTTLED);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals)
                        sample(em, labels[i], NULL, fmt_micro(vms[i].totals->cpu_throttled_usec, v));
        family_begin(em, &F_VM_CPU_PERIODS);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].totals->cpu_periods, v));
        family_begin(em, &F_VM_CPU_THROTTLED_PERIODS);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].totals->cpu_throttled_periods, v));
        family_begin(em, &F_VM_STALLED);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals)
                        stalled(em, labels[i], vms[i].totals->stall_usec);
        family_begin(em, &F_VM_MEMORY_EVENTS);
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; vms[i].totals && k < ELEMENTSOF(events); k++) {
                        snprintf(extra, sizeof(extra), "event=\"%s\"", events[k]);
                        sample(em, labels[i], extra, fmt_u64(vms[i].totals->memory_events[k], v));
                }
        for (int ops = 0; ops < 2; ops++) {
                family_begin(em, ops ? &F_VM_IO_OPS : &F_VM_IO_BYTES);
                for (size_t i = 0; i < n; i++)
                        for (unsigned d = 0; vms[i].totals && d < vms[i].totals->n_io_devices; d++) {
                                const struct metrics_io_device *io = &vms[i].totals->io[d];
                                snprintf(extra, sizeof(extra), "device=\"%u:%u\",op=\"read\"", io->major, io->minor);
                                sample(em, labels[i], extra, fmt_u64(ops ? io->rios : io->rbytes, v));
                                snprintf(extra, sizeof(extra), "device=\"%u:%u\",op=\"write\"", io->major, io->minor);
                                sample(em, labels[i], extra, fmt_u64(ops ? io->wios : io->wbytes, v));
                        }
        }

        family_begin(em, bpf ? &F_VM_RUNQ_BPF : &F_VM_RUNQ_SCHEDSTAT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals && vms[i].totals->runq.samples)
                        histogram(em, labels[i], &vms[i].totals->runq);
        family_begin(em, bpf ? &F_VM_VCPU_RUNQ_BPF : &F_VM_VCPU_RUNQ_SCHEDSTAT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].totals && vms[i].totals->vcpu_runq.samples)
                        histogram(em, labels[i], &vms[i].totals->vcpu_runq);
}

/* thread="NAME" for a child's series; its name is the engine's own (kernel/threadcg.h), but escaped all the same. */
static void thread_label(const struct thread_signals *t, char *buf, size_t size)
{
        char name[3 * sizeof(t->name) + 1];

        if (metrics_escape_label(t->name, name, sizeof(name)) < 0)
                name[0] = '\0';
        snprintf(buf, size, "thread=\"%s\"", name);
}

static void thread_series(struct emitter *em, const struct metrics_vm *vms, size_t n, char **labels)
{
        char extra[3 * (THREAD_CGROUP_NAME_MAX + THREAD_SIGNALS_CPUS_MAX) + 64], v[VALUE_MAX];
        const struct {
                const struct family *f;
                size_t offset;
                bool micro;
        } counters[] = {
                {&F_THREAD_CPU_USAGE, offsetof(struct thread_signals, usage_usec), true},
                {&F_THREAD_CPU_THROTTLED, offsetof(struct thread_signals, throttled_usec), true},
                {&F_THREAD_CPU_PERIODS, offsetof(struct thread_signals, nr_periods), false},
                {&F_THREAD_CPU_THROTTLED_PERIODS, offsetof(struct thread_signals, nr_throttled), false},
        };

        family_begin(em, &F_THREAD_INFO);
        for (size_t i = 0; i < n && !em->o->oom; i++)
                for (size_t k = 0; k < vms[i].n_threads; k++) {
                        const struct thread_signals *t = &vms[i].threads[k];
                        struct out info = {};
                        char tid[VALUE_MAX];

                        thread_label(t, extra, sizeof(extra));
                        out_add(&info, extra);
                        if (t->tid > 0)
                                out_label(&info, "tid", fmt_u64((uint64_t)t->tid, tid));
                        if (t->cpus[0]) /* no cpuset for the child: nothing to say */
                                out_label(&info, "cpus", t->cpus);
                        if (info.oom)
                                em->o->oom = true;
                        else
                                sample(em, labels[i], info.buf, "1");
                        free(info.buf);
                }
        for (size_t c = 0; c < ELEMENTSOF(counters); c++) {
                family_begin(em, counters[c].f);
                for (size_t i = 0; i < n; i++)
                        for (size_t k = 0; k < vms[i].n_threads; k++) {
                                const struct thread_signals *t = &vms[i].threads[k];
                                uint64_t value = *(const uint64_t *)((const char *)t + counters[c].offset);

                                if (!t->stat_read)
                                        continue;
                                thread_label(t, extra, sizeof(extra));
                                sample(em, labels[i], extra,
                                       counters[c].micro ? fmt_micro(value, v) : fmt_u64(value, v));
                        }
        }
        family_begin(em, &F_THREAD_RUNQ_P99);
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < vms[i].n_threads; k++) {
                        const struct thread_signals *t = &vms[i].threads[k];

                        if (!t->runq_measured || !t->runq_samples)
                                continue;
                        thread_label(t, extra, sizeof(extra));
                        sample(em, labels[i], extra, fmt_micro(t->runq_p99_usec, v));
                }
}

int metrics_format(const struct metrics_engine *e, const struct metrics_vm *vms, size_t n_vms, char **ret_text,
                   size_t *ret_len)
{
        struct out o = {};
        struct emitter em = {.o = &o};
        char **labels, v[VALUE_MAX];

        labels = calloc(n_vms ? n_vms : 1, sizeof(char *));
        if (!labels)
                return -ENOMEM;
        if (vms_labels(vms, n_vms, labels) < 0)
                o.oom = true;

        /* The engine. */
        family_begin(&em, &F_DRY_RUN);
        sample(&em, NULL, NULL, e->dry_run ? "1" : "0");
        family_begin(&em, &F_TICKS);
        sample(&em, NULL, NULL, fmt_u64(e->ticks, v));
        family_begin(&em, &F_TICK_DURATION);
        sample(&em, NULL, NULL, fmt_micro(e->tick_duration_usec, v));
        family_begin(&em, &F_INTERVAL);
        sample(&em, NULL, NULL, fmt_micro(e->interval_usec, v));
        family_begin(&em, &F_VMS);
        sample(&em, NULL, NULL, fmt_u64(n_vms, v));
        if (e->totals) {
                family_begin(&em, &F_DECISIONS);
                decisions(&em, NULL, e->totals);
                family_begin(&em, &F_WRITE_ERRORS);
                sample(&em, NULL, NULL, fmt_u64(e->totals->write_errors, v));
                family_begin(&em, &F_FREEZES);
                sample(&em, NULL, NULL, fmt_u64(e->totals->freezes, v));
                family_begin(&em, &F_FROZEN);
                sample(&em, NULL, NULL, fmt_u64(e->totals->freezes - e->totals->freezes_ended, v));
        }
        if (e->host) {
                const struct psi_resource *r[3] = {&e->host->psi.cpu, &e->host->psi.memory, &e->host->psi.io};
                const uint64_t usec[3][2] = {{r[0]->some.total_usec, r[0]->full.total_usec},
                                             {r[1]->some.total_usec, r[1]->full.total_usec},
                                             {r[2]->some.total_usec, r[2]->full.total_usec}};
                family_begin(&em, &F_HOST_STALLED);
                stalled(&em, NULL, usec);
        }

        /* Each VM: who it is, its limits, its levels, its counters and histograms. */
        family_begin(&em, &F_VM_INFO);
        for (size_t i = 0; i < n_vms && !o.oom; i++) {
                struct out info = {};
                char pid[VALUE_MAX];

                if (!strstr(labels[i], ",pid=\""))
                        out_label(&info, "pid", fmt_u64((uint64_t)vms[i].id->pid, pid));
                out_label(&info, "cgroup", vms[i].cgroup);
                out_label(&info, "exe", vm_exe(vms[i].id));
                if (info.oom)
                        o.oom = true;
                else
                        sample(&em, labels[i], info.buf, "1");
                free(info.buf);
        }
        if (!o.oom) {
                vm_limits(&em, vms, n_vms, labels);
                vm_counters(&em, vms, n_vms, labels, e->runq_source != RUNQ_SOURCE_SCHEDSTAT);

                family_begin(&em, &F_VM_DECISIONS);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                decisions(&em, labels[i], vms[i].counters);
                family_begin(&em, &F_VM_WRITE_ERRORS);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                sample(&em, labels[i], NULL, fmt_u64(vms[i].counters->write_errors, v));
                family_begin(&em, &F_VM_FREEZES);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                sample(&em, labels[i], NULL, fmt_u64(vms[i].counters->freezes, v));
                family_begin(&em, &F_VM_FROZEN);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                sample(&em, labels[i], NULL,
                                       vms[i].counters->freezes > vms[i].counters->freezes_ended ? "1" : "0");
                thread_series(&em, vms, n_vms, labels);
        }

        for (size_t i = 0; i < n_vms; i++)
                free(labels[i]);
        free(labels);
        if (!o.oom && !o.buf)
                out_add(&o, "");
        if (o.oom) {
                free(o.buf);
                return -ENOMEM;
        }
        *ret_text = o.buf;
        *ret_len = o.len;
        return 0;
}

/* ---- The textfile ---- */

int metrics_write_textfile(const char *path, const char *text, size_t len)
{
        return atomic_write_file(path, text, len, 0644, false); /* 0644: node_exporter reads it, whatever the umask */
}
