/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cgvalues.h"
#include "decide/burst.h"
#include "decide/control.h"
#include "kernel/macro.h"

#define CALM_FRACTION_PERCENT    80    /* "calm" is below 80% of a target: the dead band that stops flapping */
#define MEMORY_LOWER_BELOW       2     /* lower memory.high only while pressure < target / 2 */
#define BUSY_CPU_PPM             50000 /* a batch VM "uses CPU" above 5% of one CPU over the tick */
#define MEMORY_MARGIN_MIN        (32ULL << 20)
#define RANGE_STEPS              10 /* relaxing walks back in tenths of the range */
#define MEMORY_RAISE_MAX_PERCENT 50 /* memory.high grows by up to half in one tick at twice the target */
#define PRESSURE_VS_MAX          96
#define HOST_NORMAL_AFTER_TICKS  30 /* the host over its memory target this long: normal VMs give too */

static const char *const knob_files[_KNOB_MAX] = {
        [KNOB_CPU_WEIGHT] = "cpu.weight",         [KNOB_CPU_MAX] = "cpu.max",
        [KNOB_MEMORY_HIGH] = "memory.high",       [KNOB_IO_MAX] = "io.max",
        [KNOB_MEMORY_RECLAIM] = "memory.reclaim", [KNOB_CPU_BURST] = "cpu.max.burst",
};

int control_knob_of_file(const char *file)
{
        for (int k = 0; k < _KNOB_MAX; k++)
                if (strcmp(file, knob_files[k]) == 0)
                        return k;
        return -1;
}

static uint64_t group_period(const struct group_policy *g)
{
        return g->limits.cpu_max_set ? g->limits.cpu_period_usec : CPU_PERIOD_DEFAULT_USEC;
}

uint64_t control_quota_usec(const struct group_policy *g, uint64_t permyriad)
{
        uint64_t q = permyriad * group_period(g) / 10000;
        return MAX(q, (uint64_t)CPU_PERIOD_MIN_USEC);
}

static uint64_t baseline_weight(const struct group_policy *g)
{
        return g->limits.cpu_weight_set ? g->limits.cpu_weight : CPU_WEIGHT_DEFAULT;
}

static uint64_t baseline_quota(const struct group_policy *g)
{
        return g->limits.cpu_max_set ? g->limits.cpu_quota_usec
                                     : control_quota_usec(g, g->adapt.cpu_quota_max_permyriad);
}

static uint64_t baseline_memory_high(const struct group_policy *g)
{
        return g->limits.memory_high_set ? g->limits.memory_high : g->adapt.memory_high_max;
}

/* A reload makes a new policy, whose groups may be allocated where the old ones were: the generation tells them
 * apart, so a state is never kept for a group it was not built for. Within one generation the group itself is
 * compared: a VM may change group without a reload (QEMU's -runas changes the user MatchUser= sees). */
static bool state_is_for(const struct control_state *st, const struct group_policy *g)
{
        return st->initialized && st->generation == g->generation && st->group == g;
}

void control_state_done(struct control_state *st)
{
        for (int k = 0; k < _KNOB_MAX; k++)
                st->reason[k] = mfree(st->reason[k]);
        freeze_state_done(&st->freeze);
        st->initialized = false;
}

static void state_init(struct control_state *st, const struct group_policy *g)
{
        const struct adapt_policy *a = &g->adapt;
        struct freeze_state freeze;

        control_state_done(st);
        freeze = st->freeze; /* a frozen VM stays frozen, and known as such, whatever its group now */
        *st = (struct control_state){.initialized = true, .group = g, .generation = g->generation, .limits = g->limits};
        st->freeze = freeze;
        if (a->cpu && a->cpu_weight_range_set) {
                st->limits.cpu_weight_set = true;
                st->limits.cpu_weight = baseline_weight(g);
        }
        if (a->cpu && a->cpu_quota_range_set) {
                st->limits.cpu_max_set = true;
                st->limits.cpu_quota_usec = baseline_quota(g);
                st->limits.cpu_period_usec = group_period(g);
        }
        if (a->memory) {
                st->limits.memory_high_set = true;
                st->limits.memory_high = baseline_memory_high(g);
        }
        if (a->burst) { /* from CPUQuotaBurstSec= when given (validated inside the range), else the floor */
                st->limits.cpu_burst_usec = g->limits.cpu_burst_set ? g->limits.cpu_burst_usec : a->cpu_burst_min_usec;
                st->limits.cpu_burst_set = true;
        }
}

/* A step of knob k in a direction: direction changes counted, and a reaction that undoes a probe doubles the hold
 * before the next probe. */
static void knob_step(struct control_state *st, enum control_knob k, uint64_t now, enum control_step step)
{
        if (st->last_direction[k] && st->last_direction[k] != (int)step)
                st->direction_changes[k]++;
        if (step == STEP_REACT) {
                if (st->last_direction[k] == STEP_PROBE && st->hold_shift[k] < CONTROL_HOLD_SHIFT_MAX)
                        st->hold_shift[k]++;
                st->last_react_usec[k] = now;
        }
        st->last_direction[k] = step;
}

