/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cgvalues.h"
#include "kernel/fields.h"
#include "kernel/macro.h"

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL

static int format(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static int format(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (!buf || size == 0)
                return -ENOBUFS;
        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= size)
                return -ENOBUFS;
        return n;
}

/* "max" or a decimal number, for embedding in a larger value. */
static const char *u64_or_max(uint64_t v, char tmp[static 21])
{
        if (v == LIMIT_MAX)
                return CGV_MAX;
        snprintf(tmp, 21, "%" PRIu64, v);
        return tmp;
}

/* Decimal digits at *p (at least one), advancing *p. Kernel files never carry signs or blanks in numbers. */
static int u64_scan(const char **p, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
                        return -ERANGE;
        }
        *p = s;
        *ret = v;
        return 0;
}

static int u64_or_max_scan(const char **p, uint64_t *ret)
{
        if (strncmp(*p, CGV_MAX, strlen(CGV_MAX)) == 0) {
                *p += strlen(CGV_MAX);
                *ret = LIMIT_MAX;
                return 0;
        }
        return u64_scan(p, ret);
}

/* A single-value file ends after the value, with at most one newline. */
static bool at_value_end(const char *p)
{
        return p[0] == '\0' || (p[0] == '\n' && p[1] == '\0');
}

int cgv_format_u64(uint64_t v, char *buf, size_t size)
{
        return format(buf, size, "%" PRIu64, v);
}

int cgv_format_u64_or_max(uint64_t v, char *buf, size_t size)
{
        char tmp[21];
        return format(buf, size, "%s", u64_or_max(v, tmp));
}

static int parse_single(const char *s, bool allow_max, uint64_t *ret)
{
        uint64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = allow_max ? u64_or_max_scan(&s, &v) : u64_scan(&s, &v);
        if (r < 0)
                return r;
        if (!at_value_end(s))
                return -EINVAL;
        *ret = v;
        return 0;
}

int cgv_parse_u64(const char *s, uint64_t *ret)
{
        return parse_single(s, false, ret);
}

int cgv_parse_u64_or_max(const char *s, uint64_t *ret)
{
        return parse_single(s, true, ret);
}

int cgv_format_cpu_max(uint64_t quota_usec, uint64_t period_usec, char *buf, size_t size)
{
        char tmp[21];

        if (period_usec == LIMIT_MAX)
                return -EINVAL; /* the period is always a number */
        return format(buf, size, "%s %" PRIu64, u64_or_max(quota_usec, tmp), period_usec);
}

int cgv_parse_cpu_max(const char *s, uint64_t *ret_quota_usec, uint64_t *ret_period_usec)
{
        uint64_t quota, period;
        int r;

        if (!s)
                return -EINVAL;
        r = u64_or_max_scan(&s, &quota);
        if (r < 0)
                return r;
        if (*s++ != ' ')
                return -EINVAL;
        r = u64_scan(&s, &period);
        if (r < 0)
                return r;
        if (!at_value_end(s))
                return -EINVAL;
        *ret_quota_usec = quota;
        *ret_period_usec = period;
        return 0;
}

int cgv_cpu_quota_from_permyriad(uint64_t permyriad, uint64_t period_usec, uint64_t *ret_quota_usec,
                                 uint64_t *ret_period_usec)
{
        uint64_t per_sec, period, quota;
        unsigned __int128 q;

        if (permyriad == 0)
                return -EINVAL;
        /* systemd: cpu_quota_per_sec_usec = permyriad * USEC_PER_SEC / 10000 (exact: × 100). */
        if (__builtin_mul_overflow(permyriad, USEC_PER_SEC / 10000, &per_sec))
                return -ERANGE;

        period = period_usec == 0 ? CPU_PERIOD_DEFAULT_USEC : period_usec;
        /* cgroup_cpu_adjust_period(): the kernel's resolution is 1 ms, for the period and for the quota. */
        period = MAX(period, USEC_PER_MSEC);
        period = MAX(period, USEC_PER_MSEC * USEC_PER_SEC / per_sec);
        period = MIN(period, (uint64_t)CPU_PERIOD_MAX_USEC);

        q = (unsigned __int128)per_sec * period / USEC_PER_SEC;
        if (q > CGV_CPU_QUOTA_MAX_USEC)
                return -ERANGE;
        quota = MAX((uint64_t)q, USEC_PER_MSEC);

        *ret_quota_usec = quota;
        *ret_period_usec = period;
        return 0;
}

