/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "publish/metrics.h"
#include "testutil.h"

/* A VM whose -name was written to hurt: quote, backslash, newline, a byte that is not UTF-8, a valid "é", and a
 * terminal escape sequence. */
#define HOSTILE_NAME "a\"b\\c\nd\xff\xc3\xa9\x1b[0m"

static struct vm_identity hostile_id = {
        .pid = 4242,
        .name = HOSTILE_NAME,
        .exe = "qemu-system-x86_64",
};

static struct vm_identity web_id = {
        .pid = 100,
        .name = "web-1",
        .uuid = "6b29fc40-ca47-1067-b31d-00dd010662da",
        .exe = "qemu-kvm",
};

static struct metrics_totals hostile_totals;

static void fill(struct limits *hostile_limits, struct vm_signals *hostile_sig, struct metrics_counters *hostile_c,
                 struct limits *web_limits)
{
        /* What its ticks added up to: waits of ~1.5 us (bucket 10), ~1.5 ms (bucket 20) and one of 3 s (the last). */
        hostile_totals = (struct metrics_totals){
                .cpu_usage_usec = 1500000,
                .cpu_throttled_usec = 30000,
                .cpu_periods = 10,
                .cpu_throttled_periods = 2,
                .stall_usec = {{25000, 1000}, {1000, 0}, {0, 0}},
                .memory_events = {3, 1, 0, 0},
                .n_io_devices = 1,
                .io = {{254, 0, 4096, 0, 1, 0}},
                .runq = {.buckets = true, .count = {[10] = 5, [20] = 3, [31] = 1}, .samples = 9, .sum_ns = 3004507500},
        };
        *hostile_limits = (struct limits){
                .cpu_max_set = true,
                .cpu_quota_usec = 20000,
                .cpu_period_usec = 100000,
                .memory_high_set = true,
                .memory_high = 4ULL << 30,
                .memory_max_set = true,
                .memory_max = LIMIT_MAX,
                .n_io_devices = 1,
                .io_devices = {{254, 0, 50000000, LIMIT_MAX, LIMIT_MAX, 1000}},
        };
        *hostile_sig = (struct vm_signals){
                .interval_usec = 1000000,
                .cpu = {25000, 1000},
                .memory = {1000, 0},
                .io = {0, 0},
                .cpu_usage_usec = 1500000,
                .cpu_nr_periods = 10,
                .cpu_nr_throttled = 2,
                .cpu_throttled_usec = 30000,
                .memory_current = 1073741824,
                .runq = {.source = RUNQ_SOURCE_BPF,
                         .samples = 8500,
                         .p50_usec = 40,
                         .p90_usec = 900,
                         .p99_usec = 2100,
                         .vcpu_p99_usec = 1800},
        };
        *hostile_c = (struct metrics_counters){0};
        hostile_c->decisions[METRICS_FILE_CPU_MAX] = 1;
        hostile_c->decisions[METRICS_FILE_CGROUP_PROCS] = 1;
        *web_limits = (struct limits){.cpu_weight_set = true, .cpu_weight = 200};
}

/* The hostile VM's labels as the exposition format wants them: \" \\ \n escaped, the 0xff byte and ESC as U+FFFD. */
#define FFFD           "\xef\xbf\xbd"
#define HOSTILE_LABELS "vm=\"a\\\"b\\\\c\\nd" FFFD "\xc3\xa9" FFFD "[0m\",group=\"batch\""

