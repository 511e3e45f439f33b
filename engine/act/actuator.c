/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "act/actuator.h"
#include "act/partition.h"
#include "kernel/clock.h"
#include "kernel/audit.h"
#include "kernel/cpuset.h"
#include "kernel/index.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/ratelimit.h"
#include "act/statefile.h"

/* The files the engine writes: what a fresh cgroup holds (the kernel's defaults, for dry-run and restore), and
 * why a kernel may lack the file, for the one warning when it does; NULL missing_why with quiet: a file that is
 * only there sometimes, whose absence says nothing (io.bfq.weight without bfq loaded). */
struct cgroup_file {
        const char *file, *default_text, *missing_why;
        bool quiet;
};

static const struct cgroup_file cgroup_files[] = {
        {"cpu.max", "max 100000\n", NULL, false},
        {"cpu.weight", "100\n", NULL, false},
        {"cpu.idle", "0\n", "cpu.idle needs Linux 5.15+", false},
        {"cpu.max.burst", "0\n", "cpu.max.burst needs Linux 5.14+", false},
        /* empty: the parent's CPUs and nodes */
        {"cpuset.cpus", "\n", NULL, false},
        {"cpuset.mems", "\n", NULL, false},
        /* CPUPartition= (act/partition.h): the group's cgroup and the engine's tree root above it */
        {"cpuset.cpus.partition", "member\n", "the kernel has no cpuset partitions", false},
        {"memory.high", "max\n", NULL, false},
        {"memory.max", "max\n", NULL, false},
        {"memory.min", "0\n", NULL, false},
        {"memory.low", "0\n", NULL, false},
        {"memory.swap.max", "max\n", "the kernel does not account swap: CONFIG_MEMCG_SWAP, or swapaccount=0", false},
        {"memory.zswap.max", "max\n", "the kernel has no zswap limit: Linux 5.19+ with CONFIG_ZSWAP", false},
        {"io.weight", "default 100\n", "the kernel has no io.cost: CONFIG_BLK_CGROUP_IOCOST", false},
        {"io.bfq.weight", "default 100\n", NULL, true},
        {"io.max", "", NULL, false},
        {"io.latency", "", "the kernel has no io.latency: CONFIG_BLK_CGROUP_IOLATENCY", false},
        {"cgroup.freeze", "0\n", "cgroup.freeze needs Linux 5.2+", false},
};

_Static_assert(ELEMENTSOF(cgroup_files) <= 32, "actuator.missing_warned is a 32-bit mask");
_Static_assert(CPUSET_TEXT_MAX <= CGV_VALUE_MAX, "AllowedCPUs= in the kernel's form fits a setting's value");

static const struct cgroup_file *cgroup_file_find(const char *file)
{
        for (size_t i = 0; i < ELEMENTSOF(cgroup_files); i++)
                if (strcmp(file, cgroup_files[i].file) == 0)
                        return &cgroup_files[i];
        return NULL;
}