/* A change of knob k: a step, and the reason for it. */
_printf_(5, 6) static void knob_changed(struct control_state *st, enum control_knob k, uint64_t now,
                                        enum control_step step, const char *fmt, ...)
{
        va_list ap;

        char text[CONTROL_REASON_MAX];

        knob_step(st, k, now, step);
        st->last_change_usec[k] = now;
        st->changes[k]++;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        /* without memory for it the step stands, and the audit quotes the policy instead */
        free(st->reason[k]);
        st->reason[k] = strdup(text);
}

static bool dwell_passed(const struct control_state *st, enum control_knob k, uint64_t now)
{
        return st->changes[k] == 0 || now - st->last_change_usec[k] >= st->group->adapt.dwell_usec;
}

/* The hold a probe of knob k waited for: AdaptHoldSec, doubled for every probe a reaction had to undo. In ms. */
static unsigned long long hold_used_ms(const struct control_state *st, enum control_knob k)
{
        return (unsigned long long)((st->group->adapt.hold_usec << st->hold_shift[k]) / 1000);
}

/* May the law probe knob k, the last miss that concerns it having been at last_miss? */
static bool probe_allowed(const struct control_state *st, enum control_knob k, uint64_t now, uint64_t last_miss)
{
        uint64_t hold = st->group->adapt.hold_usec << st->hold_shift[k];
        uint64_t since = MAX(last_miss, st->last_react_usec[k]);

        return (since == 0 || now - since >= hold) && dwell_passed(st, k, now);
}

static bool is_protected(const struct group_policy *g)
{
        return g->class != VM_CLASS_BATCH;
}

/* "io pressure 6.25% > target 5.00%": a pressure against its target, as every reason says it. */
static const char *pressure_vs(char buf[static PRESSURE_VS_MAX], const char *what, uint64_t ppm, char cmp,
                               uint64_t target_ppm)
{
        snprintf(buf, PRESSURE_VS_MAX, "%s %llu.%02llu%% %c target %llu.%02llu%%", what,
                 (unsigned long long)(ppm / 10000), (unsigned long long)(ppm % 10000 / 100), cmp,
                 (unsigned long long)(target_ppm / 10000), (unsigned long long)(target_ppm % 10000 / 100));
        return buf;
}

/* ---- CPU ---- */

/* Above target: a miss (why says which signal); below 80% of every target: calm; between: neither. */
static bool cpu_missed(const struct group_policy *g, const struct vm_signals *s, bool *ret_calm, char *why, size_t len)
{
        const struct adapt_policy *a = &g->adapt;
        bool miss = false, calm = true;

        why[0] = '\0';
        if (a->runq_latency_target_usec && s->runq.source != RUNQ_SOURCE_NONE) {
                /* the worst vCPU's own p99 where it is measured: one starved vCPU stalls the guest */
                bool vcpu = s->runq.worst_vcpu && s->runq.worst_vcpu_p99_usec > s->runq.p99_usec;
                uint64_t p99 = vcpu ? s->runq.worst_vcpu_p99_usec : s->runq.p99_usec, t = a->runq_latency_target_usec;
                if (p99 > t) {
                        miss = true;
                        if (vcpu)
                                snprintf(why, len, "vCPU %u run-queue p99 %lluus > target %lluus",
                                         (unsigned)(s->runq.worst_vcpu - 1), (unsigned long long)p99,
                                         (unsigned long long)t);
                        else
                                snprintf(why, len, "run-queue p99 %lluus > target %lluus", (unsigned long long)p99,
                                         (unsigned long long)t);
                }
                if (p99 * 100 > t * CALM_FRACTION_PERCENT)
                        calm = false;
        }
        if (a->cpu_pressure_target_ppm) {
                uint32_t p = s->cpu.some_ppm, t = a->cpu_pressure_target_ppm;
                if (p > t && !miss) {
                        miss = true;
                        char pv[PRESSURE_VS_MAX];
                        snprintf(why, len, "%s", pressure_vs(pv, "cpu pressure", p, '>', t));
                }
                if ((uint64_t)p * 100 > (uint64_t)t * CALM_FRACTION_PERCENT)
                        calm = false;
        }
        *ret_calm = calm && !miss;
        return miss;
}

