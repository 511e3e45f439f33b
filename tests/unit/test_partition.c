/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CPUPartition=: what the kernel reads back in cpuset.cpus.partition, and the chain of partition roots above a VM. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "act/partition.h"

static void test_readback(void **state)
{
        struct partition_readback rb;

        assert_int_equal(partition_readback_parse("member\n", &rb), 0);
        assert_int_equal(rb.mode, CPU_PARTITION_NO);
        assert_true(rb.valid);
        assert_string_equal(rb.reason, "");
        assert_int_equal(partition_readback_parse("root\n", &rb), 0);
        assert_int_equal(rb.mode, CPU_PARTITION_EXCLUSIVE);
        assert_true(rb.valid);
        assert_int_equal(partition_readback_parse("isolated", &rb), 0);
        assert_int_equal(rb.mode, CPU_PARTITION_ISOLATED);
        assert_true(rb.valid);

        /* the kernel's verdict (Linux 6.1's words), reason kept as said */
        assert_int_equal(partition_readback_parse("root invalid (Parent is not a partition root)\n", &rb), 0);
        assert_int_equal(rb.mode, CPU_PARTITION_EXCLUSIVE);
        assert_false(rb.valid);
        assert_string_equal(rb.reason, "Parent is not a partition root");
        assert_int_equal(partition_readback_parse("isolated invalid (Cpu list in cpuset.cpus not exclusive)\n", &rb),
                         0);
        assert_int_equal(rb.mode, CPU_PARTITION_ISOLATED);
        assert_false(rb.valid);
        assert_string_equal(rb.reason, "Cpu list in cpuset.cpus not exclusive");
        /* a reason with parentheses of its own; an older kernel's bare "invalid" */
        assert_int_equal(partition_readback_parse("root invalid (No cpu (left) for tasks)\n", &rb), 0);
        assert_string_equal(rb.reason, "No cpu (left) for tasks");
        assert_int_equal(partition_readback_parse("root invalid\n", &rb), 0);
        assert_false(rb.valid);
        assert_string_equal(rb.reason, "");

        /* what is not the file's: untouched ret */
        rb.mode = CPU_PARTITION_ISOLATED;
        assert_int_equal(partition_readback_parse("", &rb), -EINVAL);
        assert_int_equal(partition_readback_parse("rooted\n", &rb), -EINVAL);
        assert_int_equal(partition_readback_parse("member invalid (x)\n", &rb), -EINVAL);
        assert_int_equal(partition_readback_parse("root invalid (unclosed\n", &rb), -EINVAL);
        assert_int_equal(partition_readback_parse("root extra\n", &rb), -EINVAL);
        assert_int_equal(partition_readback_parse("root\nroot\n", &rb), -EINVAL);
        assert_int_equal(rb.mode, CPU_PARTITION_ISOLATED);
        assert_string_equal(partition_mode_value(CPU_PARTITION_NO), "member");
        assert_string_equal(partition_mode_value(CPU_PARTITION_EXCLUSIVE), "root");
        assert_string_equal(partition_mode_value(CPU_PARTITION_ISOLATED), "isolated");
}

static void group_set(struct group_policy *g, const char *name, enum placement_mode placement, const char *cpus,
                      enum cpu_partition partition)
{
        *g = (struct group_policy){.name = (char *)name, .placement = placement};
        g->cpu.partition = partition;
        if (cpus) {
                g->cpu.allowed_cpus_set = true;
                assert_int_equal(cpuset_parse(cpus, CPUSET_MAX, &g->cpu.allowed_cpus), 0);
        }
}

static void assert_cpus(const struct cpuset *set, const char *expected)
{
        char buf[128];

        assert_true(cpuset_format(set, buf, sizeof(buf)) >= 0);
        assert_string_equal(buf, expected);
}