/* The files whose values are bytes or "max", kept by the kernel in pages. */
static bool is_memory_bytes_file(const char *file)
{
        static const char *const files[] = {"memory.high", "memory.max",      "memory.min",
                                            "memory.low",  "memory.swap.max", "memory.zswap.max"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (strcmp(file, files[i]) == 0)
                        return true;
        return false;
}

static int setting_add(struct setting *ret, size_t max, size_t *n, const char *file, enum cg_controller c,
                       struct setting **ret_setting)
{
        if (*n >= max)
                return -ENOBUFS;
        struct setting *s = &ret[(*n)++];
        *s = (struct setting){.controller = c};
        snprintf(s->file, sizeof(s->file), "%s", file);
        *ret_setting = s;
        return 0;
}

#define ADD(file, ctrl)                                                                                                \
        do {                                                                                                           \
                r = setting_add(ret, max, &n, (file), (ctrl), &s);                                                     \
                if (r < 0)                                                                                             \
                        return r;                                                                                      \
        } while (0)

#define FORMAT(expr)                                                                                                   \
        do {                                                                                                           \
                r = (expr);                                                                                            \
                if (r < 0)                                                                                             \
                        return r;                                                                                      \
        } while (0)

int actuator_plan(const struct limits *lim, uint64_t page_size, struct setting *ret, size_t max, size_t *ret_n)
{
        struct setting *s;
        size_t n = 0;
        int r;

        if (lim->cpu_idle) {
                ADD("cpu.idle", CGROUP_CPU);
                FORMAT(cgv_format_cpu_idle(true, s->value, sizeof(s->value)));
        }
        if (lim->cpu_weight_set) {
                ADD("cpu.weight", CGROUP_CPU);
                FORMAT(cgv_format_cpu_weight(lim->cpu_weight, s->value, sizeof(s->value)));
        }
        if (lim->cpu_max_set) {
                ADD("cpu.max", CGROUP_CPU);
                FORMAT(cgv_format_cpu_max(lim->cpu_quota_usec, lim->cpu_period_usec, s->value, sizeof(s->value)));
        }
        /* the burst after the quota: the kernel takes a burst of at most the quota (the policy holds it so) */
        if (lim->cpu_burst_set) {
                ADD("cpu.max.burst", CGROUP_CPU);
                FORMAT(cgv_format_u64(lim->cpu_burst_usec, s->value, sizeof(s->value)));
        }
        if (lim->cpuset_cpus_set) {
                ADD("cpuset.cpus", CGROUP_CPUSET);
                snprintf(s->value, sizeof(s->value), "%s", lim->cpuset_cpus);
        }
        if (lim->cpuset_mems_set) {
                ADD("cpuset.mems", CGROUP_CPUSET);
                snprintf(s->value, sizeof(s->value), "%s", lim->cpuset_mems);
        }
        /* memory.max before memory.high would refuse nothing, but high first keeps reclaim gentle when both
         * shrink. */
        if (lim->memory_high_set) {
                ADD("memory.high", CGROUP_MEMORY);
                FORMAT(cgv_format_memory(cgv_memory_effective(lim->memory_high, page_size), s->value,
                                         sizeof(s->value)));
        }
        if (lim->memory_max_set) {
                ADD("memory.max", CGROUP_MEMORY);
                FORMAT(cgv_format_memory(cgv_memory_effective(lim->memory_max, page_size), s->value, sizeof(s->value)));
        }
        /* The static ones: the protection from reclaim, and swap. Each file on its own, so a kernel without one
         * (no swap accounting, no zswap) loses that one only. */
        const struct {
                const char *file;
                bool set;
                uint64_t bytes;
        } memory_files[] = {
                {"memory.min", lim->memory_min_set, lim->memory_min},
                {"memory.low", lim->memory_low_set, lim->memory_low},
                {"memory.swap.max", lim->memory_swap_max_set, lim->memory_swap_max},
                {"memory.zswap.max", lim->memory_zswap_max_set, lim->memory_zswap_max},
        };
        for (size_t i = 0; i < ELEMENTSOF(memory_files); i++) {
                if (!memory_files[i].set)
                        continue;
                ADD(memory_files[i].file, CGROUP_MEMORY);
                FORMAT(cgv_format_memory(cgv_memory_effective(memory_files[i].bytes, page_size), s->value,
                                         sizeof(s->value)));
        }
        if (lim->io_weight_set) {
                ADD("io.weight", CGROUP_IO);
                FORMAT(cgv_format_io_weight(lim->io_weight, s->value, sizeof(s->value)));
                /* bfq's own weight, as systemd writes it: there only while bfq is loaded (ioweight.h) */
                ADD("io.bfq.weight", CGROUP_IO);
                FORMAT(cgv_format_io_weight(cgv_bfq_weight(lim->io_weight), s->value, sizeof(s->value)));
        }
        for (unsigned i = 0; i < lim->n_io_devices; i++) {
                ADD("io.max", CGROUP_IO);
                s->major = lim->io_devices[i].major;
                s->minor = lim->io_devices[i].minor;
                FORMAT(cgv_format_io_max(&lim->io_devices[i], s->value, sizeof(s->value)));
        }
        for (unsigned i = 0; i < lim->n_io_latency; i++) {
                const struct io_device_latency *l = &lim->io_latency[i];
                ADD("io.latency", CGROUP_IO);
                s->major = l->major;
                s->minor = l->minor;
                FORMAT(cgv_format_io_latency(l->major, l->minor, l->target_usec, s->value, sizeof(s->value)));
        }
        *ret_n = n;
        return 0;
}

int actuator_current_value(const struct setting *s, const char *text, uint64_t page_size, char *buf, size_t size)
{
        uint64_t a, b;
        bool idle;
        int r;

        if (strcmp(s->file, "cpu.max") == 0) {
                r = cgv_parse_cpu_max(text, &a, &b);
                return r < 0 ? r : cgv_format_cpu_max(a, b, buf, size);
        }
        if (strcmp(s->file, "cpu.weight") == 0) {
                r = cgv_parse_cpu_weight(text, &a);
                return r < 0 ? r : cgv_format_cpu_weight(a, buf, size);
        }
        if (strcmp(s->file, "cpu.max.burst") == 0) {
                r = cgv_parse_u64(text, &a);
                return r < 0 ? r : cgv_format_u64(a, buf, size);
        }
        if (strcmp(s->file, "cpuset.cpus") == 0 || strcmp(s->file, "cpuset.mems") == 0) {
                struct cpuset set;
                r = cpuset_parse(text, CPUSET_MAX, &set);
                return r < 0 ? r : cpuset_format(&set, buf, size) < 0 ? -ENOBUFS : 0;
        }
        if (strcmp(s->file, "cpuset.cpus.partition") == 0) {
                /* the mode asked for, valid or not: an invalid one is the kernel's verdict, not a value to write
                 * again at every tick (the act stage reads why) */
                struct partition_readback rb;
                r = partition_readback_parse(text, &rb);
                if (r < 0)
                        return r;
                int n = snprintf(buf, size, "%s", partition_mode_value(rb.mode));
                return n < (int)size ? 0 : -ENOBUFS;
        }
        if (strcmp(s->file, "cpu.idle") == 0) {
                r = cgv_parse_cpu_idle(text, &idle);
                return r < 0 ? r : cgv_format_cpu_idle(idle, buf, size);
        }
        if (is_memory_bytes_file(s->file)) {
                r = cgv_parse_memory(text, &a);
                return r < 0 ? r : cgv_format_memory(cgv_memory_effective(a, page_size), buf, size);
        }
        if (strcmp(s->file, "io.weight") == 0 || strcmp(s->file, "io.bfq.weight") == 0) {
                r = cgv_parse_io_weight_default(text, &a);
                return r < 0 ? r : cgv_format_io_weight(a, buf, size);
        }
        if (strcmp(s->file, "io.max") == 0) {
                struct io_device_limit cur;
                r = cgv_parse_io_max(text, s->major, s->minor, &cur);
                return r < 0 ? r : cgv_format_io_max(&cur, buf, size);
        }
        if (strcmp(s->file, "cgroup.freeze") == 0) {
                if ((text[0] != '0' && text[0] != '1') || (text[1] != '\0' && text[1] != '\n'))
                        return -EINVAL;
                int n = snprintf(buf, size, "%c", text[0]);
                return n < (int)size ? n : -ENOBUFS;
        }
        if (strcmp(s->file, "io.latency") == 0) {
                r = cgv_parse_io_latency(text, s->major, s->minor, &a);
                return r < 0 ? r : cgv_format_io_latency(s->major, s->minor, a, buf, size);
        }
        return -EINVAL;
}

int actuator_default_value(const struct setting *s, char *buf, size_t size)
{
        const struct cgroup_file *f = cgroup_file_find(s->file);

        return f ? actuator_current_value(s, f->default_text, 1, buf, size) : -EINVAL;
}

void actuator_freeze_setting(bool frozen, struct setting *ret)
{
        /* cgroup.freeze belongs to no controller: the memory one stands in, as the freeze is the memory's last resort,
         * so that where it is enabled a missing file is told apart from a gone cgroup (a kernel before 5.2) */
        *ret = (struct setting){.controller = CGROUP_MEMORY};
        snprintf(ret->file, sizeof(ret->file), "cgroup.freeze");
        snprintf(ret->value, sizeof(ret->value), "%d", frozen ? 1 : 0);
}

bool actuator_file_known(const char *file)
{
        return cgroup_file_find(file) != NULL;
}

void actuator_init(struct actuator *a, bool dry_run, int mount_fd, int audit_fd)
{
        long page = sysconf(_SC_PAGESIZE);

        *a = (struct actuator){
                .dry_run = dry_run,
                .audit_fd = audit_fd,
                .mount_fd = mount_fd,
                .page_size = page > 0 ? (uint64_t)page : 4096,
        };
}

void actuator_set_net_ops(struct actuator *a, const struct actuator_net_ops *ops)
{
        a->net = *ops;
}

void actuator_set_move_ops(struct actuator *a, const struct actuator_move_ops *ops)
{
        a->move = *ops;
}

static void originals_free(struct original **v, size_t *n, size_t *allocated, struct original_index *x)
{
        for (size_t i = 0; i < *n; i++)
                original_done(&(*v)[i]);
        free(*v);
        *v = NULL;
        *n = 0;
        *allocated = 0;
        index_free(&x->by_key);
        x->valid = false;
}

void actuator_set_dry_run(struct actuator *a, bool dry_run)
{
        a->dry_run = dry_run;
        /* what dry-run would have written stood in for the kernel's values; the kernel's own count from now on */
        originals_free(&a->shadow, &a->n_shadow, &a->shadow_allocated, &a->shadow_index);
}

void actuator_done(struct actuator *a)
{
        actuator_flush(a);
        originals_free(&a->originals, &a->n_originals, &a->originals_allocated, &a->originals_index);
        originals_free(&a->shadow, &a->n_shadow, &a->shadow_allocated, &a->shadow_index);
        a->journal = statefile_close(a->journal);
}

static bool same_file(const struct setting_file *x, const struct setting *y)
{
        return setting_file_is(x, y->file, y->major, y->minor, y->ifname);
}

/* v[pos] was added: indexed too, if the index is whole (else it is made again at the next lookup). */
static void original_indexed(struct original_index *x, const struct original *v, size_t pos)
{
        if (x->valid && index_put(&x->by_key, original_key(v[pos].cgroup, &v[pos].setting), (uint32_t)pos) < 0)
                x->valid = false;
}

/* The original of (cgroup, file) in v[0, n): through the index, made afresh after the array was compacted; by a
 * walk over v where there is no memory for it. O(1) on average: a thousand VMs' originals are not walked for each
 * write. */
static struct original *original_find(struct original *v, size_t n, struct original_index *x, const char *cgroup,
                                      const struct setting_file *s)
{
        if (!x->valid) {
                index_clear(&x->by_key);
                x->valid = true;
                for (size_t i = 0; i < n && x->valid; i++)
                        original_indexed(x, v, i);
        }
        if (x->valid) {
                uint32_t pos;
                for (size_t it = 0; index_next(&x->by_key, original_key(cgroup, s), &it, &pos);)
                        if (pos < n && original_is(&v[pos], cgroup, s))
                                return &v[pos];
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (original_is(&v[i], cgroup, s))
                        return &v[i];
        return NULL;
}

/* Remember value for (cgroup, file). With overwrite false the first value seen stays: that is the original. */
static int original_record(struct original **v, size_t *n, size_t *allocated, struct original_index *x,
                           const char *cgroup, const struct setting_file *f, const char *value, bool overwrite)
{
        struct original *o = original_find(*v, *n, x, cgroup, f);

        if (o && !overwrite)
                return 0;
        char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        if (o) {
                free(o->value);
                o->value = copy;
                return 0;
        }
        if (array_reserve((void **)v, allocated, *n + 1, sizeof(**v)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        o = &(*v)[*n];
        *o = (struct original){.cgroup = strdup(cgroup), .setting = *f, .value = copy};
        if (!o->cgroup) {
                free(copy);
                return -ENOMEM;
        }
        original_indexed(x, *v, (*n)++);
        return 0;
}

static void actuator_audit(struct actuator *a, const struct actuator_target *t, const struct setting *s,
                           const char *old_value, const char *reason)
{
        struct audit_record rec = {
                .vm = t->vm,
                .uuid = t->uuid && t->uuid[0] ? t->uuid : NULL,
                .pid = t->pid,
                .group = t->group,
                .cgroup = t->cgroup,
                .file = s->file,
                .old_value = old_value,
                .new_value = s->value,
                .reason = reason,
                .dry_run = a->dry_run,
        };
        int r;

        if (a->audit_fd < 0)
                return;
        r = audit_write(a->audit_fd, &rec);
        if (r < 0) {
                a->errors++;
                log_err_errno(r, "audit log: cannot append a record for %s/%s: %m", t->cgroup, s->file);
        }
}

/* ENODEV from a write means either a cgroup being removed or, for io.max, a device the kernel does not know:
 * only the first is a vanished VM. */
static bool cgroup_alive(int cgroup_fd)
{
        char buf[256];
        int r = cgroupfs_read(cgroup_fd, "cgroup.controllers", buf, sizeof(buf));
        return r >= 0 || r == -E2BIG;
}

/* What a log line calls the setting: "CGROUP/FILE", or "FILE of tap IFNAME (CGROUP)" for one that is not a file. */
static const char *setting_where(const char *cgroup, const struct setting *s, char *buf, size_t size)
{
        if (s->ifname[0])
                snprintf(buf, size, "%s of tap %s (%s)", s->file, s->ifname, cgroup);
        else
                snprintf(buf, size, "%s/%s", cgroup, s->file);
        return buf;
}

/* Is the controller of a file enabled in this cgroup (listed in its cgroup.controllers)? Then a file of it that is
 * not there is one the kernel lacks; otherwise the cgroup is gone, or its parent does not hand the controller down. */
static bool controller_enabled(int cgroup_fd, enum cg_controller c)
{
        static const char *const v2_names[_CGROUP_CONTROLLER_MAX] = {
                [CGROUP_CPU] = "cpu",   [CGROUP_MEMORY] = "memory", [CGROUP_IO] = "io",
                [CGROUP_PIDS] = "pids", [CGROUP_CPUSET] = "cpuset",
        };
        char text[256], *save = NULL;

        if (c < 0 || c >= _CGROUP_CONTROLLER_MAX || !v2_names[c] ||
            cgroupfs_read(cgroup_fd, "cgroup.controllers", text, sizeof(text)) < 0)
                return false;
        for (char *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                if (strcmp(w, v2_names[c]) == 0)
                        return true;
        return false;
}

/* A cgroup with the file's controller and without the file: this kernel lacks it (no swap accounting, no zswap, no
 * io.latency). The other files are written; this one is said once, for the first VM that needed it, as every VM lacks
 * it alike. */
static int note_missing_file(struct actuator *a, const struct actuator_target *t, const struct setting *s)
{
        const struct cgroup_file *f = cgroup_file_find(s->file);
        unsigned bit = f ? 1U << (f - cgroup_files) : 0;
        char name[AUDIT_LOG_NAME_MAX], cgroup[AUDIT_LOG_NAME_MAX];

        if (f && f->quiet) {
                log_debug("%s/%s: not there", t->cgroup, s->file);
                return 0;
        }
        if (!bit || (a->missing_warned & bit))
                return 0;
        a->missing_warned |= bit;
        log_warn("VM %s (pid %d, group %s): cgroup %s has no %s (%s): that setting is not applied, to this VM or to "
                 "any other (said once)",
                 audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name)), (int)t->pid, t->group,
                 audit_escape_for_log(t->cgroup, cgroup, sizeof(cgroup)), s->file,
                 f->missing_why ? f->missing_why : "the kernel does not have it");
        return 0;
}

/* A value into a cgroup file. An empty one (cpuset.cpus: the parent's CPUs) goes as "\n": a write() of no bytes
 * never reaches the kernel's handler, and the file would keep what it holds. */
static int setting_write(int cgroup_fd, const char *file, const char *value)
{
        return cgroupfs_write(cgroup_fd, file, value[0] ? value : "\n");
}

static int net_read(struct actuator *a, const struct setting *s, char *buf, size_t size)
{
        return a->net.read ? a->net.read(a->net.userdata, s, buf, size) : -EOPNOTSUPP;
}

static int net_write(struct actuator *a, const struct setting *s)
{
        return a->net.write ? a->net.write(a->net.userdata, s) : -EOPNOTSUPP;
}

/* Rewrite the journal with the live originals when it has grown past its rule; a failure only means it grows. */
static void journal_maybe_compact(struct actuator *a, size_t n_live)
{
        int r;

        if (!a->journal || !statefile_needs_compact(a->journal, n_live))
                return;
        r = statefile_compact(a->journal, a->originals, n_live);
        if (r < 0)
                log_warn_errno(r, "state file %s: cannot compact it, appending to it as it is: %m", a->state_path);
}

/* The journal, opened, locked and taken over at the first need: the originals it holds are the originals (the
 * first value seen of a file is its original), whatever this engine has seen since. Returns how many it held. */
static int journal_open(struct actuator *a)
{
        struct statefile_contents c;
        size_t had = a->n_originals;
        int r;

        if (a->journal || !a->state_path)
                return 0;
        r = statefile_open(a->state_path, a->state_holder[0] ? a->state_holder : "vmgov", &a->journal);
        if (r < 0)
                return r;
        r = statefile_read(a->journal, &c);
        if (r < 0) {
                a->journal = statefile_close(a->journal);
                return r;
        }
        r = array_reserve((void **)&a->originals, &a->originals_allocated, had + c.n, sizeof(*a->originals));
        for (size_t i = 0; i < c.n && r == 0; i++) {
                if (had == 0) { /* the journal's are unique: no search, so a take-over is linear */
                        a->originals[a->n_originals] = c.originals[i];
                        original_indexed(&a->originals_index, a->originals, a->n_originals++);
                        c.originals[i].cgroup = c.originals[i].value = c.originals[i].move.from = NULL;
                        continue;
                }
                struct original *o = original_find(a->originals, had, &a->originals_index, c.originals[i].cgroup,
                                                   &c.originals[i].setting);
                if (!o) {
                        r = original_record(&a->originals, &a->n_originals, &a->originals_allocated,
                                            &a->originals_index, c.originals[i].cgroup, &c.originals[i].setting,
                                            c.originals[i].value ? c.originals[i].value : "", false);
                        o = r == 0 ? &a->originals[a->n_originals - 1] : NULL;
                }
                if (o) { /* the journal's value came first */
                        o->setting = c.originals[i].setting;
                        free(o->value);
                        o->value = c.originals[i].value;
                        c.originals[i].value = NULL;
                        free(o->move.from);
                        o->move = c.originals[i].move;
                        c.originals[i].move.from = NULL;
                }
        }
        size_t n = c.n;
        statefile_contents_done(&c);
        if (r < 0) {
                a->journal = statefile_close(a->journal);
                return r;
        }
        if (n)
                log_info("took over %zu original values from %s (left by an engine that did not restore them)", n,
                         a->state_path);
        /* the journal now holds exactly what is live: an old format, skipped lines, forgotten originals go */
        journal_maybe_compact(a, a->n_originals);
        return (int)MIN(n, (size_t)__INT_MAX__);
}

/*
 * A file the kernel refuses to read or write, or a value it refuses, fails again at the next tick, which tries again:
 * said once per file and cause, then counted, and summarised at most once a minute (kernel/ratelimit), as the
 * sensor's warnings are. say_refused returns r.
 */
enum { REFUSED_READ, REFUSED_WRITE };
static struct ratelimit_entry refused_entries[256];
static struct ratelimit refused_rl = {
        .interval_usec = 60ULL * 1000000ULL,
        .cap = ELEMENTSOF(refused_entries),
        .entries = refused_entries,
        .overflow = {.vm = RATELIMIT_OVERFLOW_VM},
};

#define say_refused(r, where, cause, ...)                                                                              \
        log_repeat_errno(&refused_rl, index_key_string(where), (cause), monotonic_usec(), LOG_ERR, (r), __VA_ARGS__)

int actuator_apply(struct actuator *a, const struct actuator_target *t, const struct setting *s, const char *reason)
{
        char text[4096], current[CGV_VALUE_MAX], name[AUDIT_LOG_NAME_MAX], where[4200];
        bool exists = t->cgroup_fd >= 0;
        int r;

        if (s->ifname[0]) {
                /* A tap's shaping (netshape): there whether or not the cgroup is. -ENODEV: the tap is gone. */
                exists = true;
                text[0] = '\0';
                r = net_read(a, s, current, sizeof(current));
                if (r < 0) {
                        setting_where(t->cgroup, s, where, sizeof(where));
                        if (errno_is_vanished(r))
                                return log_debug_errno(r, "read %s: %m", where);
                        a->errors++;
                        return log_err_errno(r, "read %s: %m", where);
                }
        } else if (exists) {
                r = cgroupfs_read(t->cgroup_fd, s->file, text, sizeof(text));
                if (r == -ENOENT && controller_enabled(t->cgroup_fd, s->controller))
                        return note_missing_file(a, t, s);
                if (r < 0) {
                        if (errno_is_vanished(r))
                                return log_debug_errno(r, "read %s/%s: %m", t->cgroup, s->file);
                        a->errors++;
                        setting_where(t->cgroup, s, where, sizeof(where));
                        return say_refused(r, where, REFUSED_READ, "read %s/%s: %m", t->cgroup, s->file);
                }
                r = actuator_current_value(s, text, a->page_size, current, sizeof(current));
        } else if (cgroup_file_find(s->file) && cgroup_file_find(s->file)->quiet)
                return 0; /* dry-run, no cgroup yet: whether it would have the file is not known */
        else
                r = actuator_default_value(s, current, sizeof(current));
        setting_where(t->cgroup, s, where, sizeof(where));
        if (r < 0) {
                a->errors++;
                return log_err_errno(r, "%s: cannot understand the current value \"%.64s\"", where, exists ? text : "");
        }

        struct setting_file file;
        setting_file_of(s, &file);
        if (a->dry_run) {
                const struct original *shadow =
                        original_find(a->shadow, a->n_shadow, &a->shadow_index, t->cgroup, &file);
                if (shadow)
                        snprintf(current, sizeof(current), "%s", shadow->value);
        }
        if (strcmp(current, s->value) == 0)
                return 0;

        if (a->dry_run) {
                r = original_record(&a->shadow, &a->n_shadow, &a->shadow_allocated, &a->shadow_index, t->cgroup, &file,
                                    s->value, true);
                if (r < 0)
                        return r;
                a->would_writes++;
                log_info("dry-run: would write %s: \"%s\" (%s \"%s\") for VM %s (pid %d, group %s): %s", where,
                         s->value, exists ? "now" : "a new cgroup starts at", current,
                         audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name)), (int)t->pid, t->group, reason);
                actuator_audit(a, t, s, exists ? current : NULL, reason);
                return 1;
        }

        r = journal_open(a);
        if (r < 0) {
                a->errors++;
                return log_err_errno(r, "state file %s: cannot journal the original of %s, so it is not written: %m",
                                     a->state_path, where);
        }
        size_t had = a->n_originals;
        r = original_record(&a->originals, &a->n_originals, &a->originals_allocated, &a->originals_index, t->cgroup,
                            &file, current, false);
        if (r < 0)
                return log_err_errno(r, "cannot record the original of %s: %m", where);
        if (a->n_originals > had && a->journal) {
                /* The original is on disk before the file changes, or the file does not change. */
                journal_maybe_compact(a, had);
                r = statefile_append(a->journal, &a->originals[had]);
                if (r < 0) {
                        original_done(&a->originals[--a->n_originals]); /* its index entry is stale: checked */
                        a->errors++;
                        return log_err_errno(r,
                                             "state file %s: cannot journal the original of %s, so it is not "
                                             "written: %m",
                                             a->state_path, where);
                }
        }

        r = s->ifname[0] ? net_write(a, s) : setting_write(t->cgroup_fd, s->file, s->value);
        if (r < 0) {
                if (errno_is_vanished(r) && (s->ifname[0] || !cgroup_alive(t->cgroup_fd)))
                        return log_debug_errno(r, "write %s: %m", where);
                a->errors++;
                return say_refused(r, where, REFUSED_WRITE, "write %s \"%s\": the kernel refused it: %m", where,
                                   s->value);
        }
        a->writes++;
        log_info("wrote %s: \"%s\" (was \"%s\") for VM %s (pid %d, group %s): %s", where, s->value, current,
                 audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name)), (int)t->pid, t->group, reason);
        actuator_audit(a, t, s, current, reason);
        return 1;
}

