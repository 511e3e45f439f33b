/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMs schedlat tracks and what it measures of each: its cgroup and the ones beneath it (found again on each
 * rescan), its QEMU process's threads (re-read from /proc/PID/task on each rescan: new ones taken, vanished ones
 * forgotten), and which of them are vCPUs (by their comm, or registered by hand). Where the mode keeps a cgroup or a
 * thread (the BPF maps, a held schedstat fd), it hands over to schedlat_bpf.c or schedlat_schedstat.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover/discover.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/schedlat-internal.h"
#include "sense/schedlat.h"

struct vm_entry *schedlat_vm_get(struct schedlat *s, unsigned id)
{
        if (id >= s->max_vms || !s->vms[id].used)
                return NULL;
        return &s->vms[id];
}

int schedlat_comm_vcpu_index(const char *comm, size_t len)
{
        size_t i = 4, digits = 0;
        int n = 0;

        if (len > 0 && comm[len - 1] == '\n')
                len--;
        if (len < 4 || memcmp(comm, "CPU ", 4) != 0)
                return -1;
        for (; i < len && comm[i] >= '0' && comm[i] <= '9' && digits < 6; i++, digits++)
                n = n * 10 + (comm[i] - '0');
        if (digits == 0 || len - i != 4)
                return -1;
        return memcmp(comm + i, "/KVM", 4) == 0 || memcmp(comm + i, "/TCG", 4) == 0 ? n : -1;
}

bool schedlat_comm_is_vcpu(const char *comm, size_t len)
{
        return schedlat_comm_vcpu_index(comm, len) >= 0;
}

static int thread_is_vcpu(struct schedlat *s, pid_t pid, pid_t tid)
{
        _cleanup_close_ int fd = -1;
        char path[64], comm[64];
        ssize_t n;

        snprintf(path, sizeof(path), "%d/task/%d/comm", (int)pid, (int)tid);
        fd = openat(s->proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, comm, sizeof(comm));
        if (n < 0)
                return -errno;
        return schedlat_comm_vcpu_index(comm, (size_t)n) + 1;
}

static int vcpu_add(struct schedlat *s, struct vm_entry *vm, pid_t tid)
{
        if (s->source == RUNQ_SOURCE_SCHEDSTAT) {
                struct thread_entry *t = schedlat_schedstat_thread(vm, tid);

                if (t) {
                        t->vcpu = true;
                        return 0;
                }
                return schedlat_schedstat_thread_open(s, vm, tid, true);
        }
        if (s->source != RUNQ_SOURCE_BPF)
                return 0;
        return schedlat_bpf_vcpu_add(s, vm, tid);
}

void schedlat_vm_clear(struct schedlat *s, struct vm_entry *vm)
{
        if (s->source == RUNQ_SOURCE_BPF) {
                for (size_t i = 0; i < vm->n_cgroup_ids; i++)
                        schedlat_bpf_cgroup_untrack(s, vm->cgroup_ids[i]);
                while (vm->n_vcpus > 0)
                        schedlat_bpf_vcpu_remove_at(s, vm, vm->n_vcpus - 1);
        }
        while (vm->n_threads > 0)
                schedlat_schedstat_thread_drop(vm, vm->n_threads - 1);
        if (vm->cg_fd >= 0)
                close(vm->cg_fd);
        free(vm->cgroup_ids);
        free(vm->vcpus);
        free(vm->threads);
        free(vm->points);
        free(vm->vcpu_points);
        *vm = (struct vm_entry){};
}

