/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/*
 * Percent-encoding for the engine's own line formats (signal recordings, the state file): every byte outside
 * [A-Za-z0-9._/:-] becomes %XX, so a hostile VM name or an odd cgroup path stays one whitespace-free field.
 */

/* Encode s into buf; returns the length or -ENOBUFS. */
int escape_percent(const char *s, char *buf, size_t size);

/* Decode len bytes of s into buf (NUL-terminated); -EINVAL for a broken %XX, -ENOBUFS if it does not fit. */
int unescape_percent(const char *s, size_t len, char *buf, size_t size);
