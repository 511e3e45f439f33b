/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/cgroup: v1 hierarchy lines and the "0::" line of cgroup v2. */
#include "fuzz.h"
#include "kernel/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *path = NULL;

        if (procfs_cgroup_parse((const char *)data, size, &path) == 0)
                free(path);
        return 0;
}
