/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine as a whole, on a fixture tree: a fake /proc with three QEMU processes (and one that is not), their
 * executables (real files the tree holds, root's, or vouched for by QemuTrustedPaths=), a cgroup2
 * mount with the files the kernel would have, an empty sys/class/net, and placement through a fake that does what
 * the kernel does for mkdir, cgroup.procs and rmdir. Whole ticks run through every stage, and what a user would see
 * is read back from the tree: where each VM went, the limits in its files, the audit log, the originals put back.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "act/actuator.h"
#include "engine.h"
#include "kernel/macro.h"
#include "place/placement.h"
#include "policy/config.h"
#include "testutil.h"

#define MOUNT "root/sys/fs/cgroup" /* the cgroup2 mount beneath the fixture's root */

enum { PID_WEB = 4100, PID_BATCH = 4200, PID_LEGACY = 4300, PID_SHELL = 4400, PID_FAKE = 4500 };

static const char POLICY[] = "[engine]\n"
                             "Interval = 1s\n"
                             "DryRun = %s\n"
                             "QemuTrustedPaths = %s\n"
                             "\n"
                             "[group web]\n"
                             "MatchName = web-*\n"
                             "Class = latency\n"
                             "CPUWeight = %u\n"
                             "CPUQuota = 150%%\n"
                             "MemoryHigh = 1G\n"
                             "MemoryMax = 2G\n"
                             "\n"
                             "[group batch]\n"
                             "MatchName = batch-*\n"
                             "Class = batch\n"
                             "CPUWeight = 50\n"
                             "CPUQuota = 50%%\n"
                             "\n"
                             "[group legacy]\n"
                             "MatchName = legacy\n"
                             "Placement = inplace\n"
                             "CPUWeight = 300\n";

struct fixture {
        char path[4096];
        int fd;       /* the tree: proc/, sys/, root/ */
        int mount_fd; /* root/sys/fs/cgroup */
        char audit[4200], state[4200], policy[4200];
        char qemu[PATH_MAX], qemu_kvm[PATH_MAX], bash[PATH_MAX], fake[PATH_MAX]; /* the executables' paths */
        char vouched[PATH_MAX]; /* the directory QemuTrustedPaths= names */
        struct placement_ops ops;
        pid_t vanish_on_create; /* the fake makes this process exit as its cgroup is created */
        pid_t reuse_on_create;  /* ... or exit, its pid taken by another process, as its cgroup is created */
        pid_t reuse_on_attach;  /* ... or the same just before the move into it */
        unsigned creates, attaches, removes, backs;
        struct engine e;
        bool open;
};

/* ---- the fixture tree ---- */

static void write_fmt(int dir_fd, const char *path, const char *fmt, ...) _printf_(3, 4);
static void write_fmt(int dir_fd, const char *path, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        tmptree_write_string(dir_fd, path, buf);
}

static char *read_at(int dir_fd, const char *path)
{
        static char buf[8192];
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        assert_true(n >= 0);
        buf[n] = '\0';
        return buf;
}

/* What a cgroup directory holds when the kernel makes it, with cpu, memory and io enabled. */
static void cgroup_populate(int dir_fd, const char *rel)
{
        static const char *const files[][2] = {
                {"cgroup.procs", ""},
                {"cgroup.controllers", "cpu io memory\n"},
                {"cgroup.subtree_control", ""},
                {"cpu.max", "max 100000\n"},
                {"cpu.weight", "100\n"},
                {"cpu.idle", "0\n"},
                {"cpu.stat", "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 0\nnr_throttled 0\n"
                             "throttled_usec 0\n"},
                {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
                {"memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
                {"io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
                {"memory.current", "104857600\n"},
                {"memory.stat", "anon 94371840\nfile 10485760\nkernel 1048576\nshmem 0\nunevictable 0\n"},
                {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
                {"memory.high", "max\n"},
                {"memory.max", "max\n"},
                {"memory.min", "0\n"},
                {"memory.low", "0\n"},
                {"io.stat", ""},
                {"io.max", ""},
                {"io.weight", "default 100\n"},
        };
        char path[4096];

        tmptree_mkdir(dir_fd, rel);
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                snprintf(path, sizeof(path), "%s/%s", rel, files[i][0]);
                tmptree_write_string(dir_fd, path, files[i][1]);
        }
}

/*
 * An executable at TREE/DIR/NAME: a real file, so that the fake /proc/PID/exe link, an absolute path to it, leads
 * stat to it as the kernel's magic link does. The engine checks its path beneath its root, TREE/root: there the
 * same path holds the same inode (a hard link) in directories of the given mode, all made by the test. Running as
 * root (here and in CI) they are root's, so that the ownership rule itself admits them; ret_path is the path.
 */
static void exe_new(struct fixture *f, const char *dir, mode_t dir_mode, const char *name, char *ret_path, size_t size)
{
        char rel[PATH_MAX], mirror[PATH_MAX];
        size_t n;

        if (geteuid() != 0)
                fail_msg("test_engine makes root-owned executables for the exe trust rule: run it as root");
        assert_true(snprintf(rel, sizeof(rel), "%s/%s", dir, name) < (int)sizeof(rel));
        tmptree_write_string(f->fd, rel, "#!/bin/false\n");
        assert_int_equal(fchmodat(f->fd, rel, 0755, 0), 0);
        assert_true(snprintf(ret_path, size, "%s/%s/%s", f->path, dir, name) < (int)size);

        /* TREE/root/TREE/DIR/NAME, each directory made 0755 (or dir_mode for DIR), the file a hard link. */
        assert_true(snprintf(mirror, sizeof(mirror), "root%s/%s", f->path, dir) < (int)sizeof(mirror));
        tmptree_mkdir(f->fd, mirror);
        assert_int_equal(fchmodat(f->fd, "root", 0755, 0), 0);
        for (char *p = mirror + strlen("root"); (p = strchr(p + 1, '/'));) {
                *p = '\0';
                assert_int_equal(fchmodat(f->fd, mirror, 0755, 0), 0);
                *p = '/';
        }
        assert_int_equal(fchmodat(f->fd, mirror, dir_mode, 0), 0);
        n = strlen(mirror);
        assert_true(snprintf(mirror + n, sizeof(mirror) - n, "/%s", name) < (int)(sizeof(mirror) - n));
        assert_int_equal(linkat(f->fd, rel, f->fd, mirror, 0), 0);
}

static void process_new(struct fixture *f, pid_t pid, const char *exe, const char *name, const char *cgroup)
{
        char dir[64], path[128], cmdline[256];
        int n;

        snprintf(dir, sizeof(dir), "proc/%d", (int)pid);
        tmptree_mkdir(f->fd, dir);
        snprintf(path, sizeof(path), "%s/exe", dir);
        assert_int_equal(symlinkat(exe, f->fd, path), 0);
        n = snprintf(cmdline, sizeof(cmdline), "%s%c-name%cguest=%s,debug-threads=on%c-m%c1024%c", exe, 0, 0, name, 0,
                     0, 0);
        snprintf(path, sizeof(path), "%s/cmdline", dir);
        tmptree_write(f->fd, path, cmdline, (size_t)n);
        snprintf(path, sizeof(path), "%s/stat", dir);
        write_fmt(f->fd, path,
                  "%d (qemu-system-x86) S 1 %d %d 0 -1 4194560 1000 0 10 0 500 200 0 0 20 0 3 0 %d 2147483648 65536 "
                  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                  (int)pid, (int)pid, (int)pid, 1000 + (int)pid);
        snprintf(path, sizeof(path), "%s/status", dir);
        write_fmt(f->fd, path,
                  "Name:\tqemu-system-x86\nState:\tS (sleeping)\nTgid:\t%d\nPid:\t%d\nPPid:\t1\n"
                  "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
                  (int)pid, (int)pid);
        snprintf(path, sizeof(path), "%s/task/%d/comm", dir, (int)pid);
        tmptree_write_string(f->fd, path, "qemu-system-x86\n");
        snprintf(path, sizeof(path), "%s/cgroup", dir);
        write_fmt(f->fd, path, "0::/%s\n", cgroup);
        snprintf(path, sizeof(path), "%s/%s", MOUNT, cgroup);
        cgroup_populate(f->fd, path);
        snprintf(path, sizeof(path), "%s/%s/cgroup.procs", MOUNT, cgroup);
        write_fmt(f->fd, path, "%d\n", (int)pid);
}

static void process_exit(struct fixture *f, pid_t pid)
{
        char path[4200];

        snprintf(path, sizeof(path), "%s/proc/%d", f->path, (int)pid);
        nftw(path, tmptree_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The VM of pid exits and a shell, forked by pid 77 in user.slice/u.scope, gets its pid. */
static void process_reuse(struct fixture *f, pid_t pid)
{
        char path[64];

        process_exit(f, pid);
        if (faccessat(f->fd, "proc/77", F_OK, 0) != 0) {
                tmptree_mkdir(f->fd, "proc/77");
                tmptree_write_string(f->fd, "proc/77/cgroup", "0::/user.slice/u.scope\n");
                tmptree_mkdir(f->fd, MOUNT "/user.slice/u.scope");
                tmptree_write_string(f->fd, MOUNT "/user.slice/u.scope/cgroup.procs", "77\n");
        }
        snprintf(path, sizeof(path), "proc/%d", (int)pid);
        tmptree_mkdir(f->fd, path);
        snprintf(path, sizeof(path), "proc/%d/exe", (int)pid);
        assert_int_equal(symlinkat(f->bash, f->fd, path), 0);
        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        write_fmt(f->fd, path,
                  "%d (bash) S 77 %d %d 0 -1 4194560 1000 0 10 0 500 200 0 0 20 0 1 0 99999 2147483648 65536 "
                  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                  (int)pid, (int)pid, (int)pid);
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        tmptree_write_string(f->fd, path, "0::/user.slice/u.scope\n");
}

/* ---- placement as the kernel does it ---- */

static int fake_create(void *userdata, const struct cgroup_mount *m, const char *rel_path)
{
        struct fixture *f = userdata;
        char path[4096];

        f->creates++;
        snprintf(path, sizeof(path), "%s/%s", MOUNT, rel_path);
        if (faccessat(f->fd, path, F_OK, 0) != 0)
                cgroup_populate(f->fd, path);
        if (f->vanish_on_create) {
                process_exit(f, f->vanish_on_create);
                f->vanish_on_create = 0;
        }
        if (f->reuse_on_create) {
                process_reuse(f, f->reuse_on_create);
                f->reuse_on_create = 0;
        }
        return 0;
}

static int fake_move(struct fixture *f, const char *rel_path, pid_t pid);

static int fake_attach(void *userdata, const struct cgroup_mount *m, const char *rel_path, pid_t pid)
{
        struct fixture *f = userdata;

        f->attaches++;
        if (f->reuse_on_attach == pid) {
                process_reuse(f, pid);
                f->reuse_on_attach = 0;
        }
        return fake_move(f, rel_path, pid);
}

/* Out of the engine's tree: into a cgroup that exists, as the kernel's cgroup.procs does. */
static int fake_back(void *userdata, int mount_fd, const char *rel_path, pid_t pid)
{
        struct fixture *f = userdata;
        char path[4096];

        f->backs++;
        snprintf(path, sizeof(path), "%s/%s", MOUNT, rel_path);
        if (faccessat(f->fd, path, F_OK, 0) != 0)
                return -ENOENT;
        return fake_move(f, rel_path, pid);
}

static int fake_move(struct fixture *f, const char *rel_path, pid_t pid)
{
        char path[4096], *old;

        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        old = read_at(f->fd, path);
        if (!old)
                return -ESRCH;
        assert_true(strncmp(old, "0::/", 4) == 0);
        old[strcspn(old, "\n")] = '\0';
        snprintf(path, sizeof(path), "%s/%s/cgroup.procs", MOUNT, old + 4);
        tmptree_write_string(f->fd, path, "");
        snprintf(path, sizeof(path), "%s/%s/cgroup.procs", MOUNT, rel_path);
        write_fmt(f->fd, path, "%d\n", (int)pid);
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        write_fmt(f->fd, path, "0::/%s\n", rel_path);
        return 0;
}

/* rmdir: a cgroup that still counts a process is busy; an empty one goes with its interface files. */
static int fake_remove(void *userdata, int mount_fd, const char *rel_path)
{
        struct fixture *f = userdata;
        char path[8192], *procs;

        f->removes++;
        snprintf(path, sizeof(path), "%s/%s/cgroup.procs", MOUNT, rel_path);
        procs = read_at(f->fd, path);
        if (!procs)
                return -ENOENT;
        if (procs[0])
                return -EBUSY;
        snprintf(path, sizeof(path), "%s/%s/%s", f->path, MOUNT, rel_path);
        return nftw(path, tmptree_remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}

/* ---- the engine on the tree ---- */

static void policy_write_dry_run(struct fixture *f, unsigned web_weight, bool dry_run)
{
        char text[8192];
        int fd;

        assert_true(snprintf(text, sizeof(text), POLICY, dry_run ? "yes" : "no", f->vouched, web_weight) <
                    (int)sizeof(text));
        fd = open(f->policy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void policy_write(struct fixture *f, unsigned web_weight)
{
        policy_write_dry_run(f, web_weight, false);
}

static int fixture_setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char text[4096];
        size_t n;
        FILE *in;

        assert_non_null(f);
        f->fd = tmptree_new(f->path, sizeof(f->path));
        in = fopen(FIXTURES_DIR "/mountinfo/pure-v2", "re");
        assert_non_null(in);
        n = fread(text, 1, sizeof(text), in);
        fclose(in);
        tmptree_write(f->fd, "proc/self/mountinfo", text, n);
        tmptree_write_string(f->fd, "proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
        tmptree_mkdir(f->fd, "sys/class/net");
        tmptree_write_string(f->fd, MOUNT "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        tmptree_write_string(f->fd, MOUNT "/cgroup.subtree_control", "cpu io memory\n");
        f->mount_fd = openat(f->fd, MOUNT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->mount_fd >= 0);

        /* QEMU in root's directories; qemu-kvm in one that others may write, which the policy vouches for. */
        exe_new(f, "usr/bin", 0755, "qemu-system-x86_64", f->qemu, sizeof(f->qemu));
        exe_new(f, "usr/bin", 0755, "bash", f->bash, sizeof(f->bash));
        exe_new(f, "opt/legacy", 0777, "qemu-kvm", f->qemu_kvm, sizeof(f->qemu_kvm));
        assert_true(snprintf(f->vouched, sizeof(f->vouched), "%s/opt/legacy", f->path) < (int)sizeof(f->vouched));
        process_new(f, PID_WEB, f->qemu, "web-1", "machine.slice/vm-web.scope");
        process_new(f, PID_BATCH, f->qemu, "batch-1", "machine.slice/vm-batch.scope");
        process_new(f, PID_LEGACY, f->qemu_kvm, "legacy", "machine.slice/legacy.scope");
        process_new(f, PID_SHELL, f->bash, "web-2", "user.slice/session-1.scope"); /* not QEMU */

        snprintf(f->audit, sizeof(f->audit), "%s/audit.jsonl", f->path);
        snprintf(f->state, sizeof(f->state), "%s/state", f->path);
        snprintf(f->policy, sizeof(f->policy), "%s/policy.ini", f->path);
        policy_write(f, 200);
        f->ops = (struct placement_ops){fake_create, fake_attach, fake_remove, fake_back, f};
        *state = f;
        return 0;
}

static int fixture_teardown(void **state)
{
        struct fixture *f = *state;

        if (f->open)
                engine_close(&f->e);
        close(f->mount_fd);
        tmptree_remove(f->path, f->fd);
        free(f);
        return 0;
}

static void engine_start_metrics(struct fixture *f, bool dry_run, const char *audit, const char *metrics);

static void engine_start(struct fixture *f, bool dry_run, const char *audit)
{
        engine_start_metrics(f, dry_run, audit, "none");
}

static void engine_start_metrics(struct fixture *f, bool dry_run, const char *audit, const char *metrics)
{
        char proc[4200], sys[4200], root[4200];
        static char roots[3][4200];
        struct config_error err = {0};
        struct config_env env;
        struct policy *p = NULL;

        snprintf(proc, sizeof(proc), "%s/proc", f->path);
        snprintf(sys, sizeof(sys), "%s/sys", f->path);
        snprintf(root, sizeof(root), "%s/root", f->path);
        memcpy(roots[0], proc, sizeof(proc));
        memcpy(roots[1], sys, sizeof(sys));
        memcpy(roots[2], root, sizeof(root));
        engine_config_env(&env);
        assert_int_equal(config_load(f->policy, &env, &p, &err), 0);
        struct engine_options opt = {
                .policy_path = f->policy,
                .roots = {.proc = roots[0], .sys = roots[1], .root = roots[2]},
                .audit_log = audit,
                .metrics_file = metrics,
                .status_path = "none",
                .state_path = f->state,
                .dry_run = dry_run,
                .no_proc_events = true,
                .placement = &f->ops,
        };
        assert_int_equal(engine_open(&f->e, &opt, p), 0);
        f->open = true;
}

static const struct vm_state *vm_of(struct fixture *f, pid_t pid)
{
        for (size_t i = 0; i < f->e.n_vms; i++)
                if (f->e.vms[i].id.pid == pid)
                        return &f->e.vms[i];
        return NULL;
}

/* A cgroup file's content without its newline. */
static const char *cg_file(struct fixture *f, const char *cgroup, const char *file)
{
        char path[4096];
        char *s;

        snprintf(path, sizeof(path), "%s/%s/%s", MOUNT, cgroup, file);
        s = read_at(f->fd, path);
        if (!s)
                fail_msg("%s: missing", path);
        s[strcspn(s, "\n")] = '\0';
        return s;
}

/* The cgroup /proc says a process is in, as "/PATH". */
static const char *proc_cgroup(struct fixture *f, pid_t pid)
{
        char path[64];
        char *s;

        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        s = read_at(f->fd, path);
        if (!s)
                fail_msg("%s: missing", path);
        s[strcspn(s, "\n")] = '\0';
        return strncmp(s, "0::", 3) == 0 ? s + 3 : s;
}

static bool cg_exists(struct fixture *f, const char *cgroup)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", MOUNT, cgroup);
        return faccessat(f->fd, path, F_OK, 0) == 0;
}

static unsigned lines_matching(const char *path, const char *needle)
{
        char line[8192];
        unsigned n = 0;
        FILE *in = fopen(path, "re");

        if (!in)
                return 0;
        while (fgets(line, sizeof(line), in))
                n += strstr(line, needle) != NULL;
        fclose(in);
        return n;
}

/* ---- the tests ---- */

static void test_whole_ticks(void **state)
{
        struct fixture *f = *state;
        const struct vm_state *web, *batch, *legacy;

        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);

        /* Discovery: the three QEMUs, not the shell whose -name would match web-*. */
        assert_int_equal(f->e.n_vms, 3);
        assert_null(vm_of(f, PID_SHELL));
        web = vm_of(f, PID_WEB);
        batch = vm_of(f, PID_BATCH);
        legacy = vm_of(f, PID_LEGACY);
        assert_non_null(web);
        assert_non_null(batch);
        assert_non_null(legacy);

        /* Placement: own cgroups for web and batch, moved there; legacy limited where it is. */
        assert_string_equal(web->cgroup, "vmgov/web/web-1");
        assert_string_equal(batch->cgroup, "vmgov/batch/batch-1");
        assert_string_equal(legacy->cgroup, "machine.slice/legacy.scope");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cgroup.procs"), "4100");
        assert_string_equal(cg_file(f, "machine.slice/vm-web.scope", "cgroup.procs"), "");
        assert_int_equal(f->attaches, 2);

        /* Act: the groups' limits, in the form the kernel reads back. */
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.max"), "150000 100000");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "memory.high"), "1073741824");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "memory.max"), "2147483648");
        assert_string_equal(cg_file(f, "vmgov/batch/batch-1", "cpu.max"), "50000 100000");
        assert_string_equal(cg_file(f, "vmgov/batch/batch-1", "cpu.weight"), "50");
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "300");
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.max"), "max 100000");

        /* Audit: two moves and each write, with the policy's file:line as reason. */
        assert_int_equal(lines_matching(f->audit, "\"file\":\"cgroup.procs\""), 2);
        assert_int_equal(lines_matching(f->audit, "\"file\":\"cpu.weight\""), 3);
        assert_int_equal(lines_matching(f->audit, "\"reason\":\"policy: [group web] at "), 4);

        /* Sense: the second tick reads the cgroup's files. */
        write_fmt(f->fd, MOUNT "/vmgov/web/web-1/memory.current", "%llu\n", 734003200ULL);
        assert_int_equal(engine_tick(&f->e), 0);
        web = vm_of(f, PID_WEB);
        assert_int_equal(web->sig.memory_current, 734003200ULL);
        /* Nothing changed, so nothing more is written. */
        assert_int_equal(lines_matching(f->audit, "\"file\":\"cpu.weight\""), 3);
        assert_int_equal(f->e.act->errors, 0);
}

/* Every file beneath dir_fd, path and content, in one string, to compare a tree before and after. */
static void tree_dump(int dir_fd, const char *rel, char **buf, size_t *len)
{
        _cleanup_close_ int fd = openat(dir_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent **names;
        int n;

        assert_true(fd >= 0);
        n = scandirat(fd, ".", &names, NULL, alphasort);
        assert_true(n >= 0);
        for (int i = 0; i < n; i++) {
                char path[4096];
                struct stat st;
                if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
                        snprintf(path, sizeof(path), "%s/%s", rel, names[i]->d_name);
                        assert_int_equal(fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
                        char *content = S_ISREG(st.st_mode) ? read_at(dir_fd, path) : "";
                        size_t add = strlen(path) + strlen(content) + 4;
                        *buf = realloc(*buf, *len + add);
                        assert_non_null(*buf);
                        *len += (size_t)snprintf(*buf + *len, add, "%s\n%s\n", path, content);
                        if (S_ISDIR(st.st_mode))
                                tree_dump(dir_fd, path, buf, len);
                }
                free(names[i]);
        }
        free(names);
}

static void test_dry_run_changes_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *before = NULL, *after = NULL;
        size_t nb = 0, na = 0;
        char audit[4300];

        snprintf(audit, sizeof(audit), "%s.dry", f->path); /* outside the tree it compares */
        tree_dump(f->fd, ".", &before, &nb);
        engine_start(f, true, audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(engine_tick(&f->e), 0);
        engine_close(&f->e);
        f->open = false;
        tree_dump(f->fd, ".", &after, &na);

        assert_string_equal(before, after);
        assert_int_equal(f->creates + f->attaches + f->removes, 0);
        /* and every write it would have made is audited as such */
        assert_int_equal(lines_matching(audit, "\"dry_run\":true"), lines_matching(audit, "\"file\":"));
        assert_int_equal(lines_matching(audit, "\"file\":\"cpu.weight\",\"old\":null,\"new\":\"200\""), 1);
        assert_int_equal(lines_matching(audit, "\"file\":\"cgroup.procs\""), 2);
        unlink(audit);
}

/* A reload makes a new policy, which malloc may put where the old one was: the laws must follow the new one. */
static void test_two_reloads_in_one_tick(void **state)
{
        struct fixture *f = *state;
        const struct vm_state *web;

        engine_start(f, false, "none");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        uint64_t first = f->e.policy->generation;

        policy_write(f, 300);
        assert_int_equal(engine_reload(&f->e), 0);
        policy_write(f, 400);
        assert_int_equal(engine_reload(&f->e), 0);
        assert_int_equal(f->e.policy->generation, first + 2);
        assert_int_equal(engine_tick(&f->e), 0);

        web = vm_of(f, PID_WEB);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "400");
        assert_int_equal(web->ctl.limits.cpu_weight, 400);
        assert_int_equal(web->ctl.generation, f->e.policy->generation);

        /* A refused policy leaves the one in force, and its generation. */
        tmptree_write_string(f->fd, "policy.ini", "[group web]\nCPUWeight = lots\n");
        assert_int_not_equal(engine_reload(&f->e), 0);
        assert_int_equal(f->e.policy->generation, first + 2);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "400");
}

static void test_vm_exits(void **state)
{
        struct fixture *f = *state;

        engine_start(f, false, "none");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.n_vms, 3);

        /* batch-1 exits, but the kernel still counts the dying task in its cgroup: the removal waits. */
        process_exit(f, PID_BATCH);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.n_vms, 2);
        assert_null(vm_of(f, PID_BATCH));
        assert_int_equal(f->e.n_pending_rmdir, 1);
        assert_int_equal(faccessat(f->fd, MOUNT "/vmgov/batch/batch-1", F_OK, 0), 0);

        /* Once it is empty, the next tick removes it. */
        tmptree_write_string(f->fd, MOUNT "/vmgov/batch/batch-1/cgroup.procs", "");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.n_pending_rmdir, 0);
        assert_int_not_equal(faccessat(f->fd, MOUNT "/vmgov/batch/batch-1", F_OK, 0), 0);

        /* An inplace VM's cgroup is not the engine's: never removed, and once its VM is gone its originals are
         * forgotten (the journal says so), so that nothing is written back into it later. */
        assert_true(lines_matching(f->state, "cgroup=machine.slice/legacy.scope ") >= 1);
        process_exit(f, PID_LEGACY);
        tmptree_write_string(f->fd, MOUNT "/machine.slice/legacy.scope/cgroup.procs", "");
        tmptree_write_string(f->fd, MOUNT "/machine.slice/legacy.scope/cpu.weight", "300\n");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.n_vms, 1);
        assert_int_equal(faccessat(f->fd, MOUNT "/machine.slice/legacy.scope", F_OK, 0), 0);
        assert_int_equal(lines_matching(f->state, "forget cgroup=machine.slice/legacy.scope"), 1);
        assert_int_equal(engine_close(&f->e), 0);
        f->open = false;
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "300");
}

/* A VM that exits while the tick places it: no error, no empty cgroup left, gone at the next scan. */
static void test_vm_exits_mid_tick(void **state)
{
        struct fixture *f = *state;

        f->vanish_on_create = PID_WEB;
        engine_start(f, false, "none");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.placement_errors, 0);
        assert_int_not_equal(faccessat(f->fd, MOUNT "/vmgov/web/web-1", F_OK, 0), 0);
        assert_string_equal(cg_file(f, "vmgov/batch/batch-1", "cpu.weight"), "50");

        assert_int_equal(engine_tick(&f->e), 0);
        assert_null(vm_of(f, PID_WEB));
        assert_int_equal(f->e.n_vms, 2);
}

