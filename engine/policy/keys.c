/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The keys of [engine] and [group NAME], as one table per section of {key, parser, field}: a key is looked up in
 * its section's table (case does not matter), refused if it was already set, and its parser parses the value into
 * the field at the table's offset in struct engine_settings or struct group_policy. The parsers are typed (a
 * duration, an enum, a range, ...); the table gives each its bounds and the words of its message. Nothing here
 * looks at more than one key: that is validate.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kernel/cpuset.h"
#include "kernel/macro.h"
#include "kernel/units.h"
#include "policy/config-internal.h"

/* 10000 CPUs: far above any host, and low enough that the quota arithmetic cannot overflow. */
#define CPU_QUOTA_MAX_PERMYRIAD (10000 * UNITS_PERMYRIAD_100)

/* One "Key = value" being set. */
struct setting {
        struct loader *l;
        const char *section;
        const char *key; /* as messages name it: as written, or as the table spells it (.canonical) */
        const char *value;
        unsigned line;
};

struct key_def;
/* Parse s->value into the fields that k names in base (a struct engine_settings or struct group_policy). */
typedef int (*key_parser_t)(const struct setting *s, const struct key_def *k, void *base);

/* A table entry: {name, parser, .at = the field, and whatever else the parser needs}. */
struct key_def {
        const char *name;
        key_parser_t parse;
        size_t at;        /* offset of the value's field */
        size_t set_at;    /* offset of the bool that says the value was given; 0: the value has none */
        size_t n_at;      /* lists: offset of the count */
        size_t max_at;    /* ranges: offset of the upper bound (the lower one is at .at) */
        const void *spec; /* what the parser needs beyond the fields: bounds, names, expectations */
        bool canonical;   /* messages spell the key as the table does, not as the operator wrote it */
        bool per_device;  /* may repeat, once per device: the parser checks for duplicates itself */
};

#define E(field)     offsetof(struct engine_settings, field)
#define G(field)     offsetof(struct group_policy, field)
#define AT(t, b, o)  ((t *)((char *)(b) + (o)))
#define FAIL(s, ...) loader_fail((s)->l, (s)->l->file, (s)->line, __VA_ARGS__)

/* .set_at = 0 means "no flag": no flag can be at offset 0. */
_Static_assert(offsetof(struct engine_settings, interval_usec) == 0, "a flag at offset 0");
_Static_assert(offsetof(struct group_policy, name) == 0, "a flag at offset 0");

static void mark_set(const struct key_def *k, void *base)
{
        if (k->set_at)
                *AT(bool, base, k->set_at) = true;
}

/* Duplicate keys are refused; the per-device IO keys may repeat for different devices. */
static int loader_check_duplicate(struct loader *l, const char *section, const char *key, const char *device,
                                  unsigned line)
{
        for (size_t i = 0; i < l->n_seen; i++) {
                const struct seen_key *k = &l->seen[i];
                if (strcmp(k->section, section) == 0 && strcasecmp(k->key, key) == 0 &&
                    strcmp(k->device, device ? device : "") == 0) {
                        if (device)
                                return loader_fail(l, l->file, line, "%s= for %s is already set at %s:%u", key, device,
                                                   k->file, k->line);
                        return loader_fail(l, l->file, line, "%s= is already set at %s:%u", key, k->file, k->line);
                }
        }
        if (l->n_seen >= SEEN_KEYS_MAX)
                return loader_fail(l, l->file, line, "too many settings (at most %d)", SEEN_KEYS_MAX);

        struct seen_key *k = &l->seen[l->n_seen++];
        snprintf(k->section, sizeof(k->section), "%s", section);
        snprintf(k->key, sizeof(k->key), "%s", key);
        snprintf(k->device, sizeof(k->device), "%s", device ? device : "");
        k->file = l->file;
        k->line = line;
        return 0;
}

static const char *units_error(int r)
{
        return r == -ERANGE ? "out of range" : "not understood";
}

/* The typed parsers, each for one kind of value. */

struct duration_spec {
        uint64_t min, max;
        const char *expect;
};

static int parse_duration(const struct setting *s, const struct key_def *k, void *base)
{
        const struct duration_spec *d = k->spec;
        uint64_t usec;

        if (units_parse_duration(s->value, &usec) < 0 || usec < d->min || usec > d->max)
                return FAIL(s, "%s=%s: expected %s", s->key, s->value, d->expect);
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = usec;
        return 0;
}

struct uint_spec {
        uint64_t min, max;
};

static int parse_uint(const struct setting *s, const struct key_def *k, void *base)
{
        const struct uint_spec *u = k->spec;
        uint64_t v;

        if (units_parse_uint_range(s->value, u->min, u->max, &v) < 0)
                return FAIL(s, "%s=%s: expected an integer from %llu to %llu", s->key, s->value,
                            (unsigned long long)u->min, (unsigned long long)u->max);
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = v;
        return 0;
}

static int parse_bool(const struct setting *s, const struct key_def *k, void *base)
{
        if (units_parse_bool(s->value, AT(bool, base, k->at)) < 0)
                return FAIL(s, "%s=%s: expected yes or no", s->key, s->value);
        return 0;
}

