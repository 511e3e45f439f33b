/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmgov status: the running daemon's view when there is one (its status file, rewritten each tick), else a sample
 * taken here: the discovered VMs, the limits their cgroups hold now, and their signals over one interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/clock.h"
#include "kernel/audit.h"
#include "kernel/cgroupfs.h"
#include "kernel/escape.h"
#include "daemon/daemon.h"
#include "discover/discover.h"
#include "discover/stage.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "place/placement.h"
#include "policy/policy.h"
#include "kernel/procfs.h"
#include "kernel/utf8.h"
#include "publish/snapshot.h"
#include "sense/schedlat.h"
#include "sense/sense.h"

#define SNAPSHOT_FILE_MAX (256u << 20)

/* Where the view came from. */
struct status_view {
        bool live;                     /* the daemon's; else sampled here */
        struct snapshot_daemon daemon; /* live only */
        uint64_t age_usec;             /* live only: since the daemon wrote it */
        bool stale;                    /* live only: not rewritten for three intervals and 5 s */
        uint64_t interval_usec;
        const char *runq_source;
};

/* ---- printing ---- */

static const char *fmt_ppm(uint32_t ppm, char *buf, size_t size)
{
        snprintf(buf, size, "%u.%02u%%", ppm / 10000, ppm % 10000 / 100);
        return buf;
}

static const char *fmt_bytes(uint64_t v, char *buf, size_t size)
{
        if (v == LIMIT_MAX)
                snprintf(buf, size, "max");
        else if (v >= (1ULL << 30))
                snprintf(buf, size, "%.1fG", v / (double)(1ULL << 30));
        else
                snprintf(buf, size, "%.1fM", v / (double)(1ULL << 20));
        return buf;
}

static const char *or_dash(const char *s)
{
        return s && s[0] ? s : "-";
}

/* Room for the longest string a cell shows (a cgroup path), escaped. */
#define CELL_MAX ESCAPE_TEXT_SIZE(VM_CGROUP_MAX)

/* Text from outside (a status file, a command line, a cgroup's name or file) for the terminal: escape_text. */
static const char *text(const char *s, char *buf, size_t size)
{
        (void)escape_text(s, buf, size); /* too long: cut, still escaped */
        return buf;
}

/* One cell of a table, escaped, then padded to width columns and a space; width 0 ends the row. printf's "%-20s"
 * counts bytes, so a name in UTF-8 would shift every column after it. */
static void cell(const char *s, int width)
{
        char buf[CELL_MAX];
        int cols = 0;

        text(s, buf, sizeof(buf)); /* valid UTF-8 from here on */
        for (const unsigned char *p = (const unsigned char *)buf; *p;) {
                size_t n = utf8_valid_len(p);
                if (n == 0)
                        break;                                    /* cannot be: escape_text leaves none */
                cols += (int)utf8_columns(utf8_code_point(p, n)); /* columns, not bytes */
                p += n;
        }
        fputs(buf, stdout);
        if (width == 0)
                putchar('\n');
        else
                printf("%*s", width > cols ? width - cols + 1 : 1, "");
}

static const char *runq_source_name(enum runq_source s)
{
        return s == RUNQ_SOURCE_BPF ? "bpf" : s == RUNQ_SOURCE_SCHEDSTAT ? "schedstat" : "none";
}

static bool protected(const struct snapshot_state *st)
{
        return st->memory_min[0] || st->memory_low[0] || st->memory_swap_max[0] || st->memory_zswap_max[0];
}

/* Only when some VM's group sets them: the rest of the time the table would be dashes. */
static void print_protection(const struct snapshot_vm *rows, size_t n)
{
        char name[AUDIT_LOG_NAME_MAX];
        bool any = false;

        for (size_t i = 0; i < n && !any; i++)
                any = protected(&rows[i].st);
        if (!any)
                return;
        printf("\nmemory protection (MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax=)\n");
        printf("%-7s %-20s %-12s %-12s %-12s %s\n", "PID", "NAME", "MEM.MIN", "MEM.LOW", "SWAP.MAX", "ZSWAP.MAX");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                if (!protected(&r->st))
                        continue;
                printf("%-7d ", (int)r->id.pid);
                cell(vm_display_name(&r->id, name, sizeof(name)), 20);
                cell(or_dash(r->st.memory_min), 12);
                cell(or_dash(r->st.memory_low), 12);
                cell(or_dash(r->st.memory_swap_max), 12);
                cell(or_dash(r->st.memory_zswap_max), 0);
        }
}

