/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * One QEMU process as discovery sees it. A VM is identified by (pid, start_time): a pid reused by a new process
 * has a different start time and is never taken for the old VM.
 * Everything here except pid comes from a command line someone else wrote: treat it as hostile.
 */
#define VM_NAME_MAX 1024 /* longer -name values are cut here (and reported), never overflow */
#define VM_UUID_LEN 36
#define VM_EXE_MAX  256

struct vm_identity {
        pid_t pid;
        uint64_t start_time; /* field 22 of /proc/PID/stat, clock ticks after boot */
        uid_t uid;
        char name[VM_NAME_MAX + 1]; /* "" when QEMU has no -name */
        bool name_truncated;
        char uuid[VM_UUID_LEN + 1]; /* "" when no -uuid, lower-case canonical form otherwise */
        char exe[VM_EXE_MAX + 1];   /* basename of the executable */
        char cgroup[4096];          /* cgroup v2 path from the "0::" line, e.g. "/user.slice/..." */
};
