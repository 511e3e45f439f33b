/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Policies for the tests of the laws (test_control.c, test_freeze.c): loaded from text with a 16 GiB host, and
 * their groups by name. Include after <cmocka.h>.
 */

#include <string.h>

#include "policy/config.h"

static const struct config_env test_policy_env = {.physical_memory = 16ULL << 30};

static inline struct policy *load(const char *text)
{
        struct config_error e = {0};
        struct policy *p = NULL;

        if (config_load_string("test.ini", text, &test_policy_env, &p, &e) < 0)
                fail_msg("policy refused: %s:%u: %s", e.file, e.line, e.message);
        return p;
}

static inline const struct group_policy *group(const struct policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_groups; i++)
                if (strcmp(p->groups[i].name, name) == 0)
                        return &p->groups[i];
        fail_msg("no group %s", name);
        return NULL;
}
