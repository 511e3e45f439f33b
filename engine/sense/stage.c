/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sense stage: held fds on each VM's cgroup and the host's /proc/pressure → this tick's signals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "discover/vcpus.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/threadcg.h"
#include "policy/policy.h"
#include "sense/psi.h"
#include "sense/schedlat.h"
#include "sense/sense.h"
#include "sense/stage.h"
#include "sense/threadsig.h"

/*
 * PSI triggers: for each pressure target its group sets, the kernel wakes the daemon's epoll as soon as the VM's
 * stall time in a 1 s window passes 105% of the target's share of it, and the engine ticks then instead of at the
 * next Interval= (engine_on_pressure). That tick's pressure since the last one dilutes the stall of the last second
 * into the whole interval; what the kernel measured is a lower bound of it, above the target, and the laws see at
 * least that. Armed once a VM is sensed, and again at the first tick of each policy generation, so a reload's new
 * targets take effect.
 */
#define TRIGGER_WINDOW_USEC ENGINE_TRIGGER_WINDOW_USEC

static const char *const trigger_files[] = {"cpu.pressure", "memory.pressure", "io.pressure"};

static uint32_t trigger_target_ppm(const struct group_policy *g, unsigned k)
{
        const struct adapt_policy *a = &g->adapt;

        return k == 0 ? a->cpu_pressure_target_ppm : k == 1 ? a->memory_pressure_target_ppm : a->io_pressure_target_ppm;
}

/* Drop the index's stale entries (closed triggers, whose fd numbers come back) once they outnumber the live ones. */
static void trigger_index_compact(struct engine *e)
{
        if (e->trigger_index_puts < 2 * e->triggers + 64)
                return;
        index_clear(&e->trigger_by_fd);
        e->trigger_index_puts = 0;
        for (size_t i = 0; i < e->n_vms; i++)
                for (unsigned k = 0; k < ELEMENTSOF(e->vms[i].trigger_fd); k++)
                        if (e->vms[i].trigger_fd[k] >= 0 &&
                            index_put(&e->trigger_by_fd, (uint64_t)e->vms[i].trigger_fd[k],
                                      (uint32_t)e->vms[i].id.pid) >= 0)
                                e->trigger_index_puts++;
}

/* A trigger for target_ppm (105% of its share of the window) on file beneath dir_fd, in the daemon's epoll. Returns
 * the fd with *ret_ppm set, 0 when the target is unset, or -errno (no PSI or no capability: said once by psi.c; the
 * tick still reacts). who ("VM pid N: " or "") and what (the file as the log shows it) name it in the debug log. */
