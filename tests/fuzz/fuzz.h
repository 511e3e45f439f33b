/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Shared by the libFuzzer targets (clang -fsanitize=fuzzer,address,undefined). Each target feeds its input to a
 * pure parser in exactly the shape the engine hands it over: a NUL-terminated copy for the parsers that take C
 * strings (malloc'ed to the exact size, so ASan sees a read past the terminator), the raw bytes with their length
 * for those that take (buf, len).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input; NULL when out of memory (the target then returns). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