static void test_refused_write(void **state)
{
        struct fixture *f = *state;

        /* web-1 is already in its cgroup (an earlier engine put it there), whose cpu.max cannot be written. */
        cgroup_populate(f->fd, MOUNT "/vmgov/web/web-1");
        tmptree_write_string(f->fd, MOUNT "/vmgov/web/web-1/cgroup.procs", "4100\n");
        tmptree_write_string(f->fd, MOUNT "/machine.slice/vm-web.scope/cgroup.procs", "");
        tmptree_write_string(f->fd, "proc/4100/cgroup", "0::/vmgov/web/web-1\n");
        assert_int_equal(unlinkat(f->fd, MOUNT "/vmgov/web/web-1/cpu.max", 0), 0);
        tmptree_mkdir(f->fd, MOUNT "/vmgov/web/web-1/cpu.max");

        engine_start(f, false, f->audit);
        stderr_capture_start();
        assert_int_equal(engine_tick(&f->e), 0);
        char *log = stderr_capture_stop();
        assert_contains(log, "cpu.max");
        free(log);

        assert_int_equal(f->e.act->errors, 1);
        /* tried again at the next tick, and counted, but not said again: once a minute at most */
        stderr_capture_start();
        assert_int_equal(engine_tick(&f->e), 0);
        log = stderr_capture_stop();
        if (strstr(log, "<3>"))
                fail_msg("the same refusal said again at the next tick:\n%s", log);
        free(log);
        assert_int_equal(f->e.act->errors, 2);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "memory.high"), "1073741824");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "memory.max"), "2147483648");
        assert_string_equal(cg_file(f, "vmgov/batch/batch-1", "cpu.max"), "50000 100000");
        assert_int_equal(f->attaches, 1); /* only batch moved */
}

