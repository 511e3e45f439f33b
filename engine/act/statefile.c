/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal's records (pure): formatting and parsing originals and forget records, and the replay that tells
 * which originals are live. The file itself, its lock, appending and compaction are in journal.c. */
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

static int format_original(FILE *f, const struct original *o)
{
        char cg[3 * 4096 + 1], value[3 * CGV_VALUE_MAX + 1];
        const struct setting_file *s = &o->setting;

        if (escape_percent(o->cgroup, cg, sizeof(cg)) < 0 ||
            escape_percent(o->value ? o->value : "", value, sizeof(value)) < 0)
                return -ENOBUFS;
        fprintf(f, "original cgroup=%s file=%s dev=%u:%u controller=%d", cg, s->file, s->major, s->minor,
                (int)s->controller);
        if (s->ifname[0]) /* net.*: the tap (a valid interface name: nothing to escape) */
                fprintf(f, " ifname=%s", s->ifname);
        if (o->move.from) { /* cgroup.procs: the VM moved, and where from */
                char from[3 * 4096 + 1];
                if (escape_percent(o->move.from, from, sizeof(from)) < 0)
                        return -ENOBUFS;
                fprintf(f, " pid=%d start=%" PRIu64 " from=%s", (int)o->move.pid, o->move.start_time, from);
        }
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
                original_done(&originals[i]);
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
        struct setting_file s = {0};
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
        bool known = actuator_file_known(file);
        /* A tap's shaping (netshape.h): only with a valid interface name. */
        if (field(line, "ifname", ifname, sizeof(ifname)) >= 0) {
                if (known || (strcmp(file, "net.ingress") != 0 && strcmp(file, "net.egress") != 0) ||
                    !tapdev_name_valid(ifname, strlen(ifname)))
                        return -EINVAL;
                known = true;
                snprintf(s.ifname, sizeof(s.ifname), "%s", ifname);
        }
        /* A VM the engine moved: who (pid and start time) and from where (a path as /proc shows it). */
        struct original_move move = {0};
        char from[4096], pid[16], start[32];
        if (strcmp(file, "cgroup.procs") == 0) {
                unsigned long long p, t;
                if (known || s.ifname[0] || field(line, "pid", pid, sizeof(pid)) < 0 ||
                    field(line, "start", start, sizeof(start)) < 0 || field(line, "from", from, sizeof(from)) < 0 ||
                    sscanf(pid, "%llu", &p) != 1 || p == 0 || p > INT32_MAX || sscanf(start, "%llu", &t) != 1 ||
                    from[0] != '/' || strstr(from, ".."))
                        return -EINVAL;
                move = (struct original_move){.pid = (pid_t)p, .start_time = t};
                known = true;
        }
        if (!known)
                return -EINVAL;
        snprintf(s.file, sizeof(s.file), "%s", file);
        s.controller = (enum cg_controller)c;
        *ret = (struct original){.cgroup = strdup(cg), .setting = s, .value = strdup(value), .move = move};
        if (move.pid)
                ret->move.from = strdup(from);
        if (!ret->cgroup || !ret->value || (move.pid && !ret->move.from)) {
                original_done(ret);
                return -ENOMEM;
        }
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

/* The slot of key (by cgroup alone, or by the file it is about), or the empty slot where it goes. */
static size_t *table_slot(struct table *t, const struct entry *v, const struct original *key, bool by_file)
{
        uint64_t h = by_file ? original_key(key->cgroup, &key->setting) : index_key_string(key->cgroup);

        for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
                size_t *slot = &t->slots[i];
                if (!*slot)
                        return slot;
                const struct original *o = &v[*slot - 1].o;
                if (by_file ? original_is(o, key->cgroup, &key->setting) : strcmp(o->cgroup, key->cgroup) == 0)
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
                        v[i].o.cgroup = v[i].o.value = v[i].o.move.from =
                                NULL; /* moved, once the tables no longer look at it */
out:
        for (size_t i = 0; i < n; i++)
                original_done(&v[i].o);
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
                        original_done(&v[i].o);
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
