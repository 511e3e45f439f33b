/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's status file, which vmgov status reads: whatever is in it (a file from another version, one cut
 * short), the parser refuses it with a line number or returns what formats into a file that parses back and
 * formats into the very same text.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "publish/snapshot.h"

/* parse, then format what was parsed; 0 with *ret (malloc'ed) or -1 when the text is refused */
static int reformat(const char *text, char **ret)
{
        struct snapshot_daemon d;
        struct snapshot_vm *vms = NULL;
        struct snapshot_text t = {0};
        size_t n = 0;
        unsigned line = 0;
        int r;

        if (snapshot_parse(text, &d, &vms, &n, &line) != 0)
                return -1;
        r = snapshot_format_daemon(&t, &d);
        for (size_t i = 0; i < n && r == 0; i++) {
                r = snapshot_format_vm(&t, &vms[i].id, &vms[i].sig, &vms[i].st);
                for (size_t k = 0; k < vms[i].n_threads && r == 0; k++)
                        r = snapshot_format_thread(&t, &vms[i].threads[k]);
        }
        snapshot_vms_free(vms, n);
        if (r != 0) {
                free(t.buf);
                return -1;
        }
        *ret = t.buf;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_strndup(data, size), *once = NULL, *twice = NULL;

        if (!text)
                return 0;
        if (reformat(text, &once) == 0) {
                if (reformat(once, &twice) != 0 || strcmp(once, twice) != 0)
                        abort();
        }
        free(twice);
        free(once);
        free(text);
        return 0;
}
