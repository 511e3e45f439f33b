/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "config.h"

int main(int argc, char **argv)
{
        struct config_env env = {0};
        struct config_error e = {0};
        struct policy *p = NULL;
        char msg[1200];

        if (argc < 3 || strcmp(argv[1], "check") != 0)
                return 2;
        if (config_load(argv[2], &env, &p, &e) < 0) {
                config_error_format(&e, msg, sizeof(msg));
                fprintf(stderr, "%s\n", msg);
                return 2;
        }
        policy_free(p);
        return 0;
}
