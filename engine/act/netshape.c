/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netshape's plan, with no netlink: what a group's rates turn into for a VM's taps (one setting per tap and direction),
 * the tbf parameters a rate and burst become, the ifb's name for a tap, the settings' file and value forms, and the
 * actuator's hooks that read and write those settings through netshape_read and netshape_apply (netshape_nl.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/netshape.h"

/* ---- pure ---- */

int netshape_tbf_params(uint64_t rate_bps, uint64_t burst, struct netshape_tbf *ret)
{
        uint64_t rate = rate_bps / 8, limit;

        if (rate == 0)
                return -EINVAL;
        if (rate_bps > NETSHAPE_RATE_MAX_BPS)
                return -ERANGE;
        if (burst == 0)
                burst = MAX(rate * NETSHAPE_BURST_USEC / 1000000, (uint64_t)NETSHAPE_BURST_MIN);
        else if (burst < NETSHAPE_BURST_FLOOR)
                return -EINVAL;
        limit = rate * NETSHAPE_LATENCY_USEC / 1000000 + burst;
        if (limit > INT32_MAX) /* libnl takes it as an int */
                return -ERANGE;
        *ret = (struct netshape_tbf){.rate = (uint32_t)rate, .burst = (uint32_t)burst, .limit = (uint32_t)limit};
        return 0;
}

bool netshape_burst_equal(uint32_t rate, uint32_t want, uint32_t got)
{
        uint64_t slack = (uint64_t)rate * 2 / 1000000 + 8;
        uint64_t diff = want > got ? (uint64_t)want - got : (uint64_t)got - want;

        return diff <= slack;
}

void netshape_ifb_name(const char *tap, char *ret)
{
        uint32_t h = 2166136261u;

        for (const unsigned char *p = (const unsigned char *)tap; *p; p++)
                h = (h ^ *p) * 16777619u;
        snprintf(ret, IFNAMSIZ, NETSHAPE_IFB_PREFIX "%08" PRIx32, h);
}

const char *netshape_dir_to_file(enum netshape_dir d)
{
        return d == NETSHAPE_INGRESS ? NETSHAPE_FILE_INGRESS : NETSHAPE_FILE_EGRESS;
}

int netshape_dir_from_file(const char *file, enum netshape_dir *ret)
{
        if (strcmp(file, NETSHAPE_FILE_INGRESS) == 0)
                *ret = NETSHAPE_INGRESS;
        else if (strcmp(file, NETSHAPE_FILE_EGRESS) == 0)
                *ret = NETSHAPE_EGRESS;
        else
                return -EINVAL;
        return 0;
}

int netshape_value_format(const char *tap, uint64_t rate_bps, uint64_t burst, char *buf, size_t size)
{
        int n;

        if (rate_bps == LIMIT_MAX)
                n = snprintf(buf, size, "%s rate=%s", tap, CGV_MAX);
        else
                n = snprintf(buf, size, "%s rate=%" PRIu64 " burst=%" PRIu64, tap, rate_bps, burst);
        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

static int parse_u64_strict(const char *s, uint64_t *ret)
{
        char *e;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, &e, 10);
        if (errno || *e)
                return -EINVAL;
        *ret = v;
        return 0;
}

int netshape_value_parse(const char *value, char *ret_tap, uint64_t *ret_rate_bps, uint64_t *ret_burst)
{
        char tap[IFNAMSIZ], rate[32], burst[32] = "";
        const char *sp = strchr(value, ' ');
        uint64_t r = 0, b = 0;
        int n;

        if (!sp || !tapdev_name_valid(value, (size_t)(sp - value)))
                return -EINVAL;
        memcpy(tap, value, (size_t)(sp - value));
        tap[sp - value] = '\0';
        if (strcmp(sp + 1, "rate=" CGV_MAX) == 0) {
                r = LIMIT_MAX;
        } else {
                if (sscanf(sp + 1, "rate=%31[0-9] burst=%31[0-9]%n", rate, burst, &n) != 2 || sp[1 + n] != '\0')
                        return -EINVAL;
                if (parse_u64_strict(rate, &r) < 0 || parse_u64_strict(burst, &b) < 0 || r == LIMIT_MAX)
                        return -EINVAL;
        }
        memcpy(ret_tap, tap, sizeof(tap));
        *ret_rate_bps = r;
        *ret_burst = b;
        return 0;
}