int cgv_format_cpu_weight(uint64_t weight, char *buf, size_t size)
{
        if (weight < CPU_WEIGHT_MIN || weight > CPU_WEIGHT_MAX)
                return -ERANGE;
        return cgv_format_u64(weight, buf, size);
}

int cgv_parse_cpu_weight(const char *s, uint64_t *ret_weight)
{
        uint64_t v;
        int r;

        r = cgv_parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v < CPU_WEIGHT_MIN || v > CPU_WEIGHT_MAX)
                return -ERANGE;
        *ret_weight = v;
        return 0;
}

int cgv_format_cpu_idle(bool idle, char *buf, size_t size)
{
        return format(buf, size, "%d", idle ? 1 : 0);
}

int cgv_parse_cpu_idle(const char *s, bool *ret_idle)
{
        uint64_t v;
        int r;

        r = cgv_parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > 1)
                return -ERANGE;
        *ret_idle = v == 1;
        return 0;
}

int cgv_format_memory(uint64_t bytes, char *buf, size_t size)
{
        return cgv_format_u64_or_max(bytes, buf, size);
}

int cgv_parse_memory(const char *s, uint64_t *ret_bytes)
{
        return cgv_parse_u64_or_max(s, ret_bytes);
}

uint64_t cgv_memory_effective(uint64_t bytes, uint64_t page_size)
{
        /* mm/page_counter.c: PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE; page_counter_memparse() takes
         * min(bytes / PAGE_SIZE, PAGE_COUNTER_MAX), and the file shows "max" for PAGE_COUNTER_MAX. */
        uint64_t ps = page_size == 0 ? 1 : page_size;
        uint64_t counter_max = (uint64_t)__LONG_MAX__ / ps;

        if (bytes == LIMIT_MAX || bytes / ps >= counter_max)
                return LIMIT_MAX;
        return bytes / ps * ps;
}

bool cgv_memory_equal(uint64_t desired, uint64_t current, uint64_t page_size)
{
        return cgv_memory_effective(desired, page_size) == cgv_memory_effective(current, page_size);
}

int cgv_format_io_weight(uint64_t weight, char *buf, size_t size)
{
        if (weight < IO_WEIGHT_MIN || weight > IO_WEIGHT_MAX)
                return -ERANGE;
        return format(buf, size, "default %" PRIu64, weight);
}

uint64_t cgv_bfq_weight(uint64_t io_weight)
{
        const uint64_t def = CPU_WEIGHT_DEFAULT, bfq_min = 1, bfq_def = 100, bfq_max = 1000;

        io_weight = CLAMP(io_weight, (uint64_t)IO_WEIGHT_MIN, (uint64_t)IO_WEIGHT_MAX);
        if (io_weight <= def)
                return bfq_def - (def - io_weight) * (bfq_def - bfq_min) / (def - IO_WEIGHT_MIN);
        return bfq_def + (io_weight - def) * (bfq_max - bfq_def) / (IO_WEIGHT_MAX - def);
}

/* Calls to each line in turn (without its newline); stops at the first nonzero return. */
typedef int (*line_fn)(const char *line, size_t len, void *userdata);

static int lines_foreach(const char *s, line_fn fn, void *userdata)
{
        if (!s)
                return -EINVAL;
        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t len = nl ? (size_t)(nl - s) : strlen(s);
                int r;

                if (len > 0) {
                        r = fn(s, len, userdata);
                        if (r != 0)
                                return r;
                }
                s += len + (nl ? 1 : 0);
        }
        return 0;
}