/* Returns whether this VM missed a cpu target this tick. */
static bool cpu_protect(struct control_vm *vm, struct control_global *global, uint64_t now)
{
        const struct group_policy *g = vm->group;
        const struct adapt_policy *a = &g->adapt;
        struct control_state *st = vm->state;
        char why[160];
        bool calm;

        if (!a->cpu || !is_protected(g))
                return false;
        bool missed = cpu_missed(g, vm->sig, &calm, why, sizeof(why));
        if (!calm)
                global->last_cpu_unsettled_usec = now;
        if (missed) {
                st->last_miss_usec = now;
                snprintf(global->cpu_miss_why, sizeof(global->cpu_miss_why), "%s VM %s: %s",
                         vm_class_to_string(g->class), vm->name, why);
                if (a->cpu_weight_range_set && dwell_passed(st, KNOB_CPU_WEIGHT, now)) {
                        uint64_t w = st->limits.cpu_weight;
                        uint64_t nw = MIN(a->cpu_weight_max, w + MAX(w / 2, (uint64_t)1));
                        if (nw != w) {
                                st->limits.cpu_weight = nw;
                                knob_changed(st, KNOB_CPU_WEIGHT, now, STEP_REACT,
                                             "cpu: %s: cpu.weight %llu -> %llu (x1.5, range %llu..%llu)", why,
                                             (unsigned long long)w, (unsigned long long)nw,
                                             (unsigned long long)a->cpu_weight_min,
                                             (unsigned long long)a->cpu_weight_max);
                        }
                }
                return true;
        }
        if (calm && a->cpu_weight_range_set && probe_allowed(st, KNOB_CPU_WEIGHT, now, st->last_miss_usec)) {
                uint64_t w = st->limits.cpu_weight, base = baseline_weight(g);
                uint64_t step = MAX((a->cpu_weight_max - a->cpu_weight_min) / RANGE_STEPS, (uint64_t)1);
                if (w > base) {
                        uint64_t nw = w - MIN(step, w - base);
                        unsigned long long held = hold_used_ms(st, KNOB_CPU_WEIGHT);
                        st->limits.cpu_weight = nw;
                        if (nw == base)
                                st->hold_shift[KNOB_CPU_WEIGHT] = 0;
                        knob_changed(
                                st, KNOB_CPU_WEIGHT, now, STEP_PROBE,
                                "cpu: under 80%% of every target for %llums: cpu.weight %llu -> %llu, back towards "
                                "%llu",
                                held, (unsigned long long)w, (unsigned long long)nw, (unsigned long long)base);
                }
        }
        return false;
}

static void cpu_yield(struct control_vm *vm, const struct control_global *global, bool missed_now, uint64_t now)
{
        const struct group_policy *g = vm->group;
        const struct adapt_policy *a = &g->adapt;
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;

        if (!a->cpu || is_protected(g) || !a->cpu_quota_range_set)
                return;

        uint64_t q = st->limits.cpu_quota_usec, period = st->limits.cpu_period_usec;
        uint64_t qmin = control_quota_usec(g, a->cpu_quota_min_permyriad);
        uint64_t base = baseline_quota(g);
        uint64_t used_ppm = s->interval_usec ? s->cpu_usage_usec * SIGNALS_PPM / s->interval_usec : 0;

        if (missed_now) {
                if (used_ppm < BUSY_CPU_PPM || !dwell_passed(st, KNOB_CPU_MAX, now))
                        return;
                uint64_t nq = MAX(qmin, q * 7 / 10);
                if (nq == q)
                        return;
                st->limits.cpu_quota_usec = nq;
                knob_changed(st, KNOB_CPU_MAX, now, STEP_REACT,
                             "cpu: %s; %s uses %llu.%02llu CPUs: cpu.max %llu -> %llu per %llu (x0.7, floor %llu)",
                             global->cpu_miss_why, vm->name, (unsigned long long)(used_ppm / SIGNALS_PPM),
                             (unsigned long long)(used_ppm % SIGNALS_PPM / 10000), (unsigned long long)q,
                             (unsigned long long)nq, (unsigned long long)period, (unsigned long long)qmin);
                return;
        }
        if (q < base && probe_allowed(st, KNOB_CPU_MAX, now, global->last_cpu_unsettled_usec)) {
                uint64_t qmax = control_quota_usec(g, a->cpu_quota_max_permyriad);
                uint64_t step = MAX((qmax - qmin) / RANGE_STEPS, (uint64_t)CPU_PERIOD_MIN_USEC);
                uint64_t nq = MIN(base, q + step);
                unsigned long long held = hold_used_ms(st, KNOB_CPU_MAX);
                st->limits.cpu_quota_usec = nq;
                if (nq == base)
                        st->hold_shift[KNOB_CPU_MAX] = 0;
                knob_changed(st, KNOB_CPU_MAX, now, STEP_PROBE,
                             "cpu: every protected VM under 80%% of its targets for %llums: cpu.max %llu -> %llu per "
                             "%llu, back towards %llu",
                             held, (unsigned long long)q, (unsigned long long)nq, (unsigned long long)period,
                             (unsigned long long)base);
        }
}

/* ---- burst ---- */

/* Adapt=burst: the law's verdict (decide/burst.h), stepped here as every law is: a growth at most once per dwell, a
 * decay once neither throttled nor bursting for the hold (twice as long after a decay a growth had to undo). */
static void burst_law(struct control_vm *vm, uint64_t now)
{
        const struct adapt_policy *a = &vm->group->adapt;
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;
        struct burst_decision d;
        enum control_knob k = KNOB_CPU_BURST;

        if (!a->burst)
                return;
        const struct burst_input in = {
                .interval_usec = s->interval_usec,
                .usage_usec = s->cpu_usage_usec,
                .nr_periods = s->cpu_nr_periods,
                .nr_throttled = s->cpu_nr_throttled,
                .nr_bursts = s->cpu_nr_bursts,
                .burst_usec = s->cpu_burst_usec,
                .burst_stat = s->cpu_burst_stat,
                .quota_usec = st->limits.cpu_max_set ? st->limits.cpu_quota_usec : LIMIT_MAX,
                .period_usec = st->limits.cpu_period_usec,
                .current_usec = st->limits.cpu_burst_usec,
                .min_usec = a->cpu_burst_min_usec,
                .max_usec = a->cpu_burst_max_usec,
        };
        burst_decide(&in, &d);
        if (d.verdict != BURST_CALM || !st->burst_last_busy_usec)
                st->burst_last_busy_usec = now;
        if (d.verdict == BURST_GROW && dwell_passed(st, k, now)) {
                st->limits.cpu_burst_usec = d.burst_usec;
                knob_changed(st, k, now, STEP_REACT, "%s", d.reason);
        } else if (d.verdict == BURST_CALM && probe_allowed(st, k, now, st->burst_last_busy_usec)) {
                char reason[BURST_REASON_MAX];
                uint64_t next = burst_decay(&in, hold_used_ms(st, k), reason, sizeof(reason));
                if (next >= in.current_usec)
                        return;
                st->limits.cpu_burst_usec = next;
                if (next == a->cpu_burst_min_usec)
                        st->hold_shift[k] = 0;
                knob_changed(st, k, now, STEP_PROBE, "%s", reason);
        }
}

