/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The validation across keys, once every file is read: what no single key can check on its own (a range must
 * hold the group's baseline, MemoryHigh= must not be above MemoryMax=, MemoryLow= and MemoryMin= not above a limit
 * or the floor of MemoryHighRange=, Adapt= needs its ranges and targets, a Net*Burst= its rate, the DefaultGroup=
 * must exist, a group must be able to apply), and what can only be completed then (CPUQuota= into cpu.max at the
 * group's period, the defaults of unset engine keys).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kernel/cgvalues.h"
#include "kernel/cpuset.h"
#include "kernel/macro.h"
#include "policy/config-internal.h"

/* The laws need their bounds and goals, and the configured baseline must lie inside the bounds. Runs before
 * CPUQuota= is translated, while lim->cpu_quota_usec still holds the percentage in permyriad. */
static int adapt_validate(struct loader *l, struct group_policy *g)
{
        struct adapt_policy *a = &g->adapt;
        const struct limits *lim = &g->limits;
        bool protected_class = g->class != VM_CLASS_BATCH;

#define GFAIL(...) loader_fail(l, g->file, g->line, __VA_ARGS__)
        if (!a->cpu && a->cpu_weight_range_set)
                return GFAIL("[group %s]: CPUWeightRange= is set but Adapt= does not include cpu", g->name);
        if (!a->cpu && a->cpu_quota_range_set)
                return GFAIL("[group %s]: CPUQuotaRange= is set but Adapt= does not include cpu", g->name);
        if (!a->memory && a->memory_high_range_set)
                return GFAIL("[group %s]: MemoryHighRange= is set but Adapt= does not include memory", g->name);
        if (!a->memory && a->memory_probe_set)
                return GFAIL("[group %s]: MemoryProbe= is set but Adapt= does not include memory", g->name);
        if (!a->io && a->io_bandwidth_range_set)
                return GFAIL("[group %s]: IOBandwidthMaxRange= is set but Adapt= does not include io", g->name);
        if (!a->burst && a->cpu_burst_range_set)
                return GFAIL("[group %s]: CPUQuotaBurstRange= is set but Adapt= does not include burst", g->name);
        if (a->burst && !a->cpu_burst_range_set)
                return GFAIL("[group %s]: Adapt=burst needs CPUQuotaBurstRange=", g->name);

        if (a->cpu) {
                if (!a->cpu_weight_range_set && !a->cpu_quota_range_set)
                        return GFAIL("[group %s]: Adapt=cpu needs CPUWeightRange= or CPUQuotaRange=", g->name);
                if (protected_class && !a->runq_latency_target_usec && !a->cpu_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=cpu for a %s VM needs RunQueueLatencyTarget= or "
                                     "CPUPressureTarget=",
                                     g->name, vm_class_to_string(g->class));
                if (a->cpu_weight_range_set) {
                        uint64_t w = lim->cpu_weight_set ? lim->cpu_weight : CPU_WEIGHT_DEFAULT;
                        if (lim->cpu_idle)
                                return GFAIL("[group %s]: CPUWeight=idle cannot be adapted", g->name);
                        if (w < a->cpu_weight_min || w > a->cpu_weight_max)
                                return GFAIL("[group %s]: CPUWeight=%llu is outside CPUWeightRange=%llu..%llu", g->name,
                                             (unsigned long long)w, (unsigned long long)a->cpu_weight_min,
                                             (unsigned long long)a->cpu_weight_max);
                }
                if (a->cpu_quota_range_set && lim->cpu_max_set &&
                    (lim->cpu_quota_usec < a->cpu_quota_min_permyriad ||
                     lim->cpu_quota_usec > a->cpu_quota_max_permyriad))
                        return GFAIL("[group %s]: CPUQuota= is outside CPUQuotaRange=", g->name);
        }
        if (a->memory) {
                if (!a->memory_high_range_set || !a->memory_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=memory needs MemoryHighRange= and MemoryPressureTarget=",
                                     g->name);
                if (lim->memory_high_set &&
                    (lim->memory_high < a->memory_high_min || lim->memory_high > a->memory_high_max))
                        return GFAIL("[group %s]: MemoryHigh= is outside MemoryHighRange=", g->name);
                if (lim->memory_max_set && lim->memory_max != LIMIT_MAX && a->memory_high_max > lim->memory_max)
                        return GFAIL("[group %s]: MemoryHighRange= reaches above MemoryMax=", g->name);
        }
        if (a->io) {
                if (!protected_class && !a->io_bandwidth_range_set)
                        return GFAIL("[group %s]: Adapt=io for a batch VM needs IOBandwidthMaxRange=", g->name);
                if (protected_class && !a->io_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=io for a %s VM needs IOPressureTarget=", g->name,
                                     vm_class_to_string(g->class));
        }
#undef GFAIL
        return 0;
}

/* Where key was set in group g's section: file and line, for a message about it. The group's header if not set. */
static void key_where(const struct loader *l, const struct group_policy *g, const char *key, const char **ret_file,
                      unsigned *ret_line)
{
        char section[64];

        snprintf(section, sizeof(section), "group %s", g->name);
        for (size_t i = 0; i < l->n_seen; i++)
                if (strcmp(l->seen[i].section, section) == 0 && strcasecmp(l->seen[i].key, key) == 0) {
                        *ret_file = l->seen[i].file;
                        *ret_line = l->seen[i].line;
                        return;
                }
        *ret_file = g->file;
        *ret_line = g->line;
}

/* Bytes as an operator writes them: "4G" when exact, else the number; LIMIT_MAX as "infinity". */
static const char *bytes_text(uint64_t v, char buf[static 32])
{
        static const char suffixes[] = "KMGT";
        int i = -1;

        if (v == LIMIT_MAX)
                return "infinity";
        while (v && v % 1024 == 0 && i < 3) {
                v /= 1024;
                i++;
        }
        if (i < 0)
                snprintf(buf, 32, "%llu", (unsigned long long)v);
        else
                snprintf(buf, 32, "%llu%c", (unsigned long long)v, suffixes[i]);
        return buf;
}

/* MemoryMin= and MemoryLow= protect memory from reclaim: a protection above a limit (MemoryHigh=, MemoryMax=) or
 * above the floor the memory law may probe down to (MemoryHighRange=) says two things at once, and MemoryMin= above
 * MemoryLow= is backwards. Refused at the line of the protection, with the values. */
static int protection_validate(struct loader *l, const struct group_policy *g)
{
        const struct limits *lim = &g->limits;
        const struct adapt_policy *a = &g->adapt;
        const struct {
                const char *key;
                bool set;
                uint64_t bytes;
        } protections[] = {
                {"MemoryLow", lim->memory_low_set, lim->memory_low},
                {"MemoryMin", lim->memory_min_set, lim->memory_min},
        };
        char x[32], y[32], z[32];
        const char *file;
        unsigned line;

        if (lim->memory_min_set && lim->memory_low_set && lim->memory_min > lim->memory_low) {
                key_where(l, g, "MemoryMin", &file, &line);
                return loader_fail(l, file, line, "[group %s]: MemoryMin=%s is above MemoryLow=%s", g->name,
                                   bytes_text(lim->memory_min, x), bytes_text(lim->memory_low, y));
        }
        for (size_t i = 0; i < ELEMENTSOF(protections); i++) {
                const char *key = protections[i].key;
                uint64_t v = protections[i].bytes;

                if (!protections[i].set)
                        continue;
                key_where(l, g, key, &file, &line);
                if (a->memory && a->memory_high_range_set && v > a->memory_high_min)
                        return loader_fail(l, file, line,
                                           "[group %s]: %s=%s is above the floor of MemoryHighRange=%s..%s: the memory "
                                           "law could take memory.high below the protection",
                                           g->name, key, bytes_text(v, x), bytes_text(a->memory_high_min, y),
                                           bytes_text(a->memory_high_max, z));
                if (lim->memory_high_set && v > lim->memory_high)
                        return loader_fail(l, file, line, "[group %s]: %s=%s is above MemoryHigh=%s", g->name, key,
                                           bytes_text(v, x), bytes_text(lim->memory_high, y));
                if (lim->memory_max_set && v > lim->memory_max)
                        return loader_fail(l, file, line, "[group %s]: %s=%s is above MemoryMax=%s", g->name, key,
                                           bytes_text(v, x), bytes_text(lim->memory_max, y));
        }
        return 0;
}

/* A set as the kernel writes it, for a message; cut with "..." where it is too long to say. */
static const char *cpuset_text(const struct cpuset *set, char buf[static 96])
{
        if (cpuset_format(set, buf, 96) < 0)
                snprintf(buf, 96, "(%u of them)", cpuset_count(set));
        return buf;
}

/* A pin (key=set in group g) must name CPUs within `within` (the host's online ones, or the group's AllowedCPUs=). */
static int pin_validate(struct loader *l, const struct group_policy *g, const char *key, const char *which,
                        const struct cpuset *set, const struct cpuset *within, const char *within_what)
{
        struct cpuset outside;
        char x[96], y[96], z[96];
        const char *file;
        unsigned line;

        cpuset_minus(set, within, &outside);
        if (cpuset_is_empty(&outside))
                return 0;
        key_where(l, g, key, &file, &line);
        return loader_fail(l, file, line, "[group %s]: %s=%s%s names %s outside %s %s", g->name, key,
                           cpuset_text(set, x), which, cpuset_text(&outside, y), within_what, cpuset_text(within, z));
}

/* The pins: within the host's online CPUs (and memory nodes), and the vCPUs' and the emulator's within the VM's own
 * AllowedCPUs=, which holds them all (the kernel would quietly cut them to it). A partition needs CPUs of its own. */
static int pins_validate(struct loader *l, const struct group_policy *g)
{
        const struct config_env *env = l->env;
        const struct cpu_topology *t = &g->cpu;
        const struct {
                const char *key;
                bool set;
                const struct cpuset *cpus;
        } pins[] = {
                {"AllowedCPUs", t->allowed_cpus_set, &t->allowed_cpus},
                {"EmulatorAllowedCPUs", t->emulator_cpus_set, &t->emulator_cpus},
        };
        char what[64];
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(pins) && r == 0; i++) {
                if (pins[i].set && env->host_cpus_known)
                        r = pin_validate(l, g, pins[i].key, "", pins[i].cpus, &env->host_cpus,
                                         "the host's online CPUs");
                if (r == 0 && pins[i].set && i > 0 && t->allowed_cpus_set)
                        r = pin_validate(l, g, pins[i].key, "", pins[i].cpus, &t->allowed_cpus, "AllowedCPUs=");
        }
        for (unsigned i = 0; i < t->n_vcpu_cpus && r == 0; i++) {
                char which[48] = "";

                if (!t->vcpu_spread)
                        snprintf(which, sizeof(which), " (vCPU %u's set)", i);
                if (env->host_cpus_known)
                        r = pin_validate(l, g, "VCPUAllowedCPUs", which, &t->vcpu_cpus[i], &env->host_cpus,
                                         "the host's online CPUs");
                if (r == 0 && t->allowed_cpus_set)
                        r = pin_validate(l, g, "VCPUAllowedCPUs", which, &t->vcpu_cpus[i], &t->allowed_cpus,
                                         "AllowedCPUs=");
        }
        if (r == 0 && t->allowed_mems_set && env->host_mems_known)
                r = pin_validate(l, g, "AllowedMemoryNodes", "", &t->allowed_mems, &env->host_mems,
                                 "the host's online memory nodes");
        if (r == 0 && t->partition != CPU_PARTITION_NO && !t->allowed_cpus_set) {
                const char *file;
                unsigned line;

                snprintf(what, sizeof(what), "%s", t->partition == CPU_PARTITION_ISOLATED ? "isolated" : "exclusive");
                key_where(l, g, "CPUPartition", &file, &line);
                r = loader_fail(l, file, line, "[group %s]: CPUPartition=%s needs AllowedCPUs=: the CPUs it takes",
                                g->name, what);
        }
        return r;
}

