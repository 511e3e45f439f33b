/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon: one epoll loop over a timerfd (the tick), a signalfd (SIGTERM/SIGINT: stop, SIGHUP: reload), the
 * proc connector's socket (a QEMU's exec or exit) and systemd's watchdog. What each event does is the engine's
 * (engine.c, tick.c); this file only waits for them and tells systemd where it stands.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/sdnotify.h"
#include "discover/procevents.h"
#include "kernel/fileio.h"
#include "kernel/log.h"
#include "kernel/macro.h"

/* Every usec, the first in first_usec. */
static int timerfd_arm_first(int fd, uint64_t first_usec, uint64_t usec)
{
        struct itimerspec its = {
                .it_interval = {.tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000},
                .it_value = {.tv_sec = first_usec / 1000000, .tv_nsec = (first_usec % 1000000) * 1000},
        };
        return timerfd_settime(fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static int timerfd_arm(int fd, uint64_t usec)
{
        return timerfd_arm_first(fd, usec, usec);
}

int engine_run(struct engine *e)
{
        _cleanup_close_ int tfd = -1, sfd = -1, efd = -1, wfd = -1;
        int pfd = -2; /* the proc connector's socket, owned by e->procevents */
        struct epoll_event ev = {.events = EPOLLIN};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_err_errno(-errno, "sigprocmask: %m");

        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        efd = epoll_create1(EPOLL_CLOEXEC);
        if (sfd < 0 || tfd < 0 || efd < 0)
                return log_err_errno(-errno, "cannot set up the event loop: %m");
        r = timerfd_arm(tfd, e->interval_usec);
        if (r < 0)
                return log_err_errno(r, "timerfd: %m");
        ev.data.fd = sfd;
        if (epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev) < 0)
                return log_err_errno(-errno, "epoll: %m");
        ev.data.fd = tfd;
        if (epoll_ctl(efd, EPOLL_CTL_ADD, tfd, &ev) < 0)
                return log_err_errno(-errno, "epoll: %m");

        uint64_t watchdog = sdnotify_watchdog_interval_usec();
        if (watchdog) {
                wfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
                if (wfd < 0 || timerfd_arm(wfd, watchdog) < 0)
                        return log_err_errno(-errno, "watchdog timer: %m");
                ev.data.fd = wfd;
                if (epoll_ctl(efd, EPOLL_CTL_ADD, wfd, &ev) < 0)
                        return log_err_errno(-errno, "epoll: %m");
        }

        /* Exec and exit events, so a new QEMU is limited within milliseconds; opened before the first scan,
         * which catches whatever started before. */
        if (!e->opt.no_proc_events) {
                r = procevents_open(engine_on_exec, engine_on_exit, e, &e->procevents);
                if (r < 0)
                        log_warn_errno(r, "no process events (proc connector): %m; scanning every %llums instead",
                                       (unsigned long long)(e->interval_usec / 1000));
                else {
                        procevents_set_handlers(e->procevents, engine_on_fork, engine_on_uid);
                        procevents_set_thread_handler(e->procevents, engine_on_thread);
                        e->events = true;
                        pfd = procevents_fd(e->procevents);
                        ev.data.fd = pfd;
                        if (epoll_ctl(efd, EPOLL_CTL_ADD, pfd, &ev) < 0)
                                return log_err_errno(-errno, "epoll: %m");
                }
        }

        if (!e->opt.no_pressure_triggers)
                e->epoll_fd = efd; /* PSI triggers join it as VMs are sensed (sense/stage.c) */
        e->snapshot_on = true;
        if (e->opt.status_path == NULL || strcmp(e->opt.status_path, "none") != 0)
                (void)mkdir_parent(e->opt.status_path ? e->opt.status_path : SNAPSHOT_DEFAULT, 0700);
        r = engine_tick(e);
        if (r < 0)
                return r;
        (void)sdnotify_send("READY=1");

        for (;;) {
                struct epoll_event events[16];
                int n = epoll_wait(efd, events, ELEMENTSOF(events), -1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_err_errno(-errno, "epoll_wait: %m");
                for (int i = 0; i < n; i++) {
                        if (events[i].data.fd == pfd) {
                                r = procevents_dispatch(e->procevents);
                                if (r == -ENOBUFS) { /* events were lost: look at everything */
                                        log_debug("process events were lost: rescanning");
                                        e->rescan = true;
                                }
                                if (e->rescan)
                                        r = engine_tick(e);
                                if (r == -ENOMEM)
                                        return r;
                        } else if (events[i].data.fd == wfd) {
                                uint64_t expirations;
                                (void)read(wfd, &expirations, sizeof(expirations));
                                (void)sdnotify_send("WATCHDOG=1");
                        } else if (events[i].data.fd == tfd) {
                                uint64_t expirations;
                                if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                                        return log_err_errno(-errno, "timerfd: %m");
                                /* The QEMUs that exec'd meanwhile first: a tick over many VMs takes a while, and a
                                 * new VM should not wait for it to be limited. */
                                if (e->procevents && procevents_dispatch(e->procevents) == -ENOBUFS)
                                        e->rescan = true;
                                r = engine_tick(e);
                                if (r < 0)
                                        return r;
                        } else if (events[i].data.fd != sfd) {
                                r = engine_on_pressure(e, events[i].data.fd);
                                if (r < 0)
                                        return r;
                                if (r > 0) /* too soon after the last: the next tick a little later */
                                        (void)timerfd_arm_first(tfd, ENGINE_TRIGGER_GAP_USEC, e->interval_usec);
                        } else {
                                struct signalfd_siginfo si;
                                if (read(sfd, &si, sizeof(si)) != sizeof(si))
                                        continue;
                                if (si.ssi_signo == SIGHUP) {
                                        uint64_t old_interval = e->interval_usec;
                                        (void)sdnotify_send("RELOADING=1");
                                        if (engine_reload(e) == 0 && e->interval_usec != old_interval)
                                                (void)timerfd_arm(tfd, e->interval_usec);
                                        (void)sdnotify_send("READY=1");
                                        continue;
                                }
                                (void)sdnotify_send("STOPPING=1");
                                log_info("signal %s: restoring the originals and stopping",
                                         si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                                return 0;
                        }
                }
        }
}
