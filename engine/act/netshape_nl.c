/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netshape's kernel side, through libnl-route-3, and nothing of the plan: the NETLINK_ROUTE socket; the tap's root
 * qdisc and its ingress qdisc and redirect filter (matchall, else u32) read, installed and removed; the ifb devices
 * created and deleted; and the ifbs whose tap is gone collected (netshape_open/free, netshape_read, netshape_apply,
 * netshape_gc). What a group's rates turn into is netshape.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/matchall.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>

#include "kernel/log.h"
#include "act/netshape.h"
#include "kernel/nlerr.h"

#define OUR_HANDLE     TC_HANDLE(NETSHAPE_HANDLE_MAJOR, 0)
#define INGRESS_HANDLE TC_HANDLE(0xffffU, 0)
#define TBF_CELL       8 /* rate table cell of 8 bytes (cell_log 3), what tc picks for an MTU of 2047 */

struct netshape {
        struct nl_sock *sock;
};

int netshape_open(struct netshape **ret)
{
        struct netshape *ns = calloc(1, sizeof(*ns));
        int r;

        if (!ns)
                return -ENOMEM;
        ns->sock = nl_socket_alloc();
        if (!ns->sock) {
                free(ns);
                return -ENOMEM;
        }
        r = nl_connect(ns->sock, NETLINK_ROUTE);
        if (r < 0) {
                netshape_free(ns);
                return nlerr_to_errno(r);
        }
        *ret = ns;
        return 0;
}

struct netshape *netshape_free(struct netshape *ns)
{
        if (!ns)
                return NULL;
        nl_socket_free(ns->sock);
        free(ns);
        return NULL;
}

static void qdisc_putp(struct rtnl_qdisc **q)
{
        if (*q)
                rtnl_qdisc_put(*q);
}
static void link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}
static void cls_putp(struct rtnl_cls **c)
{
        if (*c)
                rtnl_cls_put(*c);
}
static void cache_freep(struct nl_cache **c)
{
        if (*c)
                nl_cache_free(*c);
}
#define _cleanup_qdisc_ _cleanup_(qdisc_putp)
#define _cleanup_link_  _cleanup_(link_putp)
#define _cleanup_cls_   _cleanup_(cls_putp)
#define _cleanup_cache_ _cleanup_(cache_freep)

/* The interface's index; -ENODEV when there is none. */
static int link_get(struct netshape *ns, const char *name, struct rtnl_link **ret)
{
        int r = rtnl_link_get_kernel(ns->sock, 0, name, ret);

        if (r < 0)
                r = nlerr_to_errno(r);
        return r == -ENOENT ? -ENODEV : r;
}

static int ifindex_get(struct netshape *ns, const char *name)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        int r = link_get(ns, name, &l);

        return r < 0 ? r : rtnl_link_get_ifindex(l);
}

struct get_one {
        struct nl_object *obj;
        bool done;
};

static void get_one_store(struct nl_object *obj, void *arg)
{
        struct get_one *g = arg;

        if (!g->obj) {
                nl_object_get(obj);
                g->obj = obj;
        }
}

static int get_one_valid(struct nl_msg *msg, void *arg)
{
        return nl_msg_parse(msg, get_one_store, arg) < 0 ? NL_SKIP : NL_OK;
}

static int get_one_ack(struct nl_msg *msg, void *arg)
{
        struct get_one *g = arg;

        g->done = true;
        return NL_STOP;
}

/* The qdisc at parent (TC_H_ROOT or TC_H_INGRESS) of ifindex, asked for alone (RTM_GETQDISC without NLM_F_DUMP,
 * so the cost does not grow with the number of interfaces; the kernel sends the answer to the asker only with
 * NLM_F_ECHO). NULL in *ret when there is none (or only the kernel's noop placeholder). */
