/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The discover stage: /proc (a scan, or one exec event) → the engine's table of VMs. Reads, never writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover/discover.h"
#include "discover/exetrust.h"
#include "discover/stage.h"
#include "kernel/clock.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "policy/policy.h"

/* Was this refusal said already? If not, remember it (within the budget) and return false. */
static bool refusal_said(struct engine *e, pid_t pid, uint64_t start_time)
{
        for (size_t i = 0; i < e->n_refusals; i++)
                if (e->refusals[i].pid == pid && e->refusals[i].start_time == start_time) {
                        e->refusals[i].seen = true;
                        return true;
                }
        if (e->n_refusals >= DISCOVER_REFUSALS_MAX) {
                if (!e->refusals_full)
                        log_warn("more than %d processes are refused as QEMU: the next ones are refused without a "
                                 "word",
                                 DISCOVER_REFUSALS_MAX);
                e->refusals_full = true;
                return true;
        }
        e->refusals[e->n_refusals++] = (struct discover_refusal){pid, start_time, true};
        return false;
}

static void refusals_unmark(struct engine *e)
{
        for (size_t i = 0; i < e->n_refusals; i++)
                e->refusals[i].seen = false;
}

/* After a scan: forget the refused processes that are gone (a pid reused later is said afresh). */
static void refusals_sweep(struct engine *e)
{
        size_t j = 0;

        for (size_t i = 0; i < e->n_refusals; i++)
                if (e->refusals[i].seen)
                        e->refusals[j++] = e->refusals[i];
        e->n_refusals = j;
        if (j < DISCOVER_REFUSALS_MAX)
                e->refusals_full = false;
}

static bool is_trusted_path(const char *path, const void *userdata)
{
        return policy_path_trusted(userdata, path);
}

/* The executable of a process whose name says QEMU: only root could have put it there, or the operator vouches for
 * its path. A refusal is said once per process (pid and start time), at info. */
static bool exe_trusted(struct engine *e, const struct discover_candidate *c)
{
        struct exe_facts f;
        struct exe_trust t;
        struct procfs_stat st;
        char why[2 * AUDIT_LOG_NAME_MAX + 128];
        int r;

        r = exe_facts_read_file(c->pid_fd, c->link, &f);
        if (r >= 0 && e->exe_memos && exe_memo_holds(e->exe_memos, &f, monotonic_usec()))
                return true;
        if (r >= 0)
                r = exe_facts_walk(e->root_fd, &f);
        if (errno_is_vanished(r)) {
                log_debug_errno(r, "pid %d: exited while its executable was checked: %m", (int)c->pid);
                return false;
        }
        if (r < 0) {
                t = (struct exe_trust){EXE_PATH_ELSEWHERE, 0};
                snprintf(why, sizeof(why), "its executable cannot be checked: %s", strerror(-r));
        } else {
                t = exe_trust_decide(&f, is_trusted_path, e->policy);
                if (exe_trust_ok(t)) {
                        if (!e->exe_memos)
                                e->exe_memos = calloc(1, sizeof(*e->exe_memos)); /* without it: walked each time */
                        if (e->exe_memos)
                                exe_memo_put(e->exe_memos, &f, monotonic_usec());
                        return true;
                }
                exe_trust_describe(&f, t, why, sizeof(why));
        }

        /* The start time tells this process from a later one with its pid. */
        if (procfs_stat_read(c->pid_fd, &st) < 0)
                return false;
        if (!refusal_said(e, c->pid, st.start_time))
                log_info("pid %d: not taken for QEMU, left alone: %s (QemuTrustedPaths= can vouch for a path)",
                         (int)c->pid, why);
        return false;
}

bool discover_stage_is_qemu(const struct discover_candidate *c, void *userdata)
{
        struct engine *e = userdata;

        if (!policy_is_qemu_exe(e->policy, c->exe))
                return false;
        return exe_trusted(e, c);
}

static struct vm_state *vm_find(struct engine *e, const struct vm_identity *id)
{
        struct vm_state *vm;

        for (size_t it = 0; (vm = vm_next_by_pid(e, id->pid, &it));)
                if (vm->id.start_time == id->start_time)
                        return vm;
        return NULL;
}

static const char *cgroup_display(const struct vm_identity *id, char *buf, size_t size)
{
        return audit_escape_for_log(id->cgroup, buf, size);
}

