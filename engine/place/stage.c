/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The place stage: a VM's group → its cgroup, made and entered; an exited VM's cgroup removed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act/actuator.h"
#include "act/stage.h"
#include "discover/stage.h"
#include "kernel/audit.h"
#include "kernel/cgroupfs.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "kernel/threadcg.h"
#include "discover/vcpus.h"
#include "place/placement.h"
#include "place/stage.h"
#include "place/threads.h"
#include "policy/policy.h"
#include "sense/stage.h"

static int cgroup_create(struct engine *e, const char *path)
{
        int r = e->placement->create(e->placement->userdata, &e->mount, path);

        if (r == -EOPNOTSUPP)
                return log_err_errno(r, "cannot create cgroup %s/%s: libcgroup is not used on a hybrid cgroup host",
                                     e->mount.path, path);
        if (r < 0)
                return log_err_errno(r, "cannot create cgroup %s/%s: %m", e->mount.path, path);
        return 0;
}

static int cgroup_remove(struct engine *e, const char *path)
{
        return e->placement->remove(e->placement->userdata, e->mount_fd, path);
}

/* Is leaf taken, in the same group, by another live VM? Two VMs with the same -name get distinct cgroups. */
static bool cgroup_taken(struct engine *e, const struct vm_state *self, const char *path)
{
        struct vm_state *vm;

        for (size_t it = 0; (vm = vm_next_by_cgroup(e, path, &it));)
                if (vm != self)
                        return true;
        return false;
}

static void audit_move(struct engine *e, struct vm_state *vm, const char *from, const char *reason)
{
        metrics_count(&vm->counters, "cgroup.procs", 1);
        metrics_count(&e->totals, "cgroup.procs", 1);
        char pid[16];
        struct audit_record rec = {
                .vm = vm_name(&vm->id),
                .uuid = vm->id.uuid[0] ? vm->id.uuid : NULL,
                .pid = vm->id.pid,
                .group = vm->group,
                .cgroup = vm_cgroup(vm),
                .file = "cgroup.procs",
                .old_value = from,
                .new_value = pid,
                .reason = reason,
                .dry_run = e->dry_run,
        };
        int r;

        if (e->audit_fd < 0)
                return;
        snprintf(pid, sizeof(pid), "%d", (int)vm->id.pid);
        r = audit_write(e->audit_fd, &rec);
        if (r < 0)
                log_err_errno(r, "audit log: cannot append: %m");
}

/* The VM's target cgroup becomes path (a copy). 0 or -ENOMEM. */
static int vm_set_cgroup(struct vm_state *vm, const char *path)
{
        char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        free(vm->cgroup);
        vm->cgroup = copy;
        return 0;
}

/* Is the engine's cgroup at path free for vm: not there yet, or there and holding no process but the VM's own?
 * 1 free, 0 another process lives there (*ret_foreign), -errno. */
static int cgroup_free_for(struct engine *e, const struct vm_state *vm, const char *path, pid_t *ret_foreign)
{
        _cleanup_close_ int fd = cgroupfs_open_dir(e->mount_fd, path);
        int r;

        if (fd == -ENOENT)
                return 1;
        if (fd < 0)
                return fd;
        r = cgroupfs_check_exclusive(fd, vm->id.pid, ret_foreign);
        if (r == -EBUSY)
                return 0;
        return r < 0 ? r : 1;
}

#define PLACE_LEAF_TRIES 16

/* The VM's own cgroup: ROOT/GROUP/LEAF, unless another live VM has that (two VMs with one -name), or a process that
 * is not this VM lives there (left by an earlier process that claimed the name): then a fresh leaf, said once. */