/* An enum, by its names; stored as an unsigned int, which is what gcc and clang make of these enums. */
struct enum_spec {
        const char *const *names;
        unsigned n;
        const char *expect;
};
_Static_assert(sizeof(enum vm_class) == sizeof(unsigned) && sizeof(enum placement_mode) == sizeof(unsigned) &&
                       sizeof(enum memory_probe) == sizeof(unsigned) && sizeof(enum cpu_partition) == sizeof(unsigned),
               "enum size");

static int parse_enum(const struct setting *s, const struct key_def *k, void *base)
{
        const struct enum_spec *e = k->spec;

        for (unsigned i = 0; i < e->n; i++)
                if (strcmp(s->value, e->names[i]) == 0) {
                        mark_set(k, base);
                        *AT(unsigned, base, k->at) = i;
                        return 0;
                }
        return FAIL(s, "%s=%s: expected %s", s->key, s->value, e->expect);
}

static int parse_path_or_none(const struct setting *s, const struct key_def *k, void *base)
{
        char **p = AT(char *, base, k->at);
        bool none = strcmp(s->value, "none") == 0;

        if (s->value[0] != '/' && !none)
                return FAIL(s, "%s= must be an absolute path or \"none\", not \"%s\"", s->key, s->value);
        free(*p);
        *p = none ? NULL : strdup(s->value);
        if (!none && !*p)
                return -ENOMEM;
        return 0;
}

static int parse_cgroup_root(const struct setting *s, const struct key_def *k, void *base)
{
        const char *value = s->value;
        char **p = AT(char *, base, k->at);

        if (value[0] != '/')
                return FAIL(s, "%s= must be an absolute path, not \"%s\"", s->key, value);
        if (strstr(value, "/../") || strstr(value, "/./") || strcmp(value + strlen(value) - 3, "/..") == 0 ||
            strcmp(value, "/") == 0)
                return FAIL(s, "%s= must not be / or contain \".\" or \"..\": \"%s\"", s->key, value);

        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        /* Strip trailing slashes so that paths are built one way. */
        for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
                copy[n - 1] = '\0';
        free(*p);
        *p = TAKE_PTR(copy);
        return 0;
}

/* The group's name, checked against the groups once all files are read (validate.c): remember where it was. */
static int parse_default_group(const struct setting *s, const struct key_def *k, void *base)
{
        char **p = AT(char *, base, k->at);

        if (strcmp(s->value, "unmanaged") != 0 && !group_name_valid(s->value))
                return FAIL(s, "%s=%s: not a group name", s->key, s->value);
        free(*p);
        *p = strcmp(s->value, "unmanaged") == 0 ? NULL : strdup(s->value);
        s->l->default_group_line = s->line;
        s->l->default_group_file = s->l->file;
        return 0;
}

static int parse_glob_list(const struct setting *s, const struct key_def *k, void *base)
{
        char ***v = AT(char **, base, k->at);
        size_t *n = AT(size_t, base, k->n_at);

        strv_free(*v, *n);
        *v = NULL;
        *n = 0;
        int r = strv_split(s->value, v, n);
        if (r == -EINVAL)
                return FAIL(s, "%s= needs at least one pattern", s->key);
        return r;
}

/* QemuTrustedPaths=: absolute paths, each of a file or a directory, "/" excepted; stored without trailing slashes
 * so that the prefix test on whole components (policy_path_trusted) has one spelling to compare. */
static int parse_trusted_paths(const struct setting *s, const struct key_def *k, void *base)
{
        int r = parse_glob_list(s, k, base);
        char **v = *AT(char **, base, k->at);
        size_t n = *AT(size_t, base, k->n_at);

        for (size_t i = 0; r == 0 && i < n; i++) {
                char *path = v[i];
                size_t len = strlen(path);

                while (len > 1 && path[len - 1] == '/')
                        path[--len] = '\0';
                if (path[0] != '/')
                        return FAIL(s, "%s=: \"%s\" is not an absolute path", s->key, path);
                if (strcmp(path, "/") == 0)
                        return FAIL(s, "%s=: \"/\" would trust every executable", s->key);
                for (const char *c = path; c; c = strchr(c + 1, '/'))
                        if (strncmp(c, "//", 2) == 0 || strncmp(c, "/./", 3) == 0 || strcmp(c, "/.") == 0 ||
                            strncmp(c, "/../", 4) == 0 || strcmp(c, "/..") == 0)
                                return FAIL(s, "%s=: \"%s\" is not a plain path (\"//\", \".\" or \"..\")", s->key,
                                            path);
        }
        return r;
}

