/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- the command line ---- */

/* One QemuOpts value starting at p: up to a lone ',' (",," is a comma), copied into out (size bytes; a value that
 * does not fit is marked by an empty out). Returns where the value ends. */
static const char *qemuopts_value(const char *p, const char *end, char *out, size_t size)
{
        size_t n = 0;
        bool fits = true;

        for (; p < end; p++) {
                if (*p == ',') {
                        if (p + 1 >= end || p[1] != ',')
                                break;
                        p++;
                }
                if (n + 1 < size)
                        out[n++] = *p;
                else
                        fits = false;
        }
        out[fits ? n : 0] = '\0';
        return p;
}

/* "tap,id=n0,ifname=vm0": the implied first key is the type. */
static void netdev_opts_parse(const char *p, const char *end, struct tapdev_list *l)
{
        char type[IFNAMSIZ + 1] = "", ifname[IFNAMSIZ + 1] = "", key[16];
        bool first = true;

        while (p < end) {
                const char *k = p;

                while (k < end && *k != '=' && *k != ',')
                        k++;
                if (k < end && *k == '=') {
                        size_t klen = (size_t)(k - p);
                        char value[IFNAMSIZ + 1];

                        snprintf(key, sizeof(key), "%.*s", (int)MIN(klen, sizeof(key) - 1), p);
                        p = qemuopts_value(k + 1, end, value, sizeof(value));
                        if (klen < sizeof(key) && strcmp(key, "type") == 0)
                                memcpy(type, value, sizeof(type));
                        else if (klen < sizeof(key) && strcmp(key, "ifname") == 0)
                                memcpy(ifname, value, sizeof(ifname));
                } else if (first)
                        p = qemuopts_value(p, end, type, sizeof(type));
                else
                        p = k;
                if (p < end && *p == ',')
                        p++;
                first = false;
        }
        if (strcmp(type, "tap") == 0 && ifname[0])
                (void)tapdev_list_add(l, ifname);
}

/* The string value of "key" in a flat JSON object, without escapes (a value with a backslash is refused).
 * 1 found, 0 not. */
static int json_string_field(const char *p, const char *end, const char *key, char *out, size_t size)
{
        size_t klen = strlen(key);

        for (; p + klen + 2 <= end; p++) {
                const char *v, *q;

                if (*p != '"' || (size_t)(end - p) < klen + 2 || memcmp(p + 1, key, klen) != 0 || p[klen + 1] != '"')
                        continue;
                for (v = p + klen + 2; v < end && isspace((unsigned char)*v); v++)
                        ;
                if (v >= end || *v != ':')
                        continue;
                for (v++; v < end && isspace((unsigned char)*v); v++)
                        ;
                if (v >= end || *v != '"')
                        continue;
                v++;
                q = memchr(v, '"', (size_t)(end - v));
                if (!q || memchr(v, '\\', (size_t)(q - v)) || (size_t)(q - v) >= size)
                        return 0;
                memcpy(out, v, (size_t)(q - v));
                out[q - v] = '\0';
                return 1;
        }
        return 0;
}

static void netdev_json_parse(const char *p, const char *end, struct tapdev_list *l)
{
        char type[16], ifname[IFNAMSIZ];

        if (json_string_field(p, end, "type", type, sizeof(type)) == 1 && strcmp(type, "tap") == 0 &&
            json_string_field(p, end, "ifname", ifname, sizeof(ifname)) == 1)
                (void)tapdev_list_add(l, ifname);
}

static bool is_netdev_option(const char *a)
{
        static const char *const opts[] = {"-netdev", "--netdev", "-nic", "--nic", "-net", "--net"};

        for (size_t i = 0; i < ELEMENTSOF(opts); i++)
                if (strcmp(a, opts[i]) == 0)
                        return true;
        return false;
}

int tapdev_cmdline_parse(const char *buf, size_t len, struct tapdev_list *ret)
{
        struct tapdev_list l = {.source = TAPDEV_SOURCE_CMDLINE};
        const char *end = buf + len, *arg = buf;
        bool want_value = false;

        while (arg < end) {
                const char *nul = memchr(arg, '\0', (size_t)(end - arg));
                const char *aend = nul ? nul : end;

                if (want_value) {
                        if (aend > arg && *arg == '{')
                                netdev_json_parse(arg, aend, &l);
                        else
                                netdev_opts_parse(arg, aend, &l);
                        want_value = false;
                } else
                        want_value = nul && is_netdev_option(arg);
                arg = aend + 1;
        }
        *ret = l;
        return 0;
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
                return 0;
        snprintf(path, sizeof(path), "%s/tun_flags", name);
        fd = openat(net_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
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

static int tapdev_from_cmdline(int pid_fd, int net_fd, struct tapdev_list *ret)
{
        _cleanup_free_ char *buf = NULL;
        struct tapdev_list all, taps = {.source = TAPDEV_SOURCE_CMDLINE};
        size_t size;
        int r;

        r = procfs_file_read(pid_fd, "cmdline", PROCFS_CMDLINE_MAX, &buf, &size);
        if (r < 0)
                return r;
        tapdev_cmdline_parse(buf, size, &all);
        for (size_t i = 0; i < all.n; i++) {
                r = tapdev_is_tap(net_fd, all.names[i]);
                if (r < 0)
                        return r;
                if (r > 0)
                        (void)tapdev_list_add(&taps, all.names[i]);
        }
        taps.truncated = all.truncated;
        *ret = taps;
        return 0;
}

int tapdev_read(int pid_fd, int net_fd, struct tapdev_list *ret)
{
        struct tapdev_list l = {.source = TAPDEV_SOURCE_FDINFO};
        _cleanup_close_ int fd_dir = -1;
        bool unnamed_tun = false;
        DIR *d;
        int r = 0;

        fd_dir = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd_dir < 0) {
                if (errno == EACCES || errno == EPERM)
                        return tapdev_from_cmdline(pid_fd, net_fd, ret);
                return -errno;
        }
        d = fdopendir(fd_dir);
        if (!d)
                return -errno;
        fd_dir = -1; /* owned by d now */

        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                char target[sizeof(TUN_PATH) + 1], path[sizeof(de->d_name) + 8], name[IFNAMSIZ];
                _cleanup_free_ char *info = NULL;
                size_t size;
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n < 0 || (size_t)n != strlen(TUN_PATH))
                        continue; /* closed meanwhile, or not the tun device */
                target[n] = '\0';
                if (strcmp(target, TUN_PATH) != 0)
                        continue;
                snprintf(path, sizeof(path), "fdinfo/%s", de->d_name);
                r = procfs_file_read(pid_fd, path, FDINFO_MAX, &info, &size);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        break;
                r = tapdev_fdinfo_parse(info, size, name);
                if (r == 0)
                        unnamed_tun = true;
                else if (r > 0)
                        (void)tapdev_list_add(&l, name);
                r = 0;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        if (l.n == 0 && unnamed_tun)
                return tapdev_from_cmdline(pid_fd, net_fd, ret);
        *ret = l;
        return 0;
}