static unsigned occurrences(const char *haystack, const char *needle)
{
        unsigned n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

/* A "QEMU" any user could have made, another user's QEMU and libvirt's are left alone, each said once. */
static void test_left_alone_said_once(void **state)
{
        enum { PID_OTHER_USER = 4600, PID_LIBVIRT = 4700 };
        struct fixture *f = *state;
        const struct vm_state *other, *libvirt;
        char expect[3 * PATH_MAX];
        char *log;

        /* python3 copied to a sticky /tmp-like directory as qemu-system-x86_64, with the web group's name. */
        exe_new(f, "tmp/x", 01777, "qemu-system-x86_64", f->fake, sizeof(f->fake));
        process_new(f, PID_FAKE, f->fake, "web-x", "user.slice/user-65534.slice/session-9.scope");
        /* The real QEMU, run by uid 1000. */
        process_new(f, PID_OTHER_USER, f->qemu, "web-3", "user.slice/user-1000.slice/session-2.scope");
        tmptree_write_string(f->fd, "proc/4600/status", "Name:\tqemu\nUid:\t1000\t1000\t1000\t1000\n");
        /* The real QEMU, in the scope systemd-machined makes for libvirt. */
        process_new(f, PID_LIBVIRT, f->qemu, "web-db",
                    "machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/emulator");

        engine_start(f, false, f->audit);
        stderr_capture_start();
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(engine_tick(&f->e), 0);
        log = stderr_capture_stop();

        /* Not a VM at all; refused once with the reason, not every tick. */
        assert_null(vm_of(f, PID_FAKE));
        snprintf(expect, sizeof(expect),
                 "pid 4500: not taken for QEMU, left alone: %s is in %s/tmp/x, which is writable by group or others "
                 "(mode 1777)",
                 f->fake, f->path);
        assert_contains(log, expect);
        assert_int_equal(occurrences(log, "pid 4500"), 1);

        /* VMs, but nobody's to govern: said once each. */
        other = vm_of(f, PID_OTHER_USER);
        libvirt = vm_of(f, PID_LIBVIRT);
        assert_non_null(other);
        assert_non_null(libvirt);
        assert_false(vm_managed(other));
        assert_false(vm_managed(libvirt));
        assert_string_equal(other->group, "");
        assert_string_equal(libvirt->group, "");
        assert_contains(log, "VM web-3 (pid 4600) runs as uid 1000, not root, and no group's MatchUser= names that "
                             "user: left unmanaged");
        assert_int_equal(occurrences(log, "left unmanaged"), 2);
        assert_contains(log, "VM web-db (pid 4700) is libvirt's (cgroup "
                             "/machine.slice/machine-qemu\\\\x2d1\\\\x2ddb.scope/libvirt/emulator): left unmanaged "
                             "(ManageLibvirt=no)");
        free(log);

        /* Nothing of theirs was moved or written: only web and batch were, as ever. */
        assert_int_equal(f->attaches, 2);
        assert_string_equal(cg_file(f, "user.slice/user-65534.slice/session-9.scope", "cgroup.procs"), "4500");
        assert_string_equal(cg_file(f, "user.slice/user-65534.slice/session-9.scope", "cpu.weight"), "100");
        assert_string_equal(cg_file(f, "user.slice/user-1000.slice/session-2.scope", "cpu.weight"), "100");
        assert_string_equal(cg_file(f, "machine.slice/machine-qemu\\x2d1\\x2ddb.scope/libvirt/emulator", "cpu.weight"),
                            "100");
        assert_int_equal(lines_matching(f->audit, "\"pid\":4500"), 0);
        assert_int_equal(lines_matching(f->audit, "\"pid\":4600"), 0);
        assert_int_equal(lines_matching(f->audit, "\"pid\":4700"), 0);
}

/* The VM exits and its pid is taken by another process after the engine made its cgroup: nothing is moved. */
static void test_pid_reused_before_move(void **state)
{
        struct fixture *f = *state;

        f->reuse_on_create = 4100;
        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(proc_cgroup(f, 4100), "/user.slice/u.scope");
        assert_int_equal(f->attaches, 1); /* batch-1 only */
        assert_false(cg_exists(f, "vmgov/web/web-1"));
        assert_int_equal(lines_matching(f->audit, "\"pid\":4100"), 0);
        assert_int_equal(lines_matching(f->state, "pid=4100 "), 0); /* checked before it is journalled */
}

/* The pid is taken over in the instant between the check and the move: the process moved by mistake goes back
 * where fork put it, its parent's cgroup, and the engine's cgroup goes. */
static void test_pid_reused_during_move(void **state)
{
        struct fixture *f = *state;

        f->reuse_on_attach = 4100;
        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->attaches, 2); /* web-1 (the stranger, by mistake) and batch-1 */
        assert_int_equal(f->backs, 1);    /* the stranger back */
        assert_string_equal(proc_cgroup(f, 4100), "/user.slice/u.scope");
        assert_false(cg_exists(f, "vmgov/web/web-1"));
        assert_int_equal(lines_matching(f->audit, "\"pid\":4100"), 0);
        assert_int_equal(engine_tick(&f->e), 0); /* the shell is no QEMU: left alone */
        assert_string_equal(proc_cgroup(f, 4100), "/user.slice/u.scope");
        assert_null(vm_of(f, 4100));
}