/* ---- memory ---- */

static bool memory_probes_by_reclaim(const struct adapt_policy *a, const struct vm_signals *s)
{
        return a->memory_probe == MEMORY_PROBE_RECLAIM || (a->memory_probe == MEMORY_PROBE_AUTO && s->memory_reclaim);
}

/* Probing with memory.reclaim: memory.high stays where it is (the baseline), so nothing is left tight if the engine
 * dies. Below half the target, ask the kernel to reclaim up to 1% of memory.current, scaled as senpai does, never
 * below the floor; over the target, stop: the workload faults back what it needs, and the next probe waits out the
 * hold, twice as long when it follows a probe. */
static void memory_reclaim_law(struct control_vm *vm, uint64_t now, uint64_t page_size, uint64_t floor,
                               const char *raised)
{
        const struct adapt_policy *a = &vm->group->adapt;
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;
        enum control_knob k = KNOB_MEMORY_RECLAIM;
        uint64_t target = a->memory_pressure_target_ppm, p = s->memory.some_ppm, cur = s->memory_current;

        if (p > target) {
                knob_step(st, k, now, STEP_REACT); /* nothing to write: the workload faults back what it needs */
                return;
        }
        /* No memory.reclaim (MemoryProbe=reclaim on an older kernel; the daemon says so), or not sensed. */
        if (!s->memory_reclaim || cur == 0)
                return;
        if (cur <= floor) {
                st->hold_shift[k] = 0;
                return;
        }
        if (p * MEMORY_LOWER_BELOW >= target || !probe_allowed(st, k, now, 0))
                return;

        uint64_t step = cur / 100 * (target - p) / target;
        uint64_t bytes = MIN(MAX(step, page_size), cur - floor) / page_size * page_size;
        if (bytes == 0)
                return;
        st->memory_reclaim_bytes = bytes;
        char pv[PRESSURE_VS_MAX];
        knob_changed(st, k, now, STEP_PROBE,
                     "memory: %s: memory.reclaim %llu of memory.current %llu (floor %llu: unreclaimable %llu + "
                     "margin%s)",
                     pressure_vs(pv, "pressure", p, '<', target), (unsigned long long)bytes, (unsigned long long)cur,
                     (unsigned long long)floor, (unsigned long long)s->memory_unreclaimable, raised);
}

/* What the group protects from reclaim: the larger of MemoryLow= and MemoryMin=, 0 for neither. */
static uint64_t memory_protection(const struct limits *lim)
{
        return MAX(lim->memory_low_set ? lim->memory_low : 0, lim->memory_min_set ? lim->memory_min : 0);
}

/* The lowest memory.high (or memory.current, reclaiming) any law may take the VM to: the range's floor, what cannot
 * be reclaimed plus a margin, and never below what the group protects (MemoryLow=, MemoryMin=): the kernel would
 * reclaim nothing there, and the throttling of memory.high would stall the VM inside its own protection. raised
 * says when the protection is what sets it. */
static uint64_t memory_floor(const struct group_policy *g, const struct vm_signals *s, const char **ret_raised)
{
        const struct adapt_policy *a = &g->adapt;
        uint64_t margin = MAX(MEMORY_MARGIN_MIN, s->memory_unreclaimable / 8);
        uint64_t floor = MIN(MAX(a->memory_high_min, s->memory_unreclaimable + margin), a->memory_high_max);
        uint64_t protection = memory_protection(&g->limits);

        *ret_raised = protection > floor ? ", raised to the group's MemoryLow=/MemoryMin=" : "";
        return MAX(floor, protection);
}

/* ---- the host's memory ---- */

/* What the host's memory pressure asks of the VMs this tick (host_memory_assess). */
struct host_memory {
        bool over;        /* above HostMemoryPressureTarget=: batch VMs give, then normal ones */
        bool normal_give; /* ... and normal VMs give too */
        char why[PRESSURE_VS_MAX + 96];
};

/* May the host law take memory from this VM? Only through the memory law's own files and range, never from a
 * latency VM, nor from one whose memory.high someone else owns. */
static bool host_may_take(const struct control_vm *vm)
{
        return vm->group->adapt.memory && vm->group->class != VM_CLASS_LATENCY && !vm->state->memory_yielded &&
               vm->sig->interval_usec;
}

