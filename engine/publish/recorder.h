/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernel/signals.h"
#include "kernel/vm.h"

/*
 * Recording each tick's signals, and reading them back for `vmgov replay`. A text format, one line per record,
 * "key=value" fields, so a recording can be read, grepped and diffed:
 *
 *   vmgov-signals 1
 *   tick now_usec=12000000 interval_usec=1000000 cpu_some_ppm=1200 ... ncpus=2
 *   vm pid=4242 start=81234 uid=0 name=web-1 uuid=6b29... exe=qemu-system-x86_64 cgroup=/vmgov/web/web-1 \
 *      interval_usec=1000000 cpu_some_ppm=... io0=254:0:4096:0:1:0 runq_source=bpf ...
 *
 * Strings are percent-encoded (every byte outside [A-Za-z0-9._/:-] as %XX), so a hostile VM name stays one field.
 * Unknown keys are ignored when reading (newer engines may add signals); a malformed line is an error naming the
 * line number.
 */

#define RECORDER_MAGIC    "vmgov-signals 1"
#define RECORDER_LINE_MAX (32 * 1024)

struct recorded_vm {
        struct vm_identity id;
        struct vm_signals sig;
};

struct recorded_tick {
        uint64_t now_usec;
        struct host_signals host;
        struct recorded_vm *vms;
        size_t n_vms, allocated;
        char *line;        /* the reader's line buffer */
        bool have_pending; /* line holds the next tick's header */
};

/* Format one line into buf (ending in '\n'); returns the length or -ENOBUFS. */
int recorder_format_tick(uint64_t now_usec, const struct host_signals *host, char *buf, size_t size);
int recorder_format_vm(const struct vm_identity *id, const struct vm_signals *sig, char *buf, size_t size);

/* Append the tick line, then one line per VM, each with one write(). */
int recorder_write_tick(int fd, uint64_t now_usec, const struct host_signals *host);
int recorder_write_vm(int fd, const struct vm_identity *id, const struct vm_signals *sig);

/* Parse a "tick ..." or "vm ..." line (without its newline). */
int recorder_parse_tick(const char *line, uint64_t *ret_now_usec, struct host_signals *ret_host);
int recorder_parse_vm(const char *line, struct vm_identity *ret_id, struct vm_signals *ret_sig);
/* (*ret_id then holds its cgroup path, if the line has one: vm_identity_done().) */

/* Read the next tick from f (the magic line first). Returns 1 with *t filled, 0 at the end, -EINVAL on a malformed
 * line with *ret_line set to its number. t's VM array is reused between calls; free it with recorder_tick_done. */
int recorder_read_tick(FILE *f, struct recorded_tick *t, unsigned *ret_line);
void recorder_tick_done(struct recorded_tick *t);