static const char expected_exact[] =
        "# HELP vmgov_dry_run 1 when the engine changes nothing and only logs what it would write\n"
        "# TYPE vmgov_dry_run gauge\n"
        "vmgov_dry_run 0\n"
        "# HELP vmgov_ticks_total Ticks (discover, sense, decide, act) run since the engine started\n"
        "# TYPE vmgov_ticks_total counter\n"
        "vmgov_ticks_total 42\n"
        "# HELP vmgov_tick_duration_seconds How long the last tick took\n"
        "# TYPE vmgov_tick_duration_seconds gauge\n"
        "vmgov_tick_duration_seconds 0.00125\n"
        "# HELP vmgov_interval_seconds Time between two ticks (Interval=)\n"
        "# TYPE vmgov_interval_seconds gauge\n"
        "vmgov_interval_seconds 1\n"
        "# HELP vmgov_vms QEMU processes the engine tracks (one vmgov_vm_info series each)\n"
        "# TYPE vmgov_vms gauge\n"
        "vmgov_vms 2\n"
        "# HELP vmgov_decisions_total Changes of a cgroup file the engine made (in dry-run: would have made), by file, "
        "over every VM since the engine started\n"
        "# TYPE vmgov_decisions_total counter\n"
        "vmgov_decisions_total{file=\"cpu.weight\"} 0\n"
        "vmgov_decisions_total{file=\"cpu.idle\"} 0\n"
        "vmgov_decisions_total{file=\"cpu.max\"} 3\n"
        "vmgov_decisions_total{file=\"memory.high\"} 0\n"
        "vmgov_decisions_total{file=\"memory.max\"} 0\n"
        "vmgov_decisions_total{file=\"io.weight\"} 0\n"
        "vmgov_decisions_total{file=\"io.max\"} 0\n"
        "vmgov_decisions_total{file=\"memory.reclaim\"} 0\n"
        "vmgov_decisions_total{file=\"cgroup.procs\"} 2\n"
        "# HELP vmgov_write_errors_total Reads or writes of a cgroup file that failed, over every VM since the engine "
        "started\n"
        "# TYPE vmgov_write_errors_total counter\n"
        "vmgov_write_errors_total 1\n"
        "# HELP vmgov_freezes_total VMs frozen (cgroup.freeze) under host memory pressure, since the engine started\n"
        "# TYPE vmgov_freezes_total counter\n"
        "vmgov_freezes_total 3\n"
        "# HELP vmgov_vms_frozen VMs the engine holds frozen now\n"
        "# TYPE vmgov_vms_frozen gauge\n"
        "vmgov_vms_frozen 1\n"
        "# HELP vmgov_host_pressure_stalled_seconds_total Time in which some (kind=some) or all (kind=full) non-idle "
        "tasks of the host stalled on the resource, since boot (/proc/pressure total)\n"
        "# TYPE vmgov_host_pressure_stalled_seconds_total counter\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"cpu\",kind=\"some\"} 0.012\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"cpu\",kind=\"full\"} 0\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"memory\",kind=\"some\"} 0.0003\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"memory\",kind=\"full\"} 0.0001\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"io\",kind=\"some\"} 5\n"
        "vmgov_host_pressure_stalled_seconds_total{resource=\"io\",kind=\"full\"} 2.000001\n"
        "# HELP vmgov_vm_info A QEMU process the engine tracks, always 1; labels name its pid, cgroup (relative to the "
        "cgroup2 mount) and executable\n"
        "# TYPE vmgov_vm_info gauge\n"
        "vmgov_vm_info{" HOSTILE_LABELS
        ",pid=\"4242\",cgroup=\"vmgov/batch/a_b_c_d_-1c2b3a4d\",exe=\"qemu-system-x86_64\"} 1\n"
        "vmgov_vm_info{vm=\"web-1\",uuid=\"6b29fc40-ca47-1067-b31d-00dd010662da\",group=\"web\",pid=\"100\",cgroup="
        "\"vmgov/web/web-1\",exe=\"qemu-kvm\"} 1\n"
        "# HELP vmgov_vm_cpu_weight cpu.weight the engine holds the VM at (in dry-run: would hold)\n"
        "# TYPE vmgov_vm_cpu_weight gauge\n"
        "vmgov_vm_cpu_weight{vm=\"web-1\",uuid=\"6b29fc40-ca47-1067-b31d-00dd010662da\",group=\"web\"} 200\n"
        "# HELP vmgov_vm_cpu_max_quota_seconds cpu.max quota: CPU time the VM may use per period; +Inf for max\n"
        "# TYPE vmgov_vm_cpu_max_quota_seconds gauge\n"
        "vmgov_vm_cpu_max_quota_seconds{" HOSTILE_LABELS "} 0.02\n"
        "# HELP vmgov_vm_cpu_max_period_seconds cpu.max period\n"
        "# TYPE vmgov_vm_cpu_max_period_seconds gauge\n"
        "vmgov_vm_cpu_max_period_seconds{" HOSTILE_LABELS "} 0.1\n"
        "# HELP vmgov_vm_memory_high_bytes memory.high the engine holds the VM at; +Inf for max\n"
        "# TYPE vmgov_vm_memory_high_bytes gauge\n"
        "vmgov_vm_memory_high_bytes{" HOSTILE_LABELS "} 4294967296\n"
        "# HELP vmgov_vm_memory_max_bytes memory.max the engine holds the VM at; +Inf for max\n"
        "# TYPE vmgov_vm_memory_max_bytes gauge\n"
        "vmgov_vm_memory_max_bytes{" HOSTILE_LABELS "} +Inf\n"
        "# HELP vmgov_vm_io_max_bytes_per_second io.max bandwidth limit by device (MAJ:MIN) and direction; +Inf for "
        "max\n"
        "# TYPE vmgov_vm_io_max_bytes_per_second gauge\n"
        "vmgov_vm_io_max_bytes_per_second{" HOSTILE_LABELS ",device=\"254:0\",op=\"read\"} 50000000\n"
        "vmgov_vm_io_max_bytes_per_second{" HOSTILE_LABELS ",device=\"254:0\",op=\"write\"} +Inf\n"
        "# HELP vmgov_vm_io_max_operations_per_second io.max IOPS limit by device (MAJ:MIN) and direction; +Inf for "
        "max\n"
        "# TYPE vmgov_vm_io_max_operations_per_second gauge\n"
        "vmgov_vm_io_max_operations_per_second{" HOSTILE_LABELS ",device=\"254:0\",op=\"read\"} +Inf\n"
        "vmgov_vm_io_max_operations_per_second{" HOSTILE_LABELS ",device=\"254:0\",op=\"write\"} 1000\n"
        "# HELP vmgov_vm_memory_current_bytes memory.current: memory charged to the VM's cgroup\n"
        "# TYPE vmgov_vm_memory_current_bytes gauge\n"
        "vmgov_vm_memory_current_bytes{" HOSTILE_LABELS "} 1073741824\n"
        "# HELP vmgov_vm_cpu_usage_seconds_total CPU time the VM used (cpu.stat usage_usec), since it was first "
        "tracked\n"
        "# TYPE vmgov_vm_cpu_usage_seconds_total counter\n"
        "vmgov_vm_cpu_usage_seconds_total{" HOSTILE_LABELS "} 1.5\n"
        "# HELP vmgov_vm_cpu_throttled_seconds_total Time the VM's tasks were throttled by cpu.max (cpu.stat "
        "throttled_usec), since it was first tracked\n"
        "# TYPE vmgov_vm_cpu_throttled_seconds_total counter\n"
        "vmgov_vm_cpu_throttled_seconds_total{" HOSTILE_LABELS "} 0.03\n"
        "# HELP vmgov_vm_cpu_periods_total cpu.max enforcement periods in which the VM ran (cpu.stat nr_periods), "
        "since it was first tracked\n"
        "# TYPE vmgov_vm_cpu_periods_total counter\n"
        "vmgov_vm_cpu_periods_total{" HOSTILE_LABELS "} 10\n"
        "# HELP vmgov_vm_cpu_throttled_periods_total Of those, the periods in which the VM was throttled (cpu.stat "
        "nr_throttled)\n"
        "# TYPE vmgov_vm_cpu_throttled_periods_total counter\n"
        "vmgov_vm_cpu_throttled_periods_total{" HOSTILE_LABELS "} 2\n"
        "# HELP vmgov_vm_pressure_stalled_seconds_total Time in which some (kind=some) or all (kind=full) of the VM's "
        "tasks stalled on the resource (PSI), since it was first tracked\n"
        "# TYPE vmgov_vm_pressure_stalled_seconds_total counter\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"cpu\",kind=\"some\"} 0.025\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"cpu\",kind=\"full\"} 0.001\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"memory\",kind=\"some\"} 0.001\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"memory\",kind=\"full\"} 0\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"io\",kind=\"some\"} 0\n"
        "vmgov_vm_pressure_stalled_seconds_total{" HOSTILE_LABELS ",resource=\"io\",kind=\"full\"} 0\n"
        "# HELP vmgov_vm_memory_events_total memory.events of the VM's cgroup: times it went over memory.high (high), "
        "hit memory.max (max), the OOM killer was invoked (oom) or killed a process in it (oom_kill), since it was "
        "first tracked\n"
        "# TYPE vmgov_vm_memory_events_total counter\n"
        "vmgov_vm_memory_events_total{" HOSTILE_LABELS ",event=\"high\"} 3\n"
        "vmgov_vm_memory_events_total{" HOSTILE_LABELS ",event=\"max\"} 1\n"
        "vmgov_vm_memory_events_total{" HOSTILE_LABELS ",event=\"oom\"} 0\n"
        "vmgov_vm_memory_events_total{" HOSTILE_LABELS ",event=\"oom_kill\"} 0\n"
        "# HELP vmgov_vm_io_bytes_total Bytes the VM read or wrote, by device (MAJ:MIN), since it was first tracked "
        "(io.stat)\n"
        "# TYPE vmgov_vm_io_bytes_total counter\n"
        "vmgov_vm_io_bytes_total{" HOSTILE_LABELS ",device=\"254:0\",op=\"read\"} 4096\n"
        "vmgov_vm_io_bytes_total{" HOSTILE_LABELS ",device=\"254:0\",op=\"write\"} 0\n"
        "# HELP vmgov_vm_io_operations_total Read or write operations of the VM, by device (MAJ:MIN), since it was "
        "first tracked (io.stat)\n"
        "# TYPE vmgov_vm_io_operations_total counter\n"
        "vmgov_vm_io_operations_total{" HOSTILE_LABELS ",device=\"254:0\",op=\"read\"} 1\n"
        "vmgov_vm_io_operations_total{" HOSTILE_LABELS ",device=\"254:0\",op=\"write\"} 0\n"
        "# HELP vmgov_vm_runqueue_latency_seconds Run-queue latency (wake-up to running) of the VM's threads since it "
        "was first tracked, in the log2 buckets eBPF counts\n"
        "# TYPE vmgov_vm_runqueue_latency_seconds histogram\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000002\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000004\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000008\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000016\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000032\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000064\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000128\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000256\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000000512\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000001024\"} 0\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000002048\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000004096\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000008192\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000016384\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000032768\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000065536\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000131072\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000262144\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.000524288\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.001048576\"} 5\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.002097152\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.004194304\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.008388608\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.016777216\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.033554432\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.067108864\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.134217728\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.268435456\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"0.536870912\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"1.073741824\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"2.147483648\"} 8\n"
        "vmgov_vm_runqueue_latency_seconds_bucket{" HOSTILE_LABELS ",le=\"+Inf\"} 9\n"
        "vmgov_vm_runqueue_latency_seconds_sum{" HOSTILE_LABELS "} 3.0045075\n"
        "vmgov_vm_runqueue_latency_seconds_count{" HOSTILE_LABELS "} 9\n"
        "# HELP vmgov_vm_decisions_total Changes of the VM's cgroup files the engine made (in dry-run: would have "
        "made), by file\n"
        "# TYPE vmgov_vm_decisions_total counter\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"cpu.weight\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"cpu.idle\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"cpu.max\"} 1\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"memory.high\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"memory.max\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"io.weight\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"io.max\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"memory.reclaim\"} 0\n"
        "vmgov_vm_decisions_total{" HOSTILE_LABELS ",file=\"cgroup.procs\"} 1\n"
        "# HELP vmgov_vm_write_errors_total Reads or writes of the VM's cgroup files that failed\n"
        "# TYPE vmgov_vm_write_errors_total counter\n"
        "vmgov_vm_write_errors_total{" HOSTILE_LABELS "} 0\n"
        "# HELP vmgov_vm_freezes_total Times the engine froze the VM (cgroup.freeze) under host memory pressure\n"
        "# TYPE vmgov_vm_freezes_total counter\n"
        "vmgov_vm_freezes_total{" HOSTILE_LABELS "} 2\n"
        "# HELP vmgov_vm_frozen 1 while the engine holds the VM frozen\n"
        "# TYPE vmgov_vm_frozen gauge\n"
        "vmgov_vm_frozen{" HOSTILE_LABELS "} 1\n";

