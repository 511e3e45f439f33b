/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "act/tapdev.h"

#define TUN_PATH      "/dev/net/tun"
#define FDINFO_MAX    4096
#define TUN_FLAGS_MAX 64

bool tapdev_name_valid(const char *s, size_t n)
{
        if (n == 0 || n >= IFNAMSIZ)
                return false;
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || s[i] == ':' || s[i] == '%' || s[i] == '\0' || isspace((unsigned char)s[i]))
                        return false;
        return true;
}

int tapdev_list_add(struct tapdev_list *l, const char *name)
{
        size_t n = strlen(name);

        if (!tapdev_name_valid(name, n))
                return -EINVAL;
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->names[i], name) == 0)
                        return 0;
        if (l->n >= TAPDEV_MAX) {
                l->truncated = true;
                return -E2BIG;
        }
        memcpy(l->names[l->n++], name, n + 1);
        return 0;
}

int tapdev_fdinfo_parse(const char *buf, size_t len, char *ret_ifname)
{
        const char *end = buf + len;

        for (const char *line = buf; line < end;) {
                const char *eol = memchr(line, '\n', (size_t)(end - line));
                const char *v;

                if (!eol)
                        eol = end;
                if ((size_t)(eol - line) >= 4 && memcmp(line, "iff:", 4) == 0) {
                        for (v = line + 4; v < eol && (*v == '\t' || *v == ' '); v++)
                                ;
                        if (!tapdev_name_valid(v, (size_t)(eol - v)))
                                return -EINVAL;
                        memcpy(ret_ifname, v, (size_t)(eol - v));
                        ret_ifname[eol - v] = '\0';
                        return 1;
                }
                line = eol + 1;
        }
        return 0;
}

const char *tapdev_skip_reason_text(enum tapdev_skip_reason reason)
{
        switch (reason) {
        case TAPDEV_SKIP_DEVICE_NETNS:
                return "lives in another network namespace than the engine's and the QEMU's (its fd came from there)";
        case TAPDEV_SKIP_PROCESS_NETNS:
                return "belongs to a QEMU in another network namespace than the engine's";
        case TAPDEV_SKIP_NOT_TAP:
                return "is a tun device, not a tap";
        case TAPDEV_SKIP_NO_DEVICE:
                return "is not a tun/tap device in /sys/class/net";
        }
        return "is not to be shaped";
}

/* ---- readers ---- */

int tapdev_is_tap(int net_fd, const char *name)
{
        char path[IFNAMSIZ + 16], buf[TUN_FLAGS_MAX];
        _cleanup_close_ int fd = -1;
        unsigned long flags;
        ssize_t n;
        char *e;

        if (!tapdev_name_valid(name, strlen(name)))
                return -ENOENT;
        snprintf(path, sizeof(path), "%s/tun_flags", name);
        fd = openat(net_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR ? -ENOENT : -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        errno = 0;
        flags = strtoul(buf, &e, 0);
        if (errno || e == buf)
                return -EINVAL;
        return (flags & IFF_TAP) ? 1 : 0;
}

int tapdev_netns_at(int dir_fd, const char *path, struct tapdev_netns *ret)
{
        struct stat st;

        if (fstatat(dir_fd, path, &st, 0) < 0)
                return -errno;
        *ret = (struct tapdev_netns){.dev = st.st_dev, .ino = st.st_ino};
        return 0;
}

static bool netns_equal(const struct tapdev_netns *a, const struct tapdev_netns *b)
{
        return a->dev == b->dev && a->ino == b->ino;
}

#ifndef TUNGETDEVNETNS
#define TUNGETDEVNETNS _IO('T', 227) /* Linux 5.2 */
#endif

int tapdev_probe_kernel(pid_t pid, int fd, struct tapdev_device *ret, void *userdata)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
        _cleanup_close_ int pidfd = -1, dup = -1, ns = -1;
        struct ifreq ifr = {0};
        struct stat st;

        (void)userdata;
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;
        /* A duplicate shares QEMU's open file: closing it (below, at once) leaves QEMU's fd and its tap alone. */
        dup = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (dup < 0)
                return -errno;
        /* Every kernel knows TUNGETIFF: a fd that does not is no tun fd any more, swapped since fdinfo was read (to
         * make the driver's word fail, and the namespace go unchecked) */
        if (ioctl(dup, TUNGETIFF, &ifr) < 0)
                return errno == ENOTTY || errno == EINVAL ? -EBADF : -errno;
        ns = ioctl(dup, TUNGETDEVNETNS);
        if (ns < 0)
                return -errno;
        if (fstat(ns, &st) < 0)
                return -errno;
        memcpy(ret->ifname, ifr.ifr_name, IFNAMSIZ);
        ret->ifname[IFNAMSIZ - 1] = '\0';
        ret->flags = (unsigned short)ifr.ifr_flags;
        ret->netns = (struct tapdev_netns){.dev = st.st_dev, .ino = st.st_ino};
        return 0;
#else
        (void)pid, (void)fd, (void)ret, (void)userdata;
        return -ENOSYS;
#endif
}

