/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmgov-nettool: drives netshape, tapdev and procevents from the host and VM tests, and makes and measures
 * traffic without IP addresses (raw frames on a packet socket, or UDP to QEMU's socket netdev on loopback).
 *
 *   shape TAP ingress|egress RATE_BPS|max [BURST]   netshape_apply
 *   show TAP                       both directions as read back through netlink, one line each:
 *                                  "DIR shaped=0|1 partial=0|1 rate=BITS burst=BYTES limit=BYTES bytes=N packets=N
 *                                   drops=N root=KIND"
 *   gc                             netshape_gc: delete ifbs whose tap is gone; prints how many
 *   taps PID                       tapdev_read on /proc/PID and /sys/class/net: "fdinfo NAME... skip:NAME..."
 *   tapns NAME CMD [ARGS...]       make tap NAME in a new network namespace, come back to this one and run CMD
 *                                  with the tap's fd as fd 3 (what an fd passed over a socket from there gives)
 *   events SECONDS CMD [ARGS...]   listen to the proc connector, run CMD, print "exec PID" / "exit PID" for CMD's
 *                                  process until it exited or SECONDS passed ("open ERRNO-NAME" if it cannot)
 *   flood IF SECONDS [RATE_BPS]    send 1514-byte frames out of IF for SECONDS (paced to RATE_BPS when given,
 *                                  else as fast as the qdisc takes them); prints "sent BYTES"
 *   udpflood PORT SECONDS RATE_BPS send 1514-byte frames as UDP datagrams to 127.0.0.1:PORT, paced
 *   measure TAP DIR SECONDS        the rate the shaping tbf let through over SECONDS: "rate BITS_PER_S"
 *
 * Exit status 0 on success, 1 with a message on stderr otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "act/netshape.h"
#include "kernel/procfs.h"
#include "discover/procevents.h"
#include "act/tapdev.h"

#define FRAME_LEN   1514
#define ETHERTYPE_X 0x88b5 /* IEEE local experimental */

static int die(int r, const char *what)
{
        fprintf(stderr, "vmgov-nettool: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return 1;
}

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
        struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ULL), .tv_nsec = (long)(t % 1000000000ULL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

static int parse_u64(const char *s, uint64_t *ret)
{
        char *e;
        errno = 0;
        *ret = strtoull(s, &e, 10);
        return errno || e == s || *e ? -EINVAL : 0;
}

static int parse_dir(const char *s, enum netshape_dir *ret)
{
        if (strcmp(s, "ingress") == 0)
                *ret = NETSHAPE_INGRESS;
        else if (strcmp(s, "egress") == 0)
                *ret = NETSHAPE_EGRESS;
        else
                return -EINVAL;
        return 0;
}

static int cmd_shape(int argc, char **argv)
{
        _cleanup_netshape_ struct netshape *ns = NULL;
        enum netshape_dir dir;
        uint64_t rate = LIMIT_MAX, burst = 0;
        int r;

        if (argc < 3 || parse_dir(argv[1], &dir) < 0 ||
            (strcmp(argv[2], "max") != 0 && parse_u64(argv[2], &rate) < 0) ||
            (argc > 3 && parse_u64(argv[3], &burst) < 0))
                return die(-EINVAL, "usage: shape TAP ingress|egress RATE|max [BURST]");
        r = netshape_open(&ns);
        if (r < 0)
                return die(r, "netshape_open");
        r = netshape_apply(ns, argv[0], dir, rate, burst);
        return r < 0 ? die(r, "netshape_apply") : 0;
}

static int cmd_show(int argc, char **argv)
{
        _cleanup_netshape_ struct netshape *ns = NULL;
        int r;

        if (argc < 1)
                return die(-EINVAL, "usage: show TAP");
        r = netshape_open(&ns);
        if (r < 0)
                return die(r, "netshape_open");
        for (int d = NETSHAPE_INGRESS; d <= NETSHAPE_EGRESS; d++) {
                struct netshape_state st;

                r = netshape_read(ns, argv[0], (enum netshape_dir)d, &st);
                if (r < 0)
                        return die(r, "netshape_read");
                printf("%s shaped=%d partial=%d rate=%llu burst=%u limit=%u bytes=%llu packets=%llu drops=%llu "
                       "root=%s\n",
                       d == NETSHAPE_INGRESS ? "ingress" : "egress", st.shaped, st.partial,
                       (unsigned long long)st.tbf.rate * 8, st.tbf.burst, st.tbf.limit, (unsigned long long)st.bytes,
                       (unsigned long long)st.packets, (unsigned long long)st.drops,
                       st.root_kind[0] ? st.root_kind : "-");
        }
        return 0;
}

static int cmd_gc(int argc, char **argv)
{
        _cleanup_netshape_ struct netshape *ns = NULL;
        int r = netshape_open(&ns);

        if (r < 0)
                return die(r, "netshape_open");
        r = netshape_gc(ns);
        if (r < 0)
                return die(r, "netshape_gc");
        printf("deleted %d\n", r);
        return 0;
}

static int cmd_taps(int argc, char **argv)
{
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int net_fd = open("/sys/class/net", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int pid_fd = -1;
        struct tapdev_list l;
        uint64_t pid;
        int r;

        if (argc < 1 || parse_u64(argv[0], &pid) < 0)
                return die(-EINVAL, "usage: taps PID");
        pid_fd = procfs_pid_open(proc_fd, (pid_t)pid);
        if (pid_fd < 0)
                return die(pid_fd, "open /proc/PID");
        r = tapdev_read(&(const struct tapdev_host){.proc_fd = proc_fd, .net_fd = net_fd}, (pid_t)pid, pid_fd, &l);
        if (r < 0)
                return die(r, "tapdev_read");
        printf("fdinfo"); /* the only source there is now */
        for (size_t i = 0; i < l.n; i++)
                printf(" %s", l.names[i]);
        for (size_t i = 0; i < l.n_skipped; i++)
                printf(" skip:%s", l.skipped[i].name);
        printf("\n");
        return 0;
}

static int cmd_tapns(int argc, char **argv)
{
        _cleanup_close_ int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
        int tun, r = 0;

        if (argc < 2 || strlen(argv[0]) >= IFNAMSIZ)
                return die(-EINVAL, "usage: tapns NAME CMD [ARGS...]");
        if (home < 0)
                return die(-errno, "open /proc/self/ns/net");
        memcpy(ifr.ifr_name, argv[0], strlen(argv[0]));
        if (unshare(CLONE_NEWNET) < 0)
                return die(-errno, "unshare(CLONE_NEWNET)");
        tun = open("/dev/net/tun", O_RDWR); /* not O_CLOEXEC: CMD gets it */
        if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0)
                r = -errno;
        if (setns(home, CLONE_NEWNET) < 0)
                return die(-errno, "setns back");
        if (r < 0)
                return die(r, "a tap in the new namespace");
        if (tun != 3 && (dup2(tun, 3) < 0 || close(tun) < 0))
                return die(-errno, "dup2 to fd 3");
        execvp(argv[1], argv + 1);
        return die(-errno, argv[1]);
}

struct watch {
        pid_t child;
        bool exec_seen, exit_seen;
};

static int on_exec(pid_t pid, void *userdata)
{
        struct watch *w = userdata;
        if (pid == w->child) {
                printf("exec %d\n", (int)pid);
                w->exec_seen = true;
        }
        return 0;
}

static int on_exit_ev(pid_t pid, void *userdata)
{
        struct watch *w = userdata;
        if (pid == w->child) {
                printf("exit %d\n", (int)pid);
                w->exit_seen = true;
        }
        return 0;
}

static int cmd_events(int argc, char **argv)
{
        _cleanup_procevents_ struct procevents *p = NULL;
        struct watch w = {0};
        uint64_t secs, deadline;
        int r;

        if (argc < 2 || parse_u64(argv[0], &secs) < 0)
                return die(-EINVAL, "usage: events SECONDS CMD [ARGS...]");
        r = procevents_open(on_exec, on_exit_ev, &w, &p);
        if (r < 0) {
                printf("open %s\n", strerrorname_np(-r) ? strerrorname_np(-r) : "?");
                return 0;
        }
        w.child = fork();
        if (w.child < 0)
                return die(-errno, "fork");
        if (w.child == 0) {
                execvp(argv[1], argv + 1);
                _exit(127);
        }
        deadline = now_ns() + secs * 1000000000ULL;
        while (!w.exit_seen && now_ns() < deadline) {
                struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
                fd_set set;

                FD_ZERO(&set);
                FD_SET(procevents_fd(p), &set);
                if (select(procevents_fd(p) + 1, &set, NULL, NULL, &tv) > 0) {
                        r = procevents_dispatch(p);
                        if (r == -ENOBUFS)
                                printf("lost\n");
                        else if (r < 0)
                                return die(r, "procevents_dispatch");
                }
        }
        (void)waitpid(w.child, NULL, 0);
        fflush(stdout);
        return w.exec_seen && w.exit_seen ? 0 : die(-ETIMEDOUT, "events");
}

static void frame_fill(uint8_t *f, const uint8_t *src_mac)
{
        memset(f, 0, FRAME_LEN);
        memset(f, 0xff, 6); /* broadcast: every receiver counts it */
        memcpy(f + 6, src_mac, 6);
        f[12] = ETHERTYPE_X >> 8;
        f[13] = ETHERTYPE_X & 0xff;
        for (size_t i = 14; i < FRAME_LEN; i++)
                f[i] = (uint8_t)i;
}

/* Send frames with send_one() for secs, at most rate_bps (0: as fast as it goes, backing off on ENOBUFS). */
static int pump(int fd, const struct sockaddr *to, socklen_t tolen, const uint8_t *frame, uint64_t secs,
                uint64_t rate_bps, uint64_t *ret_bytes)
{
        uint64_t start = now_ns(), end = start + secs * 1000000000ULL, sent = 0;
        uint64_t ns_per_frame = rate_bps ? (uint64_t)FRAME_LEN * 8 * 1000000000ULL / rate_bps : 0;
        uint64_t next = start;

        while (now_ns() < end) {
                ssize_t n = sendto(fd, frame, FRAME_LEN, 0, to, tolen);

                if (n < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
                        usleep(200); /* the qdisc is full: that is the point */
                        continue;
                }
                if (n < 0 && errno != EINTR && errno != ECONNREFUSED)
                        return -errno;
                if (n > 0)
                        sent += (uint64_t)n;
                if (ns_per_frame) {
                        next += ns_per_frame;
                        if (next > now_ns() + 1000000) /* sleep in steps of at least a millisecond */
                                sleep_until(next);
                }
        }
        *ret_bytes = sent;
        return 0;
}

static int cmd_flood(int argc, char **argv)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_X)};
        uint8_t frame[FRAME_LEN], mac[6] = {0x02, 0x76, 0x6d, 0, 0, 1};
        uint64_t secs, rate = 0, sent;
        int r;

        if (argc < 2 || parse_u64(argv[1], &secs) < 0 || (argc > 2 && parse_u64(argv[2], &rate) < 0))
                return die(-EINVAL, "usage: flood IF SECONDS [RATE_BPS]");
        sll.sll_ifindex = (int)if_nametoindex(argv[0]);
        if (!sll.sll_ifindex)
                return die(-errno, argv[0]);
        fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only, receive nothing */
        if (fd < 0)
                return die(-errno, "socket(AF_PACKET)");
        if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
                return die(-errno, "bind");
        frame_fill(frame, mac);
        r = pump(fd, (struct sockaddr *)&sll, sizeof(sll), frame, secs, rate, &sent);
        if (r < 0)
                return die(r, "send");
        printf("sent %llu\n", (unsigned long long)sent);
        return 0;
}

