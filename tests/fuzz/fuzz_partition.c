/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpuset.cpus.partition as the kernel writes it: what parses, formatted back in the kernel's form, parses the same.
 * The input up to its first NUL and after it is also a (tree root, VM cgroup) pair for the chain's plan, whose
 * writes must stay on the tree root and the group cgroup below it. */
#include <stdio.h>

#include "act/partition.h"
#include "fuzz.h"

static void readback(const char *s)
{
        struct partition_readback rb, again;
        char text[sizeof(rb.reason) + 32];

        if (partition_readback_parse(s, &rb) != 0)
                return;
        if (rb.valid && rb.reason[0])
                abort();
        if (strlen(rb.reason) == sizeof(rb.reason) - 1)
                return; /* cut: does not round-trip */
        snprintf(text, sizeof(text), "%s%s%s%s%s\n", partition_mode_value(rb.mode), rb.valid ? "" : " invalid",
                 rb.reason[0] ? " (" : "", rb.reason, rb.reason[0] ? ")" : "");
        if (partition_readback_parse(text, &again) != 0 || again.mode != rb.mode || again.valid != rb.valid ||
            strcmp(again.reason, rb.reason) != 0)
                abort();
}

static void plan(const char *root, const char *vm)
{
        struct partition_step steps[PARTITION_STEPS_MAX];
        struct partition_chain chain = {};
        size_t n, root_len = strlen(root);

        cpuset_add(&chain.root_cpus, 1);
        cpuset_add(&chain.group_cpus, 1);
        if (partition_plan(&chain, CPU_PARTITION_ISOLATED, root, vm, steps, &n) != 0)
                return;
        if (n != PARTITION_STEPS_MAX || strcmp(steps[0].cgroup, root) != 0 ||
            strncmp(steps[2].cgroup, root, root_len) != 0 || steps[2].cgroup[root_len] != '/' ||
            strchr(steps[2].cgroup + root_len + 1, '/') || strncmp(vm, steps[2].cgroup, strlen(steps[2].cgroup)) != 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);

        if (!s)
                return 0;
        readback(s);
        size_t first = strlen(s);
        if (first < size)
                plan(s, s + first + 1);
        free(s);
        return 0;
}
