/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of originals: on disk before a file changes, read back exactly, and never a way to write elsewhere;
 * appended to, compacted now and then, read past a torn or a bad line, and held by one process at a time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "act/actuator.h"
#include "act/statefile.h"
#include "kernel/macro.h"
#include "testutil.h"

static struct original orig(const char *cg, const char *file, const char *value)
{
        struct original o = {.cgroup = (char *)cg, .setting = {.controller = CGROUP_CPU}};
        snprintf(o.setting.file, sizeof(o.setting.file), "%s", file);
        o.value = (char *)value; /* borrowed */
        return o;
}

static void test_round_trip(void **state)
{
        struct original in[] = {orig("vmgov/web/web-1", "cpu.max", "max 100000"),
                                orig("operator/odd name%", "io.max", "254:0 rbps=max wbps=max riops=max wiops=max")};
        struct statefile_contents c;
        char *text = NULL;

        in[1].setting.major = 254;
        in[1].setting.controller = CGROUP_IO;
        assert_int_equal(statefile_format(in, 2, &text), 0);
        assert_string_equal(text,
                            "vmgov-state 2\n"
                            "original cgroup=vmgov/web/web-1 file=cpu.max dev=0:0 controller=0 value=max%20100000\n"
                            "original cgroup=operator/odd%20name%25 file=io.max dev=254:0 controller=2 "
                            "value=254:0%20rbps%3Dmax%20wbps%3Dmax%20riops%3Dmax%20wiops%3Dmax\n");
        assert_int_equal(statefile_parse(text, strlen(text), &c), 0);
        assert_int_equal(c.version, 2);
        assert_int_equal(c.n, 2);
        assert_int_equal(c.n_bad, 0);
        assert_string_equal(c.originals[1].cgroup, "operator/odd name%");
        assert_string_equal(c.originals[1].value, in[1].value);
        assert_int_equal(c.originals[1].setting.major, 254);
        assert_int_equal(c.originals[1].setting.controller, CGROUP_IO);
        statefile_contents_done(&c);
        free(text);
}

/* A VM the engine moved: who, and where it came from, read back as written. */
static void test_move_round_trip(void **state)
{
        struct original in = orig("vmgov/web/web-1", "cgroup.procs", "4100");
        struct statefile_contents c;
        char *line = NULL;
        size_t len;

        in.move = (struct original_move){4100, 123456789012ULL, (char *)"/user.slice/odd name.scope"};
        assert_int_equal(statefile_format_original(&in, &line, &len), 0);
        assert_string_equal(line, "original cgroup=vmgov/web/web-1 file=cgroup.procs dev=0:0 controller=0 pid=4100 "
                                  "start=123456789012 from=/user.slice/odd%20name.scope value=4100\n");
        char *text = NULL;
        assert_true(asprintf(&text, "vmgov-state 2\n%s", line) > 0);
        assert_int_equal(statefile_parse(text, strlen(text), &c), 0);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.n_bad, 0);
        assert_int_equal(c.originals[0].move.pid, 4100);
        assert_true(c.originals[0].move.start_time == 123456789012ULL);
        assert_string_equal(c.originals[0].move.from, "/user.slice/odd name.scope");
        statefile_contents_done(&c);
        free(text);
        free(line);
}