/* Two partitions cannot hold the same CPU: the second would be refused by the kernel (an invalid partition). */
static int partitions_validate(struct loader *l, const struct policy *p)
{
        for (size_t i = 0; i < p->n_groups; i++)
                for (size_t j = 0; j < i; j++) {
                        const struct group_policy *a = &p->groups[j], *b = &p->groups[i];
                        const char *file, *file_a;
                        unsigned line, line_a;
                        struct cpuset both = {};
                        char x[96], y[96], z[96];

                        if (a->cpu.partition == CPU_PARTITION_NO || b->cpu.partition == CPU_PARTITION_NO ||
                            !cpuset_overlaps(&a->cpu.allowed_cpus, &b->cpu.allowed_cpus))
                                continue;
                        for (size_t w = 0; w < ELEMENTSOF(both.bits); w++)
                                both.bits[w] = a->cpu.allowed_cpus.bits[w] & b->cpu.allowed_cpus.bits[w];
                        key_where(l, b, "AllowedCPUs", &file, &line);
                        key_where(l, a, "AllowedCPUs", &file_a, &line_a);
                        return loader_fail(l, file, line,
                                           "[group %s]: AllowedCPUs=%s of a CPUPartition= shares CPUs %s with the "
                                           "partition of [group %s] (AllowedCPUs=%s at %s:%u)",
                                           b->name, cpuset_text(&b->cpu.allowed_cpus, x), cpuset_text(&both, y),
                                           a->name, cpuset_text(&a->cpu.allowed_cpus, z), file_a, line_a);
                }
        return 0;
}

