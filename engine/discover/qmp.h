/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

/*
 * Asking a QEMU process over its QMP socket which threads are its vCPUs (query-cpus-fast) and its IO threads
 * (query-iothreads). Two halves: pure parsers (the command line's QMP sockets, the framing of the stream, each
 * message), tested and fuzzed on buffers; and one exchange on a real socket, bounded in time and bytes.
 *
 * The command line, the socket and every reply come from whoever runs QEMU: the socket is used only once it is
 * proven to be that process's own (a socket file of its uid, the listener that very process), every count has a
 * budget, and the ids are untrusted text (escape_text() them to print). The socket is never held: QEMU serves one
 * client at a time, so the exchange connects, asks, and closes.
 */

#define QMP_VCPUS_MAX     1024          /* a reply with more vCPUs is refused (-E2BIG) */
#define QMP_IOTHREADS_MAX 256           /* the same for IO threads */
#define QMP_READ_MAX      (1024 * 1024) /* bytes read in one exchange, all messages together (-EMSGSIZE) */
#define QMP_DEPTH_MAX     32            /* nesting of one message; QMP's replies need 4 */
#define QMP_ID_MAX        127           /* an IO thread id longer than this is cut (between characters), flagged */
#define QMP_CLASS_MAX     63            /* the class of a QMP error, cut */
#define QMP_PATH_MAX      sizeof(((struct sockaddr_un *)0)->sun_path) /* QEMU cannot bind a longer path */
#define QMP_SOCKETS_MAX   4   /* QMP sockets tried per process, in command line order */
#define QMP_TIMEOUT_MS    200 /* the default budget for the whole exchange, over all sockets */

struct qmp_vcpu {
        int index; /* QEMU's cpu-index, 0..INT_MAX */
        pid_t tid;
};

struct qmp_iothread {
        char id[QMP_ID_MAX + 1]; /* as the -object iothread,id= gave it: valid UTF-8 without NUL, untrusted */
        bool id_truncated;
        pid_t tid;
};

/* What one exchange learned. */
struct qmp_threads {
        unsigned version_major, version_minor, version_micro; /* QEMU's, from the greeting */
        struct qmp_vcpu *vcpus;                               /* malloc'd, in the reply's order */
        size_t n_vcpus;
        struct qmp_iothread *iothreads; /* malloc'd; none when QEMU has none */
        size_t n_iothreads;
        bool iothreads_unknown;              /* query-iothreads answered with an error: only the vCPUs are known */
        char error_class[QMP_CLASS_MAX + 1]; /* the class of the last QMP error reply ("CommandNotFound"), or "" */
        char socket[QMP_PATH_MAX];           /* the socket path last tried (untrusted text), or "" */
};

void qmp_threads_done(struct qmp_threads *t);

/* ---- Pure parsers ---- */

/* The QMP sockets a QEMU command line (NUL-separated argv) serves, in order: "-qmp unix:PATH,server=on,..." (and
 * -qmp-pretty, --qmp), and "-chardev socket,id=X,path=PATH,server=on" named by "-mon chardev=X,mode=control".
 * Client sockets (no server=on), TCP, abstract sockets, fd= passing and paths QEMU could not bind are not taken;
 * ",," in a value is a comma, as QEMU reads it. Fills up to max paths and returns how many (0: none), or -ENOMEM
 * (an unterminated last argument is copied to be read). */
int qmp_sockets_parse(const char *argv, size_t len, char ret_paths[][QMP_PATH_MAX], size_t max);

/* Where the framing of a stream stands: zero it for a new stream; qmp_frame_next() resumes from it, so each byte is
 * looked at once however the stream arrives. */
struct qmp_framer {
        size_t pos;      /* the next byte to look at */
        size_t start;    /* where the object being scanned began */
        unsigned depth;  /* 0: between objects */
        uint64_t arrays; /* bit n: the bracket open at depth n + 1 is '[' (QMP_DEPTH_MAX <= 64) */
        bool in_string, escaped;
};

/* The next whole JSON object in buf (the stream so far, from its first byte; it only grows) after whitespace:
 * 1 with [*ret_start, *ret_end) its bytes, 0 when it has not all arrived yet, -EBADMSG when the stream holds
 * something else than objects, closes a bracket with the other kind, or nests deeper than QMP_DEPTH_MAX. Only
 * strings and brackets are followed here; the object's content is checked by qmp_message_parse(). */
int qmp_frame_next(struct qmp_framer *f, const char *buf, size_t len, size_t *ret_start, size_t *ret_end);

/* What a message is expected to answer. */
enum qmp_expect {
        QMP_EXPECT_GREETING,     /* {"QMP": {"version": {"qemu": {major, minor, micro}}, ...}} */
        QMP_EXPECT_CAPABILITIES, /* {"return": {}} to qmp_capabilities */
        QMP_EXPECT_CPUS,         /* {"return": [{"cpu-index": N, "thread-id": T, ...}, ...]} to query-cpus-fast */
        QMP_EXPECT_IOTHREADS,    /* {"return": [{"id": "S", "thread-id": T, ...}, ...]} to query-iothreads */
};

/* Parse one framed message (strict JSON: valid UTF-8, no \u0000, no duplicate key) as the answer to expect; a
 * reply must carry "id": id, the number the command was sent with. Returns 0 with t's part filled (vCPUs and IO
 * threads replace what t held), 1 for an asynchronous event (the caller skips it), -EREMOTEIO for a QMP error reply
 * (its class in t->error_class), -E2BIG past a budget, -EBADMSG for anything else (a wrong shape, a duplicate
 * cpu-index, a thread id out of range), -ENOMEM. */
int qmp_message_parse(const char *msg, size_t len, enum qmp_expect expect, unsigned id, struct qmp_threads *t);

/* ---- I/O ---- */

/* Connect to the QMP socket at path (absolute, or relative to the process's working directory) as the process
 * whose /proc/PID directory is pid_fd sees it: resolved inside its root, symlinks and all, never outside. The file
 * must be a socket owned by uid, and after connect the listener must be pid itself (SO_PEERCRED), with uid; nothing
 * is sent or read before that. Returns a non-blocking fd, or -EPERM (not that process's socket), -ENOTSOCK,
 * -ECONNREFUSED (nobody listens), -EBUSY (its backlog is full), -ENOENT, -errno. */
int qmp_connect(int pid_fd, pid_t pid, uid_t uid, const char *path);

/* On a connected fd: the greeting, qmp_capabilities, query-cpus-fast, query-iothreads, each within timeout_ms in
 * all. -EBUSY when no greeting came in time (another client holds the monitor: QEMU greets one at a time),
 * -ETIMEDOUT later, -ECONNRESET when QEMU closed, -EMSGSIZE past QMP_READ_MAX, or what qmp_message_parse says.
 * query-iothreads answering with an error is not one: t->iothreads_unknown says so. */
int qmp_exchange(int fd, int timeout_ms, struct qmp_threads *t);

/* The whole of it for process pid under proc_fd: its command line's QMP sockets, each tried in turn (connect,
 * exchange, close) until one answers, within timeout_ms in all. -ENOENT when it has no QMP socket, otherwise the
 * last socket's error (its path in t->socket). t is zeroed first and must be let go with qmp_threads_done(). */
int qmp_threads_query(int proc_fd, pid_t pid, int timeout_ms, struct qmp_threads *t);
