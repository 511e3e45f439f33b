/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * capbound CAPS -- PROGRAM [ARGS...]
 *
 * Run PROGRAM with a capability bounding set of CAPS only, as systemd does for CapabilityBoundingSet= (units/
 * vmgov.service): every other capability is dropped from the bounding set, and the ambient and inheritable sets are
 * cleared, before exec. A root program then starts with exactly CAPS, whatever it could have had. CAPS is a comma-
 * separated list of names as in capabilities(7), without "CAP_" and in any case (sys_ptrace,net_admin,bpf,perfmon),
 * or "none".
 *
 * util-linux's setpriv --bounding-set does the same; the guest of scripts/vmtest has only busybox's setpriv.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
        "chown",
        "dac_override",
        "dac_read_search",
        "fowner",
        "fsetid",
        "kill",
        "setgid",
        "setuid",
        "setpcap",
        "linux_immutable",
        "net_bind_service",
        "net_broadcast",
        "net_admin",
        "net_raw",
        "ipc_lock",
        "ipc_owner",
        "sys_module",
        "sys_rawio",
        "sys_chroot",
        "sys_ptrace",
        "sys_pacct",
        "sys_admin",
        "sys_boot",
        "sys_nice",
        "sys_resource",
        "sys_time",
        "sys_tty_config",
        "mknod",
        "lease",
        "audit_write",
        "audit_control",
        "setfcap",
        "mac_override",
        "mac_admin",
        "syslog",
        "wake_alarm",
        "block_suspend",
        "audit_read",
        "perfmon",
        "bpf",
        "checkpoint_restore",
};

static int cap_from_name(const char *name)
{
        if (strncasecmp(name, "cap_", 4) == 0)
                name += 4;
        for (size_t i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
                if (strcasecmp(name, cap_names[i]) == 0)
                        return (int)i;
        return -1;
}

static int usage(void)
{
        fprintf(stderr, "usage: capbound CAP[,CAP...]|none -- PROGRAM [ARGS...]\n");
        return 2;
}

int main(int argc, char **argv)
{
        unsigned long long keep = 0;
        int i = 1;

        if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0)
                return usage();
        if (strcmp(argv[i], "none") != 0) {
                char *list = strdup(argv[i]), *save = NULL;

                for (char *w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                        int c = cap_from_name(w);
                        if (c < 0) {
                                fprintf(stderr, "capbound: unknown capability \"%s\"\n", w);
                                return 2;
                        }
                        keep |= 1ULL << c;
                }
                free(list);
        }

        for (int c = 0; c < 64; c++) {
                int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
                if (r < 0)
                        break; /* past the kernel's last capability */
                if (r == 1 && !(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
                        fprintf(stderr, "capbound: drop %d from the bounding set: %s\n", c, strerror(errno));
                        return 1;
                }
        }
        (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        {
                struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
                struct __user_cap_data_struct data[2];

                if (syscall(SYS_capget, &hdr, data) == 0) {
                        data[0].inheritable = data[1].inheritable = 0;
                        (void)syscall(SYS_capset, &hdr, data);
                }
        }
        execvp(argv[i + 2], argv + i + 2);
        fprintf(stderr, "capbound: %s: %s\n", argv[i + 2], strerror(errno));
        return 127;
}
