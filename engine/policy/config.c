/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The INI policy loader. inih does the tokenising; a pre-scan of each file first rejects what inih would
 * silently mangle (long lines and names are cut, indented lines are glued onto the previous value, ':' also
 * separates keys) and collects the section headers, so duplicate and empty sections are caught with their
 * line. The whole policy is refused on the first error.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "kernel/cgvalues.h"
#include "policy/config.h"
#include "kernel/macro.h"
#include "kernel/units.h"

/* inih's limits (Debian's build): longer lines and names are cut without a word, so we refuse them first. */
#define INI_LINE_MAX    198
#define INI_NAME_MAX    49
#define POLICY_FILE_MAX (1024 * 1024)
#define SEEN_KEYS_MAX   256
/* 10000 CPUs: far above any host, and low enough that the quota arithmetic cannot overflow. */
#define CPU_QUOTA_MAX_PERMYRIAD (10000 * UNITS_PERMYRIAD_100)

struct seen_key {
        char section[64];
        char key[64];
        char device[64]; /* for the per-device IO keys, which may repeat with different devices */
        const char *file;
        unsigned line;
};

struct loader {
        const struct config_env *env;
        struct policy *policy;
        struct config_error *error;
        const char *file; /* current file, as given (owned by file_names) */
        char **file_names;
        size_t n_file_names;
        bool failed;

        struct seen_key seen[SEEN_KEYS_MAX];
        size_t n_seen;

        unsigned default_group_line;
        const char *default_group_file;
};

static const char *const class_names[] = {
        [VM_CLASS_LATENCY] = "latency",
        [VM_CLASS_NORMAL] = "normal",
        [VM_CLASS_BATCH] = "batch",
};

const char *vm_class_to_string(enum vm_class c)
{
        return c < ELEMENTSOF(class_names) ? class_names[c] : "?";
}

static const char *const memory_probe_names[] = {
        [MEMORY_PROBE_AUTO] = "auto",
        [MEMORY_PROBE_RECLAIM] = "reclaim",
        [MEMORY_PROBE_HIGH] = "high",
};

const char *memory_probe_to_string(enum memory_probe p)
{
        return p < ELEMENTSOF(memory_probe_names) ? memory_probe_names[p] : "?";
}

