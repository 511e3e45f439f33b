/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a QEMU process says over QMP, and its command line: someone else wrote both. The input is a stream as the
 * socket delivers it; the framer cuts it into objects the same way whether it arrives whole or byte by byte, and
 * each object is parsed as every answer the client waits for. Whatever is taken stays in its budget: vCPU indexes
 * unique and in range, thread ids positive, ids NUL-terminated within QMP_ID_MAX and cut only between characters.
 * The same bytes as an argv: the socket paths found are non-empty and fit sun_path.
 */
#include <errno.h>
#include <limits.h>

#include "discover/qmp.h"
#include "fuzz.h"

static void check(const struct qmp_threads *t)
{
        if (t->n_vcpus > QMP_VCPUS_MAX || t->n_iothreads > QMP_IOTHREADS_MAX)
                abort();
        for (size_t i = 0; i < t->n_vcpus; i++) {
                if (t->vcpus[i].index < 0 || t->vcpus[i].tid <= 0)
                        abort();
                for (size_t j = 0; j < i; j++)
                        if (t->vcpus[j].index == t->vcpus[i].index)
                                abort();
        }
        for (size_t i = 0; i < t->n_iothreads; i++) {
                const char *id = t->iothreads[i].id;
                size_t len = strnlen(id, sizeof(t->iothreads[i].id));

                if (len > QMP_ID_MAX || t->iothreads[i].tid <= 0)
                        abort();
                /* a cut id ends on a whole character: its last lead byte has all its continuation bytes */
                if (t->iothreads[i].id_truncated && len > 0) {
                        size_t k = len;

                        while (k > 0 && ((unsigned char)id[k - 1] & 0xc0) == 0x80)
                                k--;
                        if (k > 0) {
                                unsigned char lead = (unsigned char)id[k - 1];
                                size_t want = lead < 0x80 ? 0 : lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;

                                if (len - k != want)
                                        abort();
                        }
                }
        }
        if (!memchr(t->error_class, '\0', sizeof(t->error_class)))
                abort();
}

static void parse_all(const char *msg, size_t len)
{
        struct qmp_threads t = {};

        for (unsigned e = QMP_EXPECT_GREETING; e <= QMP_EXPECT_IOTHREADS; e++) {
                int r = qmp_message_parse(msg, len, (enum qmp_expect)e, e, &t);

                if (r > 1 || (r < 0 && r != -EBADMSG && r != -EREMOTEIO && r != -E2BIG && r != -ENOMEM))
                        abort();
                check(&t);
        }
        qmp_threads_done(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data;
        struct qmp_framer whole = {}, bytes = {};
        char paths[QMP_SOCKETS_MAX][QMP_PATH_MAX];
        size_t start, end, start2, end2, fed = 0;
        int r, n;

        for (;;) {
                r = qmp_frame_next(&whole, buf, size, &start, &end);
                if (r <= 0)
                        break;
                if (start >= end || end > size || buf[start] != '{' || buf[end - 1] != '}')
                        abort();
                /* byte by byte, the same object ends at the same byte */
                for (;;) {
                        int r2 = qmp_frame_next(&bytes, buf, fed, &start2, &end2);

                        if (r2 < 0)
                                abort();
                        if (r2 > 0)
                                break;
                        if (fed == size)
                                abort();
                        fed++;
                }
                if (start2 != start || end2 != end || fed != end)
                        abort();
                parse_all(buf + start, end - start);
        }
        /* the whole input as one message too, framed or not */
        parse_all(buf, size);

        n = qmp_sockets_parse(buf, size, paths, QMP_SOCKETS_MAX);
        if ((n < 0 && n != -ENOMEM) || n > (int)QMP_SOCKETS_MAX)
                abort();
        for (int i = 0; i < n; i++) {
                size_t len = strnlen(paths[i], QMP_PATH_MAX);

                if (len == 0 || len >= QMP_PATH_MAX)
                        abort();
        }
        return 0;
}
