/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc/PID/cmdline of a QEMU process: a NUL-separated argv that someone else wrote. */
#include "fuzz.h"
#include "kernel/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qemu_cmdline c;

        (void)procfs_cmdline_parse((const char *)data, size, &c);
        return 0;
}
