/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signal recordings, which vmgov replay reads from files someone hands it: the "tick ..." and "vm ..." line
 * parsers on the input as one line, then the whole reader (magic line, line buffer, VM array) on it as a file.
 */
#include <stdio.h>

#include "fuzz.h"
#include "publish/recorder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct vm_identity id; /* 5 KiB: kept off the fuzzer's stack */
        struct vm_signals sig;
        struct host_signals host;
        uint64_t now;
        char *line;

        line = fuzz_strndup(data, size);
        if (!line)
                return 0;
        (void)recorder_parse_tick(line, &now, &host);
        if (recorder_parse_vm(line, &id, &sig) == 0)
                vm_identity_done(&id);
        free(line);

        FILE *f = fmemopen((void *)data, size, "r");
        if (f) {
                struct recorded_tick t = {0};
                unsigned lineno = 0;

                while (recorder_read_tick(f, &t, &lineno) > 0)
                        ;
                recorder_tick_done(&t);
                fclose(f);
        }
        return 0;
}
