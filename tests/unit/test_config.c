/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The INI policy loader: what an operator sees for good and broken policies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/config.h"
#include "policy/policy.h"

#define GiB (1024ULL * 1024 * 1024)

static int fake_resolve_device(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata)
{
        if (strcmp(path, "/dev/vda") == 0) {
                *ret_major = 254;
                *ret_minor = 0;
                return 0;
        }
        if (strcmp(path, "/dev/null") == 0)
                return -ENOTBLK;
        return -ENOENT;
}

static int fake_resolve_user(const char *name, unsigned *ret_uid, void *userdata)
{
        if (strcmp(name, "qemu") == 0) {
                *ret_uid = 64055;
                return 0;
        }
        return -ENOENT;
}

static const struct config_env env = {
        .physical_memory = 16 * GiB,
        .resolve_device = fake_resolve_device,
        .resolve_user = fake_resolve_user,
};

static struct policy *load_ok(const char *text)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        int r = config_load_string("test.ini", text, &env, &p, &e);

        if (r < 0)
                fail_msg("unexpected error %d: %s:%u: %s", r, e.file, e.line, e.message);
        assert_non_null(p);
        return p;
}

/* Load must fail; returns "file:line: message" for the caller to check. */
static const char *load_err(const char *text)
{
        static char buf[1200];
        struct config_error e = {0};
        struct policy *p = NULL;
        int r = config_load_string("test.ini", text, &env, &p, &e);

        assert_int_equal(r, -EINVAL);
        assert_null(p);
        config_error_format(&e, buf, sizeof(buf));
        return buf;
}

