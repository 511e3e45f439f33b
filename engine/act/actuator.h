/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kernel/cgroupfs.h"
#include "kernel/cgvalues.h"
#include "kernel/index.h"
#include "kernel/resource_limits.h"

/*
 * From limits to kernel files. The plan half is pure: limits → the list of (file, value) settings, each in the
 * exact form the kernel reads back, so "write only when different" compares like with like. The apply half reads
 * the current value, writes only a difference (or, in dry-run, only logs it), records the original the first time
 * a file is changed, writes one audit line per change, and puts the originals back on request. It is the only
 * place that looks at dry-run.
 */

#define SETTINGS_MAX     (15 + 2 * IO_DEVICES_MAX)
#define SETTING_FILE_MAX 24

struct setting {
        char file[SETTING_FILE_MAX]; /* "cpu.max", "io.max", ... */
        enum cg_controller controller;
        unsigned major, minor;     /* io.max and io.latency only: the device this line is about */
        char ifname[IFNAMSIZ];     /* net.* only (netshape.h): the tap; such a setting is not a cgroup file */
        char value[CGV_VALUE_MAX]; /* what to write, as the kernel reads it back */
};

/* How settings that are not cgroup files (ifname set) are read and written: netshape_actuator_ops() fills them
 * in. read puts the current value, in the form of s->value, into buf. Without them (NULL), such settings fail
 * with -EOPNOTSUPP and are never recorded as originals. Both return 0 or -errno. */
struct actuator_net_ops {
        int (*read)(void *userdata, const struct setting *s, char *buf, size_t size);
        int (*write)(void *userdata, const struct setting *s);
        void *userdata;
};

/* Pure: the settings for limits. page_size rounds memory values the way the kernel stores them. */
int actuator_plan(const struct limits *lim, uint64_t page_size, struct setting *ret, size_t max, size_t *ret_n);

/* Pure: the current value of s's file (text as read) in the same form as s->value. io.max without a line for the
 * device is "MAJ:MIN rbps=max wbps=max riops=max wiops=max". -EINVAL when the text is not understood. */
int actuator_current_value(const struct setting *s, const char *file_text, uint64_t page_size, char *buf, size_t size);

/* Pure: what a freshly created cgroup holds for s's file (the kernel's defaults). */
int actuator_default_value(const struct setting *s, char *buf, size_t size);

/* Pure: the setting that freezes (or thaws) a VM's cgroup. Applied as any other, its original ("0" unless someone
 * else froze the VM) is journalled, so that a stop or `vmgov restore` thaws what the engine froze. */
void actuator_freeze_setting(bool frozen, struct setting *ret);

/* Whether the engine writes this cgroup file (the journal takes originals of those only). */
bool actuator_file_known(const char *file);

/* Who a change is for: the audit record's context. */
struct actuator_target {
        const char *vm;
        const char *uuid;
        pid_t pid;
        const char *group;
        const char *cgroup; /* path relative to the cgroup mount */
        int cgroup_fd;      /* held dir fd; -1 in dry-run when the cgroup does not exist yet */
};

/* A VM the engine moved into a cgroup of its own, and where it came from: journalled as the original of that
 * cgroup's "cgroup.procs", so that a stop or `vmgov restore` puts the VM back. */
struct original_move {
        pid_t pid;
        uint64_t start_time; /* with pid, the process moved: a pid reused since is never moved back */
        char *from;          /* the cgroup it was in, as /proc/PID/cgroup shows it ("/user.slice/...", "/") */
};

/* Which file a setting is about, without the value: the fields of struct setting but value. */
struct setting_file {
        char file[SETTING_FILE_MAX];
        enum cg_controller controller;
        unsigned major, minor;
        char ifname[IFNAMSIZ];
};

/* A file's value before the engine first wrote it. A thousand VMs hold a few thousand: the value is on the heap, as
 * long as it is (most are "max" or a number), not in a setting's room for the longest io.max line. */