static int trigger_arm(struct engine *e, int dir_fd, const char *file, uint32_t target_ppm, const char *who,
                       const char *what, uint32_t *ret_ppm)
{
        uint32_t ppm = (uint32_t)MIN((uint64_t)target_ppm * 105 / 100, (uint64_t)1000000);
        uint64_t stall = TRIGGER_WINDOW_USEC * ppm / 1000000;
        struct epoll_event ev = {.events = EPOLLPRI};
        int fd;

        if (stall == 0)
                return 0;
        fd = psi_trigger_open(dir_fd, file, PSI_SOME, stall, TRIGGER_WINDOW_USEC, NULL, NULL);
        if (fd < 0)
                return log_debug_errno(fd, "%sno trigger on %s: %m", who, what);
        ev.data.fd = fd;
        if (epoll_ctl(e->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                close(fd);
                return log_debug_errno(r, "%strigger on %s: epoll: %m", who, what);
        }
        e->triggers++;
        *ret_ppm = ppm;
        log_debug("%sPSI trigger on %s: %llu ms stalled in %llu ms", who, what, (unsigned long long)(stall / 1000),
                  (unsigned long long)(TRIGGER_WINDOW_USEC / 1000));
        return fd;
}

static void triggers_arm(struct engine *e, struct vm_state *vm)
{
        const struct group_policy *g = vm_group_policy(e, vm);
        char who[32];

        if (e->epoll_fd < 0 || vm->sense_fd < 0 || !g)
                return;
        snprintf(who, sizeof(who), "VM pid %d: ", (int)vm->id.pid);
        for (unsigned k = 0; k < ELEMENTSOF(trigger_files); k++) {
                if (vm->trigger_fd[k] >= 0 || trigger_target_ppm(g, k) == 0)
                        continue;
                if (!engine_fds_room(e, 1, false)) /* the budget is for sensing first */
                        return;
                int fd = trigger_arm(e, vm->sense_fd, trigger_files[k], trigger_target_ppm(g, k), who, trigger_files[k],
                                     &vm->trigger_ppm[k]);
                if (fd == -EPERM || fd == -EOPNOTSUPP)
                        return;
                if (fd <= 0)
                        continue;
                if (index_put(&e->trigger_by_fd, (uint64_t)fd, (uint32_t)vm->id.pid) < 0) {
                        close(fd); /* not found when it fired: better none at all */
                        e->triggers--;
                        continue;
                }
                e->trigger_index_puts++;
                vm->trigger_fd[k] = fd;
        }
}

static void triggers_close(struct engine *e, struct vm_state *vm)
{
        for (unsigned k = 0; k < ELEMENTSOF(vm->trigger_fd); k++)
                if (vm->trigger_fd[k] >= 0) {
                        vm->trigger_fd[k] = safe_close(vm->trigger_fd[k]); /* and so out of the epoll set */
                        e->triggers--;
                }
        vm->triggered = 0;
        vm->trigger_gen = 0;
}

/* The host's: /proc/pressure/memory and io, for HostMemoryPressureTarget= and HostIOPressureTarget=. */
static const char *const host_trigger_files[] = {"pressure/memory", "pressure/io"};

static void host_triggers_close(struct engine *e)
{
        for (unsigned k = 0; k < ELEMENTSOF(e->host_trigger_fd); k++)
                if (e->host_trigger_fd[k] >= 0) {
                        e->host_trigger_fd[k] = safe_close(e->host_trigger_fd[k]);
                        e->triggers--;
                }
        e->host_triggered = 0;
}

/* Armed at the first tick of each policy generation: a reload's new targets re-arm them. */
static void host_triggers_refresh(struct engine *e)
{
        const struct host_policy *h = &e->policy->engine.host;
        const uint32_t target[] = {h->memory_pressure_target_ppm, h->io_pressure_target_ppm};

        if (e->epoll_fd < 0 || e->host_trigger_gen == e->policy->generation)
                return;
        host_triggers_close(e);
        e->host_trigger_gen = e->policy->generation;
        for (unsigned k = 0; k < ELEMENTSOF(host_trigger_files); k++) {
                char what[48];
                snprintf(what, sizeof(what), "the host's /proc/%s", host_trigger_files[k]);
                int fd =
                        trigger_arm(e, e->proc_fd, host_trigger_files[k], target[k], "", what, &e->host_trigger_ppm[k]);
                if (fd > 0)
                        e->host_trigger_fd[k] = fd;
        }
}

bool sense_stage_trigger_fired(struct engine *e, int fd, char *what, size_t size)
{
        char name[AUDIT_LOG_NAME_MAX];
        struct vm_state *vm;
        uint32_t pid;

        for (unsigned k = 0; k < ELEMENTSOF(e->host_trigger_fd); k++)
                if (e->host_trigger_fd[k] == fd) {
                        e->host_triggered |= 1u << k;
                        snprintf(what, size, "the host's /proc/%s", host_trigger_files[k]);
                        return true;
                }
        for (size_t it = 0; index_next(&e->trigger_by_fd, (uint64_t)fd, &it, &pid);)
                for (size_t it2 = 0; (vm = vm_next_by_pid(e, (pid_t)pid, &it2));)
                        for (unsigned k = 0; k < ELEMENTSOF(vm->trigger_fd); k++)
                                if (vm->trigger_fd[k] == fd) {
                                        vm->triggered |= 1u << k;
                                        snprintf(what, size, "VM %s (pid %d): %s",
                                                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid,
                                                 trigger_files[k]);
                                        return true;
                                }
        return false;
}

void sense_stage_close(struct engine *e)
{
        host_triggers_close(e);
}

/* A VM's triggers, armed once it is sensed and again for each new policy generation (a reload may change its
 * targets). */
static void triggers_refresh(struct engine *e, struct vm_state *vm)
{
        if (e->epoll_fd < 0 || !vm->sensor || vm->trigger_gen == e->policy->generation)
                return;
        triggers_close(e, vm);
        vm->trigger_gen = e->policy->generation;
        trigger_index_compact(e);
        triggers_arm(e, vm);
}

static void thread_rows_free(struct vm_state *vm)
{
        vm->thread_sig = mfree(vm->thread_sig);
        vm->n_thread_sig = 0;
        vm->thread_sig_gen = 0;
}

void sense_stage_release(struct engine *e, struct vm_state *vm)
{
        thread_rows_free(vm);
        triggers_close(e, vm);
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

/* The VM's run-queue latency measured by s, which holds its cgroup unless the fd budget is spent. A VM refused for
 * want of room waits for the maps to grow (schedlat_grow). */
static void schedlat_track(struct engine *e, struct schedlat *s, struct vm_state *vm)
{
        int r;

        if (!s || vm->sense_fd < 0)
                return;
        r = schedlat_vm_add(s, vm->sense_fd, vm->id.pid, &vm->schedlat_id);
        vm->schedlat_tracked = r == 0;
        vm->threads_schedlat_gen = 0; /* its vCPUs known by QMP alone: registered again at the next tick */
        if (r == 0 && vm->schedlat_fd_dropped)
                schedlat_vm_drop_fd(s, vm->schedlat_id);
        else if (r == -ENOSPC || r == -E2BIG)
                log_debug("run-queue latency: no room for VM pid %d in the eBPF maps (%u VMs) yet", (int)vm->id.pid,
                          e->schedlat_max_vms);
        else if (r < 0)
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                               "run-queue latency of VM pid %d is not measured: %m", (int)vm->id.pid);
}

/*
 * The eBPF maps are sized for the VMs at start-up. When they are full, they are made again SCHEDLAT_GROWTH times
 * as large, the new programs attached before the old ones go, and every VM is tracked in them again: its
 * histograms start afresh, so its next tick has no run-queue figure. Four times: a host that starts 1000 VMs
 * after the engine pays for three loads (each parses the kernel's BTF), not five.
 */
#define SCHEDLAT_GROWTH  4u
#define SCHEDLAT_MAX_VMS (1u << 20)

static void schedlat_grow(struct engine *e)
{
        unsigned size = e->schedlat_max_vms;
        struct schedlat *bigger = NULL;
        size_t tracked = 0;
        int r = -E2BIG;

        if (size < SCHEDLAT_MAX_VMS) {
                size = size > SCHEDLAT_MAX_VMS / SCHEDLAT_GROWTH ? SCHEDLAT_MAX_VMS : size * SCHEDLAT_GROWTH;
                struct schedlat_options so = {.proc_fd = e->proc_fd, .sys_fd = e->sys_fd, .max_vms = size};
                r = schedlat_new(&so, &bigger);
                if (r == 0 && schedlat_source(bigger) != schedlat_source(e->schedlat))
                        r = -EOPNOTSUPP; /* it would load no more (the reason was logged) */
        }
        if (r < 0) {
                if (bigger)
                        schedlat_free(bigger);
                if (!e->warned_schedlat_full)
                        log_warn_errno(r,
                                       "run-queue latency: the eBPF maps for %u VMs are full and cannot grow (%m): "
                                       "the VMs past them are governed without it",
                                       e->schedlat_max_vms);
                e->warned_schedlat_full = true;
                return;
        }
        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                if (vm->schedlat_tracked)
                        schedlat_vm_remove(e->schedlat, vm->schedlat_id); /* its cgroup's fd, before the new one */
                else if (!vm->sensor)
                        continue; /* not sensed at all (gone, or unmanaged), or not yet */
                schedlat_track(e, bigger, vm);
                tracked += vm->schedlat_tracked;
        }
        schedlat_free(e->schedlat);
        e->schedlat = bigger;
        log_info("run-queue latency: the eBPF maps for %u VMs were full; made again for %u (%zu VMs tracked); their "
                 "histograms start afresh",
                 e->schedlat_max_vms, size, tracked);
        e->schedlat_max_vms = size;
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

        vm->schedlat_fd_dropped = so.transient;
        schedlat_track(e, e->schedlat, vm);
}