/* A row per threaded child of the VMs placed apart: the CPU its threads used over the tick, how often cpu.max held
 * them back since the child was made, each vCPU's run-queue p99 (eBPF) and where they may run. */
static void print_thread_rows(const struct snapshot_vm *rows, size_t n)
{
        char name[AUDIT_LOG_NAME_MAX], tid[16], cpu[16], throttled[48], runq[24];
        bool any = false;

        for (size_t i = 0; i < n && !any; i++)
                any = rows[i].n_threads > 0;
        if (!any)
                return;
        printf("\n%-7s %-20s %-12s %-8s %-7s %-22s %-9s %s\n", "PID", "NAME", "THREAD", "TID", "CPU", "THROTTLED",
               "RUNQ.P99", "CPUS");
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < rows[i].n_threads; k++) {
                        const struct thread_signals *t = &rows[i].threads[k];

                        snprintf(tid, sizeof(tid), t->tid > 0 ? "%d" : "-", (int)t->tid);
                        snprintf(cpu, sizeof(cpu), t->stat_read ? "%.1f%%" : "-", t->usage_ppm / 1e4);
                        if (t->stat_read)
                                snprintf(throttled, sizeof(throttled), "%llu of %llu periods",
                                         (unsigned long long)t->nr_throttled, (unsigned long long)t->nr_periods);
                        else
                                snprintf(throttled, sizeof(throttled), "-");
                        if (t->runq_measured && t->runq_samples)
                                snprintf(runq, sizeof(runq), "%lluus", (unsigned long long)t->runq_p99_usec);
                        else
                                snprintf(runq, sizeof(runq), "-");
                        printf("%-7d ", (int)rows[i].id.pid);
                        cell(vm_display_name(&rows[i].id, name, sizeof(name)), 20);
                        cell(t->name, 12);
                        printf("%-8s %-7s %-22s %-9s ", tid, cpu, throttled, runq);
                        cell(or_dash(t->cpus), 0);
                }
}

/* A group that places a VM's threads apart (VCPUAllowedCPUs=, VCPUQuota=, ...): how, or why they stay together. */
static void print_threads(const struct snapshot_vm *rows, size_t n)
{
        char name[AUDIT_LOG_NAME_MAX], buf[ESCAPE_TEXT_SIZE(sizeof(rows->st.threads))];
        bool any = false;

        for (size_t i = 0; i < n && !any; i++)
                any = rows[i].st.threads[0];
        if (!any)
                return;
        printf("\nthreads (groups that place them apart)\n");
        printf("%-7s %-20s %s\n", "PID", "NAME", "THREADS");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                if (!r->st.threads[0])
                        continue;
                printf("%-7d ", (int)r->id.pid);
                cell(vm_display_name(&r->id, name, sizeof(name)), 20);
                printf("%s\n", text(r->st.threads, buf, sizeof(buf)));
        }
        print_thread_rows(rows, n);
}

static void io_rates(const struct vm_signals *sg, double *ret_read, double *ret_write)
{
        uint64_t rd = 0, wr = 0;
        double secs = sg->interval_usec ? sg->interval_usec / 1e6 : 1;

        for (unsigned k = 0; k < sg->n_io_devices && k < SIGNALS_IO_DEVICES; k++) {
                rd += sg->io_devices[k].rbytes;
                wr += sg->io_devices[k].wbytes;
        }
        *ret_read = rd / secs;
        *ret_write = wr / secs;
}

