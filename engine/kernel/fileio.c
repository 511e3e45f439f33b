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

/* Give the file its mode (whatever the umask) and put it on disk. */
static int sync_with_mode(int fd, mode_t mode)
{
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

int atomic_file_open(struct atomic_file *f, const char *path, mode_t mode)
{
        const char *slash = strrchr(path, '/');
        char dir[4096];
        int r;

        *f = (struct atomic_file){.dir_fd = -1, .fd = -1, .mode = mode};
        if (slash) {
                size_t n = slash == path ? 1 : (size_t)(slash - path);
                if (n >= sizeof(dir))
                        return -ENAMETOOLONG;
                memcpy(dir, path, n);
                dir[n] = '\0';
                f->base = slash + 1;
        } else {
                snprintf(dir, sizeof(dir), ".");
                f->base = path;
        }
        if (!f->base[0] || strcmp(f->base, ".") == 0 || strcmp(f->base, "..") == 0)
                return -EINVAL;
        f->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (f->dir_fd < 0)
                return -errno;

        /* An unnamed file first: a crash before the rename leaves nothing behind. */
        f->fd = openat(f->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode); /* read back if it cannot be linked */
        if (f->fd < 0) {
                /* a filesystem without O_TMPFILE: a fresh name, made with O_EXCL */
                r = create_tmp(f->dir_fd, f->base, mode, f->tmp, sizeof(f->tmp), &f->fd);
                if (r < 0) {
                        f->tmp[0] = '\0'; /* not ours */
                        atomic_file_abort(f);
                        return r;
                }
        }
        return 0;
}

int atomic_file_write(struct atomic_file *f, const void *data, size_t len)
{
        return write_all(f->fd, data, len);
}

/* Copy what the unnamed file holds into a file named afresh, where the unnamed one cannot be linked. */
static int atomic_file_name_by_copy(struct atomic_file *f)
{
        _cleanup_close_ int fd = -1;
        char buf[16384];
        off_t offset = 0;
        ssize_t n;
        int r;

        r = create_tmp(f->dir_fd, f->base, f->mode, f->tmp, sizeof(f->tmp), &fd);
        if (r < 0) {
                f->tmp[0] = '\0'; /* not ours */
                return r;
        }
        while ((n = read_retry(f->fd, buf, sizeof(buf), offset)) > 0) {
                r = write_all(fd, buf, (size_t)n);
                if (r < 0)
                        return r;
                offset += n;
        }
        if (n < 0)
                return (int)n;
        r = sync_with_mode(fd, f->mode);
        if (r < 0)
                return r;
        safe_close(f->fd);
        f->fd = TAKE_FD(fd);
        return 0;
}

int atomic_file_commit(struct atomic_file *f, bool durable)
{
        int r = sync_with_mode(f->fd, f->mode);

        if (r == 0 && !f->tmp[0] && link_tmpfile(f->fd, f->dir_fd, f->base, f->tmp, sizeof(f->tmp)) < 0) {
                f->tmp[0] = '\0';
                r = atomic_file_name_by_copy(f);
        }
        if (r == 0 && close(TAKE_FD(f->fd)) < 0)
                r = -errno;
        if (r == 0 && renameat(f->dir_fd, f->tmp, f->dir_fd, f->base) < 0)
                r = -errno;
        if (r == 0 && durable)
                (void)fsync(f->dir_fd);
        if (r == 0)
                f->tmp[0] = '\0'; /* renamed: nothing to remove */
        atomic_file_abort(f);
        return r;
}

void atomic_file_abort(struct atomic_file *f)
{
        if (f->tmp[0] && f->dir_fd >= 0)
                (void)unlinkat(f->dir_fd, f->tmp, 0);
        f->tmp[0] = '\0';
        f->fd = safe_close(f->fd);
        f->dir_fd = safe_close(f->dir_fd);
}

int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, bool durable)
{
        struct atomic_file f;
        int r;

        r = atomic_file_open(&f, path, mode);
        if (r == 0)
                r = atomic_file_write(&f, data, len);
        if (r == 0)
                r = atomic_file_commit(&f, durable);
        atomic_file_abort(&f);
        return r;
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