/* One name seen on the process's tun fds, and the first reason not to shape it (-1: none so far). */
struct candidate {
        char name[IFNAMSIZ];
        int skip;
};

struct candidates {
        size_t n;
        struct candidate c[2 * TAPDEV_MAX];
        bool truncated;
};

static struct candidate *candidate_get(struct candidates *cs, const char *name)
{
        for (size_t i = 0; i < cs->n; i++)
                if (strcmp(cs->c[i].name, name) == 0)
                        return &cs->c[i];
        if (cs->n >= ELEMENTSOF(cs->c)) {
                cs->truncated = true;
                return NULL;
        }
        snprintf(cs->c[cs->n].name, IFNAMSIZ, "%s", name);
        cs->c[cs->n].skip = -1;
        return &cs->c[cs->n++];
}

static void candidate_skip(struct candidate *c, enum tapdev_skip_reason reason)
{
        if (c->skip < 0)
                c->skip = (int)reason;
}

/* The name of the interface the tun fd fd_name of the process is attached to: 1 and ret_name, 0 for an fd that
 * is not a tun fd or not attached (or was closed meanwhile), -errno. */
static int tun_fd_name(int pid_fd, int fd_dir, const char *fd_name, char *ret_name)
{
        char target[sizeof(TUN_PATH) + 1], path[NAME_MAX + 8];
        _cleanup_free_ char *info = NULL;
        size_t size;
        ssize_t n;
        int r;

        n = readlinkat(fd_dir, fd_name, target, sizeof(target) - 1);
        if (n < 0 || (size_t)n != strlen(TUN_PATH))
                return 0; /* closed meanwhile, or not the tun device */
        target[n] = '\0';
        if (strcmp(target, TUN_PATH) != 0)
                return 0;
        snprintf(path, sizeof(path), "fdinfo/%s", fd_name);
        r = procfs_file_read(pid_fd, path, FDINFO_MAX, &info, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = tapdev_fdinfo_parse(info, size, ret_name);
        return r < 0 ? 0 : r; /* a malformed name is not the kernel's: skipped */
}

/* Ask the tun driver about the fd fd_name, which fdinfo says is attached to name. 1 with ret_skip (a reason not to
 * shape it, -1 for none so far), 0 to pass it by, -ESRCH. */
static int tun_fd_probe(const struct tapdev_host *h, pid_t pid, const char *fd_name, const char *name,
                        const struct tapdev_netns *self, int *ret_skip, struct tapdev_list *l)
{
        tapdev_probe_fn probe = h->probe ? h->probe : tapdev_probe_kernel;
        struct tapdev_device dev = {0};
        char *e;
        long fd;
        int r;

        errno = 0;
        fd = strtol(fd_name, &e, 10);
        if (errno || *e || fd < 0 || fd > INT32_MAX)
                return 0;
        *ret_skip = -1;
        r = probe(pid, (int)fd, &dev, h->probe_userdata);
        if (r == -ESRCH)
                return r;
        if (r == -EBADF || r == -EBADFD)
                return 0; /* closed or detached since fdinfo said: the next look sees what is left */
        if (r < 0) {
                if (!l->unverified)
                        l->unverified = r;
                return 1;
        }
        if (strcmp(dev.ifname, name) != 0)
                return 0; /* renamed meanwhile: the next look */
        if (!netns_equal(&dev.netns, self))
                *ret_skip = TAPDEV_SKIP_DEVICE_NETNS;
        else if (!(dev.flags & IFF_TAP))
                *ret_skip = TAPDEV_SKIP_NOT_TAP;
        return 1;
}

static int tun_fds_read(const struct tapdev_host *h, pid_t pid, int pid_fd, const struct tapdev_netns *self,
                        struct candidates *cs, struct tapdev_list *l)
{
        _cleanup_close_ int fd_dir = -1;
        DIR *d;
        int r = 0;

        fd_dir = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_dir < 0)
                return -errno;
        d = fdopendir(fd_dir);
        if (!d)
                return -errno;
        fd_dir = -1; /* owned by d now */

        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                char name[IFNAMSIZ];
                struct candidate *c;
                int skip = -1;

                if (de->d_name[0] == '.')
                        continue;
                r = tun_fd_name(pid_fd, dirfd(d), de->d_name, name);
                if (r > 0)
                        r = tun_fd_probe(h, pid, de->d_name, name, self, &skip, l);
                if (r < 0)
                        break;
                if (r > 0 && (c = candidate_get(cs, name)) && skip >= 0)
                        candidate_skip(c, (enum tapdev_skip_reason)skip);
                r = 0;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

int tapdev_read(const struct tapdev_host *h, pid_t pid, int pid_fd, struct tapdev_list *ret)
{
        struct tapdev_list l = {0};
        struct tapdev_netns self, qemu;
        struct candidates cs = {0};
        int r;

        r = tapdev_netns_at(h->proc_fd, "self/ns/net", &self);
        if (r < 0)
                return r == -ENOENT ? -ENXIO : r; /* not the QEMU's ENOENT, which means it is gone */
        r = tun_fds_read(h, pid, pid_fd, &self, &cs, &l);
        if (r < 0)
                return r;
        if (cs.n == 0) {
                *ret = l;
                return 0;
        }
        /* After the probes: that this still reads means the pid was not reused meanwhile. */
        r = tapdev_netns_at(pid_fd, "ns/net", &qemu);
        if (r < 0)
                return r;
        l.truncated = cs.truncated;
        for (size_t i = 0; i < cs.n; i++) {
                struct candidate *c = &cs.c[i];

                /* the QEMU's own namespace says more than its device's: the device is there because the QEMU is */
                if (!netns_equal(&qemu, &self) && (c->skip < 0 || c->skip == TAPDEV_SKIP_DEVICE_NETNS))
                        c->skip = TAPDEV_SKIP_PROCESS_NETNS;
                if (c->skip < 0) {
                        r = tapdev_is_tap(h->net_fd, c->name);
                        if (r == -ENOENT)
                                candidate_skip(c, TAPDEV_SKIP_NO_DEVICE);
                        else if (r == 0)
                                candidate_skip(c, TAPDEV_SKIP_NOT_TAP);
                        else if (r < 0)
                                return r;
                }
                if (c->skip < 0)
                        (void)tapdev_list_add(&l, c->name);
                else if (l.n_skipped < ELEMENTSOF(l.skipped)) {
                        struct tapdev_skip *s = &l.skipped[l.n_skipped++];

                        memcpy(s->name, c->name, IFNAMSIZ);
                        s->reason = (enum tapdev_skip_reason)c->skip;
                } else
                        l.truncated = true;
        }
        *ret = l;
        return 0;
}
