/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a VM's cgroup goes: names from hostile command lines never become paths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/macro.h"
#include "place/placement.h"
#include "testutil.h"

static struct vm_identity vm_named(const char *name)
{
        struct vm_identity v = {.pid = 4242};
        v.name = name[0] ? (char *)name : NULL; /* borrowed: never vm_identity_done()'d */
        return v;
}

static const char *leaf(const struct vm_identity *v)
{
        static char buf[PLACEMENT_LEAF_MAX + 1];
        assert_true(placement_leaf_name(v, buf, sizeof(buf)) > 0);
        return buf;
}

static void assert_plain_leaf(const char *s)
{
        assert_true(strlen(s) > 0 && strlen(s) <= PLACEMENT_LEAF_MAX);
        assert_true(s[0] != '.');
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_'))
                        fail_msg("leaf \"%s\" has byte 0x%02x", s, (unsigned char)*p);
}

static void test_plain_names_kept(void **state)
{
        struct vm_identity v = vm_named("web-01_a");
        assert_string_equal(leaf(&v), "web-01_a");
}

static void test_hostile_names(void **state)
{
        static const char *const hostile[] = {
                "../../etc",
                "a/b",
                "..",
                ".",
                "cpu.max",
                "cgroup.procs",
                "quote\"d'name",
                "new\nline",
                "tab\there",
                "\x1b[31mred",
                "sp ace",
                "web-01.example.com",
                "é-ünicode",
                "\xff\xfe bad",
                "-leading-dash",
        };
        char seen[ELEMENTSOF(hostile)][PLACEMENT_LEAF_MAX + 1];

        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                struct vm_identity v = vm_named(hostile[i]);
                const char *l = leaf(&v);
                assert_plain_leaf(l);
                snprintf(seen[i], sizeof(seen[i]), "%s", l);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(seen[i], seen[j]) == 0)
                                fail_msg("\"%s\" and \"%s\" share cgroup name %s", hostile[i], hostile[j], l);
        }
        /* A changed name carries a hash, so "a/b" and "a_b" stay apart. */
        struct vm_identity a = vm_named("a/b"), b = vm_named("a_b");
        assert_string_equal(leaf(&b), "a_b");
        assert_int_equal(strncmp(leaf(&a), "a_b-", 4), 0);
        assert_int_equal(strlen(leaf(&a)), 3 + 1 + 8);
}

static void test_long_name_cut_with_hash(void **state)
{
        struct vm_identity v = {.pid = 1}, w = {.pid = 1};

        v.name = calloc(1, VM_NAME_MAX + 1);
        w.name = calloc(1, VM_NAME_MAX + 1);
        assert_non_null(v.name);
        assert_non_null(w.name);
        memset(v.name, 'x', VM_NAME_MAX);
        memset(w.name, 'x', VM_NAME_MAX);
        w.name[VM_NAME_MAX - 1] = 'y';

        char lv[PLACEMENT_LEAF_MAX + 1];
        snprintf(lv, sizeof(lv), "%s", leaf(&v));
        assert_plain_leaf(lv);
        assert_int_equal(strlen(lv), 64 + 1 + 8);
        assert_string_not_equal(lv, leaf(&w)); /* same first 64 bytes, different names */
        vm_identity_done(&v);
        vm_identity_done(&w);
}

static void test_unnamed(void **state)
{
        struct vm_identity v = {.pid = 77};
        assert_string_equal(leaf(&v), "pid-77");
        snprintf(v.uuid, sizeof(v.uuid), "6b29fc40-ca47-1067-b31d-00dd010662da");
        assert_string_equal(leaf(&v), "uuid-6b29fc40-ca47-1067-b31d-00dd010662da");
}

static void test_paths(void **state)
{
        char buf[256];

        assert_true(placement_own_path("vmgov", "web", "demo", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "vmgov/web/demo");
        assert_true(placement_own_path("", "web", "demo", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "web/demo");
        assert_int_equal(placement_own_path("vmgov", "web", "demo", buf, 8), -ENAMETOOLONG);

        assert_int_equal(placement_root_relative("/sys/fs/cgroup", "/sys/fs/cgroup/vmgov/", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vmgov");
        assert_int_equal(
                placement_root_relative("/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/a/b", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "a/b");
        assert_int_equal(placement_root_relative("/sys/fs/cgroup", "/sys/fs/cgroup", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        /* A sibling whose name only starts like the mount is not beneath it. */
        assert_int_equal(placement_root_relative("/sys/fs/cgroup", "/sys/fs/cgroupX/vmgov", buf, sizeof(buf)), -EXDEV);
        assert_int_equal(placement_root_relative("/sys/fs/cgroup/unified", "/sys/fs/cgroup/vmgov", buf, sizeof(buf)),
                         -EXDEV);
}

static void test_create_refused_on_hybrid(void **state)
{
        /* libcgroup would route cpu and memory to the v1 hierarchies: never call it there. */
        struct cgroup_mount m = {.hybrid = true};
        snprintf(m.path, sizeof(m.path), "/sys/fs/cgroup/unified");
        assert_int_equal(placement_libcgroup_ops.create(NULL, &m, "vmgov/web/demo"), -EOPNOTSUPP);
        assert_int_equal(placement_libcgroup_ops.attach(NULL, &m, "vmgov/web/demo", 1), -EOPNOTSUPP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_names_kept),
                cmocka_unit_test(test_hostile_names),
                cmocka_unit_test(test_long_name_cut_with_hash),
                cmocka_unit_test(test_unnamed),
                cmocka_unit_test(test_paths),

                cmocka_unit_test(test_create_refused_on_hybrid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
