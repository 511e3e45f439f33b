/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/fileio.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

#define PROCFS_SMALL_MAX (256 * 1024) /* stat, status, cgroup: a few KiB in practice */

/* Parse decimal digits in [p, end) into a uint64_t, refusing anything else (sign, spaces, overflow). */
static int parse_u64(const char *p, const char *end, uint64_t *ret)
{
        uint64_t v = 0;

        if (p >= end)
                return -EINVAL;
        for (; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *ret = v;
        return 0;
}

int procfs_pid_parse(const char *s, pid_t *ret_pid)
{
        uint64_t v;

        if (s[0] == '0' || parse_u64(s, s + strlen(s), &v) < 0 || v > INT_MAX)
                return -EINVAL;
        *ret_pid = (pid_t)v;
        return 0;
}

static int uuid_parse_n(const char *s, size_t n, char *ret_uuid)
{
        char u[VM_UUID_LEN + 1];

        if (n != VM_UUID_LEN)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (c != '-')
                                return -EINVAL;
                } else if (c >= '0' && c <= '9')
                        ;
                else if (c >= 'a' && c <= 'f')
                        ;
                else if (c >= 'A' && c <= 'F')
                        c = (char)(c - 'A' + 'a');
                else
                        return -EINVAL;
                u[i] = c;
        }
        u[VM_UUID_LEN] = '\0';
        memcpy(ret_uuid, u, sizeof(u));
        return 0;
}

int procfs_uuid_parse(const char *s, char *ret_uuid)
{
        return uuid_parse_n(s, strlen(s), ret_uuid);
}

/* Bytes in a UTF-8 sequence that starts with lead byte c; 0 if c cannot start one. */
static size_t utf8_sequence_len(unsigned char c)
{
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0)
                return 2;
        if ((c & 0xf0) == 0xe0)
                return 3;
        if ((c & 0xf8) == 0xf0)
                return 4;
        return 0;
}

/* A name cut at VM_NAME_MAX bytes may end in half a character: drop that half, so a valid UTF-8 name stays valid.
 * Bytes that are not UTF-8 at all are left alone (at most 3 are looked at). */
static size_t utf8_trim_partial(const char *s, size_t n)
{
        for (size_t back = 1; back <= 3 && back <= n; back++) {
                unsigned char c = (unsigned char)s[n - back];
                size_t want;

                if ((c & 0xc0) == 0x80)
                        continue; /* continuation byte: keep looking for the lead */
                want = utf8_sequence_len(c);
                return want > back ? n - back : n;
        }
        return n;
}

struct name_builder {
        struct qemu_cmdline *c;
        size_t n;
};

static void name_begin(struct name_builder *b)
{
        b->n = 0;
        b->c->name[0] = '\0';
        b->c->name_truncated = false;
}

static void name_put(struct name_builder *b, char ch)
{
        if (b->n < VM_NAME_MAX)
                b->c->name[b->n++] = ch;
        else
                b->c->name_truncated = true;
}

static void name_end(struct name_builder *b)
{
        if (b->c->name_truncated)
                b->n = utf8_trim_partial(b->c->name, b->n);
        b->c->name[b->n] = '\0';
}

static void name_set(struct name_builder *b, const char *s)
{
        name_begin(b);
        for (; *s; s++)
                name_put(b, *s);
        name_end(b);
}

/* One QemuOpts value: up to a single ',' (",," is a literal comma). Stored into b unless b is NULL. Returns where
 * the value ends. */
static const char *opt_value_parse(const char *p, const char *end, struct name_builder *b)
{
        if (b)
                name_begin(b);
        while (p < end) {
                if (*p == ',') {
                        if (p + 1 >= end || p[1] != ',')
                                break;
                        p++;
                }
                if (b)
                        name_put(b, *p);
                p++;
        }
        if (b)
                name_end(b);
        return p;
}

