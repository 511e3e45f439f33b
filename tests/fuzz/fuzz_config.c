/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The INI policy loader, pre-scan and all: config_load_string() on arbitrary text. */
#include <errno.h>
#include <string.h>

#include "policy/config.h"
#include "fuzz.h"

/* No I/O while fuzzing: /dev/vd* are block devices 254:N, "root" and "qemu" are users, nothing else exists. */
static int resolve_device(const char *path, unsigned *ret_major, unsigned *ret_minor, void *userdata)
{
        (void)userdata;
        if (strncmp(path, "/dev/vd", 7) == 0 && path[7] >= 'a' && path[7] <= 'z' && !path[8]) {
                *ret_major = 254;
                *ret_minor = (unsigned)(path[7] - 'a') * 16;
                return 0;
        }
        if (strcmp(path, "/dev/null") == 0)
                return -ENOTBLK;
        return -ENOENT;
}

static int resolve_user(const char *name, unsigned *ret_uid, void *userdata)
{
        (void)userdata;
        if (strcmp(name, "root") == 0)
                *ret_uid = 0;
        else if (strcmp(name, "qemu") == 0)
                *ret_uid = 64055;
        else
                return -ENOENT;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct config_env env = {
                .physical_memory = 8ULL << 30,
                .resolve_device = resolve_device,
                .resolve_user = resolve_user,
        };
        struct config_error err = {0};
        struct policy *p = NULL;
        char msg[1200];
        char *text;
        int r;

        text = fuzz_strndup(data, size);
        if (!text)
                return 0;
        r = config_load_string("fuzz.ini", text, &env, &p, &err);
        if (r < 0)
                config_error_format(&err, msg, sizeof(msg));
        else
                policy_free(p);
        free(text);
        return 0;
}