_printf_(4, 5) static int fail(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;

        if (l->failed) /* the first error is the one reported */
                return -EINVAL;
        l->failed = true;
        snprintf(l->error->file, sizeof(l->error->file), "%s", file ? file : "");
        l->error->line = line;
        va_start(ap, fmt);
        vsnprintf(l->error->message, sizeof(l->error->message), fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* An I/O error on a policy file: reported like a syntax error, but the errno is what the caller gets. */
static int fail_errno(struct loader *l, const char *file, int r)
{
        fail(l, file, 0, "cannot read: %s", strerror(-r));
        return r;
}

void config_error_format(const struct config_error *e, char *buf, size_t len)
{
        if (e->line > 0)
                snprintf(buf, len, "%s:%u: %s", e->file, e->line, e->message);
        else if (e->file[0])
                snprintf(buf, len, "%s: %s", e->file, e->message);
        else
                snprintf(buf, len, "%s", e->message);
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void group_done(struct group_policy *g)
{
        free(g->name);
        free(g->file);
        strv_free(g->match_name, g->n_match_name);
        strv_free(g->match_uuid, g->n_match_uuid);
        strv_free(g->match_exe, g->n_match_exe);
        free(g->match_user);
}

void policy_free(struct policy *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_groups; i++)
                group_done(&p->groups[i]);
        free(p->groups);
        free(p->engine.cgroup_root);
        free(p->engine.audit_log);
        free(p->engine.metrics_file);
        strv_free(p->engine.qemu_exe, p->engine.n_qemu_exe);
        free(p->engine.default_group);
        free(p);
}

static bool group_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > GROUP_NAME_MAX || !isalnum((unsigned char)name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
                        return false;
        return true;
}

static struct group_policy *policy_find_group(struct policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_groups; i++)
                if (strcmp(p->groups[i].name, name) == 0)
                        return &p->groups[i];
        return NULL;
}

/* A section header seen by the pre-scan: "[engine]" or "[group NAME]". */
static int loader_add_section(struct loader *l, const char *section, unsigned line)
{
        struct group_policy *g;
        const char *name;

        if (strcmp(section, "engine") == 0)
                return 0;
        if (strncmp(section, "group ", 6) != 0)
                return fail(l, l->file, line, "unknown section [%s]: expected [engine] or [group NAME]", section);

        name = section + 6;
        if (!group_name_valid(name))
                return fail(l, l->file, line,
                            "invalid group name \"%s\": use 1-%d letters, digits, '-' or '_', starting with a "
                            "letter or digit",
                            name, GROUP_NAME_MAX);
        g = policy_find_group(l->policy, name);
        if (g)
                return fail(l, l->file, line, "group %s is already defined at %s:%u", name, g->file, g->line);

        g = realloc(l->policy->groups, (l->policy->n_groups + 1) * sizeof(*g));
        if (!g)
                return -ENOMEM;
        l->policy->groups = g;
        g = &g[l->policy->n_groups];
        *g = (struct group_policy){
                .class = VM_CLASS_NORMAL,
                .placement = PLACEMENT_OWN,
                .adapt = {.hold_usec = ADAPT_HOLD_DEFAULT_USEC, .dwell_usec = ADAPT_DWELL_DEFAULT_USEC},
        };
        g->name = strdup(name);
        g->file = strdup(l->file);
        g->line = line;
        l->policy->n_groups++;
        if (!g->name || !g->file)
                return -ENOMEM;
        return 0;
}

/*
 * Refuse what inih would accept differently from what the operator wrote, and register the sections in file
 * order. Works on the raw text, line by line.
 */
static int loader_prescan(struct loader *l, const char *text, size_t size)
{
        unsigned line = 0;

        if (memchr(text, '\0', size))
                return fail(l, l->file, 0, "contains a NUL byte: not a text file");

        for (const char *p = text; p < text + size;) {
                const char *eol = memchr(p, '\n', text + size - p);
                size_t len = eol ? (size_t)(eol - p) : (size_t)(text + size - p);
                const char *start = p, *s = p, *end = p + len;
                int r;

                line++;
                p = eol ? eol + 1 : text + size;

                if (len > 0 && end[-1] == '\r')
                        end--, len--;
                if (len > INI_LINE_MAX)
                        return fail(l, l->file, line, "line is %zu characters long, at most %d are allowed", len,
                                    INI_LINE_MAX);

                while (s < end && (*s == ' ' || *s == '\t'))
                        s++;
                if (s == end || *s == ';' || *s == '#')
                        continue;
                if (s != start)
                        return fail(l, l->file, line,
                                    "indented line: it would be joined to the previous value; remove the indentation");

                if (*s == '[') {
                        const char *close = memchr(s, ']', end - s);
                        char section[INI_LINE_MAX + 1];

                        if (!close)
                                return fail(l, l->file, line, "section header without a closing ']'");
                        if ((size_t)(close - s - 1) > INI_NAME_MAX)
                                return fail(l, l->file, line, "section name is longer than %d characters",
                                            INI_NAME_MAX);
                        memcpy(section, s + 1, close - s - 1);
                        section[close - s - 1] = '\0';
                        r = loader_add_section(l, section, line);
                        if (r < 0)
                                return r;
                        continue;
                }

                const char *eq = memchr(s, '=', end - s);
                const char *colon = memchr(s, ':', end - s);
                if (!eq)
                        return fail(l, l->file, line, "expected \"Key = value\" or a [section] header");
                if (colon && colon < eq)
                        return fail(l, l->file, line, "':' in a key name: keys are separated from values by '='");
                const char *key_end = eq;
                while (key_end > s && (key_end[-1] == ' ' || key_end[-1] == '\t'))
                        key_end--;
                if (key_end - s > INI_NAME_MAX)
                        return fail(l, l->file, line, "key name is longer than %d characters", INI_NAME_MAX);
        }
        return 0;
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
                                return fail(l, l->file, line, "%s= for %s is already set at %s:%u", key, device,
                                            k->file, k->line);
                        return fail(l, l->file, line, "%s= is already set at %s:%u", key, k->file, k->line);
                }
        }
        if (l->n_seen >= SEEN_KEYS_MAX)
                return fail(l, l->file, line, "too many settings (at most %d)", SEEN_KEYS_MAX);

        struct seen_key *k = &l->seen[l->n_seen++];
        snprintf(k->section, sizeof(k->section), "%s", section);
        snprintf(k->key, sizeof(k->key), "%s", key);
        snprintf(k->device, sizeof(k->device), "%s", device ? device : "");
        k->file = l->file;
        k->line = line;
        return 0;
}

/* Split a whitespace-separated list into a fresh string vector. */
static int strv_split(const char *value, char ***ret, size_t *ret_n)
{
        _cleanup_free_ char *copy = strdup(value);
        char **v = NULL, *save = NULL;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char **nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        strv_free(v, n);
                        return -ENOMEM;
                }
                v = nv;
                v[n] = strdup(w);
                if (!v[n]) {
                        strv_free(v, n);
                        return -ENOMEM;
                }
                n++;
        }
        if (n == 0)
                return -EINVAL;
        *ret = v;
        *ret_n = n;
        return 0;
}

static int parse_glob_list(struct loader *l, const char *key, const char *value, unsigned line, char ***ret,
                           size_t *ret_n)
{
        int r = strv_split(value, ret, ret_n);
        if (r == -EINVAL)
                return fail(l, l->file, line, "%s= needs at least one pattern", key);
        return r;
}

static const char *units_error(int r)
{
        return r == -ERANGE ? "out of range" : "not understood";
}

