/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A tun fd's /proc/PID/fdinfo: the "iff:" line, and the name it gives as the list of taps takes it. (The command
 * line names no tap any more; its -name/-uuid parser is fuzz_procfs_cmdline.) */
#include <errno.h>

#include "fuzz.h"
#include "act/tapdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct tapdev_list l = {0};
        char name[IFNAMSIZ];
        int r;

        r = tapdev_fdinfo_parse((const char *)data, size, name);
        if (r != 1 && r != 0 && r != -EINVAL)
                abort();
        if (r == 1) {
                /* what the parser hands on is a valid name, NUL-terminated within IFNAMSIZ */
                if (!tapdev_name_valid(name, strnlen(name, IFNAMSIZ)) || tapdev_list_add(&l, name) != 0 || l.n != 1)
                        abort();
        }
        (void)tapdev_name_valid((const char *)data, size);
        return 0;
}