/* The tree root holds every partition and the CPUs of the groups without one; a group cgroup its AllowedCPUs=. */
static void test_chain(void **state)
{
        struct group_policy groups[5];
        struct policy p = {.groups = groups, .n_groups = 2};
        struct partition_chain chain;
        struct cpuset host;
        char why[600] = "";

        assert_int_equal(cpuset_parse("0-7", CPUSET_MAX, &host), 0);
        /* one latency group alone: the tree holds its CPUs only */
        group_set(&groups[0], "latency", PLACEMENT_OWN, "6-7", CPU_PARTITION_ISOLATED);
        group_set(&groups[1], "kept", PLACEMENT_INPLACE, NULL, CPU_PARTITION_NO); /* not in the tree: no matter */
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), 0);
        assert_cpus(&chain.root_cpus, "6-7");
        assert_cpus(&chain.group_cpus, "6-7");

        /* two partitions, and a batch group whose AllowedCPUs= overlaps one: the tree holds the union */
        group_set(&groups[2], "db", PLACEMENT_OWN, "4", CPU_PARTITION_EXCLUSIVE);
        group_set(&groups[3], "batch", PLACEMENT_OWN, "2-4", CPU_PARTITION_NO);
        p.n_groups = 4;
        assert_int_equal(partition_chain_plan(&p, &groups[2], &host, &chain, why, sizeof(why)), 0);
        assert_cpus(&chain.root_cpus, "2-4,6-7");
        assert_cpus(&chain.group_cpus, "4");
        /* a group without AllowedCPUs= runs on the tree's CPUs outside the partitions (2-3) */
        group_set(&groups[4], "any", PLACEMENT_OWN, NULL, CPU_PARTITION_NO);
        p.n_groups = 5;
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), 0);
        assert_cpus(&chain.root_cpus, "2-4,6-7");

        /* ... but with nothing outside the partitions, its VMs would have no CPU: refused, naming it */
        group_set(&groups[3], "batch", PLACEMENT_OWN, "4,6", CPU_PARTITION_NO);
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), -EDEADLK);
        assert_non_null(strstr(why, "[group batch] (Placement=own, no CPUPartition=) would have no CPU"));
        p.n_groups = 3;
        group_set(&groups[1], "any", PLACEMENT_OWN, NULL, CPU_PARTITION_NO);
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), -EDEADLK);
        assert_non_null(strstr(why, "[group any]"));

        /* the tree taking every CPU of the host: the kernel refuses; said before it is tried */
        group_set(&groups[1], "rest", PLACEMENT_OWN, "0-5", CPU_PARTITION_NO);
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), -EDEADLK);
        assert_non_null(strstr(why, "would hold CPUs 0-7, every CPU of the host"));
        /* the host's CPUs unknown: not checked */
        assert_int_equal(partition_chain_plan(&p, &groups[0], NULL, &chain, why, sizeof(why)), 0);
        assert_cpus(&chain.root_cpus, "0-7");

        /* not a partition group (or not Placement=own): nothing to plan */
        assert_int_equal(partition_chain_plan(&p, &groups[1], &host, &chain, why, sizeof(why)), -EINVAL);
        group_set(&groups[0], "latency", PLACEMENT_INPLACE, "6-7", CPU_PARTITION_ISOLATED);
        assert_int_equal(partition_chain_plan(&p, &groups[0], &host, &chain, why, sizeof(why)), -EINVAL);
}

/* The writes, top-down, on the engine's own cgroups only. */
static void test_plan(void **state)
{
        struct partition_step steps[PARTITION_STEPS_MAX];
        struct partition_chain chain = {};
        size_t n = 0;

        assert_int_equal(cpuset_parse("1,3", CPUSET_MAX, &chain.root_cpus), 0);
        assert_int_equal(cpuset_parse("1", CPUSET_MAX, &chain.group_cpus), 0);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_ISOLATED, "vmgov", "vmgov/latency/lat-1", steps, &n), 0);
        assert_int_equal(n, 4);
        const char *expected[][3] = {
                {"vmgov", "cpuset.cpus", "1,3"},
                {"vmgov", "cpuset.cpus.partition", "root"},
                {"vmgov/latency", "cpuset.cpus", "1"},
                {"vmgov/latency", "cpuset.cpus.partition", "isolated"},
        };
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(steps[i].cgroup, expected[i][0]);
                assert_string_equal(steps[i].setting.file, expected[i][1]);
                assert_string_equal(steps[i].setting.value, expected[i][2]);
                assert_int_equal(steps[i].setting.controller, CGROUP_CPUSET);
        }
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "a/vmgov", "a/vmgov/g/v", steps, &n), 0);
        assert_string_equal(steps[0].cgroup, "a/vmgov");
        assert_string_equal(steps[2].cgroup, "a/vmgov/g");
        assert_string_equal(steps[3].setting.value, "root");

        /* anything but ROOT/GROUP/LEAF is not the engine's to make a partition of */
        n = 99;
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "operator/vm", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgovx/g/v", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov/g", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov/g/v/vcpu0", steps, &n),
                         -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov//v", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov/g/", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "", "g/v", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov/../v", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_EXCLUSIVE, "vmgov", "vmgov/./v", steps, &n), -EXDEV);
        assert_int_equal(partition_plan(&chain, CPU_PARTITION_NO, "vmgov", "vmgov/g/v", steps, &n), -EXDEV);
        assert_int_equal(n, 99);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_readback),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_plan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
