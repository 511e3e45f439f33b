/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/self/mountinfo (finding cgroup2 and the v1 bindings), and the cgroup.controllers list. */
#include "kernel/cgroupfs.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cgroup_mount m;
        char *text;

        text = fuzz_strndup(data, size);
        if (!text)
                return 0;
        if (cgroupfs_parse_mountinfo(text, &m) == 0)
                cgroupfs_parse_controllers(text, &m);
        free(text);
        return 0;
}
