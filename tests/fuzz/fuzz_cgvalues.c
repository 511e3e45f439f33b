/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroup v2 value parsers, every one on every input: the files share one grammar ("key value" lines, "MAJ:MIN
 * key=value" lines, single values), so one corpus of real files covers them all and a mutation of one file is a
 * test case for the others. The block queue's scheduler file (act/ioweight) is read beside them.
 */
#include "act/ioweight.h"
#include "kernel/cgvalues.h"
#include "fuzz.h"
#include "kernel/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cgv_cpu_stat cpu;
        struct cgv_memory_events ev;
        struct cgv_io_stat io;
        struct cgv_memory_stat ms;
        struct cgv_io_stat_device devs[4];
        struct io_device_limit lim;
        uint64_t a, b;
        bool idle, on;
        char *s, name[32];

        s = fuzz_strndup(data, size);
        if (!s)
                return 0;

        (void)cgv_parse_u64(s, &a);
        (void)cgv_parse_u64_or_max(s, &a);
        (void)cgv_parse_cpu_max(s, &a, &b);
        (void)cgv_parse_cpu_weight(s, &a);
        (void)cgv_parse_cpu_idle(s, &idle);
        (void)cgv_parse_memory(s, &a);
        (void)cgv_parse_io_weight_default(s, &a);

        (void)cgv_parse_cpu_stat(s, &cpu);
        (void)cgv_parse_memory_events(s, &ev);
        (void)cgv_parse_io_stat(s, 8, 0, &io);
        (void)cgv_parse_io_stat(s, 254, 16, &io);
        (void)cgv_parse_io_max(s, 8, 0, &lim);
        (void)cgv_parse_io_max(s, 254, 16, &lim);
        (void)cgv_parse_io_latency(s, 8, 0, &a);
        (void)cgv_parse_io_latency(s, 254, 16, &a);
        (void)cgv_parse_io_cost_enabled(s, 8, 0, &on);
        (void)cgv_parse_io_cost_enabled(s, 254, 0, &on);
        (void)ioweight_parse_scheduler(s, name, sizeof(name));
        (void)ioweight_parse_scheduler(s, name, 4);
        (void)cgv_parse_flat_keyed(s, "anon", &a);
        (void)cgv_parse_flat_keyed(s, "usage_usec", &a);
        (void)cgv_parse_memory_stat(s, &ms);
        (void)cgv_parse_io_stat_all(s, devs, ELEMENTSOF(devs));
        (void)cgv_parse_io_stat_all(s, devs, 0);
        free(s);
        return 0;
}
