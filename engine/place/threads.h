/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "discover/vcpus.h"
#include "kernel/threadcg.h"

/*
 * A VM's threads in a threaded subtree of its own cgroup (Placement=own, a group that sets a per-thread key):
 *
 *   VM              domain: memory, io, pids, and cpu/cpuset for the VM as a whole
 *   ├─ vcpuN        threaded: its vCPU N (QEMU's cpu-index)
 *   ├─ iothreadK    threaded: its K-th IO thread, in the order the thread map lists them
 *   └─ emulator     threaded: every other thread (the main loop, RCU, the workers of the block layer)
 *
 * The children are made threaded (cgroup.type) before anything moves, and cpu (and cpuset, when the VM's cgroup
 * has it) enabled below the VM; memory and io stay at the VM. Threads are moved through cgroup.threads, which the
 * kernel allows only inside the VM's threaded domain: a tid of another process is refused by the kernel whatever a
 * map says. Threads still in the VM's cgroup itself (new ones: a hot-plugged vCPU, a new worker) are moved at the
 * next call. The children's names: kernel/threadcg.h.
 */

struct threads_placed {
        unsigned moved;    /* threads moved into a child */
        unsigned vanished; /* threads that exited before they could be moved */
        unsigned children; /* children made */
};

/*
 * Move each thread listed in the VM's own cgroup.threads (vm_fd: its cgroup directory) into its child, made as
 * needed; with all_of_map, also every vCPU and IO thread of the map wherever it is in the subtree (a map read again:
 * a thread first taken for the emulator's may be a hot-plugged vCPU). Returns 0 or -errno (the first failure that
 * is not a thread that exited); *ret counts what was done either way.
 */
int threads_place(int vm_fd, const struct vcpus_map *m, bool all_of_map, struct threads_placed *ret);

/* Remove the engine's children of a VM's cgroup, which must be empty by now (the VM exited, or was moved out
 * whole). 0, or the first -errno (-EBUSY: a child still holds threads). Other directories are left alone. */
int threads_remove_children(int vm_fd);