static int own_path(struct engine *e, struct vm_state *vm, char *path, size_t size)
{
        char leaf[PLACEMENT_LEAF_MAX + 1], unique[PLACEMENT_LEAF_MAX + 48], name[AUDIT_LOG_NAME_MAX];
        char squatted[4096] = "";
        pid_t foreign = 0, squatter = 0;
        int r;

        r = placement_leaf_name(&vm->id, leaf, sizeof(leaf));
        if (r < 0)
                return r;
        for (unsigned i = 0; i < PLACE_LEAF_TRIES; i++) {
                if (i == 0)
                        snprintf(unique, sizeof(unique), "%s", leaf);
                else if (i == 1)
                        snprintf(unique, sizeof(unique), "%s-pid%d", leaf, (int)vm->id.pid);
                else
                        snprintf(unique, sizeof(unique), "%s-pid%d-%u", leaf, (int)vm->id.pid, i);
                r = placement_own_path(e->root_rel, vm->group, unique, path, size);
                if (r < 0)
                        return r;
                if (cgroup_taken(e, vm, path))
                        continue;
                if (thread_cgroup_holds(vm->id.cgroup, path))
                        return 0; /* there already (an engine before this one put it there) */
                r = cgroup_free_for(e, vm, path, &foreign);
                if (r < 0)
                        return log_err_errno(r, "read %s/%s/cgroup.procs: %m", e->mount.path, path);
                if (r == 0) {
                        if (!squatter) {
                                squatter = foreign;
                                snprintf(squatted, sizeof(squatted), "%s", path);
                        }
                        continue;
                }
                if (squatter)
                        log_warn("VM %s (pid %d): cgroup %s/%s holds pid %d, which is not the VM: placed in a fresh "
                                 "cgroup, %s/%s, instead",
                                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, e->mount.path, squatted,
                                 (int)squatter, e->mount.path, path);
                return 0;
        }
        return log_err_errno(-EEXIST, "VM %s (pid %d): no free cgroup for it in %s/%s/%s after %d tries",
                             vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, e->mount.path, e->root_rel,
                             vm->group, PLACE_LEAF_TRIES);
}

/* After a move that raced with the VM's exit: if its pid now belongs to another process and that one was moved,
 * it goes back where fork put it, its parent's cgroup. */
static void undo_stranger_move(struct engine *e, const struct vm_state *vm, const char *path)
{
        _cleanup_close_ int pid_fd = procfs_pid_open(e->proc_fd, vm->id.pid), parent_fd = -1;
        _cleanup_free_ char *cg = NULL, *parent_cg = NULL;
        struct procfs_stat st;
        int r;

        if (pid_fd < 0 || procfs_stat_read(pid_fd, &st) < 0 || st.start_time == vm->id.start_time ||
            procfs_cgroup_read(pid_fd, &cg) < 0 || cg[0] != '/' || strcmp(cg + 1, path) != 0)
                return; /* gone too, or not moved */
        parent_fd = procfs_pid_open(e->proc_fd, st.ppid);
        r = parent_fd < 0 ? parent_fd : procfs_cgroup_read(parent_fd, &parent_cg);
        if (r >= 0 && parent_cg[0] != '/')
                r = -EINVAL;
        if (r >= 0)
                r = e->placement->back(e->placement->userdata, e->mount_fd, parent_cg + 1, vm->id.pid);
        if (r < 0)
                log_err_errno(r,
                              "pid %d now belongs to another process, which was moved into %s by mistake, and "
                              "cannot be moved back: %m",
                              (int)vm->id.pid, path);
        else
                log_warn("pid %d now belongs to another process (start time %llu, the VM's was %llu), which was "
                         "moved into %s by mistake: moved it to its parent's cgroup, %s",
                         (int)vm->id.pid, (unsigned long long)st.start_time, (unsigned long long)vm->id.start_time,
                         path, parent_cg);
}

/* Move the VM into path, checking before and after that the pid is still the VM's (a pid reused in between is
 * never moved, and a move that raced is undone). The move is journalled first, for restore. */
static int move_vm(struct engine *e, struct vm_state *vm, const char *path)
{
        int r;

        r = discover_stage_vm_same(e, vm);
        if (r <= 0)
                return r < 0 ? r : -ESRCH;
        r = actuator_note_move(e->act, path, vm->id.pid, vm->id.start_time, vm->id.cgroup);
        if (r < 0)
                return r;
        r = e->placement->attach(e->placement->userdata, &e->mount, path, vm->id.pid);
        if (r < 0)
                return r;
        if (discover_stage_vm_same(e, vm) <= 0) {
                undo_stranger_move(e, vm, path);
                return -ESRCH;
        }
        return 0;
}

