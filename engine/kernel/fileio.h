/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/* read() (offset < 0) or pread() at offset, once, retried on EINTR: the bytes read, 0 at the end, or -errno. */
ssize_t read_retry(int fd, void *buf, size_t len, off_t offset);

/* write() all of buf, across short writes and EINTR; 0 or -errno (-EIO when write returns 0). */
int write_all(int fd, const void *buf, size_t len);

/*
 * Replace path with data atomically: a reader sees the old file or the new one, never a part. The data goes to an
 * unnamed file in path's directory (O_TMPFILE), is fsync()ed, given mode (whatever the umask), linked under a fresh
 * random name (".NAME.<16 hex digits>.tmp") and renamed over path. Where the filesystem has no O_TMPFILE, or the
 * file cannot be linked, the data goes to such a name created with O_EXCL|O_NOFOLLOW instead: never a fixed or
 * guessable name, never through anything already there. durable: the directory is fsync()ed too, so the rename
 * itself survives a power cut. 0 or -errno; on failure path is untouched and no temporary file stays.
 */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, bool durable);

/* The same, written in parts (a file too large to hold whole): open, write as many times as needed, then commit, which
 * makes it path; or abort, which leaves path untouched. Where the unnamed file cannot be linked, commit copies it
 * to a fresh name first. A failed open or write must still be aborted. */
struct atomic_file {
        int dir_fd, fd;
        const char *base;       /* path's last component (path must outlive the file) */
        char tmp[NAME_MAX + 1]; /* the temporary name, "" while the file has none */
        mode_t mode;
};
int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode);
int atomic_file_write(struct atomic_file *f, const void *data, size_t len);
int atomic_file_commit(struct atomic_file *f, bool durable);
void atomic_file_abort(struct atomic_file *f);

/* Create the directory path is in (one level, with mode), unless it exists. 0 or -errno. */
int mkdir_parent(const char *path, mode_t mode);
