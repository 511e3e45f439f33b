/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/audit.h"
#include "kernel/macro.h"
#include "kernel/utf8.h"

/* An output that counts what it would write, and writes only while it fits. buf may be NULL (count only). */
struct out {
        char *buf;
        size_t size;
        size_t len;
};

static void out_put(struct out *o, const char *s, size_t n)
{
        if (o->buf && o->len + n < o->size)
                memcpy(o->buf + o->len, s, n);
        o->len += n;
}

static void out_puts(struct out *o, const char *s)
{
        out_put(o, s, strlen(s));
}

static void out_escaped(struct out *o, const char *str)
{
        const unsigned char *s = (const unsigned char *)str;

        while (*s) {
                size_t n;

                if (*s == '"' || *s == '\\') {
                        char e[2] = {'\\', (char)*s};
                        out_put(o, e, 2);
                        s++;
                } else if ((n = utf8_valid_len(s)) > 0 && utf8_is_control(s, n)) {
                        /* Valid JSON either way, but `jq -r` or a log viewer would print it raw to a terminal. */
                        char e[7];
                        snprintf(e, sizeof(e), "\\u%04x", utf8_code_point(s, n));
                        out_put(o, e, 6);
                        s += n;
                } else if (n > 0) {
                        out_put(o, (const char *)s, n);
                        s += n;
                } else {
                        /* One replacement per bad byte: the reader sees how much was garbage. */
                        out_puts(o, "\\ufffd");
                        s++;
                }
        }
}

size_t audit_json_escaped_len(const char *s)
{
        struct out o = {};

        if (s)
                out_escaped(&o, s);
        return o.len;
}

static int out_finish(struct out *o, size_t size)
{
        if (o->len >= size)
                return -ENOBUFS;
        if (o->len > __INT_MAX__) /* <limits.h> is shadowed by engine/limits.h */
                return -EOVERFLOW;
        o->buf[o->len] = '\0';
        return (int)o->len;
}

int audit_json_escape(const char *s, char *buf, size_t size)
{
        struct out o = {.buf = buf, .size = size};

        if (!s)
                return -EINVAL;
        if (!buf || size == 0)
                return -ENOBUFS;
        out_escaped(&o, s);
        return out_finish(&o, size);
}

const char *audit_escape_for_log(const char *s, char *buf, size_t size)
{
        char prefix[65], escaped[6 * sizeof(prefix)];

        if (audit_json_escape(s, buf, size) >= 0)
                return buf;
        snprintf(prefix, sizeof(prefix), "%s", s);
        if (audit_json_escape(prefix, escaped, sizeof(escaped)) < 0)
                escaped[0] = '\0';
        snprintf(buf, size, "%s...(%zu bytes)", escaped, strlen(s));
        return buf;
}

int audit_format_time(uint64_t time_usec, char *buf, size_t size)
{
        time_t sec = (time_t)(time_usec / 1000000);
        struct tm tm;
        int n;

        if (!buf || size == 0)
                return -ENOBUFS;
        if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999)
                return -ERANGE; /* RFC 3339 has four-digit years */
        n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(time_usec % 1000000 / 1000));
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return n;
}

static void out_string_field(struct out *o, const char *name, const char *value)
{
        out_puts(o, ",\"");
        out_puts(o, name);
        out_puts(o, "\":");
        if (!value) {
                out_puts(o, "null");
                return;
        }
        out_puts(o, "\"");
        out_escaped(o, value);
        out_puts(o, "\"");
}

static int record_emit(const struct audit_record *rec, struct out *o)
{
        char t[AUDIT_TIME_MAX];
        int r;

        if (!rec)
                return -EINVAL;
        r = audit_format_time(rec->time_usec, t, sizeof(t));
        if (r < 0)
                return r;

        out_puts(o, "{\"time\":\"");
        out_puts(o, t);
        out_puts(o, "\"");
        out_string_field(o, "vm", rec->vm);
        out_string_field(o, "uuid", rec->uuid);
        if (rec->pid > 0) {
                char p[24];
                snprintf(p, sizeof(p), ",\"pid\":%" PRIdMAX, (intmax_t)rec->pid);
                out_puts(o, p);
        } else
                out_puts(o, ",\"pid\":null");
        out_string_field(o, "group", rec->group);
        out_string_field(o, "cgroup", rec->cgroup);
        out_string_field(o, "file", rec->file);
        out_string_field(o, "old", rec->old_value);
        out_string_field(o, "new", rec->new_value);
        out_string_field(o, "reason", rec->reason);
        out_puts(o, rec->dry_run ? ",\"dry_run\":true}\n" : ",\"dry_run\":false}\n");
        return 0;
}

size_t audit_record_len(const struct audit_record *rec)
{
        struct out o = {};

        if (record_emit(rec, &o) < 0)
                return 0;
        return o.len;
}

int audit_record_format(const struct audit_record *rec, char *buf, size_t size)
{
        struct out o = {.buf = buf, .size = size};
        int r;

        if (!buf || size == 0)
                return -ENOBUFS;
        r = record_emit(rec, &o);
        if (r < 0)
                return r;
        return out_finish(&o, size);
}

int audit_record_format_alloc(const struct audit_record *rec, char **ret_line)
{
        _cleanup_free_ char *buf = NULL;
        struct out o = {};
        int r;

        r = record_emit(rec, &o);
        if (r < 0)
                return r;
        buf = malloc(o.len + 1);
        if (!buf)
                return -ENOMEM;
        r = audit_record_format(rec, buf, o.len + 1);
        if (r < 0)
                return r;
        *ret_line = TAKE_PTR(buf);
        return r;
}

int audit_open(const char *path, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!path || !*path)
                return -EINVAL;
        /* Never through a symlink, never a FIFO or a device: the engine runs as root and appends to it for good. */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        if (fcntl(fd, F_SETFL, O_WRONLY | O_APPEND) < 0) /* O_NONBLOCK was for the open alone */
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

uint64_t audit_now_usec(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return 0;
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int audit_write(int fd, const struct audit_record *rec)
{
        _cleanup_free_ char *line = NULL;
        struct audit_record r = {};
        ssize_t n;
        int len;

        if (fd < 0 || !rec)
                return -EINVAL;
        r = *rec;
        if (r.time_usec == 0) {
                r.time_usec = audit_now_usec();
                if (r.time_usec == 0)
                        return -errno;
        }

        len = audit_record_format_alloc(&r, &line);
        if (len < 0)
                return len;
        do
                n = write(fd, line, (size_t)len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n != len)
                return -EIO; /* a torn line; retrying would duplicate its start */
        return 0;
}

int audit_close(int fd)
{
        if (fd < 0)
                return 0;
        /* Linux releases the fd even when close() fails: never retry it. */
        if (close(fd) < 0 && errno != EINTR)
                return -errno;
        return 0;
}