/* MatchUUID=: compared lower-case. */
static int parse_glob_list_lower(const struct setting *s, const struct key_def *k, void *base)
{
        int r = parse_glob_list(s, k, base);
        char **v = *AT(char **, base, k->at);
        size_t n = *AT(size_t, base, k->n_at);

        for (size_t i = 0; r == 0 && i < n; i++)
                for (char *c = v[i]; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
        return r;
}

static int parse_user_list(const struct setting *s, const struct key_def *k, void *base)
{
        const struct config_env *env = s->l->env;
        uid_t **users = AT(uid_t *, base, k->at);
        char **words = NULL;
        size_t n = 0;
        int r = strv_split(s->value, &words, &n);

        if (r == -EINVAL)
                return FAIL(s, "%s= needs at least one user", s->key);
        if (r < 0)
                return r;

        *users = calloc(n, sizeof(uid_t));
        if (!*users) {
                strv_free(words, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t uid;
                unsigned u;

                if (units_parse_uint_range(words[i], 0, UINT32_MAX - 1, &uid) == 0)
                        u = (unsigned)uid;
                else if (!env->resolve_user || env->resolve_user(words[i], &u, env->userdata) < 0) {
                        r = FAIL(s, "%s=: unknown user \"%s\"", s->key, words[i]);
                        strv_free(words, n);
                        return r;
                }
                (*users)[i] = (uid_t)u;
        }
        *AT(size_t, base, k->n_at) = n;
        strv_free(words, n);
        return 0;
}

/* CPUWeight=: a weight, or "idle" for cpu.idle. The field is the group's struct limits. */
static int parse_cpu_weight(const struct setting *s, const struct key_def *k, void *base)
{
        struct limits *lim = AT(struct limits, base, k->at);
        uint64_t w;

        if (strcmp(s->value, "idle") == 0) {
                lim->cpu_idle = true;
                lim->cpu_weight_set = false;
                return 0;
        }
        if (units_parse_uint_range(s->value, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, &w) < 0)
                return FAIL(s, "%s=%s: expected an integer from %d to %d, or \"idle\"", s->key, s->value,
                            CPU_WEIGHT_MIN, CPU_WEIGHT_MAX);
        lim->cpu_weight_set = true;
        lim->cpu_weight = w;
        return 0;
}

/* CPUQuota=, VCPUQuota=, EmulatorQuota=: kept as permyriad until the period is known; see config_finish(). The spec,
 * if any, is the highest percentage in permyriad (a vCPU is one thread: it cannot use more than one CPU). */
static int parse_cpu_quota(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t max = k->spec ? *(const uint64_t *)k->spec : CPU_QUOTA_MAX_PERMYRIAD, v;

        if (units_parse_percent(s->value, max, &v) < 0 || v == 0)
                return FAIL(s, "%s=%s: expected a percentage above 0%% and at most %llu%%, e.g. %s", s->key, s->value,
                            (unsigned long long)(max / 100), max > UNITS_PERMYRIAD_100 ? "150%" : "80%");
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = v;
        return 0;
}

static int parse_memory_limit(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t v;
        int r = units_parse_memory_limit(s->value, s->l->env->physical_memory, &v);

        if (r < 0)
                return FAIL(s, "%s=%s: %s; expected bytes with K/M/G/T, a percentage of RAM, or infinity", s->key,
                            s->value, units_error(r));
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = v;
        return 0;
}

/* MemoryMin=, MemoryLow=, MemorySwapMax=, MemoryZSwapMax=: as MemoryHigh=, and 0 too, as systemd takes it (no
 * protection, no swap). */
static int parse_memory_amount(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t v;

        if (units_parse_size(s->value, &v) == 0 && v == 0) {
                mark_set(k, base);
                *AT(uint64_t, base, k->at) = 0;
                return 0;
        }
        return parse_memory_limit(s, k, base);
}

/* DEVICE of a per-device IO key: MAJ:MIN, or an absolute path resolved through the env. */
static int parse_device(const struct setting *s, const char *device, unsigned *ret_major, unsigned *ret_minor)
{
        const struct config_env *env = s->l->env;
        char tail;
        int r;

        if (sscanf(device, "%u:%u%c", ret_major, ret_minor, &tail) == 2)
                return 0;
        if (device[0] != '/')
                return FAIL(s, "%s=: device \"%s\" must be an absolute path or MAJ:MIN", s->key, device);
        if (!env->resolve_device)
                return FAIL(s, "%s=: cannot resolve device \"%s\" here", s->key, device);
        r = env->resolve_device(device, ret_major, ret_minor, env->userdata);
        if (r < 0)
                return FAIL(s, "%s=: device \"%s\": %s", s->key, device,
                            r == -ENOTBLK ? "not a block device" : strerror(-r));
        return 0;
}

/* "DEVICE TARGET" for IODeviceLatencyTargetSec= (systemd's syntax): io.latency. The field is the group's struct
 * limits. */
static int parse_io_latency(const struct setting *s, const struct key_def *k, void *base)
{
        const struct duration_spec *d = k->spec;
        struct limits *lim = AT(struct limits, base, k->at);
        char device[INI_LINE_MAX + 1], target[INI_LINE_MAX + 1];
        unsigned major, minor;
        uint64_t usec;
        int r, n = 0;

        if (sscanf(s->value, "%198s %198s %n", device, target, &n) != 2 || s->value[n] != '\0')
                return FAIL(s, "%s=%s: expected \"DEVICE TARGET\", e.g. \"/dev/vda 25ms\"", s->key, s->value);
        r = loader_check_duplicate(s->l, s->section, s->key, device, s->line);
        if (r < 0)
                return r;
        if (units_parse_duration(target, &usec) < 0 || usec < d->min || usec > d->max)
                return FAIL(s, "%s=%s: target \"%s\": expected %s", s->key, s->value, target, d->expect);
        r = parse_device(s, device, &major, &minor);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < lim->n_io_latency; i++)
                if (lim->io_latency[i].major == major && lim->io_latency[i].minor == minor)
                        return FAIL(s, "%s=: device %s (%u:%u) already has a target", s->key, device, major, minor);
        if (lim->n_io_latency >= IO_DEVICES_MAX)
                return FAIL(s, "%s=: too many devices (at most %d)", s->key, IO_DEVICES_MAX);
        lim->io_latency[lim->n_io_latency++] = (struct io_device_latency){major, minor, usec};
        return 0;
}

/* "DEVICE VALUE" for IO{Read,Write}{Bandwidth,IOPS}Max=. DEVICE is a path or MAJ:MIN. The field is the group's
 * struct limits; the spec is the offset of the value in struct io_device_limit. */
static int parse_io_limit(const struct setting *s, const struct key_def *k, void *base)
{
        const char *key = s->key, *value = s->value;
        struct limits *lim = AT(struct limits, base, k->at);
        char device[INI_LINE_MAX + 1], amount[INI_LINE_MAX + 1];
        unsigned major, minor;
        uint64_t v;
        int r, n = 0;

        if (sscanf(value, "%198s %198s %n", device, amount, &n) != 2 || value[n] != '\0')
                return FAIL(s, "%s=%s: expected \"DEVICE VALUE\", e.g. \"/dev/vda 50M\"", key, value);

        r = loader_check_duplicate(s->l, s->section, key, device, s->line);
        if (r < 0)
                return r;

        if (units_is_infinity(amount))
                v = LIMIT_MAX;
        else {
                r = units_parse_size_si(amount, &v);
                if (r < 0 || v == 0)
                        return FAIL(s, "%s=%s: value \"%s\" is %s", key, value, amount,
                                    r < 0 ? units_error(r) : "zero (use a positive value or \"infinity\")");
        }

        r = parse_device(s, device, &major, &minor);
        if (r < 0)
                return r;

        struct io_device_limit *d = limits_io_device_get(lim, major, minor);
        if (!d)
                return FAIL(s, "%s=: too many devices (at most %d)", key, IO_DEVICES_MAX);
        *AT(uint64_t, d, *(const size_t *)k->spec) = v;
        return 0;
}

static int parse_bitrate(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t v;

        if (units_parse_bitrate(s->value, &v) < 0 || v == 0)
                return FAIL(s, "%s=%s: expected a rate in bits per second, e.g. 100M or 1G", s->key, s->value);
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = v;
        return 0;
}

static int parse_burst(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t v;

        if (units_parse_size(s->value, &v) < 0 || v == 0 || v > (1ULL << 30))
                return FAIL(s, "%s=%s: expected a size from 1 byte to 1G, e.g. 64K", s->key, s->value);
        *AT(uint64_t, base, k->at) = v;
        return 0;
}

/* A CPU or memory node list: how high its numbers go, and what they are called in messages. */
struct cpuset_spec {
        unsigned limit;
        const char *what; /* "CPU", "memory node" */
};

/* One set of a CPU key: systemd's list syntax ("0-3 8" or "0-3,8"), not empty, short enough to be written as one
 * value in the kernel's form. piece is what is parsed, of s->value; label says which part it is, or "". */
static int cpuset_value_parse(const struct setting *s, const struct cpuset_spec *spec, const char *piece,
                              const char *label, struct cpuset *ret)
{
        char text[CPUSET_TEXT_MAX];
        int r = cpuset_parse(piece, spec->limit, ret);

        if (r == -ERANGE)
                return FAIL(s, "%s=%s:%s a %s number is %u or above", s->key, s->value, label, spec->what, spec->limit);
        if (r < 0)
                return FAIL(s, "%s=%s:%s expected %s numbers and ranges, e.g. \"0-3 8\" or \"0-3,8\"", s->key, s->value,
                            label, spec->what);
        if (cpuset_is_empty(ret))
                return FAIL(s, "%s=%s:%s no %s in it", s->key, s->value, label, spec->what);
        if (cpuset_format(ret, text, sizeof(text)) < 0)
                return FAIL(s, "%s=%s:%s longer than %d characters in the kernel's form: use ranges", s->key, s->value,
                            label, CPUSET_TEXT_MAX - 1);
        return 0;
}

/* AllowedCPUs=, AllowedMemoryNodes=, EmulatorAllowedCPUs=: one set, into the struct cpuset at .at. */
static int parse_cpuset(const struct setting *s, const struct key_def *k, void *base)
{
        int r = cpuset_value_parse(s, k->spec, s->value, "", AT(struct cpuset, base, k->at));

        if (r < 0)
                return r;
        mark_set(k, base);
        return 0;
}

/* VCPUAllowedCPUs=: one set, whose CPUs are dealt one per vCPU ("2-5": vCPU 0 on 2, 1 on 3, ..., 4 on 2 again), or
 * one set per vCPU separated by ';' or '|' ("2;3;4-5": vCPU 0 on 2, 1 on 3, 2 on 4-5, 3 on 2 again). The field is
 * the group's struct cpu_topology. */
static int parse_vcpu_cpus(const struct setting *s, const struct key_def *k, void *base)
{
        static const struct cpuset_spec cpus = {CPUSET_MAX, "CPU"};
        struct cpu_topology *t = AT(struct cpu_topology, base, k->at);
        const char *p = s->value;
        unsigned n = 1;

        for (const char *c = p; *c; c++)
                n += *c == ';' || *c == '|';
        if (n > VCPU_CPU_SETS_MAX)
                return FAIL(s, "%s=: %u sets, at most %d", s->key, n, VCPU_CPU_SETS_MAX);
        struct cpuset *sets = calloc(n, sizeof(*sets));
        if (!sets)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                size_t len = strcspn(p, ";|");
                char piece[INI_LINE_MAX + 1], label[INI_LINE_MAX + 48] = "";
                int r;

                snprintf(piece, sizeof(piece), "%.*s", (int)len, p);
                if (n > 1)
                        snprintf(label, sizeof(label), " the set of vCPU %u (\"%s\"):", i, piece);
                r = cpuset_value_parse(s, &cpus, piece, label, &sets[i]);
                if (r < 0) {
                        free(sets);
                        return r;
                }
                p += len + (p[len] != '\0');
        }
        cpu_topology_done(t);
        t->vcpu_cpus = sets;
        t->n_vcpu_cpus = n;
        t->vcpu_spread = n == 1;
        return 0;
}

