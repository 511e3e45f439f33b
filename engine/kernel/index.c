/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A hash index from keys to array positions (index.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/index.h"

/* Spread the key's bits (splitmix64's finaliser), so that consecutive pids do not cluster. */
static uint64_t mix(uint64_t k)
{
        k ^= k >> 30;
        k *= 0xbf58476d1ce4e5b9ULL;
        k ^= k >> 27;
        k *= 0x94d049bb133111ebULL;
        return k ^ (k >> 31);
}

static void slot_put(uint64_t *keys, uint32_t *pos, size_t cap, uint64_t key, uint32_t p)
{
        size_t i = (size_t)mix(key) & (cap - 1);

        while (pos[i] != INDEX_EMPTY)
                i = (i + 1) & (cap - 1);
        keys[i] = key;
        pos[i] = p;
}

static int grow(struct index *x)
{
        size_t cap = x->cap ? 2 * x->cap : 64;
        uint64_t *keys = malloc(cap * sizeof(*keys));
        uint32_t *pos = malloc(cap * sizeof(*pos));

        if (!keys || !pos) {
                free(keys);
                free(pos);
                return -ENOMEM;
        }
        memset(pos, 0xff, cap * sizeof(*pos));
        for (size_t i = 0; i < x->cap; i++)
                if (x->pos[i] != INDEX_EMPTY)
                        slot_put(keys, pos, cap, x->keys[i], x->pos[i]);
        free(x->keys);
        free(x->pos);
        x->keys = keys;
        x->pos = pos;
        x->cap = cap;
        return 0;
}

int index_put(struct index *x, uint64_t key, uint32_t p)
{
        if (2 * (x->n + 1) > x->cap && grow(x) < 0)
                return -ENOMEM;
        slot_put(x->keys, x->pos, x->cap, key, p);
        x->n++;
        return 0;
}

bool index_next(const struct index *x, uint64_t key, size_t *iter, uint32_t *ret_pos)
{
        if (x->cap == 0)
                return false;
        size_t start = (size_t)mix(key) & (x->cap - 1);

        for (; *iter < x->cap; (*iter)++) {
                size_t i = (start + *iter) & (x->cap - 1);
                if (x->pos[i] == INDEX_EMPTY)
                        return false;
                if (x->keys[i] == key) {
                        *ret_pos = x->pos[i];
                        (*iter)++;
                        return true;
                }
        }
        return false;
}

void index_clear(struct index *x)
{
        if (x->pos)
                memset(x->pos, 0xff, x->cap * sizeof(*x->pos));
        x->n = 0;
}

void index_free(struct index *x)
{
        free(x->keys);
        free(x->pos);
        *x = (struct index){0};
}

uint64_t index_hash(uint64_t h, const void *p, size_t n)
{
        for (const unsigned char *c = p; n--; c++)
                h = (h ^ *c) * 0x100000001b3ULL;
        return h;
}

uint64_t index_key_string(const char *s)
{
        return index_hash(INDEX_HASH_SEED, s, strlen(s));
}
