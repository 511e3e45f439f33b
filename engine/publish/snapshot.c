/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/escape.h"
#include "kernel/fields.h"
#include "kernel/macro.h"
#include "publish/recorder.h"
#include "publish/snapshot.h"

/* Room for need more bytes (and a NUL). */
static int text_reserve(struct snapshot_text *t, size_t need)
{
        if (t->len + need + 1 <= t->size)
                return 0;
        size_t size = MAX(t->size * 2, t->len + need + 1);
        char *b = realloc(t->buf, size);
        if (!b)
                return -ENOMEM;
        t->buf = b;
        t->size = size;
        return 0;
}

_printf_(2, 3) static int text_printf(struct snapshot_text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        for (;;) {
                size_t room = t->size - t->len;
                va_start(ap, fmt);
                n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
                va_end(ap);
                if (n < 0)
                        return -ENOBUFS;
                if (t->buf && (size_t)n < room) {
                        t->len += n;
                        return 0;
                }
                int r = text_reserve(t, (size_t)n);
                if (r < 0)
                        return r;
        }
}

static int text_encoded(struct snapshot_text *t, const char *key, const char *s)
{
        char buf[3 * 4096 + 1];

        if (escape_percent(s, buf, sizeof(buf)) < 0)
                return -ENOBUFS;
        return text_printf(t, " %s=%s", key, buf);
}

int snapshot_format_daemon(struct snapshot_text *t, const struct snapshot_daemon *d)
{
        int r;

        t->len = 0;
        r = text_printf(t, "%s\ndaemon pid=%d time_usec=%llu interval_usec=%llu ticks=%llu dry_run=%d", SNAPSHOT_MAGIC,
                        (int)d->pid, (unsigned long long)d->time_usec, (unsigned long long)d->interval_usec,
                        (unsigned long long)d->ticks, d->dry_run);
        if (r == 0)
                r = text_encoded(t, "runq_source", d->runq_source);
        if (r == 0)
                r = text_encoded(t, "policy", d->policy);
        if (r == 0)
                r = text_printf(t, " writes=%llu errors=%llu\n", (unsigned long long)d->writes,
                                (unsigned long long)d->errors);
        return r;
}

int snapshot_format_vm(struct snapshot_text *t, const struct vm_identity *id, const struct vm_signals *sig,
                       const struct snapshot_state *st)
{
        const struct {
                const char *key, *value;
        } strings[] = {
                {"group", st->group},
                {"cgroup", st->cgroup},
                {"cpu.max", st->cpu_max},
                {"cpu.weight", st->cpu_weight},
                {"memory.high", st->memory_high},
                {"memory.max", st->memory_max},
                {"io.max", st->io_max},
                {"memory.min", st->memory_min},
                {"memory.low", st->memory_low},
                {"memory.swap.max", st->memory_swap_max},
                {"memory.zswap.max", st->memory_zswap_max},
                {"threads", st->threads},
                {"reason", st->reason},
        };
        char line[RECORDER_LINE_MAX];
        int r, len;

        len = recorder_format_vm(id, sig, line, sizeof(line));
        if (len < 0)
                return len;
        r = text_printf(t, "%sstate sensed=%d decisions=%llu errors=%llu decided_usec=%llu frozen=%d frozen_usec=%llu",
                        line, st->sensed, (unsigned long long)st->decisions, (unsigned long long)st->errors,
                        (unsigned long long)st->decided_usec, st->frozen, (unsigned long long)st->frozen_usec);
        for (size_t i = 0; i < ELEMENTSOF(strings) && r == 0; i++)
                r = text_encoded(t, strings[i].key, strings[i].value);
        return r < 0 ? r : text_printf(t, "\n");
}

int snapshot_format_thread(struct snapshot_text *t, const struct thread_signals *row)
{
        int r = text_printf(t, "thread");

        if (r == 0)
                r = text_encoded(t, "name", row->name);
        if (r == 0)
                r = text_printf(t,
                                " tid=%d runq=%d runq_samples=%llu runq_p99_usec=%llu stat=%d usage_usec=%llu "
                                "usage_ppm=%llu nr_periods=%llu nr_throttled=%llu throttled_usec=%llu",
                                (int)row->tid, row->runq_measured, (unsigned long long)row->runq_samples,
                                (unsigned long long)row->runq_p99_usec, row->stat_read,
                                (unsigned long long)row->usage_usec, (unsigned long long)row->usage_ppm,
                                (unsigned long long)row->nr_periods, (unsigned long long)row->nr_throttled,
                                (unsigned long long)row->throttled_usec);
        if (r == 0)
                r = text_encoded(t, "cpus", row->cpus);
        return r < 0 ? r : text_printf(t, "\n");
}