static void assert_has_prefix(const char *s, const char *prefix)
{
        if (strncmp(s, prefix, strlen(prefix)) != 0)
                fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

static void test_full_policy(void **state)
{
        struct policy *p = load_ok("; a shipped policy\n"
                                   "[engine]\n"
                                   "Interval = 2s\n"
                                   "CgroupRoot = /sys/fs/cgroup/vmgov/\n"
                                   "AuditLog = /var/log/vmgov/audit.jsonl\n"
                                   "DefaultGroup = other\n"
                                   "\n"
                                   "[group web]\n"
                                   "MatchName = web-* www-*   ; two globs\n"
                                   "Class = latency\n"
                                   "CPUWeight = 200\n"
                                   "CPUQuota = 150%\n"
                                   "MemoryHigh = 4G\n"
                                   "MemoryMax = 50%\n"
                                   "IOWeight = 300\n"
                                   "IOReadBandwidthMax = /dev/vda 50M\n"
                                   "IOWriteBandwidthMax = /dev/vda 10M\n"
                                   "IOReadIOPSMax = 8:16 1000\n"
                                   "\n"
                                   "[group other]\n"
                                   "Class = batch\n"
                                   "CPUWeight = idle\n"
                                   "CPUQuota = 20%\n"
                                   "CPUQuotaPeriodSec = 50ms\n"
                                   "MemoryHigh = infinity\n");

        assert_int_equal(p->engine.interval_usec, 2000000);
        assert_string_equal(p->engine.cgroup_root, "/sys/fs/cgroup/vmgov");
        assert_string_equal(p->engine.audit_log, "/var/log/vmgov/audit.jsonl");
        assert_string_equal(p->engine.default_group, "other");
        assert_int_equal(p->engine.n_qemu_exe, 2);
        assert_string_equal(p->engine.qemu_exe[0], "qemu-system-*");
        assert_int_equal(p->n_groups, 2);

        const struct group_policy *web = &p->groups[0];
        assert_string_equal(web->name, "web");
        assert_int_equal(web->line, 8);
        assert_int_equal(web->n_match_name, 2);
        assert_string_equal(web->match_name[1], "www-*");
        assert_int_equal(web->class, VM_CLASS_LATENCY);
        assert_true(web->limits.cpu_weight_set);
        assert_int_equal(web->limits.cpu_weight, 200);
        /* systemd's translation: 150% of one CPU per 100 ms period. */
        assert_true(web->limits.cpu_max_set);
        assert_int_equal(web->limits.cpu_quota_usec, 150000);
        assert_int_equal(web->limits.cpu_period_usec, 100000);
        assert_int_equal(web->limits.memory_high, 4 * GiB);
        assert_int_equal(web->limits.memory_max, 8 * GiB);
        assert_int_equal(web->limits.io_weight, 300);
        assert_int_equal(web->limits.n_io_devices, 2);
        assert_int_equal(web->limits.io_devices[0].major, 254);
        assert_int_equal(web->limits.io_devices[0].rbps, 50000000);
        assert_int_equal(web->limits.io_devices[0].wbps, 10000000);
        assert_true(web->limits.io_devices[0].riops == LIMIT_MAX);
        assert_int_equal(web->limits.io_devices[1].major, 8);
        assert_int_equal(web->limits.io_devices[1].minor, 16);
        assert_int_equal(web->limits.io_devices[1].riops, 1000);

        const struct group_policy *other = &p->groups[1];
        assert_int_equal(other->class, VM_CLASS_BATCH);
        assert_true(other->limits.cpu_idle);
        assert_false(other->limits.cpu_weight_set);
        assert_int_equal(other->limits.cpu_quota_usec, 10000); /* 20% of 50 ms */
        assert_int_equal(other->limits.cpu_period_usec, 50000);
        assert_true(other->limits.memory_high == LIMIT_MAX);
        assert_false(other->limits.memory_max_set);
        policy_free(p);
}

static void test_defaults(void **state)
{
        struct policy *p = load_ok("[engine]\n");

        assert_int_equal(p->engine.interval_usec, ENGINE_INTERVAL_DEFAULT_USEC);
        assert_null(p->engine.cgroup_root); /* the engine puts it beneath the cgroup2 mount it finds */
        assert_null(p->engine.default_group);
        assert_null(p->engine.audit_log);
        assert_int_equal(p->engine.n_trusted_paths, 0); /* only root's executables */
        assert_false(p->engine.manage_libvirt);         /* libvirt's VMs are left alone */
        assert_int_equal(p->n_groups, 0);
        policy_free(p);
}

static void test_quota_translation(void **state)
{
        static const struct {
                const char *quota, *period;
                unsigned long long expect_quota, expect_period;
        } cases[] = {
                {"150%", NULL, 150000, 100000},
                {"20%", NULL, 20000, 100000},
                {"100%", NULL, 100000, 100000},
                {"400%", NULL, 400000, 100000},
                /* A quota under 1 ms would be refused by the kernel: systemd stretches the period instead. */
                {"0.5%", NULL, 1000, 200000},
                {"12.5%", "1s", 125000, 1000000},
                {"200%", "10ms", 20000, 10000},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[256];
                snprintf(text, sizeof(text), "[engine]\nDefaultGroup = g\n[group g]\nCPUQuota = %s\n%s%s%s",
                         cases[i].quota, cases[i].period ? "CPUQuotaPeriodSec = " : "",
                         cases[i].period ? cases[i].period : "", cases[i].period ? "\n" : "");
                struct policy *p = load_ok(text);
                const struct limits *lim = &p->groups[0].limits;
                if (lim->cpu_quota_usec != cases[i].expect_quota || lim->cpu_period_usec != cases[i].expect_period)
                        fail_msg("CPUQuota=%s: cpu.max \"%llu %llu\", expected \"%llu %llu\"", cases[i].quota,
                                 (unsigned long long)lim->cpu_quota_usec, (unsigned long long)lim->cpu_period_usec,
                                 cases[i].expect_quota, cases[i].expect_period);
                policy_free(p);
        }
}

static void test_errors_name_file_and_line(void **state)
{
        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"[engine]\nBogus = 1\n", "test.ini:2: unknown key Bogus= in [engine]"},
                {"[group a]\nMatchName = a\nCPUWeight = 0\n", "test.ini:3: CPUWeight=0: expected an integer"},
                {"[group a]\nMatchName = a\nCPUWeight = 10001\n", "test.ini:3: CPUWeight=10001"},
                {"[group a]\nMatchName = a\nCPUWeight = 100\nCPUWeight = 200\n",
                 "test.ini:4: CPUWeight= is already set at test.ini:3"},
                {"[group a]\nMatchName = a\nMemoryHigh = 4X\n", "test.ini:3: MemoryHigh=4X"},
                {"[group a]\nMatchName = a\nMemoryHigh = 150%\n", "test.ini:3: MemoryHigh=150%: out of range"},
                {"[group a]\nMatchName = a\nCPUQuota = 0%\n", "test.ini:3: CPUQuota=0%"},
                {"[group a]\nMatchName = a\nCPUQuota = 150\n", "test.ini:3: CPUQuota=150"},
                {"[group a]\nMatchName = a\nCPUQuotaPeriodSec = 2s\nCPUQuota = 10%\n",
                 "test.ini:3: CPUQuotaPeriodSec=2s"},
                {"[group a]\nMatchName = a\nCPUQuotaPeriodSec = 10ms\n",
                 "test.ini:1: [group a]: CPUQuotaPeriodSec= needs CPUQuota="},
                {"[group a]\nMatchName = a\nIOReadBandwidthMax = /dev/sdz 1M\n",
                 "test.ini:3: IOReadBandwidthMax=: device \"/dev/sdz\": No such file or directory"},
                {"[group a]\nMatchName = a\nIOReadBandwidthMax = /dev/null 1M\n",
                 "test.ini:3: IOReadBandwidthMax=: device \"/dev/null\": not a block device"},
                {"[group a]\nMatchName = a\nIOReadBandwidthMax = /dev/vda\n",
                 "test.ini:3: IOReadBandwidthMax=/dev/vda"},
                {"[group a]\nMatchName = a\nIOReadBandwidthMax = /dev/vda 1M\nIOReadBandwidthMax = /dev/vda 2M\n",
                 "test.ini:4: IOReadBandwidthMax= for /dev/vda is already set at test.ini:3"},
                {"[group a]\nMatchName = a\nIOReadBandwidthMax = vda 1M\n", "test.ini:3: IOReadBandwidthMax=: device"},
                {"[group a]\nMatchName = a\nClass = fast\n", "test.ini:3: Class=fast: expected latency"},
                {"[group a]\nMatchName = a\nPlacement = there\n", "test.ini:3: Placement=there"},
                {"[group a]\nMatchUser = nobody-here\n", "test.ini:2: MatchUser=: unknown user \"nobody-here\""},
                {"[group a]\nMatchName =\n", "test.ini:2: MatchName= has no value"},
                {"[groups a]\n", "test.ini:1: unknown section [groups a]"},
                {"[group a/../b]\n", "test.ini:1: invalid group name \"a/../b\""},
                {"[group a]\nMatchName = a\n[group a]\n", "test.ini:3: group a is already defined at test.ini:1"},
                {"[group a]\n", "test.ini:1: [group a] has no Match*= rule and is not the DefaultGroup="},
                {"[engine]\nDefaultGroup = nope\n", "test.ini:2: DefaultGroup=nope: no [group nope] is defined"},
                {"[engine]\nInterval = 10ms\n", "test.ini:2: Interval=10ms"},
                {"[engine]\nCgroupRoot = relative/path\n", "test.ini:2: CgroupRoot= must be an absolute path"},
                {"[engine]\nCgroupRoot = /sys/fs/cgroup/../etc\n", "test.ini:2: CgroupRoot= must not"},
                {"[engine]\nDryRun = perhaps\n", "test.ini:2: DryRun=perhaps"},
                {"[engine]\nQemuTrustedPaths = /opt/qemu bin/qemu\n",
                 "test.ini:2: QemuTrustedPaths=: \"bin/qemu\" is not an absolute path"},
                {"[engine]\nQemuTrustedPaths = //\n",
                 "test.ini:2: QemuTrustedPaths=: \"/\" would trust every executable"},
                {"[engine]\nQemuTrustedPaths = /opt/../tmp\n",
                 "test.ini:2: QemuTrustedPaths=: \"/opt/../tmp\" is not a plain path"},
                {"[engine]\nQemuTrustedPaths = /opt//q\n", "test.ini:2: QemuTrustedPaths=: \"/opt//q\" is not a plain"},
                {"[engine]\nQemuTrustedPaths = /a\nqemutrustedpaths = /b\n",
                 "test.ini:3: qemutrustedpaths= is already set at test.ini:2"},
                {"[engine]\nManageLibvirt = sometimes\n", "test.ini:2: ManageLibvirt=sometimes: expected yes or no"},
                {"[group a]\nMatchName = a\nManageLibvirt = yes\n",
                 "test.ini:3: unknown key ManageLibvirt= in [group a]"},
                {"Interval = 1s\n", "test.ini:1: Interval= outside of any section"},
                {"[engine]\nInterval 1s\n", "test.ini:2: expected \"Key = value\""},
                {"[engine\n", "test.ini:1: section header without a closing ']'"},
                {"[engine]\nDryRun = yes\n  Interval = 1s\n", "test.ini:3: indented line"},
                {"[engine]\nDry:Run = yes\n", "test.ini:2: ':' in a key name"},
                {"[group a]\nMatchName = a\nMemoryHigh = 8G\nMemoryMax = 4G\n",
                 "test.ini:1: [group a]: MemoryHigh= is above MemoryMax="},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *msg = load_err(cases[i].text);
                assert_has_prefix(msg, cases[i].expect);
        }
}

