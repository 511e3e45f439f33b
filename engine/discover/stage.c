/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The discover stage: /proc (a scan, or one exec event) → the engine's table of VMs. Reads, never writes. */
#include <errno.h>
#include <stdlib.h>

#include "discover/discover.h"
#include "discover/stage.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "policy/policy.h"

bool discover_stage_is_qemu(const char *exe, void *userdata)
{
        const struct engine *e = userdata;
        return policy_is_qemu_exe(e->policy, exe);
}

static struct vm_state *vm_find(struct engine *e, const struct vm_identity *id)
{
        for (size_t i = 0; i < e->n_vms; i++)
                if (e->vms[i].id.pid == id->pid && e->vms[i].id.start_time == id->start_time)
                        return &e->vms[i];
        return NULL;
}

/* Add a VM to the table, or refresh the identity of one it holds (its cgroup may have changed). */
static int vm_track(struct engine *e, const struct vm_identity *id, struct vm_state **ret)
{
        struct vm_state *vm = vm_find(e, id);
        char name[AUDIT_LOG_NAME_MAX];

        if (!vm) {
                if (GREEDY_REALLOC(e->vms, e->vms_allocated, e->n_vms + 1) < 0)
                        return -ENOMEM;
                vm = &e->vms[e->n_vms++];
                *vm = (struct vm_state){.id = *id, .cgroup_fd = -1, .sense_fd = -1};
                log_info("found VM %s (pid %d, uuid %s, %s) in cgroup %s", vm_display_name(id, name, sizeof(name)),
                         (int)id->pid, id->uuid[0] ? id->uuid : "none", id->exe, id->cgroup);
                if (id->name_truncated)
                        log_warn("VM pid %d: its -name is longer than %d bytes and was cut", (int)id->pid, VM_NAME_MAX);
        } else
                vm->id = *id;
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
        _cleanup_free_ struct vm_identity *ids = NULL;
        struct vm_state *vm;
        size_t n = 0;
        int r;

        r = discover_vms_scan(e->proc_fd, discover_stage_is_qemu, e, &ids, &n);
        if (r < 0)
                return log_err_errno(r, "scan %s: %m", e->opt.roots.proc);
        for (size_t i = 0; i < e->n_vms; i++)
                e->vms[i].seen = false;
        for (size_t i = 0; i < n; i++) {
                r = vm_track(e, &ids[i], &vm);
                if (r < 0)
                        return log_err_errno(r, "out of memory");
        }
        count_gone(e);
        return 0;
}

int discover_stage_exec(struct engine *e, pid_t pid, struct vm_state **ret_vm)
{
        struct vm_identity id;
        int r;

        *ret_vm = NULL;
        r = discover_vm_identify(e->proc_fd, pid, discover_stage_is_qemu, e, &id);
        if (r <= 0)
                return r == -ENOMEM ? r : 0;
        r = vm_track(e, &id, ret_vm);
        if (r < 0)
                return log_err_errno(r, "out of memory");
        return 0;
}

bool discover_stage_exit(struct engine *e, pid_t pid)
{
        bool found = false;

        for (size_t i = 0; i < e->n_vms; i++)
                if (e->vms[i].id.pid == pid) {
                        e->vms[i].seen = false;
                        found = true;
                }
        count_gone(e);
        return found;
}