/* A new VM that the policy leaves alone for who runs it or where, rather than for its name: said once, here. */
static void say_unmanaged(struct engine *e, const struct vm_identity *id)
{
        char name[AUDIT_LOG_NAME_MAX], cg[AUDIT_LOG_NAME_MAX];
        enum policy_verdict why;

        (void)policy_match_why(e->policy, id, &why);
        if (why == POLICY_OTHER_USER)
                log_info("VM %s (pid %d) runs as uid %u, not root, and no group's MatchUser= names that user: left "
                         "unmanaged",
                         vm_display_name(id, name, sizeof(name)), (int)id->pid, (unsigned)id->uid);
        else if (why == POLICY_NO_GROUP)
                log_info("VM %s (pid %d) matches no group: left unmanaged", vm_display_name(id, name, sizeof(name)),
                         (int)id->pid);
        else if (why == POLICY_MACHINED)
                log_info("VM %s (pid %d) is libvirt's (cgroup %s): left unmanaged (ManageLibvirt=no)",
                         vm_display_name(id, name, sizeof(name)), (int)id->pid, cgroup_display(id, cg, sizeof(cg)));
}

/* Add a VM to the table, or refresh the identity of one it holds (its cgroup may have changed). The table takes
 * what id holds (id is left with nothing to release) when it keeps the VM. held_fd: the /proc/PID fd it was
 * identified through, held for a new VM (or -1: opened here); taken either way. */
static int vm_track(struct engine *e, struct vm_identity *id, int held_fd, struct vm_state **ret)
{
        struct vm_state *vm = vm_find(e, id);
        char name[AUDIT_LOG_NAME_MAX], cg[AUDIT_LOG_NAME_MAX];

        if (vm)
                safe_close(held_fd);
        if (!vm) {
                int pid_fd = held_fd >= 0 ? held_fd : discover_vm_hold(e->proc_fd, id);
                if (pid_fd == -ESRCH || pid_fd == -ENOENT) {
                        log_debug("pid %d: exited before it could be held", (int)id->pid);
                        *ret = NULL;
                        return 0;
                }
                engine_fd_keep(e, &pid_fd, true);
                if (pid_fd < 0) /* no fd to spare: its pid and start time are checked by number at every act */
                        log_debug_errno(pid_fd, "pid %d: cannot hold /proc/%d: %m", (int)id->pid, (int)id->pid);
                if (GREEDY_REALLOC(e->vms, e->vms_allocated, e->n_vms + 1) < 0) {
                        safe_close(pid_fd);
                        return -ENOMEM;
                }
                if (index_put(&e->vm_by_pid, (uint64_t)id->pid, (uint32_t)e->n_vms) < 0) {
                        safe_close(pid_fd);
                        return -ENOMEM;
                }
                vm = &e->vms[e->n_vms++];
                *vm = (struct vm_state){.pid_fd = pid_fd < 0 ? -1 : pid_fd,
                                        .cgroup_fd = -1,
                                        .sense_fd = -1,
                                        .trigger_fd = {-1, -1, -1}};
                log_info("found VM %s (pid %d, uuid %s, %s) in cgroup %s", vm_display_name(id, name, sizeof(name)),
                         (int)id->pid, id->uuid[0] ? id->uuid : "none", vm_exe(id), cgroup_display(id, cg, sizeof(cg)));
                if (id->name_truncated)
                        log_warn("VM pid %d: its -name is longer than %d bytes and was cut", (int)id->pid, VM_NAME_MAX);
                say_unmanaged(e, id);
                vm_identity_move(&vm->id, id); /* the table's now */
        } else {
                vm_identity_done(&vm->id);
                vm_identity_move(&vm->id, id);
                vm->match_generation = 0; /* -runas, a rewritten command line: matched again */
        }
        vm->seen = true;
        *ret = vm;
        return 0;
}

static void count_gone(struct engine *e)
{
        e->n_gone = 0;
        for (size_t i = 0; i < e->n_vms; i++)
                e->n_gone += !e->vms[i].seen;
}

int discover_stage(struct engine *e)
{
        struct vm_identity *ids = NULL;
        struct vm_state *vm;
        size_t n = 0;
        int r;

        refusals_unmark(e);
        e->scans++;
        r = discover_vms_scan(e->proc_fd, discover_stage_is_qemu, e, &ids, &n);
        if (r < 0)
                return log_err_errno(r, "scan %s: %m", e->opt.roots.proc);
        refusals_sweep(e);
        for (size_t i = 0; i < e->n_vms; i++)
                e->vms[i].seen = false;
        for (size_t i = 0; i < n; i++) {
                r = vm_track(e, &ids[i], -1, &vm);
                if (r < 0) {
                        vm_identities_free(ids, n);
                        return log_err_errno(r, "out of memory");
                }
        }
        vm_identities_free(ids, n);
        count_gone(e);
        return 0;
}

int discover_stage_exec(struct engine *e, pid_t pid, struct vm_state **ret_vm)
{
        struct vm_identity id;
        int pid_fd = -1, r;

        *ret_vm = NULL;
        r = discover_vm_identify_held(e->proc_fd, pid, discover_stage_is_qemu, e, &id, &pid_fd);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        r = vm_track(e, &id, pid_fd, ret_vm);
        vm_identity_done(&id);
        if (r < 0)
                return log_err_errno(r, "out of memory");
        return 0;
}

