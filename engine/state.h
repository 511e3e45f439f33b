/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "decide/control.h"
#include "kernel/audit.h"
#include "kernel/cgroupfs.h"
#include "kernel/index.h"
#include "kernel/signals.h"
#include "kernel/vm.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "publish/metrics.h"
#include "publish/snapshot.h"

/*
 * The engine's state: what every stage of a tick reads and updates, and nothing more. A tick is a pipeline
 *
 *   discover → place → sense → decide → act → publish
 *
 * (engine/tick.c), each stage one room with one entry point (STAGE/stage.h); engine.h is the engine's life. The objects
 * a stage owns (the actuator, the sensors, the proc connector, the tc socket) are held here only by pointer, so that a
 * stage sees the types of the stages before it in the spine, never of those after it: this header includes only
 * kernel/, policy/, the laws' state (decide/) and the counters publish/ reads.
 */

struct actuator;
struct exe_memos;
struct netshape;
struct placement_mover;
struct placement_ops;
struct procevents;
struct schedlat;
struct sense_host;
struct sense_vm;
struct vcpus_map;

/* Where the host's kernel interfaces are: the real ones (main.c names them), or a fixture tree standing for them
 * (tests). No path below main.c names a kernel interface of its own. */
struct host_roots {
        const char *proc; /* "/proc" */
        const char *sys;  /* "/sys": class/net (taps), kernel/btf (eBPF) */
        const char *root; /* "/": where the cgroup2 mount point that proc/self/mountinfo names is */
};

struct engine_options {
        const char *policy_path;
        struct host_roots roots;
        const char *cgroup_root;   /* overrides CgroupRoot= when set */
        const char *audit_log;     /* overrides AuditLog= when set */
        const char *metrics_file;  /* overrides MetricsFile= when set ("none": no metrics) */
        uint64_t interval_usec;    /* overrides Interval= when non-zero */
        bool dry_run;              /* or DryRun=yes in the policy */
        const char *record_path;   /* append each tick's signals here (vmgov replay reads them) */
        const char *state_path;    /* the journal of originals; NULL: STATEFILE_DEFAULT */
        const char *command;       /* "run", "once": who holds the journal's lock, as a refused one is told */
        const char *status_path;   /* run's live view for status; NULL: SNAPSHOT_DEFAULT; "none": not written */
        bool sense;                /* load the sensors (eBPF): run and once; not status, check, restore */
        bool no_proc_events;       /* scan every tick only (benchmarks, or a kernel whose connector misbehaves) */
        bool no_pressure_triggers; /* no PSI triggers: pressure is acted on at the interval only */
        const struct placement_ops *placement; /* NULL: libcgroup (placement_libcgroup_ops) */
};

/* The PSI triggers' window (sense/stage.c), and the least time between two ticks triggers bring. */
#define ENGINE_TRIGGER_WINDOW_USEC 1000000ULL
#define ENGINE_TRIGGER_GAP_USEC    250000ULL
/* Within a tick, how often the process events that came meanwhile are handled, between two VMs (tick.c). */
#define ENGINE_EVENTS_GAP_USEC 5000ULL

/* A process that was refused as QEMU because its executable is not trusted (discover/exetrust.h): said once. */
struct discover_refusal {
        pid_t pid;
        uint64_t start_time;
        bool seen; /* in the scan that is running: mark and sweep, as the VMs */
};
#define DISCOVER_REFUSALS_MAX 256 /* the budget; beyond it, further refusals are made without a word */

/* A process a VM forked, or one of its descendants: when the VM's process exits, the heirs still alive are looked at
 * (QEMU -daemonize: the VM runs on in a grandchild, which brings no exec event). */
struct discover_heir {
        pid_t pid; /* 0: exited */
        pid_t vm;  /* the VM it descends from */
};
#define DISCOVER_HEIRS_MAX 4096 /* the budget; beyond it a VM's exit costs a scan */
#define DISCOVER_SAFETY_SCAN_USEC                                                                                      \
        60000000ULL /* with events, /proc is scanned once a minute to catch what they missed */

