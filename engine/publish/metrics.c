/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus text exposition (0.0.4) of the engine's view, and the atomic textfile writer. See metrics.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/macro.h"
#include "kernel/fileio.h"
#include "publish/metrics.h"
#include "kernel/utf8.h"

static const char *const file_names[_METRICS_FILE_MAX] = {
        [METRICS_FILE_CPU_WEIGHT] = "cpu.weight",
        [METRICS_FILE_CPU_IDLE] = "cpu.idle",
        [METRICS_FILE_CPU_MAX] = "cpu.max",
        [METRICS_FILE_MEMORY_HIGH] = "memory.high",
        [METRICS_FILE_MEMORY_MAX] = "memory.max",
        [METRICS_FILE_IO_WEIGHT] = "io.weight",
        [METRICS_FILE_IO_MAX] = "io.max",
        [METRICS_FILE_CGROUP_PROCS] = "cgroup.procs",
        [METRICS_FILE_MEMORY_RECLAIM] = "memory.reclaim",
        [METRICS_FILE_OTHER] = "other",
};

const char *metrics_file_to_string(enum metrics_file f)
{
        return (unsigned)f < _METRICS_FILE_MAX ? file_names[f] : "other";
}

enum metrics_file metrics_file_from_string(const char *file)
{
        for (unsigned i = 0; i < METRICS_FILE_OTHER; i++)
                if (file && strcmp(file, file_names[i]) == 0)
                        return (enum metrics_file)i;
        return METRICS_FILE_OTHER;
}

void metrics_count(struct metrics_counters *c, const char *file, int apply_result)
{
        if (apply_result > 0)
                c->decisions[metrics_file_from_string(file)]++;
        else if (apply_result < 0)
                c->write_errors++;
}

/* ---- Label values ---- */

/* C0 controls other than tab and newline, DEL, and C1 controls (U+0080..U+009F, which some terminals take as ESC
 * sequences): legal in a label value, but whoever reads the file with cat or curl must not have a VM's name drive
 * their terminal. */