static void test_format_exact(void **state)
{
        struct limits hostile_limits, web_limits;
        struct vm_signals hostile_sig;
        struct metrics_counters hostile_c, totals = {0};
        struct host_signals host = {.interval_usec = 1000000,
                                    .psi = {.cpu = {.some = {.total_usec = 12000}},
                                            .memory = {.some = {.total_usec = 300}, .full = {.total_usec = 100}},
                                            .io = {.some = {.total_usec = 5000000}, .full = {.total_usec = 2000001}}}};
        struct metrics_vm vms[2];
        struct metrics_engine e = {
                .dry_run = false,
                .ticks = 42,
                .tick_duration_usec = 1250,
                .interval_usec = 1000000,
                .host = &host,
                .totals = &totals,
        };
        _cleanup_free_ char *text = NULL;
        size_t len;

        fill(&hostile_limits, &hostile_sig, &hostile_c, &web_limits);
        totals.decisions[METRICS_FILE_CPU_MAX] = 3;
        totals.decisions[METRICS_FILE_CGROUP_PROCS] = 2;
        totals.write_errors = 1;
        totals.freezes = 3; /* one of them still frozen: the hostile VM's second */
        totals.freezes_ended = 2;
        hostile_c.freezes = 2;
        hostile_c.freezes_ended = 1;
        vms[0] = (struct metrics_vm){&hostile_id,     "batch",      "vmgov/batch/a_b_c_d_-1c2b3a4d",
                                     &hostile_limits, &hostile_sig, &hostile_c,
                                     &hostile_totals, NULL,         0};
        vms[1] = (struct metrics_vm){&web_id, "web", "vmgov/web/web-1", &web_limits, NULL, NULL, NULL, NULL, 0};

        assert_int_equal(metrics_format(&e, vms, 2, &text, &len), 0);
        assert_int_equal(len, strlen(text));
        assert_string_equal(text, expected_exact);
}