static void test_long_lines_and_names_refused(void **state)
{
        char text[1024];

        /* inih would cut this line at 199 characters and load a different value. */
        snprintf(text, sizeof(text), "[group a]\nMatchName = %0250d\n", 0);
        assert_has_prefix(load_err(text), "test.ini:2: line is 262 characters long, at most 198");

        snprintf(text, sizeof(text), "[group %060d]\n", 1);
        assert_has_prefix(load_err(text), "test.ini:1: section name is longer than 49 characters");

        snprintf(text, sizeof(text), "[engine]\nK%060d = 1\n", 1);
        assert_has_prefix(load_err(text), "test.ini:2: key name is longer than 49 characters");

        /* The longest group name that fits. */
        snprintf(text, sizeof(text), "[group a%042d]\nMatchName = x\n", 1);
        policy_free(load_ok(text));
}

static void test_comments_blank_lines_crlf(void **state)
{
        struct policy *p = load_ok("# comment\r\n"
                                   "; another\r\n"
                                   "\r\n"
                                   "   \r\n"
                                   "   ; indented comment is fine\r\n"
                                   "[engine]\r\n"
                                   "Interval = 500ms ; inline comment\r\n");
        assert_int_equal(p->engine.interval_usec, 500000);
        policy_free(p);
}

static void test_nul_byte_refused(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        char path[] = "/tmp/vmgov-test-XXXXXX";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "[engine]\n\0x", 11), 11);
        close(fd);
        assert_int_equal(config_load(path, &env, &p, &e), -EINVAL);
        assert_string_equal(e.message, "contains a NUL byte: not a text file");
        unlink(path);
}

static void test_owner_and_mode(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        char path[] = "/tmp/vmgov-test-XXXXXX", msg[1200], expect[1200];
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, "[engine]\n", 9), 9);
        close(fd);
        assert_int_equal(config_load(path, &env, &p, &e), 0);
        policy_free(p);

        assert_int_equal(chmod(path, 0664), 0);
        assert_int_equal(config_load(path, &env, &p, &e), -EINVAL);
        config_error_format(&e, msg, sizeof(msg));
        snprintf(expect, sizeof(expect), "%s: writable by group or others: refusing it (chmod go-w %s)", path, path);
        assert_string_equal(msg, expect);
        unlink(path);
}

static void test_directory_in_lexical_order(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        char msg[1200];

        assert_int_equal(config_load(FIXTURES_DIR "/policy/good.d", &env, &p, &e), 0);
        assert_int_equal(p->n_groups, 2);
        /* 10-web.ini sorts before 20-batch.ini, so web is matched first. */
        assert_string_equal(p->groups[0].name, "web");
        assert_string_equal(p->groups[1].name, "batch");
        assert_string_equal(p->groups[1].file, FIXTURES_DIR "/policy/good.d/20-batch.ini");
        assert_int_equal(p->engine.interval_usec, 5000000);
        policy_free(p);

        assert_int_equal(config_load(FIXTURES_DIR "/policy/bad.d", &env, &p, &e), -EINVAL);
        config_error_format(&e, msg, sizeof(msg));
        assert_string_equal(msg,
                            FIXTURES_DIR "/policy/bad.d/20-dup.ini:3: group web is already defined at " FIXTURES_DIR
                                         "/policy/bad.d/10-web.ini:4");
}

static void test_missing_file(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        char msg[1200];

        assert_int_equal(config_load("/nonexistent/policy.ini", &env, &p, &e), -ENOENT);
        config_error_format(&e, msg, sizeof(msg));
        assert_string_equal(msg, "/nonexistent/policy.ini: cannot read: No such file or directory");
        assert_int_equal(config_load(FIXTURES_DIR "/policy/empty.d", &env, &p, &e), -EINVAL);
        assert_string_equal(e.message, "no *.ini files in the directory");
}

static void test_shipped_default_policy_loads(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        char msg[1200];
        int r = config_load(FIXTURES_DIR "/../../policies/default.ini", &env, &p, &e);

        config_error_format(&e, msg, sizeof(msg));
        if (r < 0)
                fail_msg("default.ini: %s", msg);
        assert_true(p->n_groups >= 1);
        policy_free(p);
}

static struct vm_identity vm(const char *name, const char *uuid, const char *exe, uid_t uid)
{
        struct vm_identity v = {.pid = 100, .uid = uid};
        snprintf(v.uuid, sizeof(v.uuid), "%s", uuid);
        v.name = name[0] ? (char *)name : NULL; /* borrowed: never vm_identity_done()'d */
        v.exe = exe[0] ? (char *)exe : NULL;
        return v;
}

static void test_match_first_wins_then_default(void **state)
{
        struct policy *p = load_ok("[engine]\n"
                                   "DefaultGroup = rest\n"
                                   "[group web]\n"
                                   "MatchName = web-*\n"
                                   "[group db]\n"
                                   "MatchName = web-db* db-*\n"
                                   "[group pinned]\n"
                                   "MatchUUID = 6B29FC40-CA47-1067-B31D-00DD010662DA\n"
                                   "[group kvm]\n"
                                   "MatchExe = qemu-kvm\n"
                                   "MatchUser = qemu 0\n"
                                   "[group rest]\n"
                                   "Class = batch\n");
        struct vm_identity v;

        v = vm("web-db1", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match(p, &v)->name, "web"); /* first in file order */
        v = vm("db-1", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match(p, &v)->name, "db");
        v = vm("", "6b29fc40-ca47-1067-b31d-00dd010662da", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match(p, &v)->name, "pinned");
        v = vm("x", "", "qemu-kvm", 64055);
        assert_string_equal(policy_match(p, &v)->name, "kvm");
        v = vm("x", "", "qemu-kvm", 1000); /* every rule of a group must hold: not kvm; and rest is root's only */
        assert_null(policy_match(p, &v));
        v = vm("x", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match(p, &v)->name, "rest");

        assert_true(policy_is_qemu_exe(p, "qemu-system-x86_64"));
        assert_true(policy_is_qemu_exe(p, "qemu-kvm"));
        assert_false(policy_is_qemu_exe(p, "bash"));
        policy_free(p);

        p = load_ok("[group web]\nMatchName = web-*\n");
        v = vm("other", "", "qemu-system-x86_64", 0);
        assert_null(policy_match(p, &v)); /* no default group: unmanaged */
        policy_free(p);
}

