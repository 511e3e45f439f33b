/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>

#include "kernel/cpu_topology.h"

int cpu_topology_vcpu_cpus(const struct cpu_topology *t, unsigned vcpu, struct cpuset *ret)
{
        if (t->n_vcpu_cpus == 0)
                return -ENOENT;
        if (t->vcpu_spread) {
                const struct cpuset *pool = &t->vcpu_cpus[0];
                int cpu = cpuset_nth(pool, vcpu % cpuset_count(pool)); /* the loader refuses an empty set */

                *ret = (struct cpuset){};
                cpuset_add(ret, (unsigned)cpu);
                return 0;
        }
        *ret = t->vcpu_cpus[vcpu % t->n_vcpu_cpus];
        return 0;
}

const char *cpu_partition_kernel_value(enum cpu_partition p)
{
        switch (p) {
        case CPU_PARTITION_EXCLUSIVE:
                return "root";
        case CPU_PARTITION_ISOLATED:
                return "isolated";
        default:
                return "member";
        }
}

void cpu_topology_done(struct cpu_topology *t)
{
        free(t->vcpu_cpus);
        t->vcpu_cpus = NULL;
        t->n_vcpu_cpus = 0;
}
