/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "discover/discover.h"
#include "discover/vcpus.h"
#include "kernel/escape.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"
#include "kernel/threadcg.h"

#define HINT "start QEMU with -name NAME,debug-threads=on, or give it a -qmp unix:PATH,server=on,wait=off socket"

void vcpus_map_done(struct vcpus_map *m)
{
        qmp_threads_done(&m->threads);
}

const char *vcpus_source_to_string(enum vcpus_source s)
{
        switch (s) {
        case VCPUS_QMP:
                return "qmp";
        case VCPUS_NAMES:
                return "thread-names";
        case VCPUS_KVM:
                return "kvm-fds";
        default:
                return "unknown";
        }
}

enum vcpus_role vcpus_thread_role(const struct vcpus_map *m, pid_t tid, size_t *ret_index)
{
        for (size_t i = 0; i < m->threads.n_vcpus; i++)
                if (m->threads.vcpus[i].tid == tid) {
                        if (ret_index)
                                *ret_index = i;
                        return VCPUS_ROLE_VCPU;
                }
        for (size_t i = 0; i < m->threads.n_iothreads; i++)
                if (m->threads.iothreads[i].tid == tid) {
                        if (ret_index)
                                *ret_index = i;
                        return VCPUS_ROLE_IOTHREAD;
                }
        return VCPUS_ROLE_EMULATOR;
}

/* ---- Pure parsers ---- */

/* Decimal digits only, no sign, no leading zero (QEMU prints %d), at most INT_MAX. */
static int index_parse(const char *p, size_t len, int *ret)
{
        long long v = 0;

        if (len == 0 || (len > 1 && p[0] == '0'))
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                v = v * 10 + (p[i] - '0');
                if (v > INT_MAX)
                        return -ERANGE;
        }
        *ret = (int)v;
        return 0;
}

int vcpus_comm_parse(const char *buf, size_t len, struct vcpus_comm *ret)
{
        char s[PROCFS_COMM_MAX + 1];
        const char *slash;

        *ret = (struct vcpus_comm){.kind = VCPUS_COMM_OTHER};
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len > PROCFS_COMM_MAX)
                return 0;
        memcpy(s, buf, len);
        s[len] = '\0';
        if (strlen(s) != len) /* a NUL inside: no name QEMU gave */
                return 0;

        if (strncmp(s, "CPU ", 4) == 0 && (slash = strchr(s + 4, '/')) &&
            (strcmp(slash, "/KVM") == 0 || strcmp(slash, "/TCG") == 0) &&
            index_parse(s + 4, (size_t)(slash - s - 4), &ret->index) == 0) {
                ret->kind = VCPUS_COMM_VCPU;
                return 0;
        }
        /* "IO mon_iothread" is QEMU's own, for the monitor's out-of-band commands: query-iothreads leaves it out */
        if (strncmp(s, "IO ", 3) == 0 && len > 3 && len - 3 <= QMP_ID_MAX && strcmp(s, "IO mon_iothread") != 0) {
                ret->kind = VCPUS_COMM_IOTHREAD;
                strcpy(ret->id, s + 3);
                /* TASK_COMM_LEN is 16: a 15-byte comm may be the cut start of a longer name */
                ret->id_truncated = len >= 15;
        }
        return 0;
}

/* One hex number "0x..." of [p, end) up to a space or the end; advances *p. */
static int hex_parse(const char **p, const char *end, unsigned long long *ret)
{
        const char *s = *p;
        unsigned long long v = 0;
        size_t digits = 0;

        if (end - s < 3 || s[0] != '0' || s[1] != 'x')
                return -EINVAL;
        for (s += 2; s < end && *s != ' ' && *s != '\n'; s++, digits++) {
                int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;

                if (d < 0 || digits >= 16)
                        return -EINVAL;
                v = v * 16 + (unsigned)d;
        }
        if (digits == 0)
                return -EINVAL;
        *p = s;
        *ret = v;
        return 0;
}

