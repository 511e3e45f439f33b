/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/*
 * One QEMU process as discovery sees it. A VM is identified by (pid, start_time): a pid reused by a new process
 * has a different start time and is never taken for the old VM.
 * Everything here except pid comes from a command line someone else wrote: treat it as hostile.
 */
#define VM_NAME_MAX   1024 /* longer -name values are cut here (and reported), never overflow */
#define VM_UUID_LEN   36
#define VM_EXE_MAX    256
#define VM_CGROUP_MAX 4096 /* the longest cgroup path taken (PATH_MAX): longer ones are not read */

struct vm_identity {
        pid_t pid;
        uint64_t start_time; /* field 22 of /proc/PID/stat, clock ticks after boot */
        uid_t uid;
        char *name; /* on the heap, NULL when QEMU has no -name: vm_name() */
        bool name_truncated;
        char uuid[VM_UUID_LEN + 1]; /* "" when no -uuid, lower-case canonical form otherwise */
        char *exe;                  /* basename of the executable, on the heap (NULL: unknown): vm_exe() */
        /* cgroup v2 path from the "0::" line, e.g. "/user.slice/...": on the heap, as long as it is (a thousand VMs
         * hold a thousand), owned by the identity: vm_identity_done() */
        char *cgroup;
};
/* name, exe and cgroup are on the heap, each as long as it is: a table of a thousand VMs does not carry a thousand
 * kilobytes of room for -name values nobody gives. */

static inline const char *vm_name(const struct vm_identity *id)
{
        return id->name ? id->name : "";
}

static inline const char *vm_exe(const struct vm_identity *id)
{
        return id->exe ? id->exe : "";
}

/* Set *field (name or exe) to a copy of s, NULL for "". 0 or -ENOMEM. */
static inline int vm_identity_set(char **field, const char *s)
{
        char *copy = NULL;

        if (s[0] && !(copy = strdup(s)))
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

/* Give the identity its own copy of path. 0 or -ENOMEM. */
static inline int vm_identity_set_cgroup(struct vm_identity *id, const char *path)
{
        char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        free(id->cgroup);
        id->cgroup = copy;
        return 0;
}

/* Release what the identity holds: its strings. */
static inline void vm_identity_done(struct vm_identity *id)
{
        free(id->name);
        free(id->exe);
        free(id->cgroup);
        id->name = id->exe = id->cgroup = NULL;
}

/* Move src into *dst (whose strings the caller has released): src keeps none of them. */
static inline void vm_identity_move(struct vm_identity *dst, struct vm_identity *src)
{
        *dst = *src;
        src->name = src->exe = src->cgroup = NULL;
}

/* A deep copy of src into *dst (nothing held). 0 or -ENOMEM (*dst then holds nothing). */
static inline int vm_identity_copy(struct vm_identity *dst, const struct vm_identity *src)
{
        *dst = *src;
        dst->name = dst->exe = dst->cgroup = NULL;
        if ((src->name && !(dst->name = strdup(src->name))) || (src->exe && !(dst->exe = strdup(src->exe))) ||
            (src->cgroup && !(dst->cgroup = strdup(src->cgroup)))) {
                vm_identity_done(dst);
                return -ENOMEM;
        }
        return 0;
}

/* An array of n identities, and what each holds. */
static inline void vm_identities_free(struct vm_identity *ids, size_t n)
{
        for (size_t i = 0; ids && i < n; i++)
                vm_identity_done(&ids[i]);
        free(ids);
}
