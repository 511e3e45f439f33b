/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no UTF-16 surrogates, nothing past U+10FFFF),
 * or 0 when s does not start one. s is NUL-terminated; NUL is never a continuation byte, so this reads no further
 * than the terminator. Used wherever a hostile name goes into a format that must be valid UTF-8 (JSON, Prometheus).
 */
static inline size_t utf8_valid_len(const unsigned char *s)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                n = 3;
                if (s[0] == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (s[0] == 0xed)
                        hi = 0x9f; /* UTF-16 surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                n = 4;
                if (s[0] == 0xf0)
                        lo = 0x90; /* overlong */
                else if (s[0] == 0xf4)
                        hi = 0x8f; /* past U+10FFFF */
        } else
                return 0;

        if (s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return n;
}
