/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/escape.h"
#include "kernel/fields.h"
#include "kernel/macro.h"
#include "publish/recorder.h"

#define F(name, member) FIELD(struct vm_signals, name, member)
static const struct field vm_fields[] = {
        F("interval_usec", interval_usec),
        F("cpu_some_ppm", cpu.some_ppm),
        F("cpu_full_ppm", cpu.full_ppm),
        F("memory_some_ppm", memory.some_ppm),
        F("memory_full_ppm", memory.full_ppm),
        F("io_some_ppm", io.some_ppm),
        F("io_full_ppm", io.full_ppm),
        F("cpu_usage_usec", cpu_usage_usec),
        F("cpu_user_usec", cpu_user_usec),
        F("cpu_system_usec", cpu_system_usec),
        F("cpu_nr_periods", cpu_nr_periods),
        F("cpu_nr_throttled", cpu_nr_throttled),
        F("cpu_throttled_usec", cpu_throttled_usec),
        F("cpu_nr_bursts", cpu_nr_bursts),
        F("cpu_burst_usec", cpu_burst_usec),
        F("cpu_burst_stat", cpu_burst_stat),
        F("memory_current", memory_current),
        F("memory_anon", memory_anon),
        F("memory_file", memory_file),
        F("memory_kernel", memory_kernel),
        F("memory_shmem", memory_shmem),
        F("memory_sock", memory_sock),
        F("memory_unreclaimable", memory_unreclaimable),
        F("memory_high", memory_high),
        F("memory_max", memory_max),
        F("memory_events_high", memory_events_high),
        F("memory_events_max", memory_events_max),
        F("memory_events_oom", memory_events_oom),
        F("memory_events_oom_kill", memory_events_oom_kill),
        F("memory_reclaim", memory_reclaim),
        F("runq_samples", runq.samples),
        F("runq_p50_usec", runq.p50_usec),
        F("runq_p90_usec", runq.p90_usec),
        F("runq_p99_usec", runq.p99_usec),
        F("runq_vcpu_p99_usec", runq.vcpu_p99_usec),
        F("runq_worst_vcpu_p99_usec", runq.worst_vcpu_p99_usec),
        F("runq_worst_vcpu", runq.worst_vcpu),
};
#undef F

#define H(name, member) FIELD(struct host_signals, name, member)
static const struct field host_fields[] = {
        H("interval_usec", interval_usec),     H("cpu_some_ppm", cpu.some_ppm),
        H("cpu_full_ppm", cpu.full_ppm),       H("memory_some_ppm", memory.some_ppm),
        H("memory_full_ppm", memory.full_ppm), H("io_some_ppm", io.some_ppm),
        H("io_full_ppm", io.full_ppm),         H("ncpus", ncpus),
};
#undef H

static const char *const runq_sources[] = {
        [RUNQ_SOURCE_NONE] = "none",
        [RUNQ_SOURCE_BPF] = "bpf",
        [RUNQ_SOURCE_SCHEDSTAT] = "schedstat",
};

struct out {
        char *buf;
        size_t size, len;
        bool overflow;
};

_printf_(2, 3) static void out_printf(struct out *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (o->overflow)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= o->size - o->len)
                o->overflow = true;
        else
                o->len += n;
}

static void out_encoded(struct out *o, const char *key, const char *s)
{
        char buf[3 * VM_CGROUP_MAX + 1]; /* the longest field, each byte as %XX */

        out_printf(o, " %s=", key);
        if (escape_percent(s, buf, sizeof(buf)) < 0)
                o->overflow = true;
        else
                out_printf(o, "%s", buf);
}

static void out_fields(struct out *o, const void *base, const struct field *fields, size_t n)
{
        for (size_t i = 0; i < n; i++)
                out_printf(o, " %s=%llu", fields[i].name, (unsigned long long)field_get_u(base, &fields[i]));
}

static int out_finish(struct out *o)
{
        out_printf(o, "\n");
        return o->overflow ? -ENOBUFS : (int)o->len;
}

int recorder_format_tick(uint64_t now_usec, const struct host_signals *host, char *buf, size_t size)
{
        struct out o = {.buf = buf, .size = size};

        out_printf(&o, "tick now_usec=%llu", (unsigned long long)now_usec);
        out_fields(&o, host, host_fields, ELEMENTSOF(host_fields));
        return out_finish(&o);
}