/* Like u64_scan but the whole of [*p, end) must be the value, so a value never runs into the next line. In place,
 * without a copy: the per-tick parsers (cpu.stat, memory.stat, io.stat) run this for every key of every VM. */
static int u64_scan_bounded(const char **p, const char *end, bool allow_max, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end)
                return -EINVAL;
        if (allow_max && (size_t)(end - s) == strlen(CGV_MAX) && memcmp(s, CGV_MAX, strlen(CGV_MAX)) == 0) {
                *p = end;
                *ret = LIMIT_MAX;
                return 0;
        }
        for (; s < end; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
                        return -ERANGE;
        }
        *p = end;
        *ret = v;
        return 0;
}

struct io_weight_ctx {
        bool found;
        uint64_t weight;
};

static int io_weight_line(const char *line, size_t len, void *userdata)
{
        struct io_weight_ctx *c = userdata;
        static const char prefix[] = "default ";
        const char *p = line + strlen(prefix);
        int r;

        if (len < strlen(prefix) || strncmp(line, prefix, strlen(prefix)) != 0)
                return 0; /* a "MAJ:MIN N" device line */
        r = u64_scan_bounded(&p, line + len, false, &c->weight);
        if (r < 0)
                return r;
        c->found = true;
        return 1;
}

int cgv_parse_io_weight_default(const char *s, uint64_t *ret_weight)
{
        struct io_weight_ctx c = {};
        int r;

        r = lines_foreach(s, io_weight_line, &c);
        if (r < 0)
                return r;
        if (!c.found)
                return -ENXIO;
        *ret_weight = c.weight;
        return 0;
}

int cgv_format_io_max(const struct io_device_limit *limit, char *buf, size_t size)
{
        char a[21], b[21], c[21], d[21];

        if (!limit)
                return -EINVAL;
        return format(buf, size, "%u:%u rbps=%s wbps=%s riops=%s wiops=%s", limit->major, limit->minor,
                      u64_or_max(limit->rbps, a), u64_or_max(limit->wbps, b), u64_or_max(limit->riops, c),
                      u64_or_max(limit->wiops, d));
}

/* "MAJ:MIN" at the start of a nested-keyed line; *p is left after it. */
static int device_scan(const char **p, const char *end, unsigned *ret_major, unsigned *ret_minor)
{
        const char *colon = memchr(*p, ':', (size_t)(end - *p));
        const char *sp;
        uint64_t maj, min;
        int r;

        if (!colon)
                return -EINVAL;
        sp = memchr(colon, ' ', (size_t)(end - colon));
        if (!sp)
                sp = end;
        r = u64_scan_bounded(p, colon, false, &maj);
        if (r < 0)
                return r;
        *p = colon + 1;
        r = u64_scan_bounded(p, sp, false, &min);
        if (r < 0)
                return r;
        if (maj > (unsigned)-1 || min > (unsigned)-1)
                return -ERANGE;
        *ret_major = (unsigned)maj;
        *ret_minor = (unsigned)min;
        return 0;
}

/* The " key=value" pairs after a nested-keyed line's device, between p and end. */
static int nested_line_parse(const char *p, const char *end, const struct field *keys, size_t n_keys, bool allow_max,
                             void *result)
{
        while (p < end) {
                const char *tok_end, *eq;

                if (*p != ' ')
                        return -EINVAL;
                p++;
                tok_end = memchr(p, ' ', (size_t)(end - p));
                if (!tok_end)
                        tok_end = end;
                eq = memchr(p, '=', (size_t)(tok_end - p));
                if (!eq || eq == p)
                        return -EINVAL;
                const struct field *f = field_find(keys, n_keys, p, (size_t)(eq - p));
                if (f) {
                        const char *v = eq + 1;
                        uint64_t value;
                        int r = u64_scan_bounded(&v, tok_end, allow_max, &value);
                        if (r < 0)
                                return r;
                        field_set_u(result, f, value);
                }
                /* Unknown keys (iocost's cost.*, newer kernels' additions) are skipped unparsed. */
                p = tok_end;
        }
        return 0;
}

