/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
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

/*
 * Whether the valid UTF-8 sequence of n bytes at s (n from utf8_valid_len) is a character that steers a terminal or
 * a reader's idea of a line rather than showing a glyph: the C0 controls (newline, ESC, ...), DEL, the C1 controls
 * U+0080..U+009F (some terminals take U+009B as CSI), the line and paragraph separators U+2028/U+2029 (a line
 * break to some viewers), and the bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E/F,
 * U+202A..U+202E, U+2066..U+2069: "Trojan Source", CVE-2021-42574), which make a line read in another order than
 * it is written. Everything that prints a hostile string escapes these.
 */
static inline bool utf8_is_control(const unsigned char *s, size_t n)
{
        switch (n) {
        case 1:
                return s[0] < 0x20 || s[0] == 0x7f;
        case 2:
                return (s[0] == 0xc2 && s[1] < 0xa0) || (s[0] == 0xd8 && s[1] == 0x9c);
        case 3:
                if (s[0] != 0xe2)
                        return false;
                if (s[1] == 0x80)
                        return s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xa8 && s[2] <= 0xae);
                return s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
        default:
                return false;
        }
}

/* The code point of the valid UTF-8 sequence of n bytes at s. */
static inline unsigned utf8_code_point(const unsigned char *s, size_t n)
{
        static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
        unsigned c = s[0] & lead_mask[n < 5 ? n : 0];

        for (size_t i = 1; i < n; i++)
                c = c << 6 | (s[i] & 0x3f);
        return c;
}

/*
 * How many terminal columns code point c takes: 2 for the wide East Asian scripts and emoji, 0 for combining marks,
 * zero-width spaces and joiners and variation selectors, 1 for the rest. The common cases of wcwidth(3), without
 * a locale; enough to keep a table's columns under their headers.
 */
static inline unsigned utf8_columns(unsigned c)
{
        static const struct {
                unsigned lo, hi, columns;
        } ranges[] = {
                {0x0300, 0x036f, 0},   {0x1100, 0x115f, 2},   {0x200b, 0x200f, 0},   {0x20d0, 0x20ff, 0},
                {0x2e80, 0x303e, 2},   {0x3041, 0x33ff, 2},   {0x3400, 0x4dbf, 2},   {0x4e00, 0x9fff, 2},
                {0xa000, 0xa4cf, 2},   {0xac00, 0xd7a3, 2},   {0xf900, 0xfaff, 2},   {0xfe00, 0xfe0f, 0},
                {0xfe30, 0xfe4f, 2},   {0xff00, 0xff60, 2},   {0xffe0, 0xffe6, 2},   {0x1f300, 0x1f64f, 2},
                {0x1f900, 0x1f9ff, 2}, {0x20000, 0x2fffd, 2}, {0x30000, 0x3fffd, 2},
        };

        for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
                if (c >= ranges[i].lo && c <= ranges[i].hi)
                        return ranges[i].columns;
        return 1;
}