/* Each is one line the engine never wrote: skipped and named, never used. */
static void test_refuses_what_the_engine_never_writes(void **state)
{
        static const char *const bad[] = {
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 pid=1 start=2 from=etc "
                "value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 pid=1 start=2 from=/a/../b "
                "value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 pid=0 start=2 from=/b "
                "value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 pid=x start=2 from=/b "
                "value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cgroup.procs dev=0:0 controller=0 start=2 from=/b value=1\n",
                "vmgov-state 2\noriginal cgroup=../etc file=cpu.max dev=0:0 controller=0 value=1\n",
                "vmgov-state 2\noriginal cgroup=%2Fetc file=cpu.max dev=0:0 controller=0 value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cpu.max dev=0:0 controller=9 value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cpu.max value=1\n",
                "vmgov-state 2\nforget cgroup=../a\n",
                "vmgov-state 2\nforget\n",
                "vmgov-state 2\nrestore cgroup=a file=cpu.max dev=0:0 controller=0 value=1\n",
                "vmgov-state 2\noriginal cgroup=a file=cpu.max dev=0:0 controller=0 value=%zz\n",
        };
        struct statefile_contents c;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(statefile_parse(bad[i], strlen(bad[i]), &c), 0);
                if (c.n != 0 || c.n_bad != 1 || c.bad_lines[0] != 2 || c.torn_line != 0)
                        fail_msg("accepted, or not named as line 2: %s", strchr(bad[i], 0x0a) + 1);
                statefile_contents_done(&c);
        }
        /* a NUL inside a line */
        static const char nul[] = "vmgov-state 2\noriginal cgroup=a\0 file=cpu.max dev=0:0 controller=0 value=1\n";
        assert_int_equal(statefile_parse(nul, sizeof(nul) - 1, &c), 0);
        assert_int_equal(c.n, 0);
        assert_int_equal(c.n_bad, 1);
        statefile_contents_done(&c);
        /* not a journal at all: its first line is named, and nothing in it is used */
        static const char *const other = "vmgov-state 3\n#!/bin/sh\n";
        assert_int_equal(statefile_parse(other, strlen(other), &c), 0);
        assert_int_equal(c.version, 0);
        assert_int_equal(c.n, 0);
        assert_int_equal(c.n_bad, 2);
        assert_int_equal(c.bad_lines[0], 1);
        assert_int_equal(c.bad_lines[1], 2);
        statefile_contents_done(&c);
        /* empty: nothing to take over, nothing wrong */
        assert_int_equal(statefile_parse("", 0, &c), 0);
        assert_int_equal(c.n + c.n_bad, 0);
        statefile_contents_done(&c);
}

#define REC(cg, file, value) "original cgroup=" cg " file=" file " dev=0:0 controller=0 value=" value "\n"

/* What is live: a forget drops what came before it for that cgroup; the first original of a file is the one. */
static void test_replay(void **state)
{
        static const char text[] =
                "vmgov-state 2\n" REC("vm/a", "cpu.max", "max%20100000") REC("vm/a", "cpu.weight", "100")
                        REC("vm/b", "cpu.weight", "50") "forget cgroup=vm/a\n" REC("vm/a", "cpu.weight", "70")
                                REC("vm/a", "cpu.weight", "80") REC("vm/b", "cpu.weight", "60");
        struct statefile_contents c;

        assert_int_equal(statefile_parse(text, strlen(text), &c), 0);
        assert_int_equal(c.records, 7);
        assert_int_equal(c.n_bad, 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.originals[0].cgroup, "vm/b");
        assert_string_equal(c.originals[0].value, "50");
        assert_string_equal(c.originals[1].cgroup, "vm/a");
        assert_string_equal(c.originals[1].setting.file, "cpu.weight");
        assert_string_equal(c.originals[1].value, "70");
        statefile_contents_done(&c);
}

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;

        if (!f)
                return NULL;
        assert_int_equal(getdelim(&text, &len, '\0', f) >= 0 || feof(f), 1);
        fclose(f);
        return text;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, 0600), 0);
}

