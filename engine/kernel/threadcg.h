/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The names of the threaded children a VM's cgroup gets when its threads are placed apart (place/threads.h):
 * "vcpuN" for vCPU N (QEMU's cpu-index), "iothreadK" for its K-th IO thread, "emulator" for every other thread.
 * The engine's own names: an IO thread's id comes from the VM and names nothing. Pure.
 */

#define THREAD_CGROUP_NAME_MAX 32

enum thread_cgroup {
        THREAD_CGROUP_EMULATOR,
        THREAD_CGROUP_VCPU,
        THREAD_CGROUP_IOTHREAD,
};

/* The child for that kind and index ("vcpu3", "iothread0", "emulator"). 0 or -ENOBUFS. */
int thread_cgroup_name(enum thread_cgroup kind, size_t index, char *buf, size_t size);
/* Is name a child the engine makes? Its kind and index then (index 0 for the emulator). */
bool thread_cgroup_parse(const char *name, enum thread_cgroup *ret_kind, unsigned *ret_index);
/* Is a process whose cgroup /proc shows as cgroup ("/...": its main thread's) in the engine's cgroup path (relative
 * to the mount): that one, or one of the children its threads are placed in? */
bool thread_cgroup_holds(const char *cgroup, const char *path);
