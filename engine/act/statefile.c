/* SPDX-License-Identifier: GPL-2.0-or-later */
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

static int format_original(FILE *f, const struct original *o)
{
        char cg[3 * 4096 + 1], value[3 * CGV_VALUE_MAX + 1];
        const struct setting *s = &o->setting;

        if (escape_percent(o->cgroup, cg, sizeof(cg)) < 0 || escape_percent(s->value, value, sizeof(value)) < 0)
                return -ENOBUFS;
        fprintf(f, "original cgroup=%s file=%s dev=%u:%u controller=%d", cg, s->file, s->major, s->minor,
                (int)s->controller);
        if (s->ifname[0]) /* net.*: the tap (a valid interface name: nothing to escape) */
                fprintf(f, " ifname=%s", s->ifname);
        fprintf(f, " value=%s\n", value);
        return 0;
}

static int format_end(FILE *f, int r, char **text, const size_t *len, char **ret_text, size_t *ret_len)
{
        if (fclose(f) != 0 && r == 0) /* fclose sets *text and *len */
                r = -ENOMEM;
        if (r < 0) {
                free(*text);
                return r;
        }
        *ret_text = *text;
        if (ret_len)
                *ret_len = *len;
        return 0;
}

int statefile_format(const struct original *originals, size_t n, char **ret_text)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r = 0;

        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\n", STATEFILE_MAGIC);
        for (size_t i = 0; i < n && r == 0; i++)
                r = format_original(f, &originals[i]);
        return format_end(f, r, &text, &len, ret_text, NULL);
}

int statefile_format_original(const struct original *o, char **ret_line, size_t *ret_len)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r;

        if (!f)
                return -ENOMEM;
        r = format_original(f, o);
        return format_end(f, r, &text, &len, ret_line, ret_len);
}

void statefile_free(struct original *originals, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(originals[i].cgroup);
        free(originals);
}

/* The value of "key=" in a line of space-separated fields, decoded into buf. */
static int field(const char *line, const char *key, char *buf, size_t size)
{
        size_t kl = strlen(key);

        for (const char *p = line; (p = strstr(p, key)); p++) {
                if ((p != line && p[-1] != ' ') || p[kl] != '=')
                        continue;
                const char *v = p + kl + 1, *end = strchr(v, ' ');
                return unescape_percent(v, end ? (size_t)(end - v) : strlen(v), buf, size);
        }
        return -EINVAL;
}

static int parse_line(const char *line, struct original *ret)
{
        char cg[4096], file[SETTING_FILE_MAX], dev[32], controller[8], value[CGV_VALUE_MAX], ifname[IFNAMSIZ] = "";
        struct setting s = {0};
        int c;

        if (strncmp(line, "original ", 9) != 0 || field(line, "cgroup", cg, sizeof(cg)) < 0 ||
            field(line, "file", file, sizeof(file)) < 0 || field(line, "dev", dev, sizeof(dev)) < 0 ||
            field(line, "controller", controller, sizeof(controller)) < 0 ||
            field(line, "value", value, sizeof(value)) < 0)
                return -EINVAL;
        if (sscanf(dev, "%u:%u", &s.major, &s.minor) != 2 || sscanf(controller, "%d", &c) != 1 || c < 0 ||
            c >= _CGROUP_CONTROLLER_MAX || !cg[0] || cg[0] == '/' || strstr(cg, ".."))
                return -EINVAL;
        /* Only the files the engine writes: a state file is not a way to write anything anywhere. */
        static const char *const files[] = {"cpu.max",    "cpu.weight", "cpu.idle", "memory.high",
                                            "memory.max", "io.weight",  "io.max"};
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                known |= strcmp(file, files[i]) == 0;
        /* A tap's shaping (netshape.h): only with a valid interface name. */
        if (field(line, "ifname", ifname, sizeof(ifname)) >= 0) {
                if (known || (strcmp(file, "net.ingress") != 0 && strcmp(file, "net.egress") != 0) ||
                    !tapdev_name_valid(ifname, strlen(ifname)))
                        return -EINVAL;
                known = true;
                snprintf(s.ifname, sizeof(s.ifname), "%s", ifname);
        }
        if (!known)
                return -EINVAL;
        snprintf(s.file, sizeof(s.file), "%s", file);
        snprintf(s.value, sizeof(s.value), "%s", value);
        s.controller = (enum cg_controller)c;
        ret->cgroup = strdup(cg);
        if (!ret->cgroup)
                return -ENOMEM;
        ret->setting = s;
        return 0;
}

static int parse_forget(const char *line, char **ret_cgroup)
{
        char cg[4096];

        if (strncmp(line, "forget ", 7) != 0 || field(line, "cgroup", cg, sizeof(cg)) < 0 || !cg[0] || cg[0] == '/' ||
            strstr(cg, ".."))
                return -EINVAL;
        *ret_cgroup = strdup(cg);
        return *ret_cgroup ? 0 : -ENOMEM;
}

/* ---- the replay: which originals are live, in linear time ---- */

struct entry {
        struct original o; /* a forget: o.cgroup only */
        bool forget;
        bool live;
};

/* Open addressing over entry indices (slot = index + 1; 0 = empty). */
struct table {
        size_t *slots;
        size_t mask;
};

static int table_init(struct table *t, size_t n)
{
        size_t cap = 16;

        while (cap < 2 * n)
                cap *= 2;
        t->slots = calloc(cap, sizeof(size_t));
        t->mask = cap - 1;
        return t->slots ? 0 : -ENOMEM;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        return (h ^ 0xff) * 0x100000001b3ULL;
}

