/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kernel/clock.h"
#include "kernel/macro.h"
#include "kernel/nlerr.h"
#include "discover/procevents.h"

/* Offsets in the wire format, spelled out rather than taken from the structs: struct cn_msg is 20 bytes, so the
 * struct proc_event after it (whose timestamp is 8-aligned) is not aligned in the buffer and is read with
 * memcpy. */
#define CN_HDR_SIZE    20 /* struct cn_msg: idx, val, seq, ack, len (u16), flags (u16) */
#define EV_WHAT        0
#define EV_TIMESTAMP   8
#define EV_DATA        16 /* the union: ack.err | exec/exit.process_pid, process_tgid, exit_code */
#define EV_EXEC_SIZE   (EV_DATA + 8)
#define EV_EXIT_SIZE   (EV_DATA + 16)
#define EV_ACK_SIZE    (EV_DATA + 4)
#define EV_FORK_SIZE   (EV_DATA + 16) /* parent_pid, parent_tgid, child_pid, child_tgid */
#define EV_UID_SIZE    (EV_DATA + 16) /* process_pid, process_tgid, ruid, euid */
#define LISTEN_WAIT_MS 1000
#define RCVBUF_BYTES   (4 * 1024 * 1024)

static uint32_t get_u32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

static uint16_t get_u16(const uint8_t *p)
{
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return v;
}

int procevents_parse(const void *buf, size_t len, struct procevent *ret)
{
        const uint8_t *b = buf, *ev;
        struct procevent e = {.type = PROCEVENT_OTHER};
        uint32_t what;
        size_t ev_len;

        if (len < CN_HDR_SIZE)
                return -EBADMSG;
        if (get_u32(b) != CN_IDX_PROC || get_u32(b + 4) != CN_VAL_PROC)
                return -EPROTO;
        e.seq = get_u32(b + 8);
        e.ack = get_u32(b + 12);
        ev_len = get_u16(b + 16);
        if (ev_len > len - CN_HDR_SIZE || ev_len < EV_DATA)
                return -EBADMSG;
        ev = b + CN_HDR_SIZE;

        what = get_u32(ev + EV_WHAT);
        memcpy(&e.timestamp_ns, ev + EV_TIMESTAMP, sizeof(e.timestamp_ns));
        switch (what) {
        case PROC_EVENT_NONE:
                if (ev_len < EV_ACK_SIZE)
                        return -EBADMSG;
                e.type = PROCEVENT_ACK;
                e.ack_error = (int)get_u32(ev + EV_DATA);
                break;
        case PROC_EVENT_EXEC:
        case PROC_EVENT_EXIT:
                /* Both start with process_pid (the thread) and process_tgid; exit goes on with exit_code. */
                if (ev_len < (what == PROC_EVENT_EXEC ? EV_EXEC_SIZE : EV_EXIT_SIZE))
                        return -EBADMSG;
                e.type = what == PROC_EVENT_EXEC ? PROCEVENT_EXEC : PROCEVENT_EXIT;
                e.tid = (pid_t)get_u32(ev + EV_DATA);
                e.pid = (pid_t)get_u32(ev + EV_DATA + 4);
                if (what == PROC_EVENT_EXIT)
                        e.exit_code = (int)get_u32(ev + EV_DATA + 8);
                if (e.pid <= 0 || e.tid <= 0)
                        return -EBADMSG;
                break;
        case PROC_EVENT_FORK:
                if (ev_len < EV_FORK_SIZE)
                        return -EBADMSG;
                e.type = PROCEVENT_FORK;
                e.parent = (pid_t)get_u32(ev + EV_DATA + 4);
                e.tid = (pid_t)get_u32(ev + EV_DATA + 8);
                e.pid = (pid_t)get_u32(ev + EV_DATA + 12);
                if (e.pid <= 0 || e.tid <= 0 || e.parent <= 0)
                        return -EBADMSG;
                break;
        case PROC_EVENT_UID:
                if (ev_len < EV_UID_SIZE)
                        return -EBADMSG;
                e.type = PROCEVENT_UID;
                e.tid = (pid_t)get_u32(ev + EV_DATA);
                e.pid = (pid_t)get_u32(ev + EV_DATA + 4);
                e.ruid = (uid_t)get_u32(ev + EV_DATA + 8);
                e.euid = (uid_t)get_u32(ev + EV_DATA + 12);
                if (e.pid <= 0 || e.tid <= 0)
                        return -EBADMSG;
                break;
        default:
                break;
        }
        *ret = e;
        return 0;
}

