/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "kernel/cgroupfs.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

#define MOUNTINFO_MAX    (4 * 1024 * 1024) /* container hosts have thousands of mounts */
#define MOUNTINFO_FIELDS 64

static const char *const controller_names[_CGROUP_CONTROLLER_MAX] = {
        [CGROUP_CPU] = "cpu",   [CGROUP_MEMORY] = "memory", [CGROUP_IO] = "io",
        [CGROUP_PIDS] = "pids", [CGROUP_CPUSET] = "cpuset",
};

/* The same controllers as cgroup v1 names them in mount options. */
static const char *const controller_v1_names[_CGROUP_CONTROLLER_MAX] = {
        [CGROUP_CPU] = "cpu",   [CGROUP_MEMORY] = "memory", [CGROUP_IO] = "blkio",
        [CGROUP_PIDS] = "pids", [CGROUP_CPUSET] = "cpuset",
};

const char *cgroup_controller_to_string(enum cg_controller c)
{
        return c >= 0 && c < _CGROUP_CONTROLLER_MAX ? controller_names[c] : NULL;
}

struct span {
        const char *p;
        size_t n;
};

static bool span_is(struct span s, const char *str)
{
        return s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

/* Split [p, end) at any of the separator characters, dropping empty pieces. Returns the number of pieces, at most
 * max. */
static size_t span_split(const char *p, const char *end, const char *separators, struct span *ret, size_t max)
{
        size_t n = 0;

        while (p < end && n < max) {
                const char *q = p;

                while (q < end && !strchr(separators, *q))
                        q++;
                if (q > p)
                        ret[n++] = (struct span){p, (size_t)(q - p)};
                if (q == end)
                        break;
                p = q + 1;
        }
        return n;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' in paths as \040 \011 \012 \134. */
static int mountinfo_unescape(struct span s, char *ret, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < s.n; i++) {
                char c = s.p[i];

                if (c == '\\' && i + 3 < s.n && s.p[i + 1] >= '0' && s.p[i + 1] <= '3' && s.p[i + 2] >= '0' &&
                    s.p[i + 2] <= '7' && s.p[i + 3] >= '0' && s.p[i + 3] <= '7') {
                        c = (char)((s.p[i + 1] - '0') * 64 + (s.p[i + 2] - '0') * 8 + (s.p[i + 3] - '0'));
                        i += 3;
                }
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                ret[n++] = c;
        }
        ret[n] = '\0';
        return 0;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS". */
static int mountinfo_line(struct span line, struct cgroup_mount *m, bool *found, bool *found_root)
{
        struct span f[MOUNTINFO_FIELDS], opts[MOUNTINFO_FIELDS];
        size_t n, sep, n_opts;
        struct span root, fstype;
        int r;

        n = span_split(line.p, line.p + line.n, " ", f, ELEMENTSOF(f));
        for (sep = 6; sep < n && !span_is(f[sep], "-"); sep++)
                ;
        if (sep + 3 >= n)
                return 0; /* not a mount line (or cut short): nothing to learn from it */
        root = f[3];
        fstype = f[sep + 1];

        if (span_is(fstype, "cgroup2")) {
                /* Prefer a mount of the whole hierarchy over a bind mount of a subtree. */
                if (*found && (*found_root || !span_is(root, "/")))
                        return 0;
                r = mountinfo_unescape(f[4], m->path, sizeof(m->path));
                if (r < 0)
                        return r;
                *found = true;
                *found_root = span_is(root, "/");
        } else if (span_is(fstype, "cgroup")) {
                m->hybrid = true;
                n_opts = span_split(f[sep + 3].p, f[sep + 3].p + f[sep + 3].n, ",", opts, ELEMENTSOF(opts));
                for (size_t i = 0; i < n_opts; i++)
                        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                                if (span_is(opts[i], controller_v1_names[c]))
                                        m->bound_to_v1[c] = true;
        }
        return 0;
}

int cgroupfs_parse_mountinfo(const char *mountinfo, struct cgroup_mount *ret)
{
        struct cgroup_mount m = {};
        bool found = false, found_root = false;
        const char *p = mountinfo, *end = mountinfo + strlen(mountinfo);
        int r;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;

                r = mountinfo_line((struct span){p, (size_t)(line_end - p)}, &m, &found, &found_root);
                if (r < 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        if (!found)
                return -ENOENT;

        *ret = m;
        return 0;
}

void cgroupfs_parse_controllers(const char *text, struct cgroup_mount *m)
{
        struct span words[64];
        size_t n;

        n = span_split(text, text + strlen(text), " \t\n", words, ELEMENTSOF(words));
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                m->available[c] = false;
                for (size_t i = 0; i < n; i++)
                        if (span_is(words[i], controller_names[c]))
                                m->available[c] = true;
        }
}

int cgroupfs_controller_usable(const struct cgroup_mount *m, enum cg_controller c, char *why, size_t len)
{
        const char *reason;

        if (m->available[c]) {
                if (len > 0)
                        why[0] = '\0';
                return 0;
        }

        reason = m->bound_to_v1[c] ? "it is bound to a v1 hierarchy"
                                   : "the kernel does not list it in cgroup.controllers (not built in, or disabled "
                                     "at boot)";
        if (len > 0)
                snprintf(why, len, "controller %s is not available in the cgroup v2 hierarchy at %s: %s",
                         controller_names[c], m->path, reason);
        return -EOPNOTSUPP;
}

_printf_(4, 5) static int detect_fail(int r, char *why, size_t why_len, const char *fmt, ...)
{
        va_list ap;

        if (why && why_len) {
                va_start(ap, fmt);
                vsnprintf(why, why_len, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* The mount point is absolute: beneath a fixture root, it is taken relative to it. */
int cgroupfs_open_mount(int root_fd, const struct cgroup_mount *m)
{
        const char *path = m->path;
        int fd;

        if (root_fd != AT_FDCWD) {
                path += strspn(path, "/");
                if (*path == '\0')
                        path = ".";
        }
        fd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cgroupfs_detect(int proc_fd, int root_fd, struct cgroup_mount *ret, char *why, size_t why_len)
{
        _cleanup_free_ char *mountinfo = NULL;
        _cleanup_close_ int mount_fd = -1;
        struct cgroup_mount m;
        char controllers[4096];
        size_t size;
        int r;

        r = procfs_file_read(proc_fd, "self/mountinfo", MOUNTINFO_MAX, &mountinfo, &size);
        if (r < 0)
                return detect_fail(r, why, why_len, "cannot read self/mountinfo: %s", strerror(-r));
        r = cgroupfs_parse_mountinfo(mountinfo, &m);
        if (r == -ENOENT)
                return detect_fail(r, why, why_len, "no cgroup2 filesystem is mounted (none in self/mountinfo)");
        if (r < 0)
                return detect_fail(r, why, why_len, "cannot parse self/mountinfo: %s", strerror(-r));
        mount_fd = cgroupfs_open_mount(root_fd, &m);
        if (mount_fd < 0)
                return detect_fail(mount_fd, why, why_len, "cannot open the cgroup2 mount %s: %s", m.path,
                                   strerror(-mount_fd));
        r = cgroupfs_read(mount_fd, "cgroup.controllers", controllers, sizeof(controllers));
        if (r < 0)
                return detect_fail(r, why, why_len, "cannot read %s/cgroup.controllers: %s", m.path, strerror(-r));
        cgroupfs_parse_controllers(controllers, &m);

        *ret = m;
        return 0;
}

/* A relative path with no ".." component, not too long for the kernel. */
static int relative_path_check(const char *path)
{
        if (path[0] == '/')
                return -EINVAL;
        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        for (const char *p = path; *p; p += strspn(p, "/")) {
                size_t n = strcspn(p, "/");

                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return -EINVAL;
                p += n;
        }
        return 0;
}

/* A file name inside a cgroup directory: one component. */
static int file_name_check(const char *file)
{
        if (file[0] == '\0' || strchr(file, '/') || strcmp(file, ".") == 0 || strcmp(file, "..") == 0)
                return -EINVAL;
        return 0;
}

int cgroupfs_open_dir_compat(int dir_fd, const char *relative_path)
{
        _cleanup_close_ int fd = -1;
        char component[NAME_MAX + 1];
        const char *p = relative_path;
        int r;

        r = relative_path_check(relative_path);
        if (r < 0)
                return r;

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;

        while (*p) {
                size_t n = strcspn(p, "/");
                int next;

                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(component, p, n);
                component[n] = '\0';
                p += n + strspn(p + n, "/");
                if (n == 0 || strcmp(component, ".") == 0)
                        continue;

                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (next < 0) {
                        struct stat st;

                        r = -errno;
                        /* With O_DIRECTORY a symlink fails as ENOTDIR: report it as openat2 does. */
                        if (r == -ENOTDIR && fstatat(fd, component, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISLNK(st.st_mode))
                                r = -ELOOP;
                        return r;
                }
                closep(&fd);
                fd = next;
        }
        return TAKE_FD(fd);
}

int cgroupfs_open_dir(int dir_fd, const char *relative_path)
{
        static bool openat2_missing = false;
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int r, fd;

        /* ".." is refused up front, not only when it would escape, so both paths behave the same. */
        r = relative_path_check(relative_path);
        if (r < 0)
                return r;
        if (openat2_missing)
                return cgroupfs_open_dir_compat(dir_fd, relative_path);

        fd = (int)syscall(SYS_openat2, dir_fd, relative_path[0] ? relative_path : ".", &how, sizeof(how));
        if (fd >= 0)
                return fd;
        if (errno != ENOSYS)
                return -errno;
        openat2_missing = true;
        return cgroupfs_open_dir_compat(dir_fd, relative_path);
}

int cgroupfs_pread(int fd, char *buf, size_t len)
{
        size_t n = 0;

        if (len == 0 || len > INT_MAX)
                return -EINVAL;

        while (n < len - 1) {
                ssize_t k = read_retry(fd, buf + n, len - 1 - n, (off_t)n);

                if (k < 0)
                        return (int)k;
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        if (n == len - 1) {
                char probe;
                ssize_t k = read_retry(fd, &probe, 1, (off_t)n);

                if (k < 0)
                        return (int)k;
                if (k > 0)
                        return -E2BIG;
        }
        buf[n] = '\0';
        return (int)n;
}

int cgroupfs_pread_record(int fd, char *buf, size_t len)
{
        ssize_t k;

        if (len == 0 || len > INT_MAX)
                return -EINVAL;
        k = read_retry(fd, buf, len - 1, 0);
        if (k < 0)
                return (int)k;
        if ((size_t)k == len - 1)
                return -E2BIG;
        buf[k] = '\0';
        return (int)k;
}

int cgroupfs_read(int dir_fd, const char *file, char *buf, size_t len)
{
        _cleanup_close_ int fd = -1;
        int r;

        r = file_name_check(file);
        if (r < 0)
                return r;
        fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return cgroupfs_pread(fd, buf, len);
}

bool cgroupfs_list_has(const char *list, const char *word)
{
        size_t len = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += len)
                if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
                        return true;
        return false;
}

bool cgroupfs_file_lists(int dir_fd, const char *file, const char *word)
{
        char text[512];

        return cgroupfs_read(dir_fd, file, text, sizeof(text)) >= 0 && cgroupfs_list_has(text, word);
}

int cgroupfs_write(int dir_fd, const char *file, const char *value)
{
        _cleanup_close_ int fd = -1;
        size_t n = strlen(value);
        ssize_t k;
        int r;

        r = file_name_check(file);
        if (r < 0)
                return r;
        fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_TRUNC);
        if (fd < 0)
                return -errno;

        /* One write(): a cgroup file takes the value whole or refuses it, and says so right here. */
        do
                k = write(fd, value, n);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if ((size_t)k != n)
                return -EIO;
        return 0;
}

int cgroupfs_check_exclusive(int cgroup_fd, pid_t pid, pid_t *ret_foreign_pid)
{
        char buf[4096];
        int r = cgroupfs_read(cgroup_fd, "cgroup.procs", buf, sizeof(buf));

        if (r == -E2BIG) /* more processes than fit a page: certainly not QEMU's alone */
                return -EBUSY;
        if (r < 0)
                return r;
        for (char *p = buf, *end; *p; p = end) {
                long v = strtol(p, &end, 10);
                if (end == p)
                        break;
                while (*end == '\n')
                        end++;
                if (v != pid) {
                        *ret_foreign_pid = (pid_t)v;
                        return -EBUSY;
                }
        }
        return 0;
}