static void test_trusted_paths(void **state)
{
        struct policy *p = load_ok("[engine]\n"
                                   "QemuTrustedPaths = /opt/qemu/ /usr/local/bin/qemu-system-x86_64\n"
                                   "ManageLibvirt = yes\n");

        assert_int_equal(p->engine.n_trusted_paths, 2);
        assert_string_equal(p->engine.trusted_paths[0], "/opt/qemu"); /* one spelling */
        assert_string_equal(p->engine.trusted_paths[1], "/usr/local/bin/qemu-system-x86_64");
        assert_true(p->engine.manage_libvirt);

        /* A directory vouches for what is beneath it, by whole components; a file for itself. */
        assert_true(policy_path_trusted(p, "/opt/qemu"));
        assert_true(policy_path_trusted(p, "/opt/qemu/bin/qemu-system-x86_64"));
        assert_false(policy_path_trusted(p, "/opt/qemux/qemu-system-x86_64"));
        assert_false(policy_path_trusted(p, "/opt"));
        assert_true(policy_path_trusted(p, "/usr/local/bin/qemu-system-x86_64"));
        assert_false(policy_path_trusted(p, "/usr/local/bin/qemu-system-x86_64.old"));
        assert_false(policy_path_trusted(p, "/usr/local/bin/python3"));
        policy_free(p);

        p = load_ok("[engine]\n");
        assert_false(policy_path_trusted(p, "/usr/bin/qemu-system-x86_64"));
        policy_free(p);
}

/* Another user's QEMU is governed only by a group whose MatchUser= names that user. */
static void test_owner_rule(void **state)
{
        struct policy *p = load_ok("[engine]\n"
                                   "DefaultGroup = rest\n"
                                   "[group web]\n"
                                   "MatchName = web-*\n"
                                   "[group alice]\n"
                                   "MatchName = web-*\n"
                                   "MatchUser = 1000\n"
                                   "[group rest]\n"
                                   "Class = batch\n");
        enum policy_verdict why = POLICY_MANAGED;
        struct vm_identity v;

        v = vm("web-1", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match_why(p, &v, &why)->name, "web");
        assert_int_equal(why, POLICY_MANAGED);
        v = vm("other", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match_why(p, &v, &why)->name, "rest");

        /* uid 1000: web has no MatchUser=, so alice, which names it, takes the VM. */
        v = vm("web-1", "", "qemu-system-x86_64", 1000);
        assert_string_equal(policy_match_why(p, &v, &why)->name, "alice");
        assert_int_equal(why, POLICY_MANAGED);
        /* uid 1000 by a name only web and rest would take: neither names the user. */
        v = vm("db-1", "", "qemu-system-x86_64", 1000);
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_OTHER_USER);
        /* uid 65534 (the nobody, -name web-x): no group names it. */
        v = vm("web-x", "", "qemu-system-x86_64", 65534);
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_OTHER_USER);
        assert_null(policy_match(p, &v));
        policy_free(p);

        /* A DefaultGroup= that names users takes theirs, and still root's. */
        p = load_ok("[engine]\nDefaultGroup = users\n[group users]\nMatchUser = 1000 0\n");
        v = vm("x", "", "qemu-system-x86_64", 1000);
        assert_string_equal(policy_match(p, &v)->name, "users");
        v = vm("x", "", "qemu-system-x86_64", 1001);
        assert_null(policy_match(p, &v));
        policy_free(p);

        /* A group whose name rule takes the VM, but whose MatchUser= names other users: said as the user's. */
        p = load_ok("[group web]\nMatchName = web-*\nMatchUser = 0 65534\n");
        v = vm("web-other", "", "qemu-system-x86_64", 1000);
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_OTHER_USER);
        v = vm("db-1", "", "qemu-system-x86_64", 1000);
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_NO_GROUP);
        v = vm("web-1", "", "qemu-system-x86_64", 65534);
        assert_string_equal(policy_match_why(p, &v, &why)->name, "web");
        policy_free(p);

        /* No group at all: no group, whoever runs it. */
        p = load_ok("[group web]\nMatchName = web-*\n");
        v = vm("db", "", "qemu-system-x86_64", 1000);
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_NO_GROUP);
        policy_free(p);
}

/* The shipped policy governs root's VMs only, as the host needs. */
static void test_shipped_default_policy_owner(void **state)
{
        struct config_error e = {0};
        struct policy *p = NULL;
        struct vm_identity v;

        assert_int_equal(config_load(FIXTURES_DIR "/../../policies/default.ini", &env, &p, &e), 0);
        v = vm("web-x", "", "qemu-system-x86_64", 0);
        assert_string_equal(policy_match(p, &v)->name, "default");
        v = vm("web-x", "", "qemu-system-x86_64", 65534);
        assert_null(policy_match(p, &v));
        v = vm("ci-1", "", "qemu-system-x86_64", 65534);
        assert_null(policy_match(p, &v));
        policy_free(p);
}

/* libvirt's VMs (systemd-machined's machine-qemu*.scope) are left alone unless ManageLibvirt=yes. */
static void test_machined_rule(void **state)
{
        static const char scope[] = "/machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/emulator";
        enum policy_verdict why = POLICY_MANAGED;
        struct policy *p;
        struct vm_identity v;

        assert_true(policy_cgroup_is_machined(scope));
        assert_true(policy_cgroup_is_machined("/machine.slice/machine-qemu\\x2d1\\x2ddb.scope"));
        assert_true(policy_cgroup_is_machined("/machine.slice/machine-qemu1.scope/vcpu0"));
        assert_false(policy_cgroup_is_machined("/machine.slice/vm-web.scope"));
        assert_false(policy_cgroup_is_machined("/machine.slice/machine-qemu1.scope.d"));
        assert_false(policy_cgroup_is_machined("/machine.slice/my-machine-qemu1.scope"));
        assert_false(policy_cgroup_is_machined("/vmgov/web/machine-qemu"));
        assert_false(policy_cgroup_is_machined("/"));
        assert_false(policy_cgroup_is_machined(""));

        p = load_ok("[engine]\nDefaultGroup = all\n[group all]\nCPUWeight = 100\n");
        v = vm("db", "", "qemu-system-x86_64", 0);
        v.cgroup = (char *)scope;
        assert_null(policy_match_why(p, &v, &why));
        assert_int_equal(why, POLICY_MACHINED);
        v.cgroup = (char *)"/machine.slice/vm-db.scope";
        assert_string_equal(policy_match_why(p, &v, &why)->name, "all");
        assert_int_equal(why, POLICY_MANAGED);
        policy_free(p);

        p = load_ok("[engine]\nDefaultGroup = all\nManageLibvirt = yes\n[group all]\nCPUWeight = 100\n");
        v.cgroup = (char *)scope;
        assert_string_equal(policy_match_why(p, &v, &why)->name, "all");
        assert_int_equal(why, POLICY_MANAGED);
        policy_free(p);
}