int actuator_request(struct actuator *a, const struct actuator_target *t, const char *file, const char *value,
                     const char *reason)
{
        char name[AUDIT_LOG_NAME_MAX];
        struct setting s = {0};
        int r;

        if (t->cgroup_fd < 0)
                return 0;
        if (snprintf(s.file, sizeof(s.file), "%s", file) >= (int)sizeof(s.file) ||
            snprintf(s.value, sizeof(s.value), "%s", value) >= (int)sizeof(s.value))
                return log_err_errno(-ENAMETOOLONG, "%s/%s: the file name or value \"%.32s\" is too long", t->cgroup,
                                     file, value);
        audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name));
        if (a->dry_run) {
                a->would_writes++;
                log_info("dry-run: would write %s/%s: \"%s\" for VM %s (pid %d, group %s): %s", t->cgroup, file, value,
                         name, (int)t->pid, t->group, reason);
                actuator_audit(a, t, &s, NULL, reason);
                return 1;
        }
        r = cgroupfs_write(t->cgroup_fd, file, value);
        if (r < 0 && r != -EAGAIN) {
                if (errno_is_vanished(r) && !cgroup_alive(t->cgroup_fd))
                        return log_debug_errno(r, "write %s/%s: %m", t->cgroup, file);
                a->errors++;
                char where[4200];
                snprintf(where, sizeof(where), "%s/%s", t->cgroup, file);
                return say_refused(r, where, REFUSED_WRITE, "write %s \"%s\": the kernel refused it: %m", where, value);
        }
        a->writes++;
        log_info("wrote %s/%s: \"%s\"%s for VM %s (pid %d, group %s): %s", t->cgroup, file, value,
                 r == -EAGAIN ? " (the kernel reclaimed less)" : "", name, (int)t->pid, t->group, reason);
        actuator_audit(a, t, &s, NULL, reason);
        return 1;
}