static int cmd_udpflood(int argc, char **argv)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        uint8_t frame[FRAME_LEN], mac[6] = {0x02, 0x76, 0x6d, 0, 0, 2};
        uint64_t port, secs, rate, sent;
        int r;

        if (argc < 3 || parse_u64(argv[0], &port) < 0 || port == 0 || port > 65535 || parse_u64(argv[1], &secs) < 0 ||
            parse_u64(argv[2], &rate) < 0 || rate == 0)
                return die(-EINVAL, "usage: udpflood PORT SECONDS RATE_BPS");
        to.sin_port = htons((uint16_t)port);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return die(-errno, "socket(AF_INET)");
        frame_fill(frame, mac);
        r = pump(fd, (struct sockaddr *)&to, sizeof(to), frame, secs, rate, &sent);
        if (r < 0)
                return die(r, "send");
        printf("sent %llu\n", (unsigned long long)sent);
        return 0;
}

static int cmd_measure(int argc, char **argv)
{
        _cleanup_netshape_ struct netshape *ns = NULL;
        struct netshape_state a, b;
        enum netshape_dir dir;
        uint64_t secs, t0, t1;
        int r;

        if (argc < 3 || parse_dir(argv[1], &dir) < 0 || parse_u64(argv[2], &secs) < 0 || secs == 0)
                return die(-EINVAL, "usage: measure TAP DIR SECONDS");
        r = netshape_open(&ns);
        if (r < 0)
                return die(r, "netshape_open");
        r = netshape_read(ns, argv[0], dir, &a);
        t0 = now_ns();
        if (r >= 0) {
                sleep_until(t0 + secs * 1000000000ULL);
                r = netshape_read(ns, argv[0], dir, &b);
        }
        t1 = now_ns();
        if (r < 0)
                return die(r, "netshape_read");
        if (!a.shaped || !b.shaped)
                return die(-ENOENT, "not shaped");
        printf("rate %llu bytes %llu drops %llu\n",
               (unsigned long long)((b.bytes - a.bytes) * 8 * 1000000000ULL / (t1 - t0)),
               (unsigned long long)(b.bytes - a.bytes), (unsigned long long)(b.drops - a.drops));
        return 0;
}

int main(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int, char **);
        } cmds[] = {
                {"shape", cmd_shape},       {"show", cmd_show},       {"gc", cmd_gc},
                {"taps", cmd_taps},         {"events", cmd_events},   {"flood", cmd_flood},
                {"udpflood", cmd_udpflood}, {"measure", cmd_measure}, {"tapns", cmd_tapns},
        };

        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t i = 0; argc > 1 && i < ELEMENTSOF(cmds); i++)
                if (strcmp(argv[1], cmds[i].name) == 0)
                        return cmds[i].fn(argc - 2, argv + 2);
        fprintf(stderr, "usage: vmgov-nettool shape|show|gc|taps|tapns|events|flood|udpflood|measure ...\n");
        return 2;
}
