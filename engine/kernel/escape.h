/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Percent-encoding for the engine's own line formats (signal recordings, the state file): every byte outside
 * [A-Za-z0-9._/:-] becomes %XX, so a hostile VM name or an odd cgroup path stays one whitespace-free field.
 */

/* Encode s into buf; returns the length or -ENOBUFS. */
int escape_percent(const char *s, char *buf, size_t size);

/* Decode len bytes of s into buf (NUL-terminated); -EINVAL for a broken %XX, -ENOBUFS if it does not fit. */
int unescape_percent(const char *s, size_t len, char *buf, size_t size);

/*
 * Text for a log line or a table cell, for people to read: valid UTF-8 that prints passes through as it is, a
 * newline becomes \n, a tab \t, and every byte of a control character (utf8_is_control: C0, DEL, C1, line
 * separators, bidi overrides) or of invalid UTF-8 becomes \xNN. The result is one line with no terminal escape in
 * it. A backslash stays as it is, so text escaped already (a JSON-escaped VM name) reads the same after a second
 * pass: this is for reading, not for parsing back. Each byte becomes at most 4, so ESCAPE_TEXT_SIZE(strlen(s))
 * bytes always fit. Returns the length, or -ENOBUFS with buf holding as much as fits, cut between characters.
 */
#define ESCAPE_TEXT_SIZE(len) (4 * (len) + 1)
int escape_text(const char *s, char *buf, size_t size);

/* The records of those formats: a first word, then " key=value" fields (values percent-encoded where they are
 * strings). kv_for_each calls cb for each field of a line whose first word is word; a field without '=' or with an
 * empty key is -EINVAL, as is another first word; a negative return of cb stops the walk and is returned. */
typedef int (*kv_field_cb)(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata);
int kv_for_each(const char *line, const char *word, kv_field_cb cb, void *userdata);

/* A decimal u64 of exactly len bytes: -EINVAL for anything else, -ERANGE on overflow. */
int kv_parse_u64(const char *s, size_t len, uint64_t *ret);

static inline bool kv_key_is(const char *key, size_t keylen, const char *name)
{
        return strlen(name) == keylen && memcmp(key, name, keylen) == 0;
}