/* A duration as an operator writes it: "20ms", "1s", "1500us". */
static const char *usec_text(uint64_t usec, char buf[static 32])
{
        if (usec && usec % 1000000 == 0)
                snprintf(buf, 32, "%llus", (unsigned long long)usec / 1000000);
        else if (usec % 1000 == 0)
                snprintf(buf, 32, "%llums", (unsigned long long)usec / 1000);
        else
                snprintf(buf, 32, "%lluus", (unsigned long long)usec);
        return buf;
}

/* A percentage kept in permyriad: "50%", "12.5%", "0.01%". */
static const char *permyriad_text(uint64_t pm, char buf[static 32])
{
        if (pm % 100 == 0)
                snprintf(buf, 32, "%llu%%", (unsigned long long)pm / 100);
        else if (pm % 10 == 0)
                snprintf(buf, 32, "%llu.%llu%%", (unsigned long long)pm / 100, (unsigned long long)pm % 100 / 10);
        else
                snprintf(buf, 32, "%llu.%02llu%%", (unsigned long long)pm / 100, (unsigned long long)pm % 100);
        return buf;
}

/* cpu.max.burst is time the VM may run above its quota, saved from periods it used less: the kernel takes it only up
 * to the quota, and refuses a cpu.max below it. So a burst needs a quota (CPUQuota=, or the CPU law's
 * CPUQuotaRange=), and at most its quota per period, and at most the lowest quota CPUQuotaRange= lets the CPU law
 * set. what names the burst ("CPUQuotaBurstSec=20ms", "the top of CPUQuotaBurstRange=50ms"). Runs while CPUQuota=
 * is still in permyriad. */