/* Nothing sensed or counted yet: only the engine's own gauges. */
static void test_format_minimal(void **state)
{
        struct metrics_engine e = {.dry_run = true, .interval_usec = 500000};
        _cleanup_free_ char *text = NULL;
        size_t len;

        assert_int_equal(metrics_format(&e, NULL, 0, &text, &len), 0);
        assert_string_equal(text,
                            "# HELP vmgov_dry_run 1 when the engine changes nothing and only logs what it would write\n"
                            "# TYPE vmgov_dry_run gauge\n"
                            "vmgov_dry_run 1\n"
                            "# HELP vmgov_ticks_total Ticks (discover, sense, decide, act) run since the engine "
                            "started\n"
                            "# TYPE vmgov_ticks_total counter\n"
                            "vmgov_ticks_total 0\n"
                            "# HELP vmgov_tick_duration_seconds How long the last tick took\n"
                            "# TYPE vmgov_tick_duration_seconds gauge\n"
                            "vmgov_tick_duration_seconds 0\n"
                            "# HELP vmgov_interval_seconds Time between two ticks (Interval=)\n"
                            "# TYPE vmgov_interval_seconds gauge\n"
                            "vmgov_interval_seconds 0.5\n"
                            "# HELP vmgov_vms QEMU processes the engine tracks (one vmgov_vm_info series each)\n"
                            "# TYPE vmgov_vms gauge\n"
                            "vmgov_vms 0\n");
        assert_int_equal(len, strlen(text));
}

/* Before a VM is sensed for a tick it has no counters yet: only what is absolute is shown. An unlimited quota is
 * +Inf, and CPUWeight=idle shows as cpu_idle (and no weight). */
static void test_format_first_tick(void **state)
{
        struct vm_identity id = {.pid = 7, .exe = "qemu-kvm"};
        struct limits lim = {
                .cpu_idle = true, .cpu_max_set = true, .cpu_quota_usec = LIMIT_MAX, .cpu_period_usec = 100000};
        struct vm_signals sig = {.memory_current = 4096};
        struct metrics_vm vm = {&id, NULL, NULL, &lim, &sig, NULL, NULL, NULL, 0};
        struct metrics_engine e = {0};
        _cleanup_free_ char *text = NULL;
        size_t len;
        const char *vm_part;

        assert_int_equal(metrics_format(&e, &vm, 1, &text, &len), 0);
        vm_part = strstr(text, "# HELP vmgov_vm_info");
        assert_non_null(vm_part);
        assert_string_equal(vm_part,
                            "# HELP vmgov_vm_info A QEMU process the engine tracks, always 1; labels name its pid, "
                            "cgroup (relative to the cgroup2 mount) and executable\n"
                            "# TYPE vmgov_vm_info gauge\n"
                            "vmgov_vm_info{vm=\"\",group=\"\",pid=\"7\",cgroup=\"\",exe=\"qemu-kvm\"} 1\n"
                            "# HELP vmgov_vm_cpu_idle 1 when the engine holds the VM at cpu.idle (CPUWeight=idle)\n"
                            "# TYPE vmgov_vm_cpu_idle gauge\n"
                            "vmgov_vm_cpu_idle{vm=\"\",group=\"\"} 1\n"
                            "# HELP vmgov_vm_cpu_max_quota_seconds cpu.max quota: CPU time the VM may use per period; "
                            "+Inf for max\n"
                            "# TYPE vmgov_vm_cpu_max_quota_seconds gauge\n"
                            "vmgov_vm_cpu_max_quota_seconds{vm=\"\",group=\"\"} +Inf\n"
                            "# HELP vmgov_vm_cpu_max_period_seconds cpu.max period\n"
                            "# TYPE vmgov_vm_cpu_max_period_seconds gauge\n"
                            "vmgov_vm_cpu_max_period_seconds{vm=\"\",group=\"\"} 0.1\n"
                            "# HELP vmgov_vm_memory_current_bytes memory.current: memory charged to the VM's cgroup\n"
                            "# TYPE vmgov_vm_memory_current_bytes gauge\n"
                            "vmgov_vm_memory_current_bytes{vm=\"\",group=\"\"} 4096\n");
        assert_null(strstr(text, "host_pressure"));
}

