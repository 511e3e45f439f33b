/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include "policy/config.h"

/*
 * `vmgov replay`: recorded signals through the control laws of a policy, offline. The "kernel" of a replay holds
 * exactly what the laws decided, so the output is what the engine would have written with this policy: one line
 * per change with its reason, then each VM's final limits and how often each file changed direction.
 * Returns 0, or -EINVAL for a malformed recording (with the line number in the message on err).
 */
int replay_run(FILE *in, const char *in_name, const struct policy *p, FILE *out, FILE *err);
