/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmgov status shows strings from outside (a VM's name, uuid and cgroup from its command line and /proc, and whatever
 * the status file holds): each table row stays one line with no terminal escape, its columns where the header has
 * them; --json stays one valid line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "kernel/audit.h"
#include "publish/snapshot.h"
#include "state.h"
#include "testutil.h"

#define DAEMON_PID 812

struct fixture {
        char dir[4096], proc[4200], status[4200];
        int fd;
};

/* A status file as a running daemon (pid DAEMON_PID, "vmgov" in the fixture's /proc) would have written it: one VM
 * whose every string is hostile, and one with a name in UTF-8. */
static int setup(void **state)
{
        static const char stat_line[] = "812 (vmgov) S 1 812 812 0 -1 4194560 100 0 0 0 1 1 0 0 20 0 1 0 12345 0 0\n";
        struct fixture *f = calloc(1, sizeof(*f));
        struct snapshot_daemon d = {.pid = DAEMON_PID,
                                    .time_usec = audit_now_usec(),
                                    .interval_usec = 1000000,
                                    .ticks = 3,
                                    .runq_source = "bpf\x1b[5m",
                                    .policy = "/etc/vmgov\n<0>policy.ini"};
        struct snapshot_vm *vms = calloc(2, sizeof(*vms));
        struct snapshot_text t = {0};

        assert_non_null(f);
        assert_non_null(vms);
        f->fd = tmptree_new(f->dir, sizeof(f->dir));
        snprintf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
        snprintf(f->status, sizeof(f->status), "%s/status", f->dir);
        tmptree_write_string(f->fd, "proc/812/stat", stat_line);

        vms[0].id = (struct vm_identity){.pid = 4242, .start_time = 1, .uid = 0};
        vms[0].id.name = (char *)"web\n<0>evil\x1b[31m";
        snprintf(vms[0].id.uuid, sizeof(vms[0].id.uuid), "\x1b[2J\n<1>");
        vms[0].id.exe = (char *)"qemu\x1b]0;owned\x07";
        vms[0].id.cgroup = (char *)"/user.slice/a\n<3>b\xe2\x80\xae\xff/c";
        vms[0].st = (struct snapshot_state){.sensed = false, .decisions = 1, .decided_usec = 1};
        snprintf(vms[0].st.group, sizeof(vms[0].st.group), "w\x1b[8m");
        snprintf(vms[0].st.cgroup, sizeof(vms[0].st.cgroup), "vmgov/w/x\ny");
        snprintf(vms[0].st.cpu_max, sizeof(vms[0].st.cpu_max), "max\n100000");
        snprintf(vms[0].st.io_max, sizeof(vms[0].st.io_max),
                 "\xc2\x9b"
                 "31m");
        snprintf(vms[0].st.reason, sizeof(vms[0].st.reason), "cpu: VM web\n<0>x");

        vms[1].id = (struct vm_identity){.pid = 4243, .start_time = 1, .uid = 0};
        /* 6 characters, 10 bytes, 8 columns: 日本 are two wide characters */
        vms[1].id.name = (char *)"w\xc3\xa9"
                                 "b-\xe6\x97\xa5\xe6\x9c\xac";
        snprintf(vms[1].id.uuid, sizeof(vms[1].id.uuid), "6b29fc40-ca47-1067-b31d-00dd010662da");
        vms[1].id.cgroup = (char *)"/vmgov/web/w\xc3\xa9"
                                   "b";
        vms[1].st = (struct snapshot_state){.sensed = true, .frozen = true, .frozen_usec = 42000000};
        snprintf(vms[1].st.group, sizeof(vms[1].st.group), "web");
        snprintf(vms[1].st.cpu_weight, sizeof(vms[1].st.cpu_weight), "200");

        assert_int_equal(snapshot_format_daemon(&t, &d), 0);
        for (int i = 0; i < 2; i++)
                assert_int_equal(snapshot_format_vm(&t, &vms[i].id, &vms[i].sig, &vms[i].st), 0);
        tmptree_write(f->fd, "status", t.buf, t.len);
        free(t.buf);
        free(vms);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tmptree_remove(f->dir, f->fd);
        free(f);
        return 0;
}

static char *show(struct fixture *f, bool json)
{
        struct engine_options opt = {.roots = {.proc = f->proc}, .status_path = f->status};
        struct capture c;
        char *out;

        capture_start(&c, stdout);
        int r = status_show_live(&opt, json);
        out = capture_stop(&c);
        assert_int_equal(r, 1);
        return out;
}