/* A process that is not the VM lives in the cgroup the VM's name gives (left there by an earlier process that
 * claimed the name): the VM gets a fresh, empty leaf, and the squatter's cgroup is not touched. */
static void test_squatted_cgroup(void **state)
{
        struct fixture *f = *state;

        cgroup_populate(f->fd, MOUNT "/vmgov/web/web-1");
        tmptree_write_string(f->fd, MOUNT "/vmgov/web/web-1/cgroup.procs", "777\n");
        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(proc_cgroup(f, 4100), "/vmgov/web/web-1-pid4100");
        assert_string_equal(cg_file(f, "vmgov/web/web-1-pid4100", "cpu.weight"), "200");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cgroup.procs"), "777");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "100");
        assert_int_equal(engine_tick(&f->e), 0); /* and it stays there */
        assert_string_equal(proc_cgroup(f, 4100), "/vmgov/web/web-1-pid4100");
        assert_int_equal(f->attaches, 2);
}

/* With process events, a tick scans /proc only when a scan is due; a daemonized QEMU's grandchild, which no exec
 * event shows, is found through the forks of the process that exec'd, when that one exits; a setuid looks again. */
static void test_events_drive_discovery(void **state)
{
        struct fixture *f = *state;
        const struct vm_state *vm;

        engine_start(f, false, f->audit);
        f->e.events = true;
        assert_int_equal(engine_tick(&f->e), 0); /* the first: a scan */
        assert_int_equal(f->e.scans, 1);
        assert_int_equal(f->e.n_vms, 3);
        assert_int_equal(engine_tick(&f->e), 0); /* idle: none */
        assert_int_equal(f->e.scans, 1);

        /* web-1 daemonizes: 4100 forks 4101, which forks 4102 (in 4100's cgroup, as fork does) and exits */
        assert_int_equal(engine_on_fork(4100, 4101, &f->e), 0);
        assert_int_equal(engine_on_fork(4101, 4102, &f->e), 0);
        assert_int_equal(engine_on_fork(1, 5555, &f->e), 0); /* no VM's: not followed */
        assert_int_equal(f->e.n_heirs - f->e.n_heirs_dead, 2);
        process_new(f, 4102, f->qemu, "web-1", "vmgov/web/web-1");
        assert_int_equal(engine_on_exit(4101, &f->e), 0);
        assert_null(vm_of(f, 4102)); /* not while the VM's first process lives */
        process_exit(f, 4100);
        assert_int_equal(engine_on_exit(4100, &f->e), 0);
        assert_null(vm_of(f, 4100));
        vm = vm_of(f, 4102);
        assert_non_null(vm);
        assert_true(vm_managed(vm));
        assert_string_equal(vm->cgroup, "vmgov/web/web-1");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        assert_int_equal(f->e.n_heirs - f->e.n_heirs_dead, 0);
        assert_int_equal(f->e.scans, 1);

        /* batch-1 drops to uid 65534 (-runas): no group names that user, so the engine lets it be */
        tmptree_write_string(f->fd, "proc/4200/status", "Name:\tqemu\nUid:\t65534\t65534\t65534\t65534\n");
        assert_int_equal(engine_on_uid(4200, &f->e), 0);
        vm = vm_of(f, 4200);
        assert_int_equal(vm->id.uid, 65534);
        assert_false(vm_managed(vm));
        assert_int_equal(f->e.scans, 1);

        /* the safety net */
        f->e.next_scan_usec = 0;
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(f->e.scans, 2);
        assert_non_null(vm_of(f, 4102));
}

