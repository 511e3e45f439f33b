/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether a process's executable is one only root could have put there: the rule (pure) and the stat it needs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover/exetrust.h"
#include "kernel/procfs.h"
#include "kernel/audit.h"
#include "kernel/macro.h"

int exe_path_parse(const char *target, char *ret_path, size_t size, bool *ret_deleted)
{
        static const char deleted[] = " (deleted)";
        size_t n = strlen(target);
        bool del = false;

        if (n >= sizeof(deleted) - 1 && strcmp(target + n - (sizeof(deleted) - 1), deleted) == 0) {
                n -= sizeof(deleted) - 1;
                del = true;
        }
        if (n == 0 || target[0] != '/')
                return -EINVAL;
        if (n >= size)
                return -ENAMETOOLONG;
        memcpy(ret_path, target, n);
        ret_path[n] = '\0';
        *ret_deleted = del;
        return 0;
}

static bool node_writable_by_others(const struct exe_node *n)
{
        return (n->mode & (S_IWGRP | S_IWOTH)) != 0;
}

struct exe_trust exe_trust_decide(const struct exe_facts *f, exe_trusted_path_t trusted, const void *userdata)
{
        struct exe_trust t = {EXE_TRUSTED, 0};

        if (!S_ISREG(f->file.mode))
                return (struct exe_trust){EXE_NOT_REGULAR, 0};
        if (!f->path_names_file)
                return (struct exe_trust){EXE_PATH_ELSEWHERE, 0};

        if (f->file.uid != 0)
                t.verdict = EXE_NOT_ROOT_OWNED;
        else if (node_writable_by_others(&f->file))
                t.verdict = EXE_WRITABLE;
        else if (f->n_dirs == 0) /* the reader always has / at least: facts without it prove nothing */
                t.verdict = EXE_PATH_ELSEWHERE;
        else
                for (size_t i = 0; i < f->n_dirs; i++) {
                        const struct exe_node *d = &f->dirs[i];
                        if (!S_ISDIR(d->mode)) {
                                t = (struct exe_trust){EXE_PATH_ELSEWHERE, 0};
                                break;
                        }
                        if (d->uid != 0) {
                                t = (struct exe_trust){EXE_DIR_NOT_ROOT_OWNED, i};
                                break;
                        }
                        if (node_writable_by_others(d)) {
                                t = (struct exe_trust){EXE_DIR_WRITABLE, i};
                                break;
                        }
                }

        if (t.verdict == EXE_PATH_ELSEWHERE)
                return t;
        if (t.verdict != EXE_TRUSTED && trusted && trusted(f->path, userdata))
                return (struct exe_trust){EXE_TRUSTED_PATH, 0};
        return t;
}

/* The directory dirs[i] stands for: the path cut after its i-th component ("/" for 0). */
static void dir_path(const char *path, size_t i, char *buf, size_t size)
{
        const char *end = path;

        for (size_t k = 0; k < i && end; k++)
                end = strchr(end + 1, '/');
        if (i == 0 || !end)
                snprintf(buf, size, "/");
        else
                snprintf(buf, size, "%.*s", (int)(end - path), path);
}

const char *exe_trust_describe(const struct exe_facts *f, struct exe_trust t, char *buf, size_t size)
{
        char path[AUDIT_LOG_NAME_MAX], dir[PATH_MAX], escaped_dir[AUDIT_LOG_NAME_MAX];
        const struct exe_node *d = t.dir < EXE_DEPTH_MAX ? &f->dirs[t.dir] : &f->dirs[0];

        audit_escape_for_log(f->path, path, sizeof(path));
        if (t.verdict == EXE_DIR_NOT_ROOT_OWNED || t.verdict == EXE_DIR_WRITABLE) {
                dir_path(f->path, t.dir, dir, sizeof(dir));
                audit_escape_for_log(dir, escaped_dir, sizeof(escaped_dir));
        }

        switch (t.verdict) {
        case EXE_TRUSTED:
                snprintf(buf, size, "%s is root's, in directories that are root's", path);
                break;
        case EXE_TRUSTED_PATH:
                snprintf(buf, size, "%s is vouched for by QemuTrustedPaths=", path);
                break;
        case EXE_NOT_REGULAR:
                snprintf(buf, size, "%s is not a regular file", path);
                break;
        case EXE_PATH_ELSEWHERE:
                snprintf(buf, size, "%s does not name its executable here (another mount namespace, or moved)", path);
                break;
        case EXE_NOT_ROOT_OWNED:
                snprintf(buf, size, "%s is owned by uid %u, not root", path, (unsigned)f->file.uid);
                break;
        case EXE_WRITABLE:
                snprintf(buf, size, "%s is writable by group or others (mode %04o)", path,
                         (unsigned)(f->file.mode & 07777));
                break;
        case EXE_DIR_NOT_ROOT_OWNED:
                snprintf(buf, size, "%s is in %s, which is owned by uid %u, not root", path, escaped_dir,
                         (unsigned)d->uid);
                break;
        case EXE_DIR_WRITABLE:
                snprintf(buf, size, "%s is in %s, which is writable by group or others (mode %04o)", path, escaped_dir,
                         (unsigned)(d->mode & 07777));
                break;
        default:
                snprintf(buf, size, "%s: verdict %d", path, (int)t.verdict);
        }
        return buf;
}