static int qdisc_get(struct netshape *ns, int ifindex, uint32_t parent, struct rtnl_qdisc **ret)
{
        struct tcmsg tcm = {.tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex, .tcm_parent = parent};
        struct get_one g = {0};
        struct nl_cb *cb, *sock_cb;
        struct nl_msg *msg;
        int r;

        msg = nlmsg_alloc_simple(RTM_GETQDISC, NLM_F_ECHO);
        if (!msg)
                return -ENOMEM;
        r = nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO);
        if (r >= 0)
                r = nl_send_auto(ns->sock, msg);
        nlmsg_free(msg);
        if (r < 0)
                return nlerr_to_errno(r);

        sock_cb = nl_socket_get_cb(ns->sock); /* a new reference */
        cb = nl_cb_clone(sock_cb);
        nl_cb_put(sock_cb);
        if (!cb)
                return -ENOMEM;
        nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, get_one_valid, &g);
        nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, get_one_ack, &g);
        /* Until the ack: it must not be left for the next request to read. */
        r = 0;
        while (!g.done && r >= 0)
                r = nl_recvmsgs(ns->sock, cb);
        nl_cb_put(cb);
        if (r < 0) {
                if (g.obj)
                        nl_object_put(g.obj);
                r = nlerr_to_errno(r);
                if (r == -ENOENT || r == -EINVAL) { /* nothing at that parent */
                        *ret = NULL;
                        return 0;
                }
                return r;
        }
        if (g.obj && rtnl_tc_get_kind(TC_CAST(g.obj)) && strcmp(rtnl_tc_get_kind(TC_CAST(g.obj)), "noop") == 0) {
                nl_object_put(g.obj);
                g.obj = NULL;
        }
        *ret = (struct rtnl_qdisc *)g.obj;
        return 0;
}

static const char *kind_of(struct rtnl_qdisc *q)
{
        const char *k = q ? rtnl_tc_get_kind(TC_CAST(q)) : NULL;
        return k ? k : "";
}

static bool is_ours(struct rtnl_qdisc *q)
{
        return q && rtnl_tc_get_handle(TC_CAST(q)) == OUR_HANDLE && strcmp(kind_of(q), "tbf") == 0;
}

static void tbf_state(struct rtnl_qdisc *q, struct netshape_state *st)
{
        st->shaped = true;
        st->tbf.rate = (uint32_t)rtnl_qdisc_tbf_get_rate(q);
        st->tbf.burst = (uint32_t)rtnl_qdisc_tbf_get_rate_bucket(q);
        st->tbf.limit = (uint32_t)rtnl_qdisc_tbf_get_limit(q);
        st->bytes = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_BYTES);
        st->packets = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_PACKETS);
        st->drops = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_DROPS);
        st->overlimits = rtnl_tc_get_stat(TC_CAST(q), RTNL_TC_OVERLIMITS);
}

/* The tap's root: ours, the kernel's default (handle 0:), or someone else's (-EBUSY). */
static int root_check(struct netshape *ns, const char *tap, int ifindex, struct rtnl_qdisc **ret)
{
        _cleanup_qdisc_ struct rtnl_qdisc *q = NULL;
        int r = qdisc_get(ns, ifindex, TC_H_ROOT, &q);

        if (r < 0)
                return r;
        if (q && !is_ours(q) && TC_H_MAJ(rtnl_tc_get_handle(TC_CAST(q))) != 0)
                return log_debug_errno(-EBUSY, "%s: root qdisc %s %x: is someone else's", tap, kind_of(q),
                                       rtnl_tc_get_handle(TC_CAST(q)) >> 16);
        *ret = TAKE_PTR(q);
        return 0;
}

/* Where a filter's (first) action redirects to, or 0. */
static int filter_target(struct rtnl_cls *c)
{
        const char *kind = rtnl_tc_get_kind(TC_CAST(c));
        struct rtnl_act *act = NULL;
        int ifindex = 0;

        if (kind && strcmp(kind, "matchall") == 0) {
                act = rtnl_mall_get_first_action(c); /* takes a reference */
                if (act) {
                        ifindex = (int)rtnl_mirred_get_ifindex(act);
                        rtnl_act_put(act);
                }
        } else if (kind && strcmp(kind, "u32") == 0) {
                act = rtnl_u32_get_action(c); /* borrowed */
                if (act)
                        ifindex = (int)rtnl_mirred_get_ifindex(act);
        }
        return ifindex;
}

/* The tap's ingress side: the ingress qdisc (if any) and our filter's target (0: no filter of ours). -EBUSY when
 * a clsact qdisc or another filter is there. */
