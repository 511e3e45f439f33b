/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The escapers, on any string (a VM name, an executable's name, a cgroup path: whatever a command line or /proc
 * holds), each against what its reader needs:
 *   - percent-encoding (state file, recordings, status file): only plain bytes and %XX, one field, and
 *     unescape_percent gives back the very same bytes;
 *   - escape_text (the log, the status table): printable UTF-8 on one line with no control character, and
 *     undoing its \n, \t and \xNN gives back the input (when the input holds no backslash, which it keeps as is);
 *   - the audit log's JSON: a string body with no control character that a JSON reader decodes to the input,
 *     each byte of invalid UTF-8 read as U+FFFD.
 */
#include <errno.h>
#include <stdbool.h>

#include "fuzz.h"
#include "kernel/audit.h"
#include "kernel/escape.h"
#include "kernel/utf8.h"

/* Printable UTF-8, none of it a control (utf8_is_control): what a terminal shows as it is. The C0, DEL and C1
 * bytes are checked here too without utf8_is_control, so that a mistake in it cannot hide one. */
static void check_printable(const char *out)
{
        for (const unsigned char *p = (const unsigned char *)out; *p;) {
                size_t n = utf8_valid_len(p);
                if (n == 0 || utf8_is_control(p, n) || *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] < 0xa0))
                        abort();
                p += n;
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static void check_percent(const char *s, size_t len)
{
        size_t size = 3 * len + 1;
        char *enc = malloc(size), *dec = malloc(len + 1);
        int n;

        if (!enc || !dec)
                goto out;
        n = escape_percent(s, enc, size);
        if (n < 0 || (size_t)n != strlen(enc))
                abort();
        for (const char *p = enc; *p; p++)
                if (*p == '%') {
                        if (hexval(p[1]) < 0 || hexval(p[2]) < 0)
                                abort();
                        p += 2;
                } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                             strchr("._/:-", *p)))
                        abort();
        if (unescape_percent(enc, (size_t)n, dec, len + 1) != 0 || strcmp(dec, s) != 0)
                abort();
        /* One byte short of room is refused, never cut. */
        if (n > 0 && escape_percent(s, enc, (size_t)n) != -ENOBUFS)
                abort();
out:
        free(enc);
        free(dec);
}

static void check_text(const char *s, size_t len)
{
        size_t size = ESCAPE_TEXT_SIZE(len);
        char *out = malloc(size), *back = malloc(len + 1);
        size_t k = 0;
        int n;

        if (!out || !back)
                goto out;
        n = escape_text(s, out, size);
        if (n < 0 || (size_t)n != strlen(out))
                abort();
        check_printable(out);
        /* Text that needs nothing escaped is left alone. */
        bool plain = true;
        for (const unsigned char *p = (const unsigned char *)s; *p && plain;) {
                size_t c = utf8_valid_len(p);
                plain = c > 0 && !utf8_is_control(p, c);
                p += c ? c : 1;
        }
        if (plain && strcmp(out, s) != 0)
                abort();
        /* A reader can tell every byte back, as long as no backslash of the input makes an escape ambiguous. */
        if (!strchr(s, '\\')) {
                for (const char *p = out; *p; p++) {
                        if (*p != '\\')
                                back[k++] = *p;
                        else if (p[1] == 'n' || p[1] == 't')
                                back[k++] = *++p == 'n' ? '\n' : '\t';
                        else if (p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0) {
                                back[k++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                                p += 3;
                        } else
                                abort();
                }
                back[k] = '\0';
                if (k != len || strcmp(back, s) != 0)
                        abort();
        }
        /* Too little room: -ENOBUFS and a prefix of the whole, never a cut escape. */
        if (n > 0) {
                if (escape_text(s, out, (size_t)n) != -ENOBUFS || strlen(out) >= (size_t)n)
                        abort();
                check_printable(out);
        }
out:
        free(out);
        free(back);
}

/* Append code point c as UTF-8. */
static size_t put_utf8(char *b, unsigned c)
{
        if (c < 0x80)
                return b[0] = (char)c, 1;
        if (c < 0x800)
                return b[0] = (char)(0xc0 | c >> 6), b[1] = (char)(0x80 | (c & 0x3f)), 2;
        return b[0] = (char)(0xe0 | c >> 12), b[1] = (char)(0x80 | (c >> 6 & 0x3f)), b[2] = (char)(0x80 | (c & 0x3f)),
               3;
}

static void check_json(const char *s, size_t len)
{
        size_t size = audit_json_escaped_len(s) + 1;
        char *out = malloc(size), *want = malloc(3 * len + 1), *got = malloc(3 * len + 1);
        size_t w = 0, g = 0;

        if (!out || !want || !got)
                goto out;
        if (audit_json_escape(s, out, size) != (int)size - 1)
                abort();
        check_printable(out);
        /* What a reader should get back: the input, each byte of invalid UTF-8 as U+FFFD. */
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_valid_len(p);
                if (n == 0) {
                        w += put_utf8(want + w, 0xfffd);
                        p++;
                } else {
                        memcpy(want + w, p, n);
                        w += n;
                        p += n;
                }
        }
        /* A JSON string body (RFC 8259): no raw '"', escapes only as the grammar has them. */
        for (const char *p = out; *p; p++) {
                if (*p == '"')
                        abort();
                if (*p != '\\') {
                        got[g++] = *p;
                        continue;
                }
                p++;
                if (*p == '"' || *p == '\\')
                        got[g++] = *p;
                else if (*p == 'u') {
                        unsigned c = 0;
                        for (int i = 1; i <= 4; i++) {
                                int h = hexval(p[i]);
                                if (h < 0)
                                        abort();
                                c = c * 16 + (unsigned)h;
                        }
                        if (c >= 0xd800 && c < 0xe000)
                                abort(); /* the escaper never needs a surrogate pair */
                        g += put_utf8(got + g, c);
                        p += 4;
                } else
                        abort();
        }
        if (g != w || memcmp(got, want, w) != 0)
                abort();
out:
        free(out);
        free(want);
        free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);

        if (!s)
                return 0;
        size_t len = strlen(s); /* the escapers take C strings: up to the first NUL */
        check_percent(s, len);
        check_text(s, len);
        check_json(s, len);
        free(s);
        return 0;
}
