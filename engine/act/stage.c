/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The act stage: each managed VM's wanted limits → settings → the actuator, and its taps → netshape. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "act/actuator.h"
#include "act/netshape.h"
#include "act/partition.h"
#include "act/stage.h"
#include "act/tapdev.h"
#include "kernel/index.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "kernel/threadcg.h"
#include "policy/policy.h"

static bool controller_ok(struct engine *e, enum cg_controller c)
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

/* A VM whose settings are what the act stage last applied without an error is not read back from the kernel at
 * every tick (which cost an open, a read and a close per file per VM: the idle tick then cost twice the sensing),
 * only this often, to put back what someone else changed. */
#define ACT_RECHECK_USEC  (60 * 1000000ULL)
#define ACT_MISSING_USEC  (10 * 1000000ULL) /* sooner when a file was not there: a controller may come */
#define ACT_STAGGER_SLOTS 30                /* rechecks spread over 3 s (30 slots of 100 ms), not all VMs in one tick */

/* What the settings and where they go are: the same plan for the same cgroup hashes the same. */
static uint64_t settings_hash(const struct actuator_target *t, const struct setting *s, size_t n)
{
        uint64_t h = index_hash(INDEX_HASH_SEED, t->cgroup, strlen(t->cgroup) + 1);

        h = index_hash(h, &t->cgroup_fd, sizeof(t->cgroup_fd));
        for (size_t i = 0; i < n; i++) {
                h = index_hash(h, s[i].file, strlen(s[i].file) + 1);
                h = index_hash(h, s[i].value, strlen(s[i].value) + 1);
                h = index_hash(h, &s[i].major, sizeof(s[i].major));
                h = index_hash(h, &s[i].minor, sizeof(s[i].minor));
        }
        return h ? h : 1;
}

static void count(struct engine *e, struct vm_state *vm, const char *file, int r)
{
        e->act_missing |= r == -ENOENT;
        metrics_count(&vm->counters, file, r);
        metrics_count(&e->totals, file, r);
}

/* The taps of a VM that are not shaped, and why: once per VM, not every tick. Device names are hostile. */
static void note_taps_skipped(struct vm_state *vm, const struct tapdev_list *taps)
{
        char name_buf[AUDIT_LOG_NAME_MAX], dev[AUDIT_LOG_NAME_MAX];
        const char *name;
        int pid = (int)vm->id.pid;

        if (vm->taps_skip_noted || (taps->n_skipped == 0 && !taps->unverified))
                return;
        vm->taps_skip_noted = true;
        name = vm_display_name(&vm->id, name_buf, sizeof(name_buf));
        for (size_t i = 0; i < taps->n_skipped; i++)
                log_warn("VM %s (pid %d): tap %s %s: not shaped", name, pid,
                         audit_escape_for_log(taps->skipped[i].name, dev, sizeof(dev)),
                         tapdev_skip_reason_text(taps->skipped[i].reason));
        if (taps->unverified)
                log_full_errno(LOG_INFO, taps->unverified,
                               "VM %s (pid %d): cannot ask the tun driver where its taps live (%m): they are shaped "
                               "when the QEMU is in the engine's network namespace (pidfd_getfd needs "
                               "CAP_SYS_PTRACE and kernel.yama.ptrace_scope < 3; Linux 5.6+)",
                               name, pid);
}

/* Why a VM has the policy's value: its group, and where the policy says so. */
static const char *policy_reason(const struct group_policy *g, char *buf, size_t size)
{
        snprintf(buf, size, "policy: [group %s] at %s:%u", g->name, g->file, g->line);
        return buf;
}

