/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <pwd.h>

#include "kernel/audit.h"
#include "daemon/daemon.h"
#include "discover/discover.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "act/netshape.h"
#include "place/placement.h"
#include "discover/procevents.h"
#include "kernel/procfs.h"
#include "act/tapdev.h"
#include "policy/policy.h"
#include "publish/recorder.h"
#include "daemon/sdnotify.h"
#include "act/statefile.h"

static int resolve_device(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        *ret_major = major(st.st_rdev);
        *ret_minor = minor(st.st_rdev);
        return 0;
}

static int resolve_user(const char *name, unsigned *ret_uid, void *userdata)
{
        struct passwd *pw = getpwnam(name);

        if (!pw)
                return -ENOENT;
        *ret_uid = pw->pw_uid;
        return 0;
}

void engine_config_env(struct config_env *ret)
{
        struct sysinfo si;

        *ret = (struct config_env){
                .resolve_device = resolve_device,
                .resolve_user = resolve_user,
        };
        if (sysinfo(&si) == 0)
                ret->physical_memory = (uint64_t)si.totalram * si.mem_unit;
}

/* Name-escaping for log lines: a VM name is hostile input and must not forge a log line of its own. */
const char *vm_display_name(const struct vm_identity *id, char *buf, size_t size)
{
        if (!id->name[0])
                return "(unnamed)";
        return audit_escape_for_log(id->name, buf, size);
}

bool engine_is_qemu_cb(const char *exe, void *userdata)
{
        const struct engine *e = userdata;
        return policy_is_qemu_exe(e->policy, exe);
}

static int audit_open_with_dir(const char *path, int *ret_fd)
{
        char dir[4096];
        char *slash;

        snprintf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                        return -errno;
        }
        return audit_open(path, ret_fd);
}

static void engine_apply_overrides(struct engine *e)
{
        e->dry_run = e->opt.dry_run || e->policy->engine.dry_run;
        e->interval_usec = e->opt.interval_usec ? e->opt.interval_usec : e->policy->engine.interval_usec;
}

/* Network shaping needs netlink and /sys/class/net; without them the engine goes on without it, and says so. */
static void engine_net_open(struct engine *e)
{
        struct actuator_net_ops ops;
        int r;

        e->net_fd = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = netshape_open(&e->netshape);
        if (r < 0 || e->net_fd < 0) {
                log_warn_errno(r < 0 ? r : -errno, "network shaping is unavailable: %m");
                return;
        }
        netshape_actuator_ops(e->netshape, &ops);
        actuator_set_net_ops(&e->act, &ops);
}

/* The engine's tree needs cpu, memory and io from the cgroup it is made in. Beneath the cgroup2 root (a Delegate=yes
 * unit, a container), whoever delegated it must have enabled them: say which are missing, and where, rather than
 * let the first mkdir fail with ENOENT. */
static int engine_check_delegated(struct engine *e)
{
        static const enum cg_controller needed[] = {CGROUP_CPU, CGROUP_MEMORY, CGROUP_IO};
        char parent[4096], controllers[256], missing[64] = "";
        _cleanup_close_ int fd = -1;
        char *slash;
        int r;

        snprintf(parent, sizeof(parent), "%s", e->root_rel);
        /* the nearest ancestor that exists: the tree is made from there */
        for (;;) {
                slash = strrchr(parent, '/');
                if (!slash)
                        return 0; /* made right beneath the cgroup2 root, whose controllers engine_probe checked */
                *slash = '\0';
                fd = cgroupfs_open_dir(e->mount_fd, parent);
                if (fd >= 0)
                        break;
        }
        r = cgroupfs_read(fd, "cgroup.controllers", controllers, sizeof(controllers));
        if (r < 0)
                return log_err_errno(r, "%s/%s/cgroup.controllers: %m", e->mount.path, parent);
        struct cgroup_mount got = {0};
        cgroupfs_parse_controllers(controllers, &got);
        for (size_t i = 0; i < ELEMENTSOF(needed); i++)
                if (!got.available[needed[i]])
                        snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s",
                                 missing[0] ? " " : "", cgroup_controller_to_string(needed[i]));
        if (missing[0])
                return log_err_errno(-EOPNOTSUPP,
                                     "cannot make the engine's cgroup tree in %s/%s: the controllers %s are not "
                                     "enabled for it by its parent (it has \"%.*s\"); under systemd, Delegate=yes "
                                     "must be set for the engine's unit",
                                     e->mount.path, parent, missing, (int)strcspn(controllers, "\n"), controllers);
        return 0;
}

