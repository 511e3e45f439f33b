/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fnmatch.h>
#include <string.h>

#include "policy/policy.h"

static bool glob_any(char *const *globs, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (fnmatch(globs[i], s, 0) == 0)
                        return true;
        return false;
}

bool policy_is_qemu_exe(const struct policy *p, const char *exe_basename)
{
        return glob_any(p->engine.qemu_exe, p->engine.n_qemu_exe, exe_basename);
}

static bool uid_any(const uid_t *uids, size_t n, uid_t uid)
{
        for (size_t i = 0; i < n; i++)
                if (uids[i] == uid)
                        return true;
        return false;
}

bool policy_path_trusted(const struct policy *p, const char *path)
{
        for (size_t i = 0; i < p->engine.n_trusted_paths; i++) {
                const char *t = p->engine.trusted_paths[i];
                size_t n = strlen(t);

                if (strncmp(path, t, n) == 0 && (path[n] == '\0' || path[n] == '/'))
                        return true;
        }
        return false;
}

bool policy_cgroup_is_machined(const char *cgroup)
{
        char component[256];

        for (const char *c = cgroup; *c;) {
                size_t n = strcspn(c, "/");

                if (n > 0 && n < sizeof(component)) {
                        memcpy(component, c, n);
                        component[n] = '\0';
                        if (fnmatch("machine-qemu*.scope", component, 0) == 0)
                                return true;
                }
                c += n;
                c += *c == '/';
        }
        return false;
}

/* Every Match*= the group has must hold; a group with none matches every VM. */
static bool group_matches(const struct group_policy *g, const struct vm_identity *vm, bool any_user)
{
        if (g->n_match_name && !glob_any(g->match_name, g->n_match_name, vm_name(vm)))
                return false;
        if (g->n_match_uuid && !glob_any(g->match_uuid, g->n_match_uuid, vm->uuid))
                return false;
        if (g->n_match_exe && !glob_any(g->match_exe, g->n_match_exe, vm_exe(vm)))
                return false;
        if (!any_user && g->n_match_user && !uid_any(g->match_user, g->n_match_user, vm->uid))
                return false;
        return true;
}

static bool group_has_rules(const struct group_policy *g)
{
        return g->n_match_name || g->n_match_uuid || g->n_match_exe || g->n_match_user;
}

/* The group by the Match*= rules alone, then the default group. root_only: another user's VM, which only a group
 * whose MatchUser= names that user takes. any_user: as if every MatchUser= named the VM's user. */
static const struct group_policy *group_find(const struct policy *p, const struct vm_identity *vm, bool root_only,
                                             bool any_user)
{
        for (size_t i = 0; i < p->n_groups; i++) {
                const struct group_policy *g = &p->groups[i];
                if (group_has_rules(g) && group_matches(g, vm, any_user) && (!root_only || g->n_match_user))
                        return g;
        }
        if (p->engine.default_group)
                for (size_t i = 0; i < p->n_groups; i++) {
                        const struct group_policy *g = &p->groups[i];
                        if (strcmp(g->name, p->engine.default_group) == 0 &&
                            (any_user || !root_only || uid_any(g->match_user, g->n_match_user, vm->uid)))
                                return g;
                }
        return NULL;
}

const struct group_policy *policy_match_why(const struct policy *p, const struct vm_identity *vm,
                                            enum policy_verdict *ret_why)
{
        const struct group_policy *g = NULL;
        enum policy_verdict why;

        if (!p->engine.manage_libvirt && vm->cgroup && policy_cgroup_is_machined(vm->cgroup))
                why = POLICY_MACHINED;
        else {
                /* Another user's QEMU is theirs: only a group that names them takes it (MatchUser= holds, so it
                 * names this very user). */
                g = group_find(p, vm, vm->uid != 0, false);
                why = g                                                ? POLICY_MANAGED
                      : vm->uid != 0 && group_find(p, vm, false, true) ? POLICY_OTHER_USER
                                                                       : POLICY_NO_GROUP;
        }
        if (ret_why)
                *ret_why = why;
        return g;
}

const struct group_policy *policy_match(const struct policy *p, const struct vm_identity *vm)
{
        return policy_match_why(p, vm, NULL);
}

void policy_set_generation(struct policy *p, uint64_t generation)
{
        p->generation = generation;
        for (size_t i = 0; i < p->n_groups; i++)
                p->groups[i].generation = generation;
}

bool policy_uses_cpuset(const struct policy *p)
{
        for (size_t i = 0; i < p->n_groups; i++) {
                const struct cpu_topology *t = &p->groups[i].cpu;
                if (t->allowed_cpus_set || t->allowed_mems_set || t->n_vcpu_cpus || t->emulator_cpus_set ||
                    t->partition != CPU_PARTITION_NO)
                        return true;
        }
        return false;
}