struct nested_ctx {
        unsigned major, minor;
        const struct field *keys;
        size_t n_keys;
        bool allow_max;
        void *result;
        bool found;
};

static int nested_line(const char *line, size_t len, void *userdata)
{
        struct nested_ctx *c = userdata;
        const char *p = line, *end = line + len;
        unsigned maj, min;
        int r;

        r = device_scan(&p, end, &maj, &min);
        if (r < 0)
                return r;
        if (maj != c->major || min != c->minor)
                return 0;
        r = nested_line_parse(p, end, c->keys, c->n_keys, c->allow_max, c->result);
        if (r < 0)
                return r;
        c->found = true;
        return 1;
}

/* The line of device major:minor in a nested-keyed file, its keys into result; whether there was one. */
static int nested_parse(const char *s, unsigned major, unsigned minor, const struct field *keys, size_t n_keys,
                        bool allow_max, void *result, bool *ret_found)
{
        struct nested_ctx c = {
                .major = major,
                .minor = minor,
                .keys = keys,
                .n_keys = n_keys,
                .allow_max = allow_max,
                .result = result,
        };
        int r = lines_foreach(s, nested_line, &c);

        if (r < 0)
                return r;
        if (ret_found)
                *ret_found = c.found;
        return 0;
}

static const struct field io_max_keys[] = {
        FIELD(struct io_device_limit, "rbps", rbps),
        FIELD(struct io_device_limit, "wbps", wbps),
        FIELD(struct io_device_limit, "riops", riops),
        FIELD(struct io_device_limit, "wiops", wiops),
};

int cgv_parse_io_max(const char *s, unsigned major, unsigned minor, struct io_device_limit *ret_limit)
{
        struct io_device_limit l = {
                .major = major,
                .minor = minor,
                .rbps = LIMIT_MAX,
                .wbps = LIMIT_MAX,
                .riops = LIMIT_MAX,
                .wiops = LIMIT_MAX,
        };
        int r = nested_parse(s, major, minor, io_max_keys, ELEMENTSOF(io_max_keys), true, &l, NULL);

        if (r < 0)
                return r;
        /* No line: the kernel dropped it because all four are max. */
        *ret_limit = l;
        return 0;
}

bool cgv_io_limit_equal(const struct io_device_limit *a, const struct io_device_limit *b)
{
        return a->major == b->major && a->minor == b->minor && a->rbps == b->rbps && a->wbps == b->wbps &&
               a->riops == b->riops && a->wiops == b->wiops;
}

int cgv_format_io_latency(unsigned major, unsigned minor, uint64_t target_usec, char *buf, size_t size)
{
        char t[21];

        if (target_usec == 0)
                return -EINVAL; /* the kernel takes 0 as "no target": say max for that */
        return format(buf, size, "%u:%u target=%s", major, minor, u64_or_max(target_usec, t));
}

struct io_latency_result {
        uint64_t target;
};

static const struct field io_latency_keys[] = {
        FIELD(struct io_latency_result, "target", target),
};

int cgv_parse_io_latency(const char *s, unsigned major, unsigned minor, uint64_t *ret_target_usec)
{
        struct io_latency_result l = {.target = LIMIT_MAX};
        int r = nested_parse(s, major, minor, io_latency_keys, ELEMENTSOF(io_latency_keys), true, &l, NULL);

        if (r < 0)
                return r;
        /* No line (or target=0): the device has no target. */
        *ret_target_usec = l.target == 0 ? LIMIT_MAX : l.target;
        return 0;
}

struct io_cost_qos_result {
        uint64_t enable;
};

static const struct field io_cost_qos_keys[] = {
        FIELD(struct io_cost_qos_result, "enable", enable),
};