/* The journal rewritten with the originals as they are now. */
static void actuator_journal(struct actuator *a)
{
        int r;

        if (!a->journal)
                return;
        r = statefile_compact(a->journal, a->originals, a->n_originals);
        if (r < 0)
                log_err_errno(r, "state file %s: cannot update it: %m", a->state_path);
}

int actuator_take_over(struct actuator *a)
{
        if (a->journal)
                return 0; /* taken over already, at its first need */
        return journal_open(a);
}

static bool is_move(const struct original *o)
{
        return o->move.from != NULL;
}

/* A VM the engine moved goes back where it came from (or where the move ops say it could go); its emptied
 * cgroup is removed. 0, or -errno (logged) when it could not go back. */
static int restore_move(struct actuator *a, const struct original *o)
{
        char where[4200];
        int r;

        if (!a->move.back)
                return log_err_errno(-EOPNOTSUPP, "restore %s: cannot move VM pid %d back to %s here", o->cgroup,
                                     (int)o->move.pid, o->move.from);
        r = a->move.back(a->move.userdata, o, where, sizeof(where));
        if (r == -ESRCH || r == -EXDEV) {
                log_debug_errno(r, "restore %s: VM pid %d is gone or elsewhere, nothing to move back: %m", o->cgroup,
                                (int)o->move.pid);
                return 0;
        }
        if (r < 0)
                return log_err_errno(r, "restore %s: cannot move VM pid %d back to %s: %m", o->cgroup, (int)o->move.pid,
                                     o->move.from);
        struct audit_record rec = {
                .pid = o->move.pid,
                .cgroup = o->cgroup,
                .file = "cgroup.procs",
                .old_value = o->cgroup,
                .new_value = where,
                .reason = "restore: the VM goes back to the cgroup it came from",
        };
        log_info("moved VM pid %d back from %s to %s%s", (int)o->move.pid, o->cgroup, where,
                 strcmp(where, o->move.from) == 0 ? "" : " (the nearest cgroup to where it came from that is left)");
        if (a->audit_fd >= 0)
                (void)audit_write(a->audit_fd, &rec);
        return 0;
}