/* Why the kernel refused a move, where it is not plain: once the root hands cpuset down, a move between cgroups
 * with different cpusets takes CAP_SYS_NICE for a process that holds capabilities the mover does not
 * (cpuset_can_attach() on Linux 6.1, whether or not the CPUs change). Seen in the VM harness for a root QEMU and an
 * engine with CAP_SYS_PTRACE only. */
static const char *move_refusal_hint(const struct engine *e, int r)
{
        if (r != -EPERM || !cgroupfs_file_lists(e->mount_fd, "cgroup.subtree_control", "cpuset"))
                return "";
        return " (cpuset is active below the root: moving a process that holds capabilities the engine does not "
               "hold needs CAP_SYS_NICE, which units/vmgov.service keeps)";
}

/* Placement=own: ROOT/GROUP/LEAF, created and entered unless the VM is already there. */
static int place_own(struct engine *e, struct vm_state *vm)
{
        char path[4096], name[AUDIT_LOG_NAME_MAX];
        int r;

        r = own_path(e, vm, path, sizeof(path));
        if (r < 0)
                return r;
        r = vm_set_cgroup(vm, path);
        if (r < 0)
                return r;
        vm->own = true;
        if (vm_index_cgroup(e, vm) < 0)
                return -ENOMEM;

        if (!thread_cgroup_holds(vm->id.cgroup, path)) {
                if (e->dry_run) {
                        log_info("dry-run: would create cgroup %s/%s and move VM %s (pid %d) there from %s",
                                 e->mount.path, path, vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid,
                                 vm->id.cgroup);
                        audit_move(e, vm, vm->id.cgroup, "placement: own cgroup");
                        vm->placed = true;
                        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, path); /* exists only if made earlier */
                        if (vm->cgroup_fd < 0)
                                vm->cgroup_fd = -1;
                        engine_fd_keep(e, &vm->cgroup_fd, false);
                        return 0;
                }
                r = cgroup_create(e, path);
                if (r < 0)
                        return r;
                /* the group's partition made while the VM is not in it yet: Linux 6.1 refuses it afterwards */
                act_stage_partition(e, vm);
                r = move_vm(e, vm, path);
                if (r < 0) {
                        const char *hint = move_refusal_hint(e, r);

                        /* Most often the VM exited in between: leave no empty cgroup behind. */
                        if (cgroup_remove(e, path) == 0)
                                actuator_forget(e->act, path);
                        return log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_ERR, r,
                                              "move pid %d into %s: %m%s", (int)vm->id.pid, path, hint);
                }
                log_info("placed VM %s (pid %d) in %s/%s (was %s)", vm_display_name(&vm->id, name, sizeof(name)),
                         (int)vm->id.pid, e->mount.path, path, vm->id.cgroup);
                audit_move(e, vm, vm->id.cgroup, "placement: own cgroup");
                /* where /proc now says it is: with process events, no scan reads it again (without the memory for
                 * it, the next scan does) */
                char *now_in = NULL;
                if (asprintf(&now_in, "/%s", path) >= 0) {
                        free(vm->id.cgroup);
                        vm->id.cgroup = now_in;
                        vm->match_generation = 0;
                }
        } else if (!e->dry_run) {
                /* Already there, from an engine before this one, which may have left the tree without its
                 * controllers (vmgov-start --release after a stop): enable them down the path again. */
                r = cgroup_create(e, path);
                if (r < 0)
                        return r;
        }

        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, path);
        if (vm->cgroup_fd < 0) {
                r = vm->cgroup_fd;
                vm->cgroup_fd = -1;
                return log_err_errno(r, "open %s/%s: %m", e->mount.path, path);
        }
        engine_fd_keep(e, &vm->cgroup_fd, false); /* past the budget, opened for each use */
        vm->placed = true;
        return 0;
}

