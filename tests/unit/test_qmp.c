/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The QMP client: the command line's sockets, the framing, each message, and whole exchanges with a fake server
 * (tests/unit/fakeqmp.h) over a socketpair and over a unix socket in a fake /proc tree's root. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "discover/qmp.h"
#include "kernel/macro.h"
#include "testutil.h"
#include "fakeqmp.h"

/* What QEMU 7.2 answers (the topology's "thread-id" inside props is not the thread's) */
#define CPUS_REPLY                                                                                                     \
        "{\"return\": [{\"thread-id\": 1235, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, "           \
        "\"socket-id\": 0}, \"qom-path\": \"/machine/unattached/device[0]\", \"cpu-index\": 0, \"target\": "           \
        "\"x86_64\"}, {\"thread-id\": 1236, \"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, "            \
        "\"socket-id\": 1}, \"qom-path\": \"/machine/unattached/device[1]\", \"cpu-index\": 1, \"target\": "           \
        "\"x86_64\"}], \"id\": 2}\r\n"
#define IOTHREADS_REPLY                                                                                                \
        "{\"return\": [{\"poll-shrink\": 0, \"thread-id\": 1240, \"poll-grow\": 0, \"aio-max-batch\": 0, "             \
        "\"poll-max-ns\": 32768, \"id\": \"io0\"}], \"id\": 3}\r\n"

/* ---- the command line ---- */

static int sockets(const char *argv, size_t len, char paths[][QMP_PATH_MAX])
{
        return qmp_sockets_parse(argv, len, paths, QMP_SOCKETS_MAX);
}

#define ARGV(s) s, sizeof(s) /* a literal's NULs are the separators, its final NUL the last one's */

static void test_sockets_qmp(void **state)
{
        char p[QMP_SOCKETS_MAX][QMP_PATH_MAX];

        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/q.sock,server=on,wait=off"), p), 1);
        assert_string_equal(p[0], "/run/q.sock");
        /* the old spelling: bare flags */
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/q.sock,server,nowait"), p), 1);
        assert_int_equal(sockets(ARGV("qemu\0--qmp-pretty\0unix:path=/run/p.sock,server=yes"), p), 1);
        assert_string_equal(p[0], "/run/p.sock");
        /* ",," is a comma in QEMU's options */
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/a,,b.sock,server=on"), p), 1);
        assert_string_equal(p[0], "/run/a,b.sock");
        /* a relative path is kept as it is: qmp_connect resolves it in QEMU's working directory */
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:q.sock,server=on"), p), 1);
        assert_string_equal(p[0], "q.sock");
}

static void test_sockets_refused(void **state)
{
        char p[QMP_SOCKETS_MAX][QMP_PATH_MAX], long_arg[256];
        int n;

        /* QEMU connects out: not a socket it listens on */
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/q.sock"), p), 0);
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/q.sock,server=off"), p), 0);
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0tcp:127.0.0.1:4444,server=on"), p), 0);
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0stdio"), p), 0);
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/run/q.sock,server=on,abstract=on"), p), 0);
        /* the option at the very end, without its argument */
        assert_int_equal(sockets(ARGV("qemu\0-qmp"), p), 0);
        /* a path QEMU could not bind (sun_path is 108 bytes) */
        n = snprintf(long_arg, sizeof(long_arg), "unix:/%0150d,server=on", 0);
        assert_true(n > 0);
        {
                char argv[300];
                size_t len = (size_t)snprintf(argv, sizeof(argv), "qemu%c-qmp%c%s", 0, 0, long_arg) + 1;

                assert_int_equal(qmp_sockets_parse(argv, len, p, QMP_SOCKETS_MAX), 0);
        }
        /* an unterminated last argument in a buffer of exactly its size (ASan sees a read past it; the fuzzer's
         * first find): "-" and "-q" are no options */
        {
                _cleanup_free_ char *exact = malloc(7);

                assert_non_null(exact);
                memcpy(exact, "qemu\0-q", 7);
                assert_int_equal(qmp_sockets_parse(exact, 6, p, QMP_SOCKETS_MAX), 0);
                assert_int_equal(qmp_sockets_parse(exact, 7, p, QMP_SOCKETS_MAX), 0);
        }
        /* the empty command line of a zombie */
        assert_int_equal(qmp_sockets_parse("", 0, p, QMP_SOCKETS_MAX), 0);
}

