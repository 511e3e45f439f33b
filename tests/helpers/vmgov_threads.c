/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmgov-threads — which thread of a QEMU process is which (engine/discover/vcpus.h), for the integration tests
 * (tests/integration/qmp_threads.sh).
 *
 *   vmgov-threads [--no-qmp] [--timeout-ms MS] PID
 *       the map of QEMU process PID under /proc, one line each:
 *           source qmp|thread-names|kvm-fds|unknown
 *           reason TEXT              (why unknown, or what failed first; escaped; absent when empty)
 *           vcpu INDEX TID           (in the order found)
 *           iothread ID TID          (ID escaped)
 *           emulator TID             (every other thread of the process)
 *       --no-qmp skips QMP (the thread names and KVM's fds answer); --timeout-ms is QMP's budget (default 200).
 *   vmgov-threads --hold SOCKET SECONDS
 *       be the client that holds a QMP socket: connect, read the greeting, print "held", keep the connection
 *       SECONDS, then close (QEMU greets one client at a time: the next one waits).
 *   vmgov-threads --execute SOCKET JSON
 *       a QMP command (e.g. device_add of a vCPU, for a hot-plug test): its answer on stdout, exit status 0 when
 *       it returned, 1 on an error.
 *   vmgov-threads --rtt SOCKET N
 *       N query-status round trips on one connection, timed (scripts/bench/topology): "rtt n N p50_ms X p99_ms Y
 *       max_ms Z".
 *
 * Exit status: 0 when the map is known, 4 when it is unknown (the lines are printed all the same), 1 on an error
 * (the process is gone, ...), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "discover/discover.h"
#include "discover/vcpus.h"
#include "kernel/escape.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

static int usage(void)
{
        fprintf(stderr, "usage: vmgov-threads [--no-qmp] [--timeout-ms MS] PID\n"
                        "       vmgov-threads --hold SOCKET SECONDS\n"
                        "       vmgov-threads --execute SOCKET JSON\n"
                        "       vmgov-threads --rtt SOCKET N\n");
        return 2;
}

/* Connect to a QMP socket and read its greeting: the fd, or -1 (said on stderr). */
static int qmp_client(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;
        char greeting[512];
        ssize_t k;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "vmgov-threads: %s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        k = read(fd, greeting, sizeof(greeting));
        if (k <= 0 || greeting[0] != '{') {
                fprintf(stderr, "vmgov-threads: %s: no greeting\n", path);
                close(fd);
                return -1;
        }
        return fd;
}

static int hold(const char *path, const char *seconds)
{
        _cleanup_close_ int fd = qmp_client(path);

        if (fd < 0)
                return 1;
        printf("held\n");
        fflush(stdout);
        sleep((unsigned)atoi(seconds));
        return 0;
}

/* Send one command and wait up to 10 s for its answer: the first line that is no event. */
static int command(int fd, const char *json, char *reply, size_t size)
{
        size_t len = 0;

        if (write(fd, json, strlen(json)) != (ssize_t)strlen(json) || write(fd, "\n", 1) != 1)
                return -errno;
        for (;;) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                char *nl;
                ssize_t k;

                while ((nl = memchr(reply, '\n', len))) {
                        size_t line = (size_t)(nl - reply) + 1;
                        if (!strstr(reply, "\"event\"") || strstr(reply, "\"event\"") > nl) {
                                *nl = '\0';
                                return 0;
                        }
                        memmove(reply, reply + line, len - line);
                        len -= line;
                }
                if (len + 1 >= size || poll(&pfd, 1, 10000) <= 0)
                        return -ETIMEDOUT;
                k = read(fd, reply + len, size - 1 - len);
                if (k <= 0)
                        return -EPIPE;
                len += (size_t)k;
                reply[len] = '\0';
        }
}

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* vmgov-threads --rtt SOCKET N: N query-status round trips on one connection, each timed: how quickly QEMU's main
 * loop (the emulator thread) answers. Prints "rtt n N p50_ms X p99_ms Y max_ms Z". */
