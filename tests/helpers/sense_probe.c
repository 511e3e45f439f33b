/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sense-probe — the sensing library on a real kernel, for the integration tests (tests/integration/sense_*.sh).
 *
 *   sense-probe [--ticks N] [--interval-ms MS] [--swap] CGROUP_DIR
 *       open a sensor on CGROUP_DIR, tick N times (default 2) MS apart (default 1000) and print each tick's signals
 *       as key=value lines (the recorder's key names: cpu_some_ppm, cpu_usage_usec, memory_events_high, ...),
 *       each tick starting with "tick=K", then "missing=MASK" (SENSE_FILE_BIT()s of the files not read).
 *   sense-probe --host [--ticks N] [--interval-ms MS] PROC_DIR
 *       the same for /proc/pressure.
 *   sense-probe --trigger STALL_US WINDOW_US --wait SECS CGROUP_DIR
 *       arm "some STALL_US WINDOW_US" on CGROUP_DIR/cpu.pressure and wait up to SECS for EPOLLPRI; prints
 *       "trigger_stall_usec=", "trigger_window_usec=" (what was armed) and "trigger_fired=0|1".
 *
 * Exit status: 0; 3 when the cgroup vanished (the sensor's -ENODEV: "vanished=1" is printed); 1 on any other
 * error; 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "kernel/clock.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/psi.h"
#include "publish/recorder.h"
#include "sense/sense.h"
#include "kernel/vm.h"

/* A recorder line, one key=value per line (values are percent-encoded: no blanks inside). */
static void print_fields(const char *line, const char *skip_prefix)
{
        const char *p = line;

        if (skip_prefix && strncmp(p, skip_prefix, strlen(skip_prefix)) == 0)
                p += strlen(skip_prefix);
        for (; *p; p++)
                putchar(*p == ' ' ? '\n' : *p);
        fflush(stdout);
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int run_vm(int dir, const char *path, unsigned ticks, unsigned interval_ms, bool swap)
{
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        static struct vm_identity id; /* large: not on the stack */
        static char line[RECORDER_LINE_MAX];
        struct vm_signals sig = {};
        int r;

        r = sense_vm_open(dir, &(struct sense_options){.name = path, .swap = swap}, &s);
        if (r < 0) {
                fprintf(stderr, "sense-probe: cannot open a sensor on %s: %s\n", path, strerror(-r));
                return errno_is_vanished(r) ? 3 : 1;
        }
        id.cgroup = (char *)path;
        for (unsigned k = 0; k < ticks; k++) {
                if (k > 0)
                        sleep_ms(interval_ms);
                r = sense_vm_tick(s, SENSE_NOW, &sig);
                if (r == -ENODEV) {
                        printf("tick=%u\nvanished=1\n", k);
                        return 3;
                }
                if (r < 0) {
                        fprintf(stderr, "sense-probe: tick: %s\n", strerror(-r));
                        return 1;
                }
                r = recorder_format_vm(&id, &sig, line, sizeof(line));
                if (r < 0)
                        return 1;
                printf("tick=%u\n", k);
                print_fields(line, "vm ");
                printf("missing=%u\n", sense_vm_missing(s));
                fflush(stdout);
        }
        return 0;
}

static int run_host(int dir, const char *path, unsigned ticks, unsigned interval_ms)
{
        _cleanup_(sense_host_freep) struct sense_host *h = NULL;
        static char line[RECORDER_LINE_MAX];
        struct host_signals sig = {};
        int r;

        r = sense_host_open(dir, &(struct sense_options){.name = path}, &h);
        if (r < 0)
                return 1;
        for (unsigned k = 0; k < ticks; k++) {
                uint64_t now;
                if (k > 0)
                        sleep_ms(interval_ms);
                now = monotonic_usec();
                r = sense_host_tick(h, now, &sig);
                if (r < 0)
                        return 1;
                r = recorder_format_tick(now, &sig, line, sizeof(line));
                if (r < 0)
                        return 1;
                printf("tick=%u\n", k);
                print_fields(line, "tick ");
        }
        return 0;
}

static int run_trigger(int dir, uint64_t stall, uint64_t window, unsigned wait_s)
{
        _cleanup_close_ int fd = -1, ep = -1;
        struct epoll_event ev = {.events = EPOLLPRI};
        uint64_t armed_stall = 0, armed_window = 0;
        int n;

        fd = psi_trigger_open(dir, "cpu.pressure", PSI_SOME, stall, window, &armed_stall, &armed_window);
        if (fd < 0) {
                fprintf(stderr, "sense-probe: cannot arm the trigger: %s\n", strerror(-fd));
                return 1;
        }
        printf("trigger_stall_usec=%llu\ntrigger_window_usec=%llu\n", (unsigned long long)armed_stall,
               (unsigned long long)armed_window);
        fflush(stdout);
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
                return 1;
        n = epoll_wait(ep, &ev, 1, (int)(wait_s * 1000));
        printf("trigger_fired=%d\n", n > 0 && (ev.events & EPOLLPRI) ? 1 : 0);
        if (n > 0 && (ev.events & EPOLLERR))
                printf("trigger_error=1\n");
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"ticks", required_argument, NULL, 'n'},
                {"interval-ms", required_argument, NULL, 'i'},
                {"swap", no_argument, NULL, 's'},
                {"host", no_argument, NULL, 'H'},
                {"trigger", required_argument, NULL, 't'},
                {"wait", required_argument, NULL, 'w'},
                {},
        };
        unsigned ticks = 2, interval_ms = 1000, wait_s = 10;
        uint64_t stall = 0, window = 0;
        bool swap = false, host = false, trigger = false;
        _cleanup_close_ int dir = -1;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        ticks = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 'i':
                        interval_ms = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        swap = true;
                        break;
                case 'H':
                        host = true;
                        break;
                case 't':
                        /* --trigger STALL_US WINDOW_US: the window is the next argument */
                        if (optind >= argc)
                                return 2;
                        stall = strtoull(optarg, NULL, 10);
                        window = strtoull(argv[optind++], NULL, 10);
                        trigger = true;
                        break;
                case 'w':
                        wait_s = (unsigned)strtoul(optarg, NULL, 10);
                        break;
                default:
                        return 2;
                }
        }
        if (optind != argc - 1 || ticks == 0) {
                fprintf(stderr, "usage: sense-probe [--host] [--ticks N] [--interval-ms MS] [--swap] "
                                "[--trigger STALL_US WINDOW_US --wait SECS] DIR\n");
                return 2;
        }
        log_set_max_level(LOG_INFO);
        dir = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) {
                fprintf(stderr, "sense-probe: %s: %s\n", argv[optind], strerror(errno));
                return errno == ENOENT ? 3 : 1;
        }
        if (trigger)
                return run_trigger(dir, stall, window, wait_s);
        if (host)
                return run_host(dir, argv[optind], ticks, interval_ms);
        return run_vm(dir, argv[optind], ticks, interval_ms, swap);
}