static void test_sockets_chardev(void **state)
{
        char p[QMP_SOCKETS_MAX][QMP_PATH_MAX];

        assert_int_equal(sockets(ARGV("qemu\0-chardev\0socket,id=mon0,path=/run/m.sock,server=on,wait=off\0"
                                      "-mon\0chardev=mon0,mode=control"),
                                 p),
                         1);
        assert_string_equal(p[0], "/run/m.sock");
        /* the -mon may come first; its chardev key may be implicit */
        assert_int_equal(sockets(ARGV("qemu\0-mon\0mon0,mode=control,pretty=on\0"
                                      "-chardev\0socket,id=mon0,path=/run/m.sock,server=on"),
                                 p),
                         1);
        assert_int_equal(sockets(ARGV("qemu\0-chardev\0socket,id=mon0,path=/run/m.sock,server=on\0"
                                      "-qmp\0chardev:mon0"),
                                 p),
                         1);
        /* a human monitor (readline, the default mode) speaks no QMP */
        assert_int_equal(sockets(ARGV("qemu\0-chardev\0socket,id=mon0,path=/run/m.sock,server=on\0"
                                      "-mon\0chardev=mon0"),
                                 p),
                         0);
        /* libvirt passes its monitor as an fd: no path to connect to */
        assert_int_equal(sockets(ARGV("qemu\0-chardev\0socket,id=charmonitor,fd=23,server=on,wait=off\0"
                                      "-mon\0chardev=charmonitor,id=monitor,mode=control"),
                                 p),
                         0);
        /* a -mon naming a chardev that is not there, or not a socket */
        assert_int_equal(sockets(ARGV("qemu\0-mon\0chardev=nope,mode=control"), p), 0);
        assert_int_equal(sockets(ARGV("qemu\0-chardev\0file,id=mon0,path=/tmp/x\0-mon\0chardev=mon0,mode=control"), p),
                         0);
}

static void test_sockets_several(void **state)
{
        char p[QMP_SOCKETS_MAX][QMP_PATH_MAX];

        /* command line order; one path named twice is tried once; at most max */
        assert_int_equal(sockets(ARGV("qemu\0-qmp\0unix:/a,server=on\0-chardev\0socket,id=m,path=/b,server=on\0"
                                      "-mon\0chardev=m,mode=control\0-qmp\0unix:/a,server=on\0-qmp\0unix:/c,server\0"
                                      "-qmp\0unix:/d,server\0-qmp\0unix:/e,server"),
                                 p),
                         4);
        assert_string_equal(p[0], "/a");
        assert_string_equal(p[1], "/b");
        assert_string_equal(p[2], "/c");
        assert_string_equal(p[3], "/d");
        assert_int_equal(qmp_sockets_parse(ARGV("qemu\0-qmp\0unix:/a,server=on\0-qmp\0unix:/b,server"), p, 1), 1);
        assert_string_equal(p[0], "/a");
        /* an unterminated last argument still counts */
        assert_int_equal(qmp_sockets_parse("qemu\0-qmp\0unix:/a,server", 25, p, QMP_SOCKETS_MAX), 1);
        assert_string_equal(p[0], "/a");
}

/* ---- framing ---- */

static void test_frame(void **state)
{
        static const char s[] = " {\"a\": \"}{\\\"\"}\r\n{\"b\": [{}]}  {\"c\"";
        struct qmp_framer f = {};
        size_t start, end;

        assert_int_equal(qmp_frame_next(&f, s, strlen(s), &start, &end), 1);
        assert_int_equal(start, 1);
        assert_int_equal(end, strlen(" {\"a\": \"}{\\\"\"}"));
        assert_int_equal(qmp_frame_next(&f, s, strlen(s), &start, &end), 1);
        assert_memory_equal(s + start, "{\"b\": [{}]}", end - start);
        /* the third has not all arrived */
        assert_int_equal(qmp_frame_next(&f, s, strlen(s), &start, &end), 0);
}