size_t procevents_request_build(uint32_t cookie, int listen, void *buf)
{
        uint8_t *b = buf;
        uint32_t idx = CN_IDX_PROC, val = CN_VAL_PROC, seq = cookie, ack = cookie,
                 op = listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
        uint16_t len = sizeof(op), flags = 0;

        memcpy(b, &idx, 4);
        memcpy(b + 4, &val, 4);
        memcpy(b + 8, &seq, 4);
        memcpy(b + 12, &ack, 4);
        memcpy(b + 16, &len, 2);
        memcpy(b + 18, &flags, 2);
        memcpy(b + CN_HDR_SIZE, &op, 4);
        return PROCEVENTS_REQUEST_SIZE;
}

struct procevents {
        struct nl_sock *sock;
        struct nl_cb *cb;
        procevents_handler_t on_exec, on_exit, on_uid, on_thread;
        procevents_fork_handler_t on_fork;
        void *userdata;
        uint32_t cookie; /* our LISTEN request's ack field: the kernel answers with cookie + 1 */
        bool listening;  /* the kernel said yes: events go to the handlers from now on */
        bool answered;
        int answer; /* the kernel's ack error, positive */
        int error;  /* a handler's error, or a malformed message */
        int handled;
};

static int on_message(struct nl_msg *msg, void *arg)
{
        struct procevents *p = arg;
        struct nlmsghdr *h = nlmsg_hdr(msg);
        struct procevent e;
        int r;

        r = procevents_parse(nlmsg_data(h), (size_t)nlmsg_datalen(h), &e);
        if (r == -EPROTO)
                return NL_SKIP; /* another connector user on a group we did not join: not ours */
        if (r < 0) {
                p->error = r;
                return NL_STOP;
        }
        switch (e.type) {
        case PROCEVENT_ACK:
                /* Every listener's request is answered to the whole group, and the kernel puts its own event
                 * counter in seq: ours is the answer whose ack is our cookie + 1. */
                if (!p->listening && e.ack == p->cookie + 1) {
                        p->answered = true;
                        p->answer = e.ack_error;
                }
                return NL_OK;
        case PROCEVENT_EXEC:
                if (!p->listening)
                        return NL_OK;
                p->handled++;
                r = p->on_exec ? p->on_exec(e.pid, p->userdata) : 0;
                break;
        case PROCEVENT_EXIT:
                if (!p->listening || e.tid != e.pid)
                        return NL_OK;
                p->handled++;
                r = p->on_exit ? p->on_exit(e.pid, p->userdata) : 0;
                break;
        case PROCEVENT_FORK:
                if (p->listening && e.tid != e.pid && p->on_thread) { /* a new thread of process e.pid */
                        r = p->on_thread(e.pid, p->userdata);
                        break;
                }
                if (!p->listening || e.tid != e.pid || !p->on_fork) /* a new thread is no new process */
                        return NL_OK;
                p->handled++;
                r = p->on_fork(e.parent, e.pid, p->userdata);
                break;
        case PROCEVENT_UID:
                if (!p->listening || e.tid != e.pid || !p->on_uid)
                        return NL_OK;
                p->handled++;
                r = p->on_uid(e.pid, p->userdata);
                break;
        default:
                return NL_OK;
        }
        if (r < 0) {
                p->error = r;
                return NL_STOP;
        }
        return NL_OK;
}

static int procevents_send(struct procevents *p, bool listen)
{
        uint8_t req[PROCEVENTS_REQUEST_SIZE];
        int r;

        procevents_request_build(p->cookie, listen, req);
        r = nl_send_simple(p->sock, NLMSG_DONE, 0, req, sizeof(req));
        return r < 0 ? nlerr_to_errno(r) : 0;
}

