/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The INI reader, and only it: finds the policy files (one file, or every *.ini of a directory in lexical order,
 * each owned by whoever runs us and writable by no one else), reads them, and has inih tokenise them. A pre-scan
 * of each file first rejects what inih would silently mangle (long lines and names are cut, indented lines are
 * glued onto the previous value, ':' also separates keys) and hands on each section header with its line, so that
 * a duplicate or empty section is reported where it starts. inih's callback then hands on (section, key, value,
 * line); what they mean is keys.c's business.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "kernel/fileio.h"
#include "kernel/macro.h"
#include "policy/config-internal.h"

#define POLICY_FILE_MAX (1024 * 1024)

/* An I/O error on a policy file: reported like a syntax error, but the errno is what the caller gets. */
static int fail_errno(struct loader *l, const char *file, int r)
{
        loader_fail(l, file, 0, "cannot read: %s", strerror(-r));
        return r;
}

/*
 * Refuse what inih would accept differently from what the operator wrote, and register the sections in file
 * order. Works on the raw text, line by line.
 */
static int loader_prescan(struct loader *l, const char *text, size_t size)
{
        unsigned line = 0;

        if (memchr(text, '\0', size))
                return loader_fail(l, l->file, 0, "contains a NUL byte: not a text file");

        for (const char *p = text; p < text + size;) {
                const char *eol = memchr(p, '\n', text + size - p);
                size_t len = eol ? (size_t)(eol - p) : (size_t)(text + size - p);
                const char *start = p, *s = p, *end = p + len;
                int r;

                line++;
                p = eol ? eol + 1 : text + size;

                if (len > 0 && end[-1] == '\r')
                        end--, len--;
                if (len > INI_LINE_MAX)
                        return loader_fail(l, l->file, line, "line is %zu characters long, at most %d are allowed", len,
                                           INI_LINE_MAX);

                while (s < end && (*s == ' ' || *s == '\t'))
                        s++;
                if (s == end || *s == ';' || *s == '#')
                        continue;
                if (s != start)
                        return loader_fail(
                                l, l->file, line,
                                "indented line: it would be joined to the previous value; remove the indentation");

                if (*s == '[') {
                        const char *close = memchr(s, ']', end - s);
                        char section[INI_LINE_MAX + 1];

                        if (!close)
                                return loader_fail(l, l->file, line, "section header without a closing ']'");
                        if ((size_t)(close - s - 1) > INI_NAME_MAX)
                                return loader_fail(l, l->file, line, "section name is longer than %d characters",
                                                   INI_NAME_MAX);
                        memcpy(section, s + 1, close - s - 1);
                        section[close - s - 1] = '\0';
                        r = loader_add_section(l, section, line);
                        if (r < 0)
                                return r;
                        continue;
                }

                const char *eq = memchr(s, '=', end - s);
                const char *colon = memchr(s, ':', end - s);
                if (!eq)
                        return loader_fail(l, l->file, line, "expected \"Key = value\" or a [section] header");
                if (colon && colon < eq)
                        return loader_fail(l, l->file, line,
                                           "':' in a key name: keys are separated from values by '='");
                const char *key_end = eq;
                while (key_end > s && (key_end[-1] == ' ' || key_end[-1] == '\t'))
                        key_end--;
                if (key_end - s > INI_NAME_MAX)
                        return loader_fail(l, l->file, line, "key name is longer than %d characters", INI_NAME_MAX);
        }
        return 0;
}

/* inih's callback: hands (section, key, value, line) on to keys.c; 0 tells inih that the line was wrong. */
static int ini_handler_cb(void *userdata, const char *section, const char *key, const char *value, int lineno)
{
        struct loader *l = userdata;
        unsigned line = (unsigned)lineno;
        int r;

        if (l->failed)
                return 1; /* keep only the first error; inih goes on regardless */

        if (!section[0]) {
                loader_fail(l, l->file, line, "%s= outside of any section", key);
                return 0;
        }
        r = keys_set(l, section, key, value, line);
        if (r == -ENOMEM) {
                loader_fail(l, l->file, line, "out of memory");
                return 0;
        }
        return r < 0 ? 0 : 1;
}

