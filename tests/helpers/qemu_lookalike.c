/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-lookalike: a process that looks like QEMU to anyone who reads /proc (installed or copied as
 * qemu-system-x86_64, run with QEMU's options) and does nothing: the look-alikes of tests/integration/trust_*.sh
 * and the thousand VMs of scale_1000.sh. Of QEMU's options it honours -daemonize (the parent returns once the child
 * runs) and -pidfile FILE (the idling process's pid); every other argument is only there to be read.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        const char *pidfile = NULL;
        int daemonize = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-daemonize") == 0)
                        daemonize = 1;
                else if (strcmp(argv[i], "-pidfile") == 0 && i + 1 < argc)
                        pidfile = argv[++i];
        }
        if (daemonize) {
                pid_t pid = fork();
                if (pid < 0)
                        return 1;
                if (pid > 0) { /* as QEMU: the caller goes on once the pid file is there */
                        for (int i = 0; i < 500 && pidfile && access(pidfile, F_OK) != 0; i++)
                                usleep(10000);
                        return 0;
                }
                setsid();
                int fd = open("/dev/null", O_RDWR);
                if (fd >= 0) {
                        dup2(fd, 0);
                        dup2(fd, 1);
                        dup2(fd, 2);
                        if (fd > 2)
                                close(fd);
                }
        }
        if (pidfile) {
                char tmp[4096];
                FILE *f;
                snprintf(tmp, sizeof(tmp), "%s.tmp", pidfile);
                f = fopen(tmp, "we");
                if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, pidfile) != 0)
                        return 1;
        }
        for (;;)
                pause();
}
