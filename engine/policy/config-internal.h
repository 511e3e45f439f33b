/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the parts of the policy loader share, and nothing outside engine/policy/ may include: the loader's state
 * while one policy is read, and the calls between the parts. config.c owns the loader, the policy and its groups,
 * and reports the first error; ini.c reads the files and hands on each section header and each
 * (section, key, value, line); keys.c parses each value into its field; validate.c checks and completes what
 * depends on more than one key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kernel/macro.h"
#include "policy/config.h"

/* inih's limits (Debian's build): longer lines and names are cut without a word, so we refuse them first. */
#define INI_LINE_MAX  198
#define INI_NAME_MAX  49
#define SEEN_KEYS_MAX 256

struct seen_key {
        char section[64];
        char key[64];
        char device[64]; /* for the per-device IO keys, which may repeat with different devices */
        const char *file;
        unsigned line;
};

struct loader {
        const struct config_env *env;
        struct policy *policy;
        struct config_error *error;
        const char *file; /* current file, as given (owned by file_names) */
        char **file_names;
        size_t n_file_names;
        bool failed;

        struct seen_key seen[SEEN_KEYS_MAX];
        size_t n_seen;

        unsigned default_group_line;
        const char *default_group_file;
};

/* config.c: the first error is the one reported; returns -EINVAL, also for every later error. */
_printf_(4, 5) int loader_fail(struct loader *l, const char *file, unsigned line, const char *fmt, ...);
void strv_free(char **v, size_t n);
/* Split a whitespace-separated list into a fresh string vector; -EINVAL if it holds no word. */
int strv_split(const char *value, char ***ret, size_t *ret_n);
struct group_policy *policy_find_group(struct policy *p, const char *name);
bool group_name_valid(const char *name);
/* A section header, as the pre-scan finds it: [engine], or a new [group NAME] with its defaults. */
int loader_add_section(struct loader *l, const char *section, unsigned line);
extern const char *const vm_class_names[VM_CLASS_BATCH + 1];
extern const char *const memory_probe_names[MEMORY_PROBE_HIGH + 1];

/* ini.c: load a policy file, or every *.ini in a directory in lexical order; or a text already in memory. */
int ini_load_path(struct loader *l, const char *path);
int ini_load_text(struct loader *l, const char *file, const char *text, size_t size);

/* keys.c: one "Key = value" of a section. */
int keys_set(struct loader *l, const char *section, const char *key, const char *value, unsigned line);

/* validate.c: once all files are read, check and translate what depends on more than one key. */
int config_finish(struct loader *l);