static const char *cg_value(int fd, const char *path, char *buf, size_t size)
{
        int cfd = openat(fd, path, O_RDONLY | O_CLOEXEC);
        ssize_t k;

        assert_true(cfd >= 0);
        k = read(cfd, buf, size - 1);
        close(cfd);
        assert_true(k >= 0);
        buf[k] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

/* A crash mid-append and a line no one can read: the rest is taken over and restored, the lines are named. */
static void test_torn_and_bad_lines_are_skipped(void **state)
{
        char path[4096], statepath[4200], badpath[4300], buf[128];
        int fd = tmptree_new(path, sizeof(path));
        struct actuator a;
        char *log, *text;

        snprintf(statepath, sizeof(statepath), "%s/run/state", path);
        snprintf(badpath, sizeof(badpath), "%s.bad", statepath);
        tmptree_mkdir(fd, "run");
        for (int i = 1; i <= 3; i++) {
                char file[64];
                snprintf(file, sizeof(file), "vm%d/cpu.weight", i);
                tmptree_write_string(fd, file, "300\n");
        }
        write_file(
                statepath,
                "vmgov-state 2\n" REC("vm1", "cpu.weight", "100") "this is not a record\n" REC(
                        "vm2", "cpu.weight",
                        "200") "original cgroup=vm9 file=cgroup.procs dev=0:0 "
                               "controller=0 value=1\n" REC(
                                       "vm3", "cpu.weight",
                                       "150") "original cgroup=vm3 file=cpu.max dev=0:0 controller=0 value=max%2010");

        actuator_init(&a, false, fd, -1);
        a.state_path = statepath;
        stderr_capture_start();
        assert_int_equal(actuator_take_over(&a), 3);
        log = stderr_capture_stop();
        assert_contains(log, "state file ");
        char want[4400];
        snprintf(want, sizeof(want), "state file %s:3: not understood; skipped", statepath);
        assert_contains(log, want);
        snprintf(want, sizeof(want), "state file %s:5: not understood; skipped", statepath);
        assert_contains(log, want);
        snprintf(want, sizeof(want),
                 "state file %s:7: the last record is cut short (a crash while it was appended); skipped", statepath);
        assert_contains(log, want);
        snprintf(want, sizeof(want), "the file as read is kept in %s", badpath);
        assert_contains(log, want);
        free(log);
        assert_int_equal(a.n_originals, 3);

        /* the journal now holds the three, and the file as read stays for a human */
        text = read_file(statepath);
        assert_string_equal(text, "vmgov-state 2\n" REC("vm1", "cpu.weight", "100") REC("vm2", "cpu.weight", "200")
                                          REC("vm3", "cpu.weight", "150"));
        free(text);
        text = read_file(badpath);
        assert_non_null(strstr(text, "this is not a record\n"));
        free(text);

        assert_int_equal(actuator_restore(&a), 0);
        assert_string_equal(cg_value(fd, "vm1/cpu.weight", buf, sizeof(buf)), "100");
        assert_string_equal(cg_value(fd, "vm2/cpu.weight", buf, sizeof(buf)), "200");
        assert_string_equal(cg_value(fd, "vm3/cpu.weight", buf, sizeof(buf)), "150");
        text = read_file(statepath);
        assert_string_equal(text, "vmgov-state 2\n");
        free(text);
        actuator_done(&a);
        tmptree_remove(path, fd);
}

/* An engine upgraded mid-life takes over what the old one journalled, and rewrites it in its own format. */
static void test_old_format(void **state)
{
        char path[4096], statepath[4200], buf[128];
        int fd = tmptree_new(path, sizeof(path));
        struct actuator a;
        char *text;

        snprintf(statepath, sizeof(statepath), "%s/state", path);
        tmptree_write_string(fd, "vm/cpu.max", "20000 100000\n");
        tmptree_write_string(fd, "vm/io.max", "8:0 rbps=1000 wbps=max riops=max wiops=max\n");
        write_file(statepath,
                   "vmgov-state 1\n" REC(
                           "vm", "cpu.max",
                           "max%20100000") "original cgroup=vm file=io.max dev=8:0 controller=2 "
                                           "value=8:0%20rbps%3Dmax%20wbps%3Dmax%20riops%3Dmax%20wiops%3Dmax\n");
        actuator_init(&a, false, fd, -1);
        a.state_path = statepath;
        assert_int_equal(actuator_take_over(&a), 2);
        text = read_file(statepath);
        assert_true(strncmp(text, "vmgov-state 2\n", 14) == 0);
        assert_non_null(strstr(text, " file=io.max dev=8:0 controller=2 "));
        free(text);
        assert_int_equal(actuator_restore(&a), 0);
        assert_string_equal(cg_value(fd, "vm/cpu.max", buf, sizeof(buf)), "max 100000");
        assert_string_equal(cg_value(fd, "vm/io.max", buf, sizeof(buf)), "8:0 rbps=max wbps=max riops=max wiops=max");
        actuator_done(&a);
        tmptree_remove(path, fd);
}

/* While one process holds the journal, another is refused and told who holds it; then it may. */
static void test_lock(void **state)
{
        char path[4096], statepath[4200], want[9000];
        int fd = tmptree_new(path, sizeof(path));
        struct statefile *sf = NULL, *other = NULL;
        struct actuator b;
        char *log;
        pid_t child;
        int status;

        snprintf(statepath, sizeof(statepath), "%s/run/state", path);
        assert_int_equal(statefile_open(statepath, "vmgov run", &sf), 0);
        snprintf(want, sizeof(want),
                 "state file %s is in use by vmgov run (pid %d), which holds %s.lock: not touching it while that "
                 "runs; stop it first (systemctl stop vmgov), or give this command its own --state-file",
                 statepath, (int)getpid(), statepath);

        /* in this process (another open file description) */
        stderr_capture_start();
        assert_int_equal(statefile_open(statepath, "vmgov once", &other), -EBUSY);
        log = stderr_capture_stop();
        assert_contains(log, want);
        free(log);
        assert_null(other);

        /* and in another process, through the actuator as vmgov restore takes over */
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                actuator_init(&b, false, fd, -1);
                b.state_path = statepath;
                int r = actuator_take_over(&b);
                actuator_done(&b);
                _exit(r == -EBUSY ? 0 : 1);
        }
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        /* released: the next one takes it */
        sf = statefile_close(sf);
        assert_int_equal(statefile_open(statepath, "vmgov once", &other), 0);
        other = statefile_close(other);
        tmptree_remove(path, fd);
}