int vcpus_syscall_parse(const char *buf, size_t len, long *ret_nr, unsigned long long *ret_arg0)
{
        const char *p = buf, *end = buf + len, *num;
        long nr = 0;
        bool negative = false;

        if (len > 0 && buf[len - 1] == '\n')
                end--;
        if ((size_t)(end - p) == 7 && memcmp(p, "running", 7) == 0)
                return 0;
        if (p < end && *p == '-') {
                negative = true;
                p++;
        }
        for (num = p; p < end && *p >= '0' && *p <= '9'; p++) {
                if (p - num >= 9)
                        return -EINVAL;
                nr = nr * 10 + (*p - '0');
        }
        if (p == num || p >= end || *p != ' ')
                return -EINVAL;
        if (negative) {
                /* "-1 SP PC": blocked, but not in a syscall */
                return nr == 1 ? 0 : -EINVAL;
        }
        p++;
        if (hex_parse(&p, end, ret_arg0) < 0)
                return -EINVAL;
        *ret_nr = nr;
        return 1;
}

int vcpus_fd_link_parse(const char *target, int *ret_id)
{
        static const char prefix[] = "anon_inode:kvm-vcpu:";

        if (strncmp(target, prefix, sizeof(prefix) - 1) != 0)
                return -EINVAL;
        target += sizeof(prefix) - 1;
        return index_parse(target, strlen(target), ret_id) < 0 ? -EINVAL : 0;
}

/* ---- The chain ---- */

static void reason_add(struct vcpus_map *m, const char *fmt, ...) _printf_(2, 3);
static void reason_add(struct vcpus_map *m, const char *fmt, ...)
{
        size_t used = strlen(m->reason);
        va_list ap;

        if (used > 0 && used + 2 < sizeof(m->reason)) {
                strcpy(m->reason + used, "; ");
                used += 2;
        }
        va_start(ap, fmt);
        (void)vsnprintf(m->reason + used, sizeof(m->reason) - used, fmt, ap);
        va_end(ap);
}

static bool tid_of(const pid_t *tids, size_t n, pid_t tid)
{
        for (size_t i = 0; i < n; i++)
                if (tids[i] == tid)
                        return true;
        return false;
}

static int vcpus_add(struct qmp_threads *t, size_t *allocated, int index, pid_t tid)
{
        for (size_t i = 0; i < t->n_vcpus; i++)
                if (t->vcpus[i].index == index)
                        return -EBADMSG;
        if (t->n_vcpus >= QMP_VCPUS_MAX)
                return -E2BIG;
        if (GREEDY_REALLOC(t->vcpus, *allocated, t->n_vcpus + 1) < 0)
                return -ENOMEM;
        t->vcpus[t->n_vcpus++] = (struct qmp_vcpu){.index = index, .tid = tid};
        return 0;
}

/* 1: QMP answered with threads of this process; 0: it did not (the reason says why); -ENOMEM. */
static int try_qmp(int proc_fd, pid_t pid, int timeout_ms, const pid_t *tids, size_t n_tids, struct vcpus_map *m)
{
        char path[ESCAPE_TEXT_SIZE(QMP_PATH_MAX)];
        int r;

        if (timeout_ms <= 0)
                return 0;
        r = qmp_threads_query(proc_fd, pid, timeout_ms, &m->threads);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT && m->threads.socket[0] == '\0') {
                reason_add(m, "no QMP socket on its command line");
                return 0;
        }
        (void)escape_text(m->threads.socket, path, sizeof(path));
        if (r == -EBUSY)
                reason_add(m, "QMP socket %s busy (another client holds it)", path);
        else if (r == -EPERM)
                reason_add(m, "QMP socket %s is not this process's own: not used", path);
        else if (r == -EREMOTEIO) {
                char class[ESCAPE_TEXT_SIZE(QMP_CLASS_MAX)];

                (void)escape_text(m->threads.error_class, class, sizeof(class));
                reason_add(m, "QMP socket %s: query-cpus-fast failed (%s)", path, class);
        } else if (r < 0)
                reason_add(m, "QMP socket %s: %s", path, strerror(-r));
        if (r < 0)
                return 0;

        for (size_t i = 0; i < m->threads.n_vcpus; i++)
                if (!tid_of(tids, n_tids, m->threads.vcpus[i].tid)) {
                        reason_add(m, "QMP socket %s named thread %d for vCPU %d, not one of the process's threads",
                                   path, (int)m->threads.vcpus[i].tid, m->threads.vcpus[i].index);
                        goto refused;
                }
        for (size_t i = 0; i < m->threads.n_iothreads; i++)
                if (!tid_of(tids, n_tids, m->threads.iothreads[i].tid)) {
                        reason_add(m,
                                   "QMP socket %s named thread %d for an IO thread, not one of the process's threads",
                                   path, (int)m->threads.iothreads[i].tid);
                        goto refused;
                }
        if (m->threads.n_vcpus == 0) {
                reason_add(m, "QMP socket %s: no vCPUs in query-cpus-fast", path);
                goto refused;
        }
        return 1;