static int rtt(const char *path, const char *count)
{
        _cleanup_close_ int fd = qmp_client(path);
        _cleanup_free_ uint64_t *t = NULL;
        int n = atoi(count), r;
        char reply[4096];

        if (fd < 0 || n <= 0 || n > 100000)
                return 1;
        t = calloc((size_t)n, sizeof(*t));
        if (!t)
                return 1;
        r = command(fd, "{\"execute\":\"qmp_capabilities\"}", reply, sizeof(reply));
        for (int i = 0; i < n && r == 0; i++) {
                uint64_t t0 = now_usec();
                r = command(fd, "{\"execute\":\"query-status\"}", reply, sizeof(reply));
                t[i] = now_usec() - t0;
        }
        if (r < 0) {
                fprintf(stderr, "vmgov-threads: %s: %s\n", path, strerror(-r));
                return 1;
        }
        qsort(t, (size_t)n, sizeof(*t), cmp_u64);
        printf("rtt n %d p50_ms %.2f p99_ms %.2f max_ms %.2f\n", n, t[n / 2] / 1000.0,
               t[(size_t)((n - 1) * 0.99)] / 1000.0, t[n - 1] / 1000.0);
        return 0;
}

/* vmgov-threads --execute SOCKET JSON: a QMP command, its answer on stdout; 0 if it returned, 1 on an error. */
static int execute(const char *path, const char *json)
{
        _cleanup_close_ int fd = qmp_client(path);
        char reply[65536];
        int r;

        if (fd < 0)
                return 1;
        r = command(fd, "{\"execute\":\"qmp_capabilities\"}", reply, sizeof(reply));
        if (r == 0)
                r = command(fd, json, reply, sizeof(reply));
        if (r < 0) {
                fprintf(stderr, "vmgov-threads: %s: %s\n", path, strerror(-r));
                return 1;
        }
        printf("%s\n", reply);
        return strstr(reply, "\"return\"") ? 0 : 1;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"no-qmp", no_argument, NULL, 'n'},
                {"timeout-ms", required_argument, NULL, 't'},
                {},
        };
        char text[ESCAPE_TEXT_SIZE(VCPUS_REASON_MAX)];
        _cleanup_close_ int proc_fd = -1;
        _cleanup_free_ pid_t *tids = NULL;
        struct vcpus_map m;
        int timeout_ms = QMP_TIMEOUT_MS, c, r;
        size_t n_tids = 0;
        pid_t pid;

        if (argc == 4 && strcmp(argv[1], "--hold") == 0)
                return hold(argv[2], argv[3]);
        if (argc == 4 && strcmp(argv[1], "--execute") == 0)
                return execute(argv[2], argv[3]);
        if (argc == 4 && strcmp(argv[1], "--rtt") == 0)
                return rtt(argv[2], argv[3]);
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c == 'n')
                        timeout_ms = 0;
                else if (c == 't')
                        timeout_ms = atoi(optarg);
                else
                        return usage();
        }
        if (optind + 1 != argc || procfs_pid_parse(argv[optind], &pid) < 0)
                return usage();

        proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0) {
                fprintf(stderr, "vmgov-threads: /proc: %s\n", strerror(errno));
                return 1;
        }
        r = vcpus_map_read(proc_fd, pid, timeout_ms, &m);
        if (r >= 0)
                r = discover_threads_list(proc_fd, pid, &tids, &n_tids);
        if (r < 0) {
                fprintf(stderr, "vmgov-threads: pid %d: %s\n", (int)pid, strerror(-r));
                return 1;
        }

        printf("source %s\n", vcpus_source_to_string(m.source));
        if (m.reason[0]) {
                /* the reason is escaped already; a second pass keeps it one line whatever it holds */
                (void)escape_text(m.reason, text, sizeof(text));
                printf("reason %s\n", text);
        }
        for (size_t i = 0; i < m.threads.n_vcpus; i++)
                printf("vcpu %d %d\n", m.threads.vcpus[i].index, (int)m.threads.vcpus[i].tid);
        for (size_t i = 0; i < m.threads.n_iothreads; i++) {
                (void)escape_text(m.threads.iothreads[i].id, text, sizeof(text));
                printf("iothread %s %d\n", text, (int)m.threads.iothreads[i].tid);
        }
        for (size_t i = 0; i < n_tids; i++)
                if (vcpus_thread_role(&m, tids[i], NULL) == VCPUS_ROLE_EMULATOR)
                        printf("emulator %d\n", (int)tids[i]);
        r = m.source == VCPUS_UNKNOWN ? 4 : 0;
        vcpus_map_done(&m);
        return r;
}
