/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The burst law (Adapt=burst) against a plant that does what the kernel's CFS bandwidth does per period: the pool
 * is refilled by the quota up to quota + cpu.max.burst, a period that wants more than the pool is throttled (what
 * it could not run waits for the next period), a period that ran more than the quota is a burst. One tick is one
 * second: ten periods of 100 ms. Also: the policy's refusals (`vmgov replay` of a recording: test_replay.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testpolicy.h"

#include "decide/burst.h"
#include "decide/control.h"
#include "kernel/macro.h"
#include "policy/config.h"

#define SEC     1000000ULL
#define MS      1000ULL
#define PERIOD  (100 * MS)
#define PAGE    4096
#define BACKLOG (10 * PERIOD) /* what a guest leaves undone is bounded: it drops work it is late for */

/* CPUQuota=50%: 50 ms per period of 100 ms. */
static const char *burst_policy = "[group spiky]\n"
                                  "MatchName = spiky\n"
                                  "Class = batch\n"
                                  "CPUQuota = 50%\n"
                                  "Adapt = burst\n"
                                  "CPUQuotaBurstRange = 0..50ms\n"
                                  "AdaptDwellSec = 3s\n"
                                  "AdaptHoldSec = 30s\n"
                                  "[group calm]\n"
                                  "MatchName = calm\n"
                                  "CPUQuota = 50%\n"
                                  "CPUQuotaBurstSec = 40ms\n"
                                  "Adapt = burst\n"
                                  "CPUQuotaBurstRange = 5ms..50ms\n"
                                  "AdaptDwellSec = 3s\n"
                                  "AdaptHoldSec = 30s\n";

/* cpu.stat, cumulative, and the pool the kernel keeps. */
struct plant {
        uint64_t runtime, backlog;
        uint64_t periods, throttled, bursts, burst_usec, usage;
};

static void plant_period(struct plant *pl, uint64_t demand, uint64_t quota, uint64_t burst)
{
        pl->runtime = MIN(pl->runtime + quota, quota + burst);
        uint64_t want = MIN(demand + pl->backlog, BACKLOG);
        if (want == 0)
                return; /* an idle period is not counted */
        uint64_t ran = MIN(want, pl->runtime);
        pl->periods++;
        if (want > ran)
                pl->throttled++;
        if (ran > quota) {
                pl->bursts++;
                pl->burst_usec += ran - quota;
        }
        pl->runtime -= ran;
        pl->usage += ran;
        pl->backlog = want - ran;
}

/* demand(tick, period) in µs of CPU wanted in that period */
typedef uint64_t (*demand_fn)(unsigned tick, unsigned period);

struct sim {
        struct policy *p;
        const struct group_policy *g;
        struct control_state st;
        struct control_global global;
        struct vm_signals sig;
        struct plant pl;
        uint64_t throttled_per_tick[2000];
        uint64_t burst_per_tick[2000];
        char first_reason[CONTROL_REASON_MAX];
        unsigned changes_before, flips_before; /* at the start of the window sim_run watches */
};

/* One tick: ten periods of the plant under the limits the law holds, then the law on the deltas. */
static void sim_tick(struct sim *s, unsigned t, demand_fn demand, bool burst_stat)
{
        struct plant before = s->pl;
        struct host_signals host = {0};
        struct control_vm vm = {"vm", s->g, &s->sig, &s->st};
        uint64_t quota = s->st.initialized ? s->st.limits.cpu_quota_usec : 50 * MS;
        uint64_t burst = s->st.initialized ? s->st.limits.cpu_burst_usec : 0;

        for (unsigned p = 0; p < SEC / PERIOD; p++)
                plant_period(&s->pl, demand(t, p), quota, burst);
        s->sig = (struct vm_signals){.interval_usec = t == 0 ? 0 : SEC,
                                     .cpu_usage_usec = s->pl.usage - before.usage,
                                     .cpu_nr_periods = s->pl.periods - before.periods,
                                     .cpu_nr_throttled = s->pl.throttled - before.throttled,
                                     .cpu_nr_bursts = s->pl.bursts - before.bursts,
                                     .cpu_burst_usec = s->pl.burst_usec - before.burst_usec,
                                     .cpu_burst_stat = burst_stat};
        control_tick(&vm, 1, &host, NULL, &s->global, (t + 1) * SEC, PAGE);
        s->throttled_per_tick[t] = s->sig.cpu_nr_throttled;
        s->burst_per_tick[t] = s->st.limits.cpu_burst_usec;
        if (!s->first_reason[0] && s->st.reason[KNOB_CPU_BURST])
                snprintf(s->first_reason, sizeof(s->first_reason), "%s", s->st.reason[KNOB_CPU_BURST]);
        /* never outside CPUQuotaBurstRange=, never above the quota */
        if (s->st.limits.cpu_burst_usec < s->g->adapt.cpu_burst_min_usec ||
            s->st.limits.cpu_burst_usec > s->g->adapt.cpu_burst_max_usec)
                fail_msg("tick %u: cpu.max.burst %llu outside the range", t,
                         (unsigned long long)s->st.limits.cpu_burst_usec);
        assert_true(s->st.limits.cpu_burst_set);
        assert_true(s->st.limits.cpu_burst_usec <= s->st.limits.cpu_quota_usec);
}

