/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "act/actuator.h"
#include "kernel/cgroupfs.h"
#include "place/placement.h"

/*
 * Putting a VM that the engine moved into a cgroup of its own back where it came from: on stop, on a reload to
 * dry-run, and by `vmgov restore` after a crash. Only the process that was moved (its pid and start time, from the
 * journal) is moved back, and only while it is still in the engine's cgroup. When the cgroup it came from is gone
 * (systemd removes a scope once it is empty), it goes to the nearest ancestor that takes it.
 */

struct placement_mover {
        const struct placement_ops *ops;
        int proc_fd;
        const struct cgroup_mount *mount;
        int mount_fd;
};

/* Fill ops with mover (which must outlive them) for actuator_set_move_ops(). */
void placement_move_ops(struct placement_mover *mover, struct actuator_move_ops *ret);