static int burst_within_quota(struct loader *l, const struct group_policy *g, const char *key, const char *what,
                              uint64_t burst)
{
        const struct limits *lim = &g->limits;
        const struct adapt_policy *a = &g->adapt;
        bool range = a->cpu && a->cpu_quota_range_set;
        uint64_t quota, period;
        const char *file;
        unsigned line;

        key_where(l, g, key, &file, &line);
        if (!lim->cpu_max_set && !(a->burst && range))
                return loader_fail(l, file, line, "[group %s]: %s= needs CPUQuota=%s: a burst is time above the quota",
                                   g->name, key, a->burst ? " or Adapt=cpu with CPUQuotaRange=" : "");
        const struct {
                uint64_t permyriad;
                const char *what;
        } quotas[] = {
                {lim->cpu_max_set ? lim->cpu_quota_usec : 0, "CPUQuota="},
                {range ? a->cpu_quota_min_permyriad : 0, "the floor of CPUQuotaRange="},
        };
        for (size_t i = 0; i < ELEMENTSOF(quotas); i++) {
                uint64_t pm = quotas[i].permyriad;

                if (pm == 0 || cgv_cpu_quota_from_permyriad(pm, lim->cpu_period_usec, &quota, &period) < 0 ||
                    burst <= quota)
                        continue;
                char x[32], y[32], z[32], w[32];
                return loader_fail(l, file, line,
                                   "[group %s]: %s%s is above %s%s, %s per period of %s: the kernel takes a burst of "
                                   "at most the quota",
                                   g->name, what, usec_text(burst, x), quotas[i].what, permyriad_text(pm, y),
                                   usec_text(quota, z), usec_text(period, w));
        }
        return 0;
}

