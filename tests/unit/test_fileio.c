/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The engine's own files are replaced whole, through a temporary file no one can plant or guess. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/fileio.h"
#include "testutil.h"

static char *read_all(int dir_fd, const char *name)
{
        char *buf = calloc(1, 4096);
        int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);

        assert_non_null(buf);
        assert_true(fd >= 0);
        assert_true(read(fd, buf, 4095) >= 0);
        close(fd);
        return buf;
}

/* The names in dir, sorted, space-separated. */
static void listing(const char *dir, char *buf, size_t size)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);

        assert_true(n >= 0);
        buf[0] = '\0';
        for (int i = 0; i < n; i++) {
                if (names[i]->d_name[0] != '.' || (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")))
                        snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", buf[0] ? " " : "", names[i]->d_name);
                free(names[i]);
        }
        free(names);
}

static void test_atomic_write_file(void **state)
{
        char dir[4096], path[4200], outside[4200], names[1024];
        int dir_fd = tmptree_new(dir, sizeof(dir));
        mode_t old_umask = umask(077);
        struct stat st;
        char *text;

        snprintf(path, sizeof(path), "%s/status", dir);
        assert_int_equal(atomic_write_file(path, "one\n", 4, 0640, true), 0);
        text = read_all(dir_fd, "status");
        assert_string_equal(text, "one\n");
        free(text);
        assert_int_equal(fstatat(dir_fd, "status", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640); /* whatever the umask */

        /* The old fixed temporary name, planted as a symlink (or a leftover): neither followed nor used. */
        tmptree_write_string(dir_fd, "outside", "keep\n");
        snprintf(outside, sizeof(outside), "%s/outside", dir);
        assert_int_equal(symlinkat(outside, dir_fd, ".status.tmp"), 0);
        for (int i = 0; i < 50; i++)
                assert_int_equal(atomic_write_file(path, "two\n", 4, 0600, false), 0);
        text = read_all(dir_fd, "outside");
        assert_string_equal(text, "keep\n");
        free(text);
        text = read_all(dir_fd, "status");
        assert_string_equal(text, "two\n");
        free(text);
        /* No temporary file stays behind: only what was there, and the file. */
        listing(dir, names, sizeof(names));
        assert_string_equal(names, ".status.tmp outside status");

        /* Errors: a missing directory, a path that names no file; nothing is created. */
        snprintf(path, sizeof(path), "%s/missing/status", dir);
        assert_int_equal(atomic_write_file(path, "x\n", 2, 0600, false), -ENOENT);
        snprintf(path, sizeof(path), "%s/", dir);
        assert_int_equal(atomic_write_file(path, "x\n", 2, 0600, false), -EINVAL);
        listing(dir, names, sizeof(names));
        assert_string_equal(names, ".status.tmp outside status");

        umask(old_umask);
        tmptree_remove(dir, dir_fd);
}

/* Written in parts: a reader sees the old file until the commit; an abort leaves it, and nothing else, behind. */
static void test_atomic_file_parts(void **state)
{
        char dir[4096], path[4200], names[1024];
        int dir_fd = tmptree_new(dir, sizeof(dir));
        struct atomic_file f;
        char *text;

        snprintf(path, sizeof(path), "%s/status", dir);
        assert_int_equal(atomic_write_file(path, "old\n", 4, 0600, false), 0);

        assert_int_equal(atomic_file_open(&f, path, 0640), 0);
        assert_int_equal(atomic_file_write(&f, "one ", 4), 0);
        assert_int_equal(atomic_file_write(&f, "two ", 4), 0);
        text = read_all(dir_fd, "status");
        assert_string_equal(text, "old\n");
        free(text);
        assert_int_equal(atomic_file_write(&f, "three\n", 6), 0);
        assert_int_equal(atomic_file_commit(&f, true), 0);
        atomic_file_abort(&f); /* after a commit: nothing to undo */
        text = read_all(dir_fd, "status");
        assert_string_equal(text, "one two three\n");
        free(text);

        assert_int_equal(atomic_file_open(&f, path, 0600), 0);
        assert_int_equal(atomic_file_write(&f, "half", 4), 0);
        atomic_file_abort(&f);
        text = read_all(dir_fd, "status");
        assert_string_equal(text, "one two three\n");
        free(text);
        listing(dir, names, sizeof(names));
        assert_string_equal(names, "status");

        snprintf(path, sizeof(path), "%s/missing/status", dir);
        assert_int_equal(atomic_file_open(&f, path, 0600), -ENOENT);
        atomic_file_abort(&f);

        tmptree_remove(dir, dir_fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_atomic_write_file),
                cmocka_unit_test(test_atomic_file_parts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