static void test_adapt_keys(void **state)
{
        struct policy *p = load_ok("[group web]\n"
                                   "MatchName = web-*\n"
                                   "Class = latency\n"
                                   "CPUWeight = 200\n"
                                   "Adapt = cpu memory io\n"
                                   "CPUWeightRange = 100..1000\n"
                                   "MemoryHigh = 4G\n"
                                   "MemoryHighRange = 2G..8G\n"
                                   "RunQueueLatencyTarget = 2ms\n"
                                   "CPUPressureTarget = 5%\n"
                                   "MemoryPressureTarget = 0.1%\n"
                                   "IOPressureTarget = 10%\n"
                                   "MemoryProbe = high\n"
                                   "AdaptHoldSec = 10s\n"
                                   "AdaptDwellSec = 0\n"
                                   "[group batch]\n"
                                   "MatchName = ci-*\n"
                                   "Class = batch\n"
                                   "CPUQuota = 200%\n"
                                   "Adapt = cpu io\n"
                                   "CPUQuotaRange = 20%..400%\n"
                                   "IOBandwidthMaxRange = 1M..100M\n");
        const struct adapt_policy *a = &p->groups[0].adapt;

        assert_true(a->cpu && a->memory && a->io);
        assert_int_equal(a->cpu_weight_min, 100);
        assert_int_equal(a->cpu_weight_max, 1000);
        assert_int_equal(a->memory_high_min, 2 * GiB);
        assert_int_equal(a->memory_high_max, 8 * GiB);
        assert_int_equal(a->runq_latency_target_usec, 2000);
        assert_int_equal(a->cpu_pressure_target_ppm, 50000);
        assert_int_equal(a->memory_pressure_target_ppm, 1000);
        assert_int_equal(a->io_pressure_target_ppm, 100000);
        assert_int_equal(a->hold_usec, 10000000);
        assert_int_equal(a->dwell_usec, 0); /* 0 is a value: no dwell, not the default */
        assert_int_equal(a->memory_probe, MEMORY_PROBE_HIGH);

        a = &p->groups[1].adapt;
        assert_true(a->cpu && !a->memory && a->io);
        assert_int_equal(a->cpu_quota_min_permyriad, 2000);
        assert_int_equal(a->cpu_quota_max_permyriad, 40000);
        assert_int_equal(a->io_bandwidth_min, 1000000);
        assert_int_equal(a->io_bandwidth_max, 100000000);
        assert_int_equal(a->memory_probe, MEMORY_PROBE_AUTO); /* the default: reclaim where the kernel can */
        assert_int_equal(a->hold_usec, ADAPT_HOLD_DEFAULT_USEC);
        assert_int_equal(a->dwell_usec, ADAPT_DWELL_DEFAULT_USEC);
        policy_free(p);
}

static void test_adapt_errors(void **state)
{
        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"[group a]\nMatchName = a\nAdapt = cpu disk\n", "test.ini:3: Adapt=cpu disk: \"disk\" is not one of"},
                {"[group a]\nMatchName = a\nCPUWeightRange = 500..100\n",
                 "test.ini:3: CPUWeightRange=500..100: the range is reversed"},
                {"[group a]\nMatchName = a\nCPUWeightRange = 100\n",
                 "test.ini:3: CPUWeightRange=100: expected MIN..MAX"},
                {"[group a]\nMatchName = a\nMemoryHighRange = 1G..infinity\n",
                 "test.ini:3: MemoryHighRange=1G..infinity"},
                {"[group a]\nMatchName = a\nMemoryPressureTarget = 0%\n", "test.ini:3: MemoryPressureTarget=0%"},
                {"[group a]\nMatchName = a\nRunQueueLatencyTarget = 2s\n", "test.ini:3: RunQueueLatencyTarget=2s"},
                {"[group a]\nMatchName = a\nCPUWeightRange = 100..200\n",
                 "test.ini:1: [group a]: CPUWeightRange= is set but Adapt= does not include cpu"},
                {"[group a]\nMatchName = a\nAdapt = cpu\n",
                 "test.ini:1: [group a]: Adapt=cpu needs CPUWeightRange= or CPUQuotaRange="},
                {"[group a]\nMatchName = a\nAdapt = cpu\nCPUWeightRange = 100..200\n",
                 "test.ini:1: [group a]: Adapt=cpu for a normal VM needs RunQueueLatencyTarget="},
                {"[group a]\nMatchName = a\nAdapt = cpu\nCPUWeightRange = 200..300\nCPUPressureTarget = 1%\n",
                 "test.ini:1: [group a]: CPUWeight=100 is outside CPUWeightRange=200..300"},
                {"[group a]\nMatchName = a\nClass = batch\nAdapt = cpu\nCPUQuota = 500%\nCPUQuotaRange = 10%..400%\n",
                 "test.ini:1: [group a]: CPUQuota= is outside CPUQuotaRange="},
                {"[group a]\nMatchName = a\nAdapt = memory\nMemoryHighRange = 1G..2G\n",
                 "test.ini:1: [group a]: Adapt=memory needs MemoryHighRange= and MemoryPressureTarget="},
                {"[group a]\nMatchName = a\nAdapt = memory\nMemoryHighRange = 1G..2G\nMemoryPressureTarget = "
                 "1%\nMemoryHigh = 4G\n",
                 "test.ini:1: [group a]: MemoryHigh= is outside MemoryHighRange="},
                {"[group a]\nMatchName = a\nMemoryProbe = senpai\n",
                 "test.ini:3: MemoryProbe=senpai: expected auto, reclaim or high"},
                {"[group a]\nMatchName = a\nAdapt = cpu\nCPUWeightRange = 100..200\nCPUPressureTarget = 1%\n"
                 "MemoryProbe = reclaim\n",
                 "test.ini:1: [group a]: MemoryProbe= is set but Adapt= does not include memory"},
                {"[group a]\nMatchName = a\nClass = batch\nAdapt = io\n",
                 "test.ini:1: [group a]: Adapt=io for a batch VM needs IOBandwidthMaxRange="},
                {"[group a]\nMatchName = a\nClass = latency\nAdapt = io\n",
                 "test.ini:1: [group a]: Adapt=io for a latency VM needs IOPressureTarget="},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                assert_has_prefix(load_err(cases[i].text), cases[i].expect);
}

static void test_net_keys(void **state)
{
        struct policy *p = load_ok("[group a]\nMatchName = a\nNetIngressRate = 100M\nNetEgressRate = 1.5G\n"
                                   "NetEgressBurst = 64K\n");
        assert_true(p->groups[0].net.ingress_set);
        assert_int_equal(p->groups[0].net.ingress_bps, 100000000);
        assert_int_equal(p->groups[0].net.egress_bps, 1500000000);
        assert_int_equal(p->groups[0].net.egress_burst, 65536);
        assert_int_equal(p->groups[0].net.ingress_burst, 0);
        policy_free(p);

        assert_has_prefix(load_err("[group a]\nMatchName = a\nNetIngressRate = fast\n"),
                          "test.ini:3: NetIngressRate=fast: expected a rate in bits per second");
        assert_has_prefix(load_err("[group a]\nMatchName = a\nNetEgressBurst = 1M\n"),
                          "test.ini:1: [group a]: a Net*Burst= needs its Net*Rate=");
}

/* MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax=: MemoryHigh='s syntax, and 0 (no protection, no swap). */
static void test_memory_protection_keys(void **state)
{
        struct policy *p = load_ok("[group a]\n"
                                   "MatchName = a\n"
                                   "MemoryMin = 512M\n"
                                   "MemoryLow = 25%\n"
                                   "MemorySwapMax = 0\n"
                                   "MemoryZSwapMax = infinity\n");
        const struct limits *l = &p->groups[0].limits;

        assert_true(l->memory_min_set && l->memory_low_set && l->memory_swap_max_set && l->memory_zswap_max_set);
        assert_int_equal(l->memory_min, 512ULL << 20);
        assert_int_equal(l->memory_low, 4 * GiB); /* 25% of 16G */
        assert_int_equal(l->memory_swap_max, 0);
        assert_true(l->memory_zswap_max == LIMIT_MAX);
        assert_false(l->memory_high_set);
        policy_free(p);

        p = load_ok("[group a]\nMatchName = a\nMemoryLow = 1G\n");
        assert_false(p->groups[0].limits.memory_min_set);
        assert_false(p->groups[0].limits.memory_swap_max_set);
        policy_free(p);

        assert_has_prefix(load_err("[group a]\nMatchName = a\nMemoryLow = lots\n"),
                          "test.ini:3: MemoryLow=lots: not understood; expected bytes with K/M/G/T");
        assert_has_prefix(load_err("[group a]\nMatchName = a\nMemorySwapMax = 101%\n"),
                          "test.ini:3: MemorySwapMax=101%: out of range");
        assert_has_prefix(load_err("[group a]\nMatchName = a\nMemoryZSwapMax = 1G\nMemoryZSwapMax = 2G\n"),
                          "test.ini:4: MemoryZSwapMax= is already set at test.ini:3");
        assert_has_prefix(load_err("[engine]\nMemoryMin = 1G\n"), "test.ini:2: unknown key MemoryMin= in [engine]");
}

/* A protection above a limit, or above the floor the memory law may probe to, is refused at its own line, with
 * the values; MemoryMin= above MemoryLow= too. */
static void test_memory_protection_refusals(void **state)
{
        static const char adapt[] = "Adapt = memory\nMemoryHighRange = 2G..8G\nMemoryPressureTarget = 5%\n";
        static const struct {
                const char *before;
                bool adapt; /* the memory law, between before and after */
                const char *after, *expect;
        } cases[] = {
                {"MemoryLow = 3G\n", true, "",
                 "test.ini:3: [group a]: MemoryLow=3G is above the floor of MemoryHighRange=2G..8G: the memory law "
                 "could take memory.high below the protection"},
                {"", true, "MemoryMin = 2049M\n",
                 "test.ini:6: [group a]: MemoryMin=2049M is above the floor of MemoryHighRange=2G..8G"},
                {"MemoryHigh = 1G\nMemoryLow = 1025M\n", false, "",
                 "test.ini:4: [group a]: MemoryLow=1025M is above MemoryHigh=1G"},
                {"MemoryMax = 1G\nMemoryLow = 1073741825\n", false, "",
                 "test.ini:4: [group a]: MemoryLow=1073741825 is above MemoryMax=1G"},
                {"MemoryMax = 1G\nMemoryLow = infinity\n", false, "",
                 "test.ini:4: [group a]: MemoryLow=infinity is above MemoryMax=1G"},
                {"MemoryLow = 1G\nMemoryMin = 2G\n", false, "",
                 "test.ini:4: [group a]: MemoryMin=2G is above MemoryLow=1G"},
        };
        char text[512];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s%s%s", cases[i].before,
                         cases[i].adapt ? adapt : "", cases[i].after);
                assert_has_prefix(load_err(text), cases[i].expect);
        }

        /* At the floor, at the limits, and equal: fine. */
        snprintf(text, sizeof(text), "[group a]\nMatchName = a\nMemoryMin = 1G\nMemoryLow = 2G\nMemoryHigh = 4G\n%s",
                 adapt);
        policy_free(load_ok(text));
        policy_free(load_ok("[group a]\nMatchName = a\nMemoryMin = 1G\nMemoryLow = 1G\nMemoryHigh = 1G\nMemoryMax = "
                            "1G\n"));
        policy_free(load_ok("[group a]\nMatchName = a\nMemoryLow = infinity\nMemoryHigh = infinity\n"));
        /* Under the limits, without the memory law: fine. */
        policy_free(load_ok("[group a]\nMatchName = a\nMemoryLow = 1G\nMemoryMax = 16G\n"));
}

/* IODeviceLatencyTargetSec=DEVICE TARGET (systemd's), once per device. */
static void test_io_latency_key(void **state)
{
        struct policy *p = load_ok("[group a]\n"
                                   "MatchName = a\n"
                                   "IODeviceLatencyTargetSec = /dev/vda 25ms\n"
                                   "IODeviceLatencyTargetSec = 8:16 1s\n");
        const struct limits *l = &p->groups[0].limits;

        assert_int_equal(l->n_io_latency, 2);
        assert_int_equal(l->io_latency[0].major, 254);
        assert_int_equal(l->io_latency[0].minor, 0);
        assert_int_equal(l->io_latency[0].target_usec, 25000);
        assert_int_equal(l->io_latency[1].major, 8);
        assert_int_equal(l->io_latency[1].minor, 16);
        assert_int_equal(l->io_latency[1].target_usec, 1000000);
        assert_int_equal(l->n_io_devices, 0); /* no io.max line for it */
        policy_free(p);

        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"IODeviceLatencyTargetSec = /dev/vda\n",
                 "test.ini:3: IODeviceLatencyTargetSec=/dev/vda: expected \"DEVICE TARGET\", e.g. \"/dev/vda 25ms\""},
                {"IODeviceLatencyTargetSec = /dev/vda 0\n",
                 "test.ini:3: IODeviceLatencyTargetSec=/dev/vda 0: target \"0\": expected a duration above 0"},
                {"IODeviceLatencyTargetSec = /dev/vda soon\n",
                 "test.ini:3: IODeviceLatencyTargetSec=/dev/vda soon: target \"soon\""},
                {"IODeviceLatencyTargetSec = /dev/null 5ms\n",
                 "test.ini:3: IODeviceLatencyTargetSec=: device \"/dev/null\": not a block device"},
                {"IODeviceLatencyTargetSec = vda 5ms\n",
                 "test.ini:3: IODeviceLatencyTargetSec=: device \"vda\" must be an absolute path or MAJ:MIN"},
                {"IODeviceLatencyTargetSec = /dev/vda 5ms\nIODeviceLatencyTargetSec = /dev/vda 6ms\n",
                 "test.ini:4: IODeviceLatencyTargetSec= for /dev/vda is already set at test.ini:3"},
                {"IODeviceLatencyTargetSec = /dev/vda 5ms\nIODeviceLatencyTargetSec = 254:0 6ms\n",
                 "test.ini:4: IODeviceLatencyTargetSec=: device 254:0 (254:0) already has a target"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s", cases[i].text);
                assert_has_prefix(load_err(text), cases[i].expect);
        }
}

