/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics formatter with the input as a VM's name, uuid, cgroup and exe (all of which come from someone else's
 * command line or cgroup path). Beyond memory safety, the output must be what node_exporter accepts: valid UTF-8,
 * no control character but the newlines that end lines, and every label value closed on its own line.
 */
#include <string.h>

#include "fuzz.h"
#include "publish/metrics.h"
#include "kernel/utf8.h"

static void copy(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

static void check_exposition(const char *text)
{
        const unsigned char *p = (const unsigned char *)text;
        bool in_value = false;

        while (*p) {
                size_t n = utf8_valid_len(p);

                if (n == 0)
                        __builtin_trap(); /* invalid UTF-8 */
                if (n == 1 && *p == '\n' && in_value)
                        __builtin_trap(); /* a raw newline inside a label value */
                if (n == 1 && ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f))
                        __builtin_trap();
                if (n == 1 && *p == '\\' && in_value) {
                        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                                __builtin_trap(); /* an escape the format does not have */
                        p += 2;
                        continue;
                }
                if (n == 1 && *p == '"' && p > (const unsigned char *)text && (in_value || p[-1] == '='))
                        in_value = !in_value;
                p += n;
        }
        if (in_value)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct vm_identity id;
        struct metrics_engine e = {.interval_usec = 1000000};
        struct metrics_vm vm = {.id = &id};
        char *s, *text = NULL, buf[3 * 64 + 1];
        size_t len;

        s = fuzz_strndup(data, size);
        if (!s)
                return 0;
        (void)metrics_escape_label(s, buf, sizeof(buf));

        memset(&id, 0, sizeof(id));
        id.name = s[0] ? s : NULL; /* borrowed, as long as the input */
        copy(id.uuid, sizeof(id.uuid), s);
        id.exe = id.name;
        vm.group = s;
        vm.cgroup = s;
        if (metrics_format(&e, &vm, 1, &text, &len) == 0) {
                if (strlen(text) != len)
                        __builtin_trap();
                check_exposition(text);
                free(text);
        }
        free(s);
        return 0;
}