/* The VM's tap devices get the group's rates (no cgroup file: through netshape, same decisions and audit). */
static void act_net(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                    const struct actuator_target *t)
{
        char reason[600];
        const struct tapdev_host host = {.proc_fd = e->proc_fd, .net_fd = e->net_fd};
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
        /* Through the VM's own /proc/PID, held since discovery: it answers for that process or fails, never for a
         * later one with its pid. Without it (no fd to spare), by number, checked by its start time. */
        if (vm->pid_fd < 0) {
                struct procfs_stat st;
                pid_fd = procfs_pid_open(e->proc_fd, vm->id.pid);
                if (pid_fd < 0 || procfs_stat_read(pid_fd, &st) < 0 || st.start_time != vm->id.start_time)
                        return;
        }
        r = tapdev_read(&host, vm->id.pid, vm->pid_fd >= 0 ? vm->pid_fd : pid_fd, &taps);
        if (r < 0) {
                log_full_errno(errno_is_vanished(r) ? LOG_DEBUG : LOG_WARNING, r, "taps of VM pid %d: %m",
                               (int)vm->id.pid);
                return;
        }
        note_taps_skipped(vm, &taps);
        if (g->net.egress_set && taps.n)
                vm->egress_shaped = true; /* its ifb outlives it: collected when it exits */
        r = netshape_plan(&g->net, &taps, settings, ELEMENTSOF(settings), &n);
        if (r < 0) {
                log_err_errno(r, "[group %s]: cannot shape the taps of VM pid %d: %m", g->name, (int)vm->id.pid);
                return;
        }
        policy_reason(g, reason, sizeof(reason));
        for (size_t i = 0; i < n; i++)
                count(e, vm, settings[i].file, actuator_apply(e->act, t, &settings[i], reason));
}

/* The memory law's probe, where it probes with memory.reclaim: a one-shot request, not a setting. */
static void act_memory_reclaim(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                               const struct actuator_target *t)
{
        char value[32];

        if (g->adapt.memory && g->adapt.memory_probe == MEMORY_PROBE_RECLAIM && vm->sig.interval_usec &&
            !vm->sig.memory_reclaim && !vm->reclaim_missing_noted) {
                vm->reclaim_missing_noted = true;
                log_warn("[group %s] at %s:%u: MemoryProbe=reclaim, but cgroup %s has no memory.reclaim (kernel "
                         "5.19+): the memory law takes nothing back from VM pid %d",
                         g->name, g->file, g->line, vm_cgroup(vm), (int)vm->id.pid);
        }
        if (!vm->ctl.memory_reclaim_bytes || !controller_ok(e, CGROUP_MEMORY))
                return;
        snprintf(value, sizeof(value), "%llu", (unsigned long long)vm->ctl.memory_reclaim_bytes);
        count(e, vm, "memory.reclaim",
              actuator_request(e->act, t, "memory.reclaim", value, control_reason(&vm->ctl, KNOB_MEMORY_RECLAIM)));
}

/* The settings of one of a VM's threaded children (kernel/threadcg.h): VCPUQuota= and the vCPU's share of
 * VCPUAllowedCPUs= for each vcpuN, EmulatorQuota= and EmulatorAllowedCPUs= for the emulator. Returns how many. */
static size_t thread_settings(const struct cpu_topology *c, enum thread_cgroup kind, unsigned index, struct setting *s)
{
        bool vcpu = kind == THREAD_CGROUP_VCPU;
        struct cpuset pin;
        size_t n = 0;

        int pinned = -ENOENT;

        if (vcpu)
                pinned = cpu_topology_vcpu_cpus(c, index, &pin);
        else if (kind == THREAD_CGROUP_EMULATOR && c->emulator_cpus_set) {
                pin = c->emulator_cpus;
                pinned = 0;
        }
        if (pinned == 0) {
                s[n] = (struct setting){.file = "cpuset.cpus", .controller = CGROUP_CPUSET};
                if (cpuset_format(&pin, s[n].value, sizeof(s[n].value)) >= 0)
                        n++;
        }
        if (vcpu ? c->vcpu_quota_set : kind == THREAD_CGROUP_EMULATOR && c->emulator_quota_set) {
                s[n] = (struct setting){.file = "cpu.max", .controller = CGROUP_CPU};
                if (cgv_format_cpu_max(vcpu ? c->vcpu_quota_usec : c->emulator_quota_usec,
                                       vcpu ? c->vcpu_period_usec : c->emulator_period_usec, s[n].value,
                                       sizeof(s[n].value)) >= 0)
                        n++;
        }
        return n;
}