static int ingress_check(struct netshape *ns, const char *tap, int ifindex, bool *ret_qdisc, int *ret_target)
{
        _cleanup_qdisc_ struct rtnl_qdisc *q = NULL;
        _cleanup_cache_ struct nl_cache *filters = NULL;
        int r, target = 0;

        r = qdisc_get(ns, ifindex, TC_H_INGRESS, &q);
        if (r < 0)
                return r;
        if (!q) {
                *ret_qdisc = false;
                *ret_target = 0;
                return 0;
        }
        if (strcmp(kind_of(q), "ingress") != 0)
                return log_debug_errno(-EBUSY, "%s: a %s qdisc is on its ingress: someone else's", tap, kind_of(q));
        r = rtnl_cls_alloc_cache(ns->sock, ifindex, INGRESS_HANDLE, &filters);
        if (r < 0)
                return nlerr_to_errno(r);
        for (struct nl_object *o = nl_cache_get_first(filters); o; o = nl_cache_get_next(o)) {
                struct rtnl_cls *c = (struct rtnl_cls *)o;

                if (rtnl_cls_get_prio(c) != NETSHAPE_FILTER_PRIO)
                        return log_debug_errno(-EBUSY, "%s: a filter of prio %u is on its ingress: someone else's", tap,
                                               rtnl_cls_get_prio(c));
                if (!target)
                        target = filter_target(c);
        }
        *ret_qdisc = true;
        *ret_target = target;
        return 0;
}

int netshape_read(struct netshape *ns, const char *tap, enum netshape_dir dir, struct netshape_state *ret)
{
        struct netshape_state st = {0};
        int ifindex, r;

        ifindex = ifindex_get(ns, tap);
        if (ifindex < 0)
                return ifindex;

        if (dir == NETSHAPE_INGRESS) {
                _cleanup_qdisc_ struct rtnl_qdisc *root = NULL;

                r = root_check(ns, tap, ifindex, &root);
                if (r < 0)
                        return r;
                snprintf(st.root_kind, sizeof(st.root_kind), "%s", kind_of(root));
                if (is_ours(root))
                        tbf_state(root, &st);
        } else {
                _cleanup_qdisc_ struct rtnl_qdisc *ifb_root = NULL;
                _cleanup_link_ struct rtnl_link *ifb = NULL;
                char ifb_name[IFNAMSIZ];
                bool has_ingress;
                int target;

                r = ingress_check(ns, tap, ifindex, &has_ingress, &target);
                if (r < 0)
                        return r;
                netshape_ifb_name(tap, ifb_name);
                r = link_get(ns, ifb_name, &ifb);
                if (r < 0 && r != -ENODEV)
                        return r;
                if (ifb) {
                        r = qdisc_get(ns, rtnl_link_get_ifindex(ifb), TC_H_ROOT, &ifb_root);
                        if (r < 0)
                                return r;
                }
                if (ifb && target == rtnl_link_get_ifindex(ifb) && is_ours(ifb_root))
                        tbf_state(ifb_root, &st);
                else
                        st.partial = ifb || target;
        }
        *ret = st;
        return 0;
}

static int tbf_install(struct netshape *ns, int ifindex, const struct netshape_tbf *p)
{
        _cleanup_qdisc_ struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        int r;

        if (!q)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
        rtnl_tc_set_handle(TC_CAST(q), OUR_HANDLE);
        /* The kind first: libnl 3.7 aborts on a tbf setter called before it. */
        r = rtnl_tc_set_kind(TC_CAST(q), "tbf");
        if (r < 0)
                return nlerr_to_errno(r);
        rtnl_qdisc_tbf_set_limit(q, (int)p->limit);
        rtnl_qdisc_tbf_set_rate(q, (int)p->rate, (int)p->burst, TBF_CELL);
        r = rtnl_qdisc_add(ns->sock, q, NLM_F_CREATE | NLM_F_REPLACE);
        return r < 0 ? nlerr_to_errno(r) : 0;
}

static int qdisc_delete(struct netshape *ns, int ifindex, uint32_t parent, uint32_t handle)
{
        _cleanup_qdisc_ struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        int r;

        if (!q)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), parent);
        rtnl_tc_set_handle(TC_CAST(q), handle);
        r = rtnl_qdisc_delete(ns->sock, q);
        r = r < 0 ? nlerr_to_errno(r) : 0;
        return r == -ENOENT || r == -EINVAL ? 0 : r; /* already gone */
}

static int ingress_qdisc_add(struct netshape *ns, int ifindex)
{
        _cleanup_qdisc_ struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        int r;

        if (!q)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
        rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
        r = rtnl_tc_set_kind(TC_CAST(q), "ingress");
        if (r >= 0)
                r = rtnl_qdisc_add(ns->sock, q, NLM_F_CREATE | NLM_F_EXCL);
        r = r < 0 ? nlerr_to_errno(r) : 0;
        return r == -EEXIST ? 0 : r;
}