static void test_frame_byte_by_byte(void **state)
{
        static const char s[] = QMP_GREETING QMP_EVENT QMP_CAPS_OK CPUS_REPLY;
        struct qmp_framer f = {};
        size_t start, end, found = 0, last_end = 0;

        /* the stream arriving one byte at a time gives the same four objects, each found when its last byte came */
        for (size_t len = 0; len <= strlen(s); len++) {
                int r = qmp_frame_next(&f, s, len, &start, &end);

                assert_true(r >= 0);
                if (r == 1) {
                        assert_int_equal(end, len);
                        assert_int_equal(s[end - 1], '}');
                        assert_true(start >= last_end);
                        last_end = end;
                        found++;
                        /* one more call: no second object in the same bytes */
                        assert_int_equal(qmp_frame_next(&f, s, len, &start, &end), 0);
                }
        }
        assert_int_equal(found, 4);
}

static void test_frame_refused(void **state)
{
        char deep[QMP_DEPTH_MAX + 2];
        struct qmp_framer f = {};
        size_t start, end;

        assert_int_equal(qmp_frame_next(&f, "[1]", 3, &start, &end), -EBADMSG);
        /* brackets of the other kind: refused at once, not waited for */
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, "{\"a\": [}", 8, &start, &end), -EBADMSG);
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, "{\"a\": {]", 8, &start, &end), -EBADMSG);
        /* inside a string they are text */
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, "{\"a\": \"[}\"}", 12, &start, &end), 1);
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, "{} x", 4, &start, &end), 1);
        assert_int_equal(qmp_frame_next(&f, "{} x", 4, &start, &end), -EBADMSG);
        memset(deep, '[', sizeof(deep));
        deep[0] = '{';
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, deep, QMP_DEPTH_MAX, &start, &end), 0);
        f = (struct qmp_framer){};
        assert_int_equal(qmp_frame_next(&f, deep, sizeof(deep), &start, &end), -EBADMSG);
}

/* ---- messages ---- */

static int parse(const char *msg, enum qmp_expect expect, unsigned id, struct qmp_threads *t)
{
        return qmp_message_parse(msg, strlen(msg), expect, id, t);
}

static void test_message_greeting(void **state)
{
        struct qmp_threads t = {};

        assert_int_equal(parse(QMP_GREETING, QMP_EXPECT_GREETING, 0, &t), 0);
        assert_int_equal(t.version_major, 7);
        assert_int_equal(t.version_minor, 2);
        assert_int_equal(t.version_micro, 0);
        assert_int_equal(parse("{\"QMP\": {\"version\": {}}}", QMP_EXPECT_GREETING, 0, &t), -EBADMSG);
        assert_int_equal(parse(QMP_CAPS_OK, QMP_EXPECT_GREETING, 0, &t), -EBADMSG);
        assert_int_equal(parse(QMP_CAPS_OK, QMP_EXPECT_CAPABILITIES, 1, &t), 0);
        assert_int_equal(parse(QMP_EVENT, QMP_EXPECT_CAPABILITIES, 1, &t), 1);
}

static void test_message_cpus(void **state)
{
        struct qmp_threads t = {};

        assert_int_equal(parse(CPUS_REPLY, QMP_EXPECT_CPUS, 2, &t), 0);
        assert_int_equal(t.n_vcpus, 2);
        assert_int_equal(t.vcpus[0].index, 0);
        assert_int_equal(t.vcpus[0].tid, 1235);
        assert_int_equal(t.vcpus[1].index, 1);
        assert_int_equal(t.vcpus[1].tid, 1236);
        /* single-threaded TCG: every vCPU on one thread is fine */
        assert_int_equal(parse("{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}, {\"cpu-index\": 1, "
                               "\"thread-id\": 7}], \"id\": 2}",
                               QMP_EXPECT_CPUS, 2, &t),
                         0);
        assert_int_equal(t.n_vcpus, 2);
        assert_int_equal(t.vcpus[1].tid, 7);
        /* an empty list is an answer */
        assert_int_equal(parse("{\"return\": [], \"id\": 2}", QMP_EXPECT_CPUS, 2, &t), 0);
        assert_int_equal(t.n_vcpus, 0);
        qmp_threads_done(&t);
}

