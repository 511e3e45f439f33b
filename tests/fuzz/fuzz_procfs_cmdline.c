/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /proc/PID/cmdline of a QEMU process: a NUL-separated argv that someone else wrote. Whatever it holds, the -name
 * and -uuid that discovery takes from it fit their fields, and a uuid is canonical (it goes into logs and the audit
 * log unescaped as such). Then the input as a VM name: put on a command line the way QEMU's QemuOpts wants it
 * ("-name guest=...", a comma doubled), it parses back to the very same name.
 */
#include "fuzz.h"
#include "kernel/procfs.h"

static void check_uuid(const char *u)
{
        if (!u[0])
                return;
        if (strlen(u) != VM_UUID_LEN)
                abort();
        for (size_t i = 0; i < VM_UUID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? u[i] != '-' : !((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
                        abort();
        }
}

static void check_name_round_trip(const uint8_t *data, size_t size)
{
        static const char head[] = "qemu-system-x86_64\0-name\0guest=";
        size_t len = strnlen((const char *)data, size), n = sizeof(head) - 1;
        struct qemu_cmdline c;
        char *argv;

        if (len > VM_NAME_MAX)
                len = VM_NAME_MAX;
        argv = malloc(n + 2 * len + 1);
        if (!argv)
                return;
        memcpy(argv, head, n);
        for (size_t i = 0; i < len; i++) {
                argv[n++] = (char)data[i];
                if (data[i] == ',')
                        argv[n++] = ',';
        }
        argv[n++] = '\0';
        if (procfs_cmdline_parse(argv, n, &c) != 0 || c.name_truncated || strlen(c.name) != len ||
            memcmp(c.name, data, len) != 0)
                abort();
        free(argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct qemu_cmdline c;

        if (procfs_cmdline_parse((const char *)data, size, &c) == 0) {
                if (!memchr(c.name, '\0', sizeof(c.name)) || strlen(c.name) > VM_NAME_MAX)
                        abort();
                if (!memchr(c.uuid, '\0', sizeof(c.uuid)))
                        abort();
                check_uuid(c.uuid);
        }
        check_name_round_trip(data, size);
        return 0;
}