/* The rows for a VM whose threads are placed apart, made afresh from its thread map: vCPUs in cpu-index order,
 * IO threads, then the emulator. */
static int thread_rows_make(struct vm_state *vm)
{
        size_t n = vcpus_map_children(vm->threads);
        struct thread_signals *rows = calloc(n, sizeof(*rows));

        if (!rows)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++)
                rows[k].tid = vcpus_map_child(vm->threads, k, rows[k].name, sizeof(rows[k].name));
        free(vm->thread_sig);
        vm->thread_sig = rows;
        vm->n_thread_sig = n;
        vm->thread_sig_gen = vm->threads_gen;
        return 0;
}

/* Each threaded child's use and placement, and each vCPU's run-queue latency, for status and the metrics. Only for
 * VMs whose threads are placed apart: a few small reads per child and tick. */
static void sense_threads(struct engine *e, struct vm_state *vm, uint64_t now)
{
        if (!vm->threads || vm->cgroup_fd < 0 || e->dry_run) {
                thread_rows_free(vm);
                return;
        }
        const struct qmp_threads *t = &vm->threads->threads;
        if (vm->schedlat_tracked && vm->threads_schedlat_gen != vm->threads_gen) {
                /* QMP names the vCPU threads that QEMU did not name (no debug-threads=on): measure them by index */
                for (size_t i = 0; i < t->n_vcpus; i++)
                        (void)schedlat_vcpu_add_index(e->schedlat, vm->schedlat_id, t->vcpus[i].tid,
                                                      (unsigned)t->vcpus[i].index);
                vm->threads_schedlat_gen = vm->threads_gen;
        }
        _cleanup_free_ struct thread_signals *prev = NULL;
        size_t n_prev = 0;
        if (vm->thread_sig_gen != vm->threads_gen) {
                prev = vm->thread_sig, n_prev = vm->n_thread_sig; /* kept for the usage of the children that stay */
                vm->thread_sig = NULL;
                if (thread_rows_make(vm) < 0)
                        return;
        }
        (void)threadsig_read(vm->cgroup_fd, vm->thread_sig, vm->n_thread_sig, prev, n_prev,
                             vm->thread_sig_usec ? now - vm->thread_sig_usec : 0);
        vm->thread_sig_usec = now;

        struct schedlat_vcpu_tick some[64], *ticks = some;
        _cleanup_free_ struct schedlat_vcpu_tick *many = NULL;
        size_t n = vm->schedlat_tracked ? schedlat_vcpu_ticks(e->schedlat, vm->schedlat_id, some, ELEMENTSOF(some)) : 0;
        if (n > ELEMENTSOF(some)) {
                many = calloc(n, sizeof(*many));
                ticks = many;
                n = many ? schedlat_vcpu_ticks(e->schedlat, vm->schedlat_id, many, n) : 0;
        }
        for (size_t i = 0; i < vm->n_thread_sig; i++) {
                struct thread_signals *row = &vm->thread_sig[i];
                row->runq_measured = false;
                for (size_t j = 0; row->tid > 0 && j < n; j++)
                        if (ticks[j].tid == row->tid) {
                                row->runq_measured = true;
                                row->runq_samples = ticks[j].samples;
                                row->runq_p99_usec = ticks[j].p99_usec;
                        }
        }
}