static int filter_delete(struct netshape *ns, int ifindex)
{
        _cleanup_cls_ struct rtnl_cls *c = rtnl_cls_alloc();
        int r;

        if (!c)
                return -ENOMEM;
        rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
        rtnl_tc_set_parent(TC_CAST(c), INGRESS_HANDLE);
        rtnl_cls_set_prio(c, NETSHAPE_FILTER_PRIO);
        rtnl_cls_set_protocol(c, ETH_P_ALL);
        r = rtnl_cls_delete(ns->sock, c, 0);
        r = r < 0 ? nlerr_to_errno(r) : 0;
        return r == -ENOENT || r == -EINVAL ? 0 : r;
}

/* One filter, kind matchall or u32 ("match u32 0 0"), redirecting everything to ifb_index. */
static int filter_add_kind(struct netshape *ns, int ifindex, int ifb_index, const char *kind)
{
        _cleanup_cls_ struct rtnl_cls *c = rtnl_cls_alloc();
        struct rtnl_act *act = rtnl_act_alloc();
        int r;

        if (!c || !act) {
                if (act)
                        rtnl_act_put(act);
                return -ENOMEM;
        }
        rtnl_tc_set_ifindex(TC_CAST(c), ifindex);
        rtnl_tc_set_parent(TC_CAST(c), INGRESS_HANDLE);
        rtnl_cls_set_prio(c, NETSHAPE_FILTER_PRIO);
        rtnl_cls_set_protocol(c, ETH_P_ALL);
        r = rtnl_tc_set_kind(TC_CAST(c), kind);
        if (r >= 0)
                r = rtnl_tc_set_kind(TC_CAST(act), "mirred");
        if (r >= 0) {
                rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
                rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
                rtnl_mirred_set_ifindex(act, (uint32_t)ifb_index);
                if (strcmp(kind, "u32") == 0) {
                        r = rtnl_u32_add_key_uint32(c, 0, 0, 0, 0);
                        if (r >= 0)
                                r = rtnl_u32_set_cls_terminal(c);
                        if (r >= 0)
                                r = rtnl_u32_add_action(c, act);
                } else
                        r = rtnl_mall_append_action(c, act);
        }
        rtnl_act_put(act); /* the filter holds its own reference */
        if (r >= 0)
                r = rtnl_cls_add(ns->sock, c, NLM_F_CREATE | NLM_F_EXCL);
        return r < 0 ? nlerr_to_errno(r) : 0;
}

static int filter_add(struct netshape *ns, const char *tap, int ifindex, int ifb_index)
{
        int r = filter_add_kind(ns, ifindex, ifb_index, "matchall");

        if (r == -ENOENT || r == -EOPNOTSUPP) {
                log_debug("%s: no cls_matchall in this kernel, redirecting with u32", tap);
                r = filter_add_kind(ns, ifindex, ifb_index, "u32");
        }
        return r;
}

/* The tap's ifb, created (up, with its alias) unless it is there. Returns its ifindex. */
static int ifb_ensure(struct netshape *ns, const char *tap)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        char name[IFNAMSIZ], alias[IFNAMSIZ + sizeof(NETSHAPE_ALIAS_PREFIX)];
        int r;

        netshape_ifb_name(tap, name);
        r = link_get(ns, name, &l);
        if (r >= 0) {
                const char *type = rtnl_link_get_type(l);
                if (!type || strcmp(type, "ifb") != 0)
                        return log_debug_errno(-EBUSY, "%s: %s exists and is not an ifb", tap, name);
                return rtnl_link_get_ifindex(l);
        }
        if (r != -ENODEV)
                return r;

        l = rtnl_link_alloc();
        if (!l)
                return -ENOMEM;
        snprintf(alias, sizeof(alias), NETSHAPE_ALIAS_PREFIX "%s", tap);
        rtnl_link_set_name(l, name);
        r = rtnl_link_set_type(l, "ifb");
        if (r < 0)
                return nlerr_to_errno(r);
        rtnl_link_set_flags(l, IFF_UP);
        r = rtnl_link_add(ns->sock, l, NLM_F_CREATE | NLM_F_EXCL);
        if (r < 0)
                return nlerr_to_errno(r);
        rtnl_link_put(TAKE_PTR(l));

        /* The alias, which the kernel does not take when the link is created. */
        r = link_get(ns, name, &l);
        if (r < 0)
                return r;
        _cleanup_link_ struct rtnl_link *change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_ifalias(change, alias);
        r = rtnl_link_change(ns->sock, l, change, 0);
        if (r < 0)
                return nlerr_to_errno(r);
        return rtnl_link_get_ifindex(l);
}