int engine_open(struct engine *e, const struct engine_options *opt, struct policy *policy)
{
        const char *root, *audit_path;
        char default_root[4200];
        int r;

        *e = (struct engine){
                .opt = *opt,
                .policy = policy,
                .proc_fd = -1,
                .mount_fd = -1,
                .audit_fd = -1,
                .record_fd = -1,
                .net_fd = -1,
        };
        engine_config_env(&e->env);
        engine_apply_overrides(e);

        e->proc_fd = open(opt->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->proc_fd < 0)
                return log_err_errno(-errno, "open %s: %m", opt->proc_root);

        r = cgroupfs_detect(e->proc_fd, AT_FDCWD, &e->mount);
        if (r < 0)
                return log_err_errno(r, "no usable cgroup v2 mount: %m");
        e->mount_fd = open(e->mount.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->mount_fd < 0)
                return log_err_errno(-errno, "open %s: %m", e->mount.path);

        root = opt->cgroup_root ? opt->cgroup_root : policy->engine.cgroup_root;
        if (!root) {
                snprintf(default_root, sizeof(default_root), "%s/%s", e->mount.path, ENGINE_CGROUP_ROOT_DEFAULT);
                root = default_root;
        }
        r = placement_root_relative(e->mount.path, root, e->root_rel, sizeof(e->root_rel));
        if (r < 0)
                return log_err_errno(r, "CgroupRoot %s is not beneath the cgroup v2 mount at %s", root, e->mount.path);
        if (!e->root_rel[0])
                return log_err_errno(-EINVAL, "CgroupRoot %s is the root of the hierarchy: use a subdirectory", root);

        audit_path = opt->audit_log ? opt->audit_log : policy->engine.audit_log;
        if (audit_path && strcmp(audit_path, "none") != 0) {
                r = audit_open_with_dir(audit_path, &e->audit_fd);
                if (r < 0)
                        return log_err_errno(r, "audit log %s: %m", audit_path);
        }

        if (opt->record_path) {
                e->record_fd = open(opt->record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
                if (e->record_fd < 0)
                        return log_err_errno(-errno, "signal recording %s: %m", opt->record_path);
                struct stat st;
                if (fstat(e->record_fd, &st) == 0 && st.st_size == 0 &&
                    write(e->record_fd, RECORDER_MAGIC "\n", strlen(RECORDER_MAGIC) + 1) < 0)
                        return log_err_errno(-errno, "signal recording %s: %m", opt->record_path);
        }

        actuator_init(&e->act, e->dry_run, e->mount_fd, e->audit_fd);
        engine_net_open(e);
        if (opt->sense) {
                if (sense_swap_present(e->proc_fd, &e->swap) < 0)
                        e->swap = false;
                r = sense_host_open(e->proc_fd, NULL, &e->host_sensor);
                if (r < 0)
                        return log_err_errno(r, "host pressure: %m");
                _cleanup_close_ int sys_fd = open("/sys", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct schedlat_options so = {.proc_fd = e->proc_fd, .sys_fd = sys_fd};
                r = schedlat_new(&so, &e->schedlat);
                if (r < 0)
                        return log_err_errno(r, "run-queue latency: %m");
                log_info("run-queue latency from %s", schedlat_mode(e->schedlat));
        }
        if (!e->dry_run && !e->mount.hybrid) {
                /* Made now, while the engine may still write into the cgroup2 root (mode 0555): later
                 * cgroups go beneath it, which needs no capability once the engine drops CAP_DAC_OVERRIDE. */
                r = engine_check_delegated(e);
                if (r < 0)
                        return r;
                r = placement_create(&e->mount, e->root_rel);
                if (r < 0)
                        return log_err_errno(r, "cannot create the engine's cgroup tree %s/%s: %m", e->mount.path,
                                             e->root_rel);
        }
        if (!e->dry_run) {
                e->act.state_path = opt->state_path ? opt->state_path : STATEFILE_DEFAULT;
                r = actuator_take_over(&e->act);
                if (r < 0)
                        return log_err_errno(r, "cannot take over the originals in %s: %m", e->act.state_path);
        }
        log_info("vmgov: cgroup v2 at %s%s, engine tree %s/%s, interval %llums%s", e->mount.path,
                 e->mount.hybrid ? " (hybrid host)" : "", e->mount.path, e->root_rel,
                 (unsigned long long)(e->interval_usec / 1000), e->dry_run ? ", dry-run: nothing will be changed" : "");
        return 0;
}

static struct vm_state *engine_find_vm(struct engine *e, const struct vm_identity *id)
{
        for (size_t i = 0; i < e->n_vms; i++)
                if (e->vms[i].id.pid == id->pid && e->vms[i].id.start_time == id->start_time)
                        return &e->vms[i];
        return NULL;
}

static void engine_sense_stop(struct engine *e, struct vm_state *vm)
{
        sense_vm_freep(&vm->sensor);
        vm->sensor = NULL;
        if (vm->schedlat_tracked)
                schedlat_vm_remove(e->schedlat, vm->schedlat_id);
        vm->schedlat_tracked = false;
        vm->sense_unavailable = false;
        if (vm->sense_fd != vm->cgroup_fd)
                closep(&vm->sense_fd);
        vm->sense_fd = -1;
}

/*
 * Which cgroup tells about this VM: its own once placed; in dry-run, where it was not moved, the cgroup it is in,
 * but only if nothing else lives there (the root cgroup or a shared one would describe other processes).
 */
static void engine_sense_start(struct engine *e, struct vm_state *vm)
{
        char name[AUDIT_LOG_NAME_MAX];
        pid_t foreign;
        int r;

        if (vm->sense_fd >= 0 || vm->sensor || vm->schedlat_tracked || vm->sense_unavailable)
                return;
        if (vm->cgroup_fd >= 0)
                vm->sense_fd = vm->cgroup_fd;
        else if (strcmp(vm->id.cgroup, "/") != 0) {
                int fd = cgroupfs_open_dir(e->mount_fd, vm->id.cgroup + 1);
                if (fd >= 0 && placement_check_exclusive(fd, vm->id.pid, &foreign) == 0)
                        vm->sense_fd = fd;
                else if (fd >= 0)
                        close(fd);
        }
        if (vm->sense_fd < 0) {
                log_info("VM %s (pid %d): its cgroup %s is shared, so it is not sensed until it has its own",
                         vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid, vm->id.cgroup);
                vm->sense_unavailable = true;
                return;
        }
        struct sense_options so = {.name = vm->cgroup[0] && vm->cgroup_fd >= 0 ? vm->cgroup : vm->id.cgroup,
                                   .swap = e->swap};
        r = sense_vm_open(vm->sense_fd, &so, &vm->sensor);
        if (r < 0)
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                               "pressure and statistics of VM pid %d are not sensed: %m", (int)vm->id.pid);
        if (e->schedlat) {
                r = schedlat_vm_add(e->schedlat, vm->sense_fd, vm->id.pid, &vm->schedlat_id);
                if (r == 0)
                        vm->schedlat_tracked = true;
                else
                        log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r,
                                       "run-queue latency of VM pid %d is not measured: %m", (int)vm->id.pid);
        }
}