/* ---- parsing ---- */

/* The value of a known numeric key (-EINVAL when it is not a number, or not a pid for a pid_t); others skipped. */
static int numeric_field(const struct field *fields, size_t n, void *base, const char *key, size_t keylen,
                         const char *val, size_t vallen)
{
        const struct field *f = field_find(fields, n, key, keylen);
        uint64_t v;

        if (!f)
                return 0;
        if (kv_parse_u64(val, vallen, &v) < 0)
                return -EINVAL;
        if (f->size == sizeof(pid_t) && (v == 0 || v > INT32_MAX))
                return -EINVAL;
        field_set_u(base, f, v);
        return 0;
}

#define N(type, k, m) FIELD(type, k, m)

static int daemon_field(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata)
{
        static const struct field numbers[] = {
                N(struct snapshot_daemon, "pid", pid),
                N(struct snapshot_daemon, "time_usec", time_usec),
                N(struct snapshot_daemon, "interval_usec", interval_usec),
                N(struct snapshot_daemon, "ticks", ticks),
                N(struct snapshot_daemon, "dry_run", dry_run),
                N(struct snapshot_daemon, "writes", writes),
                N(struct snapshot_daemon, "errors", errors),
        };
        struct snapshot_daemon *d = userdata;

        if (kv_key_is(key, keylen, "runq_source"))
                return unescape_percent(val, vallen, d->runq_source, sizeof(d->runq_source));
        if (kv_key_is(key, keylen, "policy"))
                return unescape_percent(val, vallen, d->policy, sizeof(d->policy));
        return numeric_field(numbers, ELEMENTSOF(numbers), d, key, keylen, val, vallen);
}

static int state_field(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata)
{
        static const struct field strings[] = {
                N(struct snapshot_state, "group", group),
                N(struct snapshot_state, "cgroup", cgroup),
                N(struct snapshot_state, "cpu.max", cpu_max),
                N(struct snapshot_state, "cpu.weight", cpu_weight),
                N(struct snapshot_state, "memory.high", memory_high),
                N(struct snapshot_state, "memory.max", memory_max),
                N(struct snapshot_state, "io.max", io_max),
                N(struct snapshot_state, "memory.min", memory_min),
                N(struct snapshot_state, "memory.low", memory_low),
                N(struct snapshot_state, "memory.swap.max", memory_swap_max),
                N(struct snapshot_state, "memory.zswap.max", memory_zswap_max),
                N(struct snapshot_state, "threads", threads),
                N(struct snapshot_state, "reason", reason),
        };
        static const struct field numbers[] = {
                N(struct snapshot_state, "sensed", sensed), N(struct snapshot_state, "decisions", decisions),
                N(struct snapshot_state, "errors", errors), N(struct snapshot_state, "decided_usec", decided_usec),
                N(struct snapshot_state, "frozen", frozen), N(struct snapshot_state, "frozen_usec", frozen_usec),
        };
        struct snapshot_state *st = userdata;

        const struct field *f = field_find(strings, ELEMENTSOF(strings), key, keylen);
        if (f)
                return unescape_percent(val, vallen, (char *)st + f->offset, f->size);
        return numeric_field(numbers, ELEMENTSOF(numbers), st, key, keylen, val, vallen);
}

