/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal of originals, which a restarted engine and vmgov restore read back: whatever is in it (a file cut
 * short by a crash, a line from another version, garbage), the parser skips what it cannot read, names at most
 * STATEFILE_BAD_LINES_MAX lines, and returns originals that only name files the engine writes, in cgroups beneath
 * the mount. Those, formatted as a compacted journal, parse back to the very same originals with nothing skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "act/statefile.h"
#include "fuzz.h"

static void check_sane(const struct statefile_contents *c)
{
        if (c->n > c->records || (c->torn_line > 0 && c->n_bad == 0))
                abort();
        for (size_t i = 0; i < c->n_bad && i < STATEFILE_BAD_LINES_MAX; i++)
                if (c->bad_lines[i] == 0 || (i > 0 && c->bad_lines[i] <= c->bad_lines[i - 1]))
                        abort();
        for (size_t i = 0; i < c->n; i++) {
                const struct original *o = &c->originals[i];
                if (!o->cgroup[0] || o->cgroup[0] == '/' || strstr(o->cgroup, ".."))
                        abort();
                if (!memchr(o->setting.file, '\0', sizeof(o->setting.file)) || !o->value ||
                    strlen(o->value) >= CGV_VALUE_MAX)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size ? size : 1), *again = NULL;
        struct statefile_contents c, d;

        if (!text)
                return 0;
        memcpy(text, data, size); /* the raw bytes, not NUL-terminated: as read from the file */
        if (statefile_parse(text, size, &c) == 0) {
                check_sane(&c);
                if (statefile_format(c.originals, c.n, &again) == 0) {
                        if (statefile_parse(again, strlen(again), &d) != 0)
                                abort();
                        if (d.n != c.n || d.n_bad != 0 || d.version != 2)
                                abort();
                        for (size_t i = 0; i < c.n; i++)
                                if (strcmp(c.originals[i].cgroup, d.originals[i].cgroup) != 0 ||
                                    memcmp(&c.originals[i].setting, &d.originals[i].setting,
                                           sizeof(struct setting_file)) != 0 ||
                                    strcmp(c.originals[i].value, d.originals[i].value) != 0)
                                        abort();
                        statefile_contents_done(&d);
                        free(again);
                }
                statefile_contents_done(&c);
        }
        free(text);
        return 0;
}