static bool span_equal(const char *p, size_t n, const char *s)
{
        return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* The argument of one -name, as QEMU's QemuOpts reads it with "guest" as the implied first key:
 * "NAME", "guest=NAME,debug-threads=on", "NAME,process=p". A bare "guest" flag means guest=on, as in QEMU. */
static void name_option_parse(const char *p, const char *end, struct name_builder *b)
{
        bool first = true;

        while (p < end) {
                const char *k = p;

                while (k < end && *k != '=' && *k != ',')
                        k++;

                if (k < end && *k == '=')
                        p = opt_value_parse(k + 1, end, span_equal(p, (size_t)(k - p), "guest") ? b : NULL);
                else if (first)
                        p = opt_value_parse(p, end, b);
                else {
                        if (span_equal(p, (size_t)(k - p), "guest"))
                                name_set(b, "on");
                        else if (span_equal(p, (size_t)(k - p), "noguest"))
                                name_set(b, "off");
                        p = k;
                }

                if (p < end && *p == ',')
                        p++;
                first = false;
        }
}

enum qemu_option {
        QEMU_OPTION_OTHER,
        QEMU_OPTION_NAME,
        QEMU_OPTION_UUID,
};

static enum qemu_option qemu_option_classify(const char *arg, size_t n)
{
        /* QEMU treats "--foo" as "-foo", and takes no "-foo=value" form. */
        if (n >= 2 && arg[0] == '-' && arg[1] == '-') {
                arg++;
                n--;
        }
        if (span_equal(arg, n, "-name"))
                return QEMU_OPTION_NAME;
        if (span_equal(arg, n, "-uuid"))
                return QEMU_OPTION_UUID;
        return QEMU_OPTION_OTHER;
}

/* The argument at p, up to its NUL or the end of the buffer; *ret_next is where the following one starts. */
static size_t arg_next(const char *p, const char *end, const char **ret_next)
{
        const char *nul = memchr(p, '\0', (size_t)(end - p));

        *ret_next = nul ? nul + 1 : end;
        return (size_t)((nul ? nul : end) - p);
}

int procfs_cmdline_parse(const char *buf, size_t len, struct qemu_cmdline *ret)
{
        struct qemu_cmdline c = {};
        struct name_builder b = {.c = &c};
        const char *end = buf + len, *p = buf, *next;

        /* argv[0] is the program, never an option. */
        if (p < end)
                (void)arg_next(p, end, &p);

        while (p < end) {
                size_t n = arg_next(p, end, &next);
                enum qemu_option o = qemu_option_classify(p, n);
                const char *value;
                size_t value_len;
                int r;

                p = next;
                if (o == QEMU_OPTION_OTHER)
                        continue;
                /* An option with no argument: QEMU would refuse it, and a cut command line ends like this too. */
                if (p >= end)
                        break;

                value = p;
                value_len = arg_next(p, end, &p);
                if (o == QEMU_OPTION_NAME)
                        name_option_parse(value, value + value_len, &b);
                else {
                        r = uuid_parse_n(value, value_len, c.uuid);
                        if (r < 0)
                                return r;
                }
        }

        *ret = c;
        return 0;
}

int procfs_stat_parse(const char *buf, size_t len, struct procfs_stat *ret)
{
        struct procfs_stat st = {};
        const char *end = buf + len, *open, *close, *p;
        size_t comm_len;

        /* comm is hostile and may hold ") (": the real end of it is the last ')'. */
        open = memchr(buf, '(', len);
        close = memrchr(buf, ')', len);
        if (!open || !close || close < open)
                return -EINVAL;

        comm_len = MIN((size_t)(close - open - 1), (size_t)PROCFS_COMM_MAX);
        memcpy(st.comm, open + 1, comm_len);
        st.comm[comm_len] = '\0';

        p = close + 1;
        for (unsigned field = 3; field <= 22; field++) {
                const char *tok;

                if (p >= end || *p != ' ')
                        return -EINVAL;
                tok = ++p;
                while (p < end && *p != ' ' && *p != '\n')
                        p++;
                if (p == tok)
                        return -EINVAL;

                if (field == 3) {
                        if (p - tok != 1)
                                return -EINVAL;
                        st.state = *tok;
                } else if (field == 4) {
                        uint64_t ppid;
                        if (parse_u64(tok, p, &ppid) < 0 || ppid > INT_MAX)
                                return -EINVAL;
                        st.ppid = (pid_t)ppid;
                } else if (field == 22 && parse_u64(tok, p, &st.start_time) < 0)
                        return -EINVAL;
        }

        *ret = st;
        return 0;
}

/* Call fn for every line of buf (without its '\n'); stop at the first one for which fn returns nonzero. */
static int lines_foreach(const char *buf, size_t len, int (*fn)(const char *line, size_t n, void *userdata),
                         void *userdata)
{
        const char *p = buf, *end = buf + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;
                int r = fn(p, (size_t)(line_end - p), userdata);

                if (r != 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        return 0;
}

static int cgroup_line(const char *line, size_t n, void *userdata)
{
        char **path = userdata;

        if (n < 3 || memcmp(line, "0::", 3) != 0)
                return 0;
        /* There is one v2 hierarchy. A second "0::" line could only come from a newline in a cgroup name (which the
         * kernel refuses, but older ones allowed on rename), forging another cgroup as the VM's: believe neither. */
        if (*path)
                return -EBADMSG;
        if (n < 4 || line[3] != '/')
                return -EINVAL;
        *path = strndup(line + 3, n - 3);
        return *path ? 0 : -ENOMEM;
}

int procfs_cgroup_parse(const char *buf, size_t len, char **ret_path)
{
        _cleanup_free_ char *path = NULL;
        int r;

        r = lines_foreach(buf, len, cgroup_line, &path);
        if (r < 0)
                return r;
        if (!path)
                return -ENODATA;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int status_uid_line(const char *line, size_t n, void *userdata)
{
        const char *p = line + 4, *end = line + n;
        uint64_t v = 0;

        if (n < 4 || memcmp(line, "Uid:", 4) != 0)
                return 0;
        /* "Uid:\treal\teffective\tsaved\tfs": take the second number. */
        for (int i = 0; i < 2; i++) {
                const char *tok;

                while (p < end && (*p == '\t' || *p == ' '))
                        p++;
                tok = p;
                while (p < end && *p != '\t' && *p != ' ')
                        p++;
                if (parse_u64(tok, p, &v) < 0)
                        return -EINVAL;
        }
        if (v >= (uid_t)-1)
                return -EINVAL;
        *(uid_t *)userdata = (uid_t)v;
        return 1;
}

int procfs_status_parse_uid(const char *buf, size_t len, uid_t *ret_uid)
{
        uid_t uid;
        int r;

        r = lines_foreach(buf, len, status_uid_line, &uid);
        if (r < 0)
                return r;
        if (r == 0)
                return -EINVAL;
        *ret_uid = uid;
        return 0;
}

int procfs_exe_parse(const char *target, char *ret_exe)
{
        static const char deleted[] = " (deleted)";
        size_t n = strlen(target);
        const char *base;

        if (n >= sizeof(deleted) - 1 && strcmp(target + n - (sizeof(deleted) - 1), deleted) == 0)
                n -= sizeof(deleted) - 1;

        base = memrchr(target, '/', n);
        base = base ? base + 1 : target;
        n -= (size_t)(base - target);

        if (n == 0)
                return -EINVAL;
        if (n > VM_EXE_MAX)
                return -ENAMETOOLONG;
        memcpy(ret_exe, base, n);
        ret_exe[n] = '\0';
        return 0;
}

int procfs_file_read(int dir_fd, const char *path, size_t max, char **ret_buf, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return procfs_fd_read(fd, max, ret_buf, ret_size);
}

int procfs_fd_read(int fd, size_t max, char **ret_buf, size_t *ret_size)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;
        bool truncated = false;

        /* /proc files say st_size 0: read until EOF, growing the buffer up to max. */
        for (;;) {
                ssize_t k;

                if (size == allocated) {
                        size_t want = allocated == 0 ? 4096 : allocated * 2;
                        char *p;

                        if (allocated >= max) {
                                char probe;

                                /* Full: one more byte tells whether the file goes on. */
                                k = read_retry(fd, &probe, 1, -1);
                                if (k < 0)
                                        return (int)k;
                                truncated = k > 0;
                                break;
                        }
                        want = MIN(want, max);
                        p = realloc(buf, want + 1);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }

                k = read_retry(fd, buf + size, allocated - size, -1);
                if (k < 0)
                        return (int)k;
                if (k == 0)
                        break;
                size += (size_t)k;
        }

        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = '\0';
        *ret_buf = TAKE_PTR(buf);
        *ret_size = size;
        return truncated;
}

int procfs_pid_open(int proc_fd, pid_t pid)
{
        char name[16];
        int fd;

        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int)pid);
        fd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int procfs_cmdline_read(int pid_fd, struct qemu_cmdline *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        r = procfs_file_read(pid_fd, "cmdline", PROCFS_CMDLINE_MAX, &buf, &size);
        if (r < 0)
                return r;
        if (r > 0) {
                /* Cut: drop the partial last argument so that half a value is never taken for a whole one. */
                const char *nul = memrchr(buf, '\0', size);

                size = nul ? (size_t)(nul - buf) + 1 : 0;
        }
        return procfs_cmdline_parse(buf, size, ret);
}

int procfs_stat_read(int pid_fd, struct procfs_stat *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        r = procfs_file_read(pid_fd, "stat", PROCFS_SMALL_MAX, &buf, &size);
        if (r < 0)
                return r;
        return procfs_stat_parse(buf, size, ret);
}

int procfs_cgroup_read(int pid_fd, char **ret_path)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        r = procfs_file_read(pid_fd, "cgroup", PROCFS_SMALL_MAX, &buf, &size);
        if (r < 0)
                return r;
        return procfs_cgroup_parse(buf, size, ret_path);
}

int procfs_uid_read(int pid_fd, uid_t *ret_uid)
{
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        /* Not the owner of /proc/PID: that is root for a non-dumpable process, e.g. QEMU after -runas. */
        r = procfs_file_read(pid_fd, "status", PROCFS_SMALL_MAX, &buf, &size);
        if (r < 0)
                return r;
        return procfs_status_parse_uid(buf, size, ret_uid);
}

int procfs_exe_link(int pid_fd, char *buf, size_t size)
{
        ssize_t n = readlinkat(pid_fd, "exe", buf, size);

        if (n < 0)
                return -errno;
        if ((size_t)n >= size)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return 0;
}

int procfs_exe_read(int pid_fd, char *ret_exe, char *ret_link, size_t link_size)
{
        char target[PATH_MAX], *link = ret_link ? ret_link : target;
        int r = procfs_exe_link(pid_fd, link, ret_link ? link_size : sizeof(target));

        return r < 0 ? r : procfs_exe_parse(link, ret_exe);
}