static bool memory_at_floor(const struct control_vm *vm)
{
        const char *raised;
        uint64_t floor = memory_floor(vm->group, vm->sig, &raised);

        if (memory_probes_by_reclaim(&vm->group->adapt, vm->sig))
                return !vm->sig->memory_reclaim || vm->sig->memory_current <= floor;
        return vm->state->limits.memory_high <= floor;
}

/* What the freeze (decide/freeze.c) waits on: what the host law has taken so far, and whether it could take more. */
static void host_memory_report(const struct control_vm *vms, size_t n, const struct host_policy *hp,
                               struct freeze_global *ret)
{
        ret->host_taken_total = 0;
        ret->host_can_take = false;
        for (size_t i = 0; i < n; i++) {
                ret->host_taken_total += vms[i].state->host_memory_given;
                if (hp->memory_pressure_target_ppm && host_may_take(&vms[i]) && !memory_at_floor(&vms[i]))
                        ret->host_can_take = true;
        }
}

/* Over the target, batch VMs give first; normal VMs give once every batch VM is at its floor, or once the host has
 * stayed over the target for HOST_NORMAL_AFTER_TICKS ticks all the same. Below 80% of the target the host is calm,
 * and what was taken is given back after the hold. */
static void host_memory_assess(const struct control_vm *vms, size_t n, const struct host_signals *host,
                               const struct host_policy *hp, struct control_global *global, uint64_t now,
                               struct host_memory *ret)
{
        uint64_t target = hp ? hp->memory_pressure_target_ppm : 0, p = host->memory.some_ppm;
        char pv[PRESSURE_VS_MAX];
        bool batch_left = false;

        *ret = (struct host_memory){0};
        if (!hp) /* not a tick of every VM (a VM's first decision): the host's clocks are left as they are */
                return;
        if (!target || !host->interval_usec) {
                global->host_memory_over_ticks = 0;
                return;
        }
        if (p * 100 > target * CALM_FRACTION_PERCENT)
                global->last_host_memory_unsettled_usec = now;
        if (p <= target) {
                global->host_memory_over_ticks = 0;
                return;
        }
        global->host_memory_over_ticks++;
        ret->over = true;
        for (size_t i = 0; i < n && !batch_left; i++)
                if (vms[i].group->class == VM_CLASS_BATCH && host_may_take(&vms[i]) && !memory_at_floor(&vms[i]))
                        batch_left = true;
        pressure_vs(pv, "host memory pressure", p, '>', target);
        if (!batch_left) {
                ret->normal_give = true;
                snprintf(ret->why, sizeof(ret->why), "%s: every batch VM is at its floor, normal gives", pv);
        } else if (global->host_memory_over_ticks >= HOST_NORMAL_AFTER_TICKS) {
                ret->normal_give = true;
                snprintf(ret->why, sizeof(ret->why), "%s for %u ticks: normal gives too", pv,
                         global->host_memory_over_ticks);
        } else
                snprintf(ret->why, sizeof(ret->why), "%s: batch gives first", pv);
}

/* Take a step from the VM for the host: memory.reclaim where it probes so, else memory.high down, by 1% of it per
 * tenth of the target the host is over (at most 10%), never under the floor. memory.high stays capped where the
 * host took it until the host is calm again. */
static void host_memory_take(struct control_vm *vm, const struct host_memory *hm, uint64_t now, uint64_t page_size,
                             uint64_t floor, uint64_t over_permille)
{
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;

        if (memory_probes_by_reclaim(&vm->group->adapt, s)) {
                uint64_t cur = s->memory_current;
                if (!s->memory_reclaim || cur <= floor || !dwell_passed(st, KNOB_MEMORY_RECLAIM, now))
                        return;
                uint64_t bytes = MIN(MAX(cur / 1000 * over_permille, page_size), cur - floor) / page_size * page_size;
                if (!bytes)
                        return;
                st->memory_reclaim_bytes = bytes;
                st->host_memory_given += bytes;
                knob_changed(st, KNOB_MEMORY_RECLAIM, now, STEP_REACT,
                             "memory: %s: memory.reclaim %llu of memory.current %llu (floor %llu)", hm->why,
                             (unsigned long long)bytes, (unsigned long long)cur, (unsigned long long)floor);
                return;
        }

        uint64_t high = st->limits.memory_high;
        if (high <= floor || !dwell_passed(st, KNOB_MEMORY_HIGH, now))
                return;
        uint64_t nh = cgv_memory_effective(MAX(floor, high - MAX(high / 1000 * over_permille, page_size)), page_size);
        if (nh < floor) /* page rounding must not cross the floor */
                nh += page_size;
        if (nh >= high)
                return;
        if (!st->host_memory_cap)
                st->host_memory_restore = high;
        st->host_memory_cap = nh;
        st->host_memory_given += high - nh;
        st->limits.memory_high = nh;
        knob_changed(st, KNOB_MEMORY_HIGH, now, STEP_REACT, "memory: %s: memory.high %llu -> %llu (floor %llu)",
                     hm->why, (unsigned long long)high, (unsigned long long)nh, (unsigned long long)floor);
}

/* The host calm for the hold: the cap walks back up by a tenth of the range per step (dwell and hold as every
 * probe), memory.high with it while the cap is what holds it, until it is back where the host found it. */
