/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
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

static void fill(struct limits *hostile_limits, struct vm_signals *hostile_sig, struct metrics_counters *hostile_c,
                 struct limits *web_limits)
{
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
                .runq = {RUNQ_SOURCE_BPF, 8500, 40, 900, 2100, 1800},
        };
        *hostile_c = (struct metrics_counters){0};
        hostile_c->decisions[METRICS_FILE_CPU_MAX] = 1;
        hostile_c->decisions[METRICS_FILE_CGROUP_PROCS] = 1;
        *web_limits = (struct limits){.cpu_weight_set = true, .cpu_weight = 200};
}

/* The hostile VM's labels as the exposition format wants them: \" \\ \n escaped, the 0xff byte and ESC as U+FFFD. */
#define FFFD           "\xef\xbf\xbd"
#define HOSTILE_LABELS "vm=\"a\\\"b\\\\c\\nd" FFFD "\xc3\xa9" FFFD "[0m\",group=\"batch\",pid=\"4242\""

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
        "# HELP vmgov_host_pressure_ratio Share of the last tick in which some (kind=some) or all (kind=full) non-idle "
        "tasks of the host stalled on the resource (/proc/pressure)\n"
        "# TYPE vmgov_host_pressure_ratio gauge\n"
        "vmgov_host_pressure_ratio{resource=\"cpu\",kind=\"some\"} 0.012\n"
        "vmgov_host_pressure_ratio{resource=\"cpu\",kind=\"full\"} 0\n"
        "vmgov_host_pressure_ratio{resource=\"memory\",kind=\"some\"} 0.0003\n"
        "vmgov_host_pressure_ratio{resource=\"memory\",kind=\"full\"} 0.0001\n"
        "vmgov_host_pressure_ratio{resource=\"io\",kind=\"some\"} 0.005\n"
        "vmgov_host_pressure_ratio{resource=\"io\",kind=\"full\"} 0.002\n"
        "# HELP vmgov_vm_info A QEMU process the engine tracks, always 1; labels name its uuid, cgroup (relative to "
        "the cgroup2 mount) and executable\n"
        "# TYPE vmgov_vm_info gauge\n"
        "vmgov_vm_info{" HOSTILE_LABELS
        ",uuid=\"\",cgroup=\"vmgov/batch/a_b_c_d_-1c2b3a4d\",exe=\"qemu-system-x86_64\"} 1\n"
        "vmgov_vm_info{vm=\"web-1\",group=\"web\",pid=\"100\",uuid=\"6b29fc40-ca47-1067-b31d-00dd010662da\",cgroup="
        "\"vmgov/web/web-1\",exe=\"qemu-kvm\"} 1\n"
        "# HELP vmgov_vm_cpu_weight cpu.weight the engine holds the VM at (in dry-run: would hold)\n"
        "# TYPE vmgov_vm_cpu_weight gauge\n"
        "vmgov_vm_cpu_weight{vm=\"web-1\",group=\"web\",pid=\"100\"} 200\n"
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
        "# HELP vmgov_vm_pressure_ratio Share of the last tick in which some (kind=some) or all (kind=full) of the "
        "VM's tasks stalled on the resource\n"
        "# TYPE vmgov_vm_pressure_ratio gauge\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"cpu\",kind=\"some\"} 0.025\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"cpu\",kind=\"full\"} 0.001\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"memory\",kind=\"some\"} 0.001\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"memory\",kind=\"full\"} 0\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"io\",kind=\"some\"} 0\n"
        "vmgov_vm_pressure_ratio{" HOSTILE_LABELS ",resource=\"io\",kind=\"full\"} 0\n"
        "# HELP vmgov_vm_runqueue_latency_seconds Run-queue latency (wake-up to running) of the VM's threads in the "
        "last tick, by quantile; source is bpf or schedstat\n"
        "# TYPE vmgov_vm_runqueue_latency_seconds gauge\n"
        "vmgov_vm_runqueue_latency_seconds{" HOSTILE_LABELS ",quantile=\"0.5\",source=\"bpf\"} 0.00004\n"
        "vmgov_vm_runqueue_latency_seconds{" HOSTILE_LABELS ",quantile=\"0.9\",source=\"bpf\"} 0.0009\n"
        "vmgov_vm_runqueue_latency_seconds{" HOSTILE_LABELS ",quantile=\"0.99\",source=\"bpf\"} 0.0021\n"
        "# HELP vmgov_vm_vcpu_runqueue_latency_seconds Run-queue latency of the VM's vCPU threads (CPU n/KVM) in the "
        "last tick, by quantile\n"
        "# TYPE vmgov_vm_vcpu_runqueue_latency_seconds gauge\n"
        "vmgov_vm_vcpu_runqueue_latency_seconds{" HOSTILE_LABELS ",quantile=\"0.99\",source=\"bpf\"} 0.0018\n"
        "# HELP vmgov_vm_runqueue_latency_samples Wake-ups measured for the run-queue latency quantiles in the last "
        "tick\n"
        "# TYPE vmgov_vm_runqueue_latency_samples gauge\n"
        "vmgov_vm_runqueue_latency_samples{" HOSTILE_LABELS "} 8500\n"
        "# HELP vmgov_vm_cpu_usage_ratio CPU time the VM used per second of the last tick (1 = one CPU)\n"
        "# TYPE vmgov_vm_cpu_usage_ratio gauge\n"
        "vmgov_vm_cpu_usage_ratio{" HOSTILE_LABELS "} 1.5\n"
        "# HELP vmgov_vm_cpu_throttled_ratio Time the VM spent throttled by cpu.max per second of the last tick\n"
        "# TYPE vmgov_vm_cpu_throttled_ratio gauge\n"
        "vmgov_vm_cpu_throttled_ratio{" HOSTILE_LABELS "} 0.03\n"
        "# HELP vmgov_vm_cpu_throttled_periods_ratio Share of the last tick's cpu.max periods in which the VM was "
        "throttled\n"
        "# TYPE vmgov_vm_cpu_throttled_periods_ratio gauge\n"
        "vmgov_vm_cpu_throttled_periods_ratio{" HOSTILE_LABELS "} 0.2\n"
        "# HELP vmgov_vm_memory_current_bytes memory.current: memory charged to the VM's cgroup\n"
        "# TYPE vmgov_vm_memory_current_bytes gauge\n"
        "vmgov_vm_memory_current_bytes{" HOSTILE_LABELS "} 1073741824\n"
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
        "vmgov_vm_write_errors_total{" HOSTILE_LABELS "} 0\n";