/* Past the fd budget (RLIMIT_NOFILE less the reserve) nothing more is held for a VM: it is still placed and limited,
 * through files opened for each use, and the engine says so once, never a line per VM or per tick. */
static void test_fd_budget(void **state)
{
        struct fixture *f = *state;
        int probe;

        engine_start(f, false, f->audit);
        probe = fcntl(f->e.proc_fd, F_DUPFD_CLOEXEC, 0);
        assert_true(probe >= 0);
        close(probe);
        f->e.fd_limit = (uint64_t)probe + ENGINE_FD_RESERVE; /* not one fd more */
        stderr_capture_start();
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(engine_tick(&f->e), 0);
        char *log = stderr_capture_stop();
        for (pid_t pid = 4100; pid <= 4300; pid += 100) {
                const struct vm_state *vm = vm_of(f, pid);
                assert_non_null(vm);
                assert_true(vm_managed(vm));
                assert_int_equal(vm->cgroup_fd, -1);
                assert_int_equal(vm->pid_fd, -1);
        }
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "300");
        assert_string_equal(proc_cgroup(f, 4100), "/vmgov/web/web-1");
        assert_int_equal(occurrences(log, "file descriptors: with "), 1);
        assert_int_equal(occurrences(log, "Too many open files"), 0);
        free(log);
        probe = fcntl(f->e.proc_fd, F_DUPFD_CLOEXEC, 0);
        close(probe);
        assert_true((uint64_t)probe + ENGINE_FD_RESERVE <= f->e.fd_limit); /* nothing held past it */
}

