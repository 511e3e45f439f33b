/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
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

/* A name for a temporary file beside base that no one can guess: ".BASE.XXXXXXXXXXXXXXXX.tmp". */
static int tmp_name(const char *base, char *buf, size_t size)
{
        static unsigned counter;
        uint64_t x;

        if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x)) {
                /* no entropy yet (early boot): unique still, which is what O_EXCL needs */
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                x = ((uint64_t)getpid() << 40) ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)ts.tv_nsec ^ ++counter;
        }
        if ((size_t)snprintf(buf, size, ".%s.%016" PRIx64 ".tmp", base, x) >= size)
                return -ENAMETOOLONG;
        return 0;
}

/* Give the unnamed file fd (O_TMPFILE) a fresh temporary name in dir_fd. */
static int link_tmpfile(int fd, int dir_fd, const char *base, char *tmp, size_t size)
{
        char proc[64];
        int r;

        for (unsigned tries = 0; tries < 16; tries++) {
                r = tmp_name(base, tmp, size);
                if (r < 0)
                        return r;
                /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the magic link in /proc does not */
                if (linkat(fd, "", dir_fd, tmp, AT_EMPTY_PATH) == 0)
                        return 0;
                if (errno == EEXIST)
                        continue;
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dir_fd, tmp, AT_SYMLINK_FOLLOW) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* Create a new temporary file with a fresh name in dir_fd, never through anything already there. */
static int create_tmp(int dir_fd, const char *base, mode_t mode, char *tmp, size_t size, int *ret_fd)
{
        for (unsigned tries = 0; tries < 16; tries++) {
                int r = tmp_name(base, tmp, size);
                if (r < 0)
                        return r;
                int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
                if (fd >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

static int write_sync(int fd, const void *data, size_t len, mode_t mode)
{
        int r = write_all(fd, data, len);

        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        return r;
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        char dir[4096], tmp[NAME_MAX + 1];
        const char *base, *slash = strrchr(path, '/');
        bool named = false;
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
        r = tmp_name(base, tmp, sizeof(tmp));
        if (r < 0)
                return r;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        /* An unnamed file first: a crash before the rename leaves nothing behind. */
        fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
        if (fd >= 0) {
                r = write_sync(fd, data, len, mode);
                if (r < 0)
                        return r;
                if (link_tmpfile(fd, dir_fd, base, tmp, sizeof(tmp)) == 0)
                        named = true;
                fd = safe_close(fd);
        }
        if (!named) {
                /* a filesystem without O_TMPFILE, or no way to link it: a fresh name, made with O_EXCL */
                r = create_tmp(dir_fd, base, mode, tmp, sizeof(tmp), &fd);
                if (r < 0)
                        return r;
                r = write_sync(fd, data, len, mode);
        }
        if (r == 0 && fd >= 0 && close(TAKE_FD(fd)) < 0)
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