static uint64_t sum(const uint64_t *v, unsigned from, unsigned to)
{
        uint64_t n = 0;
        for (unsigned i = from; i < to; i++)
                n += v[i];
        return n;
}

/* 20 ms a period, and once a second a spike of 90 ms: the mean (27 ms) is well under the quota of 50 ms. */
static uint64_t spiky(unsigned tick, unsigned period)
{
        (void)tick;
        return period == 0 ? 90 * MS : 20 * MS;
}

/* 60 ms every period: above the quota all the time. */
static uint64_t sustained(unsigned tick, unsigned period)
{
        (void)tick, (void)period;
        return 60 * MS;
}

static uint64_t quiet(unsigned tick, unsigned period)
{
        (void)tick, (void)period;
        return 10 * MS;
}

/* The spike of 90 ms once every 45 s: longer apart than the hold (30 s), the case that could saw. */
static uint64_t rare_spikes(unsigned tick, unsigned period)
{
        return tick % 45 == 0 && period == 0 ? 90 * MS : 20 * MS;
}

static struct sim *sim_new(const char *group_name)
{
        struct sim *s = calloc(1, sizeof(*s));
        assert_non_null(s);
        s->p = load(burst_policy);
        s->g = group(s->p, group_name);
        return s;
}

static void sim_free(struct sim *s)
{
        control_state_done(&s->st);
        policy_free(s->p);
        free(s);
}

/* ticks ticks of demand; the counts of changes at the start of the last window ticks are kept. */
static void sim_run(struct sim *s, unsigned ticks, demand_fn demand, bool burst_stat, unsigned window)
{
        for (unsigned t = 0; t < ticks; t++) {
                if (t == ticks - window) {
                        s->changes_before = s->st.changes[KNOB_CPU_BURST];
                        s->flips_before = s->st.direction_changes[KNOB_CPU_BURST];
                }
                sim_tick(s, t, demand, burst_stat);
        }
}

static void test_spikes_grow_the_burst(void **state)
{
        struct sim *s = sim_new("spiky");
        const unsigned ticks = 900;

        sim_run(s, ticks, spiky, true, 300);
        uint64_t early = sum(s->throttled_per_tick, 1, 11), late = sum(s->throttled_per_tick, ticks - 300, ticks);
        print_message(
                "burst: throttled periods %llu in the first 10 s, %llu in the last 5 min; cpu.max.burst %llu us\n",
                (unsigned long long)early, (unsigned long long)late, (unsigned long long)s->st.limits.cpu_burst_usec);
        /* The spike needs 40 ms above the quota: the first tick is throttled in 2 of 10 periods (the spike and what it
         * left over). */
        assert_string_equal(s->first_reason, "burst: throttled in 20% of periods (2 of 10), 0 bursts, usage 54% of "
                                             "the quota: cpu.max.burst 0 -> 3125us (x2, top 50ms)");
        assert_int_equal(s->throttled_per_tick[1], 2);
        assert_true(early >= 10);
        /* Throttling falls to nothing: the burst absorbs the spike, and the kernel counts it as a burst. */
        assert_int_equal(late, 0);
        assert_true(s->sig.cpu_nr_bursts > 0);
        assert_true(s->st.limits.cpu_burst_usec >= 40 * MS);
        /* No oscillation: nothing changes in the last 5 minutes. */
        assert_int_equal(s->st.changes[KNOB_CPU_BURST], s->changes_before);
        assert_int_equal(s->st.direction_changes[KNOB_CPU_BURST], 0);
        sim_free(s);
}

