/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/stat: a comm that may hold spaces and parentheses, then the numeric fields. */
#include "fuzz.h"
#include "kernel/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct procfs_stat st;

        (void)procfs_stat_parse((const char *)data, size, &st);
        return 0;
}
