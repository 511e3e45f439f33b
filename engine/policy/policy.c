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

/* Every Match*= the group has must hold; a group with none matches every VM. */
static bool group_matches(const struct group_policy *g, const struct vm_identity *vm)
{
        if (g->n_match_name && !glob_any(g->match_name, g->n_match_name, vm->name))
                return false;
        if (g->n_match_uuid && !glob_any(g->match_uuid, g->n_match_uuid, vm->uuid))
                return false;
        if (g->n_match_exe && !glob_any(g->match_exe, g->n_match_exe, vm->exe))
                return false;
        if (g->n_match_user && !uid_any(g->match_user, g->n_match_user, vm->uid))
                return false;
        return true;
}

static bool group_has_rules(const struct group_policy *g)
{
        return g->n_match_name || g->n_match_uuid || g->n_match_exe || g->n_match_user;
}

const struct group_policy *policy_match(const struct policy *p, const struct vm_identity *vm)
{
        for (size_t i = 0; i < p->n_groups; i++)
                if (group_has_rules(&p->groups[i]) && group_matches(&p->groups[i], vm))
                        return &p->groups[i];

        if (p->engine.default_group)
                for (size_t i = 0; i < p->n_groups; i++)
                        if (strcmp(p->groups[i].name, p->engine.default_group) == 0)
                                return &p->groups[i];
        return NULL;
}

void policy_set_generation(struct policy *p, uint64_t generation)
{
        p->generation = generation;
        for (size_t i = 0; i < p->n_groups; i++)
                p->groups[i].generation = generation;
}