/* One governed (or deliberately unmanaged) QEMU process. */
struct vm_state {
        /* discover */
        struct vm_identity id;
        int pid_fd; /* its /proc/PID directory, held since discovery: pins the process, not its number (-1: none) */
        bool seen;  /* mark and sweep over scans; false after a scan (or an exit event): the VM is gone */
        /* place */
        char group[GROUP_NAME_MAX + 1];   /* "" = unmanaged */
        const struct group_policy *match; /* what policy_match() said, for the policy of match_generation */
        uint64_t match_generation;        /* 0: ask again (a new identity, another cgroup) */
        char *cgroup;                     /* target cgroup, relative to the mount; NULL until placed (vm_cgroup) */
        bool own;                         /* the engine created the cgroup (and removes it when the VM is gone) */
        int cgroup_fd;                    /* held, -1 until placed (always in dry-run for a new cgroup) */
        bool placed;
        bool refused;               /* placement refused: said once, not again every tick */
        struct vcpus_map *threads;  /* which thread is which, for a group that places them apart (NULL: not read) */
        uint64_t threads_read_usec; /* when it was last read (CLOCK_MONOTONIC) */
        bool threads_new;           /* the process made a thread since (proc connector): read it again */
        char *threads_text;         /* for status: how they are placed, or why they stay together (NULL: not asked) */
        uint64_t threads_gen;       /* bumped at each read of the map */
        bool threads_said;          /* said once why its threads stay together */
        /* sense */
        struct vm_signals sig; /* this tick's */
        int sense_fd;          /* the cgroup sensed: its own, or in dry-run the one it is in if alone there */
        struct sense_vm *sensor;
        bool schedlat_tracked;
        bool threads_made; /* made a thread since its threads were last listed (proc connector): list them again */
        bool schedlat_fd_dropped; /* its cgroup is not held by schedlat (the fd budget) */
        unsigned schedlat_id;
        bool sense_unavailable; /* said once that it cannot be sensed yet */
        /* a row per threaded child (vcpuN, iothreadK, emulator) while its threads are placed apart, else NULL */
        struct thread_signals *thread_sig;
        size_t n_thread_sig;
        uint64_t thread_sig_gen;       /* the map generation the rows were made for */
        uint64_t thread_sig_usec;      /* when they were read (CLOCK_MONOTONIC) */
        uint64_t threads_schedlat_gen; /* the map generation whose vCPU threads schedlat measures by index */
        int trigger_fd[3];       /* PSI triggers on its cpu, memory and io pressure (-1: none), in the daemon's epoll */
        uint32_t trigger_ppm[3]; /* each one's share of its window: the pressure a fired trigger vouches for */
        uint8_t triggered;       /* bit k: trigger k fired since the last tick sensed it */
        uint64_t trigger_gen;    /* the policy generation they were armed for (0: none) */
        /* decide */
        struct control_state ctl; /* the laws' state and the limits they want */
        uint64_t decided_usec;    /* CLOCK_REALTIME of the laws' last decision for it, 0 for none */
        char *last_reason;        /* of that decision, for status (NULL for none) */
        /* act */
        bool reclaim_missing_noted; /* said once that MemoryProbe=reclaim has no memory.reclaim here */
        bool egress_shaped;         /* its taps' egress went through an ifb, which outlives it */
        bool taps_skip_noted;       /* said once which of its taps are not shaped, and why */
        uint64_t act_settled;       /* hash of the cgroup settings last applied without an error (0: none) */
        uint64_t act_recheck_usec;  /* when to read them back anyway (CLOCK_MONOTONIC): someone may have changed one */
        uint64_t act_generation;    /* the policy generation last acted for: a reload gives back what it drops */
        struct metrics_counters counters;
        /* publish */
        /* its counters and histograms, for the metrics: on the heap from its first tick with a metrics file (NULL
         * without one: 1.4 KB a VM that nothing reads) */
        struct metrics_totals *totals;
};

/* The counters of a VM that exited, kept for a VM of the same name, uuid and group that comes back. */
struct retired_totals {
        uint64_t key; /* hash of name, uuid and group */
        unsigned tick;
        struct metrics_totals totals;
};

struct engine {
        struct engine_options opt;
        struct policy *policy;
        struct config_env env;
        bool dry_run;
        uint64_t interval_usec;
        uint64_t page_size;
        unsigned ticks;

        /* the host's roots */
        int proc_fd;
        int sys_fd;
        int root_fd; /* "/": where the executables' paths are checked (exetrust.h) */
        struct cgroup_mount mount;
        int mount_fd;
        int net_fd;          /* /sys/class/net */
        char root_rel[4096]; /* the engine's CgroupRoot= relative to the mount */

        /* file descriptors: what the engine may hold for its VMs (RLIMIT_NOFILE, less ENGINE_FD_RESERVE) */
        uint64_t fd_limit;
        bool fd_budget_said;