int recorder_format_vm(const struct vm_identity *id, const struct vm_signals *sig, char *buf, size_t size)
{
        struct out o = {.buf = buf, .size = size};

        out_printf(&o, "vm pid=%d start=%llu uid=%u", (int)id->pid, (unsigned long long)id->start_time,
                   (unsigned)id->uid);
        out_encoded(&o, "name", vm_name(id));
        out_encoded(&o, "uuid", id->uuid);
        out_encoded(&o, "exe", vm_exe(id));
        out_encoded(&o, "cgroup", id->cgroup ? id->cgroup : "");
        out_fields(&o, sig, vm_fields, ELEMENTSOF(vm_fields));
        out_printf(&o, " runq_source=%s",
                   sig->runq.source < ELEMENTSOF(runq_sources) ? runq_sources[sig->runq.source] : "none");
        for (unsigned i = 0; i < sig->n_io_devices && i < SIGNALS_IO_DEVICES; i++) {
                const struct io_device_rates *d = &sig->io_devices[i];
                out_printf(&o, " io%u=%u:%u:%llu:%llu:%llu:%llu", i, d->major, d->minor, (unsigned long long)d->rbytes,
                           (unsigned long long)d->wbytes, (unsigned long long)d->rios, (unsigned long long)d->wios);
        }
        return out_finish(&o);
}