/* An empty cpuset.cpus or cpuset.mems (the parent's) put back into a cgroup that holds processes: the kernel refuses
 * to empty it then (ENOSPC), so it gets what the parent has in effect now, which is what it had through the parent.
 * The value written goes into buf; 0 or -errno. */
static int restore_cpuset_from_parent(struct actuator *a, const struct original *o, int fd, char *buf, size_t size)
{
        char parent[4096], text[4096], effective[40];
        const char *slash = strrchr(o->cgroup, '/');
        _cleanup_close_ int parent_fd = -1;
        int r;

        snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - o->cgroup) : 0, o->cgroup);
        snprintf(effective, sizeof(effective), "%s.effective", o->setting.file);
        parent_fd = cgroupfs_open_dir(a->mount_fd, parent[0] ? parent : ".");
        if (parent_fd < 0)
                return parent_fd;
        r = cgroupfs_read(parent_fd, effective, text, sizeof(text));
        if (r < 0)
                return r;
        struct setting s;
        original_setting(o, &s);
        r = actuator_current_value(&s, text, a->page_size, buf, size);
        if (r < 0)
                return r;
        return setting_write(fd, o->setting.file, buf);
}

static bool is_cpuset_file(const char *file)
{
        return strcmp(file, "cpuset.cpus") == 0 || strcmp(file, "cpuset.mems") == 0;
}

