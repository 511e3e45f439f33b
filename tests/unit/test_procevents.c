/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proc connector's wire format, on byte buffers laid out here by hand (not with the kernel's structs, so a
 * layout mistake in the parser cannot cancel out against the same mistake in the test). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "discover/procevents.h"

enum { CN_IDX_PROC_ = 1, CN_VAL_PROC_ = 1 };
enum { WHAT_NONE = 0, WHAT_FORK = 1, WHAT_EXEC = 2, WHAT_UID = 4, WHAT_COMM = 0x200, WHAT_EXIT = 0x80000000u };

/* Little-endian (the only byte order this runs on: x86-64), written byte by byte. */
static void put32(uint8_t *b, size_t off, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                b[off + i] = (uint8_t)(v >> (8 * i));
}

static void put16(uint8_t *b, size_t off, uint16_t v)
{
        b[off] = (uint8_t)v;
        b[off + 1] = (uint8_t)(v >> 8);
}

/* cn_msg (20 bytes) + proc_event: what, cpu, timestamp (u64 at 8), then the union at 16. Returns the length. */
static size_t build(uint8_t *b, uint32_t idx, uint32_t what, uint16_t ev_len, const uint32_t *data, size_t n_data)
{
        memset(b, 0, 128);
        put32(b, 0, idx);
        put32(b, 4, CN_VAL_PROC_);
        put32(b, 8, 77);  /* seq */
        put32(b, 12, 78); /* ack */
        put16(b, 16, ev_len);
        put32(b, 20 + 0, what);
        put32(b, 20 + 4, 1);                /* cpu */
        put32(b, 20 + 8, 0x89abcdefu);      /* timestamp, low half */
        put32(b, 20 + 12, 0x01234567u);     /* high half */
        for (size_t i = 0; i < n_data; i++) /* the union */
                put32(b, 20 + 16 + 4 * i, data[i]);
        return 20 + (size_t)ev_len;
}

static void test_exec(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {4242, 4200}; /* process_pid (thread), process_tgid */
        struct procevent e;
        size_t len = build(b, CN_IDX_PROC_, WHAT_EXEC, 40, data, 2);

        assert_int_equal(procevents_parse(b, len, &e), 0);
        assert_int_equal(e.type, PROCEVENT_EXEC);
        assert_int_equal(e.pid, 4200);
        assert_int_equal(e.tid, 4242);
        assert_int_equal(e.seq, 77);
        assert_int_equal(e.ack, 78);
        assert_true(e.timestamp_ns == 0x0123456789abcdefULL);
}

static void test_exit(void **state)
{
        uint8_t b[128];
        /* process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid */
        uint32_t data[] = {4200, 4200, 9, 17, 1, 1};
        struct procevent e;
        size_t len = build(b, CN_IDX_PROC_, WHAT_EXIT, 40, data, 6);

        assert_int_equal(procevents_parse(b, len, &e), 0);
        assert_int_equal(e.type, PROCEVENT_EXIT);
        assert_int_equal(e.pid, 4200);
        assert_int_equal(e.tid, 4200);
        assert_int_equal(e.exit_code, 9);

        /* A thread of a live process: reported with tid != pid (dispatch does not call on_exit for it). */
        data[0] = 4201;
        len = build(b, CN_IDX_PROC_, WHAT_EXIT, 40, data, 6);
        assert_int_equal(procevents_parse(b, len, &e), 0);
        assert_int_equal(e.pid, 4200);
        assert_int_equal(e.tid, 4201);

        /* Kernels before 4.x had no parent fields: 32 bytes of event are enough. */
        len = build(b, CN_IDX_PROC_, WHAT_EXIT, 32, data, 4);
        assert_int_equal(procevents_parse(b, len, &e), 0);
        assert_int_equal(e.type, PROCEVENT_EXIT);
}

static void test_ack(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {1}; /* EPERM */
        struct procevent e;
        size_t len = build(b, CN_IDX_PROC_, WHAT_NONE, 40, data, 1);

        assert_int_equal(procevents_parse(b, len, &e), 0);
        assert_int_equal(e.type, PROCEVENT_ACK);
        assert_int_equal(e.ack_error, EPERM);
        assert_int_equal(e.ack, 78);
}