static int write_all(int fd, const char *buf, size_t len)
{
        ssize_t n = write(fd, buf, len);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

int recorder_write_tick(int fd, uint64_t now_usec, const struct host_signals *host)
{
        char line[RECORDER_LINE_MAX];
        int r = recorder_format_tick(now_usec, host, line, sizeof(line));

        return r < 0 ? r : write_all(fd, line, r);
}

int recorder_write_vm(int fd, const struct vm_identity *id, const struct vm_signals *sig)
{
        char line[RECORDER_LINE_MAX];
        int r = recorder_format_vm(id, sig, line, sizeof(line));

        return r < 0 ? r : write_all(fd, line, r);
}

struct tick_parse {
        uint64_t now;
        bool have_now;
        struct host_signals host;
};

static int tick_field(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata)
{
        struct tick_parse *t = userdata;
        const struct field *f;
        uint64_t v;

        if (kv_parse_u64(val, vallen, &v) < 0)
                return -EINVAL;
        if (keylen == 8 && memcmp(key, "now_usec", 8) == 0) {
                t->now = v;
                t->have_now = true;
        } else if ((f = field_find(host_fields, ELEMENTSOF(host_fields), key, keylen)))
                field_set_u(&t->host, f, v);
        return 0;
}

int recorder_parse_tick(const char *line, uint64_t *ret_now_usec, struct host_signals *ret_host)
{
        struct tick_parse t = {0};
        int r = kv_for_each(line, "tick", tick_field, &t);

        if (r < 0)
                return r;
        if (!t.have_now)
                return -EINVAL;
        *ret_now_usec = t.now;
        *ret_host = t.host;
        return 0;
}

struct vm_parse {
        struct vm_identity id;
        char name[VM_NAME_MAX + 1], exe[VM_EXE_MAX + 1]; /* then on the identity's heap */
        char cgroup[VM_CGROUP_MAX];
        bool have_cgroup;
        struct vm_signals sig;
        bool have_pid;
};

static int vm_io_field(struct vm_parse *v, const char *key, size_t keylen, const char *val, size_t vallen)
{
        uint64_t idx, parts[6];
        size_t start = 0, n = 0;

        if (kv_parse_u64(key + 2, keylen - 2, &idx) < 0 || idx >= SIGNALS_IO_DEVICES)
                return -EINVAL;
        for (size_t i = 0; i <= vallen; i++) {
                if (i < vallen && val[i] != ':')
                        continue;
                if (n >= ELEMENTSOF(parts) || kv_parse_u64(val + start, i - start, &parts[n]) < 0)
                        return -EINVAL;
                n++;
                start = i + 1;
        }
        if (n != ELEMENTSOF(parts) || parts[0] > UINT32_MAX || parts[1] > UINT32_MAX)
                return -EINVAL;
        v->sig.io_devices[idx] = (struct io_device_rates){(unsigned)parts[0], (unsigned)parts[1], parts[2],
                                                          parts[3],           parts[4],           parts[5]};
        v->sig.n_io_devices = MAX(v->sig.n_io_devices, (unsigned)idx + 1);
        return 0;
}

static int vm_field(const char *key, size_t keylen, const char *val, size_t vallen, void *userdata)
{
        struct vm_parse *v = userdata;
        const struct field *f;
        uint64_t n;

        if (kv_key_is(key, keylen, "name"))
                return unescape_percent(val, vallen, v->name, sizeof(v->name));
        if (kv_key_is(key, keylen, "uuid"))
                return unescape_percent(val, vallen, v->id.uuid, sizeof(v->id.uuid));
        if (kv_key_is(key, keylen, "exe"))
                return unescape_percent(val, vallen, v->exe, sizeof(v->exe));
        if (kv_key_is(key, keylen, "cgroup")) {
                v->have_cgroup = true;
                return unescape_percent(val, vallen, v->cgroup, sizeof(v->cgroup));
        }
        if (kv_key_is(key, keylen, "runq_source")) {
                for (size_t i = 0; i < ELEMENTSOF(runq_sources); i++)
                        if (strlen(runq_sources[i]) == vallen && memcmp(runq_sources[i], val, vallen) == 0) {
                                v->sig.runq.source = (enum runq_source)i;
                                return 0;
                        }
                return -EINVAL;
        }
        if (keylen > 2 && key[0] == 'i' && key[1] == 'o' && key[2] >= '0' && key[2] <= '9')
                return vm_io_field(v, key, keylen, val, vallen);
        if (kv_parse_u64(val, vallen, &n) < 0)
                return -EINVAL;
        if (kv_key_is(key, keylen, "pid")) {
                if (n == 0 || n > INT32_MAX)
                        return -EINVAL;
                v->id.pid = (pid_t)n;
                v->have_pid = true;
        } else if (kv_key_is(key, keylen, "start"))
                v->id.start_time = n;
        else if (kv_key_is(key, keylen, "uid"))
                v->id.uid = (uid_t)n;
        else if ((f = field_find(vm_fields, ELEMENTSOF(vm_fields), key, keylen)))
                field_set_u(&v->sig, f, n);
        return 0; /* unknown keys: a newer engine's signals */
}

int recorder_parse_vm(const char *line, struct vm_identity *ret_id, struct vm_signals *ret_sig)
{
        struct vm_parse *v = calloc(1, sizeof(*v));
        int r;

        if (!v)
                return -ENOMEM;
        r = kv_for_each(line, "vm", vm_field, v);
        if (r == 0 && !v->have_pid)
                r = -EINVAL;
        if (r == 0)
                r = vm_identity_set(&v->id.name, v->name);
        if (r == 0)
                r = vm_identity_set(&v->id.exe, v->exe);
        if (r == 0 && v->have_cgroup)
                r = vm_identity_set_cgroup(&v->id, v->cgroup);
        if (r == 0) {
                vm_identity_move(ret_id, &v->id);
                *ret_sig = v->sig;
        }
        vm_identity_done(&v->id);
        free(v);
        return r;
}

static void tick_vms_clear(struct recorded_tick *t)
{
        for (size_t i = 0; i < t->n_vms; i++)
                vm_identity_done(&t->vms[i].id);
        t->n_vms = 0;
}

static int tick_add_vm(struct recorded_tick *t, struct recorded_vm **ret)
{
        if (t->n_vms == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 8;
                struct recorded_vm *v = realloc(t->vms, n * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                t->vms = v;
                t->allocated = n;
        }
        *ret = &t->vms[t->n_vms++];
        return 0;
}

/* One line into t->line, without its newline. 1, 0 at the end, -EINVAL if longer than any line we write. */
static int read_line(FILE *f, struct recorded_tick *t, unsigned *ret_line)
{
        if (!t->line) {
                t->line = malloc(RECORDER_LINE_MAX);
                if (!t->line)
                        return -ENOMEM;
        }
        if (!fgets(t->line, RECORDER_LINE_MAX, f))
                return 0;
        (*ret_line)++;
        size_t len = strlen(t->line);
        if (len && t->line[len - 1] == '\n')
                t->line[len - 1] = '\0';
        else if (!feof(f))
                return -EINVAL;
        return 1;
}

int recorder_read_tick(FILE *f, struct recorded_tick *t, unsigned *ret_line)
{
        bool in_tick = false;
        int r;

        tick_vms_clear(t);
        if (t->have_pending) { /* the tick line that ended the previous call */
                t->have_pending = false;
                r = recorder_parse_tick(t->line, &t->now_usec, &t->host);
                if (r < 0)
                        return r;
                in_tick = true;
        }
        for (;;) {
                r = read_line(f, t, ret_line);
                if (r < 0)
                        return r;
                if (r == 0)
                        return in_tick ? 1 : 0;
                if (*ret_line == 1) {
                        if (strcmp(t->line, RECORDER_MAGIC) != 0)
                                return -EINVAL;
                        continue;
                }
                if (!t->line[0] || t->line[0] == '#')
                        continue;
                if (strncmp(t->line, "tick ", 5) == 0) {
                        if (in_tick) {
                                t->have_pending = true;
                                return 1;
                        }
                        r = recorder_parse_tick(t->line, &t->now_usec, &t->host);
                        if (r < 0)
                                return r;
                        in_tick = true;
                        continue;
                }
                if (!in_tick)
                        return -EINVAL;
                struct recorded_vm parsed, *vm;
                r = recorder_parse_vm(t->line, &parsed.id, &parsed.sig);
                if (r < 0)
                        return r;
                r = tick_add_vm(t, &vm);
                if (r < 0) {
                        vm_identity_done(&parsed.id);
                        return r;
                }
                *vm = parsed;
        }
}

void recorder_tick_done(struct recorded_tick *t)
{
        tick_vms_clear(t);
        free(t->vms);
        free(t->line);
        *t = (struct recorded_tick){0};
}
