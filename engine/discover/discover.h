/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kernel/vm.h"

/*
 * Finding QEMU processes under a /proc directory fd (or a fixture tree) and telling who they are.
 * Which processes count as QEMU is the caller's call, made through a predicate on each process with an executable:
 * its basename (the policy's QemuExecutables=), and its /proc/PID fd for whatever else the caller checks (the
 * discover stage: that the executable is root's, exetrust.h).
 * A process that exits while it is being read is skipped (logged at debug); -ENOMEM is never swallowed.
 */

/* A process with an executable, as the predicate sees it. */
struct discover_candidate {
        pid_t pid;
        int pid_fd;       /* its /proc/PID directory: reads through it describe this process or fail */
        const char *exe;  /* basename of the executable, " (deleted)" cut */
        const char *link; /* its exe link's whole target, as the kernel gave it */
};

typedef bool (*discover_is_qemu_t)(const struct discover_candidate *c, void *userdata);

/* Read one process's identity. Returns 1 with ret filled for a VM, 0 for a process whose exe does not satisfy
 * is_qemu, or -errno: -ENOENT/-ESRCH it is gone, -EACCES its exe cannot be read (kernel threads: -ENOENT),
 * -EINVAL its command line is one QEMU refuses to start with (a malformed -uuid). Logs what it returns, at debug
 * level for the errors a scan meets every time (vanished, unreadable exe). On 1, *ret holds its cgroup path:
 * vm_identity_done(). */
int discover_vm_identify(int proc_fd, pid_t pid, discover_is_qemu_t is_qemu, void *userdata, struct vm_identity *ret);
/* The same, and on 1 the /proc/PID fd it was read through into *ret_pid_fd, to hold (as discover_vm_hold's): it is
 * the process identified, whose start time was read through it. */
int discover_vm_identify_held(int proc_fd, pid_t pid, discover_is_qemu_t is_qemu, void *userdata,
                              struct vm_identity *ret, int *ret_pid_fd);

/* Scan every /proc/PID once. Returns 0 with a malloc'd array (NULL when empty) and its length: free it with
 * vm_identities_free(). */
int discover_vms_scan(int proc_fd, discover_is_qemu_t is_qemu, void *userdata, struct vm_identity **ret_vms,
                      size_t *ret_n);

/* Is vm->pid still the same process (same start time)? 1 yes; 0 if it exited or the pid now belongs to another
 * process; -errno if that cannot be told (e.g. -ENOMEM). */
int discover_vm_verify(int proc_fd, const struct vm_identity *vm);

/* The same through pid_fd, a /proc/PID directory held since discovery (discover_vm_hold), or -1 to open one now.
 * A held one pins the process, not its number: once it has exited, it says so even if the pid was reused; while it
 * has not been reaped, it answers without reading /proc (a zombie passes). */
int discover_vm_verify_held(int proc_fd, int pid_fd, const struct vm_identity *vm);

/* Open and return vm's /proc/PID directory, checked to be the process identified (pid + start time): the handle that
 * discover_vm_verify_held() asks at every act (the kernel takes it for a pidfd, pidfd_send_signal(2)). -ESRCH when the
 * pid now belongs to another process or exited, -errno (e.g. -EMFILE) when it cannot be opened. */
int discover_vm_hold(int proc_fd, const struct vm_identity *vm);

/* The thread ids of a process, from /proc/PID/task, in ascending order. -ENOENT/-ESRCH if it is gone. */
int discover_threads_list(int proc_fd, pid_t pid, pid_t **ret_tids, size_t *ret_n);