static bool is_control(const unsigned char *p, size_t n)
{
        if (n == 1)
                return (*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f;
        return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
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

/* num / 10^6 with up to six decimals, trailing zeros dropped: 2100 → "0.0021", 1500000 → "1.5". */
static const char *fmt_micro(uint64_t num, char *buf)
{
        uint64_t frac = num % 1000000;
        int n = snprintf(buf, VALUE_MAX, "%" PRIu64, num / 1000000);

        if (frac) {
                n += snprintf(buf + n, VALUE_MAX - n, ".%06" PRIu64, frac);
                while (buf[n - 1] == '0')
                        buf[--n] = '\0';
        }
        return buf;
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

/* a / b as a decimal with six places (truncated); b > 0. */
static const char *fmt_ratio(uint64_t a, uint64_t b, char *buf)
{
        unsigned __int128 q = (unsigned __int128)a * 1000000 / b;

        return fmt_micro(q > UINT64_MAX ? UINT64_MAX : (uint64_t)q, buf);
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
static const struct family F_HOST_PRESSURE = {"vmgov_host_pressure_ratio", "gauge",
                                              "Share of the last tick in which some (kind=some) or all (kind=full) "
                                              "non-idle tasks of the host stalled on the resource (/proc/pressure)"};
static const struct family F_VM_INFO = {"vmgov_vm_info", "gauge",
                                        "A QEMU process the engine tracks, always 1; labels name its uuid, cgroup "
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
static const struct family F_VM_PRESSURE = {"vmgov_vm_pressure_ratio", "gauge",
                                            "Share of the last tick in which some (kind=some) or all (kind=full) of "
                                            "the VM's tasks stalled on the resource"};
static const struct family F_VM_RUNQ = {"vmgov_vm_runqueue_latency_seconds", "gauge",
                                        "Run-queue latency (wake-up to running) of the VM's threads in the last tick, "
                                        "by quantile; source is bpf or schedstat"};
static const struct family F_VM_VCPU_RUNQ = {
        "vmgov_vm_vcpu_runqueue_latency_seconds", "gauge",
        "Run-queue latency of the VM's vCPU threads (CPU n/KVM) in the last tick, by quantile"};
static const struct family F_VM_RUNQ_SAMPLES = {
        "vmgov_vm_runqueue_latency_samples", "gauge",
        "Wake-ups measured for the run-queue latency quantiles in the last tick"};
static const struct family F_VM_CPU_USAGE = {"vmgov_vm_cpu_usage_ratio", "gauge",
                                             "CPU time the VM used per second of the last tick (1 = one CPU)"};
static const struct family F_VM_CPU_THROTTLED = {"vmgov_vm_cpu_throttled_ratio", "gauge",
                                                 "Time the VM spent throttled by cpu.max per second of the last tick"};
static const struct family F_VM_CPU_THROTTLED_PERIODS = {
        "vmgov_vm_cpu_throttled_periods_ratio", "gauge",
        "Share of the last tick's cpu.max periods in which the VM was throttled"};
static const struct family F_VM_MEMORY_CURRENT = {"vmgov_vm_memory_current_bytes", "gauge",
                                                  "memory.current: memory charged to the VM's cgroup"};
static const struct family F_VM_DECISIONS = {
        "vmgov_vm_decisions_total", "counter",
        "Changes of the VM's cgroup files the engine made (in dry-run: would have made), by file"};
static const struct family F_VM_WRITE_ERRORS = {"vmgov_vm_write_errors_total", "counter",
                                                "Reads or writes of the VM's cgroup files that failed"};

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

/* One sample, NAME{LABELS,EXTRA} VALUE; labels and extra are escaped already, and either may be NULL or "". */
static void sample(struct emitter *em, const char *labels, const char *extra, const char *value)
{
        const struct family *f = em->f;
        bool l = labels && labels[0], x = extra && extra[0];

        if (!em->started) {
                out_printf(em->o, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
                em->started = true;
        }
        /* the hottest line of the file (some 40 per VM): plain appends, no format to interpret */
        out_add(em->o, f->name);
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

/* The labels of every series of one VM: vm, group, pid. NULL when out of memory. */
static char *vm_labels(const struct metrics_vm *vm)
{
        struct out o = {};
        char pid[VALUE_MAX];

        out_label(&o, "vm", vm->id->name);
        out_label(&o, "group", vm->group);
        out_label(&o, "pid", fmt_u64((uint64_t)vm->id->pid, pid));
        if (o.oom) {
                free(o.buf);
                return NULL;
        }
        return o.buf;
}

static const char *const resource_names[] = {"cpu", "memory", "io"};

static void pressures(struct emitter *em, const char *labels, const struct pressure p[3])
{
        char v[VALUE_MAX], extra[64];

        for (size_t i = 0; i < 3; i++) {
                snprintf(extra, sizeof(extra), "resource=\"%s\",kind=\"some\"", resource_names[i]);
                sample(em, labels, extra, fmt_micro(p[i].some_ppm, v));
                snprintf(extra, sizeof(extra), "resource=\"%s\",kind=\"full\"", resource_names[i]);
                sample(em, labels, extra, fmt_micro(p[i].full_ppm, v));
        }
}

static void decisions(struct emitter *em, const char *labels, const struct metrics_counters *c)
{
        char v[VALUE_MAX], extra[64];

        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++) {
                if (f == METRICS_FILE_OTHER && !c->decisions[f])
                        continue;
                snprintf(extra, sizeof(extra), "file=\"%s\"", file_names[f]);
                sample(em, labels, extra, fmt_u64(c->decisions[f], v));
        }
}

static bool vm_has_deltas(const struct metrics_vm *vm)
{
        return vm->sig && vm->sig->interval_usec > 0;
}

static bool vm_has_runq(const struct metrics_vm *vm)
{
        return vm->sig && vm->sig->runq.source != RUNQ_SOURCE_NONE;
}

static const char *runq_source_name(enum runq_source s)
{
        return s == RUNQ_SOURCE_BPF ? "bpf" : s == RUNQ_SOURCE_SCHEDSTAT ? "schedstat" : "none";
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

static void vm_signals(struct emitter *em, const struct metrics_vm *vms, size_t n, char **labels)
{
        static const char *const quantiles[] = {"0.5", "0.9", "0.99"};
        char v[VALUE_MAX], extra[64];

        family_begin(em, &F_VM_PRESSURE);
        for (size_t i = 0; i < n; i++)
                if (vm_has_deltas(&vms[i]))
                        pressures(em, labels[i],
                                  (const struct pressure[3]){vms[i].sig->cpu, vms[i].sig->memory, vms[i].sig->io});

        family_begin(em, &F_VM_RUNQ);
        for (size_t i = 0; i < n; i++)
                if (vm_has_runq(&vms[i])) {
                        const struct runq_latency *q = &vms[i].sig->runq;
                        const uint64_t usec[] = {q->p50_usec, q->p90_usec, q->p99_usec};
                        for (size_t k = 0; k < ELEMENTSOF(quantiles); k++) {
                                snprintf(extra, sizeof(extra), "quantile=\"%s\",source=\"%s\"", quantiles[k],
                                         runq_source_name(q->source));
                                sample(em, labels[i], extra, fmt_micro(usec[k], v));
                        }
                }
        family_begin(em, &F_VM_VCPU_RUNQ);
        for (size_t i = 0; i < n; i++)
                if (vm_has_runq(&vms[i])) {
                        snprintf(extra, sizeof(extra), "quantile=\"0.99\",source=\"%s\"",
                                 runq_source_name(vms[i].sig->runq.source));
                        sample(em, labels[i], extra, fmt_micro(vms[i].sig->runq.vcpu_p99_usec, v));
                }
        family_begin(em, &F_VM_RUNQ_SAMPLES);
        for (size_t i = 0; i < n; i++)
                if (vm_has_runq(&vms[i]))
                        sample(em, labels[i], NULL, fmt_u64(vms[i].sig->runq.samples, v));

        family_begin(em, &F_VM_CPU_USAGE);
        for (size_t i = 0; i < n; i++)
                if (vm_has_deltas(&vms[i]))
                        sample(em, labels[i], NULL,
                               fmt_ratio(vms[i].sig->cpu_usage_usec, vms[i].sig->interval_usec, v));
        family_begin(em, &F_VM_CPU_THROTTLED);
        for (size_t i = 0; i < n; i++)
                if (vm_has_deltas(&vms[i]))
                        sample(em, labels[i], NULL,
                               fmt_ratio(vms[i].sig->cpu_throttled_usec, vms[i].sig->interval_usec, v));
        family_begin(em, &F_VM_CPU_THROTTLED_PERIODS);
        for (size_t i = 0; i < n; i++)
                if (vm_has_deltas(&vms[i]) && vms[i].sig->cpu_nr_periods > 0)
                        sample(em, labels[i], NULL,
                               fmt_ratio(vms[i].sig->cpu_nr_throttled, vms[i].sig->cpu_nr_periods, v));

        family_begin(em, &F_VM_MEMORY_CURRENT);
        for (size_t i = 0; i < n; i++)
                if (vms[i].sig)
                        sample(em, labels[i], NULL, fmt_u64(vms[i].sig->memory_current, v));
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
        for (size_t i = 0; i < n_vms && !o.oom; i++) {
                labels[i] = vm_labels(&vms[i]);
                if (!labels[i])
                        o.oom = true;
        }

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
        }
        if (e->host && e->host->interval_usec > 0) {
                family_begin(&em, &F_HOST_PRESSURE);
                pressures(&em, NULL, (const struct pressure[3]){e->host->cpu, e->host->memory, e->host->io});
        }

        /* Each VM: who it is, its limits, its signals, its counters. */
        family_begin(&em, &F_VM_INFO);
        for (size_t i = 0; i < n_vms && !o.oom; i++) {
                struct out info = {};

                out_label(&info, "uuid", vms[i].id->uuid);
                out_label(&info, "cgroup", vms[i].cgroup);
                out_label(&info, "exe", vms[i].id->exe);
                if (info.oom)
                        o.oom = true;
                else
                        sample(&em, labels[i], info.buf, "1");
                free(info.buf);
        }
        if (!o.oom) {
                vm_limits(&em, vms, n_vms, labels);
                vm_signals(&em, vms, n_vms, labels);

                family_begin(&em, &F_VM_DECISIONS);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                decisions(&em, labels[i], vms[i].counters);
                family_begin(&em, &F_VM_WRITE_ERRORS);
                for (size_t i = 0; i < n_vms; i++)
                        if (vms[i].counters)
                                sample(&em, labels[i], NULL, fmt_u64(vms[i].counters->write_errors, v));
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
