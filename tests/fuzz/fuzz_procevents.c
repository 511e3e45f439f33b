/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proc connector's messages: any process may not send them (the kernel's connector is root's), but the parser
 * reads a length from the message and must never trust it. The input goes to procevents_parse twice: whole, as one
 * connector payload, and as a netlink datagram walked the way libnl walks it (each nlmsghdr's payload in turn), as
 * the reader hands them over. An event it accepts is one the engine can act on: a known type, and for an exec or
 * an exit a positive pid and tid.
 */
#include <errno.h>
#include <linux/netlink.h>

#include "discover/procevents.h"
#include "fuzz.h"

static void parse(const void *buf, size_t len)
{
        struct procevent e;
        int r = procevents_parse(buf, len, &e);

        if (r < 0) {
                if (r != -EBADMSG && r != -EPROTO)
                        abort();
                return;
        }
        if (r != 0)
                abort();
        switch (e.type) {
        case PROCEVENT_EXEC:
        case PROCEVENT_EXIT:
        case PROCEVENT_UID:
                if (e.pid <= 0 || e.tid <= 0)
                        abort();
                break;
        case PROCEVENT_FORK:
                if (e.pid <= 0 || e.tid <= 0 || e.parent <= 0)
                        abort();
                break;
        case PROCEVENT_ACK:
        case PROCEVENT_OTHER:
                break;
        default:
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* An exact-size copy, so that ASan sees a read past the end; aligned as a received datagram is. */
        uint8_t *buf = malloc(size ? size : 1);
        size_t off = 0;

        if (!buf)
                return 0;
        memcpy(buf, data, size);
        parse(buf, size);
        /* Each message in turn, as libnl's nlmsg_ok/nlmsg_next walk them (NLMSG_OK with unsigned lengths). */
        while (size - off >= NLMSG_HDRLEN) {
                const struct nlmsghdr *h = (const void *)(buf + off);
                if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > size - off)
                        break;
                parse(buf + off + NLMSG_HDRLEN, h->nlmsg_len - NLMSG_HDRLEN);
                off += NLMSG_ALIGN(h->nlmsg_len);
                if (off > size)
                        break;
        }
        free(buf);
        return 0;
}