static int burst_validate(struct loader *l, const struct group_policy *g)
{
        const struct limits *lim = &g->limits;
        const struct adapt_policy *a = &g->adapt;
        const char *file;
        unsigned line;
        int r;

        if (lim->cpu_burst_set && lim->cpu_burst_usec > 0) {
                r = burst_within_quota(l, g, "CPUQuotaBurstSec", "CPUQuotaBurstSec=", lim->cpu_burst_usec);
                if (r < 0)
                        return r;
        }
        if (!a->burst)
                return 0;
        /* Adapt=burst: the law walks cpu.max.burst inside the range, starting from CPUQuotaBurstSec= if given. */
        r = burst_within_quota(l, g, "CPUQuotaBurstRange", "the top of CPUQuotaBurstRange=", a->cpu_burst_max_usec);
        if (r < 0)
                return r;
        if (lim->cpu_burst_set &&
            (lim->cpu_burst_usec < a->cpu_burst_min_usec || lim->cpu_burst_usec > a->cpu_burst_max_usec)) {
                char x[32], y[32], z[32];
                key_where(l, g, "CPUQuotaBurstSec", &file, &line);
                return loader_fail(l, file, line,
                                   "[group %s]: CPUQuotaBurstSec=%s is outside CPUQuotaBurstRange=%s..%s", g->name,
                                   usec_text(lim->cpu_burst_usec, x), usec_text(a->cpu_burst_min_usec, y),
                                   usec_text(a->cpu_burst_max_usec, z));
        }
        return 0;
}

/* The CPU keys, once all files are read: VCPUQuota= and EmulatorQuota= into cpu.max at the group's period (before
 * CPUQuota= is translated: lim->cpu_period_usec is still the one configured), and AllowedCPUs= and
 * AllowedMemoryNodes= into the kernel's form for the VM's cgroup (their length was checked as they were read). */
static int cpu_topology_finish(struct loader *l, struct group_policy *g)
{
        struct cpu_topology *t = &g->cpu;
        struct limits *lim = &g->limits;

        if (t->vcpu_quota_set && cgv_cpu_quota_from_permyriad(t->vcpu_quota_usec, lim->cpu_period_usec,
                                                              &t->vcpu_quota_usec, &t->vcpu_period_usec) < 0)
                return loader_fail(l, g->file, g->line, "[group %s]: VCPUQuota= is beyond what the kernel takes",
                                   g->name);
        if (t->emulator_quota_set &&
            cgv_cpu_quota_from_permyriad(t->emulator_quota_usec, lim->cpu_period_usec, &t->emulator_quota_usec,
                                         &t->emulator_period_usec) < 0)
                return loader_fail(l, g->file, g->line, "[group %s]: EmulatorQuota= is beyond what the kernel takes",
                                   g->name);
        lim->cpuset_cpus_set = t->allowed_cpus_set;
        if (t->allowed_cpus_set && cpuset_format(&t->allowed_cpus, lim->cpuset_cpus, sizeof(lim->cpuset_cpus)) < 0)
                return -ENOBUFS;
        lim->cpuset_mems_set = t->allowed_mems_set;
        if (t->allowed_mems_set && cpuset_format(&t->allowed_mems, lim->cpuset_mems, sizeof(lim->cpuset_mems)) < 0)
                return -ENOBUFS;
        return 0;
}

/* FreezeOnHostPressure=: never for a latency VM (the one thing a freeze must not touch), and only with a threshold
 * that would ever freeze. Durations left unset take their defaults. */
static int freeze_validate(struct loader *l, struct policy *p)
{
        struct host_policy *h = &p->engine.host;

        for (size_t i = 0; i < p->n_groups; i++) {
                const struct group_policy *g = &p->groups[i];
                const char *file;
                unsigned line;

                if (!g->freeze_on_host_pressure)
                        continue;
                key_where(l, g, "FreezeOnHostPressure", &file, &line);
                if (g->class == VM_CLASS_LATENCY)
                        return loader_fail(l, file, line,
                                           "[group %s]: FreezeOnHostPressure=yes for a latency VM: latency VMs are "
                                           "never frozen",
                                           g->name);
                if (!h->freeze_pressure_ppm)
                        return loader_fail(l, file, line,
                                           "[group %s]: FreezeOnHostPressure=yes needs HostFreezePressure= in [engine]",
                                           g->name);
        }
        if (!h->freeze_after_usec)
                h->freeze_after_usec = HOST_FREEZE_AFTER_DEFAULT_USEC;
        if (!h->thaw_after_usec)
                h->thaw_after_usec = HOST_THAW_AFTER_DEFAULT_USEC;
        if (!h->freeze_max_usec)
                h->freeze_max_usec = FREEZE_MAX_DEFAULT_USEC;
        if (!h->freeze_cooldown_usec)
                h->freeze_cooldown_usec = FREEZE_COOLDOWN_DEFAULT_USEC;
        return 0;
}

