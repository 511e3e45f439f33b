/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The audit log: one JSON object per line, one line per write (or would-be write in dry-run):
 *
 *   {"time":"2024-05-01T12:34:56.789Z","vm":"web-1","uuid":"…","pid":1234,"group":"web",
 *    "cgroup":"/vmgov/web/web-1","file":"cpu.max","old":"max 100000","new":"200000 100000",
 *    "reason":"policy","dry_run":false}
 *
 * Every string is escaped (the VM name comes from a QEMU command line someone else wrote): '"' and '\\'
 * are backslash-escaped, control characters become \uXXXX (C0, DEL, C1, and the line separators and bidi
 * overrides of utf8_is_control), bytes that are not valid UTF-8 become \ufffd, other valid UTF-8 passes through. A NULL
 * string is written as null, a pid <= 0 as null. Lines are never truncated: formatting into a buffer too small fails
 * with -ENOBUFS instead.
 */

struct audit_record {
        uint64_t time_usec; /* CLOCK_REALTIME µs; 0 = now (filled in by audit_write) */
        const char *vm;
        const char *uuid;
        pid_t pid;
        const char *group;
        const char *cgroup;
        const char *file;
        const char *old_value;
        const char *new_value;
        const char *reason;
        bool dry_run;
};

/* Length of s once escaped, without quotes. */
size_t audit_json_escaped_len(const char *s);

/* Escape s (without surrounding quotes) into buf; returns the length written, or -ENOBUFS. */
int audit_json_escape(const char *s, char *buf, size_t size);

/* For log lines: s escaped as in JSON; when that does not fit in size (at least AUDIT_LOG_NAME_MAX), its first
 * 64 bytes escaped and "...(N bytes)". Returns buf. A name from a command line can then never forge a log line. */
#define AUDIT_LOG_NAME_MAX 512
const char *audit_escape_for_log(const char *s, char *buf, size_t size);

/* CLOCK_REALTIME in µs: the clock of the audit log's "time" (and of the status file's times); 0 if unreadable. */
uint64_t audit_now_usec(void);

/* RFC 3339 UTC with milliseconds, "2024-05-01T12:34:56.789Z" (24 chars + NUL); length or -ENOBUFS/-ERANGE. */
#define AUDIT_TIME_MAX 32
int audit_format_time(uint64_t time_usec, char *buf, size_t size);

/* Exact size of the formatted record including its '\n' (not the NUL). */
size_t audit_record_len(const struct audit_record *rec);

/* The record as one line ending in '\n'; returns its length, or -ENOBUFS (nothing truncated). time_usec is
 * formatted as given, even 0. */
int audit_record_format(const struct audit_record *rec, char *buf, size_t size);

/* Same, into a new allocation (*ret freed by the caller). */
int audit_record_format_alloc(const struct audit_record *rec, char **ret_line);

/* Open (create, mode 0640) for appending: O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC|O_NOCTTY|O_NOFOLLOW. A symlink is
 * -ELOOP; anything but a regular file -EBADFD (a FIFO without a reader -ENXIO: the open never blocks); a file that
 * is not the engine's (euid) or that group or others may write, -EPERM: the audit log is a record only while no
 * one else can write into it. */
int audit_open(const char *path, int *ret_fd);

/*
 * Append one record with a single write(), so concurrent writers never interleave inside a line. Returns 0,
 * -errno from write() (e.g. -ENOSPC, -EBADF), or -EIO on a short write; the caller decides what a lost audit
 * line means.
 */
int audit_write(int fd, const struct audit_record *rec);

/* close(); returns 0 or -errno (a close error on a log file can mean lost data). fd < 0 is a no-op. */
int audit_close(int fd);
