/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>
#include <unistd.h>

#include "kernel/cgroupfs.h"
#include "kernel/cgvalues.h"
#include "kernel/macro.h"
#include "kernel/signals.h"
#include "sense/threadsig.h"

uint32_t threadsig_usage_ppm(uint64_t prev_usec, uint64_t cur_usec, uint64_t interval_usec)
{
        if (interval_usec == 0 || cur_usec < prev_usec)
                return 0;
        uint64_t ppm = (cur_usec - prev_usec) * 1000000ULL / interval_usec;
        return (uint32_t)MIN(ppm, (uint64_t)UINT32_MAX);
}

static const struct thread_signals *find(const struct thread_signals *rows, size_t n, const char *name)
{
        for (size_t i = 0; rows && i < n; i++)
                if (strcmp(rows[i].name, name) == 0)
                        return &rows[i];
        return NULL;
}

static bool read_child(int vm_fd, struct thread_signals *row)
{
        _cleanup_close_ int fd = cgroupfs_open_dir(vm_fd, row->name);
        struct cgv_cpu_stat st;
        char text[1024];

        if (fd < 0)
                return false;
        if (cgroupfs_read(fd, "cpu.stat", text, sizeof(text)) >= 0 && cgv_parse_cpu_stat(text, &st) == 0) {
                row->stat_read = true;
                row->usage_usec = st.usage_usec;
                row->nr_periods = st.nr_periods;
                row->nr_throttled = st.nr_throttled;
                row->throttled_usec = st.throttled_usec;
        }
        if (cgroupfs_read(fd, "cpuset.cpus.effective", row->cpus, sizeof(row->cpus)) >= 0)
                row->cpus[strcspn(row->cpus, "\n")] = '\0';
        else
                row->cpus[0] = '\0';
        return row->stat_read;
}

size_t threadsig_read(int vm_fd, struct thread_signals *rows, size_t n, const struct thread_signals *prev,
                      size_t n_prev, uint64_t interval_usec)
{
        size_t read = 0;

        for (size_t i = 0; i < n; i++) {
                struct thread_signals old = rows[i];

                rows[i].stat_read = false;
                if (!read_child(vm_fd, &rows[i]))
                        continue;
                read++;
                const struct thread_signals *p = prev ? find(prev, n_prev, rows[i].name) : &old;
                rows[i].usage_ppm =
                        p && p->stat_read ? threadsig_usage_ppm(p->usage_usec, rows[i].usage_usec, interval_usec) : 0;
        }
        return read;
}
