/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The escapers of kernel/escape.h: text for people (log lines, table cells) stays one line that prints as it is
 * written; percent-encoding for the engine's own files reads back byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/escape.h"
#include "kernel/macro.h"
#include "kernel/utf8.h"

static void test_text(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"", ""},
                {"web-1", "web-1"},
                {"/user.slice/user-1000.slice/a b", "/user.slice/user-1000.slice/a b"}, /* a space prints */
                {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
                 "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"},
                {"a\\nb \\x1b", "a\\nb \\x1b"}, /* a backslash stays: escaped text is not escaped again */
                {"web\n<0>evil\x1b[31m", "web\\n<0>evil\\x1b[31m"},
                {"a\tb\rc", "a\\tb\\x0dc"},
                {"\x01\x1f\x7f", "\\x01\\x1f\\x7f"},
                {"\xc2\x9b"
                 "2J",
                 "\\xc2\\x9b2J"},                                                   /* C1 CSI */
                {"\xc2\x85\xc2\xa0", "\\xc2\\x85\xc2\xa0"},                         /* NEL; no-break space prints */
                {"x\xe2\x80\xa8y\xe2\x80\xa9", "x\\xe2\\x80\\xa8y\\xe2\\x80\\xa9"}, /* line, paragraph separator */
                {"gpj.\xe2\x80\xae"
                 "exe",
                 "gpj.\\xe2\\x80\\xaeexe"}, /* right-to-left override */
                {"\xe2\x81\xa6\xd8\x9c\xe2\x80\x8f", "\\xe2\\x81\\xa6\\xd8\\x9c\\xe2\\x80\\x8f"},
                {"\xff\xfe", "\\xff\\xfe"},          /* never valid */
                {"\xc0\xaf", "\\xc0\\xaf"},          /* overlong '/' */
                {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* UTF-16 surrogate */
                {"ab\xe2\x82", "ab\\xe2\\x82"},      /* cut at the end */
                {"\xe2\x82"
                 "x",
                 "\\xe2\\x82x"},        /* cut in the middle: the next character survives */
                {"\xc3\n", "\\xc3\\n"}, /* a newline is never swallowed as a continuation */
        };
        char buf[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = escape_text(cases[i].in, buf, sizeof(buf));
                if (r != (int)strlen(cases[i].out) || strcmp(buf, cases[i].out) != 0)
                        fail_msg("case %zu: got \"%s\" (r=%d), want \"%s\"", i, buf, r, cases[i].out);
                /* Exactly enough room works; less is -ENOBUFS with a prefix cut between characters. */
                size_t need = strlen(cases[i].out) + 1;
                assert_int_equal(escape_text(cases[i].in, buf, need), (int)need - 1);
                if (need > 1) {
                        assert_int_equal(escape_text(cases[i].in, buf, need - 1), -ENOBUFS);
                        assert_int_equal(strncmp(buf, cases[i].out, strlen(buf)), 0);
                        assert_true(strlen(buf) < need - 1);
                }
        }
        assert_int_equal(escape_text("x", buf, 0), -ENOBUFS);
}

/* The worst case fits ESCAPE_TEXT_SIZE, and no pair of bytes escapes to anything but printable text on one line. */
static void test_text_all_bytes(void **state)
{
        char in[4], out[ESCAPE_TEXT_SIZE(3)];

        for (unsigned a = 1; a < 256; a++)
                for (unsigned b = 0; b < 256; b++) {
                        in[0] = (char)a, in[1] = (char)b, in[2] = b ? (char)0x80 : 0, in[3] = '\0';
                        int r = escape_text(in, out, sizeof(out));
                        assert_true(r > 0);
                        for (const unsigned char *p = (const unsigned char *)out; *p;) {
                                size_t n = utf8_valid_len(p);
                                if (n == 0 || utf8_is_control(p, n))
                                        fail_msg("bytes %02x %02x 80: byte %02x left in \"%s\"", a, b, *p, out);
                                p += n;
                        }
                }
}

/* Exactly the characters the header names are controls: every code point up to U+FFFF, checked against the list. */
static void test_is_control(void **state)
{
        for (unsigned cp = 1; cp < 0x10000; cp++) {
                unsigned char s[4] = {0};
                size_t n;
                bool want = cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
                            (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

                if (cp >= 0xd800 && cp < 0xe000)
                        continue; /* surrogates are not UTF-8 */
                if (cp < 0x80)
                        s[0] = (unsigned char)cp, n = 1;
                else if (cp < 0x800)
                        s[0] = (unsigned char)(0xc0 | cp >> 6), s[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
                else
                        s[0] = (unsigned char)(0xe0 | cp >> 12), s[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f)),
                        s[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
                assert_int_equal(utf8_valid_len(s), n);
                assert_int_equal(utf8_code_point(s, n), cp);
                if (utf8_is_control(s, n) != want)
                        fail_msg("U+%04X: utf8_is_control says %d", cp, !want);
        }
}

static void test_columns(void **state)
{
        assert_int_equal(utf8_columns('a'), 1);
        assert_int_equal(utf8_columns(0xe9), 1);    /* é */
        assert_int_equal(utf8_columns(0x65e5), 2);  /* 日 */
        assert_int_equal(utf8_columns(0xac00), 2);  /* 가 */
        assert_int_equal(utf8_columns(0x1f600), 2); /* 😀 */
        assert_int_equal(utf8_columns(0x0301), 0);  /* combining acute accent */
        assert_int_equal(utf8_columns(0x200d), 0);  /* zero-width joiner */
        assert_int_equal(utf8_columns(0xfe0f), 0);  /* variation selector */
        assert_int_equal(utf8_columns(0xfffd), 1);
}

/* Every byte but NUL reads back from its percent-encoding, which is one field of plain characters. */
static void test_percent_round_trip(void **state)
{
        char in[256], enc[3 * 256 + 1], dec[256];
        int n;

        for (int i = 1; i < 256; i++)
                in[i - 1] = (char)i;
        in[255] = '\0';
        n = escape_percent(in, enc, sizeof(enc));
        assert_true(n > 0);
        assert_null(strpbrk(enc, " \t\n=\\\""));
        assert_int_equal(unescape_percent(enc, (size_t)n, dec, sizeof(dec)), 0);
        assert_string_equal(dec, in);

        assert_int_equal(unescape_percent("%4", 2, dec, sizeof(dec)), -EINVAL);
        assert_int_equal(unescape_percent("%zz", 3, dec, sizeof(dec)), -EINVAL);
        assert_int_equal(escape_percent("a b", enc, 5), -ENOBUFS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text),
                cmocka_unit_test(test_text_all_bytes),
                cmocka_unit_test(test_is_control),
                cmocka_unit_test(test_columns),
                cmocka_unit_test(test_percent_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