static int restore_setting(struct actuator *a, const struct original *o, const char *reason)
{
        _cleanup_close_ int fd = o->setting.ifname[0] ? -1 : cgroupfs_open_dir(a->mount_fd, o->cgroup);
        char value[CGV_VALUE_MAX];
        struct setting s;

        original_setting(o, &s);
        int r = s.ifname[0] ? net_write(a, &s) : fd < 0 ? fd : setting_write(fd, s.file, s.value);
        bool from_parent = r == -ENOSPC && !s.value[0] && is_cpuset_file(s.file);

        snprintf(value, sizeof(value), "%s", s.value);
        if (from_parent)
                r = restore_cpuset_from_parent(a, o, fd, value, sizeof(value));
        if (r < 0 && errno_is_vanished(r)) {
                log_debug_errno(r, "restore %s/%s: gone: %m", o->cgroup, o->setting.file);
                return 0;
        }
        if (r < 0)
                return log_err_errno(r, "restore %s/%s \"%s\": %m; it stays in the state file", o->cgroup,
                                     o->setting.file, s.value);
        struct audit_record rec = {
                .cgroup = o->cgroup,
                .file = o->setting.file,
                .new_value = value,
                .reason = reason,
        };
        log_info("restored %s/%s: \"%s\"%s", o->cgroup, o->setting.file, value,
                 from_parent ? " (its parent's, in effect: the kernel does not empty it while the cgroup holds "
                               "processes)"
                             : "");
        if (a->audit_fd >= 0)
                (void)audit_write(a->audit_fd, &rec);
        return 0;
}