int cgv_parse_io_cost_enabled(const char *s, unsigned major, unsigned minor, bool *ret_enabled)
{
        struct io_cost_qos_result q = {0};
        bool found;
        int r = nested_parse(s, major, minor, io_cost_qos_keys, ELEMENTSOF(io_cost_qos_keys), false, &q, &found);

        if (r < 0)
                return r;
        /* No line: iocost was never configured for the device, so it is off. */
        *ret_enabled = found && q.enable != 0;
        return 0;
}

static const struct field io_stat_keys[] = {
        FIELD(struct cgv_io_stat, "rbytes", rbytes), FIELD(struct cgv_io_stat, "wbytes", wbytes),
        FIELD(struct cgv_io_stat, "rios", rios),     FIELD(struct cgv_io_stat, "wios", wios),
        FIELD(struct cgv_io_stat, "dbytes", dbytes), FIELD(struct cgv_io_stat, "dios", dios),
};

struct io_stat_all_ctx {
        struct cgv_io_stat_device *devs;
        size_t n_max, n;
};

static int io_stat_all_line(const char *line, size_t len, void *userdata)
{
        struct io_stat_all_ctx *c = userdata;
        const char *p = line, *end = line + len;
        struct cgv_io_stat_device d = {};
        int r;

        r = device_scan(&p, end, &d.major, &d.minor);
        if (r < 0)
                return r;
        r = nested_line_parse(p, end, io_stat_keys, ELEMENTSOF(io_stat_keys), false, &d.stat);
        if (r < 0)
                return r;
        if (c->n < c->n_max)
                c->devs[c->n] = d;
        c->n++;
        return 0;
}

int cgv_parse_io_stat_all(const char *s, struct cgv_io_stat_device *devs, size_t n_max)
{
        struct io_stat_all_ctx c = {.devs = devs, .n_max = n_max};
        int r;

        if (!devs && n_max > 0)
                return -EINVAL;
        r = lines_foreach(s, io_stat_all_line, &c);
        if (r < 0)
                return r;
        return c.n > INT_MAX ? INT_MAX : (int)c.n;
}

int cgv_parse_io_stat(const char *s, unsigned major, unsigned minor, struct cgv_io_stat *ret_stat)
{
        struct cgv_io_stat st = {};
        bool found;
        int r = nested_parse(s, major, minor, io_stat_keys, ELEMENTSOF(io_stat_keys), false, &st, &found);

        if (r < 0)
                return r;
        if (!found)
                return -ENXIO;
        *ret_stat = st;
        return 0;
}

/* Flat-keyed files: "key value" per line. Fills every known key; unknown keys are not parsed. */
struct flat_ctx {
        const struct field *keys;
        size_t n_keys;
        void *result;
        uint64_t found; /* bit i: keys[i] seen */
};

static int flat_line(const char *line, size_t len, void *userdata)
{
        struct flat_ctx *c = userdata;
        const char *end = line + len;
        const char *sp = memchr(line, ' ', len);

        if (!sp || sp == line)
                return -EINVAL;
        const struct field *f = field_find(c->keys, c->n_keys, line, (size_t)(sp - line));
        if (f) {
                const char *v = sp + 1;
                uint64_t value;
                int r = u64_scan_bounded(&v, end, false, &value);
                if (r < 0)
                        return r;
                field_set_u(c->result, f, value);
                c->found |= 1ULL << (f - c->keys);
        }
        return 0;
}

/* -ENXIO when no known key is there, or one of the required ones (bit i: keys[i]) is missing. */
static int flat_parse_found(const char *s, const struct field *keys, size_t n_keys, uint64_t required, void *result,
                            uint64_t *ret_found)
{
        struct flat_ctx c = {.keys = keys, .n_keys = n_keys, .result = result};
        int r;

        r = lines_foreach(s, flat_line, &c);
        if (r < 0)
                return r;
        if (c.found == 0 || (c.found & required) != required)
                return -ENXIO;
        if (ret_found)
                *ret_found = c.found;
        return 0;
}

