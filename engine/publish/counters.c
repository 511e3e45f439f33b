/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the metrics count (pure): a VM's writes by file, and what its signals add up to tick after tick. metrics.c
 * formats them. */
#include <string.h>

#include "publish/metrics.h"

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
        [METRICS_FILE_MEMORY_MIN] = "memory.min",
        [METRICS_FILE_MEMORY_LOW] = "memory.low",
        [METRICS_FILE_MEMORY_SWAP_MAX] = "memory.swap.max",
        [METRICS_FILE_MEMORY_ZSWAP_MAX] = "memory.zswap.max",
        [METRICS_FILE_CPU_MAX_BURST] = "cpu.max.burst",
        [METRICS_FILE_CPUSET_CPUS] = "cpuset.cpus",
        [METRICS_FILE_CPUSET_MEMS] = "cpuset.mems",
        [METRICS_FILE_CPUSET_PARTITION] = "cpuset.cpus.partition",
        [METRICS_FILE_IO_LATENCY] = "io.latency",
        [METRICS_FILE_IO_BFQ_WEIGHT] = "io.bfq.weight",
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

static void histogram_add(struct runq_histogram *acc, const struct runq_tick_histogram *tick)
{
        acc->buckets = tick->buckets;
        for (unsigned b = 0; b < RUNQ_BUCKETS; b++)
                acc->count[b] += tick->count[b];
        acc->samples += tick->samples;
        acc->sum_ns += tick->sum_ns;
}

static struct metrics_io_device *totals_io_device(struct metrics_totals *t, unsigned major, unsigned minor)
{
        for (unsigned i = 0; i < t->n_io_devices; i++)
                if (t->io[i].major == major && t->io[i].minor == minor)
                        return &t->io[i];
        if (t->n_io_devices >= METRICS_IO_DEVICES)
                return NULL;
        t->io[t->n_io_devices] = (struct metrics_io_device){.major = major, .minor = minor};
        return &t->io[t->n_io_devices++];
}

void metrics_totals_add(struct metrics_totals *t, const struct vm_signals *sig)
{
        const struct psi_resource *psi[3] = {&sig->psi.cpu, &sig->psi.memory, &sig->psi.io};

        /* PSI totals are the cgroup's own, cumulative: a delta needs the last tick's, of the same cgroup. */
        for (unsigned r = 0; r < 3; r++) {
                const uint64_t now[2] = {psi[r]->some.total_usec, psi[r]->full.total_usec};
                for (unsigned k = 0; k < 2; k++) {
                        if (sig->interval_usec && t->psi_seen && now[k] >= t->psi_last[r][k])
                                t->stall_usec[r][k] += now[k] - t->psi_last[r][k];
                        t->psi_last[r][k] = now[k];
                }
        }
        t->psi_seen = true;
        if (!sig->interval_usec)
                return;

        t->cpu_usage_usec += sig->cpu_usage_usec;
        t->cpu_throttled_usec += sig->cpu_throttled_usec;
        t->cpu_periods += sig->cpu_nr_periods;
        t->cpu_throttled_periods += sig->cpu_nr_throttled;
        t->memory_events[0] += sig->memory_events_high;
        t->memory_events[1] += sig->memory_events_max;
        t->memory_events[2] += sig->memory_events_oom;
        t->memory_events[3] += sig->memory_events_oom_kill;
        for (unsigned i = 0; i < sig->n_io_devices && i < SIGNALS_IO_DEVICES; i++) {
                const struct io_device_rates *d = &sig->io_devices[i];
                struct metrics_io_device *io = totals_io_device(t, d->major, d->minor);
                if (!io)
                        continue;
                io->rbytes += d->rbytes;
                io->wbytes += d->wbytes;
                io->rios += d->rios;
                io->wios += d->wios;
        }
        if (sig->runq.source != RUNQ_SOURCE_NONE) {
                histogram_add(&t->runq, &sig->runq.tick);
                histogram_add(&t->vcpu_runq, &sig->runq.vcpu_tick);
        }
}