/* The limits of the threaded children the place stage made in a VM's cgroup for its threads, written as the VM's
 * own are, to "VM/vcpuN" and "VM/emulator". */
static void act_threads(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                        const struct actuator_target *vm_t, const char *reason, const char *reloaded)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        if (!vm->threads || vm->cgroup_fd < 0)
                return;
        fd = openat(vm->cgroup_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return;
        }
        while ((de = readdir(d))) {
                enum thread_cgroup kind;
                struct setting s[2];
                unsigned index;
                char path[4200];
                size_t n;

                if (de->d_type != DT_DIR || !thread_cgroup_parse(de->d_name, &kind, &index))
                        continue;
                n = thread_settings(&g->cpu, kind, index, s);
                if (n == 0 && !reloaded)
                        continue;
                _cleanup_close_ int child_fd = cgroupfs_open_dir(vm->cgroup_fd, de->d_name);
                if (child_fd < 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", vm_t->cgroup, de->d_name);
                struct actuator_target t = *vm_t;
                t.cgroup = path;
                t.cgroup_fd = child_fd;
                if (reloaded) /* a thread key the new policy dropped: the child's file as it was */
                        count(e, vm, "", MIN(actuator_give_back(e->act, &t, s, n, reloaded), 0));
                for (size_t k = 0; k < n; k++)
                        if (controller_ok(e, s[k].controller))
                                count(e, vm, s[k].file, actuator_apply(e->act, &t, &s[k], reason));
        }
}

/* Whether (cgroup, what) was said already: a partition's verdict or a refused chain is logged once, not at every
 * recheck. A small memory of hashes; one forgotten is said again, which is harmless. */
static bool said_before(const char *cgroup, const char *what)
{
        static uint64_t said[64];
        static size_t next;
        uint64_t h = index_hash(index_hash(INDEX_HASH_SEED, cgroup, strlen(cgroup) + 1), what, strlen(what) + 1);

        for (size_t i = 0; i < ELEMENTSOF(said); i++)
                if (said[i] == h)
                        return true;
        said[next++ % ELEMENTSOF(said)] = h;
        return false;
}

/* What the kernel made of the group's partition: said once, an invalid one with the kernel's reason; its VMs run on
 * (on their AllowedCPUs=, shared). */
static void partition_verdict(const struct group_policy *g, const char *cgroup, int cgroup_fd)
{
        char reason[sizeof(((struct partition_readback *)0)->reason) * 4], cpus[CPUSET_TEXT_MAX];
        struct partition_readback rb;
        int r = partition_read(cgroup_fd, &rb);

        if (r < 0) {
                if (!errno_is_vanished(r) && r != -ENOENT && !said_before(cgroup, "unreadable"))
                        log_warn_errno(r, "[group %s]: cannot read back %s/cpuset.cpus.partition: %m", g->name, cgroup);
                return;
        }
        if (rb.valid) {
                if (cpuset_format(&g->cpu.allowed_cpus, cpus, sizeof(cpus)) < 0)
                        snprintf(cpus, sizeof(cpus), "(%u of them)", cpuset_count(&g->cpu.allowed_cpus));
                if (!said_before(cgroup, partition_mode_value(rb.mode)))
                        log_info("[group %s]: %s is a partition (\"%s\"): CPUs %s are its VMs' own", g->name, cgroup,
                                 partition_mode_value(rb.mode), cpus);
                return;
        }
        audit_escape_for_log(rb.reason, reason, sizeof(reason));
        if (!said_before(cgroup, reason))
                log_warn("[group %s]: the kernel holds the partition %s invalid (\"%s\"): its VMs run on their "
                         "AllowedCPUs= without having them to themselves",
                         g->name, cgroup, reason);
}

/* CPUPartition=: the chain of the engine's own cgroups made partition roots down to the group's cgroup, the
 * partition (act/partition.h), through the actuator, which journals each original ("member", the cpuset.cpus) for
 * a stop or `vmgov restore`. A step the kernel refuses stops the chain there; the VMs run on. */