/* In the budget's second half a VM holds only its cgroup: its pid is checked by number and its files are opened at
 * each tick, and it is sensed all the same. */
static void test_fd_budget_second_half(void **state)
{
        struct fixture *f = *state;
        const struct vm_state *vm;
        int probe;

        engine_start(f, false, f->audit);
        probe = fcntl(f->e.proc_fd, F_DUPFD_CLOEXEC, 0);
        assert_true(probe >= 8); /* room for the three VMs' cgroups in the second half */
        close(probe);
        f->e.fd_limit = 2 * (uint64_t)probe + ENGINE_FD_RESERVE; /* the first half is spent already */
        assert_int_equal(engine_tick(&f->e), 0);
        assert_int_equal(engine_tick(&f->e), 0);
        vm = vm_of(f, 4100);
        assert_true(vm_managed(vm));
        assert_int_equal(vm->pid_fd, -1);
        assert_true(vm->cgroup_fd >= 0);
        assert_non_null(vm->sensor);
        assert_true(vm->sig.memory_current > 0); /* read through its cgroup, file by file */
        assert_true(vm->sig.cpu_usage_usec > 0 || vm->sig.interval_usec > 0);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
}

/* What SIGTERM does after the loop: every VM back in the cgroup it came from, the engine's cgroups gone, and every
 * original written back. */
