/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "act/actuator.h"
#include "kernel/cgroupfs.h"
#include "policy/config.h"
#include "decide/control.h"
#include "kernel/signals.h"
#include "publish/metrics.h"
#include "sense/schedlat.h"
#include "sense/sense.h"
#include "publish/snapshot.h"
#include "kernel/vm.h"

/*
 * The engine: owns all state and runs the tick (discover → place → act → report) once or in an epoll loop over a
 * timerfd and a signalfd (SIGTERM/SIGINT: restore the originals and stop; SIGHUP: reload the policy, keeping the
 * old one if the new one is refused).
 */

struct engine_options {
        const char *policy_path;
        const char *proc_root;    /* "/proc" or a fixture tree */
        const char *cgroup_root;  /* overrides CgroupRoot= when set */
        const char *audit_log;    /* overrides AuditLog= when set */
        const char *metrics_file; /* overrides MetricsFile= when set ("none": no metrics) */
        uint64_t interval_usec;   /* overrides Interval= when non-zero */
        bool dry_run;             /* or DryRun=yes in the policy */
        const char *record_path;  /* append each tick's signals here (vmgov replay reads them) */
        const char *state_path;   /* the journal of originals; NULL: STATEFILE_DEFAULT */
        const char *status_path;  /* run's live view for status; NULL: SNAPSHOT_DEFAULT; "none": not written */
        bool sense;               /* load the sensors (eBPF): run and once; not status, check, restore */
        bool no_proc_events;      /* scan every tick only (benchmarks, or a kernel whose connector misbehaves) */
};

/* One governed (or deliberately unmanaged) QEMU process. */
struct vm_state {
        struct vm_identity id;
        char group[GROUP_NAME_MAX + 1]; /* "" = unmanaged */
        char cgroup[4096];              /* target cgroup, relative to the mount */
        bool own;                       /* the engine created the cgroup (and removes it when the VM is gone) */
        int cgroup_fd;                  /* held, -1 until placed (always in dry-run for a new cgroup) */
        bool placed;
        bool refused;          /* placement refused: said once, not again every tick */
        bool seen;             /* mark and sweep over scans */
        struct vm_signals sig; /* this tick's */
        int sense_fd;          /* the cgroup sensed: its own, or in dry-run the one it is in if alone there */
        struct sense_vm *sensor;
        bool schedlat_tracked;
        bool sense_unavailable;     /* said once that it cannot be sensed yet */
        bool reclaim_missing_noted; /* said once that MemoryProbe=reclaim has no memory.reclaim here */
        uint64_t decided_usec;      /* CLOCK_REALTIME of the laws' last decision for it, 0 for none */
        char last_reason[SNAPSHOT_REASON_MAX];
        unsigned schedlat_id;
        struct control_state ctl; /* the laws' state and the limits they want */
        struct metrics_counters counters;
};

struct engine {
        struct engine_options opt;
        struct policy *policy;
        struct config_env env;
        bool dry_run;
        uint64_t interval_usec;
        int proc_fd;
        struct cgroup_mount mount;
        int mount_fd;
        char root_rel[4096]; /* the engine's CgroupRoot= relative to the mount */
        int audit_fd;
        struct actuator act;
        struct vm_state *vms;
        size_t n_vms;
        struct host_signals host;
        struct control_global ctl_global;
        struct control_vm *ctl_vms; /* scratch for control_tick, grown with vms */
        size_t ctl_vms_allocated;
        int record_fd;
        struct schedlat *schedlat; /* NULL for status */
        struct sense_host *host_sensor;
        struct procevents *procevents; /* NULL: scanning every tick only */
        struct netshape *netshape;     /* NULL: no network shaping (no netlink) */
        int net_fd;                    /* /sys/class/net */
        bool warned_netshape;
        struct metrics_counters totals;
        uint64_t last_tick_usec; /* how long the last tick took */
        bool warned_metrics;
        char **pending_rmdir; /* cgroups of exited VMs not empty yet (the exit event comes before the kernel
                               * takes the task out): removed on a later tick */
        size_t n_pending_rmdir;
        bool rescan; /* a VM exited between ticks: scan at once (its daemonized child may carry on) */
        bool swap;   /* the host has swap: anon memory is reclaimable */
        unsigned ticks;
        bool warned_controller[_CGROUP_CONTROLLER_MAX];
        unsigned placement_errors; /* VMs whose placement was refused or failed */
        bool snapshot_on;          /* run: write the live view each tick (and remove it at the end) */
        bool warned_snapshot;
        struct snapshot_text snapshot;
};

/* The host facts the policy loader needs: physical memory, device numbers, user names. */
void engine_config_env(struct config_env *ret);

/* Take ownership of policy. Returns 0 or -errno, logged. */
int engine_open(struct engine *e, const struct engine_options *opt, struct policy *policy);
/* One pass: discover, place, act. Returns 0 or a negative errno for errors that stop the engine. */
int engine_tick(struct engine *e);
/* Loop until SIGTERM/SIGINT. */
int engine_run(struct engine *e);
/* Restore the originals (unless dry-run) and release everything. Returns the number of restore failures. */
int engine_close(struct engine *e);

/* Why this host cannot enforce, in one sentence, or NULL if it can (cgroup2 with cpu, memory and io usable). */
int engine_probe(int proc_fd, char *why, size_t len);

/* vmgov restore: put back every original a previous engine journalled. Returns the number of failures or -errno. */
int engine_restore_journal(int proc_fd, const char *state_path);

/* The discovery callback: is exe (a basename) one of the policy's QEMU executables? userdata is the engine. */
bool engine_is_qemu_cb(const char *exe, void *userdata);

/* A VM's name for a log line or a table: escaped (it is hostile input), "(unnamed)" for none. */
const char *vm_display_name(const struct vm_identity *id, char *buf, size_t size);

/* status.c: print the running daemon's view (its status file), or, without a running daemon, the discovered VMs,
 * their current limits and their signals sampled over one interval; as tables or as one JSON object on stdout. */
int engine_status(struct engine *e, bool json);