static void act_partition(struct engine *e, struct vm_state *vm, const struct group_policy *g,
                          const struct actuator_target *vm_t)
{
        struct partition_step steps[PARTITION_STEPS_MAX];
        struct partition_chain chain;
        char why[600] = "", reason[700];
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        int r;

        if (g->cpu.partition == CPU_PARTITION_NO || !controller_ok(e, CGROUP_CPUSET))
                return;
        r = partition_chain_plan(e->policy, g, e->env.host_cpus_known ? &e->env.host_cpus : NULL, &chain, why,
                                 sizeof(why));
        if (r == -EINVAL) /* the cgroup a Placement=inplace VM is in is not the engine's to make a partition of */
                snprintf(why, sizeof(why), "it needs Placement=own (and AllowedCPUs=)");
        else if (r == 0 && !vm->own)
                return; /* not in a cgroup of the engine's (yet) */
        if (r == 0) {
                r = partition_plan(&chain, g->cpu.partition, e->root_rel, vm_cgroup(vm), steps, &n);
                snprintf(why, sizeof(why), "%s",
                         r == -ENOBUFS ? "its CPUs do not fit a cgroup value"
                                       : "the VM's cgroup is not ROOT/GROUP/VM of the engine's tree");
        }
        if (r < 0) {
                if (!said_before(g->name, why))
                        log_warn("[group %s] at %s:%u: CPUPartition= is not applied: %s", g->name, g->file, g->line,
                                 why);
                return;
        }
        snprintf(reason, sizeof(reason), "policy: [group %s] at %s:%u: CPUPartition=%s", g->name, g->file, g->line,
                 g->cpu.partition == CPU_PARTITION_ISOLATED ? "isolated" : "exclusive");
        for (size_t i = 0; i < n; i++) {
                struct actuator_target t = *vm_t;

                if (i == 0 || strcmp(steps[i].cgroup, steps[i - 1].cgroup) != 0) {
                        fd = safe_close(fd);
                        fd = cgroupfs_open_dir(e->mount_fd, steps[i].cgroup);
                        if (fd < 0 && !e->dry_run)
                                return (void)log_err_errno(fd, "open %s: %m", steps[i].cgroup);
                }
                t.cgroup = steps[i].cgroup;
                t.cgroup_fd = fd >= 0 ? fd : -1;
                r = actuator_apply(e->act, &t, &steps[i].setting, reason);
                count(e, vm, steps[i].setting.file, r);
                if (r < 0)
                        return;
        }
        if (!e->dry_run)
                partition_verdict(g, steps[n - 1].cgroup, fd);
}

void act_stage_partition(struct engine *e, struct vm_state *vm)
{
        const struct group_policy *g = vm_group_policy(e, vm);
        struct actuator_target t = {
                .vm = vm_name(&vm->id), .uuid = vm->id.uuid, .pid = vm->id.pid, .group = g ? g->name : NULL};

        if (g)
                act_partition(e, vm, g, &t);
}

/* The freeze's decision (decide/freeze.h): cgroup.freeze through the actuator, which audits it and journals its
 * original ("0"), so that a stop or `vmgov restore` thaws whatever the engine froze. A freeze that could not be
 * written is undone in the machine's state: it must not wait to thaw a VM that runs. */
static void act_freeze(struct engine *e, struct vm_state *vm, const struct actuator_target *t)
{
        struct freeze_state *fz = &vm->ctl.freeze;
        bool freeze = fz->action == FREEZE_FREEZE;
        struct setting s;

        if (fz->action == FREEZE_NONE)
                return;
        fz->action = FREEZE_NONE; /* acted on once, even on a tick the laws skip */
        actuator_freeze_setting(freeze, &s);
        int r = actuator_apply(e->act, t, &s, fz->reason ? fz->reason : "freeze");
        count(e, vm, s.file, r);
        if (freeze && r < 0) {
                fz->frozen = false;
                fz->freezes--;
                return;
        }
        bool counted_frozen = vm->counters.freezes > vm->counters.freezes_ended;
        if (freeze && !counted_frozen) {
                vm->counters.freezes++;
                e->totals.freezes++;
        } else if (!freeze && counted_frozen) {
                vm->counters.freezes_ended++;
                e->totals.freezes_ended++;
        }
}

