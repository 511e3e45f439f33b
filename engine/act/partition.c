/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPUPartition=: the chain of partition roots down to a group's partition, planned; what the kernel reads back, parsed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "act/partition.h"
#include "kernel/cgroupfs.h"
#include "kernel/macro.h"

const char *partition_mode_value(enum cpu_partition mode)
{
        return cpu_partition_kernel_value(mode);
}

int partition_readback_parse(const char *text, struct partition_readback *ret)
{
        static const struct {
                const char *word;
                enum cpu_partition mode;
        } modes[] = {
                {"member", CPU_PARTITION_NO}, {"root", CPU_PARTITION_EXCLUSIVE}, {"isolated", CPU_PARTITION_ISOLATED}};
        struct partition_readback rb = {.valid = true};
        size_t len = strcspn(text, " \n"), i;
        const char *rest;

        for (i = 0; i < ELEMENTSOF(modes); i++)
                if (strlen(modes[i].word) == len && strncmp(text, modes[i].word, len) == 0)
                        break;
        if (i == ELEMENTSOF(modes))
                return -EINVAL;
        rb.mode = modes[i].mode;
        rest = text + len;
        if (strncmp(rest, " invalid", 8) == 0 && rb.mode != CPU_PARTITION_NO) {
                rb.valid = false;
                rest += 8;
                if (strncmp(rest, " (", 2) == 0) {
                        const char *close = strrchr(rest, ')');
                        if (!close)
                                return -EINVAL;
                        snprintf(rb.reason, sizeof(rb.reason), "%.*s", (int)(close - rest - 2), rest + 2);
                        rest = close + 1;
                }
        }
        if (strcmp(rest, "") != 0 && strcmp(rest, "\n") != 0)
                return -EINVAL;
        *ret = rb;
        return 0;
}

static void cpuset_union(struct cpuset *a, const struct cpuset *b)
{
        for (size_t w = 0; w < ELEMENTSOF(a->bits); w++)
                a->bits[w] |= b->bits[w];
}

int partition_chain_plan(const struct policy *p, const struct group_policy *g, const struct cpuset *host_cpus,
                         struct partition_chain *ret, char *why, size_t size)
{
        struct cpuset partitions = {}, shared = {};
        const struct group_policy *starved = NULL;

        if (g->placement != PLACEMENT_OWN || g->cpu.partition == CPU_PARTITION_NO || !g->cpu.allowed_cpus_set)
                return -EINVAL;
        for (size_t i = 0; i < p->n_groups; i++) {
                const struct group_policy *o = &p->groups[i];
                if (o->placement == PLACEMENT_OWN && o->cpu.partition != CPU_PARTITION_NO && o->cpu.allowed_cpus_set)
                        cpuset_union(&partitions, &o->cpu.allowed_cpus);
        }
        /* The tree's VMs without a partition run on what the tree holds outside the partitions: their own
         * AllowedCPUs=, less the partitions' (the kernel gives a member the parent's CPUs when nothing of its own
         * is left). A group without AllowedCPUs= runs on all of that. */
        for (size_t i = 0; i < p->n_groups; i++) {
                const struct group_policy *o = &p->groups[i];
                struct cpuset own;
                if (o->placement != PLACEMENT_OWN || o->cpu.partition != CPU_PARTITION_NO)
                        continue;
                if (!starved)
                        starved = o;
                if (o->cpu.allowed_cpus_set) {
                        cpuset_minus(&o->cpu.allowed_cpus, &partitions, &own);
                        cpuset_union(&shared, &own);
                }
        }
        if (starved && cpuset_is_empty(&shared)) {
                snprintf(why, size,
                         "the VMs of [group %s] (Placement=own, no CPUPartition=) would have no CPU in the engine's "
                         "tree, which then holds the partitions' CPUs only: give the groups without a partition "
                         "AllowedCPUs= outside the partitions",
                         starved->name);
                return -EDEADLK;
        }
        *ret = (struct partition_chain){.root_cpus = partitions, .group_cpus = g->cpu.allowed_cpus};
        cpuset_union(&ret->root_cpus, &shared);
        if (host_cpus && cpuset_subset(host_cpus, &ret->root_cpus)) {
                char cpus[96];
                if (cpuset_format(&ret->root_cpus, cpus, sizeof(cpus)) < 0)
                        snprintf(cpus, sizeof(cpus), "(%u CPUs)", cpuset_count(&ret->root_cpus));
                snprintf(why, size,
                         "the engine's tree would hold CPUs %s, every CPU of the host, apart from the rest of the host "
                         "(which the kernel refuses): leave the host a CPU outside the partitions and the AllowedCPUs= "
                         "of the groups without one",
                         cpus);
                return -EDEADLK;
        }
        return 0;
}

static int step_add(struct partition_step *ret, size_t *n, const char *cgroup, size_t cgroup_len, const char *file,
                    const char *value)
{
        struct partition_step *s = &ret[(*n)++];

        *s = (struct partition_step){.setting.controller = CGROUP_CPUSET};
        snprintf(s->cgroup, sizeof(s->cgroup), "%.*s", (int)cgroup_len, cgroup);
        snprintf(s->setting.file, sizeof(s->setting.file), "%s", file);
        return snprintf(s->setting.value, sizeof(s->setting.value), "%s", value) < (int)sizeof(s->setting.value)
                       ? 0
                       : -ENOBUFS;
}

int partition_plan(const struct partition_chain *chain, enum cpu_partition mode, const char *root_rel,
                   const char *vm_cgroup, struct partition_step ret[static PARTITION_STEPS_MAX], size_t *ret_n)
{
        char root_cpus[CGV_VALUE_MAX], group_cpus[CGV_VALUE_MAX];
        size_t root_len = strlen(root_rel), n = 0;
        const char *group, *leaf;
        int r;

        /* ROOT/GROUP/LEAF, each part a name: only then are ROOT and GROUP the engine's own */
        if (root_len == 0 || strncmp(vm_cgroup, root_rel, root_len) != 0 || vm_cgroup[root_len] != '/' ||
            mode == CPU_PARTITION_NO)
                return -EXDEV;
        group = vm_cgroup + root_len + 1;
        leaf = strchr(group, '/');
        if (!leaf || leaf == group || !leaf[1] || strchr(leaf + 1, '/') || strlen(vm_cgroup) >= sizeof(ret->cgroup) ||
            strncmp(group, "./", 2) == 0 || strncmp(group, "../", 3) == 0)
                return -EXDEV;
        if (cpuset_format(&chain->root_cpus, root_cpus, sizeof(root_cpus)) < 0 ||
            cpuset_format(&chain->group_cpus, group_cpus, sizeof(group_cpus)) < 0)
                return -ENOBUFS;
        const struct {
                size_t cgroup_len;
                const char *file, *value;
        } steps[PARTITION_STEPS_MAX] = {
                {root_len, "cpuset.cpus", root_cpus},
                {root_len, "cpuset.cpus.partition", "root"},
                {(size_t)(leaf - vm_cgroup), "cpuset.cpus", group_cpus},
                {(size_t)(leaf - vm_cgroup), "cpuset.cpus.partition", partition_mode_value(mode)},
        };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                r = step_add(ret, &n, vm_cgroup, steps[i].cgroup_len, steps[i].file, steps[i].value);
                if (r < 0)
                        return r;
        }
        *ret_n = n;
        return 0;
}

int partition_read(int cgroup_fd, struct partition_readback *ret)
{
        char text[256];
        int r = cgroupfs_read(cgroup_fd, "cpuset.cpus.partition", text, sizeof(text));

        return r < 0 ? r : partition_readback_parse(text, ret);
}
