/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Helpers for unit tests that need a scratch directory tree or want to see what was logged.
 * Include after <cmocka.h>.
 */

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); its path goes into path (PATH_MAX bytes). Returns an fd on it. */
static inline int tmptree_new(char *path, size_t size)
{
        const char *tmp = getenv("TMPDIR");
        int fd;

        snprintf(path, size, "%s/vmgov-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(path));
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static inline int tmptree_remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)type;
        (void)ftw;
        return remove(path);
}

static inline void tmptree_remove(const char *path, int fd)
{
        if (fd >= 0)
                close(fd);
        nftw(path, tmptree_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of path beneath dir_fd. */
static inline void tmptree_mkdir(int dir_fd, const char *path)
{
        char buf[4096];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf; (p = strchr(p, '/')); p++) {
                *p = '\0';
                (void)mkdirat(dir_fd, buf, 0755);
                *p = '/';
        }
        assert_true(mkdirat(dir_fd, buf, 0755) == 0 || errno == EEXIST);
}

/* Write len bytes to path beneath dir_fd, creating its parent directories. */
static inline void tmptree_write(int dir_fd, const char *path, const void *data, size_t len)
{
        char parent[4096];
        char *slash;
        int fd;

        snprintf(parent, sizeof(parent), "%s", path);
        slash = strrchr(parent, '/');
        if (slash) {
                *slash = '\0';
                tmptree_mkdir(dir_fd, parent);
        }
        fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static inline void tmptree_write_string(int dir_fd, const char *path, const char *s)
{
        tmptree_write(dir_fd, path, s, strlen(s));
}

/* Copy a file (e.g. a fixture) to path beneath dir_fd. */
static inline void tmptree_copy(int dir_fd, const char *path, const char *from)
{
        char buf[65536];
        ssize_t n;
        int fd = open(from, O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf));
        assert_true(n >= 0 && n < (ssize_t)sizeof(buf));
        close(fd);
        tmptree_write(dir_fd, path, buf, (size_t)n);
}

/* Capture what is written to a stream (stderr, where the log goes; stdout, what a command prints) between start
 * and stop. */
struct capture {
        FILE *stream;
        int saved_fd, memfd;
};

static inline void capture_start(struct capture *c, FILE *stream)
{
        fflush(stream);
        c->stream = stream;
        c->saved_fd = dup(fileno(stream));
        c->memfd = memfd_create("capture", MFD_CLOEXEC);
        assert_true(c->saved_fd >= 0 && c->memfd >= 0);
        assert_true(dup2(c->memfd, fileno(stream)) >= 0);
}

/* Restore the stream and return what was captured (free it). */
static inline char *capture_stop(struct capture *c)
{
        struct stat st;
        char *text;

        fflush(c->stream);
        assert_true(dup2(c->saved_fd, fileno(c->stream)) >= 0);
        close(c->saved_fd);
        assert_true(fstat(c->memfd, &st) == 0);
        text = calloc(1, (size_t)st.st_size + 1);
        assert_non_null(text);
        assert_int_equal(pread(c->memfd, text, (size_t)st.st_size, 0), st.st_size);
        close(c->memfd);
        c->saved_fd = c->memfd = -1;
        return text;
}

static struct capture stderr_capture __attribute__((unused));

static inline void stderr_capture_start(void)
{
        capture_start(&stderr_capture, stderr);
}

static inline char *stderr_capture_stop(void)
{
        return capture_stop(&stderr_capture);
}

/* Fail unless haystack contains needle, showing both. */
#define assert_contains(haystack, needle)                                                                              \
        do {                                                                                                           \
                const char *_h = (haystack), *_n = (needle);                                                           \
                if (!strstr(_h, _n))                                                                                   \
                        fail_msg("expected \"%s\" in:\n%s", _n, _h);                                                   \
        } while (0)