static void test_close_restores(void **state)
{
        struct fixture *f = *state;

        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "300");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "memory.high"), "1073741824");
        assert_string_equal(proc_cgroup(f, 4100), "/vmgov/web/web-1");
        assert_true(lines_matching(f->state, " file=cpu.weight ") >= 3);
        assert_int_equal(lines_matching(f->state, "file=cgroup.procs "), 2);
        assert_int_equal(lines_matching(f->state, "pid=4100 start=5100 from=/machine.slice/vm-web.scope"), 1);

        assert_int_equal(engine_close(&f->e), 0);
        f->open = false;
        assert_string_equal(proc_cgroup(f, 4100), "/machine.slice/vm-web.scope");
        assert_string_equal(cg_file(f, "machine.slice/vm-web.scope", "cgroup.procs"), "4100");
        assert_string_equal(proc_cgroup(f, 4200), "/machine.slice/vm-batch.scope");
        assert_false(cg_exists(f, "vmgov/web/web-1"));
        assert_false(cg_exists(f, "vmgov/batch/batch-1"));
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "100");
        assert_string_equal(proc_cgroup(f, 4300), "/machine.slice/legacy.scope"); /* inplace: never moved */
        assert_int_equal(lines_matching(f->state, "original cgroup="), 0);
        assert_int_equal(lines_matching(f->audit, "restore original on exit"), 1);
        assert_int_equal(lines_matching(f->audit, "goes back to the cgroup it came from"), 2);
}