/* How often a VM's threads are listed again for new vCPU threads (hotplug, or vCPUs started after QEMU's exec): with
 * process events, when one says the VM made a thread, and as a safety net every SCHEDLAT_RESCAN_EVENTS_TICKS; without,
 * every SCHEDLAT_RESCAN_TICKS. Each VM on a tick of its own (by pid), so that no tick lists every VM's threads. */
#define SCHEDLAT_RESCAN_TICKS        10
#define SCHEDLAT_RESCAN_EVENTS_TICKS 300

static bool threads_rescan_due(const struct engine *e, struct vm_state *vm)
{
        unsigned every = e->events ? SCHEDLAT_RESCAN_EVENTS_TICKS : SCHEDLAT_RESCAN_TICKS;
        bool due = vm->threads_made || (e->ticks + (unsigned)vm->id.pid) % every == 0;

        vm->threads_made = false;
        return due;
}

void sense_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now)
{
        if (!vm_managed(vm) || !vm->seen)
                return;
        vm->sig = (struct vm_signals){0};
        sense_start(e, vm);
        triggers_refresh(e, vm);
        if (vm->sensor) {
                int r = sense_vm_tick(vm->sensor, now, &vm->sig);
                if (r == -ENODEV) /* its cgroup is gone: the sweep of the next scan says why */
                        sense_vm_freep(&vm->sensor), vm->sensor = NULL;
        }
        /* a trigger that fired: at least what the kernel measured over its window */
        struct pressure *triggered[] = {&vm->sig.cpu, &vm->sig.memory, &vm->sig.io};
        for (unsigned k = 0; vm->triggered && vm->sensor && vm->sig.interval_usec && k < ELEMENTSOF(triggered); k++)
                if (vm->triggered & 1u << k)
                        triggered[k]->some_ppm = MAX(triggered[k]->some_ppm, vm->trigger_ppm[k]);
        vm->triggered = 0;
        if (vm->schedlat_tracked) {
                if (threads_rescan_due(e, vm))
                        (void)schedlat_vm_scan(e->schedlat, vm->schedlat_id);
                (void)schedlat_read(e->schedlat, vm->schedlat_id, &vm->sig.runq, NULL);
        }
        sense_threads(e, vm, now);
        /* In dry-run the kernel never holds what the laws decided: show them their own value, or the
         * memory law would take its own decisions for someone else's. */
        if (e->dry_run && vm->ctl.initialized)
                vm->sig.memory_high = vm->ctl.memory_high_written;
}

void sense_stage_host(struct engine *e, uint64_t now)
{
        if (e->schedlat && schedlat_full(e->schedlat) && !e->warned_schedlat_full)
                schedlat_grow(e);
        e->host = (struct host_signals){0};
        if (e->host_sensor && sense_host_tick(e->host_sensor, now, &e->host) == 0 && e->host.interval_usec) {
                struct pressure *host[] = {&e->host.memory, &e->host.io};
                for (unsigned k = 0; k < ELEMENTSOF(host); k++)
                        if (e->host_triggered & 1u << k)
                                host[k]->some_ppm = MAX(host[k]->some_ppm, e->host_trigger_ppm[k]);
        }
        e->host_triggered = 0;
        host_triggers_refresh(e);
        e->ticks++;
}