/* Placement=inplace: the cgroup the VM is in, but only if nothing else lives there. */
static int place_inplace(struct engine *e, struct vm_state *vm)
{
        char name[AUDIT_LOG_NAME_MAX];
        pid_t foreign = 0;
        int r;

        if (strcmp(vm->id.cgroup, "/") == 0) {
                log_err("Placement=inplace: VM %s (pid %d) is in the root cgroup, which takes no limits: refusing",
                        vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
                return -EPERM;
        }
        r = vm_set_cgroup(vm, vm->id.cgroup + 1);
        if (r < 0)
                return r;
        vm->own = false;
        if (vm_index_cgroup(e, vm) < 0)
                return -ENOMEM;
        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, vm->cgroup);
        if (vm->cgroup_fd < 0) {
                r = vm->cgroup_fd;
                vm->cgroup_fd = -1;
                return log_err_errno(r, "open %s/%s: %m", e->mount.path, vm->cgroup);
        }
        r = cgroupfs_check_exclusive(vm->cgroup_fd, vm->id.pid, &foreign);
        if (r == -EBUSY) {
                log_err("Placement=inplace: cgroup %s holds pid %d besides VM %s (pid %d): refusing to write its "
                        "limits",
                        vm->id.cgroup, (int)foreign, vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
                return r;
        }
        if (r < 0)
                return log_err_errno(r, "read %s/cgroup.procs: %m", vm->cgroup);
        engine_fd_keep(e, &vm->cgroup_fd, false); /* past the budget, opened for each use */
        vm->placed = true;
        return 0;
}

/* A VM that a reload moved to another group is placed (and sensed) afresh. */
/* Does the group place a VM's threads apart (vcpuN, iothreadK, emulator: threads.h)? When it sets a key for them:
 * VCPUAllowedCPUs=, EmulatorAllowedCPUs=, VCPUQuota=, EmulatorQuota=. */
static bool group_places_threads(const struct group_policy *g)
{
        const struct cpu_topology *c = &g->cpu;

        return g->placement == PLACEMENT_OWN &&
               (c->n_vcpu_cpus > 0 || c->emulator_cpus_set || c->vcpu_quota_set || c->emulator_quota_set);
}

#define THREADS_RETRY_USEC   (10 * 1000000ULL) /* a map not known yet: QEMU may not have started its vCPUs */
#define THREADS_REFRESH_USEC (60 * 1000000ULL) /* new threads turned up: read the map again, at most this often */
#define THREADS_NEW_USEC     (1 * 1000000ULL)  /* the proc connector told of a new thread: read again, this often */

static void threads_forget(struct vm_state *vm)
{
        if (vm->threads) {
                vcpus_map_done(vm->threads);
                vm->threads = mfree(vm->threads);
        }
        vm->threads_text = mfree(vm->threads_text);
}

/* Read the VM's thread map (QMP, thread names, KVM: vcpus.h). 1 when known, 0 when not (said once why), -errno. */
static int threads_read_map(struct engine *e, struct vm_state *vm, uint64_t now)
{
        char name[AUDIT_LOG_NAME_MAX];
        struct vcpus_map *m;
        int r;

        threads_forget(vm);
        vm->threads_gen++;
        vm->threads_read_usec = now;
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r = vcpus_map_read(e->proc_fd, vm->id.pid, QMP_TIMEOUT_MS, m);
        if (r < 0 || m->source == VCPUS_UNKNOWN) {
                if (r >= 0 && !vm->threads_said) {
                        vm->threads_said = true;
                        log_info("VM %s (pid %d): its threads stay together in %s for now (tried again every %llus): "
                                 "%s",
                                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, vm->cgroup,
                                 (unsigned long long)(THREADS_RETRY_USEC / 1000000), m->reason);
                }
                if (r >= 0 && asprintf(&vm->threads_text, "together: %s", m->reason) < 0)
                        vm->threads_text = NULL;
                vcpus_map_done(m);
                free(m);
                return r < 0 ? r : 0;
        }
        log_info("VM %s (pid %d): %zu vCPU and %zu IO threads (from %s), placed in vcpuN, iothreadK and emulator "
                 "below %s",
                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, m->threads.n_vcpus,
                 m->threads.n_iothreads, vcpus_source_to_string(m->source), vm->cgroup);
        if (asprintf(&vm->threads_text, "apart: %zu vCPU and %zu IO threads (from %s)", m->threads.n_vcpus,
                     m->threads.n_iothreads, vcpus_source_to_string(m->source)) < 0)
                vm->threads_text = NULL;
        vm->threads = m;
        return 1;
}

/* The VM's threads into the threaded children of its cgroup. The map is read at the first call (and every
 * THREADS_RETRY_USEC until known), and again when new threads turned up, at most every THREADS_REFRESH_USEC. */
static int place_threads(struct engine *e, struct vm_state *vm, uint64_t now)
{
        struct threads_placed placed;
        bool all = false;
        int r;

        if (!vm->threads) {
                if (vm->threads_read_usec && now - vm->threads_read_usec < THREADS_RETRY_USEC)
                        return 0;
                r = threads_read_map(e, vm, now);
                if (r <= 0)
                        return r;
                all = true;
        }
        if (!all && vm->threads_new && now - vm->threads_read_usec >= THREADS_NEW_USEC) {
                /* a new thread (proc connector): where the thread that made it is, the emulator's child for a
                 * hot-plugged vCPU; the map says what it is */
                vm->threads_new = false;
                r = threads_read_map(e, vm, now);
                if (r < 0)
                        return r;
                all = r > 0;
                if (!vm->threads)
                        return 0;
        }
        r = threads_place(vm->cgroup_fd, vm->threads, all, &placed);
        if (r >= 0 && !all && placed.moved && now - vm->threads_read_usec >= THREADS_REFRESH_USEC &&
            threads_read_map(e, vm, now) > 0)
                r = threads_place(vm->cgroup_fd, vm->threads, true, &placed);
        if (r < 0 && !errno_is_vanished(r))
                return log_warn_errno(r, "VM pid %d: cannot place its threads below %s: %m", (int)vm->id.pid,
                                      vm->cgroup);
        if (placed.moved)
                log_debug("VM pid %d: %u threads placed below %s (%u children made)", (int)vm->id.pid, placed.moved,
                          vm->cgroup, placed.children);
        return 0;
}

static void vm_unplace(struct engine *e, struct vm_state *vm)
{
        threads_forget(vm);
        sense_stage_release(e, vm);
        vm->cgroup_fd = safe_close(vm->cgroup_fd);
        vm->placed = false;
        vm->refused = false;
        vm->cgroup = mfree(vm->cgroup);
}

/* A reload stopped placing the VM's threads apart: every thread back in the VM's cgroup (the process moved whole),
 * the children removed and their originals forgotten with them. The VM's cgroup stays "domain threaded", as the
 * kernel leaves it. */
static void threads_gather(struct engine *e, struct vm_state *vm)
{
        char name[AUDIT_LOG_NAME_MAX], pid[16], child[THREAD_CGROUP_NAME_MAX], path[4200];
        int r;

        snprintf(pid, sizeof(pid), "%d", (int)vm->id.pid);
        r = cgroupfs_write(vm->cgroup_fd, "cgroup.procs", pid);
        if (r == 0)
                r = threads_remove_children(vm->cgroup_fd);
        if (r < 0) {
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                               "VM %s (pid %d): cannot gather its threads back into %s: %m",
                               vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, vm->cgroup);
                return;
        }
        for (size_t i = 0; i < vcpus_map_children(vm->threads); i++) {
                (void)vcpus_map_child(vm->threads, i, child, sizeof(child));
                snprintf(path, sizeof(path), "%s/%s", vm->cgroup, child);
                actuator_forget(e->act, path);
        }
        log_info("VM %s (pid %d): its group no longer places its threads apart: gathered back into %s",
                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, vm->cgroup);
        threads_forget(vm);
        vm->threads_said = false;
}