static bool host_memory_relax(struct control_vm *vm, const struct control_global *global, const struct host_policy *hp,
                              uint64_t now, uint64_t page_size)
{
        const struct adapt_policy *a = &vm->group->adapt;
        struct control_state *st = vm->state;
        uint64_t cap = st->host_memory_cap, high = st->limits.memory_high, back = st->host_memory_restore;

        if (!cap || !probe_allowed(st, KNOB_MEMORY_HIGH, now, global->last_host_memory_unsettled_usec))
                return false;
        uint64_t step = MAX((a->memory_high_max - a->memory_high_min) / RANGE_STEPS, page_size);
        uint64_t ncap = MIN(cgv_memory_effective(cap + step, page_size), back);
        bool done = ncap >= back;
        unsigned long long held = hold_used_ms(st, KNOB_MEMORY_HIGH);

        st->host_memory_cap = done ? 0 : ncap;
        if (done)
                st->hold_shift[KNOB_MEMORY_HIGH] = 0;
        if (high < cap) /* the VM's own law holds it lower: nothing to write */
                return false;
        st->limits.memory_high = ncap;
        uint64_t p = global->host_memory_last_ppm, target = hp->memory_pressure_target_ppm;
        knob_changed(st, KNOB_MEMORY_HIGH, now, STEP_PROBE,
                     "memory: host memory pressure %llu.%02llu%% under 80%% of target %llu.%02llu%% for %llums: "
                     "memory.high %llu -> %llu, back towards %llu",
                     (unsigned long long)(p / 10000), (unsigned long long)(p % 10000 / 100),
                     (unsigned long long)(target / 10000), (unsigned long long)(target % 10000 / 100), held,
                     (unsigned long long)high, (unsigned long long)ncap, (unsigned long long)back);
        return true;
}

/* The host's part of the memory law for one VM: take while the host is over its target and the VM's class gives,
 * give back once it is calm. Returns whether it decided for the VM this tick (its own law then waits). */
static bool host_memory_law(struct control_vm *vm, const struct host_memory *hm, const struct control_global *global,
                            uint64_t now, uint64_t page_size, uint64_t floor)
{
        const struct host_policy *hp = global->host_policy;
        enum vm_class c = vm->group->class;

        if (!hm || !hp || !host_may_take(vm))
                return false;
        if (hm->over && (c == VM_CLASS_BATCH || hm->normal_give)) {
                uint64_t target = hp->memory_pressure_target_ppm, p = global->host_memory_last_ppm;
                uint64_t over_permille = MIN(100, MAX(10, (p - target) * 100 / target));
                host_memory_take(vm, hm, now, page_size, floor, over_permille);
                return true;
        }
        if (!hm->over && host_memory_relax(vm, global, hp, now, page_size))
                return true;
        /* Not its turn, or the dead band: the VM's own law runs, under the cap (memory_law). */
        return false;
}

static void memory_law(struct control_vm *vm, const struct host_memory *hm, const struct control_global *global,
                       uint64_t now, uint64_t page_size)
{
        const struct group_policy *g = vm->group;
        const struct adapt_policy *a = &g->adapt;
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;

        if (!a->memory || st->memory_yielded)
                return;

        /* Someone else wrote memory.high since we did: theirs wins, and we say so once. */
        if (st->memory_high_written && !cgv_memory_equal(st->memory_high_written, s->memory_high, page_size)) {
                st->memory_yielded = true;
                st->limits.memory_high_set = false;
                knob_changed(st, KNOB_MEMORY_HIGH, now, STEP_REACT,
                             "memory: memory.high is %llu, not the %llu vmgov wrote: someone else set it; the "
                             "memory law leaves this VM alone",
                             (unsigned long long)s->memory_high, (unsigned long long)st->memory_high_written);
                return;
        }

        uint64_t high = st->limits.memory_high, target = a->memory_pressure_target_ppm;
        char pv[PRESSURE_VS_MAX];
        uint64_t p = s->memory.some_ppm;
        const char *raised;
        uint64_t floor = memory_floor(g, s, &raised);
        uint64_t nh = high;

        /* The host's claim comes first: while it takes from this VM, or gives back what it took, the VM's own law
         * waits. */
        if (host_memory_law(vm, hm, global, now, page_size, floor)) {
                st->memory_high_written = cgv_memory_effective(st->limits.memory_high, page_size);
                return;
        }

        if (memory_probes_by_reclaim(a, s)) {
                memory_reclaim_law(vm, now, page_size, floor, raised);
                st->memory_high_written = cgv_memory_effective(st->limits.memory_high, page_size);
                return;
        }

        /* The limit binds when usage is within 5% of it. Stalls while it does not (pages coming back from swap
         * after a raise, the kernel's memory.high throttle sleeping out) are not the limit's doing: raising more
         * would only overshoot. memory.current 0 is "not sensed": then pressure alone decides, to be safe. */
        bool binds = s->memory_current == 0 || s->memory_current >= high - high / 20;

        if (p > target && binds) {
                /* Give back at once: up to half the limit when pressure is twice the target, at least 1%. */
                uint64_t over = MIN(p - target, target);
                nh = high + MAX(high / 100 * MEMORY_RAISE_MAX_PERCENT * over / target, high / 100);
                nh = MIN(cgv_memory_effective(nh, page_size), a->memory_high_max);
                if (st->host_memory_cap) /* what the host took stays taken until it is calm */
                        nh = MIN(nh, MAX(st->host_memory_cap, high));
                if (nh > high) {
                        st->limits.memory_high = nh;
                        knob_changed(st, KNOB_MEMORY_HIGH, now, STEP_REACT, "memory: %s: memory.high %llu -> %llu",
                                     pressure_vs(pv, "pressure", p, '>', target), (unsigned long long)high,
                                     (unsigned long long)nh);
                }
        } else if (p * MEMORY_LOWER_BELOW < target && high > floor && probe_allowed(st, KNOB_MEMORY_HIGH, now, 0)) {
                /* senpai: at most 1% per step, scaled by how far below target the pressure is. */
                uint64_t step = high / 100 * (target - p) / target;
                nh = MAX(floor, high - MAX(step, page_size));
                nh = cgv_memory_effective(nh, page_size);
                if (nh < floor) /* page rounding must not cross the floor */
                        nh += page_size;
                if (nh < high) {
                        st->limits.memory_high = nh;
                        if (nh <= floor)
                                st->hold_shift[KNOB_MEMORY_HIGH] = 0;
                        knob_changed(st, KNOB_MEMORY_HIGH, now, STEP_PROBE,
                                     "memory: %s: memory.high %llu -> %llu (floor %llu: unreclaimable %llu + "
                                     "margin%s)",
                                     pressure_vs(pv, "pressure", p, '<', target), (unsigned long long)high,
                                     (unsigned long long)nh, (unsigned long long)floor,
                                     (unsigned long long)s->memory_unreclaimable, raised);
                }
        }
        st->memory_high_written = cgv_memory_effective(st->limits.memory_high, page_size);
}