static void test_message_refused(void **state)
{
        static const char *const bad[] = {
                /* the reply to another command */
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}], \"id\": 1}",
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}]}",
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}], \"id\": \"2\"}",
                /* numbers out of range: jansson's "i" would have wrapped this one to 1215752191 */
                "{\"return\": [{\"cpu-index\": 99999999999, \"thread-id\": 7}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": -1, \"thread-id\": 7}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 0}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 2147483648}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": \"7\"}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": 0.5, \"thread-id\": 7}], \"id\": 2}",
                "{\"return\": [{\"cpu-index\": 0}], \"id\": 2}",
                "{\"return\": [7], \"id\": 2}",
                "{\"return\": {}, \"id\": 2}",
                "{\"id\": 2}",
                /* one vCPU twice */
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7}, {\"cpu-index\": 0, \"thread-id\": 8}], \"id\": 2}",
                /* a key twice: which one would count? */
                "{\"return\": [{\"cpu-index\": 0, \"thread-id\": 7, \"thread-id\": 8}], \"id\": 2}",
                /* not strict JSON */
                "{\"return\": [], \"id\": 2,}",
                "{'return': [], 'id': 2}",
                "[]",
                "",
        };
        struct qmp_threads t = {};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (parse(bad[i], QMP_EXPECT_CPUS, 2, &t) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
        }
        assert_null(t.vcpus);
}

static void test_message_strings(void **state)
{
        struct qmp_threads t = {};
        char msg[512], id[200];

        assert_int_equal(parse(IOTHREADS_REPLY, QMP_EXPECT_IOTHREADS, 3, &t), 0);
        assert_int_equal(t.n_iothreads, 1);
        assert_string_equal(t.iothreads[0].id, "io0");
        assert_false(t.iothreads[0].id_truncated);
        assert_int_equal(t.iothreads[0].tid, 1240);

        /* invalid UTF-8, a NUL and a lone surrogate never reach an id */
        assert_int_equal(
                parse("{\"return\": [{\"id\": \"\xff\", \"thread-id\": 7}], \"id\": 3}", QMP_EXPECT_IOTHREADS, 3, &t),
                -EBADMSG);
        assert_int_equal(parse("{\"return\": [{\"id\": \"a\\u0000b\", \"thread-id\": 7}], \"id\": 3}",
                               QMP_EXPECT_IOTHREADS, 3, &t),
                         -EBADMSG);
        assert_int_equal(parse("{\"return\": [{\"id\": \"\\ud800\", \"thread-id\": 7}], \"id\": 3}",
                               QMP_EXPECT_IOTHREADS, 3, &t),
                         -EBADMSG);

        /* a long id is cut between characters: 126 'x' then a 2-byte character that does not fit */
        memset(id, 'x', 126);
        strcpy(id + 126, "\xc3\xa9tail");
        snprintf(msg, sizeof(msg), "{\"return\": [{\"id\": \"%s\", \"thread-id\": 7}], \"id\": 3}", id);
        assert_int_equal(parse(msg, QMP_EXPECT_IOTHREADS, 3, &t), 0);
        assert_int_equal(strlen(t.iothreads[0].id), 126);
        assert_true(t.iothreads[0].id_truncated);

        /* an error reply, its class kept */
        assert_int_equal(parse("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}, \"id\": 3}",
                               QMP_EXPECT_IOTHREADS, 3, &t),
                         -EREMOTEIO);
        assert_string_equal(t.error_class, "CommandNotFound");
        qmp_threads_done(&t);
}