/* When an original is put back: 0 a move, 1 a partition, 2 a burst, 3 the rest. */
static size_t restore_pass(const struct original *o)
{
        return is_move(o)                                              ? 0
               : strcmp(o->setting.file, "cpuset.cpus.partition") == 0 ? 1
               : strcmp(o->setting.file, "cpu.max.burst") == 0         ? 2
                                                                       : 3;
}

static size_t cgroup_depth(const char *cgroup)
{
        size_t depth = 0;

        for (; *cgroup; cgroup++)
                depth += *cgroup == '/';
        return depth;
}

/* Partitions go back to "member" children first, the deepest cgroups before their parents: a parent that stops being
 * a partition root while a child still is one leaves the child invalid until it is put back too. */
static bool restore_now(const struct original *o, size_t pass, size_t depth)
{
        return restore_pass(o) == pass && (pass != 1 || cgroup_depth(o->cgroup) == depth);
}

/* Put back the originals of one pass (and, for partitions, of one depth); what fails stays. Returns the failures. */
static int restore_round(struct actuator *a, size_t pass, size_t depth)
{
        int failures = 0;
        size_t kept = 0;

        for (size_t i = 0; i < a->n_originals; i++) {
                struct original *o = &a->originals[i];
                int r;

                if (!restore_now(o, pass, depth)) {
                        a->originals[kept++] = *o;
                        continue;
                }
                r = is_move(o) ? restore_move(a, o) : restore_setting(a, o, "restore original on exit");
                if (r < 0) {
                        failures++;
                        a->originals[kept++] = *o;
                        continue;
                }
                if (is_move(o) && a->move.remove) {
                        r = a->move.remove(a->move.userdata, o->cgroup);
                        if (r < 0 && r != -ENOENT)
                                log_debug_errno(r, "remove %s: %m", o->cgroup);
                }
                original_done(o);
        }
        a->originals_index.valid &= kept == a->n_originals; /* compacted: indexed afresh at the next lookup */
        a->n_originals = kept;
        return failures;
}

int actuator_restore(struct actuator *a)
{
        size_t deepest = 0;
        int failures = 0;

        /* The VMs first, out of the engine's cgroups, which are then removed; then the values (those of a removed
         * cgroup go with it): partitions, the deepest first, before the cpuset.cpus they hold; cpu.max.burst before
         * the others: the kernel refuses a cpu.max below the burst, and the original quota may be lower than the
         * burst the engine set. What fails stays, for a later restore to retry. */
        for (size_t i = 0; i < a->n_originals; i++)
                deepest = MAX(deepest, cgroup_depth(a->originals[i].cgroup));
        for (size_t pass = 0; pass < 4; pass++)
                for (size_t depth = pass == 1 ? deepest + 1 : 1; depth-- > 0;)
                        failures += restore_round(a, pass, depth);
        actuator_journal(a);
        actuator_done(a);
        return failures;
}