/* Adapt=: which laws run. The field is the group's struct adapt_policy. */
static int parse_adapt_list(const struct setting *s, const struct key_def *k, void *base)
{
        struct adapt_policy *a = AT(struct adapt_policy, base, k->at);
        char copy[INI_LINE_MAX + 1], *save = NULL;

        snprintf(copy, sizeof(copy), "%s", s->value);
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (strcmp(w, "cpu") == 0)
                        a->cpu = true;
                else if (strcmp(w, "memory") == 0)
                        a->memory = true;
                else if (strcmp(w, "io") == 0)
                        a->io = true;
                else if (strcmp(w, "burst") == 0)
                        a->burst = true;
                else
                        return FAIL(s, "%s=%s: \"%s\" is not one of cpu, memory, io, burst", s->key, s->value, w);
        }
        return 0;
}

/* "A..B" → the two halves, trimmed of nothing: the policy writes them without spaces. */
static int split_range(const char *value, char *lo, char *hi, size_t size)
{
        const char *dots = strstr(value, "..");

        if (!dots || (size_t)(dots - value) >= size || strlen(dots + 2) >= size || dots == value || !dots[2])
                return -EINVAL;
        memcpy(lo, value, dots - value);
        lo[dots - value] = '\0';
        strcpy(hi, dots + 2);
        return 0;
}