int place_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now)
{
        const struct group_policy *g = vm_group_policy(e, vm);
        const char *gname = g ? g->name : "";
        char name[AUDIT_LOG_NAME_MAX];
        int r;

        if (strcmp(vm->group, gname) != 0) {
                /* New, or moved to another group by a reload: place it afresh. */
                vm_unplace(e, vm);
                snprintf(vm->group, sizeof(vm->group), "%s", gname);
                if (!g)
                        log_info("VM %s (pid %d) matches no group: left unmanaged",
                                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
        }
        if (!g || vm->refused)
                return 0;
        if (!vm->placed) {
                r = g->placement == PLACEMENT_INPLACE ? place_inplace(e, vm) : place_own(e, vm);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !errno_is_vanished(r)) {
                        vm->refused = true;
                        e->placement_errors++;
                }
                if (r < 0)
                        return 0;
        }
        if (vm->placed && vm->own && !e->dry_run && vm->cgroup_fd >= 0 && group_places_threads(g))
                return place_threads(e, vm, now) == -ENOMEM ? -ENOMEM : 0;
        if (vm->threads && vm->own && !e->dry_run && vm->cgroup_fd >= 0)
                threads_gather(e, vm);
        else if (vm->threads_text && !group_places_threads(g))
                vm->threads_text = mfree(vm->threads_text); /* nothing to say of them any more */
        return 0;
}