/* No byte that drives a terminal: no C0 but the line ends, no DEL, no C1, no bidi override, no invalid UTF-8. */
static void assert_printable(const char *text)
{
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
                if ((*p < 0x20 && *p != '\n') || *p == 0x7f || *p == 0xff)
                        fail_msg("byte %02x at offset %td of:\n%s", *p, (const char *)p - text, text);
                if ((p[0] == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) || (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
                        fail_msg("C1 or bidi control at offset %td of:\n%s", (const char *)p - text, text);
        }
}

/* The display column where needle starts in line, which ends at '\n': one per character, and one more for each
 * of the wide characters of the fixture's names (日 and 本, U+65E5 and U+672C, each E6 xx xx). */
static int column_of(const char *line, const char *needle)
{
        const char *at = strstr(line, needle), *end = strchr(line, '\n');
        int col = 0;

        assert_non_null(at);
        assert_true(!end || at < end);
        for (const char *p = line; p < at; p++)
                col += (((unsigned char)*p & 0xc0) != 0x80) + ((unsigned char)*p == 0xe6);
        return col;
}

static const char *line_starting(const char *text, const char *start)
{
        for (const char *line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
                if (strncmp(line, start, strlen(start)) == 0)
                        return line;
        fail_msg("no line starting with \"%s\" in:\n%s", start, text);
        return NULL;
}

static void test_table(void **state)
{
        char *out = show(*state, false);
        unsigned lines = 0;

        assert_printable(out);
        for (const char *p = out; (p = strchr(p, '\n')); p++) {
                lines++;
                assert_true(p[1] != '<');
        }
        assert_true(out[0] != '<');
        /* header + blank, limits header + 2 rows, blank, "over" + header + 2 rows, blank, decisions + header + 2,
         * blank, the frozen VM */
        assert_int_equal(lines, 17);
        assert_contains(out,
                        "\n\nfrozen: VM w\xc3\xa9"
                        "b-\xe6\x97\xa5\xe6\x9c\xac (pid 4243) for 42s, thawed at the latest after FreezeMaxSec=\n");

        /* The name as the log shows it (JSON-escaped), the other strings through escape_text. */
        assert_contains(out, "4242    web\\u000a<0>evil\\u001b[31m ");
        assert_contains(out, " \\x1b[2J\\n<1> ");
        assert_contains(out, " w\\x1b[8m ");
        assert_contains(out, " /user.slice/a\\n<3>b\\xe2\\x80\\xae\\xff/c ");
        assert_contains(out, " max\\n100000 ");
        assert_contains(out, " \\xc2\\x9b31m\n");
        assert_contains(out, "policy /etc/vmgov\\n<0>policy.ini)");
        assert_contains(out, "run-queue latency from bpf\\x1b[5m\n");
        assert_contains(out, "cpu: VM web\\u000a<0>x\n");

        /* A name in UTF-8 takes as many columns as it has characters: its row's cells stay under their headers. */
        const char *header = line_starting(out, "PID     NAME"), *row = line_starting(out, "4243 ");
        assert_int_equal(column_of(row, "6b29fc40"), column_of(header, "UUID"));
        assert_int_equal(column_of(row, "web "), column_of(header, "GROUP"));
        assert_int_equal(column_of(row, "/vmgov/web/w"), column_of(header, "CGROUP"));
        assert_int_equal(column_of(row, "200"), column_of(header, "WEIGHT"));
        const char *second = strstr(out, "\nover ");
        assert_non_null(second);
        header = line_starting(second + 1, "PID ");
        row = line_starting(second + 1, "4243 ");
        assert_int_equal(column_of(row, "0.00%"), column_of(header, "CPU.PSI"));
        free(out);
}

static void test_json(void **state)
{
        char *out = show(*state, true);

        assert_printable(out);
        assert_non_null(strchr(out, '\n'));
        assert_string_equal(strchr(out, '\n'), "\n"); /* one line */
        assert_contains(out, "\"runq_source\":\"bpf\\u001b[5m\"");
        assert_contains(out, "\"decisions\":1,\"errors\":0,\"frozen\":false,");
        assert_contains(out, "\"decisions\":0,\"errors\":0,\"frozen\":true,");
        assert_contains(out, "\"policy\":\"/etc/vmgov\\u000a<0>policy.ini\"");
        assert_contains(out, "\"name\":\"web\\u000a<0>evil\\u001b[31m\"");
        assert_contains(out, "\"uuid\":\"\\u001b[2J\\u000a<1>\"");
        assert_contains(out, "\"cgroup\":\"/user.slice/a\\u000a<3>b\\u202e\\ufffd/c\"");
        assert_contains(out, "\"io.max\":\"\\u009b31m\"");
        assert_contains(out, "\"name\":\"w\xc3\xa9"
                             "b-\xe6\x97\xa5\xe6\x9c\xac\"");
        free(out);
}

/* A status file someone else could have written (others may write it, or a symlink to one) is refused: the view is
 * then sampled, and the reason said. */
static void test_forged_file_refused(void **state)
{
        struct fixture *f = *state;
        struct engine_options opt = {.roots = {.proc = f->proc}, .status_path = f->status};
        char *err;

        assert_int_equal(fchmodat(f->fd, "status", 0666, 0), 0);
        stderr_capture_start();
        assert_int_equal(status_show_live(&opt, false), 0);
        err = stderr_capture_stop();
        assert_non_null(strstr(err, "refused"));
        free(err);

        assert_int_equal(fchmodat(f->fd, "status", 0644, 0), 0);
        assert_int_equal(renameat(f->fd, "status", f->fd, "real"), 0);
        assert_int_equal(symlinkat("real", f->fd, "status"), 0);
        stderr_capture_start();
        assert_int_equal(status_show_live(&opt, false), 0);
        err = stderr_capture_stop();
        assert_non_null(strstr(err, "refused"));
        free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forged_file_refused, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