int actuator_note_move(struct actuator *a, const char *cgroup, pid_t pid, uint64_t start_time, const char *from)
{
        struct original o = {.move = {.pid = pid, .start_time = start_time}};
        int r;

        if (a->dry_run)
                return 0;
        r = journal_open(a);
        if (r < 0)
                return log_err_errno(r,
                                     "state file %s: cannot journal where VM pid %d comes from, so it is not moved: %m",
                                     a->state_path, (int)pid);
        snprintf(o.setting.file, sizeof(o.setting.file), "cgroup.procs");
        /* From one of the engine's cgroups to another (a reload changed its group): it still came from where it
         * came from before. */
        const struct original *earlier =
                from[0] == '/' ? original_find(a->originals, a->n_originals, &a->originals_index, from + 1, &o.setting)
                               : NULL;
        if (earlier && is_move(earlier) && earlier->move.pid == pid && earlier->move.start_time == start_time)
                from = earlier->move.from;
        o.move.from = strdup(from);
        if (!o.move.from)
                return log_err_errno(-ENOMEM, "out of memory");
        if (original_find(a->originals, a->n_originals, &a->originals_index, cgroup, &o.setting))
                actuator_forget(a, cgroup); /* a VM before this one, gone: its cgroup is this one's now */
        char pid_text[16];
        snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
        o.cgroup = strdup(cgroup);
        o.value = strdup(pid_text);
        if (!o.cgroup || !o.value ||
            array_reserve((void **)&a->originals, &a->originals_allocated, a->n_originals + 1, sizeof(o)) < 0) {
                original_done(&o);
                return log_err_errno(-ENOMEM, "out of memory");
        }
        journal_maybe_compact(a, a->n_originals);
        if (a->journal) {
                r = statefile_append(a->journal, &o);
                if (r < 0) {
                        original_done(&o);
                        a->errors++;
                        return log_err_errno(r,
                                             "state file %s: cannot journal where VM pid %d comes from, so it is "
                                             "not moved: %m",
                                             a->state_path, (int)pid);
                }
        }
        a->originals[a->n_originals] = o;
        original_indexed(&a->originals_index, a->originals, a->n_originals++);
        return 0;
}

/* Not given back by a reload: moves (the VM stays placed), freezes (the freeze's own state thaws), partitions (the
 * chain is the group's, shared by its VMs) and tap shaping (no cgroup file). */
static bool give_back_kind(const struct original *o)
{
        return !is_move(o) && !o->setting.ifname[0] && strcmp(o->setting.file, "cgroup.freeze") != 0 &&
               strcmp(o->setting.file, "cpuset.cpus.partition") != 0;
}

/* Does o stay through a reload: another cgroup's, a kind not given back, or a file the policy still sets? */
static bool stays(const struct original *o, const struct actuator_target *t, const struct setting *keep, size_t n_keep)
{
        if (strcmp(o->cgroup, t->cgroup) != 0 || !give_back_kind(o))
                return true;
        for (size_t k = 0; k < n_keep; k++)
                if (same_file(&o->setting, &keep[k]))
                        return true;
        return false;
}

int actuator_give_back(struct actuator *a, const struct actuator_target *t, const struct setting *keep, size_t n_keep,
                       const char *reason)
{
        char name[AUDIT_LOG_NAME_MAX];
        size_t given = 0, j = 0;
        int first = 0;

        if (a->dry_run) {
                for (size_t i = 0; i < a->n_shadow; i++) {
                        struct original *o = &a->shadow[i];
                        if (stays(o, t, keep, n_keep)) {
                                a->shadow[j++] = *o;
                                continue;
                        }
                        log_info("dry-run: would write back the original of %s/%s for VM %s (pid %d, group %s): %s",
                                 o->cgroup, o->setting.file,
                                 audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name)), (int)t->pid, t->group,
                                 reason);
                        original_done(o);
                        given++;
                }
                a->shadow_index.valid &= j == a->n_shadow;
                a->n_shadow = j;
                return (int)given;
        }
        for (size_t i = 0; i < a->n_originals; i++) {
                struct original *o = &a->originals[i];
                if (!stays(o, t, keep, n_keep)) {
                        int r = restore_setting(a, o, reason);
                        if (r == 0) {
                                log_info("gave back %s/%s (\"%s\", its value before the engine) for VM %s (pid %d, "
                                         "group %s): %s",
                                         o->cgroup, o->setting.file, o->value,
                                         audit_escape_for_log(t->vm ? t->vm : "", name, sizeof(name)), (int)t->pid,
                                         t->group, reason);
                                original_done(o);
                                given++;
                                continue;
                        }
                        a->errors++;
                        if (first == 0)
                                first = r;
                }
                a->originals[j++] = *o;
        }
        a->originals_index.valid &= j == a->n_originals;
        a->n_originals = j;
        a->compact_pending |= given > 0; /* once for the whole reload, not once per VM: actuator_flush */
        return first < 0 ? first : (int)given;
}

void actuator_flush(struct actuator *a)
{
        int r;

        if (!a->compact_pending || !a->journal)
                return;
        a->compact_pending = false;
        r = statefile_compact(a->journal, a->originals, a->n_originals);
        if (r < 0) /* a later restore writes those originals once more: the values the files went back to */
                log_warn_errno(r, "state file %s: cannot compact it after originals were given back: %m",
                               a->state_path);
}

static void originals_forget(struct original *v, size_t *n, struct original_index *x, const char *cgroup)
{
        size_t j = 0;

        for (size_t i = 0; i < *n; i++) {
                if (strcmp(v[i].cgroup, cgroup) == 0) {
                        original_done(&v[i]);
                        continue;
                }
                v[j++] = v[i];
        }
        x->valid &= j == *n;
        *n = j;
}

void actuator_forget(struct actuator *a, const char *cgroup)
{
        size_t had = a->n_originals;
        int r;

        originals_forget(a->originals, &a->n_originals, &a->originals_index, cgroup);
        originals_forget(a->shadow, &a->n_shadow, &a->shadow_index, cgroup);
        if (a->n_originals == had || !a->journal)
                return;
        r = statefile_append_forget(a->journal, cgroup);
        if (r < 0) /* the originals stay in the journal until it is compacted: a restore then finds them gone */
                log_warn_errno(r, "state file %s: cannot journal that %s is gone: %m", a->state_path, cgroup);
        journal_maybe_compact(a, a->n_originals);
}
