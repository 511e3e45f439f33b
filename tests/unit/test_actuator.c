/* SPDX-License-Identifier: GPL-2.0-or-later */
/* From limits to files: what gets written, when, what the audit says, and what restore puts back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "act/actuator.h"
#include "act/statefile.h"
#include "kernel/audit.h"
#include "kernel/macro.h"
#include "testutil.h"

#define PAGE 4096

static struct limits full_limits(void)
{
        struct limits l = {
                .cpu_weight_set = true,
                .cpu_weight = 200,
                .cpu_max_set = true,
                .cpu_quota_usec = 150000,
                .cpu_period_usec = 100000,
                .memory_high_set = true,
                .memory_high = 4ULL << 30,
                .memory_max_set = true,
                .memory_max = (8ULL << 30) + 100, /* not page-aligned: the kernel rounds it down */
                .io_weight_set = true,
                .io_weight = 300,
                .n_io_devices = 1,
                .io_devices = {{254, 0, 50000000, LIMIT_MAX, LIMIT_MAX, 1000}},
        };
        return l;
}

static void test_plan(void **state)
{
        struct limits l = full_limits();
        struct setting s[SETTINGS_MAX];
        size_t n = 0;

        assert_int_equal(actuator_plan(&l, PAGE, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 7);
        assert_string_equal(s[0].file, "cpu.weight");
        assert_string_equal(s[0].value, "200");
        assert_string_equal(s[1].file, "cpu.max");
        assert_string_equal(s[1].value, "150000 100000");
        assert_string_equal(s[2].file, "memory.high");
        assert_string_equal(s[2].value, "4294967296");
        assert_string_equal(s[3].file, "memory.max");
        assert_string_equal(s[3].value, "8589934592");
        assert_string_equal(s[4].file, "io.weight");
        assert_string_equal(s[4].value, "default 300");
        /* bfq's own weight too, as systemd maps it: 300 of 1..10000 is 118 of bfq's 1..1000 */
        assert_string_equal(s[5].file, "io.bfq.weight");
        assert_string_equal(s[5].value, "default 118");
        assert_string_equal(s[6].file, "io.max");
        assert_string_equal(s[6].value, "254:0 rbps=50000000 wbps=max riops=max wiops=1000");
        assert_int_equal(s[6].controller, CGROUP_IO);

        struct limits idle = {.cpu_idle = true, .memory_high_set = true, .memory_high = LIMIT_MAX};
        assert_int_equal(actuator_plan(&idle, PAGE, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(s[0].file, "cpu.idle");
        assert_string_equal(s[0].value, "1");
        assert_string_equal(s[1].value, "max");

        assert_int_equal(actuator_plan(&l, PAGE, s, 3, &n), -ENOBUFS);
}

static void test_current_values(void **state)
{
        struct setting io = {.file = "io.max", .major = 254, .minor = 0};
        struct setting mem = {.file = "memory.high"};
        struct setting cpu = {.file = "cpu.max"};
        struct setting w = {.file = "io.weight"};
        char buf[CGV_VALUE_MAX];

        assert_true(actuator_current_value(
                            &io, "8:0 rbps=1 wbps=max riops=max wiops=max\n254:0 rbps=2 wbps=3 riops=max wiops=max\n",
                            PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "254:0 rbps=2 wbps=3 riops=max wiops=max");
        /* No line for the device means no limit. */
        assert_true(actuator_current_value(&io, "", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "254:0 rbps=max wbps=max riops=max wiops=max");
        assert_true(actuator_current_value(&mem, "max\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max");
        assert_true(actuator_current_value(&cpu, "max 100000\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max 100000");
        assert_true(actuator_current_value(&w, "default 100\n254:0 500\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "default 100");
        assert_true(actuator_current_value(&cpu, "garbage\n", PAGE, buf, sizeof(buf)) < 0);
        assert_true(actuator_default_value(&cpu, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max 100000");
}

/* The static memory keys and io.latency: each its own file, page-rounded as the kernel keeps them. */
static void test_plan_protection_and_latency(void **state)
{
        struct limits l = {
                .memory_min_set = true,
                .memory_min = (1ULL << 30) + 100,
                .memory_low_set = true,
                .memory_low = 2ULL << 30,
                .memory_swap_max_set = true,
                .memory_swap_max = 0,
                .memory_zswap_max_set = true,
                .memory_zswap_max = LIMIT_MAX,
                .n_io_latency = 2,
                .io_latency = {{254, 0, 25000}, {8, 16, 1000000}},
        };
        struct setting s[SETTINGS_MAX];
        size_t n = 0;

        assert_int_equal(actuator_plan(&l, PAGE, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 6);
        assert_string_equal(s[0].file, "memory.min");
        assert_string_equal(s[0].value, "1073741824");
        assert_string_equal(s[1].file, "memory.low");
        assert_string_equal(s[1].value, "2147483648");
        assert_string_equal(s[2].file, "memory.swap.max");
        assert_string_equal(s[2].value, "0");
        assert_string_equal(s[3].file, "memory.zswap.max");
        assert_string_equal(s[3].value, "max");
        assert_int_equal(s[3].controller, CGROUP_MEMORY);
        assert_string_equal(s[4].file, "io.latency");
        assert_string_equal(s[4].value, "254:0 target=25000");
        assert_int_equal(s[4].major, 254);
        assert_int_equal(s[4].controller, CGROUP_IO);
        assert_string_equal(s[5].value, "8:16 target=1000000");

        /* Every setting the policy can hold fits SETTINGS_MAX. */
        struct limits most = full_limits();
        most.cpu_idle = true;
        most.memory_min_set = most.memory_low_set = most.memory_swap_max_set = most.memory_zswap_max_set = true;
        most.cpu_burst_set = most.cpuset_cpus_set = most.cpuset_mems_set = true;
        snprintf(most.cpuset_cpus, sizeof(most.cpuset_cpus), "0-3");
        snprintf(most.cpuset_mems, sizeof(most.cpuset_mems), "0");
        most.n_io_devices = most.n_io_latency = IO_DEVICES_MAX;
        for (unsigned i = 0; i < IO_DEVICES_MAX; i++) {
                most.io_devices[i] = (struct io_device_limit){8, i, 1, 1, 1, 1};
                most.io_latency[i] = (struct io_device_latency){8, i, 1};
        }
        assert_int_equal(actuator_plan(&most, PAGE, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 14 + 2 * IO_DEVICES_MAX);
}

/* What the files read back as, and what a fresh cgroup holds (restore's and dry-run's reference). */
static void test_current_values_protection_and_latency(void **state)
{
        struct setting lat = {.file = "io.latency", .major = 254, .minor = 0};
        struct setting low = {.file = "memory.low"};
        struct setting swap = {.file = "memory.swap.max"};
        struct setting zswap = {.file = "memory.zswap.max"};
        struct setting min = {.file = "memory.min"};
        char buf[CGV_VALUE_MAX];

        assert_true(actuator_current_value(&lat, "8:0 target=10\n254:0 target=25000\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "254:0 target=25000");
        assert_true(actuator_current_value(&lat, "8:0 target=10\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "254:0 target=max");
        assert_true(actuator_current_value(&low, "2147483648\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "2147483648");
        assert_true(actuator_current_value(&swap, "max\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max");

        assert_true(actuator_default_value(&lat, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "254:0 target=max");
        assert_true(actuator_default_value(&low, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "0");
        assert_true(actuator_default_value(&min, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "0");
        assert_true(actuator_default_value(&swap, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max");
        assert_true(actuator_default_value(&zswap, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "max");
        assert_true(actuator_file_known("memory.zswap.max") && actuator_file_known("io.latency"));
        assert_false(actuator_file_known("memory.reclaim"));
}

/* CPUQuotaBurstSec= after the quota it bursts above; AllowedCPUs= and AllowedMemoryNodes= as the kernel writes them. */
static void test_plan_burst_and_cpuset(void **state)
{
        struct limits l = {
                .cpu_max_set = true,
                .cpu_quota_usec = 50000,
                .cpu_period_usec = 100000,
                .cpu_burst_set = true,
                .cpu_burst_usec = 20000,
                .cpuset_cpus_set = true,
                .cpuset_cpus = "0-3,8",
                .cpuset_mems_set = true,
                .cpuset_mems = "0",
        };
        struct setting s[SETTINGS_MAX];
        size_t n = 0;

        assert_int_equal(actuator_plan(&l, PAGE, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(s[0].file, "cpu.max");
        assert_string_equal(s[0].value, "50000 100000");
        assert_string_equal(s[1].file, "cpu.max.burst");
        assert_string_equal(s[1].value, "20000");
        assert_int_equal(s[1].controller, CGROUP_CPU);
        assert_string_equal(s[2].file, "cpuset.cpus");
        assert_string_equal(s[2].value, "0-3,8");
        assert_int_equal(s[2].controller, CGROUP_CPUSET);
        assert_string_equal(s[3].file, "cpuset.mems");
        assert_string_equal(s[3].value, "0");
        assert_int_equal(s[3].controller, CGROUP_CPUSET);
}

static void test_current_values_burst_and_cpuset(void **state)
{
        struct setting burst = {.file = "cpu.max.burst"};
        struct setting cpus = {.file = "cpuset.cpus"};
        struct setting mems = {.file = "cpuset.mems"};
        char buf[CGV_VALUE_MAX];

        assert_true(actuator_current_value(&burst, "20000\n", PAGE, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "20000");
        assert_true(actuator_current_value(&burst, "max\n", PAGE, buf, sizeof(buf)) < 0);
        /* in the kernel's form whatever the spelling, so that a value read back compares as text */
        assert_int_equal(actuator_current_value(&cpus, "0-1,2,8\n", PAGE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-2,8");
        /* empty: a fresh cgroup, on its parent's CPUs */
        assert_int_equal(actuator_current_value(&cpus, "\n", PAGE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_true(actuator_current_value(&cpus, "0-x\n", PAGE, buf, sizeof(buf)) < 0);
        assert_int_equal(actuator_current_value(&mems, "0\n", PAGE, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0");

        assert_true(actuator_default_value(&burst, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "0");
        assert_int_equal(actuator_default_value(&cpus, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(actuator_default_value(&mems, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_true(actuator_file_known("cpuset.cpus") && actuator_file_known("cpuset.mems") &&
                    actuator_file_known("cpu.max.burst"));
        /* CPUPartition= (act/partition.h): the mode asked for, valid or not, compares with what the engine writes */
        struct setting part = {.file = "cpuset.cpus.partition", .controller = CGROUP_CPUSET};
        assert_true(actuator_file_known("cpuset.cpus.partition"));
        assert_int_equal(actuator_current_value(&part, "isolated invalid (Parent is not a partition root)\n", PAGE, buf,
                                                sizeof(buf)),
                         0);
        assert_string_equal(buf, "isolated");
        assert_int_equal(actuator_default_value(&part, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "member");
        assert_true(actuator_current_value(&part, "rooted\n", PAGE, buf, sizeof(buf)) < 0);
}

struct fixture {
        char path[4096];
        int fd;
        char audit_path[4200];
        int audit_fd;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        f->fd = tmptree_new(f->path, sizeof(f->path));
        tmptree_write_string(f->fd, "vm/cpu.max", "max 100000\n");
        tmptree_write_string(f->fd, "vm/cpu.weight", "100\n");
        tmptree_mkdir(f->fd, "vm/io.max"); /* a "file" every write to fails, as a refusing kernel would */
        snprintf(f->audit_path, sizeof(f->audit_path), "%s/audit.jsonl", f->path);
        assert_int_equal(audit_open(f->audit_path, &f->audit_fd), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        audit_close(f->audit_fd);
        tmptree_remove(f->path, f->fd);
        free(f);
        return 0;
}

static char *slurp(int dir_fd, const char *path)
{
        static char buf[8192];
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n >= 0);
        buf[n] = '\0';
        return buf;
}

static size_t count_lines(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_apply_writes_once_audits_and_restores(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct setting s = {.file = "cpu.max", .controller = CGROUP_CPU, .value = "150000 100000"};
        struct actuator_target t = {
                .vm = "web\"1", .uuid = "", .pid = 42, .group = "web", .cgroup = "vm", .cgroup_fd = vm_fd};

        actuator_init(&a, false, f->fd, f->audit_fd);
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        assert_string_equal(slurp(f->fd, "vm/cpu.max"), "150000 100000");
        /* Already there: nothing written, nothing audited. */
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 0);
        /* A second change keeps the first original. */
        snprintf(s.value, sizeof(s.value), "50000 100000");
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        assert_int_equal(a.writes, 2);
        assert_int_equal(a.n_originals, 1);

        const char *audit = slurp(f->fd, "audit.jsonl");
        assert_int_equal(count_lines(audit), 2);
        assert_non_null(strstr(audit, "\"vm\":\"web\\\"1\",\"uuid\":null,\"pid\":42,\"group\":\"web\","
                                      "\"cgroup\":\"vm\",\"file\":\"cpu.max\",\"old\":\"max 100000\","
                                      "\"new\":\"150000 100000\",\"reason\":\"policy\",\"dry_run\":false}"));

        assert_int_equal(actuator_restore(&a), 0);
        assert_string_equal(slurp(f->fd, "vm/cpu.max"), "max 100000");
        assert_int_equal(a.n_originals, 0);
        actuator_done(&a);
        close(vm_fd);
}

/* Many VMs' originals: each file's first value is kept however many there are, through a VM forgotten in the middle
 * (its cgroup's originals go, the others move up), and each goes back to its own cgroup on restore. */
static void test_many_originals_each_kept_once(void **state)
{
        enum { N = 300 };
        struct fixture *f = *state;
        struct actuator a;
        struct setting s = {.file = "cpu.weight", .controller = CGROUP_CPU};
        char cg[32], path[64];
        int fds[N];

        actuator_init(&a, false, f->fd, -1);
        for (int i = 0; i < N; i++) {
                snprintf(path, sizeof(path), "vm-%d/cpu.weight", i);
                tmptree_write_string(f->fd, path, "100\n");
                snprintf(cg, sizeof(cg), "vm-%d", i);
                fds[i] = openat(f->fd, cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(fds[i] >= 0);
        }
        for (int round = 0; round < 2; round++)
                for (int i = 0; i < N; i++) {
                        snprintf(cg, sizeof(cg), "vm-%d", i);
                        struct actuator_target t = {
                                .vm = cg, .pid = 1000 + i, .group = "g", .cgroup = cg, .cgroup_fd = fds[i]};
                        snprintf(s.value, sizeof(s.value), "%d", 200 + round);
                        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
                        if (round == 0 && i == N / 2)
                                actuator_forget(&a, "vm-7"); /* gone: what is after it moves up */
                }
        /* vm-7's first original was forgotten: its second round recorded 200, the value the engine itself had
         * written; every other VM keeps 100, once */
        assert_int_equal(a.n_originals, N);
        assert_int_equal(actuator_restore(&a), 0);
        for (int i = 0; i < N; i++) {
                snprintf(path, sizeof(path), "vm-%d/cpu.weight", i);
                assert_string_equal(slurp(f->fd, path), i == 7 ? "200" : "100");
                close(fds[i]);
        }
        actuator_done(&a);
}

/* A reload that drops CPUQuota= gives cpu.max back: the original is written (audited with the reload's reason) and
 * forgotten, in memory and in the journal, so that a later engine's restore does not write it over what came after;
 * what the policy still sets (cpu.weight) and the freeze keep their originals. */
static void test_give_back_after_reload(void **state)
{
        struct fixture *f = *state;
        struct actuator a, b;
        char journal[4300];
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {
                .vm = "w", .uuid = "", .pid = 9, .group = "web", .cgroup = "vm", .cgroup_fd = vm_fd};
        struct setting quota = {.file = "cpu.max", .controller = CGROUP_CPU, .value = "30000 100000"};
        struct setting weight = {.file = "cpu.weight", .controller = CGROUP_CPU, .value = "50"};
        struct setting freeze;

        tmptree_write_string(f->fd, "vm/cgroup.freeze", "0\n");
        actuator_freeze_setting(true, &freeze);
        snprintf(journal, sizeof(journal), "%s/state", f->path);
        actuator_init(&a, false, f->fd, f->audit_fd);
        a.state_path = journal;
        assert_int_equal(actuator_apply(&a, &t, &quota, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &weight, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &freeze, "freeze"), 1);
        assert_int_equal(a.n_originals, 3);

        /* another VM's cgroup with cpu.max is not this VM's to give back */
        struct actuator_target other = t;
        other.cgroup = "vm2";
        assert_int_equal(actuator_give_back(&a, &other, &weight, 1, "policy reloaded"), 0);

        assert_int_equal(actuator_give_back(&a, &t, &weight, 1, "policy reloaded: no longer set"), 1);
        assert_string_equal(slurp(f->fd, "vm/cpu.max"), "max 100000");
        assert_string_equal(slurp(f->fd, "vm/cpu.weight"), "50");
        assert_string_equal(slurp(f->fd, "vm/cgroup.freeze"), "1");
        assert_int_equal(a.n_originals, 2);
        assert_non_null(strstr(slurp(f->fd, "audit.jsonl"), "\"file\":\"cpu.max\",\"old\":null,\"new\":\"max 100000\","
                                                            "\"reason\":\"policy reloaded: no longer set\""));
        /* once given back, never again */
        assert_int_equal(actuator_give_back(&a, &t, &weight, 1, "policy reloaded"), 0);
        actuator_done(&a); /* the engine dies */

        /* the next engine's restore: cpu.weight and the freeze, not cpu.max, which someone may have set since */
        tmptree_write_string(f->fd, "vm/cpu.max", "20000 100000");
        actuator_init(&b, false, f->fd, f->audit_fd);
        b.state_path = journal;
        assert_int_equal(actuator_take_over(&b), 2);
        assert_int_equal(actuator_restore(&b), 0);
        assert_string_equal(slurp(f->fd, "vm/cpu.max"), "20000 100000");
        assert_string_equal(slurp(f->fd, "vm/cpu.weight"), "100");
        assert_string_equal(slurp(f->fd, "vm/cgroup.freeze"), "0");
        actuator_done(&b);
        close(vm_fd);
}

/* A freeze is a setting as any other: audited with its reason, its original journalled, so that a later engine's
 * restore (a stop, `vmgov restore`) thaws the VM. */
/* Partitions go back to "member" children first (the VM's cgroup, its group's, the tree root), then their
 * cpuset.cpus: the order of the restore's audit lines. */
static void test_partitions_restored_children_first(void **state)
{
        static const char *const cgroups[] = {"t", "t/g", "t/g/v"}; /* written top-down, as the chain is */
        struct fixture *f = *state;
        struct actuator a;

        actuator_init(&a, false, f->fd, f->audit_fd);
        for (size_t i = 0; i < 3; i++) {
                char path[64];
                snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", cgroups[i]);
                tmptree_write_string(f->fd, path, "member\n");
                snprintf(path, sizeof(path), "%s/cpuset.cpus", cgroups[i]);
                tmptree_write_string(f->fd, path, "\n");
        }
        for (size_t i = 0; i < 3; i++) {
                int fd = openat(f->fd, cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct actuator_target t = {.vm = "v", .pid = 7, .group = "g", .cgroup = cgroups[i], .cgroup_fd = fd};
                struct setting cpus = {.file = "cpuset.cpus", .controller = CGROUP_CPUSET, .value = "1"};
                struct setting part = {.file = "cpuset.cpus.partition", .controller = CGROUP_CPUSET, .value = "root"};
                if (i < 2)
                        assert_int_equal(actuator_apply(&a, &t, &cpus, "chain"), 1);
                assert_int_equal(actuator_apply(&a, &t, &part, "chain"), 1);
                close(fd);
        }
        assert_string_equal(slurp(f->fd, "t/g/cpuset.cpus.partition"), "root");
        assert_int_equal(actuator_restore(&a), 0);
        const char *audit = slurp(f->fd, "audit.jsonl");
        const char *v = strstr(
                audit, "\"cgroup\":\"t/g/v\",\"file\":\"cpuset.cpus.partition\",\"old\":null,\"new\":\"member\"");
        const char *g =
                strstr(audit, "\"cgroup\":\"t/g\",\"file\":\"cpuset.cpus.partition\",\"old\":null,\"new\":\"member\"");
        const char *t =
                strstr(audit, "\"cgroup\":\"t\",\"file\":\"cpuset.cpus.partition\",\"old\":null,\"new\":\"member\"");
        const char *cpus = strstr(audit, "\"cgroup\":\"t\",\"file\":\"cpuset.cpus\",\"old\":null,\"new\":\"\"");
        assert_non_null(v);
        assert_non_null(g);
        assert_non_null(t);
        assert_non_null(cpus);
        assert_true(v < g && g < t && t < cpus);
        for (size_t i = 0; i < 3; i++) {
                char path[64];
                snprintf(path, sizeof(path), "%s/cpuset.cpus.partition", cgroups[i]);
                assert_string_equal(slurp(f->fd, path), "member");
        }
        actuator_done(&a);
}

static void test_freeze_is_thawed_by_restore(void **state)
{
        struct fixture *f = *state;
        struct actuator a, b;
        char journal[4300], buf[8];
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {
                .vm = "b", .uuid = "", .pid = 7, .group = "batch", .cgroup = "vm", .cgroup_fd = vm_fd};
        struct setting s;

        tmptree_write_string(f->fd, "vm/cgroup.freeze", "0\n");
        snprintf(journal, sizeof(journal), "%s/state", f->path);
        actuator_init(&a, false, f->fd, f->audit_fd);
        a.state_path = journal;
        actuator_freeze_setting(true, &s);
        assert_string_equal(s.file, "cgroup.freeze");
        assert_string_equal(s.value, "1");
        assert_int_equal(actuator_apply(&a, &t, &s, "freeze: host memory pressure (full) 50.00%"), 1);
        assert_string_equal(slurp(f->fd, "vm/cgroup.freeze"), "1");
        assert_non_null(strstr(slurp(f->fd, "audit.jsonl"),
                               "\"file\":\"cgroup.freeze\",\"old\":\"0\",\"new\":\"1\","
                               "\"reason\":\"freeze: host memory pressure (full) 50.00%\""));
        actuator_done(&a); /* the engine dies with the VM frozen */

        actuator_init(&b, false, f->fd, f->audit_fd);
        b.state_path = journal;
        assert_int_equal(actuator_take_over(&b), 1);
        assert_int_equal(actuator_restore(&b), 0);
        assert_string_equal(slurp(f->fd, "vm/cgroup.freeze"), "0");
        actuator_done(&b);

        struct setting thaw;
        actuator_freeze_setting(false, &thaw);
        assert_string_equal(thaw.value, "0");
        assert_true(actuator_default_value(&thaw, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "0");
        assert_true(actuator_current_value(&thaw, "2\n", 4096, buf, sizeof(buf)) < 0);
        close(vm_fd);
}

static void test_dry_run_changes_nothing_and_says_it_once(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct setting s = {.file = "cpu.weight", .controller = CGROUP_CPU, .value = "300"};
        struct actuator_target t = {.vm = "db", .pid = 7, .group = "db", .cgroup = "vm", .cgroup_fd = vm_fd};
        char *log;

        actuator_init(&a, true, f->fd, f->audit_fd);
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 0); /* decided once, logged once */
        log = stderr_capture_stop();
        assert_non_null(strstr(log, "dry-run: would write vm/cpu.weight: \"300\" (now \"100\")"));
        free(log);
        assert_string_equal(slurp(f->fd, "vm/cpu.weight"), "100\n");
        assert_int_equal(a.would_writes, 1);
        assert_int_equal(a.writes, 0);
        assert_non_null(strstr(slurp(f->fd, "audit.jsonl"),
                               "\"old\":\"100\",\"new\":\"300\",\"reason\":\"policy\",\"dry_run\":true}"));

        /* A cgroup that does not exist yet (dry-run never creates it) is compared with the kernel's defaults. */
        t.cgroup_fd = -1;
        t.cgroup = "vm2";
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        snprintf(s.value, sizeof(s.value), "100");
        assert_int_equal(actuator_apply(&a, &t, &(struct setting){.file = "cpu.weight", .value = "100"}, "p"), 1);
        actuator_done(&a);
        close(vm_fd);
}

/* memory.reclaim: a one-shot request. Written each time it is asked (never compared), audited with "old" null,
 * never an original (nothing to restore); in dry-run only logged and audited. */
static void test_request_is_one_shot(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {.vm = "db", .pid = 7, .group = "db", .cgroup = "vm", .cgroup_fd = vm_fd};
        char *log;

        tmptree_write_string(f->fd, "vm/memory.reclaim", "");
        actuator_init(&a, true, f->fd, f->audit_fd);
        stderr_capture_start();
        assert_int_equal(actuator_request(&a, &t, "memory.reclaim", "2097152", "memory: probe"), 1);
        log = stderr_capture_stop();
        assert_non_null(strstr(log, "dry-run: would write vm/memory.reclaim: \"2097152\" for VM db"));
        free(log);
        assert_string_equal(slurp(f->fd, "vm/memory.reclaim"), "");
        assert_int_equal(a.would_writes, 1);
        assert_int_equal(a.n_shadow, 0);
        actuator_done(&a);

        actuator_init(&a, false, f->fd, f->audit_fd);
        assert_int_equal(actuator_request(&a, &t, "memory.reclaim", "2097152", "memory: probe"), 1);
        assert_int_equal(actuator_request(&a, &t, "memory.reclaim", "2097152", "memory: probe"), 1);
        assert_string_equal(slurp(f->fd, "vm/memory.reclaim"), "2097152");
        assert_int_equal(a.writes, 2);
        assert_int_equal(a.n_originals, 0);
        const char *audit = slurp(f->fd, "audit.jsonl");
        assert_int_equal(count_lines(audit), 3);
        assert_non_null(strstr(audit, "\"file\":\"memory.reclaim\",\"old\":null,\"new\":\"2097152\","
                                      "\"reason\":\"memory: probe\",\"dry_run\":false}"));
        assert_non_null(
                strstr(audit, "\"old\":null,\"new\":\"2097152\",\"reason\":\"memory: probe\",\"dry_run\":true}"));

        /* A file the kernel lacks in a live cgroup is an error that names it; a cgroup not there yet is nothing to
         * do. */
        tmptree_write_string(f->fd, "vm/cgroup.controllers", "memory\n");
        stderr_capture_start();
        assert_true(actuator_request(&a, &t, "memory.bogus", "1", "x") < 0);
        log = stderr_capture_stop();
        assert_non_null(strstr(log, "vm/memory.bogus"));
        free(log);
        t.cgroup_fd = -1;
        assert_int_equal(actuator_request(&a, &t, "memory.reclaim", "4096", "x"), 0);
        assert_int_equal(actuator_restore(&a), 0);
        assert_string_equal(slurp(f->fd, "vm/memory.reclaim"), "2097152");
        close(vm_fd);
}

static void test_refused_write_is_an_error(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct setting s = {.file = "cpu.weight", .controller = CGROUP_CPU, .value = "300"};
        struct actuator_target t = {.vm = "db", .pid = 7, .group = "db", .cgroup = "vm", .cgroup_fd = vm_fd};
        char *log;
        int r;

        /* A read that fails (io.max is a directory here) is reported and nothing is written. */
        actuator_init(&a, false, f->fd, f->audit_fd);
        struct setting io = {.file = "io.max",
                             .controller = CGROUP_IO,
                             .major = 1,
                             .minor = 0,
                             .value = "1:0 rbps=1 wbps=max riops=max wiops=max"};
        stderr_capture_start();
        r = actuator_apply(&a, &t, &io, "policy");
        log = stderr_capture_stop();
        assert_true(r < 0);
        assert_non_null(strstr(log, "vm/io.max"));
        free(log);
        assert_int_equal(a.errors, 1);

        /* A vanished cgroup is not an error: the VM went away. */
        t.cgroup_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unlinkat(vm_fd, "cpu.weight", 0);
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), -ENOENT);
        assert_int_equal(a.errors, 1);
        close(t.cgroup_fd);
        actuator_done(&a);
        close(vm_fd);
}

/* A kernel without a file (no zswap, no swap accounting) in a live cgroup: the other files are written, the missing
 * one is said once, naming it and the VM, and is not an error. What was written is restored. */
static void test_missing_file_said_once(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {.vm = "db\n1", .pid = 7, .group = "db", .cgroup = "vm", .cgroup_fd = vm_fd};
        struct setting low = {.file = "memory.low", .controller = CGROUP_MEMORY, .value = "1073741824"};
        struct setting zswap = {.file = "memory.zswap.max", .controller = CGROUP_MEMORY, .value = "0"};
        struct setting lat = {
                .file = "io.latency", .controller = CGROUP_IO, .major = 254, .value = "254:0 target=25000"};
        char *log;

        tmptree_write_string(f->fd, "vm/cgroup.controllers", "cpu memory io\n");
        tmptree_write_string(f->fd, "vm/memory.low", "0\n");
        tmptree_write_string(f->fd, "vm/io.latency", "");
        actuator_init(&a, false, f->fd, f->audit_fd);
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &zswap, "policy"), 0);
        assert_int_equal(actuator_apply(&a, &t, &low, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &lat, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &zswap, "policy"), 0); /* the next tick: not said again */
        t.vm = "other";
        assert_int_equal(actuator_apply(&a, &t, &zswap, "policy"), 0);
        log = stderr_capture_stop();
        assert_non_null(strstr(log,
                               "VM db\\u000a1 (pid 7, group db): cgroup vm has no memory.zswap.max (the kernel has "
                               "no zswap limit: Linux 5.19+ with CONFIG_ZSWAP): that setting is not applied"));
        assert_null(strstr(strstr(log, "memory.zswap.max") + 1, "has no memory.zswap.max"));
        free(log);
        assert_int_equal(a.errors, 0);
        assert_int_equal(a.writes, 2);
        assert_int_equal(a.n_originals, 2);
        assert_string_equal(slurp(f->fd, "vm/memory.low"), "1073741824");
        assert_string_equal(slurp(f->fd, "vm/io.latency"), "254:0 target=25000");

        /* A cgroup whose parent does not hand it the memory controller has none of its files: not the kernel's
         * lack, and not said as such (as before: quiet, the file not written). */
        struct setting swap = {.file = "memory.swap.max", .controller = CGROUP_MEMORY, .value = "0"};
        tmptree_write_string(f->fd, "vm/cgroup.controllers", "cpu io\n");
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &swap, "policy"), -ENOENT);
        log = stderr_capture_stop();
        assert_null(strstr(log, "has no memory.swap.max"));
        free(log);
        assert_int_equal(a.errors, 0);

        /* With it, a second missing file is said too, once. */
        tmptree_write_string(f->fd, "vm/cgroup.controllers", "cpu memory io\n");
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &swap, "policy"), 0);
        log = stderr_capture_stop();
        assert_non_null(strstr(log, "VM other (pid 7, group db): cgroup vm has no memory.swap.max (the kernel does "
                                    "not account swap"));
        free(log);

        /* Restore writes back the originals: the target goes with "max". */
        assert_int_equal(actuator_restore(&a), 0);
        assert_string_equal(slurp(f->fd, "vm/memory.low"), "0");
        assert_string_equal(slurp(f->fd, "vm/io.latency"), "254:0 target=max");
        close(vm_fd);
}

/* cpuset.cpus written, and put back empty (the parent's CPUs) on restore; without the cpuset controller handed down
 * to the cgroup, quiet and not written, as for any controller; a kernel without cpu.max.burst is said once. */
static void test_apply_cpuset_and_burst(void **state)
{
        struct fixture *f = *state;
        struct actuator a;
        int vm_fd = openat(f->fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {.vm = "web", .pid = 42, .group = "web", .cgroup = "vm", .cgroup_fd = vm_fd};
        struct setting cpus = {.file = "cpuset.cpus", .controller = CGROUP_CPUSET, .value = "0"};
        struct setting mems = {.file = "cpuset.mems", .controller = CGROUP_CPUSET, .value = "0"};
        struct setting burst = {.file = "cpu.max.burst", .controller = CGROUP_CPU, .value = "20000"};
        char *log;

        struct setting quota = {.file = "cpu.max", .controller = CGROUP_CPU, .value = "50000 100000"};
        tmptree_write_string(f->fd, "vm/cgroup.controllers", "cpuset cpu memory io\n");
        tmptree_write_string(f->fd, "vm/cpuset.cpus", "\n");
        tmptree_write_string(f->fd, "vm/cpu.max", "10000 100000\n"); /* the operator's quota, below the burst */
        actuator_init(&a, false, f->fd, f->audit_fd);
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &quota, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &cpus, "policy"), 1);
        assert_int_equal(actuator_apply(&a, &t, &cpus, "policy"), 0); /* "0\n" read back is "0" */
        assert_int_equal(actuator_apply(&a, &t, &burst, "policy"), 0);
        assert_int_equal(actuator_apply(&a, &t, &burst, "policy"), 0);
        log = stderr_capture_stop();
        assert_string_equal(slurp(f->fd, "vm/cpuset.cpus"), "0");
        assert_non_null(strstr(log, "wrote vm/cpuset.cpus: \"0\" (was \"\")"));
        assert_non_null(strstr(log, "cgroup vm has no cpu.max.burst (cpu.max.burst needs Linux 5.14+)"));
        assert_null(strstr(strstr(log, "has no cpu.max.burst") + 1, "has no cpu.max.burst"));
        free(log);

        /* the cpuset controller not handed down: no cpuset files, nothing said as the kernel's lack */
        tmptree_write_string(f->fd, "vm/cgroup.controllers", "cpu memory io\n");
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &t, &mems, "policy"), -ENOENT);
        log = stderr_capture_stop();
        assert_null(strstr(log, "has no cpuset.mems"));
        free(log);
        assert_int_equal(a.errors, 0);

        /* the empty original goes through the journal as it is */
        struct statefile_contents c;
        char *line = NULL;
        size_t len = 0;
        assert_int_equal(statefile_format_original(&a.originals[1], &line, &len), 0);
        assert_non_null(strstr(line, "file=cpuset.cpus dev=0:0 controller=4 value=\n"));
        free(line);
        assert_int_equal(statefile_format(a.originals + 1, 1, &line), 0);
        assert_int_equal(statefile_parse(line, strlen(line), &c), 0);
        assert_int_equal(c.n, 1);
        assert_string_equal(c.originals[0].setting.file, "cpuset.cpus");
        assert_string_equal(c.originals[0].value, "");
        assert_int_equal(c.originals[0].setting.controller, CGROUP_CPUSET);
        statefile_contents_done(&c);
        free(line);

        /* the burst goes back before the quota: the kernel refuses a cpu.max below the burst */
        tmptree_write_string(f->fd, "vm/cpu.max.burst", "0\n");
        assert_int_equal(actuator_apply(&a, &t, &burst, "policy"), 1);
        stderr_capture_start();
        assert_int_equal(actuator_restore(&a), 0);
        log = stderr_capture_stop();
        assert_non_null(strstr(log, "restored vm/cpu.max.burst: \"0\""));
        assert_non_null(strstr(strstr(log, "restored vm/cpu.max.burst"), "restored vm/cpu.max: \"10000 100000\""));
        free(log);
        assert_string_equal(slurp(f->fd, "vm/cpu.max.burst"), "0");
        /* as a newline: a write of no bytes would not reach the kernel's handler */
        assert_string_equal(slurp(f->fd, "vm/cpuset.cpus"), "\n");
        close(vm_fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_current_values),
                cmocka_unit_test(test_plan_protection_and_latency),
                cmocka_unit_test(test_current_values_protection_and_latency),
                cmocka_unit_test_setup_teardown(test_apply_writes_once_audits_and_restores, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_originals_each_kept_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_freeze_is_thawed_by_restore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partitions_restored_children_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing_and_says_it_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_is_one_shot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused_write_is_an_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_file_said_once, setup, teardown),
                cmocka_unit_test(test_plan_burst_and_cpuset),
                cmocka_unit_test(test_current_values_burst_and_cpuset),
                cmocka_unit_test_setup_teardown(test_apply_cpuset_and_burst, setup, teardown),
                cmocka_unit_test_setup_teardown(test_give_back_after_reload, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