static void test_message_budget(void **state)
{
        size_t size = (QMP_VCPUS_MAX + 1) * 48 + 64, len = 0, before_last = 0;
        _cleanup_free_ char *msg = malloc(size);
        struct qmp_threads t = {};

        assert_non_null(msg);
        len += (size_t)snprintf(msg + len, size - len, "{\"return\": [");
        for (int i = 0; i < QMP_VCPUS_MAX + 1; i++) {
                before_last = len;
                len += (size_t)snprintf(msg + len, size - len, "%s{\"cpu-index\": %d, \"thread-id\": %d}", i ? "," : "",
                                        i, 1000 + i);
        }
        len += (size_t)snprintf(msg + len, size - len, "], \"id\": 2}");
        assert_true(len < size);
        assert_int_equal(qmp_message_parse(msg, len, QMP_EXPECT_CPUS, 2, &t), -E2BIG);
        assert_null(t.vcpus);

        /* exactly the budget is taken: the last element cut off */
        len = before_last;
        len += (size_t)snprintf(msg + len, size - len, "], \"id\": 2}");
        assert_int_equal(qmp_message_parse(msg, len, QMP_EXPECT_CPUS, 2, &t), 0);
        assert_int_equal(t.n_vcpus, QMP_VCPUS_MAX);
        assert_int_equal(t.vcpus[QMP_VCPUS_MAX - 1].tid, 1000 + QMP_VCPUS_MAX - 1);
        qmp_threads_done(&t);
}

/* ---- exchanges over a socketpair ---- */

static int exchange(const char *const *script, int timeout_ms, struct qmp_threads *t, long *ret_ms)
{
        pid_t child;
        int fd = fake_qmp_pair(script, &child), r;
        long t0 = fake_now_ms();

        *t = (struct qmp_threads){};
        r = qmp_exchange(fd, timeout_ms, t);
        if (ret_ms)
                *ret_ms = fake_now_ms() - t0;
        close(fd);
        (void)fake_qmp_wait(child, true);
        return r;
}

static void test_exchange(void **state)
{
        /* events before and between the replies, one reply in pieces */
        const char *const script[] = {">" QMP_GREETING,
                                      "<",
                                      ">" QMP_EVENT QMP_EVENT,
                                      ">" QMP_CAPS_OK,
                                      "<",
                                      "/" CPUS_REPLY,
                                      "<",
                                      ">" QMP_EVENT IOTHREADS_REPLY,
                                      ".",
                                      NULL};
        struct qmp_threads t;

        assert_int_equal(exchange(script, 2000, &t, NULL), 0);
        assert_int_equal(t.version_major, 7);
        assert_int_equal(t.n_vcpus, 2);
        assert_int_equal(t.vcpus[0].tid, 1235);
        assert_int_equal(t.vcpus[1].tid, 1236);
        assert_int_equal(t.n_iothreads, 1);
        assert_string_equal(t.iothreads[0].id, "io0");
        assert_false(t.iothreads_unknown);
        qmp_threads_done(&t);
}

static void test_exchange_no_iothreads_command(void **state)
{
        const char *const script[] = {">" QMP_GREETING,
                                      "<",
                                      ">" QMP_CAPS_OK,
                                      "<",
                                      ">" CPUS_REPLY,
                                      "<",
                                      ">{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                                      "query-iothreads has not been found\"}, \"id\": 3}\r\n",
                                      ".",
                                      NULL};
        struct qmp_threads t;

        assert_int_equal(exchange(script, 2000, &t, NULL), 0);
        assert_int_equal(t.n_vcpus, 2);
        assert_true(t.iothreads_unknown);
        assert_int_equal(t.n_iothreads, 0);
        qmp_threads_done(&t);
}

static void test_exchange_busy(void **state)
{
        /* another client holds the monitor: no greeting ever comes */
        const char *const silent[] = {"~3000", NULL};
        const char *const stuck[] = {">" QMP_GREETING, "<", "~3000", NULL};
        struct qmp_threads t;
        long ms;

        assert_int_equal(exchange(silent, 200, &t, &ms), -EBUSY);
        assert_true(ms >= 195 && ms < 400);
        /* greeted, then nothing: a timeout, within the same bound */
        assert_int_equal(exchange(stuck, 200, &t, &ms), -ETIMEDOUT);
        assert_true(ms >= 195 && ms < 400);
        qmp_threads_done(&t);
}