int ini_load_text(struct loader *l, const char *file, const char *text, size_t size)
{
        int r;

        l->file = file;
        r = loader_prescan(l, text, size);
        if (r < 0)
                return l->failed ? -EINVAL : r;

        r = ini_parse_string(text, ini_handler_cb, l);
        if (l->failed)
                return -EINVAL;
        if (r > 0)
                return loader_fail(l, file, (unsigned)r, "syntax error");
        if (r < 0)
                return loader_fail(l, file, 0, "out of memory while parsing");
        return 0;
}

/*
 * As sudo does with sudoers: a policy decides what is written into every VM's cgroup, so only its owner may have
 * written it. Owned by root (or, for a user checking a file of theirs, by that user), not writable by group or
 * others.
 */
static int check_owner(struct loader *l, const char *path, const struct stat *st)
{
        if (st->st_uid != geteuid())
                return loader_fail(l, path, 0, "owned by uid %u, not by %s: refusing it (chown %u %s)",
                                   (unsigned)st->st_uid, geteuid() == 0 ? "root" : "you", (unsigned)geteuid(), path);
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return loader_fail(l, path, 0, "writable by group or others: refusing it (chmod go-w %s)", path);
        return 0;
}

/* Read a whole policy file, refusing anything that is not a regular file of sane size. */
static int read_policy_file(struct loader *l, const char *path, char **ret_text, size_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return fail_errno(l, path, -errno);
        if (!S_ISREG(st.st_mode))
                return loader_fail(l, path, 0, "not a regular file");
        r = check_owner(l, path, &st);
        if (r < 0)
                return r;
        if (st.st_size > POLICY_FILE_MAX)
                return loader_fail(l, path, 0, "larger than %d bytes", POLICY_FILE_MAX);

        buf = malloc(st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (size < (size_t)st.st_size) {
                ssize_t n = read_retry(fd, buf + size, st.st_size - size, -1);
                if (n < 0)
                        return fail_errno(l, path, (int)n);
                if (n == 0)
                        break;
                size += n;
        }
        buf[size] = '\0';
        *ret_text = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static int ini_filter(const struct dirent *d)
{
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".ini") == 0;
}

static int loader_add_file_name(struct loader *l, const char *path)
{
        char **v = realloc(l->file_names, (l->n_file_names + 1) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        l->file_names = v;
        v[l->n_file_names] = strdup(path);
        if (!v[l->n_file_names])
                return -ENOMEM;
        l->n_file_names++;
        return 0;
}

static int loader_load_file(struct loader *l, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = loader_add_file_name(l, path);
        if (r < 0)
                return r;
        r = read_policy_file(l, l->file_names[l->n_file_names - 1], &text, &size);
        if (r < 0)
                return r;
        return ini_load_text(l, l->file_names[l->n_file_names - 1], text, size);
}

static int loader_load_dir(struct loader *l, const char *dir)
{
        struct dirent **entries = NULL;
        int n, r = 0;

        struct stat st;
        if (stat(dir, &st) < 0)
                return fail_errno(l, dir, -errno);
        /* Whoever may write the directory may add a policy file to it. */
        r = check_owner(l, dir, &st);
        if (r < 0)
                return r;
        n = scandir(dir, &entries, ini_filter, alphasort);
        if (n < 0)
                return fail_errno(l, dir, -errno);
        if (n == 0)
                r = loader_fail(l, dir, 0, "no *.ini files in the directory");
        for (int i = 0; i < n; i++) {
                if (r == 0) {
                        char path[4096];
                        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name) >= sizeof(path))
                                r = loader_fail(l, dir, 0, "path too long");
                        else
                                r = loader_load_file(l, path);
                }
                free(entries[i]);
        }
        free(entries);
        return r;
}

int ini_load_path(struct loader *l, const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return fail_errno(l, path, -errno);
        if (S_ISDIR(st.st_mode))
                return loader_load_dir(l, path);
        return loader_load_file(l, path);
}