struct original {
        char *cgroup; /* relative to the mount */
        struct setting_file setting;
        char *value;               /* the original value (original_setting() makes it a setting to write back) */
        struct original_move move; /* setting.file "cgroup.procs" only; else from is NULL */
};

static inline void original_done(struct original *o)
{
        free(o->cgroup);
        free(o->value);
        free(o->move.from);
        o->cgroup = o->value = o->move.from = NULL;
}

/* The file s is about. */
static inline void setting_file_of(const struct setting *s, struct setting_file *ret)
{
        *ret = (struct setting_file){.controller = s->controller, .major = s->major, .minor = s->minor};
        memcpy(ret->file, s->file, sizeof(ret->file));
        memcpy(ret->ifname, s->ifname, sizeof(ret->ifname));
}

/* o as a setting, ready to be written back. */
static inline void original_setting(const struct original *o, struct setting *ret)
{
        *ret = (struct setting){
                .controller = o->setting.controller, .major = o->setting.major, .minor = o->setting.minor};
        memcpy(ret->file, o->setting.file, sizeof(ret->file));
        memcpy(ret->ifname, o->setting.ifname, sizeof(ret->ifname));
        snprintf(ret->value, sizeof(ret->value), "%s", o->value ? o->value : "");
}

/* Is x (an original's) the same file as s? */
static inline bool setting_file_is(const struct setting_file *x, const char *file, unsigned major, unsigned minor,
                                   const char *ifname)
{
        return strcmp(x->file, file) == 0 && x->major == major && x->minor == minor && strcmp(x->ifname, ifname) == 0;
}

/* Is o the original of f in cgroup? */
static inline bool original_is(const struct original *o, const char *cgroup, const struct setting_file *f)
{
        return strcmp(o->cgroup, cgroup) == 0 && setting_file_is(&o->setting, f->file, f->major, f->minor, f->ifname);
}

/* The hash of (cgroup, file) that original_is() tells apart: the key of an index of originals. */
static inline uint64_t original_key(const char *cgroup, const struct setting_file *f)
{
        uint64_t h = index_key_string(cgroup);

        h = index_hash(h, f->file, strlen(f->file));
        h = index_hash(h, &f->major, sizeof(f->major));
        h = index_hash(h, &f->minor, sizeof(f->minor));
        return index_hash(h, f->ifname, strlen(f->ifname));
}

/* How a moved VM goes back (place/moveback.h fills them in). back: 0 with the cgroup it went to in where, or
 * -errno: -ESRCH it exited or its pid now belongs to another process, -EXDEV it is no longer in o->cgroup (someone
 * else moved it). remove: rmdir the engine's emptied cgroup, -EBUSY while it is not empty. Without them, moves stay
 * in the journal. */
struct actuator_move_ops {
        int (*back)(void *userdata, const struct original *o, char *where, size_t size);
        int (*remove)(void *userdata, const char *cgroup);
        void *userdata;
};

struct statefile;

/* Where each original of an array is, by (cgroup, file): whole or not valid (then made afresh at the next lookup). */
struct original_index {
        struct index by_key;
        bool valid;
};

struct actuator {
        bool dry_run;
        int audit_fd;              /* -1: no audit file */
        const char *state_path;    /* the journal of originals (statefile.h); NULL: none (dry-run, tests) */
        char state_holder[32];     /* who this process is, in the journal's lock ("vmgov run"); "": "vmgov" */
        struct statefile *journal; /* state_path opened, locked and taken over at the first need; NULL: not yet */
        int mount_fd;              /* the cgroup2 mount, for restore */
        uint64_t page_size;
        struct original *originals;
        size_t n_originals, originals_allocated;
        struct original_index originals_index;
        /* Dry-run: what the engine would have written, standing in for the kernel's value on later ticks so
         * that each decision is logged once, as it would have been made once. */
        struct original *shadow;
        size_t n_shadow, shadow_allocated;
        struct original_index shadow_index;
        unsigned writes, would_writes, errors;
        unsigned missing_warned;       /* the files (by their place in actuator.c's table) already said to be missing */
        struct actuator_net_ops net;   /* for settings with an ifname; zero: none */
        struct actuator_move_ops move; /* for putting moved VMs back; zero: none */
        bool compact_pending;          /* originals were given back: the journal still holds them (actuator_flush) */
};