/* The CPU keys: sets in systemd's syntax, the vCPU pins both ways, the per-thread quotas at the group's period. */
static void test_cpu_keys(void **state)
{
        struct policy *p = load_ok("[group a]\n"
                                   "MatchName = a\n"
                                   "AllowedCPUs = 0-3 8 10-11\n"
                                   "AllowedMemoryNodes = 0\n"
                                   "VCPUAllowedCPUs = 2-3,8\n"
                                   "EmulatorAllowedCPUs = 0,1\n"
                                   "VCPUQuota = 80%\n"
                                   "EmulatorQuota = 150%\n"
                                   "CPUQuota = 200%\n"
                                   "CPUQuotaPeriodSec = 50ms\n"
                                   "CPUQuotaBurstSec = 20ms\n"
                                   "CPUPartition = isolated\n");
        const struct group_policy *g = &p->groups[0];
        const struct cpu_topology *t = &g->cpu;
        struct cpuset set;
        char buf[64];

        assert_true(policy_uses_cpuset(p)); /* the engine's cgroups then need cpuset */
        assert_true(g->limits.cpuset_cpus_set);
        assert_string_equal(g->limits.cpuset_cpus, "0-3,8,10-11"); /* the kernel's form */
        assert_true(g->limits.cpuset_mems_set);
        assert_string_equal(g->limits.cpuset_mems, "0");
        assert_true(g->limits.cpu_burst_set);
        assert_int_equal(g->limits.cpu_burst_usec, 20000);
        assert_int_equal(g->limits.cpu_quota_usec, 100000);
        assert_int_equal(g->limits.cpu_period_usec, 50000);
        assert_true(t->vcpu_quota_set);
        assert_int_equal(t->vcpu_quota_usec, 40000); /* 80% of one CPU at the group's 50 ms */
        assert_int_equal(t->vcpu_period_usec, 50000);
        assert_true(t->emulator_quota_set);
        assert_int_equal(t->emulator_quota_usec, 75000);
        assert_int_equal(t->emulator_period_usec, 50000);
        assert_int_equal(t->partition, CPU_PARTITION_ISOLATED);
        assert_string_equal(cpu_partition_kernel_value(t->partition), "isolated");
        assert_true(t->emulator_cpus_set);
        assert_int_equal(cpuset_format(&t->emulator_cpus, buf, sizeof(buf)), 3);
        assert_string_equal(buf, "0-1");
        /* one set: one CPU per vCPU, in turn */
        static const char *const dealt[] = {"2", "3", "8", "2", "3"};
        for (unsigned v = 0; v < 5; v++) {
                assert_int_equal(cpu_topology_vcpu_cpus(t, v, &set), 0);
                cpuset_format(&set, buf, sizeof(buf));
                assert_string_equal(buf, dealt[v]);
        }
        policy_free(p);

        /* one set per vCPU, ';' or '|' between them, wrapping past the last */
        p = load_ok("[group a]\nMatchName = a\nVCPUAllowedCPUs = 2;3|4-5\n");
        t = &p->groups[0].cpu;
        static const char *const listed[] = {"2", "3", "4-5", "2"};
        for (unsigned v = 0; v < 4; v++) {
                assert_int_equal(cpu_topology_vcpu_cpus(t, v, &set), 0);
                cpuset_format(&set, buf, sizeof(buf));
                assert_string_equal(buf, listed[v]);
        }
        assert_false(p->groups[0].limits.cpuset_cpus_set);
        assert_int_equal(p->groups[0].cpu.partition, CPU_PARTITION_NO);
        assert_true(policy_uses_cpuset(p));
        policy_free(p);

        /* nothing pinned: the vCPUs run wherever the VM does; CPUQuotaPeriodSec= is the vCPUs' period */
        p = load_ok("[group a]\nMatchName = a\nVCPUQuota = 1%\nCPUQuotaPeriodSec = 10ms\n");
        t = &p->groups[0].cpu;
        assert_int_equal(cpu_topology_vcpu_cpus(t, 0, &set), -ENOENT);
        assert_false(policy_uses_cpuset(p));        /* quotas only: no cpuset */
        assert_int_equal(t->vcpu_quota_usec, 1000); /* at least 1 ms: the period grows, as CPUQuota='s */
        assert_int_equal(t->vcpu_period_usec, 100000);
        assert_false(p->groups[0].limits.cpu_max_set);
        assert_false(p->groups[0].limits.cpu_burst_set);
        policy_free(p);
}

static void test_cpu_key_errors(void **state)
{
        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"AllowedCPUs = 3-1\n",
                 "test.ini:3: AllowedCPUs=3-1: expected CPU numbers and ranges, e.g. \"0-3 8\" or \"0-3,8\""},
                {"AllowedCPUs = 8192\n", "test.ini:3: AllowedCPUs=8192: a CPU number is 8192 or above"},
                {"AllowedCPUs = ,\n", "test.ini:3: AllowedCPUs=,: no CPU in it"},
                {"AllowedCPUs = 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32 34 36 38 40 42 44 46 48 50 52 54 56 58 "
                 "60 62 64 66 68 70 72 74 76 78 80 82 84 86 88 90\n",
                 "test.ini:3: AllowedCPUs=0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32 34 36 38 40 42 44 46 48 50 52 "
                 "54 56 58 60 62 64 66 68 70 72 74 76 78 80 82 84 86 88 90: longer than 127 characters in the kernel's "
                 "form: use ranges"},
                {"AllowedMemoryNodes = 1024\n", "test.ini:3: AllowedMemoryNodes=1024: a memory node number is 1024"},
                {"VCPUAllowedCPUs = 2;x\n",
                 "test.ini:3: VCPUAllowedCPUs=2;x: the set of vCPU 1 (\"x\"): expected CPU numbers and ranges"},
                {"VCPUAllowedCPUs = 2;;3\n",
                 "test.ini:3: VCPUAllowedCPUs=2;;3: the set of vCPU 1 (\"\"): no CPU in it"},
                {"EmulatorAllowedCPUs = -1\n", "test.ini:3: EmulatorAllowedCPUs=-1: expected CPU numbers"},
                {"VCPUQuota = 101%\n",
                 "test.ini:3: VCPUQuota=101%: expected a percentage above 0% and at most 100%, e.g. 80%"},
                {"EmulatorQuota = 0%\n", "test.ini:3: EmulatorQuota=0%: expected a percentage above 0%"},
                {"CPUQuotaBurstSec = soon\n", "test.ini:3: CPUQuotaBurstSec=soon: expected a duration of at most 1h"},
                {"CPUPartition = root\n", "test.ini:3: CPUPartition=root: expected exclusive, isolated or no"},
                {"AllowedCPUs = 0\nAllowedCPUs = 1\n", "test.ini:4: AllowedCPUs= is already set at test.ini:3"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s", cases[i].text);
                assert_has_prefix(load_err(text), cases[i].expect);
        }
}