/* ---- IO ---- */

static const struct io_device_rates *busiest_device(const struct vm_signals *s)
{
        const struct io_device_rates *best = NULL;

        for (unsigned i = 0; i < s->n_io_devices && i < SIGNALS_IO_DEVICES; i++)
                if (s->io_devices[i].rbytes + s->io_devices[i].wbytes > 0 &&
                    (!best || s->io_devices[i].rbytes + s->io_devices[i].wbytes > best->rbytes + best->wbytes))
                        best = &s->io_devices[i];
        return best;
}

static const struct io_device_rates *device_rates(const struct vm_signals *s, unsigned major, unsigned minor)
{
        for (unsigned i = 0; i < s->n_io_devices && i < SIGNALS_IO_DEVICES; i++)
                if (s->io_devices[i].major == major && s->io_devices[i].minor == minor)
                        return &s->io_devices[i];
        return NULL;
}

/* Returns whether this VM's io pressure is above its target this tick. */
static bool io_protect(struct control_vm *vm, struct control_global *global, uint64_t now)
{
        const struct adapt_policy *a = &vm->group->adapt;
        uint32_t p = vm->sig->io.some_ppm;

        if (!a->io || !is_protected(vm->group) || !a->io_pressure_target_ppm)
                return false;
        if ((uint64_t)p * 100 > (uint64_t)a->io_pressure_target_ppm * CALM_FRACTION_PERCENT)
                global->last_io_unsettled_usec = now;
        if (p <= a->io_pressure_target_ppm)
                return false;
        char pv[PRESSURE_VS_MAX];
        snprintf(global->io_miss_why, sizeof(global->io_miss_why), "%s VM %s: %s", vm_class_to_string(vm->group->class),
                 vm->name, pressure_vs(pv, "io pressure", p, '>', a->io_pressure_target_ppm));
        const struct io_device_rates *d = busiest_device(vm->sig);
        if (d) {
                global->io_miss_major = d->major;
                global->io_miss_minor = d->minor;
                global->io_miss_device_set = true;
        }
        return true;
}

