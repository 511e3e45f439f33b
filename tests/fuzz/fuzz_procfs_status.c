/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/status: the "Uid:" line. */
#include "fuzz.h"
#include "kernel/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uid_t uid;

        (void)procfs_status_parse_uid((const char *)data, size, &uid);
        return 0;
}
