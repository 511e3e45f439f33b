/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/cgroupfs.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/psi.h"

static bool note_disabled, note_unpriv_window, note_eperm;

void psi_notes_reset(void)
{
        note_disabled = note_unpriv_window = note_eperm = false;
}

/*
 * The parser runs for every pressure file of every VM at every tick, so it is one pass over the text without
 * library calls: a file is two lines of four "key=value" tokens.
 */

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Decimal digits at *p, at least one; *p is left after them. */
static int scan_u64(const char **p, uint64_t *ret)
{
        const char *s = *p;
        uint64_t v = 0;

        if (!is_digit(*s))
                return -EINVAL;
        for (; is_digit(*s); s++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
                        return -ERANGE;
        *p = s;
        *ret = v;
        return 0;
}

/* The kernel prints avgN as "%lu.%02lu": hundredths of a percent. One or two decimals are taken. */
static int scan_avg(const char **p, uint32_t *ret)
{
        const char *s = *p;
        uint64_t whole, frac = 0;
        int r;

        r = scan_u64(&s, &whole);
        if (r < 0)
                return r;
        if (*s == '.') {
                s++;
                if (!is_digit(s[0]))
                        return -EINVAL;
                frac = (uint64_t)(s[0] - '0') * 10;
                s++;
                if (is_digit(s[0])) {
                        frac += (uint64_t)(s[0] - '0');
                        s++;
                }
        }
        if (whole > (UINT32_MAX - frac) / 100)
                return -ERANGE;
        *p = s;
        *ret = (uint32_t)(whole * 100 + frac);
        return 0;
}

enum psi_key {
        KEY_AVG10,
        KEY_AVG60,
        KEY_AVG300,
        KEY_TOTAL,
        KEY_OTHER,
};

static enum psi_key key_of(const char *k, size_t len)
{
        if (len == 5 && memcmp(k, "total", 5) == 0)
                return KEY_TOTAL;
        if (len == 5 && memcmp(k, "avg10", 5) == 0)
                return KEY_AVG10;
        if (len == 5 && memcmp(k, "avg60", 5) == 0)
                return KEY_AVG60;
        if (len == 6 && memcmp(k, "avg300", 6) == 0)
                return KEY_AVG300;
        return KEY_OTHER;
}

static bool at_token_end(char c)
{
        return c == ' ' || c == '\n' || c == '\0';
}

/* The tokens after a line's "some"/"full", up to its newline or the end: " avg10=0.00 ... total=0". *p is left at
 * the newline or NUL. */
static int line_parse(const char **p, struct psi_line *ret)
{
        const char *s = *p;
        struct psi_line l = {};
        bool total = false;

        while (*s == ' ') {
                const char *k;
                int r = 0;

                while (*s == ' ')
                        s++;
                if (*s == '\n' || *s == '\0')
                        break;
                k = s;
                while (*s != '=' && !at_token_end(*s))
                        s++;
                if (*s != '=' || s == k)
                        return -EINVAL;
                switch (key_of(k, (size_t)(s++ - k))) {
                case KEY_AVG10:
                        r = scan_avg(&s, &l.avg10_centi);
                        break;
                case KEY_AVG60:
                        r = scan_avg(&s, &l.avg60_centi);
                        break;
                case KEY_AVG300:
                        r = scan_avg(&s, &l.avg300_centi);
                        break;
                case KEY_TOTAL:
                        r = scan_u64(&s, &l.total_usec);
                        total = true;
                        break;
                default: /* a key this parser does not know */
                        while (!at_token_end(*s))
                                s++;
                }
                if (r < 0)
                        return r;
                if (!at_token_end(*s))
                        return -EINVAL;
        }
        if (*s != '\n' && *s != '\0')
                return -EINVAL;
        if (!total)
                return -EINVAL;
        *p = s;
        *ret = l;
        return 0;
}

/* Stops at the text's NUL (memcmp would read on). */
static bool starts_with(const char *s, const char *prefix)
{
        for (; *prefix; s++, prefix++)
                if (*s != *prefix)
                        return false;
        return true;
}

int psi_parse(const char *text, struct psi_resource *ret)
{
        struct psi_resource res = {};
        bool some = false, full = false;
        const char *p = text;

        if (!text)
                return -EINVAL;
        while (*p) {
                bool *seen = NULL;
                struct psi_line *line = NULL;

                if (starts_with(p, "some ")) {
                        seen = &some;
                        line = &res.some;
                } else if (starts_with(p, "full ")) {
                        seen = &full;
                        line = &res.full;
                }
                if (line) {
                        int r;

                        if (*seen)
                                return -EINVAL;
                        p += 4;
                        r = line_parse(&p, line);
                        if (r < 0)
                                return r;
                        *seen = true;
                } else /* a line this parser does not know */
                        while (*p && *p != '\n')
                                p++;
                if (*p == '\n')
                        p++;
        }
        if (!some && !full)
                return -EINVAL;
        *ret = res;
        return 0;
}

uint32_t psi_interval_ppm(uint64_t total_prev, uint64_t total_now, uint64_t elapsed_usec)
{
        uint64_t delta;

        if (elapsed_usec == 0 || total_now <= total_prev)
                return 0;
        delta = total_now - total_prev;
        if (delta >= elapsed_usec)
                return SIGNALS_PPM;
        return (uint32_t)((unsigned __int128)delta * SIGNALS_PPM / elapsed_usec);
}

void psi_interval(const struct psi_resource *prev, const struct psi_resource *now, uint64_t elapsed_usec,
                  struct pressure *ret)
{
        *ret = (struct pressure){
                .some_ppm = psi_interval_ppm(prev->some.total_usec, now->some.total_usec, elapsed_usec),
                .full_ppm = psi_interval_ppm(prev->full.total_usec, now->full.total_usec, elapsed_usec),
        };
}

int psi_read(int fd, char *buf, size_t size, struct psi_resource *ret)
{
        int r = cgroupfs_pread_record(fd, buf, size);
        if (r < 0)
                return r;
        return psi_parse(buf, ret);
}

int psi_note_read_error(int r, const char *what)
{
        if (r != -EOPNOTSUPP)
                return r;
        if (!note_disabled) {
                note_disabled = true;
                log_warn("PSI is disabled on this kernel (reading %s: EOPNOTSUPP; boot with psi=1 to enable it): "
                         "pressure signals stay 0, sensing goes on without them",
                         what);
        } else
                log_debug("PSI is disabled: not reading %s", what);
        return 0;
}

bool psi_disabled_seen(void)
{
        return note_disabled;
}

static int trigger_check(uint64_t stall_usec, uint64_t window_usec)
{
        if (window_usec < PSI_WINDOW_MIN_USEC || window_usec > PSI_WINDOW_MAX_USEC)
                return -EINVAL;
        if (stall_usec == 0 || stall_usec > window_usec)
                return -EINVAL;
        return 0;
}

int psi_trigger_format(enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec, char *buf, size_t size)
{
        int n;

        if ((kind != PSI_SOME && kind != PSI_FULL) || trigger_check(stall_usec, window_usec) < 0)
                return -EINVAL;
        if (!buf || size == 0)
                return -ENOBUFS;
        n = snprintf(buf, size, "%s %" PRIu64 " %" PRIu64, kind == PSI_SOME ? "some" : "full", stall_usec, window_usec);
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        return n;
}

int psi_trigger_unprivileged(uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_stall_usec,
                             uint64_t *ret_window_usec)
{
        uint64_t window, stall;

        if (trigger_check(stall_usec, window_usec) < 0)
                return -EINVAL;
        window = (window_usec + PSI_WINDOW_UNPRIV_USEC - 1) / PSI_WINDOW_UNPRIV_USEC * PSI_WINDOW_UNPRIV_USEC;
        window = MIN(window, PSI_WINDOW_MAX_USEC);
        /* stall <= window <= 10 s: the product fits in 64 bits */
        stall = (stall_usec * window + window_usec / 2) / window_usec;
        stall = CLAMP(stall, 1, window);
        *ret_stall_usec = stall;
        *ret_window_usec = window;
        return 0;
}

static int trigger_write(int fd, enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec)
{
        char buf[PSI_TRIGGER_MAX];
        int n = psi_trigger_format(kind, stall_usec, window_usec, buf, sizeof(buf));

        if (n < 0)
                return n;
        /* The kernel's example writes the NUL too; both forms are accepted. One write: its result is the verdict. */
        if (write(fd, buf, (size_t)n + 1) < 0)
                return -errno;
        return 0;
}

int psi_trigger_arm(int fd, enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec, uint64_t *ret_stall_usec,
                    uint64_t *ret_window_usec)
{
        uint64_t stall = stall_usec, window = window_usec;
        int r;

        if (fd < 0)
                return -EBADF;
        r = trigger_write(fd, kind, stall, window);
        if (r == -EINVAL && window_usec % PSI_WINDOW_UNPRIV_USEC != 0 &&
            psi_trigger_unprivileged(stall_usec, window_usec, &stall, &window) == 0) {
                r = trigger_write(fd, kind, stall, window);
                if (r == 0 && !note_unpriv_window) {
                        note_unpriv_window = true;
                        log_info("PSI trigger windows must be multiples of 2 s without CAP_SYS_RESOURCE: "
                                 "arming \"%s %" PRIu64 " %" PRIu64 "\" where \"%s %" PRIu64 " %" PRIu64
                                 "\" was asked (and likewise for every trigger)",
                                 kind == PSI_SOME ? "some" : "full", stall, window, kind == PSI_SOME ? "some" : "full",
                                 stall_usec, window_usec);
                }
        }
        if (r < 0)
                return r;
        if (ret_stall_usec)
                *ret_stall_usec = stall;
        if (ret_window_usec)
                *ret_window_usec = window;
        return 0;
}

int psi_trigger_open(int dir_fd, const char *file, enum psi_kind kind, uint64_t stall_usec, uint64_t window_usec,
                     uint64_t *ret_stall_usec, uint64_t *ret_window_usec)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (!file || !*file || file[0] == '/' || strstr(file, ".."))
                return -EINVAL;
        fd = openat(dir_fd, file, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                if (r == -EPERM && !note_eperm) {
                        note_eperm = true;
                        log_info("PSI triggers need CAP_SYS_RESOURCE on this kernel (before 6.5): pressure is "
                                 "sensed at the tick only");
                }
                return r;
        }
        r = psi_trigger_arm(fd, kind, stall_usec, window_usec, ret_stall_usec, ret_window_usec);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}