static void node_from_stat(const struct stat *st, struct exe_node *ret)
{
        *ret = (struct exe_node){.mode = st->st_mode, .uid = st->st_uid};
}

/* Walk the path beneath root_fd a directory at a time, never following a symbolic link, and stat each. */
static int path_walk(int root_fd, struct exe_facts *f)
{
        _cleanup_close_ int dir_fd = -1;
        char copy[PATH_MAX], *save = NULL, *next;
        struct stat st;

        dir_fd = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (fstat(dir_fd, &st) < 0)
                return -errno;
        node_from_stat(&st, &f->dirs[f->n_dirs++]);

        snprintf(copy, sizeof(copy), "%s", f->path);
        /* strtok_r would fold "//" into one separator: the kernel never writes one, and a path with one is refused. */
        if (strstr(copy, "//"))
                return 0;
        next = strtok_r(copy + 1, "/", &save);
        while (next) {
                char *name = next;

                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        return 0;
                next = strtok_r(NULL, "/", &save);
                if (!next) {
                        /* The file itself: the very inode the process runs? A deleted one is gone from its path, or
                         * replaced there by its successor: only its directories can be checked. */
                        if (f->deleted) {
                                f->path_names_file = true;
                                return 0;
                        }
                        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
                        f->path_names_file = st.st_dev == f->inode.dev && st.st_ino == f->inode.ino;
                        return 0;
                }
                if (f->n_dirs >= EXE_DEPTH_MAX)
                        return 0;
                int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
                close(dir_fd);
                dir_fd = fd;
                if (fstat(dir_fd, &st) < 0)
                        return -errno;
                node_from_stat(&st, &f->dirs[f->n_dirs++]);
        }
        return 0; /* the path was "/" alone: names no file */
}

int exe_facts_read_file(int pid_fd, const char *link, struct exe_facts *ret)
{
        char target[PATH_MAX];
        struct stat file;
        int r;

        *ret = (struct exe_facts){0};
        if (!link) {
                r = procfs_exe_link(pid_fd, target, sizeof(target));
                if (r < 0)
                        return r;
                link = target;
        }
        /* Through the magic link: the inode the process runs, wherever it is and whatever its path says. */
        if (fstatat(pid_fd, "exe", &file, 0) < 0)
                return -errno;
        node_from_stat(&file, &ret->file);
        ret->inode = (struct exe_inode){.dev = file.st_dev, .ino = file.st_ino, .ctime = file.st_ctim};

        r = exe_path_parse(link, ret->path, sizeof(ret->path), &ret->deleted);
        if (r == -EINVAL) { /* not a path in this root (a pipe, a memfd): it names nothing here */
                ret->path[0] = '\0';
                return 0;
        }
        return r;
}

int exe_facts_walk(int root_fd, struct exe_facts *f)
{
        return f->path[0] == '\0' ? 0 : path_walk(root_fd, f);
}

int exe_facts_read(int pid_fd, int root_fd, struct exe_facts *ret)
{
        int r = exe_facts_read_file(pid_fd, NULL, ret);

        return r < 0 ? r : exe_facts_walk(root_fd, ret);
}

static bool inode_same(const struct exe_inode *a, const struct exe_inode *b)
{
        return a->dev == b->dev && a->ino == b->ino && a->ctime.tv_sec == b->ctime.tv_sec &&
               a->ctime.tv_nsec == b->ctime.tv_nsec;
}

bool exe_memo_holds(const struct exe_memos *m, const struct exe_facts *f, uint64_t now_usec)
{
        if (f->deleted || f->path[0] == '\0')
                return false;
        for (size_t i = 0; i < EXE_MEMOS; i++) {
                const struct exe_memo *x = &m->memo[i];
                if (x->path[0] && now_usec - x->at_usec < EXE_MEMO_USEC && now_usec >= x->at_usec &&
                    inode_same(&x->inode, &f->inode) && strcmp(x->path, f->path) == 0)
                        return true;
        }
        return false;
}

void exe_memo_put(struct exe_memos *m, const struct exe_facts *f, uint64_t now_usec)
{
        struct exe_memo *slot = &m->memo[0];

        if (f->deleted || f->path[0] == '\0' || strlen(f->path) >= EXE_MEMO_PATH_MAX)
                return;
        for (size_t i = 0; i < EXE_MEMOS; i++) {
                struct exe_memo *x = &m->memo[i];
                if (strcmp(x->path, f->path) == 0) {
                        slot = x;
                        break;
                }
                if (x->at_usec < slot->at_usec) /* an unused one is at 0 */
                        slot = x;
        }
        snprintf(slot->path, sizeof(slot->path), "%s", f->path);
        slot->inode = f->inode;
        slot->at_usec = now_usec;
}