typedef int (*range_parser_t)(const char *s, uint64_t *ret, const struct config_env *env);

static int range_parse_weight(const char *s, uint64_t *ret, const struct config_env *env)
{
        return units_parse_uint_range(s, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, ret);
}

static int range_parse_percent(const char *s, uint64_t *ret, const struct config_env *env)
{
        int r = units_parse_percent(s, CPU_QUOTA_MAX_PERMYRIAD, ret);
        return r < 0 ? r : *ret == 0 ? -ERANGE : 0;
}

static int range_parse_memory(const char *s, uint64_t *ret, const struct config_env *env)
{
        if (units_is_infinity(s))
                return -EINVAL; /* a range needs a finite top: the law must know how far it may go */
        return units_parse_memory_limit(s, env->physical_memory, ret);
}

/* cpu.max.burst is at most the quota (validate.c), itself at most a period of 1s times the CPUs: 1h is far above */
static int range_parse_duration(const char *s, uint64_t *ret, const struct config_env *env)
{
        int r = units_parse_duration(s, ret);
        return r < 0 ? r : *ret > 3600 * UNITS_USEC_PER_SEC ? -ERANGE : 0;
}

static int range_parse_bandwidth(const char *s, uint64_t *ret, const struct config_env *env)
{
        int r = units_parse_size_si(s, ret);
        return r < 0 ? r : *ret == 0 ? -ERANGE : 0;
}

struct range_spec {
        range_parser_t parse; /* each bound */
        const char *expect;
};

