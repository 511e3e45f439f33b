/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmgov replay: a recording and a policy in, the decisions out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/config.h"
#include "cli/replay.h"

static const char policy_text[] = "[group web]\nMatchName = web\nClass = latency\nAdapt = cpu\n"
                                  "CPUWeightRange = 100..1000\nRunQueueLatencyTarget = 2ms\nAdaptDwellSec = 1s\n"
                                  "[group batch]\nMatchName = batch\nClass = batch\nCPUQuota = 200%\nAdapt = cpu\n"
                                  "CPUQuotaRange = 10%..400%\nAdaptDwellSec = 1s\n";

static const char recording[] = "vmgov-signals 1\n"
                                "tick now_usec=1000000 interval_usec=0\n"
                                "vm pid=10 start=1 name=web\n"
                                "vm pid=11 start=1 name=batch\n"
                                "vm pid=12 start=1 name=nobody\n"
                                "tick now_usec=2000000 interval_usec=1000000\n"
                                "vm pid=10 start=1 name=web interval_usec=1000000 runq_source=bpf runq_p99_usec=6000\n"
                                "vm pid=11 start=1 name=batch interval_usec=1000000 cpu_usage_usec=1000000\n"
                                "tick now_usec=3000000 interval_usec=1000000\n"
                                "vm pid=10 start=1 name=web interval_usec=1000000 runq_source=bpf runq_p99_usec=1900\n"
                                "vm pid=11 start=1 name=batch interval_usec=1000000 cpu_usage_usec=1000000\n";

static char *run_policy(const char *policy, const char *rec, int *ret, char **ret_err)
{
        static const struct config_env env = {.physical_memory = 1ULL << 34};
        struct config_error e = {0};
        struct policy *p = NULL;
        char *out = NULL, *err = NULL;
        size_t outlen = 0, errlen = 0;
        FILE *in = fmemopen((void *)rec, strlen(rec), "r");
        FILE *o = open_memstream(&out, &outlen), *er = open_memstream(&err, &errlen);

        assert_int_equal(config_load_string("p.ini", policy, &env, &p, &e), 0);
        *ret = replay_run(in, "rec.txt", p, o, er);
        fclose(in);
        fclose(o);
        fclose(er);
        policy_free(p);
        *ret_err = err;
        return out;
}

static char *run(const char *rec, int *ret, char **ret_err)
{
        return run_policy(policy_text, rec, ret, ret_err);
}

static void test_decisions(void **state)
{
        char *err, *out;
        int r;

        out = run(recording, &r, &err);
        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_string_equal(out,
                            "+1.0s web [web] cpu: run-queue p99 6000us > target 2000us: cpu.weight 100 -> 150 (x1.5, "
                            "range 100..1000)\n"
                            "+1.0s batch [batch] cpu: latency VM web: run-queue p99 6000us > target 2000us; batch "
                            "uses 1.00 CPUs: cpu.max 200000 -> 140000 per 100000 (x0.7, floor 10000)\n"
                            "replayed 3 ticks (2.0s), 2 VMs, 2 decisions\n"
                            "  web [web]: cpu.weight=\"150\"; changes cpu.weight 1 cpu.max 0 memory.high 0 io.max 0; "
                            "direction changes 0\n"
                            "  batch [batch]: cpu.max=\"140000 100000\"; changes cpu.weight 0 cpu.max 1 memory.high 0 "
                            "io.max 0; direction changes 0\n");
        free(out);
        free(err);
}

/* A recording keeps a VM's name as its command line had it, and a reason may name another VM (the latency VM a
 * batch VM yields to): what replay prints stays one line per decision, with no terminal escape in it. */