static int flat_parse(const char *s, const struct field *keys, size_t n_keys, uint64_t required, void *result)
{
        return flat_parse_found(s, keys, n_keys, required, result, NULL);
}

int cgv_parse_flat_keyed(const char *s, const char *key, uint64_t *ret_value)
{
        struct field k = {key, 0, sizeof(uint64_t)};
        uint64_t v = 0;
        int r;

        if (!key || !*key || strchr(key, ' ') || strchr(key, '\n'))
                return -EINVAL;
        r = flat_parse(s, &k, 1, 1, &v);
        if (r < 0)
                return r;
        *ret_value = v;
        return 0;
}

int cgv_parse_cpu_stat(const char *s, struct cgv_cpu_stat *ret_stat)
{
        static const struct field keys[] = {
                FIELD(struct cgv_cpu_stat, "usage_usec", usage_usec),
                FIELD(struct cgv_cpu_stat, "user_usec", user_usec),
                FIELD(struct cgv_cpu_stat, "system_usec", system_usec),
                FIELD(struct cgv_cpu_stat, "nr_periods", nr_periods),
                FIELD(struct cgv_cpu_stat, "nr_throttled", nr_throttled),
                FIELD(struct cgv_cpu_stat, "throttled_usec", throttled_usec),
                FIELD(struct cgv_cpu_stat, "nr_bursts", nr_bursts), /* index 6 */
                FIELD(struct cgv_cpu_stat, "burst_usec", burst_usec),
        };
        struct cgv_cpu_stat st = {};
        uint64_t found;
        int r;

        r = flat_parse_found(s, keys, ELEMENTSOF(keys), 1 /* usage_usec: else not a cpu.stat */, &st, &found);
        if (r < 0)
                return r;
        st.has_bursts = found & (1u << 6);
        *ret_stat = st;
        return 0;
}

int cgv_parse_memory_events(const char *s, struct cgv_memory_events *ret_events)
{
        static const struct field keys[] = {
                FIELD(struct cgv_memory_events, "low", low),           FIELD(struct cgv_memory_events, "high", high),
                FIELD(struct cgv_memory_events, "max", max),           FIELD(struct cgv_memory_events, "oom", oom),
                FIELD(struct cgv_memory_events, "oom_kill", oom_kill),
        };
        struct cgv_memory_events ev = {};
        int r;

        r = flat_parse(s, keys, ELEMENTSOF(keys), 0, &ev);
        if (r < 0)
                return r;
        *ret_events = ev;
        return 0;
}

int cgv_parse_memory_stat(const char *s, struct cgv_memory_stat *ret_stat)
{
        static const struct field keys[] = {
                FIELD(struct cgv_memory_stat, "anon", anon),
                FIELD(struct cgv_memory_stat, "file", file),
                FIELD(struct cgv_memory_stat, "kernel", kernel), /* bit 2: see has_kernel */
                FIELD(struct cgv_memory_stat, "kernel_stack", kernel_stack),
                FIELD(struct cgv_memory_stat, "pagetables", pagetables),
                FIELD(struct cgv_memory_stat, "percpu", percpu),
                FIELD(struct cgv_memory_stat, "sock", sock),
                FIELD(struct cgv_memory_stat, "shmem", shmem),
                FIELD(struct cgv_memory_stat, "slab_reclaimable", slab_reclaimable),
                FIELD(struct cgv_memory_stat, "slab_unreclaimable", slab_unreclaimable),
                FIELD(struct cgv_memory_stat, "unevictable", unevictable),
        };
        struct cgv_memory_stat st = {};
        uint64_t found;
        int r;

        r = flat_parse_found(s, keys, ELEMENTSOF(keys), 0, &st, &found);
        if (r < 0)
                return r;
        st.has_kernel = found & (1ULL << 2);
        *ret_stat = st;
        return 0;
}