/* Where a scale test writes: /run is tmpfs on a real host, and so is /dev/shm. */
static int scratch_dir(char *path, size_t size)
{
        const char *old = getenv("TMPDIR");
        char *saved = old ? strdup(old) : NULL;
        int fd;

        if (access("/dev/shm", W_OK) == 0)
                setenv("TMPDIR", "/dev/shm", 1);
        fd = tmptree_new(path, size);
        if (saved)
                setenv("TMPDIR", saved, 1);
        else
                unsetenv("TMPDIR");
        free(saved);
        return fd;
}

static double now_sec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define SCALE_VMS   10000
#define SCALE_FILES 8

static void vm_originals(unsigned vm, unsigned generation, struct original *o, char *cg, size_t size)
{
        static char values[SCALE_FILES][32]; /* until the next call */

        static const char *const files[SCALE_FILES] = {"cpu.max",    "cpu.weight", "cpu.idle", "memory.high",
                                                       "memory.max", "io.weight",  "io.max",   "io.max"};
        snprintf(cg, size, "vmgov/group-%u/vm-%u", vm % 17, vm);
        for (unsigned f = 0; f < SCALE_FILES; f++) {
                o[f] = (struct original){.cgroup = cg, .setting = {.controller = CGROUP_CPU}};
                snprintf(o[f].setting.file, sizeof(o[f].setting.file), "%s", files[f]);
                if (f >= 6)
                        o[f].setting.major = 8, o[f].setting.minor = f - 6;
                snprintf(values[f], sizeof(values[f]), "%u %u", vm * SCALE_FILES + f, generation);
                o[f].value = values[f];
        }
}

/* 10,000 VMs x 8 files: every original appended, read back, and VMs coming and going; the bytes written stay a
 * small multiple of the bytes of the records, however many there are. */