static void test_exchange_refused(void **state)
{
        const char *const closes[] = {">" QMP_GREETING, "<", NULL};
        const char *const garbage[] = {">" QMP_GREETING, "<", ">" QMP_CAPS_OK, "<", ">{\"return\": [}\r\n", ".", NULL};
        const char *const not_json[] = {">Welcome to the machine\r\n", ".", NULL};
        /* one reply bigger than what an exchange may read */
        const char *const huge[] = {">" QMP_GREETING, "<", ">" QMP_CAPS_OK, "<", "#1100000", ".", NULL};
        const char *const wrong_id[] = {">" QMP_GREETING, "<", ">{\"return\": {}, \"id\": 7}\r\n", ".", NULL};
        struct qmp_threads t;
        long ms;

        assert_int_equal(exchange(closes, 2000, &t, NULL), -ECONNRESET);
        assert_int_equal(exchange(garbage, 2000, &t, NULL), -EBADMSG);
        assert_int_equal(exchange(not_json, 2000, &t, NULL), -EBADMSG);
        assert_int_equal(exchange(huge, 5000, &t, &ms), -EMSGSIZE);
        assert_int_equal(exchange(wrong_id, 2000, &t, NULL), -EBADMSG);
        qmp_threads_done(&t);
}

/* ---- a unix socket in a fake /proc: the QEMU process is the fake server ---- */

struct fixture {
        char dir[256]; /* short: a socket path under it must fit sun_path */
        int dir_fd, proc_fd;
};

static void fixture_new(struct fixture *f)
{
        f->dir_fd = tmptree_new(f->dir, sizeof(f->dir));
        tmptree_mkdir(f->dir_fd, "proc");
        tmptree_mkdir(f->dir_fd, "rootfs/run");
        f->proc_fd = openat(f->dir_fd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->proc_fd >= 0);
}

static void fixture_free(struct fixture *f)
{
        close(f->proc_fd);
        tmptree_remove(f->dir, f->dir_fd);
}

/* /proc/PID of the fake QEMU: its command line, its uid, its root and working directory (rootfs). */
static void fixture_process(struct fixture *f, pid_t pid, const char *argv, size_t len, uid_t uid)
{
        char path[PATH_MAX], status[64];

        snprintf(path, sizeof(path), "proc/%d/cmdline", (int)pid);
        tmptree_write(f->dir_fd, path, argv, len);
        snprintf(path, sizeof(path), "proc/%d/status", (int)pid);
        snprintf(status, sizeof(status), "Name:\tqemu\nUid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
        tmptree_write_string(f->dir_fd, path, status);
        snprintf(path, sizeof(path), "proc/%d/root", (int)pid);
        assert_int_equal(symlinkat("../../rootfs", f->dir_fd, path), 0);
        snprintf(path, sizeof(path), "proc/%d/cwd", (int)pid);
        assert_int_equal(symlinkat("../../rootfs/run", f->dir_fd, path), 0);
}

static pid_t fixture_listen(struct fixture *f, const char *path, const char *const *script)
{
        char full[PATH_MAX];

        snprintf(full, sizeof(full), "%s/%s", f->dir, path);
        return fake_qmp_listen(full, script);
}

static const char *const happy[] = {
        ">" QMP_GREETING, "<", ">" QMP_CAPS_OK, "<", ">" CPUS_REPLY, "<", ">" IOTHREADS_REPLY, ".", NULL};

static void test_query(void **state)
{
        struct fixture f;
        struct qmp_threads t;
        pid_t qemu;

        fixture_new(&f);
        qemu = fixture_listen(&f, "rootfs/run/qmp.sock", happy);
        /* the path is QEMU's: /run/qmp.sock inside its root; a monitor before it is a client, not tried */
        fixture_process(&f, qemu, ARGV("qemu\0-qmp\0unix:/run/client.sock\0-qmp\0unix:/run/qmp.sock,server=on"),
                        geteuid());
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), 0);
        assert_string_equal(t.socket, "/run/qmp.sock");
        assert_int_equal(t.n_vcpus, 2);
        assert_int_equal(t.vcpus[1].tid, 1236);
        assert_int_equal(t.n_iothreads, 1);
        qmp_threads_done(&t);
        assert_int_equal(fake_qmp_wait(qemu, false), 0);
        fixture_free(&f);
}