static uint64_t hash_file(const struct original *o)
{
        uint64_t h = hash_str(hash_str(0xcbf29ce484222325ULL, o->cgroup), o->setting.file);
        h = (h ^ o->setting.major) * 0x100000001b3ULL;
        h = (h ^ o->setting.minor) * 0x100000001b3ULL;
        return hash_str(h, o->setting.ifname);
}

static bool same_file(const struct original *x, const struct original *y)
{
        return strcmp(x->cgroup, y->cgroup) == 0 && strcmp(x->setting.file, y->setting.file) == 0 &&
               x->setting.major == y->setting.major && x->setting.minor == y->setting.minor &&
               strcmp(x->setting.ifname, y->setting.ifname) == 0;
}

/* The slot of key (by cgroup alone, or by the file it is about), or the empty slot where it goes. */
static size_t *table_slot(struct table *t, const struct entry *v, const struct original *key, bool by_file)
{
        uint64_t h = by_file ? hash_file(key) : hash_str(0xcbf29ce484222325ULL, key->cgroup);

        for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
                size_t *slot = &t->slots[i];
                if (!*slot)
                        return slot;
                const struct original *o = &v[*slot - 1].o;
                if (by_file ? same_file(o, key) : strcmp(o->cgroup, key->cgroup) == 0)
                        return slot;
        }
}

/* Keep the live originals of v (moved into *ret, in order) and free the rest. */
static int replay(struct entry *v, size_t n, struct original **ret, size_t *ret_n)
{
        struct table forgets = {}, files = {};
        struct original *live = NULL;
        size_t n_live = 0;
        int r;

        r = table_init(&forgets, n);
        if (r == 0)
                r = table_init(&files, n);
        if (r == 0 && n > 0) {
                live = calloc(n, sizeof(*live));
                if (!live)
                        r = -ENOMEM;
        }
        if (r < 0)
                goto out;
        /* a cgroup's last forget */
        for (size_t i = 0; i < n; i++)
                if (v[i].forget)
                        *table_slot(&forgets, v, &v[i].o, false) = i + 1;
        for (size_t i = 0; i < n; i++) {
                if (v[i].forget)
                        continue;
                size_t forgot = *table_slot(&forgets, v, &v[i].o, false);
                if (forgot > i + 1) /* forgotten later */
                        continue;
                size_t *slot = table_slot(&files, v, &v[i].o, true);
                if (*slot) /* the first original of a file is the one */
                        continue;
                *slot = i + 1;
                live[n_live++] = v[i].o;
                v[i].live = true;
        }
        for (size_t i = 0; i < n; i++)
                if (v[i].live)
                        v[i].o.cgroup = NULL; /* moved, once the tables no longer look at it */
out:
        for (size_t i = 0; i < n; i++)
                free(v[i].o.cgroup);
        free(forgets.slots);
        free(files.slots);
        if (r < 0) {
                statefile_free(live, n_live);
                return r;
        }
        *ret = live;
        *ret_n = n_live;
        return 0;
}

static void contents_bad(struct statefile_contents *c, unsigned line)
{
        if (c->n_bad < STATEFILE_BAD_LINES_MAX)
                c->bad_lines[c->n_bad] = line;
        c->n_bad++;
}

int statefile_parse(const char *text, size_t len, struct statefile_contents *ret)
{
        struct statefile_contents c = {};
        _cleanup_free_ char *buf = NULL;
        struct entry *v = NULL;
        size_t n = 0, allocated = 0, buf_size = 0;
        unsigned line = 0;
        int r = 0;

        for (size_t off = 0; off < len;) {
                const char *p = text + off, *eol = memchr(p, '\n', len - off);
                size_t l = eol ? (size_t)(eol - p) : len - off;

                line++;
                off += l + (eol ? 1 : 0);
                if (!eol) {
                        /* cut short by a crash mid-append: the file it was about was never written */
                        c.torn_line = line;
                        contents_bad(&c, line);
                        break;
                }
                if (memchr(p, '\0', l)) {
                        contents_bad(&c, line);
                        continue;
                }
                r = array_reserve((void **)&buf, &buf_size, l + 1, 1);
                if (r < 0)
                        break;
                memcpy(buf, p, l);
                buf[l] = '\0';

                if (line == 1) {
                        if (strcmp(buf, STATEFILE_MAGIC) == 0)
                                c.version = 2;
                        else if (strcmp(buf, STATEFILE_MAGIC_V1) == 0)
                                c.version = 1;
                        else /* not ours, or a later version: what follows is read as far as it is understood */
                                contents_bad(&c, line);
                        continue;
                }
                if (!buf[0])
                        continue;
                r = GREEDY_REALLOC(v, allocated, n + 1);
                if (r < 0)
                        break;
                v[n] = (struct entry){};
                if (strncmp(buf, "forget ", 7) == 0) {
                        v[n].forget = true;
                        r = parse_forget(buf, &v[n].o.cgroup);
                } else
                        r = parse_line(buf, &v[n].o);
                if (r == -EINVAL) {
                        contents_bad(&c, line);
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                n++;
        }
        c.records = n;
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(v[i].o.cgroup);
                free(v);
                return r;
        }
        r = replay(v, n, &c.originals, &c.n);
        free(v);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

void statefile_contents_done(struct statefile_contents *c)
{
        statefile_free(c->originals, c->n);
        *c = (struct statefile_contents){};
}

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
        bool dirty;    /* something a compaction would drop: an old format, a bad line, a failed append */
        bool keep_bad; /* the file as read had lines that were skipped: kept as PATH.bad before a compaction */
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
        }
        if (sf->file_bytes > 0) {
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
