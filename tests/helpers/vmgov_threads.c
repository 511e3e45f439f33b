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
 *
 * Exit status: 0 when the map is known, 4 when it is unknown (the lines are printed all the same), 1 on an error
 * (the process is gone, ...), 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "discover/discover.h"
#include "discover/vcpus.h"
#include "kernel/escape.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

static int usage(void)
{
        fprintf(stderr, "usage: vmgov-threads [--no-qmp] [--timeout-ms MS] PID\n"
                        "       vmgov-threads --hold SOCKET SECONDS\n");
        return 2;
}

static int hold(const char *path, const char *seconds)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;
        char greeting[256];
        ssize_t k;

        if (strlen(path) >= sizeof(sa.sun_path))
                return usage();
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "vmgov-threads: %s: %s\n", path, strerror(errno));
                return 1;
        }
        k = read(fd, greeting, sizeof(greeting));
        if (k <= 0 || greeting[0] != '{') {
                fprintf(stderr, "vmgov-threads: %s: no greeting\n", path);
                return 1;
        }
        printf("held\n");
        fflush(stdout);
        sleep((unsigned)atoi(seconds));
        return 0;
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
