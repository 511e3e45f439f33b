/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The systemd notification protocol: what a service manager listening on $NOTIFY_SOCKET receives. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/sdnotify.h"

static void test_send(void **state)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char buf[64];
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ssize_t n;

        snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vmgov-notify-%d", (int)getpid());
        unlink(sa.sun_path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(sdnotify_send("READY=1"), 0); /* not under systemd: nothing, no error */

        setenv("NOTIFY_SOCKET", sa.sun_path, 1);
        assert_int_equal(sdnotify_send("READY=1"), 1);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_int_equal(n, 7);
        buf[n] = '\0';
        assert_string_equal(buf, "READY=1");

        setenv("NOTIFY_SOCKET", "relative/path", 1);
        assert_int_equal(sdnotify_send("READY=1"), -EINVAL);
        unsetenv("NOTIFY_SOCKET");
        close(fd);
        unlink(sa.sun_path);
}

static void test_watchdog_interval(void **state)
{
        char pid[16];

        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        assert_int_equal(sdnotify_watchdog_interval_usec(), 0);
        setenv("WATCHDOG_USEC", "20000000", 1);
        assert_int_equal(sdnotify_watchdog_interval_usec(), 10000000);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("WATCHDOG_PID", pid, 1);
        assert_int_equal(sdnotify_watchdog_interval_usec(), 10000000);
        setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
        assert_int_equal(sdnotify_watchdog_interval_usec(), 0);
        setenv("WATCHDOG_PID", pid, 1);
        setenv("WATCHDOG_USEC", "soon", 1);
        assert_int_equal(sdnotify_watchdog_interval_usec(), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_send),
                cmocka_unit_test(test_watchdog_interval),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