static void vm_state_unplace(struct engine *e, struct vm_state *vm)
{
        engine_sense_stop(e, vm);
        closep(&vm->cgroup_fd);
        vm->cgroup_fd = -1;
        vm->placed = false;
        vm->refused = false;
        vm->cgroup[0] = '\0';
}

/* Is leaf taken, in the same group, by another live VM? Two VMs with the same -name get distinct cgroups. */
static bool engine_cgroup_taken(struct engine *e, const struct vm_state *self, const char *path)
{
        for (size_t i = 0; i < e->n_vms; i++)
                if (&e->vms[i] != self && strcmp(e->vms[i].cgroup, path) == 0)
                        return true;
        return false;
}

static void engine_audit_move(struct engine *e, struct vm_state *vm, const char *from, const char *reason)
{
        metrics_count(&vm->counters, "cgroup.procs", 1);
        metrics_count(&e->totals, "cgroup.procs", 1);
        char pid[16];
        struct audit_record rec = {
                .vm = vm->id.name,
                .uuid = vm->id.uuid[0] ? vm->id.uuid : NULL,
                .pid = vm->id.pid,
                .group = vm->group,
                .cgroup = vm->cgroup,
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

/* Placement=own: ROOT/GROUP/LEAF, created and entered unless the VM is already there. */
static int engine_place_own(struct engine *e, struct vm_state *vm)
{
        char leaf[PLACEMENT_LEAF_MAX + 1], path[4096], name[AUDIT_LOG_NAME_MAX];
        int r;

        r = placement_leaf_name(&vm->id, leaf, sizeof(leaf));
        if (r < 0)
                return r;
        r = placement_own_path(e->root_rel, vm->group, leaf, path, sizeof(path));
        if (r >= 0 && engine_cgroup_taken(e, vm, path)) {
                char unique[PLACEMENT_LEAF_MAX + 32];
                snprintf(unique, sizeof(unique), "%s-pid%d", leaf, (int)vm->id.pid);
                r = placement_own_path(e->root_rel, vm->group, unique, path, sizeof(path));
        }
        if (r < 0)
                return r;
        snprintf(vm->cgroup, sizeof(vm->cgroup), "%s", path);
        vm->own = true;

        /* /proc/PID/cgroup paths start with '/' and are relative to the mount. */
        if (strcmp(vm->id.cgroup + 1, path) != 0) {
                if (e->dry_run) {
                        log_info("dry-run: would create cgroup %s/%s and move VM %s (pid %d) there from %s",
                                 e->mount.path, path, vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid,
                                 vm->id.cgroup);
                        engine_audit_move(e, vm, vm->id.cgroup, "placement: own cgroup");
                        vm->placed = true;
                        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, path); /* exists only if made earlier */
                        if (vm->cgroup_fd < 0)
                                vm->cgroup_fd = -1;
                        return 0;
                }
                r = placement_create(&e->mount, path);
                if (r < 0)
                        return r;
                r = placement_attach(&e->mount, path, vm->id.pid);
                if (r < 0) {
                        /* Most often the VM exited in between: leave no empty cgroup behind. */
                        (void)placement_remove(e->mount_fd, path);
                        return log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_ERR, r, "move pid %d into %s: %m",
                                              (int)vm->id.pid, path);
                }
                log_info("placed VM %s (pid %d) in %s/%s (was %s)", vm_display_name(&vm->id, name, sizeof(name)),
                         (int)vm->id.pid, e->mount.path, path, vm->id.cgroup);
                engine_audit_move(e, vm, vm->id.cgroup, "placement: own cgroup");
        } else if (!e->dry_run) {
                /* Already there, from an engine before this one, which may have left the tree without its
                 * controllers (vmgov-start --release after a stop): enable them down the path again. */
                r = placement_create(&e->mount, path);
                if (r < 0)
                        return r;
        }

        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, path);
        if (vm->cgroup_fd < 0) {
                r = vm->cgroup_fd;
                vm->cgroup_fd = -1;
                return log_err_errno(r, "open %s/%s: %m", e->mount.path, path);
        }
        vm->placed = true;
        return 0;
}