/* A VM whose scope systemd removed once the engine took the VM out goes back to the nearest cgroup left. */
static void test_close_restores_to_ancestor(void **state)
{
        struct fixture *f = *state;
        char path[4200];

        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        snprintf(path, sizeof(path), "%s/%s/machine.slice/vm-web.scope", f->path, MOUNT);
        assert_int_equal(nftw(path, tmptree_remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        assert_int_equal(engine_close(&f->e), 0);
        f->open = false;
        assert_string_equal(proc_cgroup(f, 4100), "/machine.slice");
        assert_false(cg_exists(f, "vmgov/web/web-1"));
}

/* The value of a series in the metrics file, -1 when it is not there. */
static double metric(const char *path, const char *series)
{
        char line[4096];
        double v = -1;
        FILE *in = fopen(path, "re");

        assert_non_null(in);
        while (fgets(line, sizeof(line), in))
                if (strncmp(line, series, strlen(series)) == 0 && line[strlen(series)] == ' ')
                        v = strtod(line + strlen(series) + 1, NULL);
        fclose(in);
        return v;
}

/* A VM's counters only grow, across ticks and across its QEMU exiting and a new one of the same name coming back. */
static void test_metrics_counters_across_return(void **state)
{
        struct fixture *f = *state;
        static const char usage[] = "vmgov_vm_cpu_usage_seconds_total{vm=\"batch-1\",group=\"batch\"}";
        char metrics[4300];

        snprintf(metrics, sizeof(metrics), "%s/vmgov.prom", f->path);
        engine_start_metrics(f, false, "none", metrics);
        assert_int_equal(engine_tick(&f->e), 0); /* placed; its sensor's first tick: no deltas yet */
        assert_true(metric(metrics, usage) == 0);

        tmptree_write_string(f->fd, MOUNT "/vmgov/batch/batch-1/cpu.stat",
                             "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 20\n"
                             "nr_throttled 4\nthrottled_usec 70000\n");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_true(metric(metrics, usage) == 2.999);
        assert_true(metric(metrics, "vmgov_vm_cpu_throttled_periods_total{vm=\"batch-1\",group=\"batch\"}") == 4);

        /* it exits: no series while it is away */
        process_exit(f, PID_BATCH);
        tmptree_write_string(f->fd, MOUNT "/vmgov/batch/batch-1/cgroup.procs", "");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_true(metric(metrics, usage) == -1);

        /* a new QEMU of that name: its series go on from where the old one's stopped */
        process_new(f, PID_BATCH + 1, f->qemu, "batch-1", "machine.slice/vm-batch2.scope");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_true(metric(metrics, usage) == 2.999);
        tmptree_write_string(f->fd, MOUNT "/vmgov/batch/batch-1/cpu.stat",
                             "usage_usec 501000\nuser_usec 1000\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\n"
                             "throttled_usec 0\n");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_true(metric(metrics, usage) == 3.499);
        assert_true(metric(metrics, "vmgov_vm_cpu_throttled_periods_total{vm=\"batch-1\",group=\"batch\"}") == 4);
        /* pid, cgroup and exe are on the info series only */
        assert_true(metric(metrics, "vmgov_vm_info{vm=\"batch-1\",group=\"batch\",pid=\"4201\",cgroup=\""
                                    "vmgov/batch/batch-1\",exe=\"qemu-system-x86_64\"}") == 1);
}

/* DryRun= turned off and on again by reloads: the engine starts changing things only once its journal is open
 * (every original in it before its file is written), and turning dry-run back on puts back what it changed. */
static void test_dry_run_reloads(void **state)
{
        struct fixture *f = *state;

        policy_write_dry_run(f, 200, true);
        engine_start(f, false, f->audit);
        assert_int_equal(engine_tick(&f->e), 0);
        assert_true(f->e.dry_run);
        assert_int_equal(f->attaches, 0);
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "100");
        assert_int_not_equal(faccessat(f->fd, "state", F_OK, 0), 0); /* no journal in dry-run */

        policy_write_dry_run(f, 200, false);
        assert_int_equal(engine_reload(&f->e), 0);
        assert_false(f->e.dry_run);
        assert_int_equal(engine_tick(&f->e), 0);
        /* the VMs dry-run only pretended to place are placed for real, and limited */
        assert_int_equal(f->attaches, 2);
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cgroup.procs"), "4100");
        assert_string_equal(cg_file(f, "vmgov/web/web-1", "cpu.weight"), "200");
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "300");
        assert_true(lines_matching(f->state, "original cgroup=machine.slice/legacy.scope file=cpu.weight") == 1);

        policy_write_dry_run(f, 200, true);
        assert_int_equal(engine_reload(&f->e), 0);
        assert_true(f->e.dry_run);
        /* what it changed is back (the VMs where they came from), and nothing is left in the journal to restore */
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "100");
        assert_string_equal(proc_cgroup(f, 4100), "/machine.slice/vm-web.scope");
        assert_false(cg_exists(f, "vmgov/web/web-1"));
        assert_int_equal(lines_matching(f->state, "original cgroup="), 0);
        /* and from now on nothing is written */
        unsigned written = lines_matching(f->audit, "\"dry_run\":false");
        assert_int_equal(engine_tick(&f->e), 0);
        assert_string_equal(cg_file(f, "machine.slice/legacy.scope", "cpu.weight"), "100");
        assert_int_equal(lines_matching(f->audit, "\"dry_run\":false"), written);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_whole_ticks, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_two_reloads_in_one_tick, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_vm_exits, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_vm_exits_mid_tick, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_refused_write, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_pid_reused_before_move, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_pid_reused_during_move, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_squatted_cgroup, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_events_drive_discovery, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_fd_budget, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_fd_budget_second_half, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_close_restores, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_close_restores_to_ancestor, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_metrics_counters_across_return, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_left_alone_said_once, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_reloads, fixture_setup, fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
