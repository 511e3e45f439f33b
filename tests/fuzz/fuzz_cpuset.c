/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The CPU list parser (AllowedCPUs=, cpuset.cpus, /sys/devices/system/cpu/online): what parses formats back to a
 * text that parses to the same set. */
#include "fuzz.h"
#include "kernel/cpuset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cpuset set, again;
        char buf[CPUSET_MAX * 6];
        char *s;

        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        (void)cpuset_parse(s, 1024, &set);
        if (cpuset_parse(s, CPUSET_MAX, &set) == 0) {
                if (cpuset_format(&set, buf, sizeof(buf)) < 0 || cpuset_parse(buf, CPUSET_MAX, &again) != 0 ||
                    !cpuset_equal(&set, &again))
                        abort();
                (void)cpuset_format(&set, buf, 128);
        }
        free(s);
        return 0;
}