/* Placement=inplace: the cgroup the VM is in, but only if nothing else lives there. */
static int engine_place_inplace(struct engine *e, struct vm_state *vm)
{
        char name[AUDIT_LOG_NAME_MAX];
        pid_t foreign = 0;
        int r;

        if (strcmp(vm->id.cgroup, "/") == 0) {
                log_err("Placement=inplace: VM %s (pid %d) is in the root cgroup, which takes no limits: refusing",
                        vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
                return -EPERM;
        }
        snprintf(vm->cgroup, sizeof(vm->cgroup), "%s", vm->id.cgroup + 1);
        vm->own = false;
        vm->cgroup_fd = cgroupfs_open_dir(e->mount_fd, vm->cgroup);
        if (vm->cgroup_fd < 0) {
                r = vm->cgroup_fd;
                vm->cgroup_fd = -1;
                return log_err_errno(r, "open %s/%s: %m", e->mount.path, vm->cgroup);
        }
        r = placement_check_exclusive(vm->cgroup_fd, vm->id.pid, &foreign);
        if (r == -EBUSY) {
                log_err("Placement=inplace: cgroup %s holds pid %d besides VM %s (pid %d): refusing to write its "
                        "limits",
                        vm->id.cgroup, (int)foreign, vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
                return r;
        }
        if (r < 0)
                return log_err_errno(r, "read %s/cgroup.procs: %m", vm->cgroup);
        vm->placed = true;
        return 0;
}

static bool engine_controller_ok(struct engine *e, enum cg_controller c)
{
        char why[512];

        if (e->dry_run) /* dry-run shows every decision, even on a host that could not carry it out */
                return true;
        if (cgroupfs_controller_usable(&e->mount, c, why, sizeof(why)) == 0)
                return true;
        if (!e->warned_controller[c]) {
                e->warned_controller[c] = true;
                log_err("%s: limits that need it are not applied", why);
        }
        return false;
}

/* The VM's tap devices get the group's rates (no cgroup file: through netshape, same decisions and audit). */
static void engine_act_net(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                           const struct actuator_target *t, const char *reason)
{
        struct setting settings[NETSHAPE_SETTINGS_MAX];
        struct tapdev_list taps = {0};
        _cleanup_close_ int pid_fd = -1;
        size_t n = 0;
        int r;

        if (!g->net.ingress_set && !g->net.egress_set)
                return;
        if (!e->netshape) {
                if (!e->warned_netshape)
                        log_err("[group %s] sets network rates, but network shaping is unavailable", g->name);
                e->warned_netshape = true;
                return;
        }
        pid_fd = procfs_pid_open(e->proc_fd, vm->id.pid);
        if (pid_fd < 0)
                return;
        r = tapdev_read(pid_fd, e->net_fd, &taps);
        if (r < 0) {
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r, "taps of VM pid %d: %m",
                               (int)vm->id.pid);
                return;
        }
        r = netshape_plan(&g->net, &taps, settings, ELEMENTSOF(settings), &n);
        if (r < 0) {
                log_err_errno(r, "[group %s]: cannot shape the taps of VM pid %d: %m", g->name, (int)vm->id.pid);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                r = actuator_apply(&e->act, t, &settings[i], reason);
                metrics_count(&vm->counters, settings[i].file, r);
                metrics_count(&e->totals, settings[i].file, r);
        }
}

/* The memory law's probe, where it probes with memory.reclaim: a one-shot request, not a setting. */
static void engine_act_memory_reclaim(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                                      const struct actuator_target *t)
{
        char value[32];
        int r;

        if (g->adapt.memory && g->adapt.memory_probe == MEMORY_PROBE_RECLAIM && vm->sig.interval_usec &&
            !vm->sig.memory_reclaim && !vm->reclaim_missing_noted) {
                vm->reclaim_missing_noted = true;
                log_warn("[group %s] at %s:%u: MemoryProbe=reclaim, but cgroup %s has no memory.reclaim (kernel "
                         "5.19+): the memory law takes nothing back from VM pid %d",
                         g->name, g->file, g->line, vm->cgroup, (int)vm->id.pid);
        }
        if (!vm->ctl.memory_reclaim_bytes || !engine_controller_ok(e, CGROUP_MEMORY))
                return;
        snprintf(value, sizeof(value), "%llu", (unsigned long long)vm->ctl.memory_reclaim_bytes);
        r = actuator_request(&e->act, t, "memory.reclaim", value, vm->ctl.reason[KNOB_MEMORY_RECLAIM]);
        metrics_count(&vm->counters, "memory.reclaim", r);
        metrics_count(&e->totals, "memory.reclaim", r);
}

/* Write what the laws want (the policy's baseline until they move it); each change says why. */
static void engine_act_vm(struct engine *e, struct vm_state *vm, const struct group_policy *g)
{
        struct setting settings[SETTINGS_MAX];
        char policy_reason[600];
        size_t n;
        int r;

        r = actuator_plan(&vm->ctl.limits, e->act.page_size, settings, ELEMENTSOF(settings), &n);
        if (r < 0) {
                log_err_errno(r, "[group %s]: cannot format its limits: %m", g->name);
                return;
        }
        snprintf(policy_reason, sizeof(policy_reason), "policy: [group %s] at %s:%u", g->name, g->file, g->line);

        struct actuator_target t = {
                .vm = vm->id.name,
                .uuid = vm->id.uuid,
                .pid = vm->id.pid,
                .group = g->name,
                .cgroup = vm->cgroup,
                .cgroup_fd = vm->cgroup_fd,
        };
        for (size_t i = 0; i < n; i++) {
                int knob = control_knob_of_file(settings[i].file);
                const char *reason = knob >= 0 && vm->ctl.reason[knob][0] ? vm->ctl.reason[knob] : policy_reason;
                if (!engine_controller_ok(e, settings[i].controller))
                        continue;
                r = actuator_apply(&e->act, &t, &settings[i], reason);
                metrics_count(&vm->counters, settings[i].file, r);
                metrics_count(&e->totals, settings[i].file, r);
        }
        engine_act_memory_reclaim(e, vm, g, &t);
        engine_act_net(e, vm, g, &t, policy_reason);
}

static int engine_track(struct engine *e, const struct vm_identity *id, struct vm_state **ret)
{
        struct vm_state *vm = engine_find_vm(e, id);
        char name[AUDIT_LOG_NAME_MAX];

        if (!vm) {
                struct vm_state *v = realloc(e->vms, (e->n_vms + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                e->vms = v;
                vm = &v[e->n_vms++];
                *vm = (struct vm_state){.id = *id, .cgroup_fd = -1, .sense_fd = -1};
                log_info("found VM %s (pid %d, uuid %s, %s) in cgroup %s", vm_display_name(id, name, sizeof(name)),
                         (int)id->pid, id->uuid[0] ? id->uuid : "none", id->exe, id->cgroup);
                if (id->name_truncated)
                        log_warn("VM pid %d: its -name is longer than %d bytes and was cut", (int)id->pid, VM_NAME_MAX);
        } else
                vm->id = *id; /* its cgroup may have changed */
        vm->seen = true;
        *ret = vm;
        return 0;
}

/* Remove the cgroup of an exited VM, now or, while the kernel still counts the dying task in it, later. */
static void engine_remove_cgroup(struct engine *e, const char *cgroup)
{
        int r = placement_remove(e->mount_fd, cgroup);

        if (r == 0 || r == -ENOENT) {
                actuator_forget(&e->act, cgroup);
                return;
        }
        if (r != -EBUSY) {
                log_warn_errno(r, "remove %s: %m", cgroup);
                return;
        }
        char **v = realloc(e->pending_rmdir, (e->n_pending_rmdir + 1) * sizeof(char *));
        if (!v)
                return;
        e->pending_rmdir = v;
        v[e->n_pending_rmdir] = strdup(cgroup);
        if (v[e->n_pending_rmdir])
                e->n_pending_rmdir++;
}

static void engine_retry_removals(struct engine *e)
{
        size_t j = 0;

        for (size_t i = 0; i < e->n_pending_rmdir; i++) {
                char *cg = e->pending_rmdir[i];
                bool reused = false;
                for (size_t k = 0; k < e->n_vms; k++)
                        reused |= strcmp(e->vms[k].cgroup, cg) == 0;
                int r = reused ? 0 : placement_remove(e->mount_fd, cg);
                if (r == -EBUSY) {
                        e->pending_rmdir[j++] = cg;
                        continue;
                }
                if (!reused && (r == 0 || r == -ENOENT))
                        actuator_forget(&e->act, cg);
                else if (r < 0)
                        log_warn_errno(r, "remove %s: %m", cg);
                free(cg);
        }
        e->n_pending_rmdir = j;
}

static void engine_sweep(struct engine *e)
{
        size_t j = 0, gone = 0;

        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                if (vm->seen) {
                        e->vms[j++] = *vm;
                        continue;
                }
                log_info("VM pid %d exited", (int)vm->id.pid);
                gone++;
                engine_sense_stop(e, vm);
                closep(&vm->cgroup_fd);
                if (vm->own && vm->placed && !e->dry_run && vm->cgroup[0])
                        engine_remove_cgroup(e, vm->cgroup);
        }
        e->n_vms = j;
        /* The kernel removes a tap and its qdiscs with the VM, but not the ifb that shaped its egress. */
        if (gone && e->netshape && !e->dry_run)
                (void)netshape_gc(e->netshape);
}

static bool vm_managed(const struct vm_state *vm)
{
        return vm->group[0] && vm->placed && !vm->refused;
}

/* This tick's signals for every managed VM and the host. */
static void engine_sense(struct engine *e, uint64_t now)
{
        bool rescan = e->ticks % 10 == 0; /* new threads: vCPU hotplug, or vCPUs started after QEMU's exec */

        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                if (!vm_managed(vm))
                        continue;
                vm->sig = (struct vm_signals){0};
                engine_sense_start(e, vm);
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

static void engine_control(struct engine *e, uint64_t now)
{
        size_t n = 0;

        if (e->ctl_vms_allocated < e->n_vms) {
                struct control_vm *v = realloc(e->ctl_vms, e->n_vms * sizeof(*v));
                if (!v) {
                        log_err("out of memory: the control laws skip this tick");
                        return;
                }
                e->ctl_vms = v;
                e->ctl_vms_allocated = e->n_vms;
        }
        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                const struct group_policy *g = vm_managed(vm) ? policy_match(e->policy, &vm->id) : NULL;
                if (g)
                        e->ctl_vms[n++] = (struct control_vm){vm->id.name, g, &vm->sig, &vm->ctl};
        }
        control_tick(e->ctl_vms, n, &e->host, &e->ctl_global, now, e->act.page_size);

        /* The last decision per VM, for status. */
        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                for (int k = 0; k < _KNOB_MAX; k++)
                        if (vm_managed(vm) && vm->ctl.initialized && vm->ctl.reason[k][0]) {
                                snprintf(vm->last_reason, sizeof(vm->last_reason), "%s", vm->ctl.reason[k]);
                                vm->decided_usec = audit_now_usec();
                        }
        }
}

static void engine_record(struct engine *e, uint64_t now)
{
        int r;

        if (e->record_fd < 0)
                return;
        r = recorder_write_tick(e->record_fd, now, &e->host);
        for (size_t i = 0; i < e->n_vms && r == 0; i++)
                if (vm_managed(&e->vms[i]))
                        r = recorder_write_vm(e->record_fd, &e->vms[i].id, &e->vms[i].sig);
        if (r < 0) {
                log_err_errno(r, "signal recording %s: %m; recording stops", e->opt.record_path);
                closep(&e->record_fd);
                e->record_fd = -1;
        }
}

/* The limits the engine holds a VM at (would hold, in dry-run), in the kernel's form, and its last decision. */
static void engine_snapshot_state(const struct engine *e, const struct vm_state *vm, struct snapshot_state *st)
{
        struct setting settings[SETTINGS_MAX];
        size_t n = 0;

        *st = (struct snapshot_state){
                .sensed = vm_managed(vm) && (vm->sensor || vm->schedlat_tracked),
                .errors = vm->counters.write_errors,
                .decided_usec = vm->decided_usec,
        };
        snprintf(st->group, sizeof(st->group), "%s", vm->group);
        snprintf(st->cgroup, sizeof(st->cgroup), "%s", vm->cgroup);
        snprintf(st->reason, sizeof(st->reason), "%s", vm->last_reason);
        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++)
                st->decisions += vm->counters.decisions[f];
        if (!vm_managed(vm) || !vm->ctl.initialized ||
            actuator_plan(&vm->ctl.limits, e->act.page_size, settings, ELEMENTSOF(settings), &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                const struct setting *s = &settings[i];
                if (strcmp(s->file, "cpu.max") == 0)
                        snprintf(st->cpu_max, sizeof(st->cpu_max), "%s", s->value);
                else if (strcmp(s->file, "cpu.weight") == 0)
                        snprintf(st->cpu_weight, sizeof(st->cpu_weight), "%s", s->value);
                else if (strcmp(s->file, "cpu.idle") == 0 && strcmp(s->value, "1") == 0)
                        snprintf(st->cpu_weight, sizeof(st->cpu_weight), "idle");
                else if (strcmp(s->file, "memory.high") == 0)
                        snprintf(st->memory_high, sizeof(st->memory_high), "%s", s->value);
                else if (strcmp(s->file, "memory.max") == 0)
                        snprintf(st->memory_max, sizeof(st->memory_max), "%s", s->value);
                else if (strcmp(s->file, "io.max") == 0) {
                        size_t len = strlen(st->io_max);
                        snprintf(st->io_max + len, sizeof(st->io_max) - len, "%s%s", len ? ";" : "", s->value);
                }
        }
}

/* The live view for `vmgov status`, replaced atomically each tick of a running daemon. */
static void engine_snapshot(struct engine *e)
{
        const char *path = e->opt.status_path ? e->opt.status_path : SNAPSHOT_DEFAULT;
        struct snapshot_state st;
        int r;

        if (!e->snapshot_on || strcmp(path, "none") == 0)
                return;
        struct snapshot_daemon d = {
                .pid = getpid(),
                .time_usec = audit_now_usec(),
                .interval_usec = e->interval_usec,
                .ticks = e->ticks,
                .dry_run = e->dry_run,
                .errors = e->totals.write_errors,
        };
        for (unsigned f = 0; f < _METRICS_FILE_MAX; f++)
                d.writes += e->totals.decisions[f];
        snprintf(d.runq_source, sizeof(d.runq_source), "%s", e->schedlat ? schedlat_mode(e->schedlat) : "none");
        snprintf(d.policy, sizeof(d.policy), "%s", e->opt.policy_path);
        r = snapshot_format_daemon(&e->snapshot, &d);
        for (size_t i = 0; i < e->n_vms && r == 0; i++) {
                engine_snapshot_state(e, &e->vms[i], &st);
                r = snapshot_format_vm(&e->snapshot, &e->vms[i].id, &e->vms[i].sig, &st);
        }
        if (r == 0)
                r = atomic_write_file(path, e->snapshot.buf, e->snapshot.len, 0600, false);
        if (r < 0 && !e->warned_snapshot) {
                e->warned_snapshot = true;
                log_warn_errno(r, "status file %s: cannot write it: %m; vmgov status will sample on its own", path);
        } else if (r == 0)
                e->warned_snapshot = false;
}

/* The Prometheus textfile: every VM's limits, signals and decision counts, replaced atomically each tick. */
static void engine_metrics(struct engine *e)
{
        const char *path = e->opt.metrics_file ? e->opt.metrics_file : e->policy->engine.metrics_file;
        _cleanup_free_ struct metrics_vm *mv = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n = 0;
        int r;

        if (!path || strcmp(path, "none") == 0)
                return;
        mv = calloc(e->n_vms ? e->n_vms : 1, sizeof(*mv));
        if (!mv)
                return;
        for (size_t i = 0; i < e->n_vms; i++) {
                const struct vm_state *vm = &e->vms[i];
                bool managed = vm_managed(vm);
                mv[n++] = (struct metrics_vm){
                        .id = &vm->id,
                        .group = vm->group,
                        .cgroup = vm->cgroup,
                        .limits = managed && vm->ctl.initialized ? &vm->ctl.limits : NULL,
                        .sig = managed && (vm->sensor || vm->schedlat_tracked) ? &vm->sig : NULL,
                        .counters = &vm->counters,
                };
        }
        struct metrics_engine me = {
                .dry_run = e->dry_run,
                .ticks = e->ticks,
                .tick_duration_usec = e->last_tick_usec,
                .interval_usec = e->interval_usec,
                .host = e->host_sensor ? &e->host : NULL,
                .totals = &e->totals,
        };
        r = metrics_format(&me, mv, n, &text, &len);
        if (r == 0)
                r = metrics_write_textfile(path, text, len);
        if (r < 0 && !e->warned_metrics) {
                e->warned_metrics = true;
                log_err_errno(r, "metrics file %s: %m", path);
        } else if (r == 0)
                e->warned_metrics = false;
}

/* Track one discovered VM and put it where its group says (once). ret_vm: the VM if it is managed and placed. */
static int engine_place_vm(struct engine *e, const struct vm_identity *id, struct vm_state **ret_vm)
{
        const struct group_policy *g = policy_match(e->policy, id);
        const char *gname = g ? g->name : "";
        char name[AUDIT_LOG_NAME_MAX];
        struct vm_state *vm;
        int r;

        r = engine_track(e, id, &vm);
        if (r < 0)
                return log_err_errno(r, "out of memory");
        if (strcmp(vm->group, gname) != 0) {
                /* New, or moved to another group by a reload: place it afresh. */
                vm_state_unplace(e, vm);
                snprintf(vm->group, sizeof(vm->group), "%s", gname);
                if (!g)
                        log_info("VM %s (pid %d) matches no group: left unmanaged",
                                 vm_display_name(&vm->id, name, sizeof(name)), (int)vm->id.pid);
        }
        if (g && !vm->refused && !vm->placed) {
                r = g->placement == PLACEMENT_INPLACE ? engine_place_inplace(e, vm) : engine_place_own(e, vm);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !errno_is_vanished(r)) {
                        vm->refused = true;
                        e->placement_errors++;
                }
        }
        if (ret_vm)
                *ret_vm = vm_managed(vm) ? vm : NULL;
        return 0;
}