static void test_format_exact(void **state)
{
        struct limits hostile_limits, web_limits;
        struct vm_signals hostile_sig;
        struct metrics_counters hostile_c, totals = {0};
        struct host_signals host = {
                .interval_usec = 1000000, .cpu = {12000, 0}, .memory = {300, 100}, .io = {5000, 2000}};
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
        vms[0] = (struct metrics_vm){&hostile_id,     "batch",      "vmgov/batch/a_b_c_d_-1c2b3a4d",
                                     &hostile_limits, &hostile_sig, &hostile_c};
        vms[1] = (struct metrics_vm){&web_id, "web", "vmgov/web/web-1", &web_limits, NULL, NULL};

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

/* The first tick has no deltas and no latency yet: only what is absolute is shown. An unlimited quota is +Inf,
 * CPUWeight=idle shows as cpu_idle (and no weight), and no periods means no throttled-periods ratio. */
static void test_format_first_tick(void **state)
{
        struct vm_identity id = {.pid = 7, .exe = "qemu-kvm"};
        struct limits lim = {
                .cpu_idle = true, .cpu_max_set = true, .cpu_quota_usec = LIMIT_MAX, .cpu_period_usec = 100000};
        struct vm_signals sig = {.memory_current = 4096};
        struct metrics_vm vm = {&id, NULL, NULL, &lim, &sig, NULL};
        struct metrics_engine e = {0};
        _cleanup_free_ char *text = NULL;
        size_t len;
        const char *vm_part;

        assert_int_equal(metrics_format(&e, &vm, 1, &text, &len), 0);
        vm_part = strstr(text, "# HELP vmgov_vm_info");
        assert_non_null(vm_part);
        assert_string_equal(vm_part,
                            "# HELP vmgov_vm_info A QEMU process the engine tracks, always 1; labels name its uuid, "
                            "cgroup (relative to the cgroup2 mount) and executable\n"
                            "# TYPE vmgov_vm_info gauge\n"
                            "vmgov_vm_info{vm=\"\",group=\"\",pid=\"7\",uuid=\"\",cgroup=\"\",exe=\"qemu-kvm\"} 1\n"
                            "# HELP vmgov_vm_cpu_idle 1 when the engine holds the VM at cpu.idle (CPUWeight=idle)\n"
                            "# TYPE vmgov_vm_cpu_idle gauge\n"
                            "vmgov_vm_cpu_idle{vm=\"\",group=\"\",pid=\"7\"} 1\n"
                            "# HELP vmgov_vm_cpu_max_quota_seconds cpu.max quota: CPU time the VM may use per period; "
                            "+Inf for max\n"
                            "# TYPE vmgov_vm_cpu_max_quota_seconds gauge\n"
                            "vmgov_vm_cpu_max_quota_seconds{vm=\"\",group=\"\",pid=\"7\"} +Inf\n"
                            "# HELP vmgov_vm_cpu_max_period_seconds cpu.max period\n"
                            "# TYPE vmgov_vm_cpu_max_period_seconds gauge\n"
                            "vmgov_vm_cpu_max_period_seconds{vm=\"\",group=\"\",pid=\"7\"} 0.1\n"
                            "# HELP vmgov_vm_memory_current_bytes memory.current: memory charged to the VM's cgroup\n"
                            "# TYPE vmgov_vm_memory_current_bytes gauge\n"
                            "vmgov_vm_memory_current_bytes{vm=\"\",group=\"\",pid=\"7\"} 4096\n");
        assert_null(strstr(text, "host_pressure"));
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
        char seen[64][96] = {{0}}, current[96] = "";
        size_t len, n_seen = 0;

        fill(&hostile_limits, &hostile_sig, &hostile_c, &web_limits);
        web_sig = hostile_sig;
        web_sig.runq.source = RUNQ_SOURCE_SCHEDSTAT;
        web_c.decisions[METRICS_FILE_OTHER] = 5;
        vms[0] = (struct metrics_vm){&hostile_id, "batch", "x", &hostile_limits, &hostile_sig, &hostile_c};
        vms[1] = (struct metrics_vm){&web_id, "web", "y", &web_limits, &web_sig, &web_c};
        vms[2] = (struct metrics_vm){&web_id, "web", "z", &hostile_limits, NULL, NULL};
        assert_int_equal(metrics_format(&e, vms, ELEMENTSOF(vms), &text, &len), 0);
        assert_non_null(strstr(text, "file=\"other\"} 5\n"));
        assert_non_null(strstr(text, "source=\"schedstat\"} "));

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
                n = strcspn(line, "{ ");
                assert_int_equal(n, strlen(current));
                assert_int_equal(strncmp(line, current, n), 0);
                assert_true(strncmp(current, "vmgov_", 6) == 0);
        }
        assert_true(n_seen > 20);
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_exact),      cmocka_unit_test(test_format_minimal),
                cmocka_unit_test(test_format_first_tick), cmocka_unit_test(test_format_families_grouped),
                cmocka_unit_test(test_escape_label),      cmocka_unit_test(test_count),
                cmocka_unit_test(test_write_textfile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
