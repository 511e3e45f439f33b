/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The logger is the last line of defence: whatever a caller passes it unescaped (a VM name, an executable's name, a
 * cgroup path), one call is one line, with no terminal escape and no priority but the logger's own. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/log.h"
#include "testutil.h"

static const char hostile_name[] = "web\n<0>evil\x1b[31m";
static const char hostile_exe[] = "qemu\r\x1b]0;owned\x07\xc2\x9b"
                                  "2J";
static const char hostile_cgroup[] = "/user.slice/a\n<3>b\xe2\x80\xae\xff/c";

/* What the terminal or journald would be handed: exactly `lines` lines, each ending in '\n', none with a control
 * byte, C1 or bidi override in it, each starting with one "<N>" (with_prefix) or none, and no other '<' there. */
static void assert_clean_lines(const char *text, unsigned lines, bool with_prefix)
{
        unsigned n = 0;

        for (const char *line = text; *line; n++) {
                const char *end = strchr(line, '\n');
                assert_non_null(end);
                for (const unsigned char *p = (const unsigned char *)line; p < (const unsigned char *)end; p++) {
                        if (*p < 0x20 || *p == 0x7f || *p == 0xff)
                                fail_msg("control byte %02x in line \"%.*s\"", *p, (int)(end - line), line);
                        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0)
                                fail_msg("C1 control in line \"%.*s\"", (int)(end - line), line);
                        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae)
                                fail_msg("bidi override in line \"%.*s\"", (int)(end - line), line);
                }
                if (with_prefix) {
                        assert_true(line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>');
                        assert_true(line[3] != '<');
                } else
                        assert_true(line[0] != '<');
                line = end + 1;
        }
        assert_int_equal(n, lines);
}

static void test_hostile_strings(void **state)
{
        char *out;

        log_set_prefix(1);
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        log_info("found VM %s (pid %d, %s) in cgroup %s", hostile_name, 42, hostile_exe, hostile_cgroup);
        log_warn("%s", "<0>forged at the start");
        out = stderr_capture_stop();

        assert_clean_lines(out, 2, true);
        assert_string_equal(out, "<6>found VM web\\n<0>evil\\x1b[31m (pid 42, qemu\\x0d\\x1b]0;owned\\x07\\xc2\\x9b2J) "
                                 "in cgroup /user.slice/a\\n<3>b\\xe2\\x80\\xae\\xff/c\n"
                                 "<4>\\x3c0>forged at the start\n");
        free(out);
}

/* On a terminal (no "<N>"), the message's own '<' still does not open a line. */
static void test_without_prefix(void **state)
{
        char *out;

        log_set_prefix(0);
        stderr_capture_start();
        log_err("%s", hostile_name);
        log_err("%s: %s", "<1>x", hostile_cgroup);
        out = stderr_capture_stop();
        log_set_prefix(1);

        assert_clean_lines(out, 2, false);
        assert_string_equal(out, "web\\n<0>evil\\x1b[31m\n"
                                 "\\x3c1>x: /user.slice/a\\n<3>b\\xe2\\x80\\xae\\xff/c\n");
        free(out);
}

/* A message longer than the logger's buffer, all newlines and escapes: cut, still one line, still escaped. At debug
 * the source line goes after it, through the same escaping. */
static void test_long_and_debug(void **state)
{
        char big[5000];
        char *out;

        memset(big, '\x1b', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        for (size_t i = 0; i < sizeof(big) - 1; i += 3)
                big[i] = '\n';

        stderr_capture_start();
        log_warn("cgroup %s", big);
        log_set_max_level(LOG_DEBUG);
        log_debug("exe %s", hostile_exe);
        log_set_max_level(LOG_INFO);
        log_debug("not shown %s", hostile_name);
        out = stderr_capture_stop();

        assert_clean_lines(out, 2, true);
        assert_int_equal(strncmp(out, "<4>cgroup \\n\\x1b\\x1b\\n", 22), 0);
        assert_contains(out, "\n<7>exe qemu\\x0d\\x1b]0;owned\\x07\\xc2\\x9b2J (");
        assert_contains(out, "test_log.c:");
        assert_null(strstr(out, "not shown"));
        free(out);
}

/* The *_errno helpers still return the error and print it for %m. */
static void test_errno(void **state)
{
        char *out;
        int r;

        stderr_capture_start();
        r = log_warn_errno(-ENOENT, "open %s: %m", "a\nb");
        out = stderr_capture_stop();
        assert_int_equal(r, -ENOENT);
        assert_string_equal(out, "<4>open a\\nb: No such file or directory\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hostile_strings),
                cmocka_unit_test(test_without_prefix),
                cmocka_unit_test(test_long_and_debug),
                cmocka_unit_test(test_errno),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
