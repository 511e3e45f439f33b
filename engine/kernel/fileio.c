/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/fileio.h"
#include "kernel/macro.h"

ssize_t read_retry(int fd, void *buf, size_t len, off_t offset)
{
        ssize_t k;

        do
                k = offset < 0 ? read(fd, buf, len) : pread(fd, buf, len, offset);
        while (k < 0 && errno == EINTR);
        return k < 0 ? -errno : k;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        char dir[4096], tmp[300];
        const char *base, *slash = strrchr(path, '/');
        int r;

        if (slash) {
                size_t n = slash == path ? 1 : (size_t)(slash - path);
                if (n >= sizeof(dir))
                        return -ENAMETOOLONG;
                memcpy(dir, path, n);
                dir[n] = '\0';
                base = slash + 1;
        } else {
                snprintf(dir, sizeof(dir), ".");
                base = path;
        }
        if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return -EINVAL;
        if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.tmp", base) >= sizeof(tmp))
                return -ENAMETOOLONG;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (unlinkat(dir_fd, tmp, 0) < 0 && errno != ENOENT)
                return -errno;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
                return -errno;

        r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, base) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(dir_fd, tmp, 0);
                return r;
        }
        if (durable)
                (void)fsync(dir_fd);
        return 0;
}

int mkdir_parent(const char *path, mode_t mode)
{
        char dir[4096];
        char *slash;

        if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
                return -ENAMETOOLONG;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (mkdir(dir, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
