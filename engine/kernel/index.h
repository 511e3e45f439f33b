/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A hash index from 64-bit keys (a pid, the hash of a cgroup path) to positions in an array its owner keeps: open
 * addressing with linear probing, grown at half load, cleared and refilled when the owner compacts its array.
 * Several positions may share a key, and an entry may be stale (the owner changed the element since): the owner
 * checks every position the index gives against its array. Lookups cost O(1) on average, whatever the array's size.
 */

struct index {
        uint64_t *keys;
        uint32_t *pos; /* INDEX_EMPTY: a free slot */
        size_t cap;    /* a power of two, or 0 */
        size_t n;
};

#define INDEX_EMPTY UINT32_MAX

/* Add key → pos. 0 or -ENOMEM (then the index is as it was). */
int index_put(struct index *x, uint64_t key, uint32_t pos);

/* The positions stored under key, one per call: start with *iter = 0; false when there are no more. */
bool index_next(const struct index *x, uint64_t key, size_t *iter, uint32_t *ret_pos);

/* Forget every entry, keeping the memory for the refill. */
void index_clear(struct index *x);

void index_free(struct index *x);

/* A string's key: FNV-1a, 64 bits. */
uint64_t index_key_string(const char *s);
/* FNV-1a over n bytes, going on from h (INDEX_HASH_SEED to start): for keys made of several fields. */
#define INDEX_HASH_SEED 0xcbf29ce484222325ULL
uint64_t index_hash(uint64_t h, const void *p, size_t n);
