/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's life: open (the host's roots, the policy's overrides, the audit log, the sensors, the engine's own
 * cgroup tree, the originals a previous engine journalled), reload, and close (the originals put back). Also the
 * commands that need the kernel's view but no engine: probe and restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "act/actuator.h"
#include "act/ioweight.h"
#include "act/netshape.h"
#include "act/statefile.h"
#include "decide/stage.h"
#include "discover/procevents.h"
#include "discover/stage.h"
#include "engine.h"
#include "kernel/audit.h"
#include "kernel/cpuset.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "place/moveback.h"
#include "place/placement.h"
#include "place/stage.h"
#include "policy/policy.h"
#include "publish/recorder.h"
#include "publish/stage.h"
#include "sense/schedlat.h"
#include "sense/sense.h"
#include "sense/stage.h"

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

/* The CPUs (or memory nodes) the kernel lists as online in dir ("0-7\n"), for the policy's pins; false when it
 * cannot say (no NUMA: no node directory), and the pins are then not checked against the host. */
static bool host_set_read(const char *dir, unsigned limit, struct cpuset *ret)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char text[4096];

        return fd >= 0 && cgroupfs_read(fd, "online", text, sizeof(text)) >= 0 && cpuset_parse(text, limit, ret) == 0 &&
               !cpuset_is_empty(ret);
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
        ret->host_cpus_known = host_set_read("/sys/devices/system/cpu", CPUSET_MAX, &ret->host_cpus);
        ret->host_mems_known = host_set_read("/sys/devices/system/node", 1024, &ret->host_mems);
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
        placement_hand_down_cpuset(policy_uses_cpuset(e->policy));
}