/* Translate what depends on more than one key, once all files are read. */
int config_finish(struct loader *l)
{
        struct policy *p = l->policy;

        for (size_t i = 0; i < p->n_groups; i++) {
                struct group_policy *g = &p->groups[i];
                struct limits *lim = &g->limits;

                if (lim->cpu_period_usec && !lim->cpu_max_set && !g->cpu.vcpu_quota_set && !g->cpu.emulator_quota_set)
                        return loader_fail(
                                l, g->file, g->line,
                                "[group %s]: CPUQuotaPeriodSec= needs CPUQuota=, VCPUQuota= or EmulatorQuota=",
                                g->name);
                int r = adapt_validate(l, g);
                if (r < 0)
                        return r;
                r = protection_validate(l, g);
                if (r < 0)
                        return r;
                if ((g->net.ingress_burst && !g->net.ingress_set) || (g->net.egress_burst && !g->net.egress_set))
                        return loader_fail(l, g->file, g->line,
                                           "[group %s]: a Net*Burst= needs its Net*Rate=", g->name);
                r = pins_validate(l, g);
                if (r < 0)
                        return r;
                r = burst_validate(l, g);
                if (r < 0)
                        return r;
                r = cpu_topology_finish(l, g);
                if (r < 0)
                        return r;
                if (lim->cpu_max_set) {
                        /* CPUQuota= was kept as permyriad until the period was known. */
                        uint64_t permyriad = lim->cpu_quota_usec;
                        if (cgv_cpu_quota_from_permyriad(permyriad, lim->cpu_period_usec, &lim->cpu_quota_usec,
                                                         &lim->cpu_period_usec) < 0)
                                return loader_fail(l, g->file, g->line,
                                                   "[group %s]: CPUQuota= is beyond what the kernel takes", g->name);
                }
                if (!g->n_match_name && !g->n_match_uuid && !g->n_match_exe && !g->n_match_user &&
                    !(p->engine.default_group && strcmp(p->engine.default_group, g->name) == 0))
                        return loader_fail(
                                l, g->file, g->line,
                                "[group %s] has no Match*= rule and is not the DefaultGroup=: it would never "
                                "apply",
                                g->name);
                if (lim->memory_high_set && lim->memory_max_set && lim->memory_high != LIMIT_MAX &&
                    lim->memory_high > lim->memory_max)
                        return loader_fail(l, g->file, g->line, "[group %s]: MemoryHigh= is above MemoryMax=", g->name);
        }

        int r = partitions_validate(l, p);
        if (r < 0)
                return r;
        r = freeze_validate(l, p);
        if (r < 0)
                return r;

        if (p->engine.default_group && !policy_find_group(p, p->engine.default_group))
                return loader_fail(l, l->default_group_file, l->default_group_line,
                                   "DefaultGroup=%s: no [group %s] is defined", p->engine.default_group,
                                   p->engine.default_group);

        if (!p->engine.qemu_exe) {
                static const char *const defaults[] = {"qemu-system-*", "qemu-kvm"};
                p->engine.qemu_exe = calloc(ELEMENTSOF(defaults), sizeof(char *));
                if (!p->engine.qemu_exe)
                        return -ENOMEM;
                for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                        p->engine.qemu_exe[i] = strdup(defaults[i]);
                        if (!p->engine.qemu_exe[i])
                                return -ENOMEM;
                        p->engine.n_qemu_exe++;
                }
        }
        if (!p->engine.interval_usec)
                p->engine.interval_usec = ENGINE_INTERVAL_DEFAULT_USEC;
        return 0;
}