static int plan_one(const char *tap, enum netshape_dir dir, uint64_t rate_bps, uint64_t burst, struct setting *s)
{
        struct netshape_tbf tbf;
        int r;

        r = netshape_tbf_params(rate_bps, burst, &tbf);
        if (r < 0)
                return r;
        *s = (struct setting){0};
        snprintf(s->file, sizeof(s->file), "%s", netshape_dir_to_file(dir));
        snprintf(s->ifname, sizeof(s->ifname), "%s", tap);
        return netshape_value_format(tap, (uint64_t)tbf.rate * 8, tbf.burst, s->value, sizeof(s->value));
}

int netshape_plan(const struct net_limits *lim, const struct tapdev_list *taps, struct setting *ret, size_t max,
                  size_t *ret_n)
{
        size_t n = 0;
        int r;

        for (size_t i = 0; i < taps->n; i++) {
                if (lim->ingress_set) {
                        if (n >= max)
                                return -ENOBUFS;
                        r = plan_one(taps->names[i], NETSHAPE_INGRESS, lim->ingress_bps, lim->ingress_burst, &ret[n++]);
                        if (r < 0)
                                return r;
                }
                if (lim->egress_set) {
                        if (n >= max)
                                return -ENOBUFS;
                        r = plan_one(taps->names[i], NETSHAPE_EGRESS, lim->egress_bps, lim->egress_burst, &ret[n++]);
                        if (r < 0)
                                return r;
                }
        }
        *ret_n = n;
        return 0;
}

/* ---- the actuator's hooks ---- */

static int ops_read(void *userdata, const struct setting *s, char *buf, size_t size)
{
        struct netshape *ns = userdata;
        struct netshape_state st;
        enum netshape_dir dir;
        char tap[IFNAMSIZ];
        uint64_t want_rate, want_burst;
        int r;

        r = netshape_dir_from_file(s->file, &dir);
        if (r < 0)
                return r;
        r = netshape_read(ns, s->ifname, dir, &st);
        if (r < 0)
                return r;
        if (!st.shaped)
                return netshape_value_format(s->ifname, LIMIT_MAX, 0, buf, size);
        /* The burst comes back a few bytes off (kept as a time in ticks): the wanted one, when it is that. */
        if (netshape_value_parse(s->value, tap, &want_rate, &want_burst) == 0 && want_rate != LIMIT_MAX &&
            want_burst <= UINT32_MAX && netshape_burst_equal(st.tbf.rate, (uint32_t)want_burst, st.tbf.burst))
                st.tbf.burst = (uint32_t)want_burst;
        return netshape_value_format(s->ifname, (uint64_t)st.tbf.rate * 8, st.tbf.burst, buf, size);
}

static int ops_write(void *userdata, const struct setting *s)
{
        struct netshape *ns = userdata;
        enum netshape_dir dir;
        char tap[IFNAMSIZ];
        uint64_t rate, burst;
        int r;

        r = netshape_dir_from_file(s->file, &dir);
        if (r < 0)
                return r;
        r = netshape_value_parse(s->value, tap, &rate, &burst);
        if (r < 0)
                return r;
        if (strcmp(tap, s->ifname) != 0)
                return -EINVAL;
        return netshape_apply(ns, tap, dir, rate, burst);
}

void netshape_actuator_ops(struct netshape *ns, struct actuator_net_ops *ret)
{
        *ret = (struct actuator_net_ops){.read = ops_read, .write = ops_write, .userdata = ns};
}
