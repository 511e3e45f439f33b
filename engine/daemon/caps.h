/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Dropping the capabilities the engine no longer needs once start-up is done. Its cgroup files and directories
 * are root's, and owner rights need no capability; the one exception, the cgroup2 root directory (mode 0555: a
 * mkdir there needs CAP_DAC_OVERRIDE, seen on Debian's 6.1 kernel), is dealt with by creating the engine's own
 * tree at start-up. What stays, and why:
 *   CAP_SYS_PTRACE  read /proc/PID/exe and /proc/PID/fd* of QEMU processes (needed even for root's: the engine has
 *                   fewer capabilities than its targets)
 *   CAP_NET_ADMIN   tc on tap devices and ifbs, the proc connector
 *   CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN   bpf() on the loaded maps: with unprivileged bpf disabled every bpf()
 *                   command needs CAP_BPF (CAP_SYS_ADMIN before 5.8); CAP_SYS_ADMIN is kept only when the kernel
 *                   has no CAP_BPF
 * Everything else leaves the effective, permitted, inheritable, ambient and bounding sets.
 */

/* The capabilities the engine keeps, as a 64-bit mask (1 << CAP_x), for a kernel whose highest capability is
 * last_cap (sys/kernel/cap_last_cap beneath /proc, which caps_last_cap(proc_fd) reads; 40 if it cannot). */
uint64_t caps_engine_mask(unsigned last_cap);
unsigned caps_last_cap(int proc_fd);

/* Reduce this process to keep (intersected with what it has), for capabilities up to last_cap. Returns 0, or -errno
 * (e.g. -EPERM when not privileged to begin with, or when the bounding set could not shrink for lack of CAP_SETPCAP:
 * the effective, permitted and inheritable sets are reduced all the same). */
int caps_reduce(uint64_t keep, unsigned last_cap);

/* The effective set from /proc/self/status, for logs and tests. */
int caps_effective(uint64_t *ret);
