/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy value parsers (sizes, bandwidths, bit rates, percentages, durations, integers, booleans). */
#include "fuzz.h"
#include "kernel/units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint64_t v;
        bool b;
        char *s;

        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        (void)units_is_infinity(s);
        (void)units_parse_size(s, &v);
        (void)units_parse_size_si(s, &v);
        (void)units_parse_bitrate(s, &v);
        (void)units_parse_percent(s, UNITS_PERMYRIAD_100, &v);
        (void)units_parse_percent(s, UINT64_MAX, &v);
        (void)units_parse_memory_limit(s, 8ULL << 30, &v);
        (void)units_parse_memory_limit(s, UINT64_MAX, &v);
        (void)units_parse_duration(s, &v);
        (void)units_parse_uint_range(s, 1, 10000, &v);
        (void)units_parse_uint_range(s, 0, UINT64_MAX, &v);
        (void)units_parse_bool(s, &b);
        free(s);
        return 0;
}