static void test_sustained_demand_does_not_grow(void **state)
{
        struct sim *s = sim_new("spiky");

        sim_run(s, 600, sustained, true, 600);
        /* Throttled in every period: a burst would not help; cpu.max.burst stays at the floor. */
        assert_int_equal(s->sig.cpu_nr_throttled, 10);
        assert_int_equal(s->st.limits.cpu_burst_usec, 0);
        assert_int_equal(s->st.changes[KNOB_CPU_BURST], 0);
        sim_free(s);
}

static void test_calm_decays_to_the_floor(void **state)
{
        struct sim *s = sim_new("calm");
        unsigned reached = 0;

        sim_run(s, 300, quiet, true, 300);
        while (reached < 300 && s->burst_per_tick[reached] != 5 * MS)
                reached++;
        print_message("burst: 40ms down to the floor 5ms after %u ticks, in %u changes\n", reached,
                      s->st.changes[KNOB_CPU_BURST]);
        /* Starts at CPUQuotaBurstSec=, holds for AdaptHoldSec, then halves every dwell: 40 -> 20 -> 10 -> 5. */
        assert_int_equal(s->burst_per_tick[0], 40 * MS);
        assert_int_equal(s->burst_per_tick[29], 40 * MS);
        assert_in_range(reached, 30, 45);
        assert_int_equal(s->st.changes[KNOB_CPU_BURST], 3);
        assert_int_equal(s->st.limits.cpu_burst_usec, 5 * MS);
        assert_non_null(strstr(s->first_reason, "neither throttled nor bursting for 30000ms: cpu.max.burst 40ms -> "
                                                "20ms (x0.5, floor 5ms)"));
        sim_free(s);
}

static void test_rare_spikes_settle(void **state)
{
        struct sim *s = sim_new("spiky");
        const unsigned ticks = 1800;

        sim_run(s, ticks, rare_spikes, true, 600);
        unsigned flips = s->st.direction_changes[KNOB_CPU_BURST] - s->flips_before;
        uint64_t late = sum(s->throttled_per_tick, ticks - 600, ticks);
        print_message("burst: spikes every 45 s: %u direction changes in the last 10 minutes, %llu throttled periods, "
                      "%u direction changes in all\n",
                      flips, (unsigned long long)late, s->st.direction_changes[KNOB_CPU_BURST]);
        /* A decay that a spike undid doubles the hold: the burst settles instead of sawing. */
        assert_int_equal(flips, 0);
        assert_int_equal(late, 0);
        sim_free(s);
}

/* Before Linux 5.14 cpu.stat has no nr_bursts: the law holds, even throttled. */
static void test_no_burst_statistics_holds(void **state)
{
        struct sim *s = sim_new("spiky");

        sim_run(s, 120, spiky, false, 120);
        assert_true(sum(s->throttled_per_tick, 100, 120) > 0);
        assert_int_equal(s->st.changes[KNOB_CPU_BURST], 0);
        sim_free(s);
}

/* The law itself: spikes against more throttling, usage near the quota, bursting without throttling. */
static void test_decide_bands(void **state)
{
        struct burst_input in = {.interval_usec = SEC,
                                 .nr_periods = 10,
                                 .burst_stat = true,
                                 .quota_usec = 50 * MS,
                                 .period_usec = PERIOD,
                                 .current_usec = 10 * MS,
                                 .min_usec = 0,
                                 .max_usec = 50 * MS};
        struct burst_decision d;

        in.nr_throttled = 3, in.usage_usec = 300 * MS; /* 30%: spikes */
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_GROW);
        assert_int_equal(d.burst_usec, 20 * MS);
        in.nr_throttled = 4; /* 40%: more than spikes */
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_HOLD);
        assert_string_equal(d.reason, "");
        in.nr_throttled = 1, in.usage_usec = 450 * MS; /* 90% of the quota: sustained */
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_HOLD);
        in.nr_throttled = 1, in.usage_usec = 100 * MS, in.current_usec = 40 * MS; /* capped at the top */
        burst_decide(&in, &d);
        assert_int_equal(d.burst_usec, 50 * MS);
        in.nr_throttled = 0, in.nr_bursts = 2; /* the burst at work: not calm */
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_HOLD);
        in.nr_bursts = 0;
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_CALM);
        in.quota_usec = LIMIT_MAX, in.nr_throttled = 1; /* no quota: nothing to throttle against */
        burst_decide(&in, &d);
        assert_int_equal(d.verdict, BURST_HOLD);
}

