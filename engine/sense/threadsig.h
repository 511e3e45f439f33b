/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "kernel/signals.h"

/*
 * What each threaded child of a VM's cgroup (vcpuN, iothreadK, emulator) used and was given: its cpu.stat and
 * cpuset.cpus.effective, read below the VM's cgroup. The rows' names and tids are the caller's (from the VM's thread
 * map); the rest is filled here.
 */

/* The tick's share of one CPU in ppm, from two usage_usec readings interval_usec apart: 0 without an interval, or
 * when the counter went back (the child was made anew). */
uint32_t threadsig_usage_ppm(uint64_t prev_usec, uint64_t cur_usec, uint64_t interval_usec);

/* Read each row's child (rows[i].name) below vm_fd. Its usage_ppm is over interval_usec since the values the row
 * held, or, with prev, since those of prev's row of the same name (n_prev rows: the previous tick's, when the rows
 * were made anew). A child that cannot be read keeps stat_read false. Returns how many were read. */
size_t threadsig_read(int vm_fd, struct thread_signals *rows, size_t n, const struct thread_signals *prev,
                      size_t n_prev, uint64_t interval_usec);