static int link_delete(struct netshape *ns, const char *name)
{
        _cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();
        int r;

        if (!l)
                return -ENOMEM;
        rtnl_link_set_name(l, name);
        r = rtnl_link_delete(ns->sock, l);
        r = r < 0 ? nlerr_to_errno(r) : 0;
        return r == -ENODEV || r == -ENOENT ? 0 : r;
}

static int egress_remove(struct netshape *ns, const char *tap, int ifindex)
{
        char ifb[IFNAMSIZ];
        bool has_ingress;
        int r, target;

        r = ingress_check(ns, tap, ifindex, &has_ingress, &target);
        if (r < 0)
                return r;
        if (target) {
                r = filter_delete(ns, ifindex);
                if (r < 0)
                        return r;
        }
        if (has_ingress) {
                /* Ours to remove: ingress_check refused any filter not ours, and ours is gone. */
                r = qdisc_delete(ns, ifindex, TC_H_INGRESS, INGRESS_HANDLE);
                if (r < 0)
                        return r;
        }
        netshape_ifb_name(tap, ifb);
        return link_delete(ns, ifb);
}

static int egress_apply(struct netshape *ns, const char *tap, int ifindex, const struct netshape_tbf *p)
{
        bool has_ingress;
        int r, target, ifb;

        r = ingress_check(ns, tap, ifindex, &has_ingress, &target);
        if (r < 0)
                return r;
        ifb = ifb_ensure(ns, tap);
        if (ifb < 0)
                return ifb;
        /* The rate first: traffic redirected to the ifb is shaped from its first packet. */
        r = tbf_install(ns, ifb, p);
        if (r < 0)
                return r;
        if (!has_ingress) {
                r = ingress_qdisc_add(ns, ifindex);
                if (r < 0)
                        return r;
        }
        if (target == ifb)
                return 0;
        if (target) { /* ours, but pointing at an ifb that was deleted and made again */
                r = filter_delete(ns, ifindex);
                if (r < 0)
                        return r;
        }
        return filter_add(ns, tap, ifindex, ifb);
}

int netshape_apply(struct netshape *ns, const char *tap, enum netshape_dir dir, uint64_t rate_bps, uint64_t burst)
{
        struct netshape_tbf p;
        int ifindex, r;

        if (rate_bps != LIMIT_MAX) {
                r = netshape_tbf_params(rate_bps, burst, &p);
                if (r < 0)
                        return r;
        }
        ifindex = ifindex_get(ns, tap);
        if (ifindex < 0)
                return ifindex;

        if (dir == NETSHAPE_EGRESS)
                return rate_bps == LIMIT_MAX ? egress_remove(ns, tap, ifindex) : egress_apply(ns, tap, ifindex, &p);

        _cleanup_qdisc_ struct rtnl_qdisc *root = NULL;
        r = root_check(ns, tap, ifindex, &root);
        if (r < 0)
                return r;
        if (rate_bps != LIMIT_MAX)
                return tbf_install(ns, ifindex, &p);
        return is_ours(root) ? qdisc_delete(ns, ifindex, TC_H_ROOT, OUR_HANDLE) : 0;
}

int netshape_gc(struct netshape *ns)
{
        _cleanup_cache_ struct nl_cache *links = NULL;
        int r, deleted = 0;

        r = rtnl_link_alloc_cache(ns->sock, AF_UNSPEC, &links);
        if (r < 0)
                return nlerr_to_errno(r);
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *type = rtnl_link_get_type(l), *alias = rtnl_link_get_ifalias(l);
                const char *name = rtnl_link_get_name(l), *tap;
                char expect[IFNAMSIZ];

                if (!type || strcmp(type, "ifb") != 0 || !alias || !name ||
                    strncmp(alias, NETSHAPE_ALIAS_PREFIX, strlen(NETSHAPE_ALIAS_PREFIX)) != 0)
                        continue;
                tap = alias + strlen(NETSHAPE_ALIAS_PREFIX);
                netshape_ifb_name(tap, expect);
                if (strcmp(expect, name) != 0)
                        continue;
                _cleanup_link_ struct rtnl_link *alive = rtnl_link_get_by_name(links, tap); /* a new reference */
                if (alive)
                        continue;
                r = link_delete(ns, name);
                if (r < 0)
                        return log_debug_errno(r, "delete %s (its tap %s is gone): %m", name, tap);
                log_debug("deleted %s: its tap %s is gone", name, tap);
                deleted++;
        }
        return deleted;
}