static void print_header(const struct status_view *v)
{
        const struct snapshot_daemon *d = &v->daemon;
        char policy[ESCAPE_TEXT_SIZE(sizeof(d->policy))];

        if (!v->live) {
                printf("no vmgov daemon is running: limits as the cgroups hold them now, signals sampled over "
                       "%.1fs\n\n",
                       v->interval_usec / 1e6);
                return;
        }
        printf("vmgov daemon pid %d (%s, policy %s): tick %llu every %.1fs, written %.1fs ago; %llu %s, %llu "
               "errors\n",
               (int)d->pid, d->dry_run ? "dry-run" : "enforcing", text(d->policy, policy, sizeof(policy)),
               (unsigned long long)d->ticks, d->interval_usec / 1e6, v->age_usec / 1e6, (unsigned long long)d->writes,
               d->dry_run ? "changes it would have made" : "changes", (unsigned long long)d->errors);
        if (v->stale)
                printf("warning: not rewritten for %.0fs (%.1fs expected): the daemon may be stuck\n",
                       v->age_usec / 1e6, d->interval_usec / 1e6);
        printf("\n");
}

static void print_table(const struct status_view *v, const struct snapshot_vm *rows, size_t n)
{
        char name[AUDIT_LOG_NAME_MAX], source[ESCAPE_TEXT_SIZE(sizeof(v->daemon.runq_source))];

        print_header(v);
        printf("%-7s %-20s %-36s %-10s %-36s %-16s %-7s %-12s %-12s %s\n", "PID", "NAME", "UUID", "GROUP", "CGROUP",
               "CPU.MAX", "WEIGHT", "MEM.HIGH", "MEM.MAX", "IO.MAX");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                printf("%-7d ", (int)r->id.pid);
                cell(vm_display_name(&r->id, name, sizeof(name)), 20);
                cell(or_dash(r->id.uuid), 36);
                cell(r->st.group[0] ? r->st.group : "(unmanaged)", 10);
                cell(r->id.cgroup ? r->id.cgroup : "", 36);
                cell(or_dash(r->st.cpu_max), 16);
                cell(or_dash(r->st.cpu_weight), 7);
                cell(or_dash(r->st.memory_high), 12);
                cell(or_dash(r->st.memory_max), 12);
                cell(or_dash(r->st.io_max), 0);
        }
        print_protection(rows, n);
        print_threads(rows, n);

        printf("\nover %.1fs: pressure is the share of time stalled (some), run-queue latency from %s\n",
               v->interval_usec / 1e6, text(v->runq_source, source, sizeof(source)));
        printf("%-7s %-20s %-8s %-8s %-8s %-8s %-10s %-8s %-8s %-10s %-10s %-10s %-10s\n", "PID", "NAME", "CPU.PSI",
               "MEM.PSI", "IO.PSI", "CPU", "THROTTLED", "MEM", "HIGH", "IO.READ/s", "IO.WRITE/s", "RUNQ.P50",
               "RUNQ.P99");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                const struct vm_signals *sg = &r->sig;
                char a[16], b[16], c[16], d[16], m1[16], m2[16];
                double rd, wr;

                printf("%-7d ", (int)r->id.pid);
                cell(vm_display_name(&r->id, name, sizeof(name)), 20);
                if (!r->st.sensed) {
                        printf("(not sensed: %s)\n",
                               r->st.group[0] || !v->live ? "its cgroup holds other processes too, or is not there yet"
                                                          : "unmanaged");
                        continue;
                }
                io_rates(sg, &rd, &wr);
                snprintf(d, sizeof(d), "%.0f%%",
                         sg->interval_usec ? 100.0 * sg->cpu_usage_usec / sg->interval_usec : 0);
                printf("%-8s %-8s %-8s %-8s %-10llu %-8s %-8s %-10.0f %-10.0f %-10llu %-10llu us (%s)\n",
                       fmt_ppm(sg->cpu.some_ppm, a, sizeof(a)), fmt_ppm(sg->memory.some_ppm, b, sizeof(b)),
                       fmt_ppm(sg->io.some_ppm, c, sizeof(c)), d, (unsigned long long)sg->cpu_nr_throttled,
                       fmt_bytes(sg->memory_current, m1, sizeof(m1)),
                       sg->memory_high ? fmt_bytes(sg->memory_high, m2, sizeof(m2)) : "-", rd, wr,
                       (unsigned long long)sg->runq.p50_usec, (unsigned long long)sg->runq.p99_usec,
                       runq_source_name(sg->runq.source));
        }
        if (!v->live)
                return;

        uint64_t now = audit_now_usec();
        printf("\nthe feedback loop's last decision per VM\n");
        printf("%-7s %-20s %-9s %-6s %-8s %s\n", "PID", "NAME", "CHANGES", "ERRORS", "AGO", "REASON");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                char ago[32], reason[AUDIT_LOG_NAME_MAX];
                if (r->st.decided_usec && now >= r->st.decided_usec)
                        snprintf(ago, sizeof(ago), "%.0fs", (now - r->st.decided_usec) / 1e6);
                else
                        snprintf(ago, sizeof(ago), "-");
                printf("%-7d ", (int)r->id.pid);
                cell(vm_display_name(&r->id, name, sizeof(name)), 20);
                printf("%-9llu %-6llu %-8s %s\n", (unsigned long long)r->st.decisions, (unsigned long long)r->st.errors,
                       ago, r->st.reason[0] ? audit_escape_for_log(r->st.reason, reason, sizeof(reason)) : "-");
        }
        /* Said only when there is one: a frozen VM is the exception (HostFreezePressure=). */
        bool said = false;
        for (size_t i = 0; i < n; i++) {
                if (!rows[i].st.frozen)
                        continue;
                printf("%sfrozen: VM %s (pid %d) for %.0fs, thawed at the latest after FreezeMaxSec=\n",
                       said ? "" : "\n", vm_display_name(&rows[i].id, name, sizeof(name)), (int)rows[i].id.pid,
                       rows[i].st.frozen_usec / 1e6);
                said = true;
        }
}

