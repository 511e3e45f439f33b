/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/config.h"

/*
 * Whether IOWeight= can do anything. io.weight is io.cost's file: it weighs a device's I/O only when io.cost is
 * enabled for that device (a "MAJ:MIN enable=1" line in the root cgroup's io.cost.qos). With the bfq scheduler the
 * weight is bfq's own file, io.bfq.weight, which the actuator writes too, as systemd does. On any other device
 * (mq-deadline, kyber, none, without io.cost) the weight is ignored, silently: this module says so, once per
 * device, when a policy with IOWeight= is loaded.
 *
 * The parsing is pure (the scheduler file here, io.cost.qos in cgvalues); ioweight_check() does the reading.
 */

/* Pure: the scheduler in use in a queue/scheduler file ("mq-deadline kyber [bfq] none\n" → "bfq"; a bio-based
 * device's lone "none\n" → "none"), into buf. -EINVAL when it says no one name, -ENOBUFS when it does not fit. */
int ioweight_parse_scheduler(const char *text, char *buf, size_t size);

/* Pure: whether a weight reaches a device with this scheduler and io.cost state. */
bool ioweight_works(const char *scheduler, bool iocost_enabled);

/*
 * When a group of p sets IOWeight=: each block device named in the policy's IO keys (io.max, io.latency), or, if
 * none is, each whole disk in sys_fd's block/ that has a size, is checked: its queue/scheduler, and its line of
 * io.cost.qos in the cgroup2 mount (mount_fd). A warning for each device where the weight does nothing, naming it.
 * Returns how many were warned about; what cannot be read is left unsaid (debug).
 */
int ioweight_check(int sys_fd, int mount_fd, const struct policy *p);
