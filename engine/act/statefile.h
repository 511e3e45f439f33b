/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "act/actuator.h"

/*
 * The crash-safe journal of originals. Before the engine first writes any file, that file's original value is in
 * this file on disk, replaced atomically (temp file, fsync, rename, fsync of the directory), so after a SIGKILL or
 * a crash nothing is lost: a restarted engine takes the originals over, and `vmgov restore` puts them back by hand.
 *
 *   vmgov-state 1
 *   original cgroup=vmgov/web/web-1 file=cpu.max dev=0:0 value=max%20100000
 *
 * Fields are percent-encoded (escape.h).
 */

#define STATEFILE_MAGIC   "vmgov-state 1"
#define STATEFILE_DEFAULT "/run/vmgov/state"

/* Pure: format the originals as the file's text into a new allocation. */
int statefile_format(const struct original *originals, size_t n, char **ret_text);

/* Pure: parse the file's text; -EINVAL with *ret_line set on a malformed line. */
int statefile_parse(const char *text, struct original **ret_originals, size_t *ret_n, unsigned *ret_line);

/* Replace path atomically with the originals (creating its directory, mode 0700). */
int statefile_save(const char *path, const struct original *originals, size_t n);

/* Read path; -ENOENT when there is none (nothing to take over). */
int statefile_load(const char *path, struct original **ret_originals, size_t *ret_n);

void statefile_free(struct original *originals, size_t n);
