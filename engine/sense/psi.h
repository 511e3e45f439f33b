/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/signals.h"

/*
 * Pressure stall information: the pure parser of a pressure file, interval pressure from two snapshots, a reader on
 * held fds, and PSI triggers.
 *
 * A pressure file (a cgroup's cpu.pressure, memory.pressure, io.pressure; /proc/pressure/{cpu,memory,io,irq}):
 *     some avg10=1.27 avg60=1.46 avg300=6.15 total=174836419
 *     full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * total is the cumulative stall time in µs; the avgs are the kernel's decaying averages in percent with two
 * decimals. cpu has no "full" line before 5.13 and irq has only "full": a missing line reads as zeros.
 *
 * PSI disabled at boot (psi=0, or CONFIG_PSI_DEFAULT_DISABLED without psi=1): Debian's 6.1 then has no pressure
 * files at all, in /proc and in cgroups (ENOENT, seen in the vmtest guest with --append psi=0), as a kernel without
 * CONFIG_PSI; a kernel that keeps the files fails every read (and trigger write) with EOPNOTSUPP (DESIGN.md §7).
 * Both are handled: a missing file is a missing file, EOPNOTSUPP is psi_note_read_error().
 */

/* Parse a pressure file's text (NUL-terminated). Unknown keys and lines are ignored (newer kernels may add some);
 * each "some"/"full" line needs total=. Returns 0, -EINVAL on malformed text or when there is neither a "some" nor
 * a "full" line, -ERANGE on numbers past uint64 (or an avg past uint32 hundredths). */
int psi_parse(const char *text, struct psi_resource *ret);

/*
 * Interval pressure in ppm of the elapsed wall time: (total_now - total_prev) / elapsed_usec, clamped to
 * [0, SIGNALS_PPM] (total is sampled at read time, so a delta can overshoot the wall clock measured beside it by a
 * little). A counter that went backwards (a reset: another cgroup behind a reopened file, a replayed fixture) and
 * elapsed_usec == 0 give 0, never a wrapped huge value.
 */
uint32_t psi_interval_ppm(uint64_t total_prev, uint64_t total_now, uint64_t elapsed_usec);
/* Both lines of a resource at once. */
void psi_interval(const struct psi_resource *prev, const struct psi_resource *now, uint64_t elapsed_usec,
                  struct pressure *ret);

/* One pread() from offset 0 of a held pressure fd into buf (size bytes, NUL-terminated), then psi_parse().
 * -EOPNOTSUPP: PSI is disabled (see psi_note_disabled); -E2BIG: buf too small; other -errno from pread. */
int psi_read(int fd, char *buf, size_t size, struct psi_resource *ret);

/*
 * What a failed read of a pressure file means for sensing, and the one message about it: r is the read's
 * -errno. -EOPNOTSUPP is logged once per process ("PSI is disabled ...; sensing goes on without pressure") and
 * returns 0 (go on without this file); anything else is returned as it is. Kept apart from the read so that
 * tests can hand it the errno a real disabled kernel gives.
 */
int psi_note_read_error(int r, const char *what);
/* True once psi_note_read_error() has seen EOPNOTSUPP. */
bool psi_disabled_seen(void);

/*
 * Triggers: a pressure file opened O_RDWR with "some STALL_US WINDOW_US" (or "full ...") written to it becomes
 * readable with POLLPRI (EPOLLPRI) whenever the stall time in any window exceeds STALL_US. One trigger per open
 * file description; the window is 500 ms to 10 s and 0 < stall <= window. A process without CAP_SYS_RESOURCE
 * (checked on the credentials the file was opened with; kernels 6.5+) may only use windows that are multiples of
 * 2 s, and gets EINVAL otherwise; kernels before 6.5 refuse it the O_RDWR open with EPERM. EPOLLERR (with EPOLLPRI)
 * after the cgroup is removed: close the fd then.
 */
#define PSI_WINDOW_MIN_USEC    500000ULL
#define PSI_WINDOW_MAX_USEC    10000000ULL
#define PSI_WINDOW_UNPRIV_USEC 2000000ULL /* unprivileged windows are multiples of this */
#define PSI_TRIGGER_MAX        64         /* "full 10000000 10000000" is 23 bytes */

enum psi_kind {
        PSI_SOME,
        PSI_FULL,
};

/* Pure: the trigger text, after checking the kernel's window and stall rules (-EINVAL otherwise). Returns its
 * length or -ENOBUFS. */
int psi_trigger_format(enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec, char *buf, size_t size);

/* Pure: the unprivileged form of a trigger: the window rounded up to a multiple of 2 s (at most 10 s), the stall
 * scaled with it so the threshold keeps its share of the window. Returns 0, or -EINVAL for invalid input. */
int psi_trigger_unprivileged(uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_stall_usec,
                             uint64_t *ret_window_usec);

/*
 * Arm a trigger on a held fd opened O_RDWR on a pressure file. When the kernel refuses the window with EINVAL and it
 * is not a multiple of 2 s, arms the unprivileged form instead and says so once per process. ret_stall_usec and
 * ret_window_usec (may be NULL) receive what was armed. Returns 0 or -errno (-EOPNOTSUPP: PSI disabled; -EBUSY: the
 * fd already has a trigger).
 */
int psi_trigger_arm(int fd, enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_stall_usec,
                    uint64_t *ret_window_usec);

/*
 * Open file (one name, e.g. "cpu.pressure", or "pressure/cpu" beneath a /proc dirfd) beneath dir_fd with
 * O_RDWR|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW and arm a trigger on it (psi_trigger_arm). Returns the fd, for the
 * daemon's epoll with EPOLLPRI, or -errno; -EPERM (a kernel before 6.5 without CAP_SYS_RESOURCE: no triggers for
 * this process) is said once per process. The caller closes the fd to remove the trigger.
 */
int psi_trigger_open(int dir_fd, const char *file, enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec,
                     uint64_t *ret_stall_usec, uint64_t *ret_window_usec);

/* Forget the once-per-process notes (for tests). */
void psi_notes_reset(void);
