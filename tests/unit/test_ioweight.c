/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether IOWeight= reaches the disks: the scheduler file, and what an operator is told per device. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "act/ioweight.h"
#include "policy/config.h"
#include "testutil.h"

static void test_parse_scheduler(void **state)
{
        char buf[32];

        assert_int_equal(ioweight_parse_scheduler("mq-deadline kyber [bfq] none\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "bfq");
        assert_int_equal(ioweight_parse_scheduler("[none] mq-deadline\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "none");
        assert_int_equal(ioweight_parse_scheduler("[mq-deadline] none", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "mq-deadline");
        /* A bio-based device (brd, zram) has no choice: one word, unmarked. */
        assert_int_equal(ioweight_parse_scheduler("none\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "none");
        /* Several words with none marked, an empty mark, an unclosed one, and a mark across words are not
         * understood. */
        assert_int_equal(ioweight_parse_scheduler("none kyber\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("none\nkyber\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("[] none\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("[none\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("[none kyber]\n", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(ioweight_parse_scheduler("[mq-deadline]", buf, 11), -ENOBUFS);
        assert_int_equal(ioweight_parse_scheduler("[mq-deadline]", buf, 12), 0);
}

static void test_works(void **state)
{
        assert_true(ioweight_works("bfq", false));
        assert_true(ioweight_works("mq-deadline", true));
        assert_true(ioweight_works("none", true));
        assert_false(ioweight_works("mq-deadline", false));
        assert_false(ioweight_works("none", false));
        assert_false(ioweight_works("kyber", false));
}

static int resolve_device(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata)
{
        return -ENOENT;
}

static struct policy *load(const char *text)
{
        static const struct config_env env = {.physical_memory = 1ULL << 34, .resolve_device = resolve_device};
        struct config_error e = {0};
        struct policy *p = NULL;

        if (config_load_string("test.ini", text, &env, &p, &e) < 0)
                fail_msg("policy refused: %s:%u: %s", e.file, e.line, e.message);
        return p;
}

/* A /sys with vda (mq-deadline), sdb (bfq) and its partition sdb1, an unused loop0, a ram disk; and a cgroup2
 * root. */
struct fixture {
        char path[4096];
        int fd, sys_fd, cg_fd;
};

static void disk(int sys_fd, const char *name, const char *dev, const char *size, const char *scheduler)
{
        char path[256], target[256];

        snprintf(path, sizeof(path), "block/%s/dev", name);
        tmptree_write_string(sys_fd, path, dev);
        snprintf(path, sizeof(path), "block/%s/size", name);
        tmptree_write_string(sys_fd, path, size);
        snprintf(path, sizeof(path), "block/%s/queue/scheduler", name);
        tmptree_write_string(sys_fd, path, scheduler);
        snprintf(path, sizeof(path), "dev/block/%.*s", (int)strcspn(dev, "\n"), dev);
        snprintf(target, sizeof(target), "../../block/%s", name);
        tmptree_mkdir(sys_fd, "dev/block");
        assert_int_equal(symlinkat(target, sys_fd, path), 0);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        f->fd = tmptree_new(f->path, sizeof(f->path));
        tmptree_mkdir(f->fd, "sys");
        tmptree_mkdir(f->fd, "cg");
        f->sys_fd = openat(f->fd, "sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f->cg_fd = openat(f->fd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        disk(f->sys_fd, "vda", "254:0\n", "2097152\n", "[mq-deadline] none\n");
        disk(f->sys_fd, "sdb", "8:16\n", "2097152\n", "mq-deadline kyber [bfq] none\n");
        disk(f->sys_fd, "loop0", "7:0\n", "0\n", "[none]\n");
        disk(f->sys_fd, "ram0", "1:0\n", "131072\n", "none\n"); /* bio-based: no choice, no io.cost */
        /* a partition: no queue/ of its own, its disk's is one up */
        tmptree_write_string(f->sys_fd, "block/sdb/sdb1/dev", "8:17\n");
        assert_int_equal(symlinkat("../../block/sdb/sdb1", f->sys_fd, "dev/block/8:17"), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        close(f->sys_fd);
        close(f->cg_fd);
        tmptree_remove(f->path, f->fd);
        free(f);
        return 0;
}

static int check(struct fixture *f, const char *policy, char **ret_log)
{
        struct policy *p = load(policy);
        int r;

        stderr_capture_start();
        r = ioweight_check(f->sys_fd, f->cg_fd, p);
        *ret_log = stderr_capture_stop();
        policy_free(p);
        return r;
}

static void test_check_says_which_disk(void **state)
{
        struct fixture *f = *state;
        char *log;

        /* No IOWeight=: nothing to say. */
        assert_int_equal(check(f, "[group a]\nMatchName = a\nCPUWeight = 50\n", &log), 0);
        assert_string_equal(log, "");
        free(log);

        /* IOWeight= and no device in the policy: every disk with a size. vda and ram0 have neither io.cost nor bfq;
         * sdb has bfq; loop0 is not in use. No io.cost.qos at all (a kernel without io.cost) is io.cost off. */
        assert_int_equal(check(f, "[group a]\nMatchName = a\nIOWeight = 500\n", &log), 2);
        assert_non_null(strstr(log, "does nothing on device ram0 (1:0): its scheduler is none"));
        assert_non_null(strstr(log,
                               "IOWeight= ([group a] at test.ini:1) does nothing on device vda (254:0): its "
                               "scheduler is mq-deadline, not bfq, and io.cost is not enabled for it; enable it "
                               "(\"254:0 enable=1\" into the root cgroup's io.cost.qos) or use the bfq scheduler"));
        assert_null(strstr(log, "sdb"));
        assert_null(strstr(log, "loop0"));
        free(log);

        /* io.cost enabled for vda: nothing to say. A line with enable=0 is off. */
        tmptree_write_string(f->cg_fd, "io.cost.qos", "254:0 enable=1 ctrl=auto rpct=0.00 rlat=250000\n");
        assert_int_equal(check(f, "[group a]\nMatchName = a\nIOWeight = 500\n", &log), 1);
        assert_null(strstr(log, "vda"));
        free(log);
        tmptree_write_string(f->cg_fd, "io.cost.qos", "254:0 enable=0 ctrl=auto rpct=0.00 rlat=250000\n");
        assert_int_equal(check(f, "[group a]\nMatchName = a\nIOWeight = 500\n", &log), 2);
        free(log);

        /* Devices named in the policy are the ones checked (by their numbers), the name from /sys/dev/block; a
         * partition is its disk's scheduler. */
        tmptree_write_string(f->cg_fd, "io.cost.qos", "");
        assert_int_equal(check(f,
                               "[group a]\nMatchName = a\nIOWeight = 500\n[group b]\nMatchName = b\n"
                               "IOReadBandwidthMax = 8:17 1M\nIODeviceLatencyTargetSec = 254:0 5ms\n",
                               &log),
                         1);
        assert_non_null(strstr(log, "does nothing on device vda (254:0)"));
        assert_null(strstr(log, "sdb1"));
        free(log);
        tmptree_write_string(f->sys_fd, "block/sdb/queue/scheduler", "[mq-deadline] bfq none\n");
        assert_int_equal(check(f, "[group a]\nMatchName = a\nIOWeight = 500\nIOReadBandwidthMax = 8:17 1M\n", &log), 1);
        assert_non_null(strstr(log, "does nothing on device sdb1 (8:17): its scheduler is mq-deadline"));
        free(log);

        /* A device /sys does not know is left unsaid. */
        assert_int_equal(check(f, "[group a]\nMatchName = a\nIOWeight = 500\nIOReadBandwidthMax = 9:9 1M\n", &log), 0);
        free(log);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_scheduler),
                cmocka_unit_test(test_works),
                cmocka_unit_test_setup_teardown(test_check_says_which_disk, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