static void test_scale(void **state)
{
        char path[4096], statepath[4200], cg[64];
        int fd = scratch_dir(path, sizeof(path));
        struct statefile *sf = NULL;
        struct statefile_stats st;
        struct statefile_contents c;
        struct original o[SCALE_FILES];
        struct stat sb;
        uint64_t appended = 0;
        double t0, t_write, t_read, t_churn;

        snprintf(statepath, sizeof(statepath), "%s/state", path);
        assert_int_equal(statefile_open(statepath, "vmgov test", &sf), 0);
        assert_int_equal(statefile_read(sf, &c), 0);
        statefile_contents_done(&c);
        t0 = now_sec();
        for (unsigned vm = 0; vm < SCALE_VMS; vm++) {
                vm_originals(vm, 0, o, cg, sizeof(cg));
                for (unsigned f = 0; f < SCALE_FILES; f++) {
                        assert_false(statefile_needs_compact(sf, (size_t)vm * SCALE_FILES + f));
                        assert_int_equal(statefile_append(sf, &o[f]), 0);
                }
        }
        t_write = now_sec() - t0;
        statefile_get_stats(sf, &st);
        assert_int_equal(stat(statepath, &sb), 0);
        assert_int_equal(st.file_bytes, (uint64_t)sb.st_size);
        assert_int_equal(st.records, SCALE_VMS * SCALE_FILES);
        /* appended, never rewritten: every byte written once */
        assert_int_equal(st.bytes_written, (uint64_t)sb.st_size);
        assert_int_equal(st.compactions, 0);
        appended = st.bytes_written;
        sf = statefile_close(sf);

        assert_int_equal(statefile_open(statepath, "vmgov test", &sf), 0);
        t0 = now_sec();
        assert_int_equal(statefile_read(sf, &c), 0);
        t_read = now_sec() - t0;
        assert_int_equal(c.n, SCALE_VMS * SCALE_FILES);
        assert_int_equal(c.n_bad, 0);
        for (unsigned vm = 0; vm < SCALE_VMS; vm++) {
                vm_originals(vm, 0, o, cg, sizeof(cg));
                for (unsigned f = 0; f < SCALE_FILES; f++) {
                        const struct original *got = &c.originals[vm * SCALE_FILES + f];
                        if (strcmp(got->cgroup, cg) != 0 || strcmp(got->setting.file, o[f].setting.file) != 0 ||
                            got->setting.minor != o[f].setting.minor || strcmp(got->value, o[f].value) != 0)
                                fail_msg("original %u of VM %u read back as %s/%s %s", f, vm, got->cgroup,
                                         got->setting.file, got->value);
                }
        }
        assert_false(statefile_needs_compact(sf, c.n));
        printf("# 80,000 originals: appended in %.2f s, read back in %.3f s; %llu bytes, %llu bytes written\n", t_write,
               t_read, (unsigned long long)sb.st_size, (unsigned long long)appended);

        /* Churn: three times, every other VM goes (forget) and comes back (new originals), as the actuator does,
         * compacting when the rule says so. slot[vm * 8 + f] holds what is live. */
        struct original *slot = c.originals, *live = calloc(SCALE_VMS * SCALE_FILES, sizeof(*live));
        size_t n_live = c.n;
        assert_non_null(live);
#define COMPACT_IF_DUE()                                                                                               \
        do {                                                                                                           \
                if (statefile_needs_compact(sf, n_live)) {                                                             \
                        size_t k = 0;                                                                                  \
                        for (size_t i = 0; i < SCALE_VMS * SCALE_FILES; i++)                                           \
                                if (slot[i].cgroup)                                                                    \
                                        live[k++] = slot[i];                                                           \
                        assert_int_equal(k, n_live);                                                                   \
                        assert_int_equal(statefile_compact(sf, live, n_live), 0);                                      \
                }                                                                                                      \
        } while (0)
        t0 = now_sec();
        for (unsigned round = 1; round <= 3; round++) {
                for (unsigned vm = round % 2; vm < SCALE_VMS; vm += 2) {
                        vm_originals(vm, round, o, cg, sizeof(cg));
                        for (unsigned f = 0; f < SCALE_FILES; f++) {
                                original_done(&slot[vm * SCALE_FILES + f]);
                        }
                        n_live -= SCALE_FILES;
                        assert_int_equal(statefile_append_forget(sf, cg), 0);
                        COMPACT_IF_DUE();
                }
                for (unsigned vm = round % 2; vm < SCALE_VMS; vm += 2) {
                        vm_originals(vm, round, o, cg, sizeof(cg));
                        for (unsigned f = 0; f < SCALE_FILES; f++) {
                                COMPACT_IF_DUE();
                                assert_int_equal(statefile_append(sf, &o[f]), 0);
                                slot[vm * SCALE_FILES + f] = o[f];
                                slot[vm * SCALE_FILES + f].cgroup = strdup(cg);
                                slot[vm * SCALE_FILES + f].value = strdup(o[f].value);
                                n_live++;
                        }
                }
        }
        t_churn = now_sec() - t0;
        statefile_get_stats(sf, &st);
        assert_true(st.compactions > 0);
        assert_int_equal(stat(statepath, &sb), 0);
        assert_int_equal(st.file_bytes, (uint64_t)sb.st_size);
        /* the file never holds more than twice the live records and the slack */
        assert_true(st.records <= 2 * n_live + STATEFILE_COMPACT_SLACK);
        printf("# churn of 3 x 5,000 VMs: %.2f s, %u compactions, %llu bytes written in all for a file of %llu\n",
               t_churn, st.compactions, (unsigned long long)(appended + st.bytes_written),
               (unsigned long long)sb.st_size);
        /* linear: rewriting the file whole for every new original would write thousands of times its size */
        assert_true(appended + st.bytes_written < 6 * (uint64_t)sb.st_size);
        sf = statefile_close(sf);

        /* and what is read back is exactly what is live */
        struct statefile_contents d;
        assert_int_equal(statefile_open(statepath, "vmgov test", &sf), 0);
        assert_int_equal(statefile_read(sf, &d), 0);
        assert_int_equal(d.n, n_live);
        assert_int_equal(d.n_bad, 0);
        for (size_t i = 0; i < d.n; i++) {
                unsigned k = 0, generation = 0;
                assert_int_equal(sscanf(d.originals[i].value, "%u %u", &k, &generation), 2);
                assert_true(k < SCALE_VMS * SCALE_FILES);
                assert_non_null(slot[k].cgroup); /* live, and once: the counts are equal */
                assert_string_equal(d.originals[i].cgroup, slot[k].cgroup);
                assert_string_equal(d.originals[i].setting.file, slot[k].setting.file);
                assert_string_equal(d.originals[i].value, slot[k].value);
        }
        statefile_contents_done(&d);
        sf = statefile_close(sf);
        free(live);
        for (size_t i = 0; i < SCALE_VMS * SCALE_FILES; i++)
                original_done(&slot[i]);
        free(slot);
        tmptree_remove(path, fd);
}

