/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "discover/qmp.h"

/*
 * Which thread of a QEMU process is which: vCPU index -> tid, IO thread id -> tid, every other thread the
 * emulator's. Asked in turn, the first that answers wins:
 *   1. QMP (qmp.h): query-cpus-fast and query-iothreads on the process's own QMP socket;
 *   2. thread names, when QEMU runs with -name NAME,debug-threads=on: "CPU n/KVM", "CPU n/TCG", "IO ID";
 *   3. under KVM only: a thread blocked in ioctl(KVM_RUN) on a fd that is "anon_inode:kvm-vcpu:N".
 * Otherwise the map is unknown, with a reason for the status. Every tid in a map is one of the process's threads
 * (/proc/PID/task) when it was made: an answer naming another thread is refused. Reads go through a /proc
 * directory fd, so a fixture tree stands in for /proc in tests.
 */

#define VCPUS_REASON_MAX 768

enum vcpus_source {
        VCPUS_UNKNOWN,
        VCPUS_QMP,   /* index = QEMU's cpu-index */
        VCPUS_NAMES, /* index = the n of "CPU n/...", QEMU's cpu-index; IO thread ids cut at 12 bytes (comm is 15) */
        VCPUS_KVM,   /* index = KVM's vcpu id: on x86 the APIC id, the cpu-index for a flat -smp N; no IO threads */
};

struct vcpus_map {
        enum vcpus_source source;
        struct qmp_threads threads; /* vcpus and iothreads (threads.socket: the QMP socket tried, if any) */
        /* Unknown: why, and what would help. Known: what was tried first and failed ("" when QMP answered).
         * Holds command line text escaped (escape_text): printable as it is. */
        char reason[VCPUS_REASON_MAX];
};

enum vcpus_role {
        VCPUS_ROLE_EMULATOR, /* the main loop, RCU, workers, vhost, ...: everything not below */
        VCPUS_ROLE_VCPU,
        VCPUS_ROLE_IOTHREAD,
};

void vcpus_map_done(struct vcpus_map *m);
const char *vcpus_source_to_string(enum vcpus_source s);

/* The role of thread tid in m; with ret_index (may be NULL) the position in m->threads.vcpus or .iothreads. */
enum vcpus_role vcpus_thread_role(const struct vcpus_map *m, pid_t tid, size_t *ret_index);

/* The threaded children a map gives a VM's cgroup, n_vcpus + n_iothreads + 1 of them: child i's name ("vcpuN" by
 * cpu-index, "iothreadK", and last "emulator") into name, and the thread it holds (0 for the emulator's many). */
size_t vcpus_map_children(const struct vcpus_map *m);
pid_t vcpus_map_child(const struct vcpus_map *m, size_t i, char *name, size_t size);

/* ---- Pure parsers ---- */

enum vcpus_comm_kind {
        VCPUS_COMM_OTHER,
        VCPUS_COMM_VCPU,     /* "CPU n/KVM" or "CPU n/TCG" (multi-threaded TCG) */
        VCPUS_COMM_IOTHREAD, /* "IO ID": the -object iothread's id, cut by the kernel at 15 bytes of comm */
};

struct vcpus_comm {
        enum vcpus_comm_kind kind;
        int index;               /* VCPUS_COMM_VCPU */
        char id[QMP_ID_MAX + 1]; /* VCPUS_COMM_IOTHREAD */
        bool id_truncated;       /* the comm was 15 bytes: the id may have gone on */
};

/* A /proc/PID/task/TID/comm (its trailing newline optional). Anything that is not exactly one of the two shapes is
 * VCPUS_COMM_OTHER, and so are "ALL CPUs/TCG" (single-threaded TCG's one thread for all vCPUs) and
 * "IO mon_iothread" (the monitor's, which query-iothreads does not list either). Always 0. */
int vcpus_comm_parse(const char *buf, size_t len, struct vcpus_comm *ret);

/* A /proc/PID/task/TID/syscall line, "NR ARG0 ARG1 ... SP PC": 1 with the syscall number and first argument, 0
 * when the thread is not in a syscall ("running", or NR -1), -EINVAL when malformed. */
int vcpus_syscall_parse(const char *buf, size_t len, long *ret_nr, unsigned long long *ret_arg0);

/* The target of a /proc/PID/fd/N link: 0 with the id for "anon_inode:kvm-vcpu:ID", -EINVAL for anything else. */
int vcpus_fd_link_parse(const char *target, int *ret_id);

/* ---- The chain ---- */

/* Make m for process pid under proc_fd, asking QMP within qmp_timeout_ms (QMP_TIMEOUT_MS; 0 skips QMP). Returns 0
 * whether the map is known (m->source) or not (m->reason says why), -ESRCH/-ENOENT when the process is gone,
 * -ENOMEM. m must be let go with vcpus_map_done(). */
int vcpus_map_read(int proc_fd, pid_t pid, int qmp_timeout_ms, struct vcpus_map *m);