static int parse_user_list(struct loader *l, const char *value, unsigned line, struct group_policy *g)
{
        char **words = NULL;
        size_t n = 0;
        int r = strv_split(value, &words, &n);

        if (r == -EINVAL)
                return fail(l, l->file, line, "MatchUser= needs at least one user");
        if (r < 0)
                return r;

        g->match_user = calloc(n, sizeof(uid_t));
        if (!g->match_user) {
                strv_free(words, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t uid;
                unsigned u;

                if (units_parse_uint_range(words[i], 0, UINT32_MAX - 1, &uid) == 0)
                        u = (unsigned)uid;
                else if (!l->env->resolve_user || l->env->resolve_user(words[i], &u, l->env->userdata) < 0) {
                        r = fail(l, l->file, line, "MatchUser=: unknown user \"%s\"", words[i]);
                        strv_free(words, n);
                        return r;
                }
                g->match_user[i] = (uid_t)u;
        }
        g->n_match_user = n;
        strv_free(words, n);
        return 0;
}

static int parse_cgroup_root(struct loader *l, const char *value, unsigned line)
{
        if (value[0] != '/')
                return fail(l, l->file, line, "CgroupRoot= must be an absolute path, not \"%s\"", value);
        if (strstr(value, "/../") || strstr(value, "/./") || strcmp(value + strlen(value) - 3, "/..") == 0 ||
            strcmp(value, "/") == 0)
                return fail(l, l->file, line, "CgroupRoot= must not be / or contain \".\" or \"..\": \"%s\"", value);

        _cleanup_free_ char *copy = strdup(value);
        if (!copy)
                return -ENOMEM;
        /* Strip trailing slashes so that paths are built one way. */
        for (size_t n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
                copy[n - 1] = '\0';
        free(l->policy->engine.cgroup_root);
        l->policy->engine.cgroup_root = TAKE_PTR(copy);
        return 0;
}

static int handle_engine(struct loader *l, const char *key, const char *value, unsigned line)
{
        struct engine_settings *e = &l->policy->engine;
        int r;

        if (strcasecmp(key, "Interval") == 0) {
                uint64_t usec;
                r = units_parse_duration(value, &usec);
                if (r < 0 || usec < 100000 || usec > 3600 * UNITS_USEC_PER_SEC)
                        return fail(l, l->file, line, "Interval=%s: expected a duration from 100ms to 1h", value);
                e->interval_usec = usec;
        } else if (strcasecmp(key, "CgroupRoot") == 0)
                return parse_cgroup_root(l, value, line);
        else if (strcasecmp(key, "AuditLog") == 0) {
                if (value[0] != '/' && strcmp(value, "none") != 0)
                        return fail(l, l->file, line, "AuditLog= must be an absolute path or \"none\", not \"%s\"",
                                    value);
                free(e->audit_log);
                e->audit_log = strcmp(value, "none") == 0 ? NULL : strdup(value);
                if (strcmp(value, "none") != 0 && !e->audit_log)
                        return -ENOMEM;
        } else if (strcasecmp(key, "MetricsFile") == 0) {
                if (value[0] != '/' && strcmp(value, "none") != 0)
                        return fail(l, l->file, line, "MetricsFile= must be an absolute path or \"none\", not \"%s\"",
                                    value);
                free(e->metrics_file);
                e->metrics_file = strcmp(value, "none") == 0 ? NULL : strdup(value);
                if (strcmp(value, "none") != 0 && !e->metrics_file)
                        return -ENOMEM;
        } else if (strcasecmp(key, "QemuExecutables") == 0) {
                strv_free(e->qemu_exe, e->n_qemu_exe);
                e->qemu_exe = NULL;
                e->n_qemu_exe = 0;
                return parse_glob_list(l, key, value, line, &e->qemu_exe, &e->n_qemu_exe);
        } else if (strcasecmp(key, "DefaultGroup") == 0) {
                if (strcmp(value, "unmanaged") != 0 && !group_name_valid(value))
                        return fail(l, l->file, line, "DefaultGroup=%s: not a group name", value);
                free(e->default_group);
                e->default_group = strcmp(value, "unmanaged") == 0 ? NULL : strdup(value);
                l->default_group_line = line;
                l->default_group_file = l->file;
        } else if (strcasecmp(key, "DryRun") == 0) {
                if (units_parse_bool(value, &e->dry_run) < 0)
                        return fail(l, l->file, line, "DryRun=%s: expected yes or no", value);
        } else
                return fail(l, l->file, line, "unknown key %s= in [engine]", key);
        return 0;
}

static int parse_cpu_weight(struct loader *l, const char *key, const char *value, unsigned line, struct limits *lim)
{
        uint64_t w;
        int r;

        if (strcmp(value, "idle") == 0) {
                lim->cpu_idle = true;
                lim->cpu_weight_set = false;
                return 0;
        }
        r = units_parse_uint_range(value, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, &w);
        if (r < 0)
                return fail(l, l->file, line, "%s=%s: expected an integer from %d to %d, or \"idle\"", key, value,
                            CPU_WEIGHT_MIN, CPU_WEIGHT_MAX);
        lim->cpu_weight_set = true;
        lim->cpu_weight = w;
        return 0;
}

static struct io_device_limit *limits_io_device(struct limits *lim, unsigned major, unsigned minor)
{
        for (unsigned i = 0; i < lim->n_io_devices; i++)
                if (lim->io_devices[i].major == major && lim->io_devices[i].minor == minor)
                        return &lim->io_devices[i];
        if (lim->n_io_devices >= IO_DEVICES_MAX)
                return NULL;
        struct io_device_limit *d = &lim->io_devices[lim->n_io_devices++];
        *d = (struct io_device_limit){major, minor, LIMIT_MAX, LIMIT_MAX, LIMIT_MAX, LIMIT_MAX};
        return d;
}

/* "DEVICE VALUE" for IO{Read,Write}{Bandwidth,IOPS}Max=. DEVICE is a path or MAJ:MIN. */
static int parse_io_limit(struct loader *l, const char *section, const char *key, const char *value, unsigned line,
                          struct limits *lim)
{
        char device[INI_LINE_MAX + 1], amount[INI_LINE_MAX + 1];
        unsigned major, minor;
        uint64_t v;
        int r, n = 0;

        if (sscanf(value, "%198s %198s %n", device, amount, &n) != 2 || value[n] != '\0')
                return fail(l, l->file, line, "%s=%s: expected \"DEVICE VALUE\", e.g. \"/dev/vda 50M\"", key, value);

        r = loader_check_duplicate(l, section, key, device, line);
        if (r < 0)
                return r;

        if (units_is_infinity(amount))
                v = LIMIT_MAX;
        else {
                r = units_parse_size_si(amount, &v);
                if (r < 0 || v == 0)
                        return fail(l, l->file, line, "%s=%s: value \"%s\" is %s", key, value, amount,
                                    r < 0 ? units_error(r) : "zero (use a positive value or \"infinity\")");
        }

        char tail;
        if (sscanf(device, "%u:%u%c", &major, &minor, &tail) == 2)
                ;
        else if (device[0] != '/')
                return fail(l, l->file, line, "%s=: device \"%s\" must be an absolute path or MAJ:MIN", key, device);
        else if (!l->env->resolve_device)
                return fail(l, l->file, line, "%s=: cannot resolve device \"%s\" here", key, device);
        else {
                r = l->env->resolve_device(device, &major, &minor, l->env->userdata);
                if (r < 0)
                        return fail(l, l->file, line, "%s=: device \"%s\": %s", key, device,
                                    r == -ENOTBLK ? "not a block device" : strerror(-r));
        }

        struct io_device_limit *d = limits_io_device(lim, major, minor);
        if (!d)
                return fail(l, l->file, line, "%s=: too many devices (at most %d)", key, IO_DEVICES_MAX);
        if (strcasecmp(key, "IOReadBandwidthMax") == 0)
                d->rbps = v;
        else if (strcasecmp(key, "IOWriteBandwidthMax") == 0)
                d->wbps = v;
        else if (strcasecmp(key, "IOReadIOPSMax") == 0)
                d->riops = v;
        else
                d->wiops = v;
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

static int range_parse_bandwidth(const char *s, uint64_t *ret, const struct config_env *env)
{
        int r = units_parse_size_si(s, ret);
        return r < 0 ? r : *ret == 0 ? -ERANGE : 0;
}

static int parse_range(struct loader *l, const char *key, const char *value, unsigned line, range_parser_t parse,
                       const char *expect, bool *ret_set, uint64_t *ret_min, uint64_t *ret_max)
{
        char lo[INI_LINE_MAX + 1], hi[INI_LINE_MAX + 1];
        uint64_t a, b;

        if (split_range(value, lo, hi, sizeof(lo)) < 0 || parse(lo, &a, l->env) < 0 || parse(hi, &b, l->env) < 0)
                return fail(l, l->file, line, "%s=%s: expected MIN..MAX with %s", key, value, expect);
        if (a > b)
                return fail(l, l->file, line, "%s=%s: the range is reversed (%s is above %s)", key, value, lo, hi);
        *ret_set = true;
        *ret_min = a;
        *ret_max = b;
        return 0;
}

static int parse_pressure_target(struct loader *l, const char *key, const char *value, unsigned line, uint32_t *ret_ppm)
{
        uint64_t permyriad;

        if (units_parse_percent(value, UNITS_PERMYRIAD_100, &permyriad) < 0 || permyriad == 0)
                return fail(l, l->file, line,
                            "%s=%s: expected a percentage of time stalled, above 0%% and at most 100%%", key, value);
        *ret_ppm = (uint32_t)(permyriad * 100);
        return 0;
}

static int parse_adapt_list(struct loader *l, const char *value, unsigned line, struct adapt_policy *a)
{
        char copy[INI_LINE_MAX + 1], *save = NULL;

        snprintf(copy, sizeof(copy), "%s", value);
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (strcmp(w, "cpu") == 0)
                        a->cpu = true;
                else if (strcmp(w, "memory") == 0)
                        a->memory = true;
                else if (strcmp(w, "io") == 0)
                        a->io = true;
                else
                        return fail(l, l->file, line, "Adapt=%s: \"%s\" is not one of cpu, memory, io", value, w);
        }
        return 0;
}

static int handle_adapt(struct loader *l, struct group_policy *g, const char *key, const char *value, unsigned line,
                        bool *ret_handled)
{
        struct adapt_policy *a = &g->adapt;
        uint64_t v;

        *ret_handled = true;
        if (strcasecmp(key, "Adapt") == 0)
                return parse_adapt_list(l, value, line, a);
        if (strcasecmp(key, "CPUWeightRange") == 0)
                return parse_range(l, key, value, line, range_parse_weight, "weights from 1 to 10000",
                                   &a->cpu_weight_range_set, &a->cpu_weight_min, &a->cpu_weight_max);
        if (strcasecmp(key, "CPUQuotaRange") == 0)
                return parse_range(l, key, value, line, range_parse_percent, "percentages, e.g. 50%..200%",
                                   &a->cpu_quota_range_set, &a->cpu_quota_min_permyriad, &a->cpu_quota_max_permyriad);
        if (strcasecmp(key, "MemoryHighRange") == 0)
                return parse_range(l, key, value, line, range_parse_memory, "sizes or percentages of RAM, e.g. 2G..8G",
                                   &a->memory_high_range_set, &a->memory_high_min, &a->memory_high_max);
        if (strcasecmp(key, "MemoryProbe") == 0) {
                for (enum memory_probe m = MEMORY_PROBE_AUTO; m <= MEMORY_PROBE_HIGH; m++)
                        if (strcmp(value, memory_probe_to_string(m)) == 0) {
                                a->memory_probe_set = true;
                                a->memory_probe = m;
                                return 0;
                        }
                return fail(l, l->file, line, "%s=%s: expected auto, reclaim or high", key, value);
        }
        if (strcasecmp(key, "IOBandwidthMaxRange") == 0)
                return parse_range(l, key, value, line, range_parse_bandwidth, "bandwidths, e.g. 1M..100M",
                                   &a->io_bandwidth_range_set, &a->io_bandwidth_min, &a->io_bandwidth_max);
        if (strcasecmp(key, "RunQueueLatencyTarget") == 0) {
                if (units_parse_duration(value, &v) < 0 || v == 0 || v > UNITS_USEC_PER_SEC)
                        return fail(l, l->file, line, "%s=%s: expected a duration above 0 and at most 1s, e.g. 2ms",
                                    key, value);
                a->runq_latency_target_usec = v;
                return 0;
        }
        if (strcasecmp(key, "CPUPressureTarget") == 0)
                return parse_pressure_target(l, key, value, line, &a->cpu_pressure_target_ppm);
        if (strcasecmp(key, "MemoryPressureTarget") == 0)
                return parse_pressure_target(l, key, value, line, &a->memory_pressure_target_ppm);
        if (strcasecmp(key, "IOPressureTarget") == 0)
                return parse_pressure_target(l, key, value, line, &a->io_pressure_target_ppm);
        if (strcasecmp(key, "AdaptHoldSec") == 0 || strcasecmp(key, "AdaptDwellSec") == 0) {
                if (units_parse_duration(value, &v) < 0 || v > 3600 * UNITS_USEC_PER_SEC)
                        return fail(l, l->file, line, "%s=%s: expected a duration of at most 1h", key, value);
                if (strcasecmp(key, "AdaptHoldSec") == 0)
                        a->hold_usec = v;
                else
                        a->dwell_usec = v;
                return 0;
        }
        *ret_handled = false;
        return 0;
}

static int handle_group(struct loader *l, struct group_policy *g, const char *section, const char *key,
                        const char *value, unsigned line)
{
        struct limits *lim = &g->limits;
        uint64_t v;
        int r;

        if (strcasecmp(key, "MatchName") == 0)
                return parse_glob_list(l, key, value, line, &g->match_name, &g->n_match_name);
        if (strcasecmp(key, "MatchUUID") == 0) {
                r = parse_glob_list(l, key, value, line, &g->match_uuid, &g->n_match_uuid);
                for (size_t i = 0; r == 0 && i < g->n_match_uuid; i++)
                        for (char *c = g->match_uuid[i]; *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                return r;
        }
        if (strcasecmp(key, "MatchExe") == 0)
                return parse_glob_list(l, key, value, line, &g->match_exe, &g->n_match_exe);
        if (strcasecmp(key, "MatchUser") == 0)
                return parse_user_list(l, value, line, g);

        if (strcasecmp(key, "Class") == 0) {
                for (size_t i = 0; i < ELEMENTSOF(class_names); i++)
                        if (strcmp(value, class_names[i]) == 0) {
                                g->class = (enum vm_class)i;
                                return 0;
                        }
                return fail(l, l->file, line, "Class=%s: expected latency, normal or batch", value);
        }
        if (strcasecmp(key, "Placement") == 0) {
                if (strcmp(value, "own") == 0)
                        g->placement = PLACEMENT_OWN;
                else if (strcmp(value, "inplace") == 0)
                        g->placement = PLACEMENT_INPLACE;
                else
                        return fail(l, l->file, line, "Placement=%s: expected own or inplace", value);
                return 0;
        }

        if (strcasecmp(key, "CPUWeight") == 0)
                return parse_cpu_weight(l, key, value, line, lim);
        if (strcasecmp(key, "CPUQuota") == 0) {
                r = units_parse_percent(value, CPU_QUOTA_MAX_PERMYRIAD, &v);
                if (r < 0 || v == 0)
                        return fail(l, l->file, line,
                                    "CPUQuota=%s: expected a percentage above 0%% and at most 1000000%%, e.g. 150%%",
                                    value);
                lim->cpu_max_set = true;
                /* Kept as permyriad until the period is known; see config_finish_group(). */
                lim->cpu_quota_usec = v;
                return 0;
        }
        if (strcasecmp(key, "CPUQuotaPeriodSec") == 0) {
                r = units_parse_duration(value, &v);
                if (r < 0 || v < CPU_PERIOD_MIN_USEC || v > CPU_PERIOD_MAX_USEC)
                        return fail(l, l->file, line, "CPUQuotaPeriodSec=%s: expected a duration from 1ms to 1s",
                                    value);
                lim->cpu_period_usec = v;
                return 0;
        }
        if (strcasecmp(key, "MemoryHigh") == 0 || strcasecmp(key, "MemoryMax") == 0) {
                r = units_parse_memory_limit(value, l->env->physical_memory, &v);
                if (r < 0)
                        return fail(l, l->file, line,
                                    "%s=%s: %s; expected bytes with K/M/G/T, a percentage of RAM, or infinity", key,
                                    value, units_error(r));
                if (strcasecmp(key, "MemoryHigh") == 0) {
                        lim->memory_high_set = true;
                        lim->memory_high = v;
                } else {
                        lim->memory_max_set = true;
                        lim->memory_max = v;
                }
                return 0;
        }
        if (strcasecmp(key, "IOWeight") == 0) {
                r = units_parse_uint_range(value, IO_WEIGHT_MIN, IO_WEIGHT_MAX, &v);
                if (r < 0)
                        return fail(l, l->file, line, "IOWeight=%s: expected an integer from %d to %d", value,
                                    IO_WEIGHT_MIN, IO_WEIGHT_MAX);
                lim->io_weight_set = true;
                lim->io_weight = v;
                return 0;
        }
        if (strcasecmp(key, "IOReadBandwidthMax") == 0 || strcasecmp(key, "IOWriteBandwidthMax") == 0 ||
            strcasecmp(key, "IOReadIOPSMax") == 0 || strcasecmp(key, "IOWriteIOPSMax") == 0)
                return parse_io_limit(l, section, key, value, line, lim);

        if (strcasecmp(key, "NetIngressRate") == 0 || strcasecmp(key, "NetEgressRate") == 0) {
                r = units_parse_bitrate(value, &v);
                if (r < 0 || v == 0)
                        return fail(l, l->file, line, "%s=%s: expected a rate in bits per second, e.g. 100M or 1G", key,
                                    value);
                if (strcasecmp(key, "NetIngressRate") == 0) {
                        g->net.ingress_set = true;
                        g->net.ingress_bps = v;
                } else {
                        g->net.egress_set = true;
                        g->net.egress_bps = v;
                }
                return 0;
        }
        if (strcasecmp(key, "NetIngressBurst") == 0 || strcasecmp(key, "NetEgressBurst") == 0) {
                r = units_parse_size(value, &v);
                if (r < 0 || v == 0 || v > (1ULL << 30))
                        return fail(l, l->file, line, "%s=%s: expected a size from 1 byte to 1G, e.g. 64K", key, value);
                if (strcasecmp(key, "NetIngressBurst") == 0)
                        g->net.ingress_burst = v;
                else
                        g->net.egress_burst = v;
                return 0;
        }

        bool handled;
        r = handle_adapt(l, g, key, value, line, &handled);
        if (handled)
                return r;

        return fail(l, l->file, line, "unknown key %s= in [group %s]", key, g->name);
}

static bool key_is_per_device(const char *key)
{
        return strcasecmp(key, "IOReadBandwidthMax") == 0 || strcasecmp(key, "IOWriteBandwidthMax") == 0 ||
               strcasecmp(key, "IOReadIOPSMax") == 0 || strcasecmp(key, "IOWriteIOPSMax") == 0;
}

static int ini_handler_cb(void *userdata, const char *section, const char *key, const char *value, int lineno)
{
        struct loader *l = userdata;
        unsigned line = (unsigned)lineno;
        int r;

        if (l->failed)
                return 1; /* keep only the first error; inih goes on regardless */

        if (!section[0]) {
                fail(l, l->file, line, "%s= outside of any section", key);
                return 0;
        }
        if (!value[0]) {
                fail(l, l->file, line, "%s= has no value", key);
                return 0;
        }
        if (!key_is_per_device(key)) {
                r = loader_check_duplicate(l, section, key, NULL, line);
                if (r < 0)
                        return 0;
        }

        if (strcmp(section, "engine") == 0)
                r = handle_engine(l, key, value, line);
        else {
                struct group_policy *g = policy_find_group(l->policy, section + 6);
                if (!g) { /* the pre-scan registered every section */
                        fail(l, l->file, line, "internal error: section [%s] not registered", section);
                        return 0;
                }
                r = handle_group(l, g, section, key, value, line);
        }
        if (r == -ENOMEM) {
                fail(l, l->file, line, "out of memory");
                return 0;
        }
        return r < 0 ? 0 : 1;
}

static int config_load_text(struct loader *l, const char *file, const char *text, size_t size)
{
        int r;

        l->file = file;
        r = loader_prescan(l, text, size);
        if (r < 0)
                return l->failed ? -EINVAL : r;

        r = ini_parse_string(text, ini_handler_cb, l);
        if (l->failed)
                return -EINVAL;
        if (r > 0)
                return fail(l, file, (unsigned)r, "syntax error");
        if (r < 0)
                return fail(l, file, 0, "out of memory while parsing");
        return 0;
}

/* The laws need their bounds and goals, and the configured baseline must lie inside the bounds. Runs before
 * CPUQuota= is translated, while lim->cpu_quota_usec still holds the percentage in permyriad. */
static int adapt_validate(struct loader *l, struct group_policy *g)
{
        struct adapt_policy *a = &g->adapt;
        const struct limits *lim = &g->limits;
        bool protected_class = g->class != VM_CLASS_BATCH;

#define GFAIL(...) fail(l, g->file, g->line, __VA_ARGS__)
        if (!a->cpu && a->cpu_weight_range_set)
                return GFAIL("[group %s]: CPUWeightRange= is set but Adapt= does not include cpu", g->name);
        if (!a->cpu && a->cpu_quota_range_set)
                return GFAIL("[group %s]: CPUQuotaRange= is set but Adapt= does not include cpu", g->name);
        if (!a->memory && a->memory_high_range_set)
                return GFAIL("[group %s]: MemoryHighRange= is set but Adapt= does not include memory", g->name);
        if (!a->memory && a->memory_probe_set)
                return GFAIL("[group %s]: MemoryProbe= is set but Adapt= does not include memory", g->name);
        if (!a->io && a->io_bandwidth_range_set)
                return GFAIL("[group %s]: IOBandwidthMaxRange= is set but Adapt= does not include io", g->name);

        if (a->cpu) {
                if (!a->cpu_weight_range_set && !a->cpu_quota_range_set)
                        return GFAIL("[group %s]: Adapt=cpu needs CPUWeightRange= or CPUQuotaRange=", g->name);
                if (protected_class && !a->runq_latency_target_usec && !a->cpu_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=cpu for a %s VM needs RunQueueLatencyTarget= or "
                                     "CPUPressureTarget=",
                                     g->name, vm_class_to_string(g->class));
                if (a->cpu_weight_range_set) {
                        uint64_t w = lim->cpu_weight_set ? lim->cpu_weight : CPU_WEIGHT_DEFAULT;
                        if (lim->cpu_idle)
                                return GFAIL("[group %s]: CPUWeight=idle cannot be adapted", g->name);
                        if (w < a->cpu_weight_min || w > a->cpu_weight_max)
                                return GFAIL("[group %s]: CPUWeight=%llu is outside CPUWeightRange=%llu..%llu", g->name,
                                             (unsigned long long)w, (unsigned long long)a->cpu_weight_min,
                                             (unsigned long long)a->cpu_weight_max);
                }
                if (a->cpu_quota_range_set && lim->cpu_max_set &&
                    (lim->cpu_quota_usec < a->cpu_quota_min_permyriad ||
                     lim->cpu_quota_usec > a->cpu_quota_max_permyriad))
                        return GFAIL("[group %s]: CPUQuota= is outside CPUQuotaRange=", g->name);
        }
        if (a->memory) {
                if (!a->memory_high_range_set || !a->memory_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=memory needs MemoryHighRange= and MemoryPressureTarget=",
                                     g->name);
                if (lim->memory_high_set &&
                    (lim->memory_high < a->memory_high_min || lim->memory_high > a->memory_high_max))
                        return GFAIL("[group %s]: MemoryHigh= is outside MemoryHighRange=", g->name);
                if (lim->memory_max_set && lim->memory_max != LIMIT_MAX && a->memory_high_max > lim->memory_max)
                        return GFAIL("[group %s]: MemoryHighRange= reaches above MemoryMax=", g->name);
        }
        if (a->io) {
                if (!protected_class && !a->io_bandwidth_range_set)
                        return GFAIL("[group %s]: Adapt=io for a batch VM needs IOBandwidthMaxRange=", g->name);
                if (protected_class && !a->io_pressure_target_ppm)
                        return GFAIL("[group %s]: Adapt=io for a %s VM needs IOPressureTarget=", g->name,
                                     vm_class_to_string(g->class));
        }
#undef GFAIL
        return 0;
}

/* Translate what depends on more than one key, once all files are read. */
static int config_finish(struct loader *l)
{
        struct policy *p = l->policy;

        for (size_t i = 0; i < p->n_groups; i++) {
                struct group_policy *g = &p->groups[i];
                struct limits *lim = &g->limits;

                if (lim->cpu_period_usec && !lim->cpu_max_set)
                        return fail(l, g->file, g->line, "[group %s]: CPUQuotaPeriodSec= needs CPUQuota=", g->name);
                int r = adapt_validate(l, g);
                if (r < 0)
                        return r;
                if ((g->net.ingress_burst && !g->net.ingress_set) || (g->net.egress_burst && !g->net.egress_set))
                        return fail(l, g->file, g->line, "[group %s]: a Net*Burst= needs its Net*Rate=", g->name);
                if (lim->cpu_max_set) {
                        /* CPUQuota= was kept as permyriad until the period was known. */
                        uint64_t permyriad = lim->cpu_quota_usec;
                        if (cgv_cpu_quota_from_permyriad(permyriad, lim->cpu_period_usec, &lim->cpu_quota_usec,
                                                         &lim->cpu_period_usec) < 0)
                                return fail(l, g->file, g->line,
                                            "[group %s]: CPUQuota= is beyond what the kernel takes", g->name);
                }
                if (!g->n_match_name && !g->n_match_uuid && !g->n_match_exe && !g->n_match_user &&
                    !(p->engine.default_group && strcmp(p->engine.default_group, g->name) == 0))
                        return fail(l, g->file, g->line,
                                    "[group %s] has no Match*= rule and is not the DefaultGroup=: it would never "
                                    "apply",
                                    g->name);
                if (lim->memory_high_set && lim->memory_max_set && lim->memory_high != LIMIT_MAX &&
                    lim->memory_high > lim->memory_max)
                        return fail(l, g->file, g->line, "[group %s]: MemoryHigh= is above MemoryMax=", g->name);
        }

        if (p->engine.default_group && !policy_find_group(p, p->engine.default_group))
                return fail(l, l->default_group_file, l->default_group_line,
                            "DefaultGroup=%s: no [group %s] is defined", p->engine.default_group,
                            p->engine.default_group);

        if (!p->engine.qemu_exe) {
                static const char *const defaults[] = {"qemu-system-*", "qemu-kvm"};
                p->engine.qemu_exe = calloc(ELEMENTSOF(defaults), sizeof(char *));
                if (!p->engine.qemu_exe)
                        return -ENOMEM;
                for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                        p->engine.qemu_exe[i] = strdup(defaults[i]);
                        if (!p->engine.qemu_exe[i])
                                return -ENOMEM;
                        p->engine.n_qemu_exe++;
                }
        }
        if (!p->engine.interval_usec)
                p->engine.interval_usec = ENGINE_INTERVAL_DEFAULT_USEC;
        return 0;
}

static struct policy *policy_new(void)
{
        return calloc(1, sizeof(struct policy));
}

static int loader_finish(struct loader *l, int r, struct policy **ret_policy)
{
        if (r == 0)
                r = config_finish(l);
        if (r == -ENOMEM && !l->failed)
                fail(l, l->file, 0, "out of memory");
        if (r < 0) {
                policy_free(l->policy);
                return r;
        }
        *ret_policy = l->policy;
        return 0;
}

int config_load_string(const char *file, const char *text, const struct config_env *env, struct policy **ret_policy,
                       struct config_error *ret_error)
{
        struct loader *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        *l = (struct loader){.env = env, .error = ret_error, .policy = policy_new()};
        if (!l->policy)
                r = -ENOMEM;
        else
                r = config_load_text(l, file, text, strlen(text));
        r = loader_finish(l, r, ret_policy);
        free(l);
        return r;
}

/*
 * As sudo does with sudoers: a policy decides what is written into every VM's cgroup, so only its owner may have
 * written it. Owned by root (or, for a user checking a file of theirs, by that user), not writable by group or
 * others.
 */
static int check_owner(struct loader *l, const char *path, const struct stat *st)
{
        if (st->st_uid != geteuid())
                return fail(l, path, 0, "owned by uid %u, not by %s: refusing it (chown %u %s)", (unsigned)st->st_uid,
                            geteuid() == 0 ? "root" : "you", (unsigned)geteuid(), path);
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return fail(l, path, 0, "writable by group or others: refusing it (chmod go-w %s)", path);
        return 0;
}

/* Read a whole policy file, refusing anything that is not a regular file of sane size. */
static int read_policy_file(struct loader *l, const char *path, char **ret_text, size_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return fail_errno(l, path, -errno);
        if (!S_ISREG(st.st_mode))
                return fail(l, path, 0, "not a regular file");
        r = check_owner(l, path, &st);
        if (r < 0)
                return r;
        if (st.st_size > POLICY_FILE_MAX)
                return fail(l, path, 0, "larger than %d bytes", POLICY_FILE_MAX);

        buf = malloc(st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + size, st.st_size - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return fail_errno(l, path, -errno);
                if (n == 0)
                        break;
                size += n;
        }
        buf[size] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int ini_filter(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".ini") == 0;
}

static int loader_add_file_name(struct loader *l, const char *path)
{
        char **v = realloc(l->file_names, (l->n_file_names + 1) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        l->file_names = v;
        v[l->n_file_names] = strdup(path);
        if (!v[l->n_file_names])
                return -ENOMEM;
        l->n_file_names++;
        return 0;
}

static int loader_load_file(struct loader *l, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = loader_add_file_name(l, path);
        if (r < 0)
                return r;
        r = read_policy_file(l, l->file_names[l->n_file_names - 1], &text, &size);
        if (r < 0)
                return r;
        return config_load_text(l, l->file_names[l->n_file_names - 1], text, size);
}

static int loader_load_dir(struct loader *l, const char *dir)
{
        struct dirent **entries = NULL;
        int n, r = 0;

        struct stat st;
        if (stat(dir, &st) < 0)
                return fail_errno(l, dir, -errno);
        /* Whoever may write the directory may add a policy file to it. */
        r = check_owner(l, dir, &st);
        if (r < 0)
                return r;
        n = scandir(dir, &entries, ini_filter, alphasort);
        if (n < 0)
                return fail_errno(l, dir, -errno);
        if (n == 0)
                r = fail(l, dir, 0, "no *.ini files in the directory");
        for (int i = 0; i < n; i++) {
                if (r == 0) {
                        char path[4096];
                        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name) >= sizeof(path))
                                r = fail(l, dir, 0, "path too long");
                        else
                                r = loader_load_file(l, path);
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

int config_load(const char *path, const struct config_env *env, struct policy **ret_policy,
                struct config_error *ret_error)
{
        struct loader *l = calloc(1, sizeof(*l));
        struct stat st;
        int r;

        if (!l)
                return -ENOMEM;
        *l = (struct loader){.env = env, .error = ret_error, .policy = policy_new()};
        if (!l->policy)
                r = -ENOMEM;
        else if (stat(path, &st) < 0)
                r = fail_errno(l, path, -errno);
        else if (S_ISDIR(st.st_mode))
                r = loader_load_dir(l, path);
        else
                r = loader_load_file(l, path);

        r = loader_finish(l, r, ret_policy);
        /* Group and error file names point at copies owned by the groups; the loader's copies can go. */
        strv_free(l->file_names, l->n_file_names);
        free(l);
        return r;
}