/* MIN..MAX into the fields at .at and .max_at. */
static int parse_range(const struct setting *s, const struct key_def *k, void *base)
{
        const struct range_spec *spec = k->spec;
        char lo[INI_LINE_MAX + 1], hi[INI_LINE_MAX + 1];
        uint64_t a, b;

        if (split_range(s->value, lo, hi, sizeof(lo)) < 0 || spec->parse(lo, &a, s->l->env) < 0 ||
            spec->parse(hi, &b, s->l->env) < 0)
                return FAIL(s, "%s=%s: expected MIN..MAX with %s", s->key, s->value, spec->expect);
        if (a > b)
                return FAIL(s, "%s=%s: the range is reversed (%s is above %s)", s->key, s->value, lo, hi);
        mark_set(k, base);
        *AT(uint64_t, base, k->at) = a;
        *AT(uint64_t, base, k->max_at) = b;
        return 0;
}

static int parse_pressure_target(const struct setting *s, const struct key_def *k, void *base)
{
        uint64_t permyriad;

        if (units_parse_percent(s->value, UNITS_PERMYRIAD_100, &permyriad) < 0 || permyriad == 0)
                return FAIL(s, "%s=%s: expected a percentage of time stalled, above 0%% and at most 100%%", s->key,
                            s->value);
        *AT(uint32_t, base, k->at) = (uint32_t)(permyriad * 100);
        return 0;
}

/* The tables. */

static const struct duration_spec interval = {100000, 3600 * UNITS_USEC_PER_SEC, "a duration from 100ms to 1h"};
static const struct duration_spec freeze_time = {UNITS_USEC_PER_SEC, 24 * 3600 * UNITS_USEC_PER_SEC,
                                                 "a duration from 1s to 24h"};

static const struct key_def engine_keys[] = {
        {"Interval", parse_duration, .at = E(interval_usec), .spec = &interval, .canonical = true},
        {"CgroupRoot", parse_cgroup_root, .at = E(cgroup_root), .canonical = true},
        {"AuditLog", parse_path_or_none, .at = E(audit_log), .canonical = true},
        {"MetricsFile", parse_path_or_none, .at = E(metrics_file), .canonical = true},
        {"QemuExecutables", parse_glob_list, .at = E(qemu_exe), .n_at = E(n_qemu_exe)},
        {"QemuTrustedPaths", parse_trusted_paths, .at = E(trusted_paths), .n_at = E(n_trusted_paths),
         .canonical = true},
        {"ManageLibvirt", parse_bool, .at = E(manage_libvirt), .canonical = true},
        {"DefaultGroup", parse_default_group, .at = E(default_group), .canonical = true},
        {"DryRun", parse_bool, .at = E(dry_run), .canonical = true},
        /* the host laws and the freeze (decide/control.h, decide/freeze.h) */
        {"HostMemoryPressureTarget", parse_pressure_target, .at = E(host.memory_pressure_target_ppm),
         .canonical = true},
        {"HostIOPressureTarget", parse_pressure_target, .at = E(host.io_pressure_target_ppm), .canonical = true},
        {"HostFreezePressure", parse_pressure_target, .at = E(host.freeze_pressure_ppm), .canonical = true},
        {"HostFreezeAfterSec", parse_duration, .at = E(host.freeze_after_usec), .spec = &freeze_time,
         .canonical = true},
        {"HostThawAfterSec", parse_duration, .at = E(host.thaw_after_usec), .spec = &freeze_time, .canonical = true},
        {"FreezeMaxSec", parse_duration, .at = E(host.freeze_max_usec), .spec = &freeze_time, .canonical = true},
        {"FreezeCooldownSec", parse_duration, .at = E(host.freeze_cooldown_usec), .spec = &freeze_time,
         .canonical = true},
};

static const char *const placement_names[] = {[PLACEMENT_OWN] = "own", [PLACEMENT_INPLACE] = "inplace"};

static const struct enum_spec classes = {vm_class_names, ELEMENTSOF(vm_class_names), "latency, normal or batch"};
static const struct enum_spec placements = {placement_names, ELEMENTSOF(placement_names), "own or inplace"};
static const struct enum_spec memory_probes = {memory_probe_names, ELEMENTSOF(memory_probe_names),
                                               "auto, reclaim or high"};
static const struct uint_spec io_weight = {IO_WEIGHT_MIN, IO_WEIGHT_MAX};
static const struct duration_spec cpu_period = {CPU_PERIOD_MIN_USEC, CPU_PERIOD_MAX_USEC, "a duration from 1ms to 1s"};
static const struct duration_spec runq_latency = {1, UNITS_USEC_PER_SEC, "a duration above 0 and at most 1s, e.g. 2ms"};
/* The kernel keeps the target in ns in a u64: 1h is far below its limit and far above any disk's latency. */
static const struct duration_spec io_latency = {1, 3600 * UNITS_USEC_PER_SEC,
                                                "a duration above 0 and at most 1h, e.g. 25ms"};