static struct discover_heir *heir_find(struct engine *e, pid_t pid)
{
        uint32_t pos;

        for (size_t it = 0; index_next(&e->heir_by_pid, (uint64_t)pid, &it, &pos);)
                if (pos < e->n_heirs && e->heirs[pos].pid == pid)
                        return &e->heirs[pos];
        return NULL;
}

/* Drop the exited heirs once they are half the table: the index is rebuilt, so that the cost stays linear. */
static void heirs_compact(struct engine *e)
{
        size_t j = 0;

        if (2 * e->n_heirs_dead < e->n_heirs)
                return;
        index_clear(&e->heir_by_pid);
        for (size_t i = 0; i < e->n_heirs; i++)
                if (e->heirs[i].pid) {
                        e->heirs[j] = e->heirs[i];
                        (void)index_put(&e->heir_by_pid, (uint64_t)e->heirs[j].pid, (uint32_t)j); /* room: fewer */
                        j++;
                }
        e->n_heirs = j;
        e->n_heirs_dead = 0;
}

static void heir_gone(struct engine *e, struct discover_heir *h)
{
        h->pid = 0;
        e->n_heirs_dead++;
        heirs_compact(e);
}

bool discover_stage_exit(struct engine *e, pid_t pid)
{
        struct vm_state *vm;
        struct discover_heir *h;
        bool found = false;

        for (size_t it = 0; (vm = vm_next_by_pid(e, pid, &it));)
                if (vm->seen) {
                        vm->seen = false;
                        e->n_gone++;
                        found = true;
                }
        if (!found && (h = heir_find(e, pid)))
                heir_gone(e, h);
        return found;
}

int discover_stage_fork(struct engine *e, pid_t parent, pid_t child)
{
        struct vm_state *vm;
        struct discover_heir *h;
        size_t it = 0;
        pid_t root = 0;

        if ((vm = vm_next_by_pid(e, parent, &it)) && vm->seen)
                root = parent;
        else if ((h = heir_find(e, parent)))
                root = h->vm;
        if (!root)
                return 0;
        if (e->n_heirs - e->n_heirs_dead >= DISCOVER_HEIRS_MAX) {
                if (!e->heirs_full)
                        log_debug("more than %d processes forked by VMs are followed: a VM's exit now costs a scan",
                                  DISCOVER_HEIRS_MAX);
                e->heirs_full = true;
                return 0;
        }
        if (GREEDY_REALLOC(e->heirs, e->heirs_allocated, e->n_heirs + 1) < 0 ||
            index_put(&e->heir_by_pid, (uint64_t)child, (uint32_t)e->n_heirs) < 0)
                return -ENOMEM;
        e->heirs[e->n_heirs++] = (struct discover_heir){child, root};
        return 0;
}

int discover_stage_heirs_take(struct engine *e, pid_t vm, pid_t *ret, size_t max)
{
        size_t n = 0;
        bool missing = e->heirs_full;

        for (size_t i = 0; i < e->n_heirs; i++) {
                struct discover_heir *h = &e->heirs[i];
                if (!h->pid || h->vm != vm)
                        continue;
                if (n < max)
                        ret[n++] = h->pid;
                else
                        missing = true;
                h->pid = 0;
                e->n_heirs_dead++;
        }
        heirs_compact(e);
        if (e->n_heirs - e->n_heirs_dead < DISCOVER_HEIRS_MAX)
                e->heirs_full = false;
        return missing ? -E2BIG : (int)n;
}

static bool scan_due(const struct engine *e, uint64_t now_usec)
{
        return !e->events || e->rescan || now_usec >= e->next_scan_usec;
}

int discover_stage_tick(struct engine *e, uint64_t now_usec)
{
        int r;

        if (!scan_due(e, now_usec))
                return 0;
        r = discover_stage(e);
        if (r < 0)
                return r;
        if (e->rescan) /* events were lost: threads made meanwhile too */
                for (size_t i = 0; i < e->n_vms; i++)
                        e->vms[i].threads_made = true;
        e->rescan = false;
        e->next_scan_usec = now_usec + DISCOVER_SAFETY_SCAN_USEC;
        return 0;
}

int discover_stage_vm_same(struct engine *e, const struct vm_state *vm)
{
        return discover_vm_verify_held(e->proc_fd, vm->pid_fd, &vm->id);
}

void discover_stage_release(struct engine *e, struct vm_state *vm)
{
        (void)e;
        vm->pid_fd = safe_close(vm->pid_fd);
        vm_identity_done(&vm->id);
}
