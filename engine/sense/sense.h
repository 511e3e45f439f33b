/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/signals.h"

/*
 * Sensing: each tick, one VM cgroup's PSI and statistics files (or the host's /proc/pressure) become a struct
 * vm_signals (host_signals).
 *
 * A sensor opens its files once, beneath the cgroup's directory fd (O_RDONLY|O_CLOEXEC|O_NOFOLLOW), and holds them;
 * a tick is one pread() per file into a buffer all sensors share, a parse without stdio, and deltas against the
 * previous tick over the CLOCK_MONOTONIC time between the two. Nothing is allocated per tick once the buffer has
 * grown to the largest file (the first tick). Sensors are opened, ticked and freed from one thread.
 *
 * Files that are not there are tolerated: without the memory or io controller a cgroup has no memory.* or io.stat,
 * and without the cpu controller cpu.stat has only usage_usec, user_usec, system_usec (and nice_usec). Those
 * signals stay 0 — memory_high and memory_max too, which then do not mean "a limit of 0" — and the sensor says once
 * which files are missing (at info level once per process for each distinct set, then at debug level, so 1000 VMs
 * alike give one line). A file that disappears later while cpu.stat still reads (a controller disabled in the
 * parent's cgroup.subtree_control, PSI hidden by cgroup.pressure = 0) is dropped the same way.
 *
 * memory_unreclaimable, what reclaim cannot take back from the VM (the floor for memory.high):
 *     kernel_unreclaimable = kernel - slab_reclaimable                  (memory.stat "kernel", 5.18+)
 *                          = kernel_stack + pagetables + percpu + slab_unreclaimable    (older kernels)
 *     without swap:  anon + shmem + kernel_unreclaimable   (anon and tmpfs pages have nowhere to go)
 *     with swap:     unevictable + kernel_unreclaimable    (mlocked memory, e.g. QEMU -overcommit mem-lock=on)
 * "kernel" counts reclaimable slab (dentries, inodes) too, which reclaim does shrink: it is taken out so both
 * forms agree. A VM has swap when the host has (sense_swap_present) and its memory.swap.max is not 0.
 */

/* The files of a VM sensor, in the order a tick reads them: cpu.stat first, it is always there (cgroup core), so
 * its ENODEV/ENOENT tells a vanished cgroup from a vanished file. */
enum sense_file {
        SENSE_CPU_STAT,
        SENSE_CPU_PRESSURE,
        SENSE_MEMORY_PRESSURE,
        SENSE_IO_PRESSURE,
        SENSE_MEMORY_CURRENT,
        SENSE_MEMORY_STAT,
        SENSE_MEMORY_EVENTS,
        SENSE_MEMORY_HIGH,
        SENSE_MEMORY_MAX,
        SENSE_IO_STAT,
        _SENSE_FILE_MAX,
};

#define SENSE_FILE_BIT(f) (1u << (f))

const char *sense_file_name(enum sense_file f);

/*
 * How a sensor reads a held fd: into buf (size bytes), NUL-terminated; returns the length or -errno, -E2BIG when
 * the text may not have fit (the sensor grows its buffer and reads again). file is the name the fd was opened by.
 * The default is cgroupfs_pread_record(): one pread() from offset 0. Tests pass their own, to hand the sensor
 * errors no fixture file can give (EOPNOTSUPP from a disabled PSI, ENODEV from a removed cgroup).
 */
typedef int (*sense_read_fn)(int fd, const char *file, char *buf, size_t size);

struct sense_options {
        const char *name;   /* for messages, e.g. the cgroup's path; NULL: "cgroup" (host: "/proc") */
        bool swap;          /* the host has swap (sense_swap_present): anon and shmem can be reclaimed */
        sense_read_fn read; /* NULL: one pread() */
        bool transient;     /* hold no file: open each through cgroup_fd (which must then stay open) at each tick */
};

struct sense_vm;
struct sense_host;

/*
 * Open a sensor on the cgroup directory cgroup_fd (not taken over: the caller may close it afterwards). opts may be
 * NULL. Returns 0, -ENOENT when cgroup_fd has no cpu.stat (not a cgroup v2 directory, or already removed:
 * errno_is_vanished() is true for it), -ENOMEM, or another -errno from openat, for the caller to report.
 */
int sense_vm_open(int cgroup_fd, const struct sense_options *opts, struct sense_vm **ret);

/*
 * One tick: read every held file, parse, and fill *ret with this tick's signals and the deltas since the previous
 * tick, over now_usec minus the previous tick's now_usec (CLOCK_MONOTONIC µs; SENSE_NOW: read the clock here, just
 * before the reads). The first tick has interval_usec 0 and no deltas (the absolute values are filled). Every field
 * but ret->runq is written (schedlat fills that); ret is written only on success.
 * Returns 0; -ENODEV when the cgroup is gone (the VM exited and its cgroup was removed: logged at debug level;
 * close the sensor); another -errno on a failed read or text that does not parse (logged).
 */
#define SENSE_NOW 0
int sense_vm_tick(struct sense_vm *s, uint64_t now_usec, struct vm_signals *ret);

/* Bit SENSE_FILE_BIT(f) for each file the sensor does not read (absent, or dropped since). */
unsigned sense_vm_missing(const struct sense_vm *s);
/* Whether the sensor counts anon and shmem as reclaimable (see above). */
bool sense_vm_swap(const struct sense_vm *s);

struct sense_vm *sense_vm_free(struct sense_vm *s);
static inline void sense_vm_freep(struct sense_vm **s)
{
        *s = sense_vm_free(*s);
}

/*
 * The host: /proc/pressure/{cpu,memory,io} beneath proc_fd (an fd on /proc or a fixture tree). A kernel without
 * CONFIG_PSI, or 6.1 booted with psi=0, has no /proc/pressure; kernels that keep the files with PSI disabled fail every
 * read with EOPNOTSUPP: both are said once and
 * the pressures stay 0. ncpus is the number of online CPUs. Returns 0 or -errno; a file that exists and cannot be
 * opened is the caller's to report.
 */
int sense_host_open(int proc_fd, const struct sense_options *opts, struct sense_host **ret);
int sense_host_tick(struct sense_host *h, uint64_t now_usec, struct host_signals *ret);
struct sense_host *sense_host_free(struct sense_host *h);
static inline void sense_host_freep(struct sense_host **h)
{
        *h = sense_host_free(*h);
}

/* Pure: whether the text of /proc/swaps lists a swap area (any line after the header). -EINVAL without the
 * header. */
int sense_parse_swaps(const char *text, bool *ret_swap);
/* Read "swaps" beneath proc_fd and parse it. A kernel without CONFIG_SWAP has no /proc/swaps: no swap. */
int sense_swap_present(int proc_fd, bool *ret_swap);

/* Forget the once-per-process notes (for tests). */
void sense_notes_reset(void);
