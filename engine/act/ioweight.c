/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether IOWeight= reaches the block devices: the scheduler in use and io.cost's state, read once per policy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "act/ioweight.h"
#include "kernel/audit.h"
#include "kernel/cgroupfs.h"
#include "kernel/cgvalues.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"

#define IOWEIGHT_DEVICES_MAX 64 /* checked per policy; past it the rest are not */
#define IOWEIGHT_NAME_MAX    64

int ioweight_parse_scheduler(const char *text, char *buf, size_t size)
{
        const char *open = strchr(text, '['), *close = open ? strchr(open, ']') : NULL;
        const char *name = open ? open + 1 : text;
        size_t len;

        if (!open) {
                /* A device without a choice of scheduler (bio-based: brd, zram, dm) has one word and no mark. */
                len = strcspn(text, "\n");
                if (len == 0 || memchr(text, ' ', len) || strspn(text + len, "\n") != strlen(text + len))
                        return -EINVAL;
        } else if (!close || close == name)
                return -EINVAL;
        else
                len = (size_t)(close - name);
        if (memchr(name, ' ', len) || memchr(name, '\n', len))
                return -EINVAL;
        if (len >= size)
                return -ENOBUFS;
        memcpy(buf, name, len);
        buf[len] = '\0';
        return 0;
}

bool ioweight_works(const char *scheduler, bool iocost_enabled)
{
        return iocost_enabled || strcmp(scheduler, "bfq") == 0;
}

struct device {
        unsigned major, minor;
        char name[IOWEIGHT_NAME_MAX];
};

struct device_list {
        struct device v[IOWEIGHT_DEVICES_MAX];
        size_t n;
};

static void device_add(struct device_list *l, unsigned major, unsigned minor, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].major == major && l->v[i].minor == minor)
                        return;
        if (l->n >= ELEMENTSOF(l->v))
                return;
        l->v[l->n] = (struct device){major, minor, ""};
        snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", name ? name : "");
        l->n++;
}

/* A small sysfs file beneath dir_fd (path may have '/' and ".."), NUL-terminated. 0 or -errno. */
static int sysfs_read(int dir_fd, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read_retry(fd, buf, size - 1, -1);
        if (n < 0)
                return (int)n;
        buf[n] = '\0';
        return 0;
}

/* The devices the policy's IO keys name. */
static void policy_devices(const struct policy *p, struct device_list *l)
{
        for (size_t i = 0; i < p->n_groups; i++) {
                const struct limits *lim = &p->groups[i].limits;
                for (unsigned d = 0; d < lim->n_io_devices; d++)
                        device_add(l, lim->io_devices[d].major, lim->io_devices[d].minor, NULL);
                for (unsigned d = 0; d < lim->n_io_latency; d++)
                        device_add(l, lim->io_latency[d].major, lim->io_latency[d].minor, NULL);
        }
}

/* The whole disks of /sys/block that have a size (an unused loop device has none). */
static void sysfs_disks(int sys_fd, struct device_list *l)
{
        int fd = openat(sys_fd, "block", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                log_debug_errno(-errno, "IOWeight= check: cannot list the block devices: %m");
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d))) {
                char path[sizeof(de->d_name) + 16], text[64];
                unsigned major, minor;
                unsigned long long sectors;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/size", de->d_name);
                if (sysfs_read(dirfd(d), path, text, sizeof(text)) < 0 || sscanf(text, "%llu", &sectors) != 1 ||
                    sectors == 0)
                        continue;
                snprintf(path, sizeof(path), "%s/dev", de->d_name);
                if (sysfs_read(dirfd(d), path, text, sizeof(text)) < 0 || sscanf(text, "%u:%u", &major, &minor) != 2)
                        continue;
                device_add(l, major, minor, de->d_name);
        }
        closedir(d);
}

/* The scheduler of a device, by its numbers: a partition's is its disk's (the queue/ one directory up). */
static int device_scheduler(int sys_fd, struct device *dev, char *buf, size_t size)
{
        char path[64], text[256], link[256];
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "dev/block/%u:%u", dev->major, dev->minor);
        if (!dev->name[0] && (n = readlinkat(sys_fd, path, link, sizeof(link) - 1)) > 0) {
                link[n] = '\0';
                const char *base = strrchr(link, '/');
                base = base ? base + 1 : link;
                if (strlen(base) < sizeof(dev->name))
                        memcpy(dev->name, base, strlen(base) + 1);
        }
        snprintf(path, sizeof(path), "dev/block/%u:%u/queue/scheduler", dev->major, dev->minor);
        r = sysfs_read(sys_fd, path, text, sizeof(text));
        if (r == -ENOENT) {
                snprintf(path, sizeof(path), "dev/block/%u:%u/../queue/scheduler", dev->major, dev->minor);
                r = sysfs_read(sys_fd, path, text, sizeof(text));
        }
        return r < 0 ? r : ioweight_parse_scheduler(text, buf, size);
}

static const struct group_policy *first_weighted_group(const struct policy *p)
{
        for (size_t i = 0; i < p->n_groups; i++)
                if (p->groups[i].limits.io_weight_set)
                        return &p->groups[i];
        return NULL;
}

int ioweight_check(int sys_fd, int mount_fd, const struct policy *p)
{
        const struct group_policy *g = first_weighted_group(p);
        struct device_list devices = {.n = 0};
        char qos[16384];
        int warned = 0, r;

        if (!g)
                return 0;
        policy_devices(p, &devices);
        if (devices.n == 0)
                sysfs_disks(sys_fd, &devices);

        /* No io.cost.qos (a kernel without io.cost): off everywhere. */
        r = cgroupfs_read(mount_fd, "io.cost.qos", qos, sizeof(qos));
        if (r < 0) {
                if (r != -ENOENT)
                        log_debug_errno(r, "IOWeight= check: cannot read io.cost.qos: %m");
                qos[0] = '\0';
        }
        for (size_t i = 0; i < devices.n; i++) {
                struct device *dev = &devices.v[i];
                char scheduler[32], name[AUDIT_LOG_NAME_MAX];
                bool iocost = false;

                r = device_scheduler(sys_fd, dev, scheduler, sizeof(scheduler));
                if (r < 0) {
                        log_debug_errno(r, "IOWeight= check: the scheduler of device %u:%u: %m", dev->major,
                                        dev->minor);
                        continue;
                }
                if (cgv_parse_io_cost_enabled(qos, dev->major, dev->minor, &iocost) < 0)
                        iocost = false;
                if (ioweight_works(scheduler, iocost))
                        continue;
                warned++;
                log_warn("IOWeight= ([group %s] at %s:%u) does nothing on device %s (%u:%u): its scheduler is %s, "
                         "not bfq, and io.cost is not enabled for it; enable it (\"%u:%u enable=1\" into the root "
                         "cgroup's io.cost.qos) or use the bfq scheduler",
                         g->name, g->file, g->line,
                         audit_escape_for_log(dev->name[0] ? dev->name : "?", name, sizeof(name)), dev->major,
                         dev->minor, scheduler, dev->major, dev->minor);
        }
        return warned;
}
