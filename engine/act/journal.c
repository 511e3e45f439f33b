/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of originals as a file: opened under its lock, read past bad records, appended to one record at a
 * time, compacted atomically. The records themselves are statefile.c's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/audit.h"
#include "kernel/escape.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "act/statefile.h"
#include "act/tapdev.h"

/* Not a budget the engine can reach (a compacted journal of 80,000 originals is about 8 MiB): only a bound on what
 * a reader allocates for a file someone else made. */
#define STATEFILE_READ_MAX ((uint64_t)1 << 30)

/* ---- the file ---- */

struct statefile {
        char *path;
        char *holder;
        int lock_fd;
        int fd;              /* the journal, for appending; -1 until the next append opens it */
        uint64_t file_bytes; /* its size, as far as this process knows */
        size_t records;      /* its lines that are records or were skipped */
        uint64_t bytes_written;
        unsigned compactions;
        bool tail_whole; /* the file ends with this process's last record, whole: no need to read its last byte */
        bool dirty;      /* something a compaction would drop: an old format, a bad line, a failed append */
        bool keep_bad;   /* the file as read had lines that were skipped: kept as PATH.bad before a compaction */
};

/* The engine's own regular file, which no one else may write; otherwise refused, and said so. */
static int check_own(const char *what, const char *path, int fd)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return log_err_errno(-EINVAL, "%s %s: refused: not a regular file; remove it by hand", what, path);
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return log_err_errno(-EPERM,
                                     "%s %s: refused: it must be owned by the engine's user (uid %u) and not "
                                     "writable by group or others, and it is uid %u, mode %04o; fix or remove it by "
                                     "hand",
                                     what, path, (unsigned)geteuid(), (unsigned)st.st_uid,
                                     (unsigned)(st.st_mode & 07777));
        return 0;
}

static void log_contents(const char *path, const struct statefile_contents *c)
{
        for (size_t i = 0; i < MIN(c->n_bad, (size_t)STATEFILE_BAD_LINES_MAX); i++) {
                unsigned line = c->bad_lines[i];
                if (line == c->torn_line)
                        log_warn("state file %s:%u: the last record is cut short (a crash while it was appended); "
                                 "skipped",
                                 path, line);
                else if (line == 1 && c->version == 0)
                        log_warn("state file %s:1: not \"%s\" nor \"%s\"; reading the records that follow as far "
                                 "as they are understood",
                                 path, STATEFILE_MAGIC, STATEFILE_MAGIC_V1);
                else
                        log_warn("state file %s:%u: not understood; skipped", path, line);
        }
        if (c->n_bad > STATEFILE_BAD_LINES_MAX)
                log_warn("state file %s: %zu more lines skipped", path, c->n_bad - STATEFILE_BAD_LINES_MAX);
}

/* Read and parse path, refusing a file that is not the engine's own. -ENOENT when there is none. */
static int read_path(const char *path, struct statefile_contents *ret, uint64_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        if (fd < 0)
                return errno == ELOOP ? log_err_errno(-ELOOP, "state file %s: refused: a symlink", path) : -errno;
        r = check_own("state file", path, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_size > STATEFILE_READ_MAX)
                return log_err_errno(-EFBIG, "state file %s: refused: %" PRIu64 " bytes is no journal of originals",
                                     path, (uint64_t)st.st_size);
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t k = read_retry(fd, text + len, (size_t)st.st_size - len, -1);
                if (k < 0)
                        return log_err_errno((int)k, "state file %s: %m", path);
                if (k == 0)
                        break;
                len += (size_t)k;
        }
        r = statefile_parse(text, len, ret);
        if (r < 0)
                return r;
        log_contents(path, ret);
        *ret_size = len;
        return 0;
}

int statefile_load(const char *path, struct original **ret_originals, size_t *ret_n)
{
        struct statefile_contents c;
        uint64_t size;
        int r = read_path(path, &c, &size);

        if (r < 0)
                return r;
        *ret_originals = TAKE_PTR(c.originals);
        *ret_n = c.n;
        return 0;
}

/* The holder named in a lock file, for the refusal: "vmgov run (pid 1234)". */
static void lock_holder(int fd, char *buf, size_t size)
{
        char text[256], name[AUDIT_LOG_NAME_MAX];
        ssize_t k = read_retry(fd, text, sizeof(text) - 1, 0);
        long pid = 0;
        int used = 0;

        text[k > 0 ? k : 0] = '\0';
        text[strcspn(text, "\n")] = '\0';
        if (sscanf(text, "%ld %n", &pid, &used) < 1 || pid <= 0 || !text[used]) {
                snprintf(buf, size, "another process");
                return;
        }
        snprintf(buf, size, "%s (pid %ld)", audit_escape_for_log(text + used, name, sizeof(name)), pid);
}