void actuator_init(struct actuator *a, bool dry_run, int mount_fd, int audit_fd);
/* Route settings with an ifname (net.ingress, net.egress) through ops (copied). */
void actuator_set_net_ops(struct actuator *a, const struct actuator_net_ops *ops);
/* Put VMs moved into the engine's cgroups back through ops (copied) when originals are restored. */
void actuator_set_move_ops(struct actuator *a, const struct actuator_move_ops *ops);
/* Free the originals and close the journal, releasing its lock (what is in it stays, for the next engine). */
void actuator_done(struct actuator *a);
/* Turn dry-run on or off (a reload of DryRun=): dry-run's record of what it would have written is dropped. */
void actuator_set_dry_run(struct actuator *a, bool dry_run);

/* Journal, before the engine moves it, that the VM (pid, start_time) goes from cgroup `from` (as /proc/PID/cgroup
 * shows it) into the engine's cgroup: its original place. A cgroup holds one VM: an older move into it is forgotten
 * first, with the originals of that cgroup. 0 (also in dry-run, which journals nothing), or -errno (logged): then the
 * VM must not be moved. */
int actuator_note_move(struct actuator *a, const char *cgroup, pid_t pid, uint64_t start_time, const char *from);

/* Make the kernel hold s for the target. Returns 1 if it wrote (or would write), 0 if already equal, or if the
 * VM's live cgroup has no such file (the kernel lacks it: warned once per file, naming the file and the VM), -errno
 * when the read or the write failed (already logged, naming the file and the value). */
int actuator_apply(struct actuator *a, const struct actuator_target *t, const struct setting *s, const char *reason);

/* Write every recorded original back (SIGTERM/SIGINT, vmgov restore). Returns the number of failures; those stay
 * in the state file. */
int actuator_restore(struct actuator *a);

/* A one-shot request to a file that holds no value, such as memory.reclaim: never compared, never recorded as an
 * original, nothing to restore. Audited with "old" null. In dry-run only logged. Returns 1 when written (or
 * would be), 0 when the VM's cgroup is gone, -errno on a failure (logged). -EAGAIN from memory.reclaim is the
 * kernel reclaiming less than asked: written, and logged as such. */
int actuator_request(struct actuator *a, const struct actuator_target *t, const char *file, const char *value,
                     const char *reason);

/* Open the journal (taking its lock: -EBUSY, logged, while another process holds it) and load the originals a
 * previous engine journalled and did not restore. Returns how many, or -errno. The journal stays open, and locked,
 * until actuator_done. */
int actuator_take_over(struct actuator *a);

/* A reload took files out of the VM's policy: every original of the target's cgroup whose file is not among keep
 * (the n_keep settings the engine still holds it to) is written back, audited with reason, and forgotten (the
 * journal compacted by actuator_flush or actuator_done), so that the file is as it was before the engine. Not moves,
 * freezes, partitions or tap shaping. In dry-run, what it would write back is logged. Returns how many were given back,
 * or the first -errno (that original stays, for the next try or the restore). */
int actuator_give_back(struct actuator *a, const struct actuator_target *t, const struct setting *keep, size_t n_keep,
                       const char *reason);

/* Compact the journal once after originals were given back (a reload gives back for every VM in one tick). */
void actuator_flush(struct actuator *a);

/* Forget the originals of one cgroup (its VM is gone and the cgroup removed). */
void actuator_forget(struct actuator *a, const char *cgroup);
