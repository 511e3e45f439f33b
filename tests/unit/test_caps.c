/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Dropping capabilities: after caps_reduce the process holds what the engine needs and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/caps.h"

static void test_mask(void **state)
{
        assert_int_equal(caps_engine_mask(40), (1ULL << CAP_SYS_PTRACE) | (1ULL << CAP_NET_ADMIN) |
                                                       (1ULL << CAP_SYS_NICE) | (1ULL << CAP_SYS_RESOURCE) |
                                                       (1ULL << 39) | (1ULL << 38));
        /* Before CAP_BPF existed (Linux < 5.8), bpf() wants CAP_SYS_ADMIN. */
        assert_int_equal(caps_engine_mask(37), (1ULL << CAP_SYS_PTRACE) | (1ULL << CAP_NET_ADMIN) |
                                                       (1ULL << CAP_SYS_NICE) | (1ULL << CAP_SYS_RESOURCE) |
                                                       (1ULL << CAP_SYS_ADMIN));
}

static void test_reduce(void **state)
{
        uint64_t eff = 0;
        pid_t pid;
        int status;

        assert_int_equal(caps_effective(&eff), 0);
        if (!(eff & (1ULL << CAP_SETPCAP))) {
                print_message("not privileged: caps_reduce is proven in the root test runs\n");
                skip();
        }
        char path[] = "/tmp/vmgov-caps-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        /* Someone else's private file: only CAP_DAC_OVERRIDE lets root read it. */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(access(path, R_OK), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                unsigned last_cap = caps_last_cap(proc_fd);
                uint64_t keep = caps_engine_mask(last_cap), after = 0;
                if (caps_reduce(keep, last_cap) < 0 || caps_effective(&after) < 0)
                        _exit(2);
                if (after != (keep & eff)) /* what it keeps of what it had (a container may lack CAP_SYS_RESOURCE) */
                        _exit(3);
                /* Gone from the bounding set too: no way back through execve. */
                if (prctl(PR_CAPBSET_READ, CAP_DAC_OVERRIDE, 0, 0, 0) != 0 ||
                    prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) != 1)
                        _exit(4);
                if (open(path, O_RDONLY) >= 0 || errno != EACCES)
                        _exit(5);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mask),
                cmocka_unit_test(test_reduce),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