/* A JSON string: escaped as in the audit log (a VM name is hostile input), or null for "" / "-". */
static void json_string(const char *key, const char *v, bool comma)
{
        char buf[3 * 4096 * 2 + 8];

        if (!v || !v[0] || strcmp(v, "-") == 0 || audit_json_escape(v, buf, sizeof(buf)) < 0)
                printf("\"%s\":null%s", key, comma ? "," : "");
        else
                printf("\"%s\":\"%s\"%s", key, buf, comma ? "," : "");
}

/* "thread_cgroups": the rows of print_thread_rows, with the counters whole. */
static void json_thread_rows(const struct snapshot_vm *r)
{
        printf("\"thread_cgroups\":[");
        for (size_t k = 0; k < r->n_threads; k++) {
                const struct thread_signals *t = &r->threads[k];

                printf("%s{", k ? "," : "");
                json_string("cgroup", t->name, true);
                if (t->tid > 0)
                        printf("\"tid\":%d,", (int)t->tid);
                else
                        printf("\"tid\":null,");
                if (t->stat_read)
                        printf("\"cpu_usage\":%.4f,\"usage_usec\":%llu,\"nr_periods\":%llu,\"nr_throttled\":%llu,"
                               "\"throttled_usec\":%llu,",
                               t->usage_ppm / 1e6, (unsigned long long)t->usage_usec, (unsigned long long)t->nr_periods,
                               (unsigned long long)t->nr_throttled, (unsigned long long)t->throttled_usec);
                if (t->runq_measured && t->runq_samples)
                        printf("\"runq_p99_usec\":%llu,\"runq_samples\":%llu,", (unsigned long long)t->runq_p99_usec,
                               (unsigned long long)t->runq_samples);
                else
                        printf("\"runq_p99_usec\":null,");
                json_string("cpus", t->cpus, false);
                printf("}");
        }
        printf("],");
}