static int thread_field(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata)
{
        static const struct field strings[] = {
                N(struct thread_signals, "name", name),
                N(struct thread_signals, "cpus", cpus),
        };
        static const struct field numbers[] = {
                N(struct thread_signals, "runq", runq_measured),
                N(struct thread_signals, "runq_samples", runq_samples),
                N(struct thread_signals, "runq_p99_usec", runq_p99_usec),
                N(struct thread_signals, "stat", stat_read),
                N(struct thread_signals, "usage_usec", usage_usec),
                N(struct thread_signals, "usage_ppm", usage_ppm),
                N(struct thread_signals, "nr_periods", nr_periods),
                N(struct thread_signals, "nr_throttled", nr_throttled),
                N(struct thread_signals, "throttled_usec", throttled_usec),
        };
        struct thread_signals *row = userdata;
        uint64_t v;

        const struct field *f = field_find(strings, ELEMENTSOF(strings), key, keylen);
        if (f)
                return unescape_percent(val, vallen, (char *)row + f->offset, f->size);
        if (kv_key_is(key, keylen, "tid")) { /* 0 for the emulator's many threads */
                if (kv_parse_u64(val, vallen, &v) < 0 || v > INT32_MAX)
                        return -EINVAL;
                row->tid = (pid_t)v;
                return 0;
        }
        return numeric_field(numbers, ELEMENTSOF(numbers), row, key, keylen, val, vallen);
}

/* A "thread" line, for the VM before it. */
static int thread_line(char *line, struct snapshot_vm *vm)
{
        struct thread_signals row = {0}, *p;
        int r = kv_for_each(line, "thread", thread_field, &row);

        if (r < 0 || !row.name[0])
                return -EINVAL;
        p = reallocarray(vm->threads, vm->n_threads + 1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        vm->threads = p;
        vm->threads[vm->n_threads++] = row;
        return 0;
}

#undef N

static bool first_word_is(const char *line, const char *word)
{
        size_t n = strlen(word);
        return strncmp(line, word, n) == 0 && (line[n] == ' ' || line[n] == '\0');
}

void snapshot_vms_free(struct snapshot_vm *vms, size_t n)
{
        for (size_t i = 0; vms && i < n; i++) {
                vm_identity_done(&vms[i].id);
                free(vms[i].threads);
        }
        free(vms);
}

static int parse_fail(struct snapshot_vm *vms, size_t n, int r)
{
        snapshot_vms_free(vms, n);
        return r;
}

int snapshot_parse(const char *text, struct snapshot_daemon *ret_daemon, struct snapshot_vm **ret_vms, size_t *ret_n,
                   unsigned *ret_line)
{
        struct snapshot_vm *vms = NULL;
        _cleanup_free_ char *copy = strdup(text);
        struct snapshot_daemon d = {0};
        size_t n = 0, allocated = 0;
        bool have_daemon = false, want_state = false;
        unsigned lineno = 0;
        char *save = NULL;
        int r = 0;

        if (!copy)
                return -ENOMEM;
        *ret_line = 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                lineno++;
                if (lineno == 1) {
                        if (strcmp(line, SNAPSHOT_MAGIC) != 0)
                                return parse_fail(vms, n, -EBADMSG);
                        continue;
                }
                if (first_word_is(line, "daemon")) {
                        r = kv_for_each(line, "daemon", daemon_field, &d);
                        if (r == 0 && d.pid == 0) /* no pid= : whose view is it? */
                                r = -EINVAL;
                        have_daemon = r == 0;
                } else if (first_word_is(line, "vm")) {
                        if (want_state)
                                r = -EINVAL;
                        else if (n == allocated) {
                                allocated = MAX(allocated * 2, (size_t)8);
                                struct snapshot_vm *p = realloc(vms, allocated * sizeof(*vms));
                                if (!p)
                                        return parse_fail(vms, n, -ENOMEM);
                                vms = p;
                        }
                        if (r == 0) {
                                vms[n] = (struct snapshot_vm){0};
                                r = recorder_parse_vm(line, &vms[n].id, &vms[n].sig);
                                want_state = r == 0;
                                n += r == 0;
                        }
                } else if (first_word_is(line, "state")) {
                        r = want_state ? kv_for_each(line, "state", state_field, &vms[n - 1].st) : -EINVAL;
                        want_state = false;
                } else if (first_word_is(line, "thread")) {
                        r = n > 0 && !want_state ? thread_line(line, &vms[n - 1]) : -EINVAL;
                        if (r == -ENOMEM)
                                return parse_fail(vms, n, r);
                }
                if (r < 0) {
                        *ret_line = lineno;
                        return parse_fail(vms, n, -EINVAL);
                }
        }
        if (lineno == 0)
                return parse_fail(vms, n, -EBADMSG);
        if (!have_daemon || want_state) {
                *ret_line = lineno;
                return parse_fail(vms, n, -EINVAL);
        }
        *ret_daemon = d;
        *ret_vms = vms;
        *ret_n = n;
        return 0;
}
