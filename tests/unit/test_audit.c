/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/audit.h"
#include "kernel/macro.h"

/*
 * A strict JSON checker (RFC 8259) for what the audit log writes: objects, strings, numbers, true/false/null.
 * Strings must be valid UTF-8 with no raw control characters; escapes are decoded into `decoded` for the one
 * key asked for, so a test can compare the value that a reader gets back.
 */
struct json {
        const char *p;
        const char *want_key;
        char *decoded;
        size_t decoded_len;
        bool found;
};

static size_t utf8_len_strict(const unsigned char *s)
{
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                uint32_t cp;
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
                return cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff) ? 3 : 0;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                uint32_t cp;
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
                return cp >= 0x10000 && cp <= 0x10ffff ? 4 : 0;
        }
        return 0;
}

static void put_utf8(char *out, size_t *n, uint32_t cp)
{
        if (cp < 0x80)
                out[(*n)++] = (char)cp;
        else if (cp < 0x800) {
                out[(*n)++] = (char)(0xc0 | (cp >> 6));
                out[(*n)++] = (char)(0x80 | (cp & 0x3f));
        } else {
                out[(*n)++] = (char)(0xe0 | (cp >> 12));
                out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                out[(*n)++] = (char)(0x80 | (cp & 0x3f));
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Parses a string at j->p; if out is set, writes the decoded bytes there (NUL-terminated). */
static bool json_string(struct json *j, char *out, size_t *out_len)
{
        const unsigned char *s = (const unsigned char *)j->p;
        size_t n = 0;

        if (*s++ != '"')
                return false;
        for (;;) {
                if (*s == '"')
                        break;
                if (*s < 0x20)
                        return false; /* includes the NUL: unterminated */
                if (*s == '\\') {
                        s++;
                        const char *simple = strchr("\"\\/bfnrt", *s);
                        if (*s && simple) {
                                static const char map[] = "\"\\/\b\f\n\r\t";
                                if (out)
                                        out[n] = map[simple - "\"\\/bfnrt"];
                                n++;
                                s++;
                        } else if (*s == 'u') {
                                uint32_t cp = 0;
                                for (int k = 1; k <= 4; k++) {
                                        int h = hexval((char)s[k]);
                                        if (h < 0)
                                                return false;
                                        cp = cp * 16 + (uint32_t)h;
                                }
                                if (cp >= 0xd800 && cp <= 0xdfff)
                                        return false; /* the writer never needs surrogate pairs */
                                if (out)
                                        put_utf8(out, &n, cp);
                                else
                                        n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
                                s += 5;
                        } else
                                return false;
                        continue;
                }
                size_t l = utf8_len_strict(s);
                if (l == 0)
                        return false;
                if (out)
                        memcpy(out + n, s, l);
                n += l;
                s += l;
        }
        if (out)
                out[n] = '\0';
        if (out_len)
                *out_len = n;
        j->p = (const char *)s + 1;
        return true;
}

static bool json_value(struct json *j, int depth);

static bool json_object(struct json *j, int depth)
{
        if (*j->p++ != '{')
                return false;
        if (*j->p == '}') {
                j->p++;
                return true;
        }
        for (;;) {
                const char *key_start = j->p;
                size_t klen;
                if (!json_string(j, NULL, &klen))
                        return false;
                bool is_wanted = j->want_key && depth == 1 && (size_t)(j->p - key_start) == strlen(j->want_key) + 2 &&
                                 strncmp(key_start + 1, j->want_key, strlen(j->want_key)) == 0;
                if (*j->p++ != ':')
                        return false;
                if (is_wanted && *j->p == '"') {
                        struct json copy = *j;
                        size_t len;
                        if (!json_string(&copy, NULL, &len))
                                return false;
                        free(j->decoded);
                        j->decoded = malloc(len + 1);
                        assert_non_null(j->decoded);
                        assert_true(json_string(j, j->decoded, &j->decoded_len));
                        j->found = true;
                } else if (!json_value(j, depth))
                        return false;
                if (*j->p == '}') {
                        j->p++;
                        return true;
                }
                if (*j->p++ != ',')
                        return false;
        }
}

static bool json_value(struct json *j, int depth)
{
        if (*j->p == '{')
                return depth < 8 && json_object(j, depth + 1);
        if (*j->p == '"')
                return json_string(j, NULL, NULL);
        for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1)
                if (strncmp(j->p, lit, strlen(lit)) == 0) {
                        j->p += strlen(lit);
                        return true;
                }
        /* Integers are all the writer emits. */
        if (*j->p == '-')
                j->p++;
        if (*j->p < '0' || *j->p > '9')
                return false;
        if (*j->p == '0' && j->p[1] >= '0' && j->p[1] <= '9')
                return false;
        while (*j->p >= '0' && *j->p <= '9')
                j->p++;
        return true;
}

/* A record line is one JSON object followed by exactly one '\n'. Decodes key into *ret_decoded if given. */
static bool json_line_valid(const char *line, const char *key, char **ret_decoded, size_t *ret_len)
{
        struct json j = {.p = line, .want_key = key};
        bool ok = json_object(&j, 1) && j.p[0] == '\n' && j.p[1] == '\0';
        if (ok && key) {
                ok = j.found;
                if (ok) {
                        *ret_decoded = j.decoded;
                        *ret_len = j.decoded_len;
                        j.decoded = NULL;
                }
        }
        free(j.decoded);
        return ok;
}

static void test_json_checker_itself(void **state)
{
        char *d = NULL;
        size_t n;

        assert_true(json_line_valid("{\"a\":\"x\\u0041\\n\",\"b\":12,\"c\":null,\"d\":true}\n", "a", &d, &n));
        assert_string_equal(d, "xA\n");
        free(d);
        assert_false(json_line_valid("{\"a\":\"x\"\"}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"x\x01\"}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"\xff\"}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"\\x41\"}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"x\\\"}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"x\"}", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"x\"}\n\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":01}\n", NULL, NULL, NULL));
        assert_false(json_line_valid("{\"a\":\"x", NULL, NULL, NULL));
}

static void test_escape(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                {"", ""},
                {"web-1", "web-1"},
                {"a\"b", "a\\\"b"},
                {"a\\b", "a\\\\b"},
                {"../../etc/passwd", "../../etc/passwd"}, /* '/' needs no escape */
                {"a\nb\tc\rd", "a\\u000ab\\u0009c\\u000dd"},
                {"\x01\x1f\x7f", "\\u0001\\u001f\\u007f"},
                {"caf\xc3\xa9", "caf\xc3\xa9"},                       /* é passes through */
                {"\xe2\x82\xac", "\xe2\x82\xac"},                     /* € */
                {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},             /* U+1F600 */
                {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},             /* U+10FFFF, the last code point */
                {"\x80", "\\ufffd"},                                  /* lone continuation */
                {"\xff\xfe", "\\ufffd\\ufffd"},                       /* never valid */
                {"\xc0\x80", "\\ufffd\\ufffd"},                       /* overlong NUL */
                {"\xc1\xbf", "\\ufffd\\ufffd"},                       /* overlong */
                {"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},            /* overlong '/' */
                {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},            /* UTF-16 surrogate */
                {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"}, /* past U+10FFFF */
                {"\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
                {"ab\xe2\x82", "ab\\ufffd\\ufffd"}, /* truncated at the end */
                {"\xe2\x82x", "\\ufffd\\ufffdx"},   /* truncated mid-string */
                {"\xc3\"", "\\ufffd\\\""},          /* a quote is never swallowed as a continuation */
                {"\xc3\\", "\\ufffd\\\\"},
                /* Valid UTF-8 that a terminal or a viewer takes as a command: C1 CSI, NEL, the line separator, the
                 * right-to-left override and isolate, the Arabic letter mark. Escaped, so `jq -r` prints no escape. */
                {"a\xc2\x9b"
                 "31m",
                 "a\\u009b31m"},
                {"\xc2\x85\xc2\x9f\xc2\xa0", "\\u0085\\u009f\xc2\xa0"}, /* U+00A0 prints */
                {"x\xe2\x80\xa8y", "x\\u2028y"},
                {"gpj.\xe2\x80\xae"
                 "exe",
                 "gpj.\\u202eexe"},
                {"\xe2\x81\xa7\xd8\x9c", "\\u2067\\u061c"},
                {"\xe2\x80\x8d\xe2\x80\xaf", "\xe2\x80\x8d\xe2\x80\xaf"}, /* ZWJ, narrow no-break space print */
        };
        char buf[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = audit_json_escape(cases[i].in, buf, sizeof(buf));
                if (r != (int)strlen(cases[i].out) || strcmp(buf, cases[i].out) != 0)
                        fail_msg("case %zu: got \"%s\" (r=%d), want \"%s\"", i, buf, r, cases[i].out);
                assert_int_equal(audit_json_escaped_len(cases[i].in), strlen(cases[i].out));

                /* Exactly enough room works; one byte less is -ENOBUFS, not a cut escape. */
                size_t need = strlen(cases[i].out) + 1;
                assert_int_equal(audit_json_escape(cases[i].in, buf, need), (int)need - 1);
                assert_int_equal(audit_json_escape(cases[i].in, buf, need - 1), -ENOBUFS);
        }
        assert_int_equal(audit_json_escape(NULL, buf, sizeof(buf)), -EINVAL);
        assert_int_equal(audit_json_escape("x", NULL, 10), -ENOBUFS);
        assert_int_equal(audit_json_escaped_len(NULL), 0);
}

/* Every byte value, alone and after a lead byte: the escape is always a valid JSON string body. */
static void test_escape_all_bytes(void **state)
{
        char in[3], out[64], line[128];

        for (unsigned a = 1; a < 256; a++)
                for (unsigned b = 0; b < 256; b++) {
                        in[0] = (char)a;
                        in[1] = (char)b;
                        in[2] = '\0';
                        assert_true(audit_json_escape(in, out, sizeof(out)) > 0);
                        snprintf(line, sizeof(line), "{\"k\":\"%s\"}\n", out);
                        if (!json_line_valid(line, NULL, NULL, NULL))
                                fail_msg("bytes %02x %02x escaped to invalid JSON: %s", a, b, out);
                }
}

static void test_time(void **state)
{
        char buf[AUDIT_TIME_MAX];

        assert_int_equal(audit_format_time(0, buf, sizeof(buf)), 24);
        assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
        assert_int_equal(audit_format_time(1714566896789123ULL, buf, sizeof(buf)), 24);
        assert_string_equal(buf, "2024-05-01T12:34:56.789Z");
        assert_int_equal(audit_format_time(951782400999999ULL, buf, sizeof(buf)), 24); /* leap day, ms rounded down */
        assert_string_equal(buf, "2000-02-29T00:00:00.999Z");
        assert_int_equal(audit_format_time(253402300799999000ULL, buf, sizeof(buf)), 24);
        assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
        assert_int_equal(audit_format_time(253402300800000000ULL, buf, sizeof(buf)), -ERANGE); /* year 10000 */
        assert_int_equal(audit_format_time(UINT64_MAX, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(audit_format_time(0, buf, 24), -ENOBUFS);
        assert_int_equal(audit_format_time(0, buf, 25), 24);
}

static const struct audit_record sample = {
        .time_usec = 1714566896789123ULL,
        .vm = "web-1",
        .uuid = "0b9c3f2e-7a51-4d7b-9a59-3f0c1e2d4b6a",
        .pid = 4242,
        .group = "web",
        .cgroup = "/vmgov/web/web-1",
        .file = "cpu.max",
        .old_value = "max 100000",
        .new_value = "200000 100000",
        .reason = "policy CPUQuota=200%",
        .dry_run = true,
};

static const char sample_line[] =
        "{\"time\":\"2024-05-01T12:34:56.789Z\",\"vm\":\"web-1\",\"uuid\":\"0b9c3f2e-7a51-4d7b-9a59-3f0c1e2d4b6a\","
        "\"pid\":4242,\"group\":\"web\",\"cgroup\":\"/vmgov/web/web-1\",\"file\":\"cpu.max\",\"old\":\"max 100000\","
        "\"new\":\"200000 100000\",\"reason\":\"policy CPUQuota=200%\",\"dry_run\":true}\n";

static void test_record_format(void **state)
{
        char buf[1024];
        size_t n = strlen(sample_line);

        assert_int_equal(audit_record_format(&sample, buf, sizeof(buf)), (int)n);
        assert_string_equal(buf, sample_line);
        assert_int_equal(audit_record_len(&sample), n);
        assert_true(json_line_valid(buf, NULL, NULL, NULL));
        assert_int_equal(audit_record_format(&sample, buf, n + 1), (int)n);
        assert_int_equal(audit_record_format(&sample, buf, n), -ENOBUFS);
        assert_int_equal(audit_record_format(&sample, buf, 1), -ENOBUFS);
        assert_int_equal(audit_record_format(&sample, NULL, 0), -ENOBUFS);
        assert_int_equal(audit_record_format(NULL, buf, sizeof(buf)), -EINVAL);

        /* Unknown fields are null, a pid of 0 is null, dry_run false. */
        struct audit_record sparse = {.time_usec = 0, .file = "memory.high", .new_value = "max"};
        assert_true(audit_record_format(&sparse, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "{\"time\":\"1970-01-01T00:00:00.000Z\",\"vm\":null,\"uuid\":null,\"pid\":null,"
                                 "\"group\":null,\"cgroup\":null,\"file\":\"memory.high\",\"old\":null,\"new\":\"max\","
                                 "\"reason\":null,\"dry_run\":false}\n");
        assert_true(json_line_valid(buf, NULL, NULL, NULL));
        sparse.pid = -5;
        assert_true(audit_record_format(&sparse, buf, sizeof(buf)) > 0);
        assert_non_null(strstr(buf, "\"pid\":null"));

        /* A time past year 9999 is an error, not a malformed line. */
        struct audit_record far = sample;
        far.time_usec = UINT64_MAX;
        assert_int_equal(audit_record_format(&far, buf, sizeof(buf)), -ERANGE);
        assert_int_equal(audit_record_len(&far), 0);

        char *line = NULL;
        assert_int_equal(audit_record_format_alloc(&sample, &line), (int)n);
        assert_string_equal(line, sample_line);
        free(line);
        line = NULL;
        assert_int_equal(audit_record_format_alloc(&far, &line), -ERANGE);
        assert_null(line);
}

/* What a reader must get back for a hostile name: invalid bytes become U+FFFD, everything else is kept. */
static char *expected_decoding(const char *s)
{
        char *out = malloc(strlen(s) * 3 + 1);
        size_t n = 0;

        assert_non_null(out);
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t l = utf8_len_strict(p);
                if (l == 0) {
                        memcpy(out + n, "\xef\xbf\xbd", 3);
                        n += 3;
                        p++;
                } else {
                        memcpy(out + n, p, l);
                        n += l;
                        p += l;
                }
        }
        out[n] = '\0';
        return out;
}

static void test_hostile_name(void **state)
{
        /* 4 KiB of everything a QEMU -name can carry: quotes, '/', '..', control characters, backslashes,
         * broken UTF-8, a fake JSON field. Each byte 1..255 appears, repeated to 4096 bytes. */
        static const char seed[] = "\"},\"vm\":\"evil\",\"x\":\"../../../etc/passwd\\\x01\x1b[31m\n\r\t\xc3\xa9\xff\xc3"
                                   "\xe2\x82\xac\xed\xa0\x80\xf0\x9f\x98\x80\x7f/";
        char name[4097];
        size_t n = 0;

        for (unsigned b = 1; b < 256 && n < 4096; b++)
                name[n++] = (char)b;
        while (n < 4096) {
                size_t k = MIN(sizeof(seed) - 1, 4096 - n);
                memcpy(name + n, seed, k);
                n += k;
        }
        name[4096] = '\0';

        struct audit_record rec = sample;
        rec.vm = name;
        rec.reason = name; /* twice, to cross any fixed-size assumption */

        char *line = NULL, *decoded = NULL, *want;
        size_t decoded_len;
        int len = audit_record_format_alloc(&rec, &line);
        assert_true(len > 4096 * 2);
        assert_int_equal((size_t)len, strlen(line));
        assert_int_equal((size_t)len, audit_record_len(&rec));
        assert_int_equal(strchr(line, '\n') - line, len - 1); /* one line: the only newline ends it */

        assert_true(json_line_valid(line, "vm", &decoded, &decoded_len));
        want = expected_decoding(name);
        assert_int_equal(decoded_len, strlen(want));
        assert_memory_equal(decoded, want, decoded_len);
        free(decoded);
        decoded = NULL;
        assert_true(json_line_valid(line, "reason", &decoded, &decoded_len));
        assert_memory_equal(decoded, want, decoded_len);
        free(decoded);
        decoded = NULL;
        /* The fake field in the name did not become a field: "uuid" is still the real one. */
        assert_true(json_line_valid(line, "uuid", &decoded, &decoded_len));
        assert_string_equal(decoded, sample.uuid);
        free(decoded);

        /* A fixed 4 KiB buffer is too small: -ENOBUFS, never a truncated (invalid) line. */
        char small[4096];
        assert_int_equal(audit_record_format(&rec, small, sizeof(small)), -ENOBUFS);

        free(want);
        free(line);
}

static void make_tmpdir(char *dir, size_t size)
{
        const char *base = getenv("TMPDIR");
        snprintf(dir, size, "%s/vmgov-audit-XXXXXX", base && *base ? base : "/tmp");
        assert_non_null(mkdtemp(dir));
}

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static void test_writer(void **state)
{
        char dir[256], path[300];
        int fd = -1, fd2 = -1;
        struct stat st;

        make_tmpdir(dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/audit.jsonl", dir);

        assert_int_equal(audit_open(path, &fd), 0);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(fd, F_GETFL) & O_APPEND);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0640); /* main() sets umask 022 */

        /* Two writers on the same file append whole lines. */
        assert_int_equal(audit_open(path, &fd2), 0);
        assert_int_equal(audit_write(fd, &sample), 0);
        assert_int_equal(audit_write(fd2, &sample), 0);
        struct audit_record now = sample;
        now.time_usec = 0; /* filled in with the current time */
        now.dry_run = false;
        assert_int_equal(audit_write(fd, &now), 0);
        assert_int_equal(audit_close(fd), 0);
        assert_int_equal(audit_close(fd2), 0);
        assert_int_equal(audit_close(-1), 0);

        char *text = read_all(path);
        size_t n = strlen(sample_line);
        assert_memory_equal(text, sample_line, n);
        assert_memory_equal(text + n, sample_line, n);
        char *third = text + 2 * n;
        assert_true(json_line_valid(third, NULL, NULL, NULL));
        assert_true(strncmp(third, "{\"time\":\"20", 11) == 0); /* not 1970 */
        assert_non_null(strstr(third, "\"dry_run\":false}\n"));
        free(text);

        /* Errors come back to the caller. */
        assert_int_equal(audit_write(-1, &sample), -EINVAL);
        assert_int_equal(audit_write(fd, NULL), -EINVAL);
        int ro = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(ro >= 0);
        assert_int_equal(audit_write(ro, &sample), -EBADF);
        close(ro);
        char missing[320];
        snprintf(missing, sizeof(missing), "%s/no/such/dir/audit.jsonl", dir);
        fd = 12345;
        assert_int_equal(audit_open(missing, &fd), -ENOENT);
        assert_int_equal(fd, 12345);
        assert_int_equal(audit_open("", &fd), -EINVAL);
        assert_int_equal(audit_open(NULL, &fd), -EINVAL);

        /* Only the engine's own regular file: never through a symlink, never one others may write, no FIFO. */
        char other[320], link[320], fifo[320];
        snprintf(other, sizeof(other), "%s/elsewhere", dir);
        snprintf(link, sizeof(link), "%s/audit-link.jsonl", dir);
        snprintf(fifo, sizeof(fifo), "%s/audit-fifo.jsonl", dir);
        assert_int_equal(symlink(other, link), 0);
        assert_int_equal(audit_open(link, &fd), -ELOOP);
        assert_int_equal(fd, 12345);
        assert_int_equal(access(other, F_OK), -1); /* not created through the link */
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(audit_open(fifo, &fd), -ENXIO); /* O_NONBLOCK: a FIFO without a reader never blocks the open */
        assert_int_equal(chmod(path, 0662), 0);
        assert_int_equal(audit_open(path, &fd), -EPERM);
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(audit_open(path, &fd), 0);
        assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_int_equal(audit_close(fd), 0);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(unlink(fifo), 0);
        int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
        if (full >= 0) {
                assert_int_equal(audit_write(full, &sample), -ENOSPC);
                close(full);
        }

        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_escape_for_log(void **state)
{
        char buf[AUDIT_LOG_NAME_MAX], name[4097];

        assert_string_equal(audit_escape_for_log("web-1", buf, sizeof(buf)), "web-1");
        assert_string_equal(audit_escape_for_log("a\nb\"c", buf, sizeof(buf)), "a\\u000ab\\\"c");
        /* Too long to show whole: its start, and its length, never a raw control character. */
        memset(name, '\n', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        audit_escape_for_log(name, buf, sizeof(buf));
        assert_null(strchr(buf, '\n'));
        assert_non_null(strstr(buf, "...(4096 bytes)"));
        assert_int_equal(strncmp(buf, "\\u000a\\u000a", 12), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_checker_itself),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_escape_all_bytes),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_record_format),
                cmocka_unit_test(test_hostile_name),
                cmocka_unit_test(test_writer),
                cmocka_unit_test(test_escape_for_log),
        };
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
