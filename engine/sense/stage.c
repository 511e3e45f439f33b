/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sense stage: held fds on each VM's cgroup and the host's /proc/pressure → this tick's signals. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat.h"
#include "sense/sense.h"
#include "sense/stage.h"

void sense_stage_release(struct engine *e, struct vm_state *vm)
{
        sense_vm_freep(&vm->sensor);
        vm->sensor = NULL;
        if (vm->schedlat_tracked)
                schedlat_vm_remove(e->schedlat, vm->schedlat_id);
        vm->schedlat_tracked = false;
        vm->sense_unavailable = false;
        if (vm->sense_fd != vm->cgroup_fd)
                closep(&vm->sense_fd);
        vm->sense_fd = -1; /* else it was the cgroup's fd, which place holds */
}

/*
 * Which cgroup tells about this VM: its own once placed; in dry-run, where it was not moved, the cgroup it is in,
 * but only if nothing else lives there (the root cgroup or a shared one would describe other processes).
 */
static void sense_start(struct engine *e, struct vm_state *vm)
{
        char name[AUDIT_LOG_NAME_MAX];
        pid_t foreign;
        int r;

        if (vm->sense_fd >= 0 || vm->sensor || vm->schedlat_tracked || vm->sense_unavailable)
                return;
        if (vm->cgroup_fd >= 0)
                vm->sense_fd = vm->cgroup_fd;
        else if (!e->dry_run) {
                /* placed, but its cgroup is not held: the fd budget is spent (said once), so it is governed unsensed */
                vm->sense_unavailable = true;
                return;
        } else if (strcmp(vm->id.cgroup, "/") != 0) {
                int fd = cgroupfs_open_dir(e->mount_fd, vm->id.cgroup + 1);
                if (fd >= 0 && cgroupfs_check_exclusive(fd, vm->id.pid, &foreign) == 0)
                        vm->sense_fd = fd;
                else if (fd >= 0)
                        close(fd);
                engine_fd_keep(e, &vm->sense_fd, false);
                if (vm->sense_fd < 0 && fd >= 0) {
                        vm->sense_unavailable = true;
                        return;
                }
        }
        if (vm->sense_fd < 0) {
                log_info("VM %s (pid %d): its cgroup %s is shared, so it is not sensed until it has its own",
                         vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, vm->id.cgroup);
                vm->sense_unavailable = true;
                return;
        }
        struct sense_options so = {.name = vm->cgroup && vm->cgroup_fd >= 0 ? vm->cgroup : vm->id.cgroup,
                                   .swap = e->swap,
                                   /* past the budget, its files are opened at each tick */
                                   .transient = !engine_fds_room(e, _SENSE_FILE_MAX + 1, true)};
        if (so.transient)
                engine_fds_spent(e);
        r = sense_vm_open(vm->sense_fd, &so, &vm->sensor);
        if (r < 0)
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                               "pressure and statistics of VM pid %d (cgroup %s) are not sensed: %m", (int)vm->id.pid,
                               so.name);
        if (e->schedlat) {
                r = schedlat_vm_add(e->schedlat, vm->sense_fd, vm->id.pid, &vm->schedlat_id);
                if (r == 0) {
                        vm->schedlat_tracked = true;
                        if (so.transient)
                                schedlat_vm_drop_fd(e->schedlat, vm->schedlat_id);
                } else if (r == -ENOSPC || r == -E2BIG) {
                        if (!e->warned_schedlat_full)
                                log_warn("run-queue latency: the eBPF maps, sized at start-up for %u VMs, are full: "
                                         "VM pid %d and those after it are not measured (restart the engine to size "
                                         "them for the VMs there are)",
                                         e->schedlat_max_vms, (int)vm->id.pid);
                        e->warned_schedlat_full = true;
                } else
                        log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                                       "run-queue latency of VM pid %d is not measured: %m", (int)vm->id.pid);
        }
}

void sense_stage(struct engine *e, uint64_t now)
{
        bool rescan = e->ticks % 10 == 0; /* new threads: vCPU hotplug, or vCPUs started after QEMU's exec */

        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                if (!vm_managed(vm))
                        continue;
                vm->sig = (struct vm_signals){0};
                sense_start(e, vm);
                if (vm->sensor) {
                        int r = sense_vm_tick(vm->sensor, now, &vm->sig);
                        if (r == -ENODEV) /* its cgroup is gone: the sweep of the next scan says why */
                                sense_vm_freep(&vm->sensor), vm->sensor = NULL;
                }
                if (vm->schedlat_tracked) {
                        if (rescan)
                                (void)schedlat_vm_scan(e->schedlat, vm->schedlat_id);
                        (void)schedlat_read(e->schedlat, vm->schedlat_id, &vm->sig.runq, NULL);
                }
                /* In dry-run the kernel never holds what the laws decided: show them their own value, or the
                 * memory law would take its own decisions for someone else's. */
                if (e->dry_run && vm->ctl.initialized)
                        vm->sig.memory_high = vm->ctl.memory_high_written;
        }
        e->host = (struct host_signals){0};
        if (e->host_sensor)
                (void)sense_host_tick(e->host_sensor, now, &e->host);
        e->ticks++;
}
