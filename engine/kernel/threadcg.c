/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The names of a VM's threaded children (see threadcg.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/threadcg.h"

int thread_cgroup_name(enum thread_cgroup kind, size_t index, char *buf, size_t size)
{
        int n;

        switch (kind) {
        case THREAD_CGROUP_VCPU:
                n = snprintf(buf, size, "vcpu%zu", index);
                break;
        case THREAD_CGROUP_IOTHREAD:
                n = snprintf(buf, size, "iothread%zu", index);
                break;
        default:
                n = snprintf(buf, size, "emulator");
        }
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

/* prefix, then 1 to 10 digits as the engine prints them (no leading zero): the number, or -1. */
static long long digits_after(const char *name, const char *prefix)
{
        size_t len = strlen(prefix);
        long long v = 0;

        if (strncmp(name, prefix, len) != 0 || !name[len] || strlen(name + len) > 10)
                return -1;
        if (name[len] == '0' && name[len + 1])
                return -1;
        for (const char *p = name + len; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -1;
                v = v * 10 + (*p - '0');
        }
        return v <= 0xffffffffLL ? v : -1;
}

bool thread_cgroup_parse(const char *name, enum thread_cgroup *ret_kind, unsigned *ret_index)
{
        enum thread_cgroup kind;
        long long index = 0;

        if (strcmp(name, "emulator") == 0)
                kind = THREAD_CGROUP_EMULATOR;
        else if ((index = digits_after(name, "vcpu")) >= 0)
                kind = THREAD_CGROUP_VCPU;
        else if ((index = digits_after(name, "iothread")) >= 0)
                kind = THREAD_CGROUP_IOTHREAD;
        else
                return false;
        if (ret_kind)
                *ret_kind = kind;
        if (ret_index)
                *ret_index = (unsigned)index;
        return true;
}

bool thread_cgroup_holds(const char *cgroup, const char *path)
{
        size_t len = strlen(path);

        if (cgroup[0] != '/' || strncmp(cgroup + 1, path, len) != 0)
                return false;
        return cgroup[1 + len] == '\0' || (cgroup[1 + len] == '/' && thread_cgroup_parse(cgroup + 2 + len, NULL, NULL));
}