void procevents_set_handlers(struct procevents *p, procevents_fork_handler_t on_fork, procevents_handler_t on_uid)
{
        p->on_fork = on_fork;
        p->on_uid = on_uid;
}

void procevents_set_thread_handler(struct procevents *p, procevents_handler_t on_thread)
{
        p->on_thread = on_thread;
}

/* Read until the kernel answers our LISTEN, or a second has passed. */
static int procevents_wait_answer(struct procevents *p)
{
        uint64_t deadline = monotonic_usec() / 1000 + LISTEN_WAIT_MS;

        while (!p->answered) {
                struct pollfd pfd = {.fd = nl_socket_get_fd(p->sock), .events = POLLIN};
                uint64_t now = monotonic_usec() / 1000;
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)(deadline - now));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                r = procevents_dispatch(p);
                if (r < 0 && r != -ENOBUFS)
                        return r;
        }
        return p->answer ? -p->answer : 0;
}

int procevents_open(procevents_handler_t on_exec, procevents_handler_t on_exit, void *userdata, struct procevents **ret)
{
        struct procevents *p;
        int fd, r, size = RCVBUF_BYTES;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *p = (struct procevents){.on_exec = on_exec, .on_exit = on_exit, .userdata = userdata};
        p->sock = nl_socket_alloc();
        p->cb = nl_cb_alloc(NL_CB_CUSTOM);
        if (!p->sock || !p->cb) {
                procevents_free(p);
                return -ENOMEM;
        }
        nl_socket_disable_seq_check(p->sock);
        nl_socket_disable_auto_ack(p->sock);
        nl_cb_set(p->cb, NL_CB_FINISH, NL_CB_CUSTOM, on_message, p);
        nl_cb_set(p->cb, NL_CB_VALID, NL_CB_CUSTOM, on_message, p);

        r = nl_connect(p->sock, NETLINK_CONNECTOR);
        if (r < 0)
                goto fail_nl;
        r = nl_socket_add_membership(p->sock, CN_IDX_PROC);
        if (r < 0)
                goto fail_nl;
        r = nl_socket_set_nonblocking(p->sock);
        if (r < 0)
                goto fail_nl;
        /* A burst of short-lived processes must not overflow the socket: ask for room (root may exceed
         * rmem_max with SO_RCVBUFFORCE; otherwise the kernel's cap applies). */
        fd = nl_socket_get_fd(p->sock);
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));

        p->cookie = (uint32_t)nl_socket_get_local_port(p->sock) ^ (uint32_t)(monotonic_usec() / 1000);
        if (p->cookie == UINT32_MAX)
                p->cookie = 1;
        r = procevents_send(p, true);
        if (r < 0)
                goto fail;
        r = procevents_wait_answer(p);
        if (r < 0)
                goto fail;
        p->listening = true;
        *ret = p;
        return 0;

fail_nl:
        r = nlerr_to_errno(r);
fail:
        procevents_free(p);
        return r;
}

int procevents_fd(const struct procevents *p)
{
        return nl_socket_get_fd(p->sock);
}

int procevents_dispatch(struct procevents *p)
{
        bool lost = false;

        p->error = 0;
        p->handled = 0;
        for (;;) {
                int r;

                errno = 0;
                r = nl_recvmsgs_report(p->sock, p->cb);
                if (p->error < 0)
                        return p->error;
                if (r > 0)
                        continue;
                if (r == 0 || r == -NLE_AGAIN) /* libnl 3.7 reports an empty non-blocking socket as NLE_AGAIN */
                        break;
                /* libnl folds ENOBUFS (the kernel dropped events for us) into NLE_NOMEM; errno still tells. */
                if (r == -NLE_NOMEM && errno == ENOBUFS) {
                        lost = true;
                        continue;
                }
                return nlerr_to_errno(r);
        }
        return lost ? -ENOBUFS : p->handled;
}

struct procevents *procevents_free(struct procevents *p)
{
        if (!p)
                return NULL;
        if (p->listening)
                (void)procevents_send(p, false);
        if (p->sock)
                nl_socket_free(p->sock); /* closes the socket */
        if (p->cb)
                nl_cb_put(p->cb);
        free(p);
        return NULL;
}