static int strcmp_p(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* node_exporter refuses a file where a family's samples are not together, or come before its TYPE line: check
 * every line of a busy output. */
static void test_format_families_grouped(void **state)
{
        struct limits hostile_limits, web_limits;
        struct vm_signals hostile_sig, web_sig;
        struct metrics_counters hostile_c, web_c = {0}, totals = {0};
        struct host_signals host = {.interval_usec = 1};
        struct metrics_vm vms[3];
        struct metrics_engine e = {.host = &host, .totals = &totals};
        _cleanup_free_ char *text = NULL;
        char seen[64][96] = {{0}}, current[96] = "", *series[512];
        size_t n_series = 0;
        size_t len, n_seen = 0;

        fill(&hostile_limits, &hostile_sig, &hostile_c, &web_limits);
        web_sig = hostile_sig;
        web_sig.runq.source = RUNQ_SOURCE_SCHEDSTAT;
        web_c.decisions[METRICS_FILE_OTHER] = 5;
        web_c.decisions[METRICS_FILE_MEMORY_MIN] = 2;
        vms[0] = (struct metrics_vm){&hostile_id,     "batch", "x", &hostile_limits, &hostile_sig, &hostile_c,
                                     &hostile_totals, NULL,    0};
        vms[1] = (struct metrics_vm){&web_id, "web", "y", &web_limits, &web_sig, &web_c, &hostile_totals, NULL, 0};
        /* a second QEMU with the same -name and uuid in the same group: its series must not be the first one's */
        struct vm_identity web_twin = web_id;
        web_twin.pid = 101;
        vms[2] = (struct metrics_vm){&web_twin, "web", "z", &hostile_limits, NULL, NULL, NULL, NULL, 0};
        assert_int_equal(metrics_format(&e, vms, ELEMENTSOF(vms), &text, &len), 0);
        assert_non_null(strstr(text, "file=\"other\"} 5\n"));
        /* a file few policies set is listed where it was written, and only there */
        assert_non_null(strstr(text, "group=\"web\",pid=\"100\",file=\"memory.min\"} 2\n"));
        assert_null(strstr(text, "file=\"memory.zswap.max\"}"));
        assert_non_null(strstr(text, "vmgov_vm_cpu_weight{vm=\"web-1\",uuid=\"6b29fc40-ca47-1067-b31d-00dd010662da\","
                                     "group=\"web\",pid=\"100\"} 200\n"));
        assert_non_null(strstr(text, "vmgov_vm_memory_high_bytes{vm=\"web-1\",uuid=\"6b29fc40-ca47-1067-b31d-"
                                     "00dd010662da\",group=\"web\",pid=\"101\"} 4294967296\n"));
        assert_null(strstr(text, "pid=\"4242\"}")); /* the hostile VM is alone with its labels: no pid but in info */

        for (char *line = text, *eol; *line; line = eol + 1) {
                char name[96];
                size_t n;

                eol = strchr(line, '\n');
                assert_non_null(eol);
                if (strncmp(line, "# HELP ", 7) == 0) {
                        n = strcspn(line + 7, " ");
                        assert_true(n < sizeof(name));
                        memcpy(name, line + 7, n);
                        name[n] = '\0';
                        for (size_t i = 0; i < n_seen; i++)
                                if (strcmp(seen[i], name) == 0)
                                        fail_msg("family %s announced twice", name);
                        assert_true(n_seen < ELEMENTSOF(seen));
                        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
                        snprintf(current, sizeof(current), "%s", name);
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        assert_int_equal(strncmp(line + 7, current, strlen(current)), 0);
                        continue;
                }
                /* a sample of the current family (a histogram's as NAME_bucket, NAME_sum, NAME_count) */
                n = strcspn(line, "{ ");
                const char *suffix = line + strlen(current);
                assert_int_equal(strncmp(line, current, strlen(current)), 0);
                assert_true(n == strlen(current) || strncmp(suffix, "_bucket{", 8) == 0 ||
                            strncmp(suffix, "_sum", 4) == 0 || strncmp(suffix, "_count", 6) == 0);
                assert_true(strncmp(current, "vmgov_", 6) == 0);
                /* and no series twice: name and labels, everything before the value */
                *eol = '\0';
                assert_true(n_series < ELEMENTSOF(series));
                series[n_series++] = strndup(line, (size_t)(strrchr(line, ' ') - line));
                *eol = '\n';
        }
        assert_true(n_seen > 20);
        qsort(series, n_series, sizeof(char *), strcmp_p);
        for (size_t i = 1; i < n_series; i++)
                if (strcmp(series[i - 1], series[i]) == 0)
                        fail_msg("series twice: %s", series[i]);
        for (size_t i = 0; i < n_series; i++)
                free(series[i]);
}

static void test_escape_label(void **state)
{
        char buf[64];

        assert_int_equal(metrics_escape_label("web-1", buf, sizeof(buf)), 5);
        assert_string_equal(buf, "web-1");
        assert_int_equal(metrics_escape_label("", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(metrics_escape_label(NULL, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(metrics_escape_label("a\"b\\c\nd", buf, sizeof(buf)), 10);
        assert_string_equal(buf, "a\\\"b\\\\c\\nd");
        /* Other control characters are legal in a label value, but must not drive the terminal of whoever reads the
         * file: C0 but tab (and newline, escaped), DEL and C1 become U+FFFD. A no-break space (U+00A0) stays. */
        assert_int_equal(metrics_escape_label("\x1b[2J\t\r\x7f", buf, sizeof(buf)), 13);
        assert_string_equal(buf, FFFD "[2J\t" FFFD FFFD);
        metrics_escape_label("\xc2\x9b"
                             "31m\xc2\xa0",
                             buf, sizeof(buf));
        assert_string_equal(buf, FFFD "31m\xc2\xa0");
        /* A right-to-left override and a line separator would reorder or break the line in a viewer. */
        metrics_escape_label("gpj.\xe2\x80\xae"
                             "exe\xe2\x80\xa8",
                             buf, sizeof(buf));
        assert_string_equal(buf, "gpj." FFFD "exe" FFFD);
        /* Valid sequences of 2, 3 and 4 bytes pass through. */
        metrics_escape_label("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", buf, sizeof(buf));
        assert_string_equal(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        /* Every byte that is not part of valid UTF-8 is one U+FFFD: a lone continuation byte, a cut sequence, an
         * overlong '/', a surrogate, a code point past U+10FFFF, 0xfe. */
        metrics_escape_label("\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xfe", buf, sizeof(buf));
        assert_string_equal(buf, FFFD "|" FFFD FFFD "|" FFFD FFFD "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD "|" FFFD);
        /* A cut sequence at the very end reads no further than the terminator. */
        metrics_escape_label("x\xf0\x9f\x98", buf, sizeof(buf));
        assert_string_equal(buf, "x" FFFD FFFD FFFD);

        assert_int_equal(metrics_escape_label("abc", buf, 3), -ENOBUFS);
        assert_int_equal(metrics_escape_label("abc", buf, 4), 3);
        assert_int_equal(metrics_escape_label("\"", buf, 2), -ENOBUFS);
        assert_int_equal(metrics_escape_label("\xff", buf, 3), -ENOBUFS);
        assert_int_equal(metrics_escape_label("\xff", buf, 4), 3);
}

static void test_count(void **state)
{
        struct metrics_counters c = {0};

        metrics_count(&c, "cpu.max", 1);
        metrics_count(&c, "cpu.max", 0);
        metrics_count(&c, "memory.high", 1);
        metrics_count(&c, "memory.high", -EINVAL);
        metrics_count(&c, "pids.max", 1);
        metrics_count(&c, "memory.reclaim", 1);
        metrics_count(&c, "memory.low", 1); /* MemoryLow=: its own series, not "other" */
        metrics_count(&c, "cpuset.cpus.partition", 1);
        assert_int_equal(c.decisions[METRICS_FILE_MEMORY_LOW], 1);
        assert_int_equal(c.decisions[METRICS_FILE_CPUSET_PARTITION], 1);
        assert_int_equal(c.decisions[METRICS_FILE_CPU_MAX], 1);
        assert_int_equal(c.decisions[METRICS_FILE_MEMORY_RECLAIM], 1);
        assert_int_equal(c.decisions[METRICS_FILE_MEMORY_HIGH], 1);
        assert_int_equal(c.decisions[METRICS_FILE_OTHER], 1);
        assert_int_equal(c.write_errors, 1);

        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++)
                assert_int_equal(metrics_file_from_string(metrics_file_to_string(f)), f);
        assert_int_equal(metrics_file_from_string(NULL), METRICS_FILE_OTHER);
        assert_string_equal(metrics_file_to_string(_METRICS_FILE_MAX), "other");
}

static char *read_all(int dir_fd, const char *name)
{
        char *buf = calloc(1, 4096);
        int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

        assert_non_null(buf);
        assert_true(fd >= 0);
        assert_true(read(fd, buf, 4095) >= 0);
        close(fd);
        return buf;
}

static void test_write_textfile(void **state)
{
        char dir[PATH_MAX], path[PATH_MAX + 32], outside[PATH_MAX + 32];
        int dir_fd = tmptree_new(dir, sizeof(dir));
        mode_t old_umask = umask(077);
        struct stat st;
        char *text;

        snprintf(path, sizeof(path), "%s/vmgov.prom", dir);
        assert_int_equal(metrics_write_textfile(path, "vmgov_x 1\n", 10), 0);
        text = read_all(dir_fd, "vmgov.prom");
        assert_string_equal(text, "vmgov_x 1\n");
        free(text);
        /* Readable by node_exporter's user whatever the daemon's umask. */
        assert_int_equal(fstatat(dir_fd, "vmgov.prom", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        /* Replaced as a whole; no temporary file left behind. */
        assert_int_equal(metrics_write_textfile(path, "vmgov_x 2\nvmgov_y 3\n", 20), 0);
        text = read_all(dir_fd, "vmgov.prom");
        assert_string_equal(text, "vmgov_x 2\nvmgov_y 3\n");
        free(text);
        assert_int_equal(faccessat(dir_fd, ".vmgov.prom.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);

        /* A symlink planted where the temporary file goes is removed, never written through. */
        tmptree_write_string(dir_fd, "outside", "keep\n");
        snprintf(outside, sizeof(outside), "%s/outside", dir);
        assert_int_equal(symlinkat(outside, dir_fd, ".vmgov.prom.tmp"), 0);
        assert_int_equal(metrics_write_textfile(path, "vmgov_x 4\n", 10), 0);
        text = read_all(dir_fd, "outside");
        assert_string_equal(text, "keep\n");
        free(text);
        text = read_all(dir_fd, "vmgov.prom");
        assert_string_equal(text, "vmgov_x 4\n");
        free(text);

        /* Errors: a missing directory, a path that names no file. */
        snprintf(path, sizeof(path), "%s/missing/vmgov.prom", dir);
        assert_int_equal(metrics_write_textfile(path, "x\n", 2), -ENOENT);
        snprintf(path, sizeof(path), "%s/", dir);
        assert_int_equal(metrics_write_textfile(path, "x\n", 2), -EINVAL);

        umask(old_umask);
        tmptree_remove(dir, dir_fd);
}

/* The value of the sample whose name and labels start the line as prefix, or -1 when there is none. */
static double sample_value(const char *text, const char *prefix)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, prefix, strlen(prefix)) == 0)
                        return strtod(strrchr(strndupa(line, strcspn(line, "\n")), ' ') + 1, NULL);
        return -1;
}

/* A VM whose threads are placed apart: a series per threaded child, each with thread="NAME"; the info series carries
 * the thread id (none for the emulator) and the CPUs; an unread child has no counters, an unmeasured one no p99. */
static void test_thread_series(void **state)
{
        struct vm_identity id = {.pid = 9, .name = "db", .exe = "qemu-kvm"};
        struct thread_signals rows[3] = {
                {.name = "vcpu0",
                 .tid = 50,
                 .runq_measured = true,
                 .runq_samples = 40,
                 .runq_p99_usec = 1300,
                 .stat_read = true,
                 .usage_usec = 912000,
                 .nr_periods = 31,
                 .nr_throttled = 30,
                 .throttled_usec = 2400000,
                 .cpus = "0"},
                {.name = "iothread0", .tid = 51, .cpus = "1"},
                {.name = "emulator", .stat_read = true, .usage_usec = 3000, .nr_periods = 31, .cpus = "1"},
        };
        struct metrics_vm vm = {&id, "lat", "c", NULL, NULL, NULL, NULL, rows, 3};
        struct metrics_engine e = {.runq_source = RUNQ_SOURCE_BPF};
        _cleanup_free_ char *text = NULL;
        size_t len;

        assert_int_equal(metrics_format(&e, &vm, 1, &text, &len), 0);
        static const char *const want[] = {
                "# TYPE vmgov_thread_info gauge\n",
                "vmgov_thread_info{vm=\"db\",group=\"lat\",thread=\"vcpu0\",tid=\"50\",cpus=\"0\"} 1\n",
                "vmgov_thread_info{vm=\"db\",group=\"lat\",thread=\"iothread0\",tid=\"51\",cpus=\"1\"} 1\n",
                "vmgov_thread_info{vm=\"db\",group=\"lat\",thread=\"emulator\",cpus=\"1\"} 1\n",
                "vmgov_thread_cpu_usage_seconds_total{vm=\"db\",group=\"lat\",thread=\"vcpu0\"} 0.912\n",
                "vmgov_thread_cpu_usage_seconds_total{vm=\"db\",group=\"lat\",thread=\"emulator\"} 0.003\n",
                "vmgov_thread_cpu_throttled_seconds_total{vm=\"db\",group=\"lat\",thread=\"vcpu0\"} 2.4\n",
                "vmgov_thread_cpu_periods_total{vm=\"db\",group=\"lat\",thread=\"vcpu0\"} 31\n",
                "vmgov_thread_cpu_throttled_periods_total{vm=\"db\",group=\"lat\",thread=\"vcpu0\"} 30\n",
                "vmgov_thread_cpu_throttled_periods_total{vm=\"db\",group=\"lat\",thread=\"emulator\"} 0\n",
                "vmgov_thread_runq_latency_p99_seconds{vm=\"db\",group=\"lat\",thread=\"vcpu0\"} 0.0013\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(text, want[i]))
                        fail_msg("missing: %s\nin:\n%s", want[i], text);
        assert_null(strstr(text, "thread=\"iothread0\"} ")); /* not read: no counters */
        assert_null(strstr(text, "vmgov_thread_runq_latency_p99_seconds{vm=\"db\",group=\"lat\",thread=\"emulator\""));
}

/* From known log2 bucket counts: one bucket line per bucket bound 2^(b+1) ns, cumulative, then +Inf = _count. */
static void test_histogram_buckets(void **state)
{
        struct vm_identity id = {.pid = 9, .name = "db", .exe = "qemu-kvm"};
        struct metrics_totals t = {.runq = {.buckets = true}};
        struct metrics_vm vm = {&id, "batch", "c", NULL, NULL, NULL, &t, NULL, 0};
        struct metrics_engine e = {.runq_source = RUNQ_SOURCE_BPF};
        _cleanup_free_ char *text = NULL;
        uint64_t cumulative = 0, sum_ns = 0;
        char prefix[256];
        size_t len;

        for (unsigned b = 0; b < RUNQ_BUCKETS; b++) {
                t.runq.count[b] = (b * 7919) % 13; /* some empty, some not */
                t.runq.samples += t.runq.count[b];
                sum_ns += t.runq.count[b] << b;
        }
        t.runq.sum_ns = sum_ns;
        assert_int_equal(metrics_format(&e, &vm, 1, &text, &len), 0);
        assert_non_null(strstr(text, "# TYPE vmgov_vm_runqueue_latency_seconds histogram\n"));

        for (unsigned b = 0; b + 1 < RUNQ_BUCKETS; b++) {
                cumulative += t.runq.count[b];
                /* le = 2^(b+1) ns, written in seconds to the nanosecond */
                uint64_t ns = UINT64_C(2) << b;
                snprintf(prefix, sizeof(prefix),
                         "vmgov_vm_runqueue_latency_seconds_bucket{vm=\"db\",group=\"batch\",le=\"%" PRIu64
                         "%s%.*" PRIu64 "\"} ",
                         ns / 1000000000, ns % 1000000000 ? "." : "", 9, ns % 1000000000);
                /* trailing zeros of the fraction are not written */
                char *dot = strchr(prefix, '.');
                if (dot) {
                        char *q = strstr(prefix, "\"} ");
                        while (q[-1] == '0')
                                memmove(q - 1, q, strlen(q) + 1), q--;
                }
                double v = sample_value(text, prefix);
                if (v != (double)cumulative)
                        fail_msg("bucket %u (%s): %g, expected %" PRIu64, b, prefix, v, cumulative);
        }
        cumulative += t.runq.count[RUNQ_BUCKETS - 1];
        assert_int_equal(cumulative, t.runq.samples);
        assert_true(sample_value(text,
                                 "vmgov_vm_runqueue_latency_seconds_bucket{vm=\"db\",group=\"batch\",le=\"+Inf\"} ") ==
                    (double)cumulative);
        assert_true(sample_value(text, "vmgov_vm_runqueue_latency_seconds_count{vm=\"db\",group=\"batch\"} ") ==
                    (double)cumulative);
        assert_true(sample_value(text, "vmgov_vm_runqueue_latency_seconds_sum{vm=\"db\",group=\"batch\"} ") ==
                    (double)sum_ns / 1e9);
        /* 31 finite bounds and +Inf */
        unsigned buckets = 0;
        for (const char *p = text; (p = strstr(p, "vmgov_vm_runqueue_latency_seconds_bucket{")); p++)
                buckets++;
        assert_int_equal(buckets, RUNQ_BUCKETS);
        /* no vCPU threads measured: no vCPU histogram */
        assert_null(strstr(text, "vmgov_vm_vcpu_runqueue_latency_seconds"));
}

/* schedstat knows the sum and the count of the waits, not their distribution: no bucket lines, and HELP says so. */
static void test_histogram_schedstat(void **state)
{
        struct vm_identity id = {.pid = 9, .name = "db", .exe = "qemu-kvm"};
        struct metrics_totals t = {.runq = {.samples = 10, .sum_ns = 25000000},
                                   .vcpu_runq = {.samples = 4, .sum_ns = 8}};
        struct metrics_vm vm = {&id, "batch", "c", NULL, NULL, NULL, &t, NULL, 0};
        struct metrics_engine e = {.runq_source = RUNQ_SOURCE_SCHEDSTAT};
        _cleanup_free_ char *text = NULL;
        size_t len;

        assert_int_equal(metrics_format(&e, &vm, 1, &text, &len), 0);
        assert_null(strstr(text, "_bucket"));
        assert_non_null(strstr(text,
                               "# HELP vmgov_vm_runqueue_latency_seconds Run-queue latency (wake-up to running) of "
                               "the VM's threads since it was first tracked; measured from schedstat, which gives "
                               "only the sum and the count, so there are no buckets\n"));
        assert_non_null(strstr(text, "vmgov_vm_runqueue_latency_seconds_sum{vm=\"db\",group=\"batch\"} 0.025\n"
                                     "vmgov_vm_runqueue_latency_seconds_count{vm=\"db\",group=\"batch\"} 10\n"));
        assert_non_null(strstr(text,
                               "vmgov_vm_vcpu_runqueue_latency_seconds_sum{vm=\"db\",group=\"batch\"} "
                               "0.000000008\nvmgov_vm_vcpu_runqueue_latency_seconds_count{vm=\"db\",group=\"batch\"} "
                               "4\n"));
}

/* Counters only grow: over ticks, and when the sensor starts again on a new cgroup (its PSI totals start at zero). */
static void test_totals_monotonic(void **state)
{
        struct metrics_totals t = {0}, before;
        struct vm_signals sig = {0};

        /* first tick of a sensor: no deltas yet, only the PSI base */
        sig.psi.cpu.some.total_usec = 5000000;
        metrics_totals_add(&t, &sig);
        assert_int_equal(t.stall_usec[0][0], 0);
        assert_int_equal(t.cpu_usage_usec, 0);

        for (unsigned tick = 1; tick <= 100; tick++) {
                before = t;
                sig = (struct vm_signals){.interval_usec = 1000000,
                                          .cpu_usage_usec = 300000 + tick,
                                          .cpu_throttled_usec = tick % 3,
                                          .cpu_nr_periods = 10,
                                          .cpu_nr_throttled = tick % 2,
                                          .memory_events_high = tick % 5 == 0,
                                          .n_io_devices = 1,
                                          .io_devices = {{8, 0, 4096, 512, 1, 1}}};
                sig.psi.cpu.some.total_usec = 5000000 + tick * 1000;
                sig.runq.source = RUNQ_SOURCE_BPF;
                sig.runq.tick = (struct runq_tick_histogram){
                        .buckets = true, .count = {[12] = tick}, .samples = tick, .sum_ns = tick * 5000};
                if (tick == 50) /* placed afresh: a new sensor, whose first tick has no deltas, its PSI from zero */
                        sig = (struct vm_signals){.psi.cpu.some.total_usec = 10};
                metrics_totals_add(&t, &sig);
                assert_true(t.cpu_usage_usec >= before.cpu_usage_usec);
                assert_true(t.stall_usec[0][0] >= before.stall_usec[0][0]);
                assert_true(t.cpu_throttled_usec >= before.cpu_throttled_usec);
                assert_true(t.memory_events[0] >= before.memory_events[0]);
                assert_true(t.io[0].rbytes >= before.io[0].rbytes);
                assert_true(t.runq.samples >= before.runq.samples);
                assert_true(t.runq.count[12] >= before.runq.count[12]);
        }
        /* ticks 1..49 add 1 ms each; tick 50 is a new base (10); tick 51 adds 5051000 - 10 */
        assert_int_equal(t.stall_usec[0][0], 49 * 1000 + (5000000 + 51 * 1000 - 10) + 49 * 1000);
        assert_int_equal(t.io[0].rbytes, 99 * 4096);
        assert_int_equal(t.runq.samples, 100 * 101 / 2 - 50);
        assert_int_equal(t.runq.samples, t.runq.count[12]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_exact),        cmocka_unit_test(test_format_minimal),
                cmocka_unit_test(test_format_first_tick),   cmocka_unit_test(test_format_families_grouped),
                cmocka_unit_test(test_escape_label),        cmocka_unit_test(test_count),
                cmocka_unit_test(test_write_textfile),      cmocka_unit_test(test_histogram_buckets),
                cmocka_unit_test(test_histogram_schedstat), cmocka_unit_test(test_totals_monotonic),
                cmocka_unit_test(test_thread_series),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