static void io_yield(struct control_vm *vm, const struct control_global *global, bool missed_now, uint64_t now)
{
        const struct group_policy *g = vm->group;
        const struct adapt_policy *a = &g->adapt;
        const struct vm_signals *s = vm->sig;
        struct control_state *st = vm->state;

        if (!a->io || is_protected(g) || !a->io_bandwidth_range_set)
                return;

        if (missed_now) {
                const struct io_device_rates *r;
                if (global->io_miss_device_set) {
                        st->io_major = global->io_miss_major;
                        st->io_minor = global->io_miss_minor;
                        st->io_device_set = true;
                } else if ((r = busiest_device(s))) {
                        st->io_major = r->major;
                        st->io_minor = r->minor;
                        st->io_device_set = true;
                }
        }
        if (!st->io_device_set)
                return;

        const struct io_device_rates *r = device_rates(s, st->io_major, st->io_minor);
        struct io_device_limit *d = limits_io_device_get(&st->limits, st->io_major, st->io_minor);
        if (!d)
                return;
        uint64_t cur = MIN(d->rbps, d->wbps);

        if (missed_now) {
                uint64_t bytes = r ? r->rbytes + r->wbytes : 0;
                if (!bytes || !s->interval_usec || !dwell_passed(st, KNOB_IO_MAX, now))
                        return;
                uint64_t observed = bytes * 1000000 / s->interval_usec;
                /* Unlimited, the VM's own rate is where to start; limited, a tick of little I/O must not drop the
                 * limit by more than half at once. */
                uint64_t from = cur == LIMIT_MAX ? observed : MAX(MIN(cur, observed) * 7 / 10, cur / 2) * 10 / 7;
                uint64_t nb = CLAMP(from * 7 / 10, a->io_bandwidth_min, a->io_bandwidth_max);
                if (nb >= cur)
                        return;
                d->rbps = d->wbps = nb;
                knob_changed(st, KNOB_IO_MAX, now, STEP_REACT,
                             "io: %s; %s moves %llu B/s on %u:%u: io.max rbps=wbps=%llu (x0.7, floor %llu)",
                             global->io_miss_why, vm->name, (unsigned long long)observed, st->io_major, st->io_minor,
                             (unsigned long long)nb, (unsigned long long)a->io_bandwidth_min);
                return;
        }

        const struct io_device_limit *base = limits_io_device_find(&g->limits, st->io_major, st->io_minor);
        uint64_t base_bw = base ? MIN(base->rbps, base->wbps) : LIMIT_MAX;
        if (cur >= base_bw || !probe_allowed(st, KNOB_IO_MAX, now, global->last_io_unsettled_usec))
                return;
        uint64_t step = MAX((a->io_bandwidth_max - a->io_bandwidth_min) / RANGE_STEPS, (uint64_t)1);
        uint64_t nb = cur + step;
        unsigned long long held = hold_used_ms(st, KNOB_IO_MAX);
        if (nb >= a->io_bandwidth_max || nb >= base_bw) {
                /* Back to the policy's own limit for the device, or none. */
                d->rbps = base ? base->rbps : LIMIT_MAX;
                d->wbps = base ? base->wbps : LIMIT_MAX;
                st->hold_shift[KNOB_IO_MAX] = 0;
        } else
                d->rbps = d->wbps = nb;
        char to[32];
        if (d->rbps == LIMIT_MAX)
                snprintf(to, sizeof(to), "max");
        else
                snprintf(to, sizeof(to), "%llu", (unsigned long long)d->rbps);
        knob_changed(st, KNOB_IO_MAX, now, STEP_PROBE,
                     "io: every protected VM under 80%% of its io pressure target for %llums: io.max on %u:%u "
                     "rbps=wbps %llu -> %s",
                     held, st->io_major, st->io_minor, (unsigned long long)cur, to);
}

/* The host's io pressure over HostIOPressureTarget= is a miss as a protected VM's is: the busy batch VMs' io.max
 * tightens, each on the device it uses most, and relaxes once the host is calm too. */
static bool host_io_missed(const struct host_signals *host, const struct host_policy *hp, struct control_global *global,
                           uint64_t now)
{
        uint64_t target = hp ? hp->io_pressure_target_ppm : 0, p = host->io.some_ppm;
        char pv[PRESSURE_VS_MAX];

        if (!target || !host->interval_usec)
                return false;
        if (p * 100 > target * CALM_FRACTION_PERCENT)
                global->last_io_unsettled_usec = now;
        if (p <= target)
                return false;
        snprintf(global->io_miss_why, sizeof(global->io_miss_why), "%s",
                 pressure_vs(pv, "host io pressure", p, '>', target));
        global->io_miss_device_set = false;
        return true;
}

void control_tick(struct control_vm *vms, size_t n, const struct host_signals *host, const struct host_policy *hp,
                  struct control_global *global, uint64_t now_usec, uint64_t page_size)
{
        bool cpu_missed_now = false, io_missed_now = false;
        struct host_memory hm;

        for (size_t i = 0; i < n; i++) {
                struct control_state *st = vms[i].state;
                if (!state_is_for(st, vms[i].group))
                        state_init(st, vms[i].group);
                for (int k = 0; k < _KNOB_MAX; k++)
                        st->reason[k] = mfree(st->reason[k]);
                st->memory_reclaim_bytes = 0;
        }

        /* The first tick of a VM has no deltas: nothing to decide on yet. */
        for (size_t i = 0; i < n; i++)
                if (vms[i].sig->interval_usec) {
                        cpu_missed_now |= cpu_protect(&vms[i], global, now_usec);
                        io_missed_now |= io_protect(&vms[i], global, now_usec);
                }
        /* a protected VM's own miss names itself; the host's is said only when no VM missed */
        if (!io_missed_now)
                io_missed_now = host_io_missed(host, hp, global, now_usec);

        global->host_policy = hp;
        global->host_memory_last_ppm = host->memory.some_ppm;
        host_memory_assess(vms, n, host, hp, global, now_usec, &hm);

        for (size_t i = 0; i < n; i++) {
                if (!vms[i].sig->interval_usec)
                        continue;
                cpu_yield(&vms[i], global, cpu_missed_now, now_usec);
                io_yield(&vms[i], global, io_missed_now, now_usec);
                memory_law(&vms[i], &hm, global, now_usec, page_size);
                burst_law(&vms[i], now_usec); /* after cpu_yield: against the quota it wants now */
        }
        if (hp)
                host_memory_report(vms, n, hp, &global->freeze);
}