/* The error of loading text on a host whose online CPUs are 0-7 and memory nodes 0-1. */
static const char *load_err_on_8_cpus(const char *text)
{
        static char buf[1200];
        struct config_env host = env;
        struct config_error e = {0};
        struct policy *p = NULL;

        host.host_cpus_known = host.host_mems_known = true;
        assert_int_equal(cpuset_parse("0-7", CPUSET_MAX, &host.host_cpus), 0);
        assert_int_equal(cpuset_parse("0-1", 1024, &host.host_mems), 0);
        if (config_load_string("test.ini", text, &host, &p, &e) == 0) {
                policy_free(p);
                return "";
        }
        config_error_format(&e, buf, sizeof(buf));
        return buf;
}

/* vmgov check refuses pins the host or the VM's own AllowedCPUs= cannot hold, partitions that share CPUs, and a burst
 * above the quota, at the line of the key, with the values. */
static void test_cpu_refusals(void **state)
{
        static const struct {
                const char *text, *expect;
        } cases[] = {
                {"AllowedCPUs = 0-3 8-9\n",
                 "test.ini:3: [group a]: AllowedCPUs=0-3,8-9 names 8-9 outside the host's online CPUs 0-7"},
                {"VCPUAllowedCPUs = 1;12\n",
                 "test.ini:3: [group a]: VCPUAllowedCPUs=12 (vCPU 1's set) names 12 outside the host's online CPUs "
                 "0-7"},
                {"EmulatorAllowedCPUs = 7-8\n",
                 "test.ini:3: [group a]: EmulatorAllowedCPUs=7-8 names 8 outside the host's online CPUs 0-7"},
                {"AllowedMemoryNodes = 0-2\n",
                 "test.ini:3: [group a]: AllowedMemoryNodes=0-2 names 2 outside the host's online memory nodes 0-1"},
                {"AllowedCPUs = 2-3\nVCPUAllowedCPUs = 2-4\n",
                 "test.ini:4: [group a]: VCPUAllowedCPUs=2-4 names 4 outside AllowedCPUs= 2-3"},
                {"AllowedCPUs = 2-3\nEmulatorAllowedCPUs = 0\n",
                 "test.ini:4: [group a]: EmulatorAllowedCPUs=0 names 0 outside AllowedCPUs= 2-3"},
                {"CPUPartition = exclusive\n",
                 "test.ini:3: [group a]: CPUPartition=exclusive needs AllowedCPUs=: the CPUs it takes"},
                {"CPUQuotaBurstSec = 20ms\n",
                 "test.ini:3: [group a]: CPUQuotaBurstSec= needs CPUQuota=: a burst is time above the quota"},
                {"CPUQuota = 50%\nCPUQuotaBurstSec = 51ms\n",
                 "test.ini:4: [group a]: CPUQuotaBurstSec=51ms is above CPUQuota=50%, 50ms per period of 100ms: the "
                 "kernel takes a burst of at most the quota"},
                {"CPUQuota = 12.5%\nCPUQuotaPeriodSec = 200ms\nCPUQuotaBurstSec = 25001us\n",
                 "test.ini:5: [group a]: CPUQuotaBurstSec=25001us is above CPUQuota=12.5%, 25ms per period of 200ms"},
                {"CPUQuota = 100%\nCPUQuotaBurstSec = 50ms\nAdapt = cpu\nCPUQuotaRange = 20%..200%\n"
                 "CPUPressureTarget = 10%\n",
                 "test.ini:4: [group a]: CPUQuotaBurstSec=50ms is above the floor of CPUQuotaRange=20%, 20ms per "
                 "period of 100ms"},
                {"[group b]\nMatchName = b\nAllowedCPUs = 4-7\nCPUPartition = exclusive\n"
                 "[group c]\nMatchName = c\nAllowedCPUs = 0-4\nCPUPartition = isolated\n",
                 "test.ini:9: [group c]: AllowedCPUs=0-4 of a CPUPartition= shares CPUs 4 with the partition of "
                 "[group b] (AllowedCPUs=4-7 at test.ini:5)"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[512];
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s", cases[i].text);
                assert_has_prefix(load_err_on_8_cpus(text), cases[i].expect);
        }

        /* Within everything: fine. Partitions side by side, a burst of exactly the quota, a burst of 0 (none). */
        static const char *const fine[] = {
                "AllowedCPUs = 0-7\nVCPUAllowedCPUs = 2;3\nEmulatorAllowedCPUs = 0-1\nAllowedMemoryNodes = 0-1\n",
                ("AllowedCPUs = 0-3\nCPUPartition = exclusive\n[group b]\nMatchName = b\nAllowedCPUs = 4-7\n"
                 "CPUPartition = isolated\n[group c]\nMatchName = c\nAllowedCPUs = 0-7\n"),
                "CPUQuota = 50%\nCPUQuotaBurstSec = 50ms\n",
                "CPUQuotaBurstSec = 0\n",
        };
        for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
                char text[512];
                snprintf(text, sizeof(text), "[group a]\nMatchName = a\n%s", fine[i]);
                assert_string_equal(load_err_on_8_cpus(text), "");
        }
        /* A host that cannot say which CPUs it has: the pins are not checked against it. */
        policy_free(load_ok("[group a]\nMatchName = a\nAllowedCPUs = 4000\n"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_policy),
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_quota_translation),
                cmocka_unit_test(test_errors_name_file_and_line),
                cmocka_unit_test(test_long_lines_and_names_refused),
                cmocka_unit_test(test_comments_blank_lines_crlf),
                cmocka_unit_test(test_nul_byte_refused),
                cmocka_unit_test(test_owner_and_mode),
                cmocka_unit_test(test_directory_in_lexical_order),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_shipped_default_policy_loads),
                cmocka_unit_test(test_match_first_wins_then_default),
                cmocka_unit_test(test_trusted_paths),
                cmocka_unit_test(test_owner_rule),
                cmocka_unit_test(test_shipped_default_policy_owner),
                cmocka_unit_test(test_machined_rule),
                cmocka_unit_test(test_adapt_keys),
                cmocka_unit_test(test_adapt_errors),
                cmocka_unit_test(test_net_keys),
                cmocka_unit_test(test_memory_protection_keys),
                cmocka_unit_test(test_io_latency_key),
                cmocka_unit_test(test_memory_protection_refusals),
                cmocka_unit_test(test_cpu_keys),
                cmocka_unit_test(test_cpu_key_errors),
                cmocka_unit_test(test_cpu_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