/* The proc connector saw an exec: if it is a QEMU, govern it now, not at the next tick. */
static int engine_on_exec(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        struct vm_identity id;
        struct vm_state *vm = NULL;
        int r;

        r = discover_vm_identify(e->proc_fd, pid, engine_is_qemu_cb, e, &id);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        r = engine_place_vm(e, &id, &vm);
        if (r < 0 || !vm)
                return r;
        vm->seen = true;
        /* Its first tick: no deltas, so the laws only set their state to the policy's baseline. */
        struct control_vm c = {vm->id.name, policy_match(e->policy, &vm->id), &vm->sig, &vm->ctl};
        vm->sig = (struct vm_signals){0};
        control_tick(&c, 1, &e->host, &e->ctl_global, sense_now_usec(), e->act.page_size);
        engine_act_vm(e, vm, c.group);
        return 0;
}

/* The proc connector saw a process exit: if it was a VM, let it go now. */
static int engine_on_exit(pid_t pid, void *userdata)
{
        struct engine *e = userdata;
        bool found = false;

        for (size_t i = 0; i < e->n_vms; i++) {
                e->vms[i].seen = e->vms[i].id.pid != pid;
                found |= e->vms[i].id.pid == pid;
        }
        if (found) {
                engine_sweep(e);
                /* QEMU -daemonize: the process that exec'd exits once its forked child runs the VM, and a fork
                 * brings no exec event. A scan now finds the child. */
                e->rescan = true;
        }
        return 0;
}