static void test_query_relative(void **state)
{
        struct fixture f;
        struct qmp_threads t;
        pid_t qemu;

        fixture_new(&f);
        qemu = fixture_listen(&f, "rootfs/run/qmp.sock", happy);
        fixture_process(&f, qemu, ARGV("qemu\0-qmp\0unix:qmp.sock,server=on"), geteuid());
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), 0);
        assert_int_equal(t.n_vcpus, 2);
        qmp_threads_done(&t);
        assert_int_equal(fake_qmp_wait(qemu, false), 0);
        fixture_free(&f);
}

static void test_query_untrusted(void **state)
{
        static const char argv[] = "qemu\0-qmp\0unix:/run/qmp.sock,server=on";
        struct fixture f;
        struct qmp_threads t;
        pid_t other, server;

        fixture_new(&f);
        server = fixture_listen(&f, "rootfs/run/qmp.sock", happy);
        /* the socket file is not owned by the process's uid: refused before connecting */
        fixture_process(&f, server, argv, sizeof(argv), geteuid() + 4242);
        assert_int_equal(qmp_threads_query(f.proc_fd, server, 2000, &t), -EPERM);
        assert_string_equal(t.socket, "/run/qmp.sock");
        /* the listener never had a client (it would have greeted it, failed and exited): it still waits */
        fake_sleep_ms(50);
        assert_int_equal(waitpid(server, NULL, WNOHANG), 0);

        /* the socket is someone else's: the listener is not the process the command line belongs to */
        other = server + 100000;
        fixture_process(&f, other, argv, sizeof(argv), geteuid());
        assert_int_equal(qmp_threads_query(f.proc_fd, other, 2000, &t), -EPERM);
        assert_null(t.vcpus);
        (void)fake_qmp_wait(server, true);
        fixture_free(&f);
}

static void test_query_escape(void **state)
{
        static const char argv[] = "qemu\0-qmp\0unix:/run/link.sock,server=on";
        struct fixture f;
        struct qmp_threads t;
        char outside[PATH_MAX];
        pid_t server, qemu = 4242;

        fixture_new(&f);
        /* a symlink out of QEMU's root to a socket outside it: resolved inside the root, it is not there */
        server = fixture_listen(&f, "outside.sock", happy);
        snprintf(outside, sizeof(outside), "%s/outside.sock", f.dir);
        assert_int_equal(symlinkat("../../outside.sock", f.dir_fd, "rootfs/run/link.sock"), 0);
        fixture_process(&f, qemu, argv, sizeof(argv), geteuid());
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), -ENOENT);
        assert_string_equal(t.socket, "/run/link.sock");
        /* an absolute one is the root's too */
        assert_int_equal(unlinkat(f.dir_fd, "rootfs/run/link.sock", 0), 0);
        assert_int_equal(symlinkat(outside, f.dir_fd, "rootfs/run/link.sock"), 0);
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), -ENOENT);
        /* never connected: the server still waits for its first client */
        fake_sleep_ms(50);
        assert_int_equal(waitpid(server, NULL, WNOHANG), 0);
        (void)fake_qmp_wait(server, true);
        fixture_free(&f);
}

