/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "act/actuator.h"
#include "policy/config.h"
#include "kernel/macro.h"
#include "act/tapdev.h"

/*
 * Network rates on a VM's tap devices (cgroup v2 has no network controller), with tc through libnl-route-3.
 * Directions are named as the VM sees them:
 *
 *   ingress (what the VM receives = what the host sends out of the tap): a tbf root qdisc on the tap, handle
 *           766d: ("vm").
 *   egress  (what the VM sends = what arrives on the tap): libnl has no police action, so, as the CNI bandwidth
 *           plugin does, an ingress qdisc (ffff:) on the tap with one filter (prio 0x766d, protocol all) whose
 *           action is mirred egress redirect to an ifb device, and a tbf root qdisc (766d:) on that ifb. The filter
 *           is matchall, or u32 "match u32 0 0" on kernels without cls_matchall. The ifb is named
 *           ifb-XXXXXXXX (FNV-1a of the tap name: 12 characters) and carries the alias "vmgov:TAP", so that
 *           netshape_gc() finds those whose tap is gone even after a restart.
 *
 * Re-applying replaces (NLM_F_REPLACE on the tbf, a filter only added when missing or pointing elsewhere), never
 * stacks. Another root qdisc that someone configured on the tap (any handle but 0:, the kernel's default, and ours),
 * a clsact qdisc or another filter on its ingress are someone else's: netshape refuses to touch them (-EBUSY).
 *
 * Through the actuator: each direction of each tap is one setting, file "net.ingress" or "net.egress", ifname the
 * tap, value "TAP rate=BITS burst=BYTES" (bits/s as tc reads them back: a multiple of 8) or "TAP rate=max" for no
 * shaping, so that the same compare / dry-run / audit / originals / restore path as for cgroup files applies.
 */

#define NETSHAPE_HANDLE_MAJOR 0x766dU /* "vm": our qdiscs are 766d: */
#define NETSHAPE_FILTER_PRIO  0x766dU
#define NETSHAPE_FILE_INGRESS "net.ingress"
#define NETSHAPE_FILE_EGRESS  "net.egress"
#define NETSHAPE_IFB_PREFIX   "ifb-"
#define NETSHAPE_ALIAS_PREFIX "vmgov:"

/* How the defaults are picked (see netshape_tbf_params). */
#define NETSHAPE_BURST_USEC   10000 /* burst 0: what the rate sends in 10 ms... */
#define NETSHAPE_BURST_MIN    16384 /* ...but at least 16 KiB, so a few full-size frames always pass */
#define NETSHAPE_BURST_FLOOR  1600  /* an explicit burst must hold a full Ethernet frame */
#define NETSHAPE_LATENCY_USEC 50000 /* queue: what the rate sends in 50 ms, plus the burst */
#define NETSHAPE_RATE_MAX_BPS (UINT64_C(0x7fffffff) * 8) /* libnl 3.7's tbf takes bytes/s as an int */
#define NETSHAPE_SETTINGS_MAX (2 * TAPDEV_MAX)

enum netshape_dir {
        NETSHAPE_INGRESS, /* to the VM: the tap's own root qdisc */
        NETSHAPE_EGRESS,  /* from the VM: tap ingress → ifb */
};

/* One tbf, in the units the kernel keeps. */
struct netshape_tbf {
        uint32_t rate;  /* bytes/s */
        uint32_t burst; /* bytes */
        uint32_t limit; /* bytes queued at most */
};

/* ---- Pure ---- */

/* rate in bits/s (base 1000, as tc), burst in bytes (0: pick one) → tbf parameters. burst 0 becomes
 * max(rate × NETSHAPE_BURST_USEC, NETSHAPE_BURST_MIN); limit = rate × NETSHAPE_LATENCY_USEC + burst.
 * -EINVAL: rate below 8 bit/s, or an explicit burst below NETSHAPE_BURST_FLOOR; -ERANGE: rate above
 * NETSHAPE_RATE_MAX_BPS (17.1 Gbit/s) or a limit past 4 GiB. */