refused:
        qmp_threads_done(&m->threads);
        return 0;
}

/* 1: the threads are named; 0: not (the reason says why); -ENOMEM. */
static int try_names(int pid_fd, const pid_t *tids, size_t n_tids, struct vcpus_map *m)
{
        struct qmp_threads *t = &m->threads;
        size_t vcpus_allocated = 0, iothreads_allocated = 0;
        int r = 0;

        for (size_t i = 0; i < n_tids && r >= 0; i++) {
                _cleanup_free_ char *buf = NULL;
                struct vcpus_comm c;
                char path[64];
                size_t len;

                snprintf(path, sizeof(path), "task/%d/comm", (int)tids[i]);
                r = procfs_file_read(pid_fd, path, PROCFS_COMM_MAX, &buf, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) { /* a thread that exited meanwhile */
                        r = 0;
                        continue;
                }
                (void)vcpus_comm_parse(buf, len, &c);
                if (c.kind == VCPUS_COMM_VCPU)
                        r = vcpus_add(t, &vcpus_allocated, c.index, tids[i]);
                else if (c.kind == VCPUS_COMM_IOTHREAD) {
                        if (t->n_iothreads >= QMP_IOTHREADS_MAX)
                                r = -E2BIG;
                        else if (GREEDY_REALLOC(t->iothreads, iothreads_allocated, t->n_iothreads + 1) < 0)
                                r = -ENOMEM;
                        else {
                                struct qmp_iothread *io = &t->iothreads[t->n_iothreads++];

                                *io = (struct qmp_iothread){.id_truncated = c.id_truncated, .tid = tids[i]};
                                memcpy(io->id, c.id, sizeof(io->id));
                        }
                }
        }
        if (r == -ENOMEM)
                return r;
        if (r == -EBADMSG)
                reason_add(m, "two threads carry the same vCPU name");
        else if (r == -E2BIG)
                reason_add(m, "more named vCPU or IO threads than %d or %d", QMP_VCPUS_MAX, QMP_IOTHREADS_MAX);
        else if (t->n_vcpus == 0)
                reason_add(m, "its threads are not named");
        if (r < 0 || t->n_vcpus == 0) {
                qmp_threads_done(t);
                return 0;
        }
        return 1;
}

/* The vCPU fds of the process: their fd numbers and KVM vcpu ids. 0 with none (not KVM), or -errno. */
struct kvm_fd {
        unsigned long long fd;
        int id;
        pid_t tid; /* the thread found in KVM_RUN on it, or 0 */
};

