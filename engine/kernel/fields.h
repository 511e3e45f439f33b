/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A named member of a struct, for the tables that read or write a record key by key (the signal recordings, the
 * status file, the nested-keyed cgroup files): where the member is and how large. Numbers are unsigned integers
 * of 1 (bool), 4 or 8 bytes.
 */
struct field {
        const char *name;
        size_t offset;
        size_t size;
};

#define FIELD(type, name, member)                                                                                      \
        {                                                                                                              \
                (name), offsetof(type, member), sizeof(((type *)0)->member)                                            \
        }

static inline uint64_t field_get_u(const void *base, const struct field *f)
{
        const char *p = (const char *)base + f->offset;

        if (f->size == sizeof(uint64_t))
                return *(const uint64_t *)p;
        if (f->size == sizeof(uint32_t))
                return *(const uint32_t *)p;
        return *(const bool *)p;
}

static inline void field_set_u(void *base, const struct field *f, uint64_t v)
{
        char *p = (char *)base + f->offset;

        if (f->size == sizeof(uint64_t))
                *(uint64_t *)p = v;
        else if (f->size == sizeof(uint32_t))
                *(uint32_t *)p = (uint32_t)v;
        else
                *(bool *)p = v != 0;
}

/* The field named by the len bytes at key, or NULL. */
static inline const struct field *field_find(const struct field *fields, size_t n, const char *key, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if (strlen(fields[i].name) == len && memcmp(fields[i].name, key, len) == 0)
                        return &fields[i];
        return NULL;
}
