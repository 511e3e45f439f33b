/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netshape's pure half (rate → tbf parameters, the settings' values, the plan) and the way its settings go through
 * the actuator (compare, dry-run shadow, originals, audit, restore, state file) with fake read/write hooks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "act/actuator.h"
#include "act/netshape.h"
#include "act/statefile.h"
#include "testutil.h"

static void test_tbf_params(void **state)
{
        struct netshape_tbf t;

        /* 100 Mbit/s: 12.5 MB/s; burst 0 → 10 ms of it; limit = 50 ms of it + burst */
        assert_int_equal(netshape_tbf_params(100000000, 0, &t), 0);
        assert_int_equal(t.rate, 12500000);
        assert_int_equal(t.burst, 125000);
        assert_int_equal(t.limit, 625000 + 125000);

        /* 1 Mbit/s: 10 ms is 1250 bytes, under the 16 KiB floor of a default burst */
        assert_int_equal(netshape_tbf_params(1000000, 0, &t), 0);
        assert_int_equal(t.rate, 125000);
        assert_int_equal(t.burst, NETSHAPE_BURST_MIN);
        assert_int_equal(t.limit, 6250 + NETSHAPE_BURST_MIN);

        /* an explicit burst is taken as it is; bits/s round down to whole bytes/s */
        assert_int_equal(netshape_tbf_params(10000007, 4000, &t), 0);
        assert_int_equal(t.rate, 1250000);
        assert_int_equal(t.burst, 4000);
        assert_int_equal(t.limit, 62500 + 4000);

        /* the largest rate libnl 3.7 takes (INT32_MAX bytes/s, 17.18 Gbit/s) */
        assert_int_equal(netshape_tbf_params(NETSHAPE_RATE_MAX_BPS, 0, &t), 0);
        assert_int_equal(t.rate, INT32_MAX);
        assert_int_equal(t.burst, INT32_MAX / 100);

        struct netshape_tbf untouched = {1, 2, 3};
        t = untouched;
        assert_int_equal(netshape_tbf_params(NETSHAPE_RATE_MAX_BPS + 8, 0, &t), -ERANGE);
        assert_int_equal(netshape_tbf_params(7, 0, &t), -EINVAL);
        assert_int_equal(netshape_tbf_params(0, 0, &t), -EINVAL);
        assert_int_equal(netshape_tbf_params(1000000, NETSHAPE_BURST_FLOOR - 1, &t), -EINVAL);
        assert_int_equal(netshape_tbf_params(1000000, UINT32_MAX, &t), -ERANGE); /* limit past 2 GiB */
        assert_memory_equal(&t, &untouched, sizeof(t));
}

static void test_burst_equal(void **state)
{
        /* read back through scheduler ticks: a few bytes off */
        assert_true(netshape_burst_equal(3750000, 200000, 199995));
        assert_true(netshape_burst_equal(1250000, 16384, 16382));
        assert_true(netshape_burst_equal(1250000, 16384, 16384));
        assert_false(netshape_burst_equal(1250000, 16384, 16000));
        /* at 10 Gbit/s, 2 µs is 2500 bytes */
        assert_true(netshape_burst_equal(1250000000, 12500000, 12497600));
        assert_false(netshape_burst_equal(1250000000, 12500000, 12490000));
}

static void test_ifb_name(void **state)
{
        char a[IFNAMSIZ], b[IFNAMSIZ];

        netshape_ifb_name("vm0", a);
        assert_string_equal(a, "ifb-501c9214"); /* FNV-1a 32 of "vm0" */
        assert_int_equal(strlen(a), 12);
        netshape_ifb_name("123456789012345", b);
        assert_int_equal(strlen(b), 12);
        assert_string_not_equal(a, b);
        netshape_ifb_name("", b);
        assert_string_equal(b, "ifb-811c9dc5"); /* the FNV offset basis */
}