static int kvm_fds_read(int pid_fd, struct kvm_fd **ret, size_t *ret_n)
{
        _cleanup_free_ struct kvm_fd *fds = NULL;
        size_t n = 0, allocated = 0;
        _cleanup_close_ int dir_fd = -1;
        struct dirent *de;
        DIR *d;

        dir_fd = openat(pid_fd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        d = fdopendir(dir_fd);
        if (!d)
                return -errno;
        TAKE_FD(dir_fd);
        for (errno = 0; (de = readdir(d)); errno = 0) {
                char target[64];
                ssize_t k;
                int fd, id;

                if (index_parse(de->d_name, strlen(de->d_name), &fd) < 0)
                        continue;
                k = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (k < 0)
                        continue;
                target[k] = '\0';
                if (vcpus_fd_link_parse(target, &id) < 0)
                        continue;
                if (n >= QMP_VCPUS_MAX) {
                        closedir(d);
                        return -E2BIG;
                }
                if (GREEDY_REALLOC(fds, allocated, n + 1) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
                fds[n++] = (struct kvm_fd){.fd = (unsigned long long)fd, .id = id};
        }
        closedir(d);
        *ret = TAKE_PTR(fds);
        *ret_n = n;
        return 0;
}

/* 1: every vCPU fd has its thread in KVM_RUN; 0: not KVM, or some vCPUs were running (the reason says); -ENOMEM. */
static int try_kvm(int pid_fd, const pid_t *tids, size_t n_tids, struct vcpus_map *m)
{
        _cleanup_free_ struct kvm_fd *fds = NULL;
        size_t n_fds = 0, found = 0, allocated = 0;
        int r;

        r = kvm_fds_read(pid_fd, &fds, &n_fds);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || n_fds == 0)
                return 0;

        for (size_t i = 0; i < n_tids; i++) {
                _cleanup_free_ char *buf = NULL;
                unsigned long long arg0;
                char path[64];
                size_t len;
                long nr;

                snprintf(path, sizeof(path), "task/%d/syscall", (int)tids[i]);
                r = procfs_file_read(pid_fd, path, 256, &buf, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || vcpus_syscall_parse(buf, len, &nr, &arg0) <= 0 || nr != SYS_ioctl)
                        continue;
                for (size_t j = 0; j < n_fds; j++)
                        if (fds[j].fd == arg0 && fds[j].tid == 0) {
                                fds[j].tid = tids[i];
                                found++;
                                break;
                        }
        }
        if (found < n_fds) {
                reason_add(m, "KVM: %zu of %zu vCPU threads found in KVM_RUN, the others were running", found, n_fds);
                return 0;
        }
        for (size_t j = 0; j < n_fds; j++) {
                r = vcpus_add(&m->threads, &allocated, fds[j].id, fds[j].tid);
                if (r < 0) {
                        qmp_threads_done(&m->threads);
                        if (r == -ENOMEM)
                                return r;
                        reason_add(m, "KVM: two fds for vCPU %d", fds[j].id);
                        return 0;
                }
        }
        return 1;
}

int vcpus_map_read(int proc_fd, pid_t pid, int qmp_timeout_ms, struct vcpus_map *m)
{
        _cleanup_close_ int pid_fd = -1;
        _cleanup_free_ pid_t *tids = NULL;
        size_t n_tids = 0;
        int r;

        *m = (struct vcpus_map){.source = VCPUS_UNKNOWN};
        r = discover_threads_list(proc_fd, pid, &tids, &n_tids);
        if (r < 0)
                return r;
        pid_fd = procfs_pid_open(proc_fd, pid);
        if (pid_fd < 0)
                return pid_fd;

        r = try_qmp(proc_fd, pid, qmp_timeout_ms, tids, n_tids, m);
        if (r > 0)
                m->source = VCPUS_QMP;
        if (r == 0) {
                r = try_names(pid_fd, tids, n_tids, m);
                if (r > 0)
                        m->source = VCPUS_NAMES;
        }
        if (r == 0) {
                r = try_kvm(pid_fd, tids, n_tids, m);
                if (r > 0)
                        m->source = VCPUS_KVM;
        }
        if (r < 0) {
                vcpus_map_done(m);
                return r;
        }
        if (m->source == VCPUS_UNKNOWN)
                reason_add(m, HINT);
        return 0;
}

size_t vcpus_map_children(const struct vcpus_map *m)
{
        return m->threads.n_vcpus + m->threads.n_iothreads + 1;
}

pid_t vcpus_map_child(const struct vcpus_map *m, size_t i, char *name, size_t size)
{
        const struct qmp_threads *t = &m->threads;

        if (i < t->n_vcpus) {
                (void)thread_cgroup_name(THREAD_CGROUP_VCPU, (size_t)t->vcpus[i].index, name, size);
                return t->vcpus[i].tid;
        }
        if (i < t->n_vcpus + t->n_iothreads) {
                (void)thread_cgroup_name(THREAD_CGROUP_IOTHREAD, i - t->n_vcpus, name, size);
                return t->iothreads[i - t->n_vcpus].tid;
        }
        (void)thread_cgroup_name(THREAD_CGROUP_EMULATOR, 0, name, size);
        return 0;
}