int engine_tick(struct engine *e)
{
        _cleanup_free_ struct vm_identity *ids = NULL;
        uint64_t now = sense_now_usec();
        size_t n = 0;
        int r;

        r = discover_vms_scan(e->proc_fd, engine_is_qemu_cb, e, &ids, &n);
        if (r < 0)
                return log_err_errno(r, "scan %s: %m", e->opt.proc_root);

        for (size_t i = 0; i < e->n_vms; i++)
                e->vms[i].seen = false;

        engine_retry_removals(e);

        /* Discover and place. */
        for (size_t i = 0; i < n; i++) {
                r = engine_place_vm(e, &ids[i], NULL);
                if (r < 0)
                        return r;
        }
        engine_sweep(e);

        /* Sense, decide, act, report. */
        engine_sense(e, now);
        engine_control(e, now);
        for (size_t i = 0; i < e->n_vms; i++)
                if (vm_managed(&e->vms[i]))
                        engine_act_vm(e, &e->vms[i], policy_match(e->policy, &e->vms[i].id));
        engine_record(e, now);
        e->last_tick_usec = sense_now_usec() - now;
        engine_metrics(e);
        engine_snapshot(e);
        return 0;
}

static int engine_reload(struct engine *e)
{
        struct config_error err = {0};
        struct policy *p = NULL;
        char msg[1200];
        int r;

        r = config_load(e->opt.policy_path, &e->env, &p, &err);
        if (r < 0) {
                config_error_format(&err, msg, sizeof(msg));
                log_err("reload refused, the old policy stays in force: %s", msg);
                return r;
        }
        policy_free(e->policy);
        e->policy = p;
        engine_apply_overrides(e);
        e->act.dry_run = e->dry_run;
        log_info("policy reloaded from %s: %zu groups", e->opt.policy_path, p->n_groups);
        return 0;
}

