/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/macro.h"

/*
 * The kernel's process events (the netlink proc connector: NETLINK_CONNECTOR, CN_IDX_PROC) through libnl-3, so
 * that a QEMU is seen the moment it execs and forgotten the moment it exits, instead of at the next scan.
 *
 * The daemon opens it once, adds procevents_fd() to its epoll set (EPOLLIN) and calls procevents_dispatch() when
 * it is readable; dispatch drains every pending event and calls on_exec / on_exit with the process id (the thread
 * group id: a thread's exit is not reported), and, when set, on_fork for a new process and on_uid for a setuid.
 * -ENOBUFS from dispatch means the kernel dropped events because the socket was full: the caller rescans /proc. Nothing
 * here replaces the periodic scan; it only makes it less urgent.
 *
 * Events arrive as NLMSG_DONE messages, so libnl hands them to NL_CB_FINISH (not NL_CB_VALID), and sequence
 * checking and auto-ack are off (every event would otherwise fail with NLE_SEQ_MISMATCH).
 */

enum procevent_type {
        PROCEVENT_OTHER, /* comm, sid, ptrace, ...: ignored */
        PROCEVENT_ACK,   /* the kernel's answer to a LISTEN/IGNORE request */
        PROCEVENT_EXEC,
        PROCEVENT_EXIT,
        PROCEVENT_FORK, /* pid/tid: the child (a new thread of the parent when tid != pid), parent: its tgid */
        PROCEVENT_UID,  /* pid/tid: the process whose credentials changed (setuid: -runas), ruid/euid: the new ones */
};

struct procevent {
        enum procevent_type type;
        pid_t pid;             /* EXEC/EXIT: the process (thread group) id */
        pid_t tid;             /* EXEC/EXIT: the thread; an EXIT with tid != pid is one thread of a live process */
        int exit_code;         /* EXIT: as wait(2) reports it */
        pid_t parent;          /* FORK: the parent's thread group id */
        uid_t ruid, euid;      /* UID */
        int ack_error;         /* ACK: 0 or a positive errno (EPERM: not allowed to listen) */
        uint32_t seq, ack;     /* from the connector header; an ACK carries the request's ack + 1 (and the
                                * kernel's event counter in seq, not the request's) */
        uint64_t timestamp_ns; /* CLOCK_MONOTONIC, as the kernel stamped it */
};

/* Pure: one connector message, i.e. the payload of one netlink message (struct cn_msg followed by struct
 * proc_event). -EBADMSG when it is too short for what its headers say, -EPROTO when it is not from the proc
 * connector (another CN_IDX). Unknown event types are PROCEVENT_OTHER, not an error. */
int procevents_parse(const void *buf, size_t len, struct procevent *ret);

/* Pure: the payload of a PROC_CN_MCAST_LISTEN (listen true) or PROC_CN_MCAST_IGNORE request, with cookie as its
 * seq and ack. buf must hold PROCEVENTS_REQUEST_SIZE bytes; returns that size. */
#define PROCEVENTS_REQUEST_SIZE 24
size_t procevents_request_build(uint32_t cookie, int listen, void *buf);

/* A handler's negative return stops dispatch, which returns it (e.g. -ENOMEM). */
typedef int (*procevents_handler_t)(pid_t pid, void *userdata);

struct procevents;

/*
 * Connect, join the proc connector's group, ask the kernel to send events and wait (up to a second) for its
 * answer. -EPERM without CAP_NET_ADMIN (in the initial user namespace), -EPROTONOSUPPORT without
 * CONFIG_CONNECTOR / CONFIG_PROC_EVENTS, -ETIMEDOUT if the kernel never answered: the caller falls back to
 * scanning every tick. Events that arrive before the kernel's answer are dropped: scan /proc after opening.
 * Logs nothing; the caller says once why it scans instead.
 */
int procevents_open(procevents_handler_t on_exec, procevents_handler_t on_exit, void *userdata,
                    struct procevents **ret);

/* Also call on_fork(parent, child) for every new process (not a new thread), and on_uid(pid) when a process (its
 * thread group leader) changes its user ids. Either may be NULL. */
typedef int (*procevents_fork_handler_t)(pid_t parent, pid_t child, void *userdata);
void procevents_set_handlers(struct procevents *p, procevents_fork_handler_t on_fork, procevents_handler_t on_uid);
/* And on_thread(pid) when process pid makes a new thread (a hot-plugged vCPU, a new IO thread). */
void procevents_set_thread_handler(struct procevents *p, procevents_handler_t on_thread);

/* The socket, non-blocking, for epoll. */
int procevents_fd(const struct procevents *p);

/* Handle every pending event. Returns the number of exec/exit events handled, -ENOBUFS when the kernel dropped
 * some (everything that could be read was still handled: rescan), a handler's error, or another -errno. */
int procevents_dispatch(struct procevents *p);

/* Tell the kernel to stop (it counts listeners) and free everything. NULL is fine. Returns NULL. */
struct procevents *procevents_free(struct procevents *p);

static inline void procevents_freep(struct procevents **p)
{
        *p = procevents_free(*p);
}
#define _cleanup_procevents_ _cleanup_(procevents_freep)