static void test_value(void **state)
{
        char buf[CGV_VALUE_MAX], tap[IFNAMSIZ];
        uint64_t rate, burst;
        enum netshape_dir d;

        assert_int_equal(netshape_value_format("vmtap0", 100000000, 125000, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vmtap0 rate=100000000 burst=125000");
        assert_int_equal(netshape_value_parse(buf, tap, &rate, &burst), 0);
        assert_string_equal(tap, "vmtap0");
        assert_true(rate == 100000000 && burst == 125000);

        assert_int_equal(netshape_value_format("vmtap0", LIMIT_MAX, 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vmtap0 rate=max");
        assert_int_equal(netshape_value_parse(buf, tap, &rate, &burst), 0);
        assert_true(rate == LIMIT_MAX && burst == 0);

        assert_int_equal(netshape_value_format("vmtap0", 1, 1, buf, 10), -ENOBUFS);

        static const char *const bad[] = {
                "",
                "vmtap0",
                "vmtap0 ",
                "vmtap0 rate=",
                "vmtap0 rate=100",
                "vmtap0 rate=100 burst=",
                "vmtap0 rate=-1 burst=1",
                "vmtap0 rate=1 burst=1 x",
                "vmtap0 rate=1 burst=1x",
                "vmtap0 rate=maxx",
                "vmtap0 rate=max burst=1",
                "vmtap0 rate=99999999999999999999 burst=1",
                "vmtap0 rate=18446744073709551615 burst=1",
                "../x rate=max",
                "1234567890123456 rate=max",
                " rate=max",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (netshape_value_parse(bad[i], tap, &rate, &burst) != -EINVAL)
                        fail_msg("\"%s\" was accepted", bad[i]);

        assert_int_equal(netshape_dir_from_file("net.ingress", &d), 0);
        assert_int_equal(d, NETSHAPE_INGRESS);
        assert_int_equal(netshape_dir_from_file("net.egress", &d), 0);
        assert_int_equal(d, NETSHAPE_EGRESS);
        assert_int_equal(netshape_dir_from_file("io.max", &d), -EINVAL);
        assert_string_equal(netshape_dir_to_file(NETSHAPE_EGRESS), "net.egress");
}

static void test_plan(void **state)
{
        struct net_limits lim = {.ingress_set = true,
                                 .ingress_bps = 100000003,
                                 .egress_set = true,
                                 .egress_bps = 8000000,
                                 .egress_burst = 4000};
        struct tapdev_list taps = {.n = 2, .names = {"tap-a", "tap-b"}};
        struct setting s[NETSHAPE_SETTINGS_MAX];
        size_t n;

        assert_int_equal(netshape_plan(&lim, &taps, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 4);
        assert_string_equal(s[0].file, "net.ingress");
        assert_string_equal(s[0].ifname, "tap-a");
        assert_string_equal(s[0].value, "tap-a rate=100000000 burst=125000"); /* whole bytes/s */
        assert_string_equal(s[1].file, "net.egress");
        assert_string_equal(s[1].value, "tap-a rate=8000000 burst=4000");
        assert_string_equal(s[3].ifname, "tap-b");
        assert_int_equal(s[0].major, 0);

        lim.ingress_set = false;
        assert_int_equal(netshape_plan(&lim, &taps, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(s[0].file, "net.egress");

        assert_int_equal(netshape_plan(&lim, &taps, s, 1, &n), -ENOBUFS);
        lim.egress_bps = 0;
        assert_int_equal(netshape_plan(&lim, &taps, s, ELEMENTSOF(s), &n), -EINVAL);

        taps.n = 0;
        assert_int_equal(netshape_plan(&lim, &taps, s, ELEMENTSOF(s), &n), 0);
        assert_int_equal(n, 0);
}

/* ---- through the actuator, with a fake kernel: one value per (file, tap) */

struct fake_kernel {
        char values[4][2][CGV_VALUE_MAX]; /* tap index (last char - '0') × direction */
        int reads, writes;
        int fail_read;
};

static char *fake_slot(struct fake_kernel *k, const struct setting *s)
{
        enum netshape_dir d;
        assert_int_equal(netshape_dir_from_file(s->file, &d), 0);
        return k->values[s->ifname[strlen(s->ifname) - 1] - '0'][d];
}

static int fake_read(void *userdata, const struct setting *s, char *buf, size_t size)
{
        struct fake_kernel *k = userdata;
        k->reads++;
        if (k->fail_read)
                return k->fail_read;
        snprintf(buf, size, "%s", fake_slot(k, s));
        return 0;
}

static int fake_write(void *userdata, const struct setting *s)
{
        struct fake_kernel *k = userdata;
        char tap[IFNAMSIZ];
        uint64_t rate, burst;

        assert_int_equal(netshape_value_parse(s->value, tap, &rate, &burst), 0);
        assert_string_equal(tap, s->ifname);
        k->writes++;
        snprintf(fake_slot(k, s), CGV_VALUE_MAX, "%s", s->value);
        return 0;
}

static void fake_init(struct fake_kernel *k, struct actuator *a, bool dry_run, int audit_fd)
{
        struct actuator_net_ops ops = {.read = fake_read, .write = fake_write, .userdata = k};

        *k = (struct fake_kernel){0};
        for (int i = 0; i < 4; i++)
                for (int d = 0; d < 2; d++)
                        snprintf(k->values[i][d], CGV_VALUE_MAX, "tap%d rate=max", i);
        actuator_init(a, dry_run, -1, audit_fd);
        actuator_set_net_ops(a, &ops);
}

static const struct actuator_target target = {
        .vm = "web-1",
        .uuid = "",
        .pid = 42,
        .group = "web",
        .cgroup = "vmgov/web/web-1",
        .cgroup_fd = -1,
};

static void plan_taps(const struct net_limits *lim, size_t n_taps, struct setting *s, size_t *n)
{
        struct tapdev_list taps = {.n = n_taps, .names = {"tap0", "tap1"}};
        assert_int_equal(netshape_plan(lim, &taps, s, NETSHAPE_SETTINGS_MAX, n), 0);
}

static void test_actuator_enforce(void **state)
{
        struct net_limits lim = {
                .ingress_set = true, .ingress_bps = 20000000, .egress_set = true, .egress_bps = 10000000};
        struct setting s[NETSHAPE_SETTINGS_MAX];
        struct fake_kernel k;
        struct actuator a;
        char *log;
        size_t n;

        fake_init(&k, &a, false, -1);
        plan_taps(&lim, 2, s, &n);
        assert_int_equal(n, 4);

        stderr_capture_start();
        for (size_t i = 0; i < n; i++)
                assert_int_equal(actuator_apply(&a, &target, &s[i], "policy"), 1);
        log = stderr_capture_stop();
        assert_contains(log, "wrote net.ingress of tap tap0 (vmgov/web/web-1): \"tap0 rate=20000000 burst=25000\" "
                             "(was \"tap0 rate=max\")");
        free(log);
        assert_int_equal(k.writes, 4);
        assert_string_equal(k.values[1][NETSHAPE_EGRESS], "tap1 rate=10000000 burst=16384");
        /* one original per (tap, direction): two taps never share one */
        assert_int_equal(a.n_originals, 4);

        /* equal: nothing written */
        for (size_t i = 0; i < n; i++)
                assert_int_equal(actuator_apply(&a, &target, &s[i], "policy"), 0);
        assert_int_equal(k.writes, 4);

        /* a new rate: written; the original stays the first value seen */
        lim.egress_bps = 5000000;
        plan_taps(&lim, 2, s, &n);
        assert_int_equal(actuator_apply(&a, &target, &s[1], "law"), 1);
        assert_int_equal(a.n_originals, 4);

        /* the tap is gone: debug, not an error */
        k.fail_read = -ENODEV;
        assert_int_equal(actuator_apply(&a, &target, &s[0], "policy"), -ENODEV);
        assert_int_equal(a.errors, 0);
        k.fail_read = -EBUSY; /* someone else's qdisc: an error */
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &target, &s[0], "policy"), -EBUSY);
        log = stderr_capture_stop();
        assert_contains(log, "read net.ingress of tap tap0");
        free(log);
        assert_int_equal(a.errors, 1);
        k.fail_read = 0;

        /* restore: every direction of every tap back to "rate=max" */
        assert_int_equal(actuator_restore(&a), 0);
        for (int i = 0; i < 2; i++)
                for (int d = 0; d < 2; d++)
                        assert_non_null(strstr(k.values[i][d], " rate=max"));
        actuator_done(&a);
}

static void test_actuator_dry_run(void **state)
{
        struct net_limits lim = {.egress_set = true, .egress_bps = 10000000};
        struct setting s[NETSHAPE_SETTINGS_MAX];
        struct fake_kernel k;
        struct actuator a;
        char path[4096], *log, audit[4096] = "";
        int dir_fd = tmptree_new(path, sizeof(path)), audit_fd;
        size_t n;

        audit_fd = openat(dir_fd, "audit.jsonl", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(audit_fd >= 0);
        fake_init(&k, &a, true, audit_fd);
        plan_taps(&lim, 1, s, &n);
        assert_int_equal(n, 1);

        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &target, &s[0], "policy"), 1);
        assert_int_equal(actuator_apply(&a, &target, &s[0], "policy"), 0); /* logged once, as it would be done once */
        log = stderr_capture_stop();
        assert_contains(log, "dry-run: would write net.egress of tap tap0 (vmgov/web/web-1): \"tap0 rate=10000000 "
                             "burst=16384\" (now \"tap0 rate=max\")");
        free(log);
        assert_int_equal(k.writes, 0);
        assert_int_equal(a.n_originals, 0);
        assert_int_equal(a.would_writes, 1);
        assert_true(pread(audit_fd, audit, sizeof(audit) - 1, 0) > 0);
        assert_contains(audit, "\"file\":\"net.egress\",\"old\":\"tap0 rate=max\",\"new\":\"tap0 rate=10000000 "
                               "burst=16384\",\"reason\":\"policy\",\"dry_run\":true");
        actuator_done(&a);
        close(audit_fd);
        tmptree_remove(path, dir_fd);
}

static void test_actuator_no_ops(void **state)
{
        struct net_limits lim = {.egress_set = true, .egress_bps = 10000000};
        struct setting s[NETSHAPE_SETTINGS_MAX];
        struct actuator a;
        size_t n;

        actuator_init(&a, false, -1, -1);
        plan_taps(&lim, 1, s, &n);
        stderr_capture_start();
        assert_int_equal(actuator_apply(&a, &target, &s[0], "policy"), -EOPNOTSUPP);
        free(stderr_capture_stop());
        assert_int_equal(a.n_originals, 0);
        actuator_done(&a);
}

static void test_statefile(void **state)
{
        struct original in[2] = {
                {.cgroup = (char *)"vmgov/web/web-1",
                 .setting = {.file = "net.egress", .ifname = "tap0"},
                 .value = (char *)"tap0 rate=max"},
                {.cgroup = (char *)"vmgov/web/web-1", .setting = {.file = "cpu.max"}, .value = (char *)"max 100000"},
        };
        struct statefile_contents c;
        char *text;

        assert_int_equal(statefile_format(in, 2, &text), 0);
        assert_contains(text, " file=net.egress dev=0:0 controller=0 ifname=tap0 value=tap0%20rate%3Dmax\n");
        assert_int_equal(statefile_parse(text, strlen(text), &c), 0);
        free(text);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.n_bad, 0);
        assert_string_equal(c.originals[0].setting.ifname, "tap0");
        assert_string_equal(c.originals[0].value, "tap0 rate=max");
        assert_string_equal(c.originals[1].setting.ifname, "");
        statefile_contents_done(&c);

        /* a net.* line without a valid tap, or an ifname on a cgroup file: refused (skipped, and named) */
        static const char *const bad[] = {
                "vmgov-state 2\noriginal cgroup=a file=net.egress dev=0:0 controller=0 value=x\n",
                "vmgov-state 2\noriginal cgroup=a file=net.egress dev=0:0 controller=0 ifname=a/b value=x\n",
                "vmgov-state 2\noriginal cgroup=a file=cpu.max dev=0:0 controller=0 ifname=tap0 value=max\n",
                "vmgov-state 2\noriginal cgroup=a file=net.other dev=0:0 controller=0 ifname=tap0 value=x\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(statefile_parse(bad[i], strlen(bad[i]), &c), 0);
                if (c.n != 0 || c.n_bad != 1 || c.bad_lines[0] != 2)
                        fail_msg("accepted: %s", bad[i]);
                statefile_contents_done(&c);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tbf_params),
                cmocka_unit_test(test_burst_equal),
                cmocka_unit_test(test_ifb_name),
                cmocka_unit_test(test_value),
                cmocka_unit_test(test_plan),
                cmocka_unit_test(test_actuator_enforce),
                cmocka_unit_test(test_actuator_dry_run),
                cmocka_unit_test(test_actuator_no_ops),
                cmocka_unit_test(test_statefile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
