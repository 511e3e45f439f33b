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

                if (lim->cpu_period_usec && !lim->cpu_max_set)
                        return loader_fail(l, g->file, g->line,
                                           "[group %s]: CPUQuotaPeriodSec= needs CPUQuota=", g->name);
                int r = adapt_validate(l, g);
                if (r < 0)
                        return r;
                r = protection_validate(l, g);
                if (r < 0)
                        return r;
                if ((g->net.ingress_burst && !g->net.ingress_set) || (g->net.egress_burst && !g->net.egress_set))
                        return loader_fail(l, g->file, g->line,
                                           "[group %s]: a Net*Burst= needs its Net*Rate=", g->name);
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

        int r = freeze_validate(l, p);
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