static int cgroup_id_of(int cgroup_fd, uint64_t *ret)
{
        struct stat st;

        if (fstat(cgroup_fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        *ret = (uint64_t)st.st_ino; /* the kernfs node id of a cgroup2 directory */
        return 0;
}

static int vm_track_cgroup(struct schedlat *s, struct vm_entry *vm, unsigned id, uint64_t cgid)
{
        uint64_t *ids;
        int r;

        for (size_t i = 0; i < vm->n_cgroup_ids; i++)
                if (vm->cgroup_ids[i] == cgid)
                        return 0;
        ids = reallocarray(vm->cgroup_ids, vm->n_cgroup_ids + 1, sizeof(*ids));
        if (!ids)
                return -ENOMEM;
        vm->cgroup_ids = ids;
        if (s->source == RUNQ_SOURCE_BPF) {
                r = schedlat_bpf_cgroup_track(s, cgid, id);
                if (r == -E2BIG)
                        s->full = true;
                if (r < 0)
                        return r; /* -EEXIST: another VM tracks it; -E2BIG: the map is full */
        }
        vm->cgroup_ids[vm->n_cgroup_ids++] = cgid;
        return 0;
}

/* Track every cgroup beneath dir_fd too: libvirt puts a VM's threads in child cgroups (libvirt/vcpu0,
 * libvirt/emulator), and a task is counted by the cgroup it is in. Allocates (opendir); scan time only. */
static int vm_track_children(struct schedlat *s, struct vm_entry *vm, unsigned id, int dir_fd, unsigned depth)
{
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        if (depth > SCHEDLAT_CGROUP_DEPTH)
                return 0;
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while (r != -ENOMEM && (de = readdir(d))) {
                _cleanup_close_ int child = -1;
                uint64_t cgid;

                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                child = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0 || cgroup_id_of(child, &cgid) < 0)
                        continue; /* removed meanwhile */
                r = vm_track_cgroup(s, vm, id, cgid);
                if (r < 0 && r != -ENOMEM)
                        log_debug_errno(r, "schedlat: cannot track child cgroup %s of pid %d: %m", de->d_name,
                                        (int)vm->pid);
                if (r != -ENOMEM)
                        r = vm_track_children(s, vm, id, child, depth + 1);
        }
        closedir(d);
        return r == -ENOMEM ? r : 0;
}

int schedlat_vm_add_cgroup(struct schedlat *s, unsigned id, int cgroup_fd)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);
        uint64_t cgid;
        int r;

        if (!vm)
                return -EINVAL;
        r = cgroup_id_of(cgroup_fd, &cgid);
        if (r < 0)
                return r;
        return vm_track_cgroup(s, vm, id, cgid);
}

int schedlat_vm_add(struct schedlat *s, int cgroup_fd, pid_t pid, unsigned *ret_id)
{
        struct vm_entry *vm = NULL;
        unsigned id;
        int r;

        if (pid < 0)
                return -EINVAL;
        for (id = 0; id < s->max_vms; id++)
                if (!s->vms[id].used) {
                        vm = &s->vms[id];
                        break;
                }
        if (!vm) {
                s->full = true;
                return -ENOSPC;
        }
        *vm = (struct vm_entry){.used = true, .pid = pid, .cg_fd = -1};

        if (s->source == RUNQ_SOURCE_BPF) {
                /* The slot may hold counts from an earlier VM: they are the baseline. */
                r = schedlat_bpf_read_cgroup(s, id, &vm->prev);
                if (r < 0)
                        goto fail;
        }
        r = schedlat_vm_add_cgroup(s, id, cgroup_fd);
        if (r < 0)
                goto fail;
        vm->cg_fd = fcntl(cgroup_fd, F_DUPFD_CLOEXEC, 3);
        if (vm->cg_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = schedlat_vm_scan(s, id);
        if (r < 0)
                goto fail;
        *ret_id = id;
        return 0;
fail:
        schedlat_vm_clear(s, vm);
        return r;
}

void schedlat_vm_drop_fd(struct schedlat *s, unsigned id)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);

        if (vm && vm->cg_fd >= 0) {
                close(vm->cg_fd);
                vm->cg_fd = -1;
        }
}

void schedlat_vm_remove(struct schedlat *s, unsigned id)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);

        if (vm) {
                schedlat_read_warn_forget(id, vm->pid);
                schedlat_vm_clear(s, vm);
        }
}