static const struct duration_spec adapt_time = {0, 3600 * UNITS_USEC_PER_SEC, "a duration of at most 1h"};
static const size_t io_rbps = offsetof(struct io_device_limit, rbps);
static const size_t io_wbps = offsetof(struct io_device_limit, wbps);
static const size_t io_riops = offsetof(struct io_device_limit, riops);
static const size_t io_wiops = offsetof(struct io_device_limit, wiops);
static const struct range_spec weights = {range_parse_weight, "weights from 1 to 10000"};
static const struct range_spec percentages = {range_parse_percent, "percentages, e.g. 50%..200%"};
static const struct range_spec memory_sizes = {range_parse_memory, "sizes or percentages of RAM, e.g. 2G..8G"};
static const struct range_spec bandwidths = {range_parse_bandwidth, "bandwidths, e.g. 1M..100M"};
static const struct range_spec burst_times = {range_parse_duration, "durations of at most 1h, e.g. 0..20ms"};

static const char *const cpu_partition_names[] = {
        [CPU_PARTITION_NO] = "no", [CPU_PARTITION_EXCLUSIVE] = "exclusive", [CPU_PARTITION_ISOLATED] = "isolated"};
static const struct enum_spec cpu_partitions = {cpu_partition_names, ELEMENTSOF(cpu_partition_names),
                                                "exclusive, isolated or no"};
static const struct cpuset_spec cpu_list = {CPUSET_MAX, "CPU"};
static const struct cpuset_spec node_list = {1024, "memory node"}; /* the kernel's MAX_NUMNODES at most */
static const uint64_t one_cpu = UNITS_PERMYRIAD_100;
/* cpu.max.burst is at most the quota (validate.c); 1h is far above any */
static const struct duration_spec cpu_burst = {0, 3600 * UNITS_USEC_PER_SEC, "a duration of at most 1h, e.g. 20ms"};

static const struct key_def group_keys[] = {
        {"MatchName", parse_glob_list, .at = G(match_name), .n_at = G(n_match_name)},
        {"MatchUUID", parse_glob_list_lower, .at = G(match_uuid), .n_at = G(n_match_uuid)},
        {"MatchExe", parse_glob_list, .at = G(match_exe), .n_at = G(n_match_exe)},
        {"MatchUser", parse_user_list, .at = G(match_user), .n_at = G(n_match_user), .canonical = true},
        {"Class", parse_enum, .at = G(class), .spec = &classes, .canonical = true},
        {"Placement", parse_enum, .at = G(placement), .spec = &placements, .canonical = true},

        {"CPUWeight", parse_cpu_weight, .at = G(limits)},
        {"CPUQuota", parse_cpu_quota, .at = G(limits.cpu_quota_usec), .set_at = G(limits.cpu_max_set),
         .canonical = true},
        {"CPUQuotaPeriodSec", parse_duration, .at = G(limits.cpu_period_usec), .spec = &cpu_period, .canonical = true},
        {"CPUQuotaBurstSec", parse_duration, .at = G(limits.cpu_burst_usec), .set_at = G(limits.cpu_burst_set),
         .spec = &cpu_burst, .canonical = true},
        {"AllowedCPUs", parse_cpuset, .at = G(cpu.allowed_cpus), .set_at = G(cpu.allowed_cpus_set), .spec = &cpu_list,
         .canonical = true},
        {"AllowedMemoryNodes", parse_cpuset, .at = G(cpu.allowed_mems), .set_at = G(cpu.allowed_mems_set),
         .spec = &node_list, .canonical = true},
        {"VCPUAllowedCPUs", parse_vcpu_cpus, .at = G(cpu), .canonical = true},
        {"EmulatorAllowedCPUs", parse_cpuset, .at = G(cpu.emulator_cpus), .set_at = G(cpu.emulator_cpus_set),
         .spec = &cpu_list, .canonical = true},
        {"VCPUQuota", parse_cpu_quota, .at = G(cpu.vcpu_quota_usec), .set_at = G(cpu.vcpu_quota_set), .spec = &one_cpu,
         .canonical = true},
        {"EmulatorQuota", parse_cpu_quota, .at = G(cpu.emulator_quota_usec), .set_at = G(cpu.emulator_quota_set),
         .canonical = true},
        {"CPUPartition", parse_enum, .at = G(cpu.partition), .spec = &cpu_partitions, .canonical = true},
        {"MemoryHigh", parse_memory_limit, .at = G(limits.memory_high), .set_at = G(limits.memory_high_set)},
        {"MemoryMax", parse_memory_limit, .at = G(limits.memory_max), .set_at = G(limits.memory_max_set)},
        {"MemoryMin", parse_memory_amount, .at = G(limits.memory_min), .set_at = G(limits.memory_min_set)},
        {"MemoryLow", parse_memory_amount, .at = G(limits.memory_low), .set_at = G(limits.memory_low_set)},
        {"MemorySwapMax", parse_memory_amount, .at = G(limits.memory_swap_max),
         .set_at = G(limits.memory_swap_max_set)},
        {"MemoryZSwapMax", parse_memory_amount, .at = G(limits.memory_zswap_max),
         .set_at = G(limits.memory_zswap_max_set)},
        {"IOWeight", parse_uint, .at = G(limits.io_weight), .set_at = G(limits.io_weight_set), .spec = &io_weight,
         .canonical = true},
        {"IOReadBandwidthMax", parse_io_limit, .at = G(limits), .spec = &io_rbps, .per_device = true},
        {"IOWriteBandwidthMax", parse_io_limit, .at = G(limits), .spec = &io_wbps, .per_device = true},
        {"IOReadIOPSMax", parse_io_limit, .at = G(limits), .spec = &io_riops, .per_device = true},
        {"IOWriteIOPSMax", parse_io_limit, .at = G(limits), .spec = &io_wiops, .per_device = true},
        {"IODeviceLatencyTargetSec", parse_io_latency, .at = G(limits), .spec = &io_latency, .per_device = true},

        {"NetIngressRate", parse_bitrate, .at = G(net.ingress_bps), .set_at = G(net.ingress_set)},
        {"NetEgressRate", parse_bitrate, .at = G(net.egress_bps), .set_at = G(net.egress_set)},
        {"NetIngressBurst", parse_burst, .at = G(net.ingress_burst)},
        {"NetEgressBurst", parse_burst, .at = G(net.egress_burst)},

        {"Adapt", parse_adapt_list, .at = G(adapt), .canonical = true},
        {"CPUWeightRange", parse_range, .at = G(adapt.cpu_weight_min), .max_at = G(adapt.cpu_weight_max),
         .set_at = G(adapt.cpu_weight_range_set), .spec = &weights},
        {"CPUQuotaRange", parse_range, .at = G(adapt.cpu_quota_min_permyriad),
         .max_at = G(adapt.cpu_quota_max_permyriad), .set_at = G(adapt.cpu_quota_range_set), .spec = &percentages},
        {"MemoryHighRange", parse_range, .at = G(adapt.memory_high_min), .max_at = G(adapt.memory_high_max),
         .set_at = G(adapt.memory_high_range_set), .spec = &memory_sizes},
        {"MemoryProbe", parse_enum, .at = G(adapt.memory_probe), .set_at = G(adapt.memory_probe_set),
         .spec = &memory_probes},
        {"IOBandwidthMaxRange", parse_range, .at = G(adapt.io_bandwidth_min), .max_at = G(adapt.io_bandwidth_max),
         .set_at = G(adapt.io_bandwidth_range_set), .spec = &bandwidths},
        {"CPUQuotaBurstRange", parse_range, .at = G(adapt.cpu_burst_min_usec), .max_at = G(adapt.cpu_burst_max_usec),
         .set_at = G(adapt.cpu_burst_range_set), .spec = &burst_times},
        {"RunQueueLatencyTarget", parse_duration, .at = G(adapt.runq_latency_target_usec), .spec = &runq_latency},
        {"CPUPressureTarget", parse_pressure_target, .at = G(adapt.cpu_pressure_target_ppm)},
        {"MemoryPressureTarget", parse_pressure_target, .at = G(adapt.memory_pressure_target_ppm)},
        {"IOPressureTarget", parse_pressure_target, .at = G(adapt.io_pressure_target_ppm)},
        {"AdaptHoldSec", parse_duration, .at = G(adapt.hold_usec), .spec = &adapt_time},
        {"AdaptDwellSec", parse_duration, .at = G(adapt.dwell_usec), .spec = &adapt_time},

        {"FreezeOnHostPressure", parse_bool, .at = G(freeze_on_host_pressure), .canonical = true},
};

