/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A pressure file (cpu.pressure, /proc/pressure/io, ...), and interval pressure from two parses of it. */
#include "fuzz.h"
#include "sense/psi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct psi_resource res, prev = {};
        struct pressure p;
        char *s;

        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        if (psi_parse(s, &res) == 0) {
                psi_interval(&prev, &res, 1000000, &p);
                psi_interval(&res, &prev, 1000000, &p);
                psi_interval(&prev, &res, 0, &p);
        }
        free(s);
        return 0;
}
