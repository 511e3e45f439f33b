/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/caps.h"
#include "kernel/macro.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif

#define CAP_BIT(c) (1ULL << (c))

uint64_t caps_engine_mask(unsigned last_cap)
{
        /* CAP_SYS_RESOURCE: PSI triggers (sense/psi.h) with windows under 2 s, and before Linux 6.5 (Debian 12's 6.1)
         * any trigger at all; without it the engine reacts to pressure no faster than its tick */
        /* CAP_SYS_NICE: moving a QEMU with capabilities the engine has not into a cgroup with cpuset (pins) */
        uint64_t keep =
                CAP_BIT(CAP_SYS_PTRACE) | CAP_BIT(CAP_NET_ADMIN) | CAP_BIT(CAP_SYS_NICE) | CAP_BIT(CAP_SYS_RESOURCE);

        if (last_cap >= CAP_BPF)
                keep |= CAP_BIT(CAP_BPF) | CAP_BIT(CAP_PERFMON);
        else
                keep |= CAP_BIT(CAP_SYS_ADMIN);
        return keep;
}

static int capget_sets(struct __user_cap_data_struct data[2])
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

unsigned caps_last_cap(int proc_fd)
{
        char buf[16] = {0};
        _cleanup_close_ int fd = openat(proc_fd, "sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

        if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
                return 40; /* CAP_CHECKPOINT_RESTORE, 5.9+: a safe upper bound for the loop below */
        return (unsigned)atoi(buf);
}

int caps_reduce(uint64_t keep, unsigned last_cap)
{
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[2];
        int r, last = (int)last_cap;

        r = capget_sets(data);
        if (r < 0)
                return r;
        /* The bounding set first: dropping from it needs CAP_SETPCAP, which goes last. */
        /* Without CAP_SETPCAP the bounding set cannot shrink: say so, but still reduce the other sets. */
        int bounding_error = 0;
        for (int c = 0; c <= last && c < 64; c++)
                if (!(keep & CAP_BIT(c)) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 &&
                    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && !bounding_error)
                        bounding_error = -errno;
        (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

        for (int i = 0; i < 2; i++) {
                uint32_t k = (uint32_t)(keep >> (32 * i));
                data[i].permitted &= k;
                data[i].effective &= k;
                data[i].inheritable = 0;
        }
        if (syscall(SYS_capset, &hdr, data) < 0)
                return -errno;
        return bounding_error;
}

int caps_effective(uint64_t *ret)
{
        struct __user_cap_data_struct data[2];
        int r = capget_sets(data);

        if (r < 0)
                return r;
        *ret = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
        return 0;
}
