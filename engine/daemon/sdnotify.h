/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The systemd notification protocol (sd_notify(3)), which is a datagram on the AF_UNIX socket named by
 * $NOTIFY_SOCKET: small enough to speak without linking libsystemd. Without $NOTIFY_SOCKET it does nothing.
 */

/* Send state (e.g. "READY=1", "WATCHDOG=1", "STOPPING=1"). Returns 1 if sent, 0 if not under systemd, -errno. */
int sdnotify_send(const char *state);

/* How often to send WATCHDOG=1: half of $WATCHDOG_USEC when $WATCHDOG_PID is unset or ours; 0 when disabled. */
uint64_t sdnotify_watchdog_interval_usec(void);
