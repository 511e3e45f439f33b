/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/escape.h"
#include "kernel/utf8.h"

static bool plain_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '/' || c == ':' || c == '-';
}

int escape_percent(const char *s, char *buf, size_t size)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = 0;

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (plain_byte(c)) {
                        if (n + 1 >= size)
                                return -ENOBUFS;
                        buf[n++] = (char)c;
                } else {
                        if (n + 3 >= size)
                                return -ENOBUFS;
                        buf[n++] = '%';
                        buf[n++] = hex[c >> 4];
                        buf[n++] = hex[c & 15];
                }
        }
        if (n >= size)
                return -ENOBUFS;
        buf[n] = '\0';
        return (int)n;
}

int escape_text(const char *str, char *buf, size_t size)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *s = (const unsigned char *)str;
        size_t n = 0;

        if (size == 0)
                return -ENOBUFS;
        while (*s) {
                size_t len = utf8_valid_len(s), step = len ? len : 1;
                char e[4 * 4];
                size_t elen = 0;

                if (*s == '\n' || *s == '\t') {
                        e[elen++] = '\\';
                        e[elen++] = *s == '\n' ? 'n' : 't';
                } else if (len == 0 || utf8_is_control(s, len))
                        for (size_t i = 0; i < step; i++) {
                                e[elen++] = '\\';
                                e[elen++] = 'x';
                                e[elen++] = hex[s[i] >> 4];
                                e[elen++] = hex[s[i] & 15];
                        }
                else {
                        memcpy(e, s, len);
                        elen = len;
                }
                if (n + elen >= size) {
                        buf[n] = '\0';
                        return -ENOBUFS;
                }
                memcpy(buf + n, e, elen);
                n += elen;
                s += step;
        }
        buf[n] = '\0';
        return (int)n;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int unescape_percent(const char *s, size_t len, char *buf, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '%') {
                        if (i + 2 >= len)
                                return -EINVAL;
                        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EINVAL;
                        c = (char)(hi * 16 + lo);
                        i += 2;
                }
                if (n + 1 >= size)
                        return -ENOBUFS;
                buf[n++] = c;
        }
        if (size == 0)
                return -ENOBUFS;
        buf[n] = '\0';
        return 0;
}

int kv_parse_u64(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

int kv_for_each(const char *line, const char *word, kv_field_cb cb, void *userdata)
{
        size_t wl = strlen(word);
        const char *p;

        if (strncmp(line, word, wl) != 0 || (line[wl] != ' ' && line[wl] != '\0'))
                return -EINVAL;
        for (p = line + wl; *p;) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                const char *eq = strchr(p, '='), *end = strchr(p, ' ');
                if (!end)
                        end = p + strlen(p);
                if (!eq || eq > end || eq == p)
                        return -EINVAL;
                int r = cb(p, eq - p, eq + 1, end - eq - 1, userdata);
                if (r < 0)
                        return r;
                p = end;
        }
        return 0;
}
