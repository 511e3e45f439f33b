/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/escape.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "act/statefile.h"
#include "act/tapdev.h"

#define STATEFILE_MAX (4 * 1024 * 1024)

int statefile_format(const struct original *originals, size_t n, char **ret_text)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\n", STATEFILE_MAGIC);
        for (size_t i = 0; i < n; i++) {
                char cg[3 * 4096 + 1], value[3 * CGV_VALUE_MAX + 1];
                const struct setting *s = &originals[i].setting;
                if (escape_percent(originals[i].cgroup, cg, sizeof(cg)) < 0 ||
                    escape_percent(s->value, value, sizeof(value)) < 0) {
                        fclose(f);
                        free(text);
                        return -ENOBUFS;
                }
                fprintf(f, "original cgroup=%s file=%s dev=%u:%u controller=%d", cg, s->file, s->major, s->minor,
                        (int)s->controller);
                if (s->ifname[0]) /* net.*: the tap (a valid interface name: nothing to escape) */
                        fprintf(f, " ifname=%s", s->ifname);
                fprintf(f, " value=%s\n", value);
        }
        if (fclose(f) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret_text = text;
        return 0;
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

int statefile_parse(const char *text, struct original **ret_originals, size_t *ret_n, unsigned *ret_line)
{
        struct original *v = NULL;
        size_t n = 0, allocated = 0;
        unsigned line = 0;
        int r = 0;

        for (const char *p = text; *p;) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t)(eol - p) : strlen(p);
                char buf[16384];

                line++;
                if (len >= sizeof(buf)) {
                        r = -EINVAL;
                        break;
                }
                memcpy(buf, p, len);
                buf[len] = '\0';
                p += len + (eol ? 1 : 0);

                if (line == 1) {
                        if (strcmp(buf, STATEFILE_MAGIC) != 0) {
                                r = -EINVAL;
                                break;
                        }
                        continue;
                }
                if (!buf[0])
                        continue;
                r = GREEDY_REALLOC(v, allocated, n + 1);
                if (r < 0)
                        break;
                r = parse_line(buf, &v[n]);
                if (r < 0)
                        break;
                n++;
        }
        if (r == 0 && line == 0)
                r = -EINVAL; /* empty: not even the magic line */
        if (r < 0) {
                statefile_free(v, n);
                *ret_line = line;
                return r;
        }
        *ret_originals = v;
        *ret_n = n;
        return 0;
}

int statefile_save(const char *path, const struct original *originals, size_t n)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = statefile_format(originals, n, &text);
        if (r < 0)
                return r;
        r = mkdir_parent(path, 0700);
        if (r < 0)
                return r;
        /* durable: the originals must survive a power cut, the rename included */
        return atomic_write_file(path, text, strlen(text), 0600, true);
}

int statefile_load(const char *path, struct original **ret_originals, size_t *ret_n)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *text = NULL;
        struct stat st;
        unsigned line = 0;
        size_t len = 0;
        int r;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size > STATEFILE_MAX)
                return log_err_errno(-EINVAL, "state file %s: not a regular file of sane size", path);
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return log_err_errno(-EPERM,
                                     "state file %s: must be owned by the engine's user (root) and not "
                                     "writable by group or others",
                                     path);
        text = malloc(st.st_size + 1);
        if (!text)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, st.st_size - len);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += n;
        }
        text[len] = '\0';
        r = statefile_parse(text, ret_originals, ret_n, &line);
        if (r == -EINVAL)
                return log_err_errno(r, "state file %s:%u: not understood; leaving it for a human", path, line);
        return r;
}
