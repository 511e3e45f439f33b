/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * A fake QMP server for test_qmp and test_vcpus: a child process that plays a script on one stream socket, either
 * one end of a socketpair or the first connection to a unix socket it listens on (then it is "the QEMU process":
 * SO_PEERCRED names it). Include after <cmocka.h> and testutil.h.
 *
 * A script is a NULL-terminated list of steps, each a string whose first character says what to do:
 *   ">TEXT"  send TEXT (in one write)
 *   "/TEXT"  send TEXT one byte at a time, 1 ms apart (a reply that arrives in pieces)
 *   "<"      read until a newline: the next command (its text is not checked: the replies' ids are)
 *   "~MS"    sleep MS milliseconds
 *   "#N"     send {"return": "AAA...", "id": 2} with N bytes of A (a reply too big to take)
 *   "."      wait until the client closes
 * The child then exits; fake_qmp_wait() reaps it.
 */

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#define QMP_GREETING                                                                                                   \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"Debian "        \
        "1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define QMP_EVENT   "{\"timestamp\": {\"seconds\": 1733350000, \"microseconds\": 12345}, \"event\": \"RESUME\"}\r\n"
#define QMP_CAPS_OK "{\"return\": {}, \"id\": 1}\r\n"

static inline void fake_sleep_ms(long ms)
{
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static inline void fake_send(int fd, const char *s, size_t len)
{
        while (len > 0) {
                ssize_t k = send(fd, s, len, MSG_NOSIGNAL);

                if (k <= 0)
                        _exit(0); /* the client went away: nothing left to play */
                s += k;
                len -= (size_t)k;
        }
}

static inline void fake_play(int fd, const char *const *script)
{
        for (; *script; script++) {
                const char *step = *script;
                char c;

                switch (step[0]) {
                case '>':
                        fake_send(fd, step + 1, strlen(step + 1));
                        break;
                case '/':
                        for (const char *p = step + 1; *p; p++) {
                                fake_send(fd, p, 1);
                                fake_sleep_ms(1);
                        }
                        break;
                case '<':
                        while (read(fd, &c, 1) == 1 && c != '\n')
                                ;
                        break;
                case '~':
                        fake_sleep_ms(atol(step + 1));
                        break;
                case '#': {
                        size_t n = (size_t)atol(step + 1);
                        char *big = malloc(n);

                        if (!big)
                                _exit(1);
                        memset(big, 'A', n);
                        fake_send(fd, "{\"return\": \"", 12);
                        fake_send(fd, big, n);
                        fake_send(fd, "\", \"id\": 2}\r\n", 13);
                        free(big);
                        break;
                }
                case '.':
                        while (read(fd, &c, 1) > 0)
                                ;
                        break;
                }
        }
}

/* A child playing script on one end of a socketpair; returns the other end, the child's pid in *ret_pid. */
static inline int fake_qmp_pair(const char *const *script, pid_t *ret_pid)
{
        int sv[2];
        pid_t pid;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(sv[0]);
                fake_play(sv[1], script);
                _exit(0);
        }
        close(sv[1]);
        *ret_pid = pid;
        return sv[0];
}

/* A child listening on path (its parent directories exist) that plays script on its first connection. Returns
 * once it listens. With script NULL it listens and never accepts (a monitor whose one client is someone else). */
static inline pid_t fake_qmp_listen(const char *path, const char *const *script)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int ready[2];
        pid_t pid;
        char c;

        assert_true(strlen(path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), conn;

                close(ready[0]);
                (void)unlink(path);
                if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
                        _exit(1);
                if (write(ready[1], "r", 1) != 1)
                        _exit(1);
                close(ready[1]);
                if (!script) {
                        fake_sleep_ms(10000);
                        _exit(0);
                }
                conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0)
                        _exit(1);
                fake_play(conn, script);
                _exit(0);
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        return pid;
}

/* Reap the child (killing it first if kill); returns its exit status, or -1 if a signal ended it. */
static inline int fake_qmp_wait(pid_t pid, bool kill_it)
{
        int status;

        if (kill_it)
                (void)kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static inline long fake_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