int statefile_open(const char *path, const char *holder, struct statefile **ret)
{
        _cleanup_free_ char *lock_path = NULL;
        _cleanup_close_ int fd = -1;
        struct statefile *sf;
        char who[AUDIT_LOG_NAME_MAX + 64], line[300];
        int r, n;

        if (!path || !*path)
                return -EINVAL;
        if (asprintf(&lock_path, "%s.lock", path) < 0)
                return -ENOMEM;
        r = mkdir_parent(path, 0700);
        if (r < 0)
                return r;
        fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        r = check_own("state file lock", lock_path, fd);
        if (r < 0)
                return r;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                lock_holder(fd, who, sizeof(who));
                return log_err_errno(-EBUSY,
                                     "state file %s is in use by %s, which holds %s: not touching it while that "
                                     "runs; stop it first (systemctl stop vmgov), or give this command its own "
                                     "--state-file",
                                     path, who, lock_path);
        }
        n = snprintf(line, sizeof(line), "%d %s\n", (int)getpid(), holder && *holder ? holder : "vmgov");
        if (ftruncate(fd, 0) < 0 || pwrite(fd, line, MIN((size_t)n, sizeof(line) - 1), 0) < 0)
                return -errno;

        sf = calloc(1, sizeof(*sf));
        if (!sf)
                return -ENOMEM;
        *sf = (struct statefile){.path = strdup(path), .lock_fd = TAKE_FD(fd), .fd = -1};
        if (!sf->path) {
                statefile_close(sf);
                return -ENOMEM;
        }
        *ret = sf;
        return 0;
}

struct statefile *statefile_close(struct statefile *sf)
{
        if (!sf)
                return NULL;
        safe_close(sf->fd);
        safe_close(sf->lock_fd); /* the lock goes with it; the file stays, and says who held it last */
        free(sf->path);
        free(sf);
        return NULL;
}

const char *statefile_path(const struct statefile *sf)
{
        return sf->path;
}

int statefile_read(struct statefile *sf, struct statefile_contents *ret)
{
        uint64_t size = 0;
        int r = read_path(sf->path, ret, &size);

        if (r == -ENOENT) {
                *ret = (struct statefile_contents){.version = 2};
                sf->file_bytes = 0;
                sf->records = 0;
                return 0;
        }
        if (r < 0)
                return r;
        sf->file_bytes = size;
        sf->records = ret->records + ret->n_bad;
        sf->keep_bad = ret->n_bad > 0;
        sf->dirty = ret->n_bad > 0 || ret->version != 2 || ret->records != ret->n;
        return 0;
}

