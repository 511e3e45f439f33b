/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The CO-RE header of schedlat.bpf.c: the few kernel types and fields it reads, declared by hand with
 * preserve_access_index, instead of a vmlinux.h dumped from /sys/kernel/btf/vmlinux at build time.
 *
 * Why: a generated header describes the kernel the build machine happens to run (or needs one with BTF at all),
 * so a build in a container, on CI, or on a host whose kernel differs from the target's would depend on that
 * machine. It is also 3 MB of types that collide with the UAPI headers. CO-RE does not need the real layout at
 * build time: with preserve_access_index every field access below is recorded by name and libbpf relocates it
 * against the running kernel's BTF at load time. Only the names and (compatible) types of the fields must be right,
 * and these have been stable for years: kernfs_node.id is a u64 since 5.5, task_struct.__state replaced .state in
 * 5.14 (the ___pre514 flavour, chosen with bpf_core_field_exists).
 *
 * The constants (map types, flags) come from the UAPI <linux/bpf.h>, which is a stable ABI.
 */

#include <linux/types.h>
#include <linux/bpf.h>

#ifndef __cplusplus
#define bool _Bool
#define true 1
#define false 0
#endif

#define TASK_RUNNING 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node {
        __u64 id; /* the cgroup id: the inode number of the cgroup directory */
};

struct cgroup {
        struct kernfs_node *kn;
};

struct css_set {
        struct cgroup *dfl_cgrp; /* the task's cgroup on the v2 (default) hierarchy, also on hybrid hosts */
};

struct task_struct {
        unsigned int __state;
        int pid; /* the thread id */
        int tgid;
        struct css_set *cgroups;
};

/* Kernels before 5.14. */
struct task_struct___pre514 {
        long state;
};

#pragma clang attribute pop
