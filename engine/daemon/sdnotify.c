/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/macro.h"
#include "daemon/sdnotify.h"

int sdnotify_send(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -1;
        size_t len;

        if (!path || !*path)
                return 0;
        len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
                return -EINVAL;
        memcpy(sa.sun_path, path, len);
        if (path[0] == '@') /* an abstract socket */
                sa.sun_path[0] = '\0';

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                   offsetof(struct sockaddr_un, sun_path) + len) < 0)
                return -errno;
        return 1;
}

uint64_t sdnotify_watchdog_interval_usec(void)
{
        const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        char *end;
        unsigned long long v;

        if (!usec)
                return 0;
        if (pid && strtol(pid, NULL, 10) != getpid())
                return 0;
        errno = 0;
        v = strtoull(usec, &end, 10);
        if (errno || *end || v == 0)
                return 0;
        return v / 2;
}