int netshape_tbf_params(uint64_t rate_bps, uint64_t burst, struct netshape_tbf *ret);

/* The kernel keeps the burst as a time in scheduler ticks, so it reads back a few bytes off: is got the same
 * burst as want at this rate (within 2 µs of the rate, plus 8 bytes)? */
bool netshape_burst_equal(uint32_t rate, uint32_t want, uint32_t got);

/* "ifb-" and the FNV-1a 32-bit hash of the tap name in hex. ret has IFNAMSIZ bytes. */
void netshape_ifb_name(const char *tap, char *ret);

const char *netshape_dir_to_file(enum netshape_dir d);
/* "net.ingress" / "net.egress" → the direction; -EINVAL otherwise. */
int netshape_dir_from_file(const char *file, enum netshape_dir *ret);

/* "TAP rate=BITS burst=BYTES", or "TAP rate=max" when rate_bps is LIMIT_MAX. -ENOBUFS when size is too small. */
int netshape_value_format(const char *tap, uint64_t rate_bps, uint64_t burst, char *buf, size_t size);
/* The reverse; rate LIMIT_MAX and burst 0 for "rate=max". -EINVAL when malformed. ret_tap has IFNAMSIZ bytes. */
int netshape_value_parse(const char *value, char *ret_tap, uint64_t *ret_rate_bps, uint64_t *ret_burst);

/* The settings for a VM: one per tap and set direction, ingress first. Rates are rounded down to whole bytes/s
 * and bursts resolved, so the values compare equal to what netshape reads back. -EINVAL/-ERANGE as
 * netshape_tbf_params, -ENOBUFS when max is too small. */
int netshape_plan(const struct net_limits *lim, const struct tapdev_list *taps, struct setting *ret, size_t max,
                  size_t *ret_n);

/* ---- The kernel (CAP_NET_ADMIN to change anything; reading works without) ---- */

struct netshape;

/* A NETLINK_ROUTE socket in the caller's network namespace. */
int netshape_open(struct netshape **ret);
struct netshape *netshape_free(struct netshape *ns);
static inline void netshape_freep(struct netshape **ns)
{
        *ns = netshape_free(*ns);
}
#define _cleanup_netshape_ _cleanup_(netshape_freep)

/* What is installed for one direction of a tap. */
struct netshape_state {
        bool shaped;             /* all of it is there and ours: tbf holds the parameters */
        bool partial;            /* some of ours is there (e.g. an ifb without the filter): a write repairs it */
        struct netshape_tbf tbf; /* when shaped */
        uint64_t bytes, packets; /* the shaping tbf's counters: what it let through */
        uint64_t drops, overlimits;
        char root_kind[16]; /* ingress: the tap's root qdisc kind ("fq_codel", "tbf", "noqueue"...) */
};

/* -ENODEV: no such tap; -EBUSY: someone else's qdisc or filter is there (logged at debug; the actuator logs the
 * refusal). */
int netshape_read(struct netshape *ns, const char *tap, enum netshape_dir dir, struct netshape_state *ret);

/* Shape one direction (rate in bits/s, burst in bytes, 0: default), or remove our shaping when rate_bps is
 * LIMIT_MAX (the tap's root goes back to the kernel's default qdisc; the filter, an ingress qdisc left without
 * filters, and the ifb are deleted). Idempotent. -ENODEV: no such tap; -EBUSY: someone else's qdisc. */
int netshape_apply(struct netshape *ns, const char *tap, enum netshape_dir dir, uint64_t rate_bps, uint64_t burst);

/* Delete every ifb named by netshape ("vmgov:TAP" alias) whose tap no longer exists (the VM exited: the kernel
 * removed the tap and its qdiscs, not the ifb). Returns how many were deleted, or -errno. */
int netshape_gc(struct netshape *ns);

/* The actuator's hooks for net.* settings: read = netshape_read in the settings' value form, write =
 * netshape_apply. */
void netshape_actuator_ops(struct netshape *ns, struct actuator_net_ops *ret);