static void test_hostile_names(void **state)
{
        static const char policy[] = "[group web]\nMatchName = web*\nClass = latency\nAdapt = cpu\n"
                                     "CPUWeightRange = 100..1000\nRunQueueLatencyTarget = 2ms\nAdaptDwellSec = 1s\n"
                                     "[group batch]\nMatchName = batch*\nClass = batch\nCPUQuota = 200%\nAdapt = cpu\n"
                                     "CPUQuotaRange = 10%..400%\nAdaptDwellSec = 1s\n";
        static const char rec[] = "vmgov-signals 1\n"
                                  "tick now_usec=1000000 interval_usec=0\n"
                                  "vm pid=10 start=1 name=web%0A%3C0%3Eevil%1B%5B31m\n"
                                  "vm pid=11 start=1 name=batch%1B%5D0%3Bx%07\n"
                                  "tick now_usec=2000000 interval_usec=1000000\n"
                                  "vm pid=10 start=1 name=web%0A%3C0%3Eevil%1B%5B31m interval_usec=1000000 "
                                  "runq_source=bpf runq_p99_usec=6000\n"
                                  "vm pid=11 start=1 name=batch%1B%5D0%3Bx%07 interval_usec=1000000 "
                                  "cpu_usage_usec=1000000\n";
        char *err, *out;
        unsigned lines = 0;
        int r;

        out = run_policy(policy, rec, &r, &err);
        assert_int_equal(r, 0);
        for (const char *p = out; *p; p++) {
                if ((*p > 0 && *p < 0x20 && *p != '\n') || *p == 0x7f)
                        fail_msg("byte %02x in:\n%s", *p, out);
                lines += *p == '\n';
        }
        assert_int_equal(lines, 5); /* two decisions, the summary, two VMs */
        assert_non_null(strstr(out, "+1.0s batch\\u001b]0;x\\u0007 [batch] cpu: latency VM web\\n<0>evil\\x1b[31m: "
                                    "run-queue p99 6000us > target 2000us; batch\\x1b]0;x\\x07 uses 1.00 CPUs"));
        free(out);
        free(err);
}

/* The host's pressure is in the recording: replay runs the host's memory law and the freeze on it, as the engine
 * would have. */
static void test_host_law_and_freeze(void **state)
{
        static const char policy[] = "[engine]\nHostMemoryPressureTarget = 5%\nHostFreezePressure = 10%\n"
                                     "HostFreezeAfterSec = 2s\nHostThawAfterSec = 2s\n"
                                     "[group web]\nMatchName = web\nClass = latency\n"
                                     "[group batch]\nMatchName = batch\nClass = batch\nAdapt = memory\n"
                                     "MemoryHighRange = 100M..1G\nMemoryPressureTarget = 1%\nMemoryProbe = high\n"
                                     "AdaptDwellSec = 1s\nFreezeOnHostPressure = yes\n";
        char rec[4096];
        size_t len = 0;
        char *err, *out;
        int r;

        len += snprintf(rec + len, sizeof(rec) - len, "vmgov-signals 1\n");
        for (unsigned t = 1; t <= 8; t++) {
                /* over the host's target and the freeze threshold for 4 s, then calm */
                unsigned ppm = t == 1 ? 0 : t <= 5 ? 200000 : 0;
                len += snprintf(rec + len, sizeof(rec) - len,
                                "tick now_usec=%u000000 interval_usec=%u memory_some_ppm=%u memory_full_ppm=%u\n"
                                "vm pid=10 start=1 name=web interval_usec=%u memory_current=300000000\n"
                                "vm pid=11 start=1 name=batch interval_usec=%u memory_current=900000000\n",
                                t, t == 1 ? 0 : 1000000, ppm, ppm, t == 1 ? 0 : 1000000, t == 1 ? 0 : 1000000);
        }
        out = run_policy(policy, rec, &r, &err);
        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        print_message("%s", out);
        assert_non_null(strstr(out, "+1.0s batch [batch] memory: host memory pressure 20.00% > target 5.00%: batch "
                                    "gives first: memory.high 1073741824 -> 966365184 (floor 104857600)\n"));
        assert_non_null(strstr(out, "+3.0s batch [batch] freeze: host memory pressure (full) 20.00% > "
                                    "HostFreezePressure=10.00% for 2s despite 175 MiB reclaimed from VMs meanwhile: "
                                    "the batch VM that holds the most memory (memory.current 900000000) is frozen, "
                                    "for at most 300s\n"));
        assert_non_null(strstr(out, "+7.0s batch [batch] freeze: host memory pressure (full) 0.00% under 80% of "
                                    "HostFreezePressure=10.00% for 2s: thawed after 4s frozen\n"));
        assert_null(strstr(out, "web [web] memory"));
        assert_null(strstr(out, "web [web] freeze"));
        assert_non_null(strstr(out, "; gave the host "));
        assert_non_null(strstr(out, "; frozen 1 times, 4.0s in all\n"));
        free(out);
        free(err);
}