static const struct key_def *key_find(const struct key_def *table, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(table[i].name, key) == 0)
                        return &table[i];
        return NULL;
}

/* Whatever the section: a per-device key in [engine] is an unknown key there, not a duplicate. */
static bool key_is_per_device(const char *key)
{
        const struct key_def *k = key_find(group_keys, ELEMENTSOF(group_keys), key);
        return k && k->per_device;
}

/* In this order: a value at all, not set before, a key of the section, then its parser. */
int keys_set(struct loader *l, const char *section, const char *key, const char *value, unsigned line)
{
        const struct key_def *k;
        void *base;
        int r;

        if (!value[0])
                return loader_fail(l, l->file, line, "%s= has no value", key);
        if (!key_is_per_device(key)) {
                r = loader_check_duplicate(l, section, key, NULL, line);
                if (r < 0)
                        return r;
        }

        if (strcmp(section, "engine") == 0) {
                base = &l->policy->engine;
                k = key_find(engine_keys, ELEMENTSOF(engine_keys), key);
                if (!k)
                        return loader_fail(l, l->file, line, "unknown key %s= in [engine]", key);
        } else {
                struct group_policy *g = policy_find_group(l->policy, section + 6);
                if (!g) /* the pre-scan registered every section */
                        return loader_fail(l, l->file, line, "internal error: section [%s] not registered", section);
                base = g;
                k = key_find(group_keys, ELEMENTSOF(group_keys), key);
                if (!k)
                        return loader_fail(l, l->file, line, "unknown key %s= in [group %s]", key, g->name);
        }

        const struct setting s = {
                .l = l,
                .section = section,
                .key = k->canonical ? k->name : key,
                .value = value,
                .line = line,
        };
        return k->parse(&s, k, base);
}
