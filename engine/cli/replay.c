/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "act/actuator.h"
#include "kernel/audit.h"
#include "kernel/escape.h"
#include "decide/control.h"
#include "kernel/macro.h"
#include "policy/policy.h"
#include "publish/recorder.h"
#include "cli/replay.h"

#define REPLAY_PAGE_SIZE 4096

struct replay_vm {
        struct vm_identity id;
        struct vm_signals sig;
        struct control_state ctl;
        const struct group_policy *group;
        bool seen;
};

struct replay {
        struct replay_vm *vms;
        size_t n, allocated;
        struct control_vm *ctl_vms;
        struct control_global global;
};

static struct replay_vm *replay_vm_get(struct replay *rp, const struct vm_identity *id)
{
        for (size_t i = 0; i < rp->n; i++)
                if (rp->vms[i].id.pid == id->pid && rp->vms[i].id.start_time == id->start_time)
                        return &rp->vms[i];
        if (rp->n == rp->allocated) {
                size_t n = rp->allocated ? rp->allocated * 2 : 16;
                struct replay_vm *v = realloc(rp->vms, n * sizeof(*v));
                struct control_vm *c = realloc(rp->ctl_vms, n * sizeof(*c));
                if (v)
                        rp->vms = v;
                if (c)
                        rp->ctl_vms = c;
                if (!v || !c)
                        return NULL;
                rp->allocated = n;
        }
        struct replay_vm *vm = &rp->vms[rp->n];
        *vm = (struct replay_vm){};
        if (vm_identity_copy(&vm->id, id) < 0)
                return NULL;
        rp->n++;
        return vm;
}

static void print_limits(FILE *out, const struct limits *lim)
{
        struct setting s[SETTINGS_MAX];
        size_t n = 0;

        if (actuator_plan(lim, REPLAY_PAGE_SIZE, s, ELEMENTSOF(s), &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s%s=\"%s\"", i ? " " : "", s[i].file, s[i].value);
        if (n == 0)
                fprintf(out, "(none)");
}

/* One decision, one line: a reason may name a VM (the latency VM a batch VM yields to), escaped as the VM's name. */
static void print_decision(FILE *out, const struct control_vm *vm, uint64_t since_usec, const char *text,
                           unsigned *decisions)
{
        char reason[ESCAPE_TEXT_SIZE(CONTROL_REASON_MAX)], name[AUDIT_LOG_NAME_MAX];

        (*decisions)++;
        (void)escape_text(text, reason, sizeof(reason));
        fprintf(out, "+%.1fs %s [%s] %s\n", since_usec / 1e6, audit_escape_for_log(vm->name, name, sizeof(name)),
                vm->group->name, reason);
}

int replay_run(FILE *in, const char *in_name, const struct policy *p, FILE *out, FILE *err)
{
        struct recorded_tick t = {0};
        struct replay rp = {0};
        uint64_t first = 0;
        unsigned line = 0, ticks = 0, decisions = 0;
        char name[AUDIT_LOG_NAME_MAX];
        int r;

        while ((r = recorder_read_tick(in, &t, &line)) > 0) {
                size_t n = 0;

                if (!ticks++)
                        first = t.now_usec;
                for (size_t i = 0; i < t.n_vms; i++) {
                        const struct group_policy *g = policy_match(p, &t.vms[i].id);
                        if (!g)
                                continue;
                        struct replay_vm *vm = replay_vm_get(&rp, &t.vms[i].id);
                        if (!vm) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        vm->group = g;
                        vm->sig = t.vms[i].sig;
                        /* The replayed kernel holds what the laws decided. */
                        vm->sig.memory_high = vm->ctl.initialized ? vm->ctl.memory_high_written : LIMIT_MAX;
                }
                for (size_t i = 0; i < rp.n; i++)
                        for (size_t j = 0; j < t.n_vms; j++)
                                if (rp.vms[i].id.pid == t.vms[j].id.pid &&
                                    rp.vms[i].id.start_time == t.vms[j].id.start_time)
                                        rp.ctl_vms[n++] =
                                                (struct control_vm){rp.vms[i].id.name ? rp.vms[i].id.name : "(unnamed)",
                                                                    rp.vms[i].group, &rp.vms[i].sig, &rp.vms[i].ctl};
                control_tick(rp.ctl_vms, n, &t.host, &p->engine.host, &rp.global, t.now_usec, REPLAY_PAGE_SIZE);
                freeze_tick(rp.ctl_vms, n, &t.host, &p->engine.host, &rp.global.freeze, t.now_usec);
                for (size_t i = 0; i < n; i++) {
                        const struct control_state *st = rp.ctl_vms[i].state;
                        for (int k = 0; k < _KNOB_MAX; k++)
                                if (st->reason[k])
                                        print_decision(out, &rp.ctl_vms[i], t.now_usec - first, st->reason[k],
                                                       &decisions);
                        if (st->freeze.action != FREEZE_NONE && st->freeze.reason)
                                print_decision(out, &rp.ctl_vms[i], t.now_usec - first, st->freeze.reason, &decisions);
                }
        }
        if (r < 0) {
                fprintf(err, "%s:%u: not a signal recording line (or a broken one)\n", in_name, line);
                goto finish;
        }

        fprintf(out, "replayed %u ticks (%.1fs), %zu VMs, %u decisions\n", ticks,
                ticks ? (t.now_usec - first) / 1e6 : 0.0, rp.n, decisions);
        for (size_t i = 0; i < rp.n; i++) {
                const struct control_state *st = &rp.vms[i].ctl;
                fprintf(out, "  %s [%s]: ", audit_escape_for_log(vm_name(&rp.vms[i].id), name, sizeof(name)),
                        rp.vms[i].group->name);
                print_limits(out, &st->limits);
                fprintf(out, "; changes cpu.weight %u cpu.max %u memory.high %u io.max %u; direction changes %u",
                        st->changes[KNOB_CPU_WEIGHT], st->changes[KNOB_CPU_MAX], st->changes[KNOB_MEMORY_HIGH],
                        st->changes[KNOB_IO_MAX],
                        st->direction_changes[KNOB_CPU_WEIGHT] + st->direction_changes[KNOB_CPU_MAX] +
                                st->direction_changes[KNOB_MEMORY_HIGH] + st->direction_changes[KNOB_IO_MAX]);
                if (rp.vms[i].group->adapt.burst)
                        fprintf(out, "; changes cpu.max.burst %u, direction changes %u", st->changes[KNOB_CPU_BURST],
                                st->direction_changes[KNOB_CPU_BURST]);
                if (st->host_memory_given)
                        fprintf(out, "; gave the host %llu bytes", (unsigned long long)st->host_memory_given);
                if (st->freeze.freezes)
                        fprintf(out, "; frozen %u times, %.1fs in all%s", st->freeze.freezes,
                                freeze_frozen_usec(&st->freeze, t.now_usec) / 1e6,
                                st->freeze.frozen ? ", frozen at the end" : "");
                fputc('\n', out);
        }
        r = 0;
finish:
        recorder_tick_done(&t);
        for (size_t i = 0; i < rp.n; i++) {
                vm_identity_done(&rp.vms[i].id);
                control_state_done(&rp.vms[i].ctl);
        }
        free(rp.vms);
        free(rp.ctl_vms);
        return r;
}
