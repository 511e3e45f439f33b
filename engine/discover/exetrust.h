/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Is a process's executable one only root could have put there? A process is taken for QEMU only when its
 * executable is a regular file owned by root and writable by nobody else, in directories that are all root's and
 * writable by nobody else, from its own up to / (OpenSSH's StrictModes, sudo's checks of its plugins). Otherwise any
 * user could copy a program to /tmp/qemu-system-x86_64 and have the root daemon move it and give it a group's
 * share. The operator may vouch for other paths (QemuTrustedPaths=).
 *
 * In two halves: exe_facts_read() stats what the decision needs, the file through /proc/PID/exe (the magic link
 * gives the inode the process runs, whatever its path says) and the directories along the link's path beneath a
 * root directory fd; exe_trust_decide() is the rule, pure, over those stat results.
 */

#define EXE_DEPTH_MAX 64 /* directories from / down to the executable's own */

/* What the rule looks at of one inode: its type and permission bits (st_mode) and its owner. */
struct exe_node {
        mode_t mode;
        uid_t uid;
};

/* Which inode, as it was: a chown, chmod, link or unlink of it moves its ctime. */
struct exe_inode {
        uint64_t dev, ino;
        struct timespec ctime;
};

struct exe_facts {
        char path[PATH_MAX];    /* as the kernel names the executable, " (deleted)" cut; "" if not a path here */
        bool deleted;           /* the file was removed or replaced since (a QEMU running on after an upgrade) */
        struct exe_node file;   /* through /proc/PID/exe */
        struct exe_inode inode; /* the same */
        /* The path, beneath the root, names that very file (same device and inode), through directories only (no
         * symbolic link, no "." or ".."). A path from another mount namespace, or a file moved since, does not.
         * Not compared for a deleted file, whose path may name its successor. */
        bool path_names_file;
        size_t n_dirs;                       /* how many of dirs[] were read */
        struct exe_node dirs[EXE_DEPTH_MAX]; /* dirs[0] is /, dirs[i] the directory of the path's first i components */
};

enum exe_verdict {
        EXE_TRUSTED,            /* root's, all the way up */
        EXE_TRUSTED_PATH,       /* the rule refuses it, but the operator vouches for its path */
        EXE_NOT_REGULAR,        /* not a regular file */
        EXE_PATH_ELSEWHERE,     /* its path does not name it here (see path_names_file) */
        EXE_NOT_ROOT_OWNED,     /* the file is not root's */
        EXE_WRITABLE,           /* the file is writable by group or others */
        EXE_DIR_NOT_ROOT_OWNED, /* dirs[dir] is not root's */
        EXE_DIR_WRITABLE,       /* dirs[dir] is writable by group or others (a sticky /tmp too) */
};

struct exe_trust {
        enum exe_verdict verdict;
        size_t dir; /* for the EXE_DIR_* verdicts: which of dirs[] */
};

/* Is the path vouched for (QemuTrustedPaths=)? Given to exe_trust_decide by its caller. */
typedef bool (*exe_trusted_path_t)(const char *path, const void *userdata);

/* Pure: split an exe link's target into the path and whether the kernel marked it " (deleted)". -EINVAL if it is
 * not an absolute path, -ENAMETOOLONG if it does not fit in size bytes. */
int exe_path_parse(const char *target, char *ret_path, size_t size, bool *ret_deleted);

/* Pure: the rule. The file is checked before its directories, the directories from / down; the first fault is
 * the one reported. A path the operator vouches for turns a refusal by ownership or mode into EXE_TRUSTED_PATH;
 * nothing turns a file that is not regular, or a path that does not name it, into a trusted one. trusted may be
 * NULL (nothing vouched for). */
struct exe_trust exe_trust_decide(const struct exe_facts *f, exe_trusted_path_t trusted, const void *userdata);

static inline bool exe_trust_ok(struct exe_trust t)
{
        return t.verdict == EXE_TRUSTED || t.verdict == EXE_TRUSTED_PATH;
}

/* Pure: why a refused executable was refused, for a log line; the path escaped (its file name is whoever made the
 * file's). E.g. "its directory /tmp is writable by group or others (mode 1777)". Returns buf. */
const char *exe_trust_describe(const struct exe_facts *f, struct exe_trust t, char *buf, size_t size);

/* Read the facts of the executable of the process whose /proc/PID is pid_fd, its path resolved beneath root_fd.
 * Returns 0 (also when the path does not name the file: path_names_file says so), -ENOENT/-ESRCH when the process
 * is gone or has no executable (kernel threads), -errno for what else failed. In two halves, the file
 * (exe_facts_read_file: link is its exe link's target as already read, or NULL to read it) and then the directories
 * of its path (exe_facts_walk), which a memo can spare. */
int exe_facts_read(int pid_fd, int root_fd, struct exe_facts *ret);
int exe_facts_read_file(int pid_fd, const char *link, struct exe_facts *ret);
int exe_facts_walk(int root_fd, struct exe_facts *f);

/*
 * The executables found trusted lately, so that a host starting QEMUs one after the other does not walk the same
 * path for each (four directories, a dozen system calls, per exec). A memo holds only what the rule needs to be
 * sure again: the same path, the very inode with the same ctime, within EXE_MEMO_USEC. Only root can change the
 * directories of a trusted path (they are root's and writable by nobody else), and within seconds the walk runs
 * again; a reload forgets every memo (QemuTrustedPaths= may have changed). A deleted executable is never memoised.
 */
#define EXE_MEMOS         8
#define EXE_MEMO_PATH_MAX 256
#define EXE_MEMO_USEC     (5 * 1000000ULL)

struct exe_memo {
        char path[EXE_MEMO_PATH_MAX]; /* "": unused */
        struct exe_inode inode;
        uint64_t at_usec; /* when the walk found it trusted (CLOCK_MONOTONIC) */
};

struct exe_memos {
        struct exe_memo memo[EXE_MEMOS];
};

/* Pure: is the file in f (exe_facts_read_file) one memoised as trusted, not longer ago than EXE_MEMO_USEC? */
bool exe_memo_holds(const struct exe_memos *m, const struct exe_facts *f, uint64_t now_usec);

/* Pure: remember f, just found trusted by the walk, in place of the same path's memo or else the oldest. */
void exe_memo_put(struct exe_memos *m, const struct exe_facts *f, uint64_t now_usec);