/* Network shaping needs netlink and sys/class/net; without them the engine goes on without it, and says so. */
static void engine_net_open(struct engine *e)
{
        struct actuator_net_ops ops;
        int r;

        e->net_fd = openat(e->sys_fd, "class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = netshape_open(&e->netshape);
        if (r < 0 || e->net_fd < 0) {
                log_warn_errno(r < 0 ? r : -errno, "network shaping is unavailable: %m");
                return;
        }
        netshape_actuator_ops(e->netshape, &ops);
        actuator_set_net_ops(e->act, &ops);
        /* the ifbs an engine before this one left, whose taps are gone since */
        if (!e->dry_run)
                (void)netshape_gc(e->netshape);
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

/* The host's roots as fds, and the cgroup2 mount found through them. Logs what failed; returns 0 or -errno. */
static int roots_open(const struct host_roots *roots, int *ret_proc_fd, int *ret_sys_fd, int *ret_root_fd,
                      struct cgroup_mount *ret_mount, int *ret_mount_fd)
{
        _cleanup_close_ int proc_fd = -1, sys_fd = -1, root_fd = -1, mount_fd = -1;
        struct cgroup_mount m;
        char why[512];
        int r;

        proc_fd = open(roots->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return log_err_errno(-errno, "open %s: %m", roots->proc);
        sys_fd = open(roots->sys, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sys_fd < 0)
                return log_err_errno(-errno, "open %s: %m", roots->sys);
        root_fd = open(roots->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_err_errno(-errno, "open %s: %m", roots->root);
        r = cgroupfs_detect(proc_fd, root_fd, &m, why, sizeof(why));
        if (r < 0)
                return log_err_errno(r, "no usable cgroup v2 mount: %s", why);
        mount_fd = cgroupfs_open_mount(root_fd, &m);
        if (mount_fd < 0)
                return log_err_errno(mount_fd, "open %s: %m", m.path);

        *ret_proc_fd = TAKE_FD(proc_fd);
        *ret_sys_fd = TAKE_FD(sys_fd);
        if (ret_root_fd)
                *ret_root_fd = TAKE_FD(root_fd);
        *ret_mount = m;
        *ret_mount_fd = TAKE_FD(mount_fd);
        return 0;
}

/* What changing anything needs: the engine's own tree, and the journal that takes each original before it is
 * overwritten. At start, or when a reload turns DryRun= off. Logs what failed. */
static int engine_enforce_prepare(struct engine *e)
{
        int r;

        if (!e->mount.hybrid) {
                /* Made at start, while the engine may still write into the cgroup2 root (mode 0555): later
                 * cgroups go beneath it, which needs no capability once the engine drops CAP_DAC_OVERRIDE. */
                r = engine_check_delegated(e);
                if (r < 0)
                        return r;
                r = e->placement->create(e->placement->userdata, &e->mount, e->root_rel);
                if (r < 0)
                        return log_err_errno(r, "cannot create the engine's cgroup tree %s/%s: %m", e->mount.path,
                                             e->root_rel);
        }
        e->act->state_path = e->opt.state_path ? e->opt.state_path : STATEFILE_DEFAULT;
        snprintf(e->act->state_holder, sizeof(e->act->state_holder), "vmgov %s",
                 e->opt.command ? e->opt.command : "run");
        r = actuator_take_over(e->act);
        if (r < 0)
                return log_err_errno(r, "cannot take over the originals in %s: %m", e->act->state_path);
        return 0;
}

/* The eBPF maps are sized at load for the VMs there are now, with room to double, and at least ENGINE_SCHEDLAT_MIN:
 * their per-CPU histograms cost the kernel max_vms × CPUs × 136 bytes. When they are full the sense stage makes
 * them again, larger. */
#define ENGINE_SCHEDLAT_MIN 64u

static unsigned engine_schedlat_size(struct engine *e)
{
        struct vm_identity *ids = NULL;
        unsigned size = ENGINE_SCHEDLAT_MIN;
        size_t n = 0;

        if (discover_vms_scan(e->proc_fd, discover_stage_is_qemu, e, &ids, &n) == 0) {
                vm_identities_free(ids, n);
                while (size < 2 * n && size < (1u << 20))
                        size *= 2;
        }
        log_info("run-queue latency: room for %u VMs (%zu now)", size, n);
        e->schedlat_max_vms = size;
        return size;
}

int engine_open(struct engine *e, const struct engine_options *opt, struct policy *policy)
{
        const char *root, *audit_path;
        char default_root[4200];
        int r;

        *e = (struct engine){
                .opt = *opt,
                .policy = policy,
                .placement = opt->placement ? opt->placement : &placement_libcgroup_ops,
                .proc_fd = -1,
                .sys_fd = -1,
                .root_fd = -1,
                .mount_fd = -1,
                .audit_fd = -1,
                .epoll_fd = -1,
                .host_trigger_fd = {-1, -1},
                .record_fd = -1,
                .net_fd = -1,
        };
        engine_config_env(&e->env);
        policy_set_generation(policy, 1);
        engine_apply_overrides(e);

        r = roots_open(&opt->roots, &e->proc_fd, &e->sys_fd, &e->root_fd, &e->mount, &e->mount_fd);
        if (r < 0)
                return r;

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
                if (r == -EPERM || r == -ELOOP || r == -EBADFD)
                        return log_err_errno(r,
                                             "audit log %s: refused: it must be a regular file (not a symlink) "
                                             "owned by the engine's user and not writable by group or others",
                                             audit_path);
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

        e->act = malloc(sizeof(*e->act));
        if (!e->act)
                return log_err_errno(-ENOMEM, "out of memory");
        actuator_init(e->act, e->dry_run, e->mount_fd, e->audit_fd);
        e->page_size = e->act->page_size;
        struct rlimit nofile;
        e->fd_limit = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY ? nofile.rlim_cur
                                                                                                 : UINT64_MAX / 2;
        e->mover = malloc(sizeof(*e->mover));
        if (!e->mover)
                return log_err_errno(-ENOMEM, "out of memory");
        *e->mover = (struct placement_mover){e->placement, e->proc_fd, &e->mount, e->mount_fd};
        struct actuator_move_ops move_ops;
        placement_move_ops(e->mover, &move_ops);
        actuator_set_move_ops(e->act, &move_ops);
        engine_net_open(e);
        ioweight_check(e->sys_fd, e->mount_fd, e->policy); /* IOWeight= on a disk that ignores it: said */
        if (opt->sense) {
                if (sense_swap_present(e->proc_fd, &e->swap) < 0)
                        e->swap = false;
                r = sense_host_open(e->proc_fd, NULL, &e->host_sensor);
                if (r < 0)
                        return log_err_errno(r, "cannot open the host's pressure files in %s/pressure: %m",
                                             opt->roots.proc);
                struct schedlat_options so = {
                        .proc_fd = e->proc_fd, .sys_fd = e->sys_fd, .max_vms = engine_schedlat_size(e)};
                r = schedlat_new(&so, &e->schedlat);
                if (r < 0)
                        return log_err_errno(r, "run-queue latency: %m");
                log_info("run-queue latency from %s", schedlat_mode(e->schedlat));
        }
        if (!e->dry_run) {
                r = engine_enforce_prepare(e);
                if (r < 0)
                        return r;
        }
        log_info("vmgov: cgroup v2 at %s%s, engine tree %s/%s, interval %llums%s", e->mount.path,
                 e->mount.hybrid ? " (hybrid host)" : "", e->mount.path, e->root_rel,
                 (unsigned long long)(e->interval_usec / 1000), e->dry_run ? ", dry-run: nothing will be changed" : "");
        return 0;
}

void engine_fds_spent(struct engine *e)
{
        if (e->fd_budget_said)
                return;
        e->fd_budget_said = true;
        log_warn("file descriptors: with %zu VMs the engine holds half of what RLIMIT_NOFILE (%llu) allows: from now "
                 "on a new VM holds only its cgroup, its files opened at each tick, and past the limit not even that "
                 "(it is then governed unsensed); raise LimitNOFILE= to hold more",
                 e->n_vms, (unsigned long long)e->fd_limit);
}

int engine_close(struct engine *e)
{
        int failures = 0;

        publish_stage_stop(e);
        if (e->act) {
                if (!e->dry_run)
                        failures = actuator_restore(e->act);
                actuator_done(e->act);
                free(e->act);
                e->act = NULL;
        }
        if (e->mover) {
                free(e->mover);
                e->mover = NULL;
        }
        e->exe_memos = mfree(e->exe_memos);
        for (size_t i = 0; i < e->n_vms; i++) {
                sense_stage_release(e, &e->vms[i]);
                e->vms[i].cgroup_fd = safe_close(e->vms[i].cgroup_fd);
                e->vms[i].cgroup = mfree(e->vms[i].cgroup);
                decide_stage_release(e, &e->vms[i]);
                e->vms[i].totals = mfree(e->vms[i].totals);
                discover_stage_release(e, &e->vms[i]);
        }
        free(e->vms);
        e->vms = NULL;
        index_free(&e->vm_by_pid);
        index_free(&e->vm_by_cgroup);
        sense_stage_close(e);
        index_free(&e->trigger_by_fd);
        free(e->heirs);
        e->heirs = NULL;
        e->n_heirs = e->n_heirs_dead = 0;
        index_free(&e->heir_by_pid);
        e->n_vms = 0;
        free(e->ctl_vms);
        e->ctl_vms = NULL;
        for (size_t i = 0; i < e->n_pending_rmdir; i++)
                free(e->pending_rmdir[i]);
        free(e->pending_rmdir);
        e->pending_rmdir = NULL;
        e->record_fd = safe_close(e->record_fd);
        if (e->schedlat)
                schedlat_free(e->schedlat);
        e->schedlat = NULL;
        sense_host_freep(&e->host_sensor);
        e->host_sensor = NULL;
        e->procevents = procevents_free(e->procevents);
        if (e->netshape)
                e->netshape = netshape_free(e->netshape);
        e->net_fd = safe_close(e->net_fd);
        if (e->audit_fd >= 0)
                (void)audit_close(e->audit_fd);
        e->mount_fd = safe_close(e->mount_fd);
        e->proc_fd = safe_close(e->proc_fd);
        e->sys_fd = safe_close(e->sys_fd);
        e->root_fd = safe_close(e->root_fd);
        policy_free(e->policy);
        e->policy = NULL;
        return failures;
}

int engine_restore_journal(const struct host_roots *roots, const char *state_path)
{
        _cleanup_close_ int proc_fd = -1, sys_fd = -1, mount_fd = -1;
        _cleanup_netshape_ struct netshape *ns = NULL;
        struct cgroup_mount m;
        struct actuator a;
        int r;

        r = roots_open(roots, &proc_fd, &sys_fd, NULL, &m, &mount_fd);
        if (r < 0)
                return r;
        actuator_init(&a, false, mount_fd, -1);
        a.state_path = state_path;
        /* VMs the engine moved go back where they came from. */
        struct placement_mover mover = {&placement_libcgroup_ops, proc_fd, &m, mount_fd};
        struct actuator_move_ops move_ops;
        placement_move_ops(&mover, &move_ops);
        actuator_set_move_ops(&a, &move_ops);
        snprintf(a.state_holder, sizeof(a.state_holder), "vmgov restore");
        /* Rates on tap devices are originals too. */
        if (netshape_open(&ns) == 0) {
                struct actuator_net_ops ops;
                netshape_actuator_ops(ns, &ops);
                actuator_set_net_ops(&a, &ops);
        }
        r = actuator_take_over(&a); /* a journal it cannot read is named by statefile_load */
        if (r == 0)
                log_info("nothing to restore: %s holds no originals", state_path);
        else if (r > 0)
                r = actuator_restore(&a);
        actuator_done(&a);
        return r;
}

int engine_probe(const struct host_roots *roots, char *why, size_t len)
{
        static const enum cg_controller needed[] = {CGROUP_CPU, CGROUP_MEMORY, CGROUP_IO};
        _cleanup_close_ int proc_fd = -1, root_fd = -1;
        struct cgroup_mount m;
        int r;

        proc_fd = open(roots->proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        root_fd = open(roots->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0 || root_fd < 0) {
                r = -errno;
                snprintf(why, len, "cannot open %s: %s", proc_fd < 0 ? roots->proc : roots->root, strerror(-r));
                return r;
        }
        r = cgroupfs_detect(proc_fd, root_fd, &m, why, len);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                r = cgroupfs_controller_usable(&m, needed[i], why, len);
                if (r < 0)
                        return r;
        }
        snprintf(why, len, "cgroup v2 at %s with cpu, memory and io", m.path);
        return 0;
}

/* A reload turned DryRun= off: journal and tree first, then the VMs that dry-run only pretended to place are placed
 * for real at the next tick. If the engine cannot prepare, it stays in dry-run: nothing half-applied. */
static void engine_enforce_begin(struct engine *e)
{
        if (engine_enforce_prepare(e) < 0) {
                log_err("DryRun=no does not take effect: the engine stays in dry-run (the line above says why)");
                e->dry_run = true;
                return;
        }
        actuator_set_dry_run(e->act, false);
        place_stage_reset(e);
        log_info("DryRun=no: from now on the engine changes what it decides, each original journalled in %s first",
                 e->act->state_path);
}

/* A reload turned DryRun= on: dry-run changes nothing, so what the engine changed goes back first. */
static void engine_enforce_end(struct engine *e)
{
        size_t n = e->act->n_originals;
        int failures = actuator_restore(e->act);

        actuator_set_dry_run(e->act, true);
        place_stage_reset(e); /* back where they came from: dry-run now only says where it would put them */
        log_info("DryRun=yes: %zu original values put back%s; from now on the engine changes nothing", n - failures,
                 failures ? " (the others stay in the state file for vmgov restore)" : "");
}

int engine_reload(struct engine *e)
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
        bool was_dry_run = e->dry_run;
        policy_set_generation(p, e->policy->generation + 1);
        policy_free(e->policy);
        e->policy = p;
        e->exe_memos = mfree(e->exe_memos); /* what QemuTrustedPaths= vouched for may not be vouched for now */
        engine_apply_overrides(e);
        log_info("policy reloaded from %s: %zu groups", e->opt.policy_path, p->n_groups);
        ioweight_check(e->sys_fd, e->mount_fd, p);
        if (was_dry_run && !e->dry_run)
                engine_enforce_begin(e);
        else if (!was_dry_run && e->dry_run)
                engine_enforce_end(e);
        return 0;
}