/* A fork: the child process (or a new thread of the parent), with the parent's thread group. */
static void test_fork(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {4201, 4200, 5000, 5000}; /* parent_pid, parent_tgid, child_pid, child_tgid */
        struct procevent e;

        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_FORK, 32, data, 4), &e), 0);
        assert_int_equal(e.type, PROCEVENT_FORK);
        assert_int_equal(e.parent, 4200);
        assert_int_equal(e.pid, 5000);
        assert_int_equal(e.tid, 5000);
        /* a new thread: child_tgid is the parent's (dispatch does not call on_fork for it) */
        data[2] = 5001;
        data[3] = 4200;
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_FORK, 32, data, 4), &e), 0);
        assert_int_equal(e.pid, 4200);
        assert_int_equal(e.tid, 5001);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_FORK, 31, data, 3), &e), -EBADMSG);
        data[1] = 0;
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_FORK, 32, data, 4), &e), -EBADMSG);
}

/* A setuid (QEMU's -runas): the process and its new user ids. */
static void test_uid(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {4200, 4200, 65534, 65534}; /* process_pid, process_tgid, ruid, euid */
        struct procevent e;

        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_UID, 32, data, 4), &e), 0);
        assert_int_equal(e.type, PROCEVENT_UID);
        assert_int_equal(e.pid, 4200);
        assert_int_equal(e.tid, 4200);
        assert_int_equal(e.ruid, 65534);
        assert_int_equal(e.euid, 65534);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_UID, 28, data, 3), &e), -EBADMSG);
}

static void test_other(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {1, 1, 2, 2};
        struct procevent e;

        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_COMM, 40, data, 4), &e), 0);
        assert_int_equal(e.type, PROCEVENT_OTHER);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, 0x400, 40, data, 4), &e), 0);
        assert_int_equal(e.type, PROCEVENT_OTHER);
}

static void test_malformed(void **state)
{
        uint8_t b[128];
        uint32_t data[] = {4242, 4200, 0, 0, 0, 0};
        struct procevent e = {.type = PROCEVENT_OTHER, .pid = -5};
        size_t len;

        /* Shorter than the connector header. */
        memset(b, 0, sizeof(b));
        assert_int_equal(procevents_parse(b, 19, &e), -EBADMSG);
        /* Another connector user. */
        len = build(b, 2, WHAT_EXEC, 40, data, 2);
        assert_int_equal(procevents_parse(b, len, &e), -EPROTO);
        /* The header's length runs past the buffer. */
        len = build(b, CN_IDX_PROC_, WHAT_EXEC, 40, data, 2);
        assert_int_equal(procevents_parse(b, len - 1, &e), -EBADMSG);
        /* Too short for the header of the event, or for an exec / exit / ack body. */
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_EXEC, 15, data, 0), &e), -EBADMSG);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_EXEC, 23, data, 1), &e), -EBADMSG);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_EXIT, 31, data, 3), &e), -EBADMSG);
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_NONE, 19, data, 0), &e), -EBADMSG);
        /* pid 0 or negative */
        data[1] = 0;
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_EXEC, 40, data, 2), &e), -EBADMSG);
        data[1] = 0xffffffffu;
        assert_int_equal(procevents_parse(b, build(b, CN_IDX_PROC_, WHAT_EXEC, 40, data, 2), &e), -EBADMSG);
        /* ret untouched on every failure */
        assert_int_equal(e.pid, -5);
        /* Trailing bytes after the event (netlink padding) are fine. */
        data[1] = 4200;
        len = build(b, CN_IDX_PROC_, WHAT_EXEC, 24, data, 2);
        assert_int_equal(procevents_parse(b, len + 4, &e), 0);
        assert_int_equal(e.pid, 4200);
}

static void test_request(void **state)
{
        uint8_t b[PROCEVENTS_REQUEST_SIZE];
        static const uint8_t listen[PROCEVENTS_REQUEST_SIZE] = {
                1,    0,    0,    0,    1, 0, 0, 0, /* idx, val */
                0x78, 0x56, 0x34, 0x12,             /* seq */
                0x78, 0x56, 0x34, 0x12,             /* ack */
                4,    0,    0,    0,                /* len, flags */
                1,    0,    0,    0,                /* PROC_CN_MCAST_LISTEN */
        };

        assert_int_equal(procevents_request_build(0x12345678, 1, b), PROCEVENTS_REQUEST_SIZE);
        assert_memory_equal(b, listen, sizeof(listen));
        procevents_request_build(0x12345678, 0, b);
        assert_int_equal(b[20], 2); /* PROC_CN_MCAST_IGNORE */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exec),      cmocka_unit_test(test_exit),    cmocka_unit_test(test_ack),
                cmocka_unit_test(test_fork),      cmocka_unit_test(test_uid),     cmocka_unit_test(test_other),
                cmocka_unit_test(test_malformed), cmocka_unit_test(test_request),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
