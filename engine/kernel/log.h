/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

#include "kernel/macro.h"

/*
 * Logging to stderr with "<N>" syslog priority prefixes, so journald files each line at the right level.
 * The *_errno variants take a negative errno, print it for %m, and return it, so that
 *     return log_warn_errno(r, "write %s: %m", path);
 * logs and propagates in one statement.
 *
 * Every line is written through escape_text (kernel/escape.h): a newline, a terminal escape or any other control
 * character in a message, wherever it came from, is printed as \n or \xNN, and a message's leading '<' as \x3c,
 * so one call is one line and only the logger's own "<N>" sets its priority. Callers still escape the names they
 * print (vm_display_name), so that a name reads the same in the log, the status table and the audit log.
 */

void log_set_max_level(int level);
int log_get_max_level(void);
/* Parse "err", "warning", "info", "debug" (or 3, 4, 6, 7). Returns the level or -EINVAL. */
int log_level_from_string(const char *s);
/* Without the "<N>" prefixes (for an interactive terminal). */
void log_set_prefix(int enabled);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

struct ratelimit;
/* A message that repeats for the same key and cause (kernel/ratelimit.h): at level the first time, then counted, and
 * summarised at most once per the limiter's interval, "(N times since the last line; said at most once a minute)";
 * the repeats in between at debug level. Returns error. */
int log_repeat_internal(struct ratelimit *rl, uint64_t key, unsigned cause, uint64_t now_usec, int level, int error,
                        const char *file, int line, const char *fmt, ...) _printf_(9, 10);
#define log_repeat_errno(rl, key, cause, now_usec, level, error, ...)                                                  \
        log_repeat_internal((rl), (key), (cause), (now_usec), (level), (error), __FILE__, __LINE__, __VA_ARGS__)

#define log_full_errno(level, error, ...) log_internal((level), (error), __FILE__, __LINE__, __VA_ARGS__)

#define log_err(...)                      ((void)log_full_errno(LOG_ERR, 0, __VA_ARGS__))
#define log_warn(...)                     ((void)log_full_errno(LOG_WARNING, 0, __VA_ARGS__))
#define log_info(...)                     ((void)log_full_errno(LOG_INFO, 0, __VA_ARGS__))
#define log_debug(...)                    ((void)log_full_errno(LOG_DEBUG, 0, __VA_ARGS__))

#define log_err_errno(r, ...)             log_full_errno(LOG_ERR, (r), __VA_ARGS__)
#define log_warn_errno(r, ...)            log_full_errno(LOG_WARNING, (r), __VA_ARGS__)
#define log_info_errno(r, ...)            log_full_errno(LOG_INFO, (r), __VA_ARGS__)
#define log_debug_errno(r, ...)           log_full_errno(LOG_DEBUG, (r), __VA_ARGS__)

/* Route libcgroup's messages (which default to stdout) through this logger. Call before cgroup_init(). */
void log_setup_libcgroup(void);