static int timerfd_arm(int fd, uint64_t usec)
{
        struct itimerspec its = {
                .it_interval = {.tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000},
                .it_value = {.tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000},
        };
        return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int engine_run(struct engine *e)
{
        _cleanup_close_ int tfd = -1, sfd = -1, efd = -1, wfd = -1;
        int pfd = -2; /* the proc connector's socket, owned by e->procevents */
        struct epoll_event ev = {.events = EPOLLIN};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_err_errno(-errno, "sigprocmask: %m");

        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        efd = epoll_create1(EPOLL_CLOEXEC);
        if (sfd < 0 || tfd < 0 || efd < 0)
                return log_err_errno(-errno, "cannot set up the event loop: %m");
        r = timerfd_arm(tfd, e->interval_usec);
        if (r < 0)
                return log_err_errno(r, "timerfd: %m");
        ev.data.fd = sfd;
        if (epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev) < 0)
                return log_err_errno(-errno, "epoll: %m");
        ev.data.fd = tfd;
        if (epoll_ctl(efd, EPOLL_CTL_ADD, tfd, &ev) < 0)
                return log_err_errno(-errno, "epoll: %m");

        uint64_t watchdog = sdnotify_watchdog_interval_usec();
        if (watchdog) {
                wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (wfd < 0 || timerfd_arm(wfd, watchdog) < 0)
                        return log_err_errno(-errno, "watchdog timer: %m");
                ev.data.fd = wfd;
                if (epoll_ctl(efd, EPOLL_CTL_ADD, wfd, &ev) < 0)
                        return log_err_errno(-errno, "epoll: %m");
        }

        /* Exec and exit events, so a new QEMU is limited within milliseconds; opened before the first scan,
         * which catches whatever started before. */
        if (!e->opt.no_proc_events) {
                r = procevents_open(engine_on_exec, engine_on_exit, e, &e->procevents);
                if (r < 0)
                        log_warn_errno(r, "no process events (proc connector): %m; scanning every %llums instead",
                                       (unsigned long long)(e->interval_usec / 1000));
                else {
                        pfd = procevents_fd(e->procevents);
                        ev.data.fd = pfd;
                        if (epoll_ctl(efd, EPOLL_CTL_ADD, pfd, &ev) < 0)
                                return log_err_errno(-errno, "epoll: %m");
                }
        }

        e->snapshot_on = true;
        if (e->opt.status_path == NULL || strcmp(e->opt.status_path, "none") != 0)
                (void)mkdir_parent(e->opt.status_path ? e->opt.status_path : SNAPSHOT_DEFAULT, 0700);
        r = engine_tick(e);
        if (r < 0)
                return r;
        (void)sdnotify_send("READY=1");

        for (;;) {
                struct epoll_event events[4];
                int n = epoll_wait(efd, events, ELEMENTSOF(events), -1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_err_errno(-errno, "epoll_wait: %m");
                for (int i = 0; i < n; i++) {
                        if (events[i].data.fd == pfd) {
                                r = procevents_dispatch(e->procevents);
                                if (r == -ENOBUFS) /* events were lost: look at everything */
                                        log_debug("process events were lost: rescanning");
                                if (r == -ENOBUFS || e->rescan) {
                                        e->rescan = false;
                                        r = engine_tick(e);
                                }
                                if (r == -ENOMEM)
                                        return r;
                        } else if (events[i].data.fd == wfd) {
                                uint64_t expirations;
                                (void)read(wfd, &expirations, sizeof(expirations));
                                (void)sdnotify_send("WATCHDOG=1");
                        } else if (events[i].data.fd == tfd) {
                                uint64_t expirations;
                                if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                                        return log_err_errno(-errno, "timerfd: %m");
                                r = engine_tick(e);
                                if (r < 0)
                                        return r;
                        } else {
                                struct signalfd_siginfo si;
                                if (read(sfd, &si, sizeof(si)) != sizeof(si))
                                        continue;
                                if (si.ssi_signo == SIGHUP) {
                                        uint64_t old_interval = e->interval_usec;
                                        (void)sdnotify_send("RELOADING=1");
                                        if (engine_reload(e) == 0 && e->interval_usec != old_interval)
                                                (void)timerfd_arm(tfd, e->interval_usec);
                                        (void)sdnotify_send("READY=1");
                                        continue;
                                }
                                (void)sdnotify_send("STOPPING=1");
                                log_info("signal %s: restoring the originals and stopping",
                                         si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                                return 0;
                        }
                }
        }
}

int engine_close(struct engine *e)
{
        int failures = 0;

        if (e->snapshot_on) { /* a stopped daemon has no live view: status samples on its own */
                const char *path = e->opt.status_path ? e->opt.status_path : SNAPSHOT_DEFAULT;
                if (strcmp(path, "none") != 0 && unlink(path) < 0 && errno != ENOENT)
                        log_warn_errno(-errno, "status file %s: cannot remove it: %m", path);
                e->snapshot_on = false;
        }
        free(e->snapshot.buf);
        e->snapshot = (struct snapshot_text){0};

        if (!e->dry_run)
                failures = actuator_restore(&e->act);
        actuator_done(&e->act);
        for (size_t i = 0; i < e->n_vms; i++) {
                engine_sense_stop(e, &e->vms[i]);
                closep(&e->vms[i].cgroup_fd);
        }
        free(e->vms);
        e->vms = NULL;
        e->n_vms = 0;
        free(e->ctl_vms);
        e->ctl_vms = NULL;
        for (size_t i = 0; i < e->n_pending_rmdir; i++)
                free(e->pending_rmdir[i]);
        free(e->pending_rmdir);
        e->pending_rmdir = NULL;
        closep(&e->record_fd);
        if (e->schedlat)
                schedlat_free(e->schedlat);
        e->schedlat = NULL;
        sense_host_freep(&e->host_sensor);
        e->host_sensor = NULL;
        e->procevents = procevents_free(e->procevents);
        if (e->netshape)
                e->netshape = netshape_free(e->netshape);
        closep(&e->net_fd);
        if (e->audit_fd >= 0)
                (void)audit_close(e->audit_fd);
        closep(&e->mount_fd);
        closep(&e->proc_fd);
        policy_free(e->policy);
        e->policy = NULL;
        return failures;
}

int engine_restore_journal(int proc_fd, const char *state_path)
{
        struct cgroup_mount m;
        struct actuator a;
        _cleanup_close_ int mount_fd = -1;
        int r;

        r = cgroupfs_detect(proc_fd, AT_FDCWD, &m);
        if (r < 0)
                return log_err_errno(r, "no cgroup v2 mount: %m");
        mount_fd = open(m.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mount_fd < 0)
                return log_err_errno(-errno, "open %s: %m", m.path);
        actuator_init(&a, false, mount_fd, -1);
        a.state_path = state_path;
        /* Rates on tap devices are originals too. */
        _cleanup_netshape_ struct netshape *ns = NULL;
        if (netshape_open(&ns) == 0) {
                struct actuator_net_ops ops;
                netshape_actuator_ops(ns, &ops);
                actuator_set_net_ops(&a, &ops);
        }
        r = actuator_take_over(&a);
        if (r < 0)
                return r;
        if (r == 0)
                log_info("nothing to restore: %s holds no originals", state_path);
        return actuator_restore(&a);
}

int engine_probe(int proc_fd, char *why, size_t len)
{
        static const enum cg_controller needed[] = {CGROUP_CPU, CGROUP_MEMORY, CGROUP_IO};
        struct cgroup_mount m;
        int r;

        r = cgroupfs_detect(proc_fd, AT_FDCWD, &m);
        if (r < 0) {
                snprintf(why, len, "no cgroup v2 filesystem is mounted");
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                r = cgroupfs_controller_usable(&m, needed[i], why, len);
                if (r < 0)
                        return r;
        }
        snprintf(why, len, "cgroup v2 at %s with cpu, memory and io", m.path);
        return 0;
}