static void print_json(const struct status_view *v, const struct snapshot_vm *rows, size_t n)
{
        const struct snapshot_daemon *d = &v->daemon;

        printf("{\"source\":\"%s\",\"interval_usec\":%llu,", v->live ? "daemon" : "sample",
               (unsigned long long)v->interval_usec);
        json_string("runq_source", v->runq_source, true);
        printf("\"daemon\":");
        if (v->live) {
                printf("{\"pid\":%d,\"time_usec\":%llu,\"age_usec\":%llu,\"stale\":%s,\"ticks\":%llu,\"dry_run\":%s,",
                       (int)d->pid, (unsigned long long)d->time_usec, (unsigned long long)v->age_usec,
                       v->stale ? "true" : "false", (unsigned long long)d->ticks, d->dry_run ? "true" : "false");
                json_string("policy", d->policy, true);
                printf("\"writes\":%llu,\"errors\":%llu}", (unsigned long long)d->writes,
                       (unsigned long long)d->errors);
        } else
                printf("null");
        printf(",\"vms\":[");
        for (size_t i = 0; i < n; i++) {
                const struct snapshot_vm *r = &rows[i];
                const struct vm_signals *sg = &r->sig;
                double rd, wr;

                printf("%s{\"pid\":%d,", i ? "," : "", (int)r->id.pid);
                json_string("name", vm_name(&r->id), true);
                json_string("uuid", r->id.uuid, true);
                json_string("group", r->st.group, true);
                json_string("cgroup", r->id.cgroup ? r->id.cgroup : "", true);
                if (v->live)
                        json_string("target_cgroup", r->st.cgroup, true);
                if (v->live && r->st.threads[0])
                        json_string("threads", r->st.threads, true);
                if (v->live && r->n_threads)
                        json_thread_rows(r);
                printf("\"limits\":{");
                json_string("cpu.max", r->st.cpu_max, true);
                json_string("cpu.weight", r->st.cpu_weight, true);
                json_string("memory.high", r->st.memory_high, true);
                json_string("memory.max", r->st.memory_max, true);
                json_string("memory.min", r->st.memory_min, true);
                json_string("memory.low", r->st.memory_low, true);
                json_string("memory.swap.max", r->st.memory_swap_max, true);
                json_string("memory.zswap.max", r->st.memory_zswap_max, true);
                json_string("io.max", r->st.io_max, false);
                printf("},");
                if (v->live) {
                        printf("\"decisions\":%llu,\"errors\":%llu,\"frozen\":%s,\"last_decision\":",
                               (unsigned long long)r->st.decisions, (unsigned long long)r->st.errors,
                               r->st.frozen ? "true" : "false");
                        if (r->st.decided_usec) {
                                printf("{\"time_usec\":%llu,", (unsigned long long)r->st.decided_usec);
                                json_string("reason", r->st.reason, false);
                                printf("},");
                        } else
                                printf("null,");
                }
                printf("\"signals\":");
                if (!r->st.sensed) {
                        printf("null}");
                        continue;
                }
                io_rates(sg, &rd, &wr);
                printf("{\"interval_usec\":%llu,\"cpu_some_ppm\":%u,\"memory_some_ppm\":%u,\"io_some_ppm\":%u,"
                       "\"cpu_usage_usec\":%llu,\"cpu_nr_throttled\":%llu,\"memory_current\":%llu,"
                       "\"io_read_bytes_per_sec\":%.0f,\"io_write_bytes_per_sec\":%.0f,\"runq_p50_usec\":%llu,"
                       "\"runq_p99_usec\":%llu,\"runq_source\":\"%s\"}}",
                       (unsigned long long)sg->interval_usec, sg->cpu.some_ppm, sg->memory.some_ppm, sg->io.some_ppm,
                       (unsigned long long)sg->cpu_usage_usec, (unsigned long long)sg->cpu_nr_throttled,
                       (unsigned long long)sg->memory_current, rd, wr, (unsigned long long)sg->runq.p50_usec,
                       (unsigned long long)sg->runq.p99_usec, runq_source_name(sg->runq.source));
        }
        printf("]}\n");
}

static void print_view(const struct status_view *v, const struct snapshot_vm *rows, size_t n, bool json,
                       const char *proc_root)
{
        if (json)
                print_json(v, rows, n);
        else if (n == 0) {
                print_header(v);
                printf("(no QEMU processes found under %s)\n", proc_root);
        } else
                print_table(v, rows, n);
}

/* ---- the daemon's view ---- */

/* Is pid a running vmgov? Not a zombie (a SIGKILLed daemon nobody reaped yet), and not someone else who got its
 * pid after a crash. */
static bool daemon_alive(int proc_fd, pid_t pid)
{
        _cleanup_close_ int pid_fd = procfs_pid_open(proc_fd, pid);
        struct procfs_stat st;

        if (pid_fd < 0 || procfs_stat_read(pid_fd, &st) < 0)
                return false;
        return strcmp(st.comm, "vmgov") == 0 && st.state != 'Z' && st.state != 'X';
}

