/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act/actuator.h"

/*
 * The crash-safe journal of originals. Before the engine first writes any file, that file's original value is in
 * this file on disk, so after a SIGKILL or a crash nothing is lost: a restarted engine takes the originals over, and
 * `vmgov restore` puts them back by hand.
 *
 *   vmgov-state 2
 *   original cgroup=vmgov/web/web-1 file=cpu.max dev=0:0 controller=0 value=max%20100000
 *   original cgroup=vmgov/web/web-1 file=net.egress dev=0:0 controller=0 ifname=tap0 value=tap0%20rate%3Dmax
 *   forget cgroup=vmgov/web/web-1
 *
 * One record per line; fields are percent-encoded (escape.h). "original" journals the original value of one file
 * (cgroup, file, and for io.max the device, for net.* the tap); the first live "original" of a file is the one that
 * counts. "forget" drops every original of that cgroup journalled before it (the cgroup was removed). The file is
 * append-only: each record is one write() of a whole line, fsync()ed before the engine writes the file it is about.
 *
 * Compaction: the file is replaced atomically (atomic_write_file, durable) with only the live originals when a
 * taken-over journal held anything else (the old format, a forgotten or restored original, a bad line), and, while
 * the engine runs, when it holds more than twice as many records as live originals plus STATEFILE_COMPACT_SLACK. So
 * the bytes ever written stay within a small constant of the bytes of the records appended: linear, with no cap.
 *
 * Reading: a record cut short (no newline: a crash mid-append, so the file it is about was never written) and any
 * line that is not understood are skipped, and named with their line number; the valid records are used. Before a
 * compaction drops such lines, the file as read is kept beside it as PATH.bad for a human. Version 1 files (the
 * same "original" lines, without "forget") are read too. Only a file that is not the engine user's, or that group
 * or others may write, or that is not a regular file, is refused.
 *
 * Lock: PATH.lock beside the journal, flock()ed exclusively by whoever opens the journal (vmgov run for its life,
 * vmgov once and vmgov restore while they run), holding "PID COMMAND". A second opener is refused with -EBUSY,
 * naming the holder.
 */

#define STATEFILE_MAGIC         "vmgov-state 2"
#define STATEFILE_MAGIC_V1      "vmgov-state 1"
#define STATEFILE_DEFAULT       "/run/vmgov/state"
#define STATEFILE_COMPACT_SLACK 1024 /* records beyond twice the live ones before a compaction */
#define STATEFILE_BAD_LINES_MAX 8    /* bad lines named one by one; the rest are counted */

/* Pure: format the originals as a compacted file's text into a new allocation. */
int statefile_format(const struct original *originals, size_t n, char **ret_text);

/* Pure: one "original" record as a line ending in '\n', into a new allocation; its length in *ret_len. */
int statefile_format_original(const struct original *o, char **ret_line, size_t *ret_len);

/* What a journal holds. */
struct statefile_contents {
        struct original *originals; /* the live originals, in the order they were journalled */
        size_t n;
        unsigned version; /* 1 or 2; 0 when the first line is not a known magic line (then a bad line) */
        size_t records;   /* valid records, live or not */
        size_t n_bad;     /* lines skipped, the torn one included */
        unsigned bad_lines[STATEFILE_BAD_LINES_MAX]; /* the first of them, by line number */
        unsigned torn_line;                          /* the last line, when it is cut short (no newline); 0: none */
};

/* Pure: parse len bytes of a journal. Never fails on its content: bad lines are skipped and named in *ret. 0, or
 * -ENOMEM. */
int statefile_parse(const char *text, size_t len, struct statefile_contents *ret);
void statefile_contents_done(struct statefile_contents *c);

struct statefile; /* an open journal, holding its lock */

/* Open the journal at path for this process: creates its directory (mode 0700) and PATH.lock, and takes the lock
 * (the journal itself is created at its first record). holder names this process in the lock file ("vmgov run").
 * -EBUSY (logged, naming the holder) when another process holds it. */
int statefile_open(const char *path, const char *holder, struct statefile **ret);

/* Read the journal under the lock; logs a warning for each bad line (file:line) and refuses (-EPERM, -EINVAL; logged)
 * a file that is not the engine's own regular file. A missing journal is empty contents. */
int statefile_read(struct statefile *sf, struct statefile_contents *ret);

/* Append one record with a single write(), fsync()ed. On failure the file is as it was (or is marked for a
 * compaction: statefile_needs_compact). 0 or -errno. */
int statefile_append(struct statefile *sf, const struct original *o);
int statefile_append_forget(struct statefile *sf, const char *cgroup);

/* Whether the journal should be rewritten with its n_live originals: the rule above, or after a failed append or
 * a read that found something to drop. */
bool statefile_needs_compact(const struct statefile *sf, size_t n_live);

/* Replace the journal atomically with exactly these originals (keeping the file as read as PATH.bad first if the
 * read skipped lines). 0 or -errno; on failure the old journal stays. */
int statefile_compact(struct statefile *sf, const struct original *live, size_t n);

struct statefile_stats {
        uint64_t bytes_written; /* by appends and compactions, since open */
        uint64_t file_bytes;    /* the journal's size now */
        size_t records;         /* records in the journal now */
        unsigned compactions;
};
void statefile_get_stats(const struct statefile *sf, struct statefile_stats *ret);
const char *statefile_path(const struct statefile *sf);

/* Close the journal and release the lock. NULL is a no-op; returns NULL. */
struct statefile *statefile_close(struct statefile *sf);

/* Read path without taking the lock (tests, tools): the live originals, bad lines skipped and logged; -ENOENT when
 * there is none. */
int statefile_load(const char *path, struct original **ret_originals, size_t *ret_n);

void statefile_free(struct original *originals, size_t n);
