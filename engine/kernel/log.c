/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libcgroup.h>

#include "kernel/escape.h"
#include "kernel/log.h"
#include "kernel/ratelimit.h"

static int max_level = LOG_INFO;
static int with_prefix = 1;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

void log_set_prefix(int enabled)
{
        with_prefix = enabled;
}

int log_level_from_string(const char *s)
{
        static const struct {
                const char *name;
                int level;
        } names[] = {
                {"err", LOG_ERR},      {"error", LOG_ERR}, {"warning", LOG_WARNING},
                {"warn", LOG_WARNING}, {"info", LOG_INFO}, {"debug", LOG_DEBUG},
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i].name) == 0)
                        return names[i].level;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

#define LOG_MSG_MAX 2048

/* The last line of defence for whatever a caller printed unescaped (a cgroup path, an executable's name): the line
 * goes out through escape_text, so it stays one line, with no terminal escape in it, and the only "<N>" at its
 * start is ours (a message's own leading '<' is written \x3c, so nothing downstream takes it for a priority). */
static void log_write(int level, const char *msg)
{
        char line[ESCAPE_TEXT_SIZE(LOG_MSG_MAX + 160)];
        bool lt = msg[0] == '<';

        (void)escape_text(msg + lt, line, sizeof(line)); /* too long: cut, still escaped */
        if (with_prefix)
                fprintf(stderr, "<%d>%s%s\n", level, lt ? "\\x3c" : "", line);
        else
                fprintf(stderr, "%s%s\n", lt ? "\\x3c" : "", line);
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...)
{
        char msg[LOG_MSG_MAX];
        va_list ap;

        if (level > max_level)
                return error;

        /* %m prints the error we were handed, not whatever errno happens to hold. */
        errno = error < 0 ? -error : error;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        if (max_level >= LOG_DEBUG) {
                char full[LOG_MSG_MAX + 160];
                snprintf(full, sizeof(full), "%s (%s:%d)", msg, file, line);
                log_write(level, full);
        } else
                log_write(level, msg);

        errno = error < 0 ? -error : error;
        return error;
}

int log_repeat_internal(struct ratelimit *rl, uint64_t key, unsigned cause, uint64_t now_usec, int level, int error,
                        const char *file, int line, const char *fmt, ...)
{
        char msg[LOG_MSG_MAX];
        unsigned n;
        va_list ap;

        errno = error < 0 ? -error : error; /* for %m */
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        switch (ratelimit_hit(rl, key, cause, now_usec, &n)) {
        case RATELIMIT_LOG:
                return log_internal(level, error, file, line, "%s", msg);
        case RATELIMIT_SUMMARY:
                return log_internal(level, error, file, line,
                                    "%s (%u times since the last line; said at most once a minute)", msg, n);
        default:
                return log_internal(LOG_DEBUG, error, file, line, "%s", msg);
        }
}

static void libcgroup_logger(void *userdata, int cg_level, const char *fmt, va_list ap)
{
        char msg[1024];
        int level;
        size_t n;

        switch (cg_level) {
        case CGROUP_LOG_ERROR:
                level = LOG_ERR;
                break;
        case CGROUP_LOG_WARNING:
                level = LOG_WARNING;
                break;
        case CGROUP_LOG_INFO:
                level = LOG_INFO;
                break;
        default:
                level = LOG_DEBUG;
        }
        /* libcgroup warns about its own internals (e.g. "fts_read failed" on every cgroup v2 create); what
         * matters is reported by our callers with context, so its warnings are debug and its errors warnings. */
        level = level <= LOG_ERR ? LOG_WARNING : LOG_DEBUG;
        if (level > max_level)
                return;

                /* The format comes from libcgroup's own literals; its logger type carries no format attribute. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        vsnprintf(msg, sizeof(msg), fmt, ap);
#pragma GCC diagnostic pop
        n = strlen(msg);
        while (n > 0 && msg[n - 1] == '\n')
                msg[--n] = '\0';
        char full[1100];
        snprintf(full, sizeof(full), "libcgroup: %s", msg);
        log_write(level, full);
}

void log_setup_libcgroup(void)
{
        cgroup_set_logger(libcgroup_logger, CGROUP_LOG_DEBUG, NULL);
}