static const char *load_err(const char *text)
{
        static char buf[1200];
        struct config_error e = {0};
        struct policy *p = NULL;

        assert_int_equal(config_load_string("test.ini", text, &test_policy_env, &p, &e), -EINVAL);
        assert_null(p);
        config_error_format(&e, buf, sizeof(buf));
        return buf;
}

static void test_policy_refusals(void **state)
{
        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"Adapt = burst\nCPUQuotaBurstRange = 0..20ms\n",
                 "test.ini:4: [group a]: CPUQuotaBurstRange= needs CPUQuota= or Adapt=cpu with CPUQuotaRange=: a "
                 "burst is time above the quota"},
                {"CPUQuota = 50%\nAdapt = burst\nCPUQuotaBurstRange = 0..60ms\n",
                 "test.ini:5: [group a]: the top of CPUQuotaBurstRange=60ms is above CPUQuota=50%, 50ms per period of "
                 "100ms: the kernel takes a burst of at most the quota"},
                {"Class = batch\nAdapt = cpu burst\nCPUQuotaRange = 20%..200%\nCPUQuotaBurstRange = 0..30ms\n",
                 "test.ini:6: [group a]: the top of CPUQuotaBurstRange=30ms is above the floor of CPUQuotaRange=20%, "
                 "20ms per period of 100ms"},
                {"CPUQuota = 50%\nAdapt = burst\nCPUQuotaBurstRange = 20ms..5ms\n",
                 "test.ini:5: CPUQuotaBurstRange=20ms..5ms: the range is reversed (20ms is above 5ms)"},
                {"CPUQuota = 50%\nAdapt = burst\nCPUQuotaBurstRange = 0..2h\n",
                 "test.ini:5: CPUQuotaBurstRange=0..2h: expected MIN..MAX with durations of at most 1h"},
                {"CPUQuota = 50%\nCPUQuotaBurstRange = 0..20ms\n",
                 "test.ini:1: [group a]: CPUQuotaBurstRange= is set but Adapt= does not include burst"},
                {"CPUQuota = 50%\nAdapt = burst\n", "test.ini:1: [group a]: Adapt=burst needs CPUQuotaBurstRange="},
                {"CPUQuota = 50%\nCPUQuotaBurstSec = 30ms\nAdapt = burst\nCPUQuotaBurstRange = 0..20ms\n",
                 "test.ini:4: [group a]: CPUQuotaBurstSec=30ms is outside CPUQuotaBurstRange=0ms..20ms"},
                {"CPUQuota = 50%\nAdapt = bursts\n", "test.ini:4: Adapt=bursts: \"bursts\" is not one of cpu, memory, "
                                                     "io, burst"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[512];
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s", cases[i].text);
                const char *msg = load_err(text);
                if (strncmp(msg, cases[i].expect, strlen(cases[i].expect)) != 0)
                        fail_msg("case %zu: got \"%s\"\nexpected \"%s\"", i, msg, cases[i].expect);
        }

        /* A range up to the quota, and one under the CPU law's floor without CPUQuota=. */
        struct policy *p = load("[group a]\nMatchName = a\nCPUQuota = 50%\nAdapt = burst\nCPUQuotaBurstRange = "
                                "0..50ms\n[group b]\nMatchName = b\nClass = batch\nAdapt = cpu burst\n"
                                "CPUQuotaRange = 20%..200%\nCPUQuotaBurstRange = 1ms..20ms\n");
        const struct group_policy *b = group(p, "b");
        assert_true(b->adapt.burst && b->adapt.cpu_burst_range_set);
        assert_int_equal(b->adapt.cpu_burst_min_usec, 1 * MS);
        assert_int_equal(b->adapt.cpu_burst_max_usec, 20 * MS);
        policy_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spikes_grow_the_burst),     cmocka_unit_test(test_sustained_demand_does_not_grow),
                cmocka_unit_test(test_calm_decays_to_the_floor),  cmocka_unit_test(test_rare_spikes_settle),
                cmocka_unit_test(test_no_burst_statistics_holds), cmocka_unit_test(test_decide_bands),
                cmocka_unit_test(test_policy_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