        /* the VMs */
        struct vm_state *vms;
        size_t n_vms, vms_allocated;
        struct index vm_by_pid;    /* id.pid → position in vms */
        struct index vm_by_cgroup; /* cgroup (placed) → position in vms; checked on read, as entries go stale */
        size_t n_gone;             /* VMs marked gone (seen == false) and not yet forgotten */

        /* discover */
        struct procevents *procevents; /* NULL: scanning every tick only */
        bool events;                   /* process events drive discovery: /proc is scanned only as a safety net */
        bool rescan;                   /* scan /proc at the next tick, at once (events were lost) */
        bool in_tick;                  /* events handled within a tick: exits are marked, forgotten after its stage */
        int events_error;              /* what such a handling failed with (-ENOMEM), for the tick to return */
        uint64_t next_scan_usec;       /* the safety net's next scan (CLOCK_MONOTONIC) */
        unsigned scans;                /* full scans of /proc so far */
        struct discover_heir *heirs;   /* processes VMs forked: QEMU -daemonize runs the VM in a grandchild */
        size_t n_heirs, heirs_allocated, n_heirs_dead;
        struct index heir_by_pid;
        bool heirs_full; /* the budget was reached: a VM's exit then costs a scan */
        struct discover_refusal refusals[DISCOVER_REFUSALS_MAX];
        size_t n_refusals;
        bool refusals_full;          /* said once that the budget is reached */
        struct exe_memos *exe_memos; /* executables found trusted lately (discover/exetrust.h); NULL: none yet */

        /* place */
        const struct placement_ops *placement;
        struct placement_mover *mover; /* how the actuator's restore puts moved VMs back */
        char **pending_rmdir;          /* cgroups of exited VMs not empty yet (the exit event comes before the kernel
                                        * takes the task out): removed on a later tick */
        size_t n_pending_rmdir, pending_rmdir_allocated;
        unsigned placement_errors; /* VMs whose placement was refused or failed */

        /* sense */
        struct schedlat *schedlat; /* NULL for status */
        struct sense_host *host_sensor;
        struct host_signals host;
        bool swap;                  /* the host has swap: anon memory is reclaimable */
        unsigned schedlat_max_vms;  /* the eBPF maps' size: for the VMs at start-up, grown when full */
        bool warned_schedlat_full;  /* they cannot grow further: said once */
        int epoll_fd;               /* the daemon's loop, where PSI triggers are watched; -1 without one (once) */
        struct index trigger_by_fd; /* a trigger's fd → its VM's pid, checked on use (fds are reused) */
        size_t trigger_index_puts;  /* entries in it, live and stale */
        unsigned triggered;         /* ticks PSI triggers brought so far */
        int host_trigger_fd[2];     /* on /proc/pressure/memory and io (-1: none) */
        uint32_t host_trigger_ppm[2];
        uint8_t host_triggered;
        uint64_t host_trigger_gen;
        uint64_t triggered_usec; /* when the last one ran (CLOCK_MONOTONIC) */
        unsigned triggers;       /* armed now */

        /* decide */
        struct control_global ctl_global;
        struct control_vm *ctl_vms; /* scratch for control_tick, grown with vms */
        size_t ctl_vms_allocated;

        /* act */
        struct actuator *act;
        struct netshape *netshape; /* NULL: no network shaping (no netlink) */
        int audit_fd;
        bool warned_netshape;
        bool ifb_gc_due; /* a VM whose egress was shaped is gone: collect its ifb */
        bool warned_controller[_CGROUP_CONTROLLER_MAX];
        bool act_missing; /* a file of the VM being acted on was not there (act/stage.c) */

        /* publish */
        struct metrics_counters totals;
        uint64_t last_tick_usec; /* how long the last tick took */
        int record_fd;
        bool warned_metrics;
        struct retired_totals *retired; /* at most RETIRED_TOTALS_MAX, the oldest dropped first */
        size_t n_retired, retired_allocated;
        bool snapshot_on; /* run: write the live view each tick (and remove it at the end) */
        bool warned_snapshot;
        struct snapshot_text snapshot;
};

/* A VM's name for a log line or a table: escaped (it is hostile input), "(unnamed)" for none. */
static inline const char *vm_display_name(const struct vm_identity *id, char *buf, size_t size)
{
        return id->name ? audit_escape_for_log(id->name, buf, size) : "(unnamed)";
}

/* Kept free for what the engine opens for a moment (a /proc scan, the files it rewrites, netlink, a VM's files at a
 * tick when they are not held) whatever it holds for its VMs. */