static void test_broken_recording(void **state)
{
        char *err, *out;
        int r;

        out = run("vmgov-signals 1\ntick now_usec=1\nvm pid=1 name=%%%\n", &r, &err);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err, "rec.txt:3: not a signal recording line (or a broken one)\n");
        free(out);
        free(err);
        out = run("something else\n", &r, &err);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err, "rec.txt:1: not a signal recording line (or a broken one)\n");
        free(out);
        free(err);
}

/* Adapt=burst: the recorded nr_bursts and burst_usec feed the burst law as the live ones do. The third tick is
 * throttled in every period (sustained: held), the fourth in 10% after the dwell (grown), the last has no burst
 * statistics (recorded before Linux 5.14, or by an engine before them: held). */
static void test_burst(void **state)
{
        static const char policy[] = "[group spiky]\nMatchName = spiky\nClass = batch\nCPUQuota = 50%\n"
                                     "Adapt = burst\nCPUQuotaBurstRange = 0..50ms\nAdaptDwellSec = 3s\n";
        static const char rec[] =
                "vmgov-signals 1\n"
                "tick now_usec=1000000 interval_usec=0\n"
                "vm pid=10 start=1 name=spiky\n"
                "tick now_usec=2000000 interval_usec=1000000\n"
                "vm pid=10 start=1 name=spiky interval_usec=1000000 cpu_usage_usec=270000 cpu_nr_periods=10 "
                "cpu_nr_throttled=2 cpu_nr_bursts=0 cpu_burst_usec=0 cpu_burst_stat=1\n"
                "tick now_usec=3000000 interval_usec=1000000\n"
                "vm pid=10 start=1 name=spiky interval_usec=1000000 cpu_usage_usec=270000 cpu_nr_periods=10 "
                "cpu_nr_throttled=10 cpu_nr_bursts=0 cpu_burst_usec=0 cpu_burst_stat=1\n"
                "tick now_usec=5000000 interval_usec=2000000\n"
                "vm pid=10 start=1 name=spiky interval_usec=1000000 cpu_usage_usec=270000 cpu_nr_periods=10 "
                "cpu_nr_throttled=1 cpu_nr_bursts=3 cpu_burst_usec=9000 cpu_burst_stat=1\n"
                "tick now_usec=6000000 interval_usec=1000000\n"
                "vm pid=10 start=1 name=spiky interval_usec=1000000 cpu_usage_usec=270000 cpu_nr_periods=10 "
                "cpu_nr_throttled=1 cpu_nr_bursts=3 cpu_burst_usec=9000\n";
        char *err, *out;
        int r;

        out = run_policy(policy, rec, &r, &err);
        assert_int_equal(r, 0);
        assert_string_equal(err, "");
        assert_string_equal(
                out, "+1.0s spiky [spiky] burst: throttled in 20% of periods (2 of 10), 0 bursts, usage 54% of "
                     "the quota: cpu.max.burst 0 -> 3125us (x2, top 50ms)\n"
                     "+4.0s spiky [spiky] burst: throttled in 10% of periods (1 of 10), 3 bursts for 9ms, usage 54% of "
                     "the quota: cpu.max.burst 3125us -> 6250us (x2, top 50ms)\n"
                     "replayed 5 ticks (5.0s), 1 VMs, 2 decisions\n"
                     "  spiky [spiky]: cpu.max=\"50000 100000\" cpu.max.burst=\"6250\"; changes cpu.weight 0 "
                     "cpu.max 0 memory.high 0 io.max 0; direction changes 0; changes cpu.max.burst 2, "
                     "direction changes 0\n");
        free(out);
        free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decisions),
                cmocka_unit_test(test_hostile_names),
                cmocka_unit_test(test_host_law_and_freeze),
                cmocka_unit_test(test_broken_recording),
                cmocka_unit_test(test_burst),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
