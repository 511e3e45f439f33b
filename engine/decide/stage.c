/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decide stage: the engine's VMs → the control laws' input, and their last decision kept for status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/stage.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "policy/policy.h"

/* The last decision per VM, for status. */
static void note_decision(struct vm_state *vm, uint64_t wall_usec)
{
        if (!vm_managed(vm) || !vm->ctl.initialized)
                return;
        for (int k = 0; k < _KNOB_MAX; k++)
                if (vm->ctl.reason[k]) {
                        char *copy = strdup(vm->ctl.reason[k]);
                        if (!copy)
                                continue;
                        free(vm->last_reason);
                        vm->last_reason = copy;
                        vm->decided_usec = wall_usec;
                }
        if (vm->ctl.freeze.action != FREEZE_NONE && vm->ctl.freeze.reason) {
                char *copy = strdup(vm->ctl.freeze.reason);
                if (copy) {
                        free(vm->last_reason);
                        vm->last_reason = copy;
                        vm->decided_usec = wall_usec;
                }
        }
}

void decide_stage(struct engine *e, uint64_t now)
{
        size_t n = 0;

        if (GREEDY_REALLOC(e->ctl_vms, e->ctl_vms_allocated, e->n_vms) < 0) {
                log_err("out of memory: the control laws skip this tick");
                return;
        }
        for (size_t i = 0; i < e->n_vms; i++) {
                struct vm_state *vm = &e->vms[i];
                const struct group_policy *g = vm_managed(vm) ? vm_group_policy(e, vm) : NULL;
                if (g)
                        e->ctl_vms[n++] = (struct control_vm){vm_name(&vm->id), g, &vm->sig, &vm->ctl};
        }
        control_tick(e->ctl_vms, n, &e->host, &e->policy->engine.host, &e->ctl_global, now, e->page_size);
        freeze_tick(e->ctl_vms, n, &e->host, &e->policy->engine.host, &e->ctl_global.freeze, now);

        uint64_t wall = audit_now_usec();
        for (size_t i = 0; i < e->n_vms; i++)
                note_decision(&e->vms[i], wall);
}

void decide_stage_release(struct engine *e, struct vm_state *vm)
{
        (void)e;
        control_state_done(&vm->ctl);
        vm->last_reason = mfree(vm->last_reason);
}

void decide_stage_vm(struct engine *e, struct vm_state *vm, uint64_t now)
{
        struct control_vm c = {vm_name(&vm->id), vm_group_policy(e, vm), &vm->sig, &vm->ctl};

        vm->sig = (struct vm_signals){0};
        /* the host's laws wait for the tick, which weighs every VM */
        control_tick(&c, 1, &e->host, NULL, &e->ctl_global, now, e->page_size);
}
