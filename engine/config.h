/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "resource_limits.h"

/*
 * The policy, as loaded from INI files. Loading is all-or-nothing: any error refuses the whole policy and says
 * file:line. No I/O beyond reading the named files; facts about the host (RAM size, device numbers) come in
 * through struct config_env so tests can supply them.
 */

enum vm_class { VM_CLASS_LATENCY, VM_CLASS_NORMAL, VM_CLASS_BATCH };
enum placement_mode { PLACEMENT_OWN, PLACEMENT_INPLACE };

struct group_policy {
        char *name;
        char *file; /* where the [group] section starts */
        unsigned line;

        char **match_name; /* globs on -name */
        size_t n_match_name;
        char **match_uuid; /* globs on -uuid, compared lower-case */
        size_t n_match_uuid;
        char **match_exe; /* globs on the executable's basename */
        size_t n_match_exe;
        uid_t *match_user;
        size_t n_match_user;

        enum vm_class class;
        enum placement_mode placement;
        struct limits limits;
};

struct engine_settings {
        uint64_t interval_usec;
        char *cgroup_root; /* absolute path of the engine's own subtree; NULL: "vmgov" under the cgroup2 mount */
        char *audit_log;   /* NULL: no audit file (records still go to the log in dry-run) */
        char **qemu_exe;   /* globs on the executable basename that make a process a VM */
        size_t n_qemu_exe;
        char *default_group; /* group for VMs no rule matches; NULL = leave them unmanaged */
        bool dry_run;
};

struct policy {
        struct engine_settings engine;
        struct group_policy *groups;
        size_t n_groups;
};

struct config_env {
        uint64_t physical_memory; /* bytes, for MemoryHigh=50% */
        /* Resolve a block device path such as /dev/vda to its numbers; returns 0 or -errno. */
        int (*resolve_device)(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata);
        /* Resolve a user name for MatchUser= (numeric uids need no resolver). */
        int (*resolve_user)(const char *name, unsigned *ret_uid, void *userdata);
        void *userdata;
};

struct config_error {
        char file[512];
        unsigned line; /* 0 when the error is about the file as a whole */
        char message[512];
};

#define ENGINE_INTERVAL_DEFAULT_USEC 1000000ULL
#define ENGINE_CGROUP_ROOT_DEFAULT   "vmgov" /* beneath wherever cgroup2 is mounted */
#define GROUP_NAME_MAX               43      /* "[group NAME]" fits inih's 49-character section names */

/* Load a policy from a file, or from every *.ini in a directory in lexical order. Returns 0 or -EINVAL (with
 * ret_error filled), -ENOENT etc. for I/O errors (also described in ret_error). */
int config_load(const char *path, const struct config_env *env, struct policy **ret_policy,
                struct config_error *ret_error);

/* Load from an in-memory buffer; file is only used in messages. */
int config_load_string(const char *file, const char *text, const struct config_env *env, struct policy **ret_policy,
                       struct config_error *ret_error);

void policy_free(struct policy *p);

/* Print "file:line: message" (or "file: message") into buf. */
void config_error_format(const struct config_error *e, char *buf, size_t len);

const char *vm_class_to_string(enum vm_class c);
