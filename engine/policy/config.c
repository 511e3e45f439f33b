/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy loader's public face and its lifetime: config_load() and config_load_string() make a loader, have
 * ini.c read the text (which hands each key to keys.c) and validate.c check what spans keys, and hand back the
 * policy or the first error, which is the only one reported. Also the policy object itself: the groups as their
 * section headers are found, policy_free(), config_error_format() and the names of the enums.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/macro.h"
#include "policy/config.h"
#include "policy/config-internal.h"

const char *const vm_class_names[VM_CLASS_BATCH + 1] = {
        [VM_CLASS_LATENCY] = "latency",
        [VM_CLASS_NORMAL] = "normal",
        [VM_CLASS_BATCH] = "batch",
};

const char *vm_class_to_string(enum vm_class c)
{
        return c < ELEMENTSOF(vm_class_names) ? vm_class_names[c] : "?";
}

const char *const memory_probe_names[MEMORY_PROBE_HIGH + 1] = {
        [MEMORY_PROBE_AUTO] = "auto",
        [MEMORY_PROBE_RECLAIM] = "reclaim",
        [MEMORY_PROBE_HIGH] = "high",
};

const char *memory_probe_to_string(enum memory_probe p)
{
        return p < ELEMENTSOF(memory_probe_names) ? memory_probe_names[p] : "?";
}

int loader_fail(struct loader *l, const char *file, unsigned line, const char *fmt, ...)
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

void config_error_format(const struct config_error *e, char *buf, size_t len)
{
        if (e->line > 0)
                snprintf(buf, len, "%s:%u: %s", e->file, e->line, e->message);
        else if (e->file[0])
                snprintf(buf, len, "%s: %s", e->file, e->message);
        else
                snprintf(buf, len, "%s", e->message);
}

void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Split a whitespace-separated list into a fresh string vector. */
int strv_split(const char *value, char ***ret, size_t *ret_n)
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

static void group_done(struct group_policy *g)
{
        free(g->name);
        free(g->file);
        strv_free(g->match_name, g->n_match_name);
        strv_free(g->match_uuid, g->n_match_uuid);
        strv_free(g->match_exe, g->n_match_exe);
        free(g->match_user);
        cpu_topology_done(&g->cpu);
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
        strv_free(p->engine.trusted_paths, p->engine.n_trusted_paths);
        free(p->engine.default_group);
        free(p);
}

struct group_policy *policy_find_group(struct policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_groups; i++)
                if (strcmp(p->groups[i].name, name) == 0)
                        return &p->groups[i];
        return NULL;
}

bool group_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > GROUP_NAME_MAX || !isalnum((unsigned char)name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
                        return false;
        return true;
}

/* A section header seen by the pre-scan: "[engine]" or "[group NAME]". */
int loader_add_section(struct loader *l, const char *section, unsigned line)
{
        struct group_policy *g;
        const char *name;

        if (strcmp(section, "engine") == 0)
                return 0;
        if (strncmp(section, "group ", 6) != 0)
                return loader_fail(l, l->file, line, "unknown section [%s]: expected [engine] or [group NAME]",
                                   section);

        name = section + 6;
        if (!group_name_valid(name))
                return loader_fail(l, l->file, line,
                                   "invalid group name \"%s\": use 1-%d letters, digits, '-' or '_', starting with a "
                                   "letter or digit",
                                   name, GROUP_NAME_MAX);
        g = policy_find_group(l->policy, name);
        if (g)
                return loader_fail(l, l->file, line, "group %s is already defined at %s:%u", name, g->file, g->line);

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

static struct policy *policy_new(void)
{
        return calloc(1, sizeof(struct policy));
}

static int loader_finish(struct loader *l, int r, struct policy **ret_policy)
{
        if (r == 0)
                r = config_finish(l);
        if (r == -ENOMEM && !l->failed)
                loader_fail(l, l->file, 0, "out of memory");
        if (r < 0) {
                policy_free(l->policy);
                return r;
        }
        *ret_policy = l->policy;
        return 0;
}

/* A loader with an empty policy, or NULL when out of memory. */
static struct loader *loader_new(const struct config_env *env, struct config_error *error)
{
        struct loader *l = calloc(1, sizeof(*l));

        if (!l)
                return NULL;
        *l = (struct loader){.env = env, .error = error, .policy = policy_new()};
        if (!l->policy) {
                free(l);
                return NULL;
        }
        return l;
}

int config_load_string(const char *file, const char *text, const struct config_env *env, struct policy **ret_policy,
                       struct config_error *ret_error)
{
        struct loader *l = loader_new(env, ret_error);
        int r;

        if (!l)
                return -ENOMEM;
        r = ini_load_text(l, file, text, strlen(text));
        r = loader_finish(l, r, ret_policy);
        free(l);
        return r;
}

int config_load(const char *path, const struct config_env *env, struct policy **ret_policy,
                struct config_error *ret_error)
{
        struct loader *l = loader_new(env, ret_error);
        int r;

        if (!l)
                return -ENOMEM;
        r = ini_load_path(l, path);
        r = loader_finish(l, r, ret_policy);
        /* Group and error file names point at copies owned by the groups; the loader's copies can go. */
        strv_free(l->file_names, l->n_file_names);
        free(l);
        return r;
}