static void test_query_not_there(void **state)
{
        struct fixture f;
        struct qmp_threads t;
        pid_t qemu = 4242;

        fixture_new(&f);
        /* no QMP socket on the command line */
        fixture_process(&f, qemu, ARGV("qemu\0-name\0vm"), geteuid());
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), -ENOENT);
        assert_string_equal(t.socket, "");
        /* not a socket */
        tmptree_write(f.dir_fd, "proc/4242/cmdline", ARGV("qemu\0-qmp\0unix:/run/file,server=on"));
        tmptree_write_string(f.dir_fd, "rootfs/run/file", "");
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), -ENOTSOCK);
        /* a socket file nobody listens on any more (QEMU killed, its socket left behind) */
        {
                pid_t gone = fixture_listen(&f, "rootfs/run/stale.sock", NULL);

                (void)fake_qmp_wait(gone, true);
                tmptree_write(f.dir_fd, "proc/4242/cmdline", ARGV("qemu\0-qmp\0unix:/run/stale.sock,server=on"));
                assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 2000, &t), -ECONNREFUSED);
        }
        /* a process that is gone */
        assert_int_equal(qmp_threads_query(f.proc_fd, 4343, 2000, &t), -ENOENT);
        fixture_free(&f);
}

static void test_query_busy_then_next(void **state)
{
        struct fixture f;
        struct qmp_threads t;
        pid_t busy, qemu;
        long t0, ms;

        fixture_new(&f);
        /* the first monitor never greets (its one client is someone else); the second answers in what is left */
        busy = fixture_listen(&f, "rootfs/run/busy.sock", NULL);
        qemu = fixture_listen(&f, "rootfs/run/qmp.sock", happy);
        fixture_process(&f, qemu, ARGV("qemu\0-qmp\0unix:/run/busy.sock,server=on\0-qmp\0unix:/run/qmp.sock,server=on"),
                        geteuid());
        /* the busy one is not QEMU's own (another listener): refused at once, no time spent */
        t0 = fake_now_ms();
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 200, &t), 0);
        ms = fake_now_ms() - t0;
        assert_true(ms < 150);
        qmp_threads_done(&t);
        (void)fake_qmp_wait(qemu, false);
        (void)fake_qmp_wait(busy, true);
        fixture_free(&f);
}

static void test_query_busy_timeout(void **state)
{
        static const char argv[] = "qemu\0-qmp\0unix:/run/qmp.sock,server=on";
        struct fixture f;
        struct qmp_threads t;
        pid_t qemu;
        long t0, ms;

        fixture_new(&f);
        /* QEMU's own monitor, serving another client: connect works, no greeting comes; the whole query keeps to
         * its 200 ms */
        qemu = fixture_listen(&f, "rootfs/run/qmp.sock", NULL);
        fixture_process(&f, qemu, argv, sizeof(argv), geteuid());
        t0 = fake_now_ms();
        assert_int_equal(qmp_threads_query(f.proc_fd, qemu, 200, &t), -EBUSY);
        ms = fake_now_ms() - t0;
        assert_true(ms >= 195 && ms < 400);
        assert_null(t.vcpus);
        (void)fake_qmp_wait(qemu, true);
        fixture_free(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sockets_qmp),
                cmocka_unit_test(test_sockets_refused),
                cmocka_unit_test(test_sockets_chardev),
                cmocka_unit_test(test_sockets_several),
                cmocka_unit_test(test_frame),
                cmocka_unit_test(test_frame_byte_by_byte),
                cmocka_unit_test(test_frame_refused),
                cmocka_unit_test(test_message_greeting),
                cmocka_unit_test(test_message_cpus),
                cmocka_unit_test(test_message_refused),
                cmocka_unit_test(test_message_strings),
                cmocka_unit_test(test_message_budget),
                cmocka_unit_test(test_exchange),
                cmocka_unit_test(test_exchange_no_iothreads_command),
                cmocka_unit_test(test_exchange_busy),
                cmocka_unit_test(test_exchange_refused),
                cmocka_unit_test(test_query),
                cmocka_unit_test(test_query_relative),
                cmocka_unit_test(test_query_untrusted),
                cmocka_unit_test(test_query_escape),
                cmocka_unit_test(test_query_not_there),
                cmocka_unit_test(test_query_busy_then_next),
                cmocka_unit_test(test_query_busy_timeout),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
