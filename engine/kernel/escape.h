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