static int fsync_parent(const char *path)
{
        char dir[4096];
        const char *slash = strrchr(path, '/');
        _cleanup_close_ int fd = -1;

        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path) >=
                 sizeof(dir))
                return -ENAMETOOLONG;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Cut a record that a crash left short (the file's end after its last newline): glued to the next one, or ended by
 * it, it could read as a record with a value cut short. The reader skips it anyway. */
static int truncate_torn(struct statefile *sf)
{
        uint64_t end = sf->file_bytes, cut = 0;
        char buf[4096];

        while (end > 0 && !cut) {
                size_t n = (size_t)MIN(end, (uint64_t)sizeof(buf));
                ssize_t k = read_retry(sf->fd, buf, n, (off_t)(end - n));
                if (k < 0)
                        return (int)k;
                if ((size_t)k != n)
                        return -EIO;
                for (size_t i = n; i > 0 && !cut; i--)
                        if (buf[i - 1] == '\n')
                                cut = end - n + i;
                end -= n;
        }
        if (ftruncate(sf->fd, (off_t)cut) < 0)
                return -errno;
        sf->file_bytes = cut;
        return 0;
}

/* The journal open for appending, and what must go before the next record: the magic line in a new file. */
static int journal_fd(struct statefile *sf, const char **ret_prefix)
{
        struct stat st;
        char last = '\n';
        int r;

        if (sf->fd < 0) {
                _cleanup_close_ int fd = open(
                        sf->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
                if (fd < 0)
                        return -errno;
                r = check_own("state file", sf->path, fd);
                if (r < 0)
                        return r;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (st.st_size == 0) {
                        r = fsync_parent(sf->path); /* the new file's name survives a power cut */
                        if (r < 0)
                                return r;
                }
                sf->fd = TAKE_FD(fd);
                sf->file_bytes = (uint64_t)st.st_size;
                sf->tail_whole = false;
        }
        if (sf->file_bytes > 0 && !sf->tail_whole) {
                if (read_retry(sf->fd, &last, 1, (off_t)sf->file_bytes - 1) != 1)
                        return -EIO;
                if (last != '\n') {
                        r = truncate_torn(sf);
                        if (r < 0)
                                return r;
                }
        }
        *ret_prefix = sf->file_bytes == 0 ? STATEFILE_MAGIC "\n" : "";
        return 0;
}

static int journal_append(struct statefile *sf, const char *record, size_t len)
{
        _cleanup_free_ char *buf = NULL;
        const char *prefix = "";
        size_t pl, total;
        ssize_t k;
        int r;

        r = journal_fd(sf, &prefix);
        if (r < 0)
                return r;
        pl = strlen(prefix);
        total = pl + len;
        buf = malloc(total);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, prefix, pl);
        memcpy(buf + pl, record, len);

        /* one write(): a record is on disk whole, or (after a crash) cut short and skipped by the reader */
        do
                k = write(sf->fd, buf, total);
        while (k < 0 && errno == EINTR);
        r = k < 0 ? -errno : (size_t)k != total ? -EIO : 0;
        if (r == 0 && fdatasync(sf->fd) < 0)
                r = -errno;
        sf->tail_whole = r == 0 && buf[total - 1] == '\n'; /* the lock keeps other writers out until the next */
        if (r < 0) {
                /* take the part back; if that fails too, the next compaction rewrites the file whole */
                if (k > 0 && ftruncate(sf->fd, (off_t)sf->file_bytes) < 0)
                        sf->dirty = true;
                sf->bytes_written += k > 0 ? (uint64_t)k : 0;
                return r;
        }
        sf->file_bytes += total;
        sf->bytes_written += total;
        sf->records++;
        return 0;
}

int statefile_append(struct statefile *sf, const struct original *o)
{
        _cleanup_free_ char *line = NULL;
        size_t len;
        int r = statefile_format_original(o, &line, &len);

        if (r < 0)
                return r;
        return journal_append(sf, line, len);
}

int statefile_append_forget(struct statefile *sf, const char *cgroup)
{
        char cg[3 * 4096 + 1], line[sizeof(cg) + 32];
        int n;

        if (escape_percent(cgroup, cg, sizeof(cg)) < 0)
                return -ENOBUFS;
        n = snprintf(line, sizeof(line), "forget cgroup=%s\n", cg);
        return journal_append(sf, line, (size_t)n);
}

bool statefile_needs_compact(const struct statefile *sf, size_t n_live)
{
        return sf->dirty || sf->records > 2 * n_live + STATEFILE_COMPACT_SLACK;
}

int statefile_compact(struct statefile *sf, const struct original *live, size_t n)
{
        _cleanup_free_ char *text = NULL, *bad = NULL;
        size_t len;
        int r;

        r = statefile_format(live, n, &text);
        if (r < 0)
                return r;
        len = strlen(text);
        if (sf->keep_bad) {
                /* the lines that were skipped are dropped now: the file as read stays for a human */
                if (asprintf(&bad, "%s.bad", sf->path) < 0)
                        return -ENOMEM;
                if (unlink(bad) < 0 && errno != ENOENT)
                        return -errno;
                if (link(sf->path, bad) < 0 && errno != ENOENT)
                        return -errno;
                log_warn("state file %s: the lines that were skipped are dropped; the file as read is kept in %s",
                         sf->path, bad);
                sf->keep_bad = false;
        }
        r = mkdir_parent(sf->path, 0700);
        if (r < 0)
                return r;
        /* durable: the originals must survive a power cut, the rename included */
        r = atomic_write_file(sf->path, text, len, 0600, true);
        if (r < 0)
                return r;
        sf->fd = safe_close(sf->fd); /* that was the old file: the next append opens the new one */
        sf->file_bytes = len;
        sf->records = n;
        sf->bytes_written += len;
        sf->compactions++;
        sf->dirty = false;
        return 0;
}

void statefile_get_stats(const struct statefile *sf, struct statefile_stats *ret)
{
        *ret = (struct statefile_stats){
                .bytes_written = sf->bytes_written,
                .file_bytes = sf->file_bytes,
                .records = sf->records,
                .compactions = sf->compactions,
        };
}