/* Write what the laws want (the policy's baseline until they move it); each change says why. */
void act_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now)
{
        const struct group_policy *g = vm_group_policy(e, vm);
        struct setting settings[SETTINGS_MAX];
        char why[600];
        size_t n;
        int r;

        if (!g)
                return;
        r = actuator_plan(&vm->ctl.limits, e->page_size, settings, ELEMENTSOF(settings), &n);
        if (r < 0) {
                log_err_errno(r, "[group %s]: cannot format its limits: %m", g->name);
                return;
        }
        /* past the fd budget its cgroup is not held: opened for this act */
        _cleanup_close_ int once =
                vm->cgroup_fd < 0 && !e->dry_run ? cgroupfs_open_dir(e->mount_fd, vm_cgroup(vm)) : -1;
        struct actuator_target t = {
                .vm = vm_name(&vm->id),
                .uuid = vm->id.uuid,
                .pid = vm->id.pid,
                .group = g->name,
                .cgroup = vm_cgroup(vm),
                .cgroup_fd = vm->cgroup_fd >= 0 ? vm->cgroup_fd : once,
        };
        /* a reload: what the policy no longer sets goes back to what it was before the engine */
        char reloaded[700] = "";
        if (vm->act_generation && vm->act_generation != g->generation && vm->cgroup_fd >= 0) {
                snprintf(reloaded, sizeof(reloaded), "policy reloaded: no longer set by [group %s] at %s:%u", g->name,
                         g->file, g->line);
                count(e, vm, "", MIN(actuator_give_back(e->act, &t, settings, n, reloaded), 0));
                vm->act_settled = 0; /* the threads' children too, whatever the VM's own plan */
        }
        vm->act_generation = g->generation;
        uint64_t plan = settings_hash(&t, settings, n);
        if (vm->threads) /* a map read again may have made other children */
                plan = index_hash(plan, &vm->threads_read_usec, sizeof(vm->threads_read_usec));
        if (g->cpu.partition != CPU_PARTITION_NO) /* a reload may change the chain (any group's AllowedCPUs=) */
                plan = index_hash(plan, &g->generation, sizeof(g->generation));
        if (plan != vm->act_settled || now >= vm->act_recheck_usec) {
                unsigned errors = e->act->errors;
                policy_reason(g, why, sizeof(why)); /* formatted only when there is something to apply */
                e->act_missing = false;
                for (size_t i = 0; i < n; i++) {
                        int knob = control_knob_of_file(settings[i].file);
                        const char *reason = knob >= 0 && vm->ctl.reason[knob] ? vm->ctl.reason[knob] : why;
                        if (controller_ok(e, settings[i].controller))
                                count(e, vm, settings[i].file, actuator_apply(e->act, &t, &settings[i], reason));
                }
                act_threads(e, vm, g, &t, why, reloaded[0] ? reloaded : NULL);
                act_partition(e, vm, g, &t);
                /* a refused or failed write is tried again at the next tick; a file the cgroup lacks is settled */
                vm->act_settled = e->act->errors == errors ? plan : 0;
                vm->act_recheck_usec = now + (e->act_missing ? ACT_MISSING_USEC : ACT_RECHECK_USEC) +
                                       (uint64_t)(vm->id.pid % ACT_STAGGER_SLOTS) * 100000ULL;
        }
        act_memory_reclaim(e, vm, g, &t);
        act_freeze(e, vm, &t);
        act_net(e, vm, g, &t);
}

void act_stage_release_vm(struct engine *e, struct vm_state *vm)
{
        if (vm->counters.freezes > vm->counters.freezes_ended) /* gone while frozen: no longer held frozen */
                e->totals.freezes_ended++;
        e->ifb_gc_due |= vm->egress_shaped;
}

void act_stage_release(struct engine *e)
{
        /* The kernel removes a tap and its qdiscs with the VM, but not the ifb that shaped its egress. Only then: a
         * collection lists every link, which every VM's exit would otherwise pay for. */
        if (e->netshape && !e->dry_run && e->ifb_gc_due)
                (void)netshape_gc(e->netshape);
        e->ifb_gc_due = false;
}