static void test_journal_before_write(void **state)
{
        char path[4096], statepath[4200];
        int fd = tmptree_new(path, sizeof(path));
        int vm_fd;
        struct actuator a;
        struct setting s = {.file = "cpu.max", .controller = CGROUP_CPU, .value = "20000 100000"};
        struct original *out = NULL;
        size_t n = 0;

        tmptree_write_string(fd, "vm/cpu.max", "max 100000\n");
        tmptree_write_string(fd, "vm/cpu.weight", "100\n");
        vm_fd = openat(fd, "vm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct actuator_target t = {.vm = "x", .pid = 1, .group = "g", .cgroup = "vm", .cgroup_fd = vm_fd};

        /* The journal cannot be written: the file is not changed either. */
        actuator_init(&a, false, fd, -1);
        a.state_path = "/proc/vmgov-no-such-dir/state";
        assert_true(actuator_apply(&a, &t, &s, "policy") < 0);
        assert_int_equal(a.n_originals, 0);
        actuator_done(&a);
        int cfd = openat(fd, "vm/cpu.max", O_RDONLY);
        char buf[64] = {0};
        assert_true(read(cfd, buf, sizeof(buf)) > 0);
        close(cfd);
        assert_string_equal(buf, "max 100000\n");

        /* It can: the original is on disk, and a second engine takes it over and restores it. */
        snprintf(statepath, sizeof(statepath), "%s/run/state", path);
        actuator_init(&a, false, fd, -1);
        a.state_path = statepath;
        assert_int_equal(actuator_apply(&a, &t, &s, "policy"), 1);
        assert_int_equal(statefile_load(statepath, &out, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(out[0].value, "max 100000");
        statefile_free(out, n);
        actuator_done(&a); /* as if SIGKILLed: nothing restored */

        struct actuator b;
        actuator_init(&b, false, fd, -1);
        b.state_path = statepath;
        assert_int_equal(actuator_take_over(&b), 1);
        assert_int_equal(actuator_restore(&b), 0);
        cfd = openat(fd, "vm/cpu.max", O_RDONLY);
        memset(buf, 0, sizeof(buf));
        assert_true(read(cfd, buf, sizeof(buf)) > 0);
        close(cfd);
        assert_string_equal(buf, "max 100000");
        /* Restored: the journal is empty. */
        assert_int_equal(statefile_load(statepath, &out, &n), 0);
        assert_int_equal(n, 0);
        statefile_free(out, n);

        /* A journal that others may write is not trusted. */
        chmod(statepath, 0666);
        assert_int_equal(statefile_load(statepath, &out, &n), -EPERM);
        close(vm_fd);
        tmptree_remove(path, fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_move_round_trip),
                cmocka_unit_test(test_refuses_what_the_engine_never_writes),
                cmocka_unit_test(test_replay),
                cmocka_unit_test(test_journal_before_write),
                cmocka_unit_test(test_torn_and_bad_lines_are_skipped),
                cmocka_unit_test(test_old_format),
                cmocka_unit_test(test_lock),
                cmocka_unit_test(test_scale),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