static bool tid_listed(const pid_t *tids, size_t n, pid_t tid)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (tids[mid] == tid)
                        return true;
                if (tids[mid] < tid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

int schedlat_vm_scan(struct schedlat *s, unsigned id)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0;
        int r;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_BPF && vm->cg_fd >= 0) {
                r = vm_track_children(s, vm, id, vm->cg_fd, 1);
                if (r == -ENOMEM)
                        return r;
        }
        if (s->source == RUNQ_SOURCE_NONE || vm->pid == 0)
                return 0;
        r = discover_threads_list(s->proc_fd, vm->pid, &tids, &n);
        if (r < 0)
                return r;

        /* Forget what is gone (a tid may have been reused by another process since: then it is not ours). */
        for (size_t i = vm->n_vcpus; i > 0; i--)
                if (!tid_listed(tids, n, vm->vcpus[i - 1].tid))
                        schedlat_bpf_vcpu_remove_at(s, vm, i - 1);
        for (size_t i = vm->n_threads; i > 0; i--)
                if (!tid_listed(tids, n, vm->threads[i - 1].tid))
                        schedlat_schedstat_thread_drop(vm, i - 1);

        for (size_t i = 0; i < n; i++) {
                int vcpu = thread_is_vcpu(s, vm->pid, tids[i]);

                if (vcpu < 0) {
                        if (errno_is_vanished(vcpu))
                                continue;
                        vcpu = 0;
                }
                if (vcpu) {
                        r = vcpu_add(s, vm, tids[i]);
                        ssize_t k = r >= 0 && s->source == RUNQ_SOURCE_BPF ? schedlat_bpf_vcpu_index(vm, tids[i]) : -1;
                        if (k >= 0)
                                vm->vcpus[k].index = (unsigned)(vcpu - 1);
                        if (r == -ENOSPC) {
                                if (!s->vcpus_full_said)
                                        log_info("schedlat: %u vCPU threads are registered already; thread %d of "
                                                 "pid %d, and those after it, are counted with their VM only",
                                                 s->max_vcpus, (int)tids[i], (int)vm->pid);
                                s->vcpus_full_said = true;
                                r = 0;
                        }
                } else if (s->source == RUNQ_SOURCE_SCHEDSTAT && !schedlat_schedstat_thread(vm, tids[i]))
                        r = schedlat_schedstat_thread_open(s, vm, tids[i], false);
                else
                        r = 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !errno_is_vanished(r))
                        log_debug_errno(r, "schedlat: thread %d of pid %d: %m", (int)tids[i], (int)vm->pid);
        }
        return 0;
}

int schedlat_vcpu_add(struct schedlat *s, unsigned id, pid_t tid)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);

        if (!vm || tid <= 0)
                return -EINVAL;
        return vcpu_add(s, vm, tid);
}

int schedlat_vcpu_add_index(struct schedlat *s, unsigned id, pid_t tid, unsigned index)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);
        ssize_t k;
        int r;

        if (!vm || tid <= 0)
                return -EINVAL;
        r = vcpu_add(s, vm, tid);
        k = r >= 0 && s->source == RUNQ_SOURCE_BPF ? schedlat_bpf_vcpu_index(vm, tid) : -1;
        if (k >= 0)
                vm->vcpus[k].index = index;
        return r;
}

size_t schedlat_vcpu_ticks(struct schedlat *s, unsigned id, struct schedlat_vcpu_tick *ret, size_t max)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);

        if (!vm || s->source != RUNQ_SOURCE_BPF)
                return 0;
        for (size_t i = 0; i < vm->n_vcpus && i < max; i++)
                ret[i] = (struct schedlat_vcpu_tick){.tid = vm->vcpus[i].tid,
                                                     .index = vm->vcpus[i].index,
                                                     .samples = vm->vcpus[i].tick_samples,
                                                     .p99_usec = (vm->vcpus[i].tick_p99_ns + 500) / 1000};
        return vm->n_vcpus;
}

int schedlat_vcpu_remove(struct schedlat *s, unsigned id, pid_t tid)
{
        struct vm_entry *vm = schedlat_vm_get(s, id);
        struct thread_entry *t;
        ssize_t i;

        if (!vm)
                return -EINVAL;
        if (s->source == RUNQ_SOURCE_SCHEDSTAT) {
                t = schedlat_schedstat_thread(vm, tid);
                if (!t)
                        return -ENOENT;
                t->vcpu = false;
                return 0;
        }
        i = schedlat_bpf_vcpu_index(vm, tid);
        if (i < 0)
                return -ENOENT;
        schedlat_bpf_vcpu_remove_at(s, vm, (size_t)i);
        return 0;
}