/* Remove the cgroup of an exited VM, now or, while the kernel still counts the dying task in it, later. */
static void remove_or_retry(struct engine *e, const char *cgroup)
{
        int r = cgroup_remove(e, cgroup);

        if (r == 0 || r == -ENOENT) {
                actuator_forget(e->act, cgroup);
                return;
        }
        if (r != -EBUSY) {
                log_warn_errno(r, "remove %s: %m", cgroup);
                return;
        }
        if (GREEDY_REALLOC(e->pending_rmdir, e->pending_rmdir_allocated, e->n_pending_rmdir + 1) < 0)
                return;
        e->pending_rmdir[e->n_pending_rmdir] = strdup(cgroup);
        if (e->pending_rmdir[e->n_pending_rmdir])
                e->n_pending_rmdir++;
}

static void retry_removals(struct engine *e)
{
        size_t j = 0;

        for (size_t i = 0; i < e->n_pending_rmdir; i++) {
                char *cg = e->pending_rmdir[i];
                size_t it = 0;
                bool reused = vm_next_by_cgroup(e, cg, &it) != NULL;
                int r = reused ? 0 : cgroup_remove(e, cg);
                if (r == -EBUSY) {
                        e->pending_rmdir[j++] = cg;
                        continue;
                }
                if (!reused && (r == 0 || r == -ENOENT))
                        actuator_forget(e->act, cg);
                else if (r < 0)
                        log_warn_errno(r, "remove %s: %m", cg);
                free(cg);
        }
        e->n_pending_rmdir = j;
}

void place_stage_release(struct engine *e, struct vm_state *vm)
{
        threads_forget(vm);
        vm->cgroup_fd = safe_close(vm->cgroup_fd);
        if (!vm->placed || !vm->cgroup) {
                vm->cgroup = mfree(vm->cgroup);
                return;
        }
        if (vm->own && !e->dry_run)
                /* Nothing of it to put back: its cgroup is the engine's own, and goes, and its originals with it.
                 * Not before: a cgroup that still holds a process holds the VM's heir (QEMU -daemonize), which a
                 * restore must put back where the VM came from. */
                remove_or_retry(e, vm->cgroup);
        else if (!vm->own)
                /* Placement=inplace: the cgroup was never the engine's, only its VM was. With the VM gone, the
                 * engine manages it no more: its originals are forgotten, never written back into it later. */
                actuator_forget(e->act, vm->cgroup);
        vm->cgroup = mfree(vm->cgroup);
}

void place_stage_reset(struct engine *e)
{
        for (size_t i = 0; i < e->n_vms; i++)
                vm_unplace(e, &e->vms[i]);
}

int place_stage(struct engine *e, uint64_t now)
{
        int r;

        retry_removals(e);
        for (size_t i = 0; i < e->n_vms; i++) {
                if (!e->vms[i].seen)
                        continue;
                r = place_stage_vm(e, &e->vms[i], now);
                if (r < 0)
                        return log_err_errno(r, "out of memory");
        }
        return 0;
}
