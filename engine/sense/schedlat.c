/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * schedlat's entry points, and only what picks and drives a mode: creating it (eBPF when the programs load, else
 * the schedstat fallback, else nothing, said once in the log), freeing it, naming the mode in use, and a VM's
 * tick handed to the reader of that mode. The rest: see sense/schedlat-internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/clock.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/ratelimit.h"
#include "sense/schedlat-internal.h"
#include "sense/schedlat.h"
#include "sense/sense.h"

/* ---- Lifecycle ---- */

int schedlat_new(const struct schedlat_options *o, struct schedlat **ret)
{
        _cleanup_free_ struct schedlat *s = NULL;
        char why[1100] = "";
        int r;

        if (o->proc_fd < 0 && o->proc_fd != AT_FDCWD)
                return -EBADF;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->proc_fd = o->proc_fd;
        s->sys_fd = o->sys_fd;
        s->max_vms = o->max_vms ?: SCHEDLAT_DEFAULT_MAX_VMS;
        s->max_vcpus = o->max_vcpus ?: MAX(SCHEDLAT_DEFAULT_MAX_VCPUS, SCHEDLAT_VCPUS_PER_VM * s->max_vms);
        s->cgroups_fd = s->cgroup_hist_fd = s->vcpus_fd = s->vcpu_hist_fd = -1;

        s->vms = calloc(s->max_vms, sizeof(*s->vms));
        if (!s->vms)
                return -ENOMEM;

        if (o->use == SCHEDLAT_USE_SCHEDSTAT) {
                snprintf(why, sizeof(why), "disabled by configuration");
                r = -EOPNOTSUPP;
        } else {
                r = schedlat_bpf_new(s, o->use, why, sizeof(why));
                if (r == -ENOMEM)
                        goto fail;
        }

        if (r == 0)
                s->source = RUNQ_SOURCE_BPF;
        else if (faccessat(s->proc_fd, "self/schedstat", R_OK, 0) == 0) {
                s->source = RUNQ_SOURCE_SCHEDSTAT;
                s->mode = "schedstat";
                if (o->use == SCHEDLAT_USE_SCHEDSTAT)
                        log_info("eBPF not used (disabled by configuration); using schedstat");
                else
                        log_warn("eBPF unavailable: %s; using schedstat", why);
        } else {
                s->source = RUNQ_SOURCE_NONE;
                s->mode = "none";
                log_warn_errno(-errno,
                               "eBPF unavailable: %s; and /proc/self/schedstat cannot be read (%m; the kernel "
                               "needs CONFIG_SCHED_INFO): run-queue latency is not measured",
                               why);
        }
        if (s->source != RUNQ_SOURCE_BPF)
                schedlat_bpf_free(s); /* the buffers; nothing was loaded */
        *ret = TAKE_PTR(s);
        return 0;
fail:
        schedlat_bpf_free(s);
        free(s->vms);
        return log_err_errno(r, "schedlat: %m");
}

void schedlat_free(struct schedlat *s)
{
        if (!s)
                return;
        for (unsigned i = 0; i < s->max_vms; i++)
                if (s->vms[i].used)
                        schedlat_vm_clear(s, &s->vms[i]);
        schedlat_bpf_free(s);
        free(s->vms);
        free(s);
}

enum runq_source schedlat_source(const struct schedlat *s)
{
        return s->source;
}

const char *schedlat_mode(const struct schedlat *s)
{
        return s->mode;
}

bool schedlat_full(const struct schedlat *s)
{
        return s->full;
}

unsigned schedlat_max_vms(const struct schedlat *s)
{
        return s->max_vms;
}

/* ---- Per tick ---- */

/* A read that fails for a VM fails again each tick: said once per VM, then counted and summarised at most once a
 * minute, as the sensor's warnings are (sense.c). Keyed by the VM's slot and pid. */
static struct ratelimit_entry read_warn_entries[256];
static struct ratelimit read_warn_rl = {
        .interval_usec = 60ULL * 1000000ULL,
        .cap = ELEMENTSOF(read_warn_entries),
        .entries = read_warn_entries,
        .overflow = {.vm = RATELIMIT_OVERFLOW_VM},
};

static uint64_t read_warn_key(unsigned id, pid_t pid)
{
        return (uint64_t)id << 32 | (uint32_t)pid;
}

void schedlat_read_warn_forget(unsigned id, pid_t pid)
{
        ratelimit_forget_vm(&read_warn_rl, read_warn_key(id, pid));
}

static void read_warn(const struct vm_entry *vm, unsigned id, int r)
{
        log_repeat_errno(&read_warn_rl, read_warn_key(id, vm->pid), 0, monotonic_usec(), LOG_WARNING, r,
                         "schedlat: reading the run-queue latency of pid %d: %m", (int)vm->pid);
}

int schedlat_read(struct schedlat *s, unsigned id, struct runq_latency *ret, struct schedlat_totals *ret_totals)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);
        struct runq_latency q = {.source = RUNQ_SOURCE_NONE};
        struct schedlat_totals t = {};
        int r = 0;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_BPF)
                r = schedlat_bpf_read(s, id, vm, &q, &t);
        else if (s->source == RUNQ_SOURCE_SCHEDSTAT)
                r = schedlat_schedstat_read(s, vm, &q, &t);
        if (r < 0) {
                q = (struct runq_latency){.source = RUNQ_SOURCE_NONE};
                t = (struct schedlat_totals){};
                read_warn(vm, id, r);
        }
        *ret = q;
        if (ret_totals)
                *ret_totals = t;
        return r;
}