#define ENGINE_FD_RESERVE 128

/*
 * The fd budget, RLIMIT_NOFILE less the reserve, in two halves. In the first, a VM gets all it can use held: its
 * /proc/PID, its cgroup, its sensing files (one pread each per tick). In the second, only its cgroup: its files are
 * opened at each tick through it, and its pid is checked by number; so that as many VMs as there are fds left stay
 * sensed. Past the budget, nothing is held: its cgroup is opened for each act, and it is governed unsensed.
 * generous: the first half's bound, else the whole budget's.
 */
static inline uint64_t engine_fd_bound(const struct engine *e, bool generous)
{
        uint64_t budget = e->fd_limit > ENGINE_FD_RESERVE ? e->fd_limit - ENGINE_FD_RESERVE : 0;

        return generous ? budget / 2 : budget;
}

/* Are there n more fds to hold below the bound? The lowest free fd is where the next open lands. */
static inline bool engine_fds_room(const struct engine *e, unsigned n, bool generous)
{
        int probe = fcntl(e->proc_fd, F_DUPFD_CLOEXEC, 0);

        if (probe < 0)
                return false;
        close(probe);
        return (uint64_t)probe + n <= engine_fd_bound(e, generous);
}

/* Said once, when the budget first turns a VM's fds away: how many VMs, and the limit. */
void engine_fds_spent(struct engine *e);

/* Hold *fd, just opened for a VM, only if it lies below the bound; else close it (*fd = -1) and say so once. */
static inline void engine_fd_keep(struct engine *e, int *fd, bool generous)
{
        if (*fd >= 0 && (uint64_t)*fd >= engine_fd_bound(e, generous)) {
                close(*fd);
                *fd = -1;
                engine_fds_spent(e);
        }
}

/* The VM's group in the policy, or NULL: matched once for its identity and the policy in force, not at each stage of
 * each tick (globs over every group). */
static inline const struct group_policy *vm_group_policy(const struct engine *e, struct vm_state *vm)
{
        if (vm->match_generation != e->policy->generation) {
                vm->match = policy_match(e->policy, &vm->id);
                vm->match_generation = e->policy->generation;
        }
        return vm->match;
}

/* The VM's target cgroup, relative to the mount: "" until it is placed. */
static inline const char *vm_cgroup(const struct vm_state *vm)
{
        return vm->cgroup ? vm->cgroup : "";
}

/* A VM the engine governs: in a group, placed, not refused. */
static inline bool vm_managed(const struct vm_state *vm)
{
        return vm->group[0] && vm->placed && !vm->refused;
}

/* The next VM with this pid (start *iter at 0); NULL when there is none. O(1) on average. */
static inline struct vm_state *vm_next_by_pid(struct engine *e, pid_t pid, size_t *iter)
{
        uint32_t pos;

        while (index_next(&e->vm_by_pid, (uint64_t)pid, iter, &pos))
                if (pos < e->n_vms && e->vms[pos].id.pid == pid)
                        return &e->vms[pos];
        return NULL;
}

/* The next VM placed in cgroup (relative to the mount); NULL when there is none. O(1) on average. */
static inline struct vm_state *vm_next_by_cgroup(struct engine *e, const char *cgroup, size_t *iter)
{
        uint32_t pos;

        while (index_next(&e->vm_by_cgroup, index_key_string(cgroup), iter, &pos))
                if (pos < e->n_vms && e->vms[pos].cgroup && strcmp(e->vms[pos].cgroup, cgroup) == 0)
                        return &e->vms[pos];
        return NULL;
}

/* After vm->cgroup is set: index it. 0 or -ENOMEM. */
static inline int vm_index_cgroup(struct engine *e, const struct vm_state *vm)
{
        return index_put(&e->vm_by_cgroup, index_key_string(vm->cgroup), (uint32_t)(vm - e->vms));
}

/* After the table is compacted: index it afresh. 0 or -ENOMEM. */
static inline int vm_index_rebuild(struct engine *e)
{
        index_clear(&e->vm_by_pid);
        index_clear(&e->vm_by_cgroup);
        for (size_t i = 0; i < e->n_vms; i++) {
                if (index_put(&e->vm_by_pid, (uint64_t)e->vms[i].id.pid, (uint32_t)i) < 0)
                        return -ENOMEM;
                if (e->vms[i].cgroup && vm_index_cgroup(e, &e->vms[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}