/* 1 and the view when a running daemon wrote the status file, 0 when there is none (said why at debug or as a
 * warning), -errno on failure. */
static int status_read_live(int proc_fd, const char *path, struct status_view *v, struct snapshot_vm **ret_rows,
                            size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        unsigned line = 0;
        struct stat st;
        size_t len;
        int r;

        /* Only a file the daemon could have written: the engine user's (or root's) regular file that no one else
         * may write, reached without a symlink. Anything else is refused, and the host sampled instead. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return log_debug("status file %s: none; sampling", path), 0;
        if (fd >= 0 && fstat(fd, &st) < 0)
                fd = safe_close(fd);
        if (fd < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
                log_warn("status file %s: refused: not a regular file of the engine's user that others cannot write "
                         "(%s); sampling instead",
                         path, fd < 0 ? strerror(errno) : "owner or mode");
                return 0;
        }
        r = procfs_fd_read(fd, SNAPSHOT_FILE_MAX, &text, &len);
        if (r == -ENOENT)
                return log_debug("status file %s: none; sampling", path), 0;
        if (r > 0)
                r = -EFBIG;
        if (r < 0) {
                log_warn_errno(r, "status file %s: cannot read it: %m; sampling instead", path);
                return 0;
        }
        r = snapshot_parse(text, &v->daemon, ret_rows, ret_n, &line);
        if (r < 0) {
                if (line)
                        log_warn("status file %s:%u: malformed; sampling instead", path, line);
                else
                        log_warn_errno(r, "status file %s: not a vmgov status file: %m; sampling instead", path);
                return 0;
        }
        if (!daemon_alive(proc_fd, v->daemon.pid)) {
                log_warn("status file %s was left by vmgov pid %d, which is not running; sampling instead", path,
                         (int)v->daemon.pid);
                snapshot_vms_free(*ret_rows, *ret_n);
                *ret_rows = NULL;
                return 0;
        }
        uint64_t now = audit_now_usec();
        v->live = true;
        v->age_usec = now > v->daemon.time_usec ? now - v->daemon.time_usec : 0;
        v->stale = v->age_usec > 3 * v->daemon.interval_usec + 5000000;
        v->interval_usec = v->daemon.interval_usec;
        v->runq_source = v->daemon.runq_source[0] ? v->daemon.runq_source : "none";
        return 1;
}

/* ---- sampling here ---- */

/* A cgroup file's value for the status table: trimmed, "" when unreadable (no controller, no cgroup). */
static void cgroup_value(int fd, const char *file, char *buf, size_t size)
{
        if (fd < 0 || cgroupfs_read(fd, file, buf, size) < 0)
                buf[0] = '\0';
        for (char *p = buf; *p; p++)
                if (*p == '\n')
                        *p = (p[1] ? ';' : '\0');
}

static void protection_value(int fd, const char *file, const char *kernel_default, char *buf, size_t size)
{
        cgroup_value(fd, file, buf, size);
        if (strcmp(buf, kernel_default) == 0)
                buf[0] = '\0';
}

struct sampler {
        int fd;
        struct sense_vm *sensor;
        bool tracked;
        unsigned schedlat_id;
};

static void sample_tick(struct engine *e, struct snapshot_vm *rows, struct sampler *s, size_t n)
{
        uint64_t now = monotonic_usec();

        for (size_t i = 0; i < n; i++) {
                if (s[i].sensor)
                        (void)sense_vm_tick(s[i].sensor, now, &rows[i].sig);
                if (s[i].tracked)
                        (void)schedlat_read(e->schedlat, s[i].schedlat_id, &rows[i].sig.runq, NULL);
        }
}

static int status_sample(struct engine *e, struct snapshot_vm **ret_rows, size_t *ret_n)
{
        _cleanup_free_ struct vm_identity *ids = NULL; /* what each holds goes to its row */
        _cleanup_free_ struct snapshot_vm *rows = NULL;
        _cleanup_free_ struct sampler *s = NULL;
        size_t n = 0;
        int r;

        r = discover_vms_scan(e->proc_fd, discover_stage_is_qemu, e, &ids, &n);
        if (r < 0)
                return log_err_errno(r, "scan %s: %m", e->opt.roots.proc);
        rows = calloc(n ? n : 1, sizeof(*rows));
        s = calloc(n ? n : 1, sizeof(*s));
        if (!rows || !s) {
                vm_identities_free(TAKE_PTR(ids), n);
                return -ENOMEM;
        }

        /* Limits as they are, and the cgroups that describe one VM each, sensed over one interval. */
        for (size_t i = 0; i < n; i++) {
                struct snapshot_state *st = &rows[i].st;
                const struct group_policy *g = policy_match(e->policy, &ids[i]);
                pid_t foreign;

                rows[i].id = ids[i];
                s[i].fd = -1;
                snprintf(st->group, sizeof(st->group), "%s", g ? g->name : "");
                if (strcmp(ids[i].cgroup, "/") != 0)
                        s[i].fd = cgroupfs_open_dir(e->mount_fd, ids[i].cgroup + 1);
                cgroup_value(s[i].fd, "cpu.max", st->cpu_max, sizeof(st->cpu_max));
                cgroup_value(s[i].fd, "cpu.weight", st->cpu_weight, sizeof(st->cpu_weight));
                cgroup_value(s[i].fd, "memory.high", st->memory_high, sizeof(st->memory_high));
                cgroup_value(s[i].fd, "memory.max", st->memory_max, sizeof(st->memory_max));
                /* the protection as a daemon shows it: only where it is not the kernel's default */
                protection_value(s[i].fd, "memory.min", "0", st->memory_min, sizeof(st->memory_min));
                protection_value(s[i].fd, "memory.low", "0", st->memory_low, sizeof(st->memory_low));
                protection_value(s[i].fd, "memory.swap.max", "max", st->memory_swap_max, sizeof(st->memory_swap_max));
                protection_value(s[i].fd, "memory.zswap.max", "max", st->memory_zswap_max,
                                 sizeof(st->memory_zswap_max));
                cgroup_value(s[i].fd, "io.max", st->io_max, sizeof(st->io_max));
                if (s[i].fd >= 0 && cgroupfs_check_exclusive(s[i].fd, ids[i].pid, &foreign) == 0) {
                        struct sense_options so = {.name = ids[i].cgroup, .swap = e->swap};
                        (void)sense_vm_open(s[i].fd, &so, &s[i].sensor);
                        if (e->schedlat && schedlat_vm_add(e->schedlat, s[i].fd, ids[i].pid, &s[i].schedlat_id) == 0)
                                s[i].tracked = true;
                }
                st->sensed = s[i].sensor != NULL;
        }
        if (n > 0) {
                sample_tick(e, rows, s, n);
                usleep(e->interval_usec);
                sample_tick(e, rows, s, n);
        }
        for (size_t i = 0; i < n; i++) {
                sense_vm_freep(&s[i].sensor);
                if (s[i].tracked)
                        schedlat_vm_remove(e->schedlat, s[i].schedlat_id);
                closep(&s[i].fd);
        }
        *ret_rows = TAKE_PTR(rows);
        *ret_n = n;
        return 0;
}

int status_show_live(const struct engine_options *opt, bool json)
{
        const char *path = opt->status_path ? opt->status_path : SNAPSHOT_DEFAULT;
        _cleanup_close_ int proc_fd = -1;
        struct snapshot_vm *rows = NULL;
        struct status_view v = {0};
        size_t n = 0;
        int r;

        if (strcmp(path, "none") == 0)
                return 0;
        proc_fd = open(opt->roots.proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return log_err_errno(-errno, "open %s: %m", opt->roots.proc);
        r = status_read_live(proc_fd, path, &v, &rows, &n);
        if (r <= 0)
                return r;
        print_view(&v, rows, n, json, opt->roots.proc);
        snapshot_vms_free(rows, n);
        return 1;
}

int engine_status(struct engine *e, bool json)
{
        struct snapshot_vm *rows = NULL;
        struct status_view v = {
                .interval_usec = e->interval_usec,
                .runq_source = e->schedlat ? schedlat_mode(e->schedlat) : "none",
        };
        size_t n = 0;
        int r;

        r = status_sample(e, &rows, &n);
        if (r < 0)
                return r;
        print_view(&v, rows, n, json, e->opt.roots.proc);
        snapshot_vms_free(rows, n);
        return 0;
}
