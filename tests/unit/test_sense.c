/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sensors on fixture cgroup directories holding real kernel file contents (tests/fixtures/sense/README): two ticks
 * with known deltas, counters that reset, missing files, PSI disabled, a vanished cgroup, swap, io devices, the
 * host's /proc/pressure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kernel/clock.h"
#include "kernel/cgroupfs.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "sense/psi.h"
#include "sense/sense.h"
#include "testutil.h"

#define FIX(name) FIXTURES_DIR "/sense/" name

static const char *const files_61[] = {
        "cpu.stat",      "cpu.pressure", "memory.pressure", "io.pressure", "memory.current",  "memory.stat",
        "memory.events", "memory.high",  "memory.max",      "io.stat",     "memory.swap.max", "cpu.max",
};

/* Copy every file of a fixture directory over the cgroup in place (same inodes: held fds see the new text). */
static void cgroup_fill(int dir, const char *fixture, const char *const *files, size_t n)
{
        char from[PATH_MAX];

        for (size_t i = 0; i < n; i++) {
                snprintf(from, sizeof(from), "%s/%s", fixture, files[i]);
                tmptree_copy(dir, files[i], from);
        }
}

/* The read function tests hand the sensor: errors by file name, else the default one pread(). */
static struct {
        const char *file; /* "pressure": every *.pressure file; NULL: none */
        int error;
        unsigned calls;
} fake;

static int fake_read(int fd, const char *file, char *buf, size_t size)
{
        fake.calls++;
        if (fake.file && (strcmp(fake.file, "*") == 0 || strcmp(fake.file, file) == 0 ||
                          (strcmp(fake.file, "pressure") == 0 && strstr(file, "pressure"))))
                return fake.error;
        return cgroupfs_pread_record(fd, buf, size);
}

static const struct sense_options fake_opts = {.name = "/sys/fs/cgroup/vm1", .read = fake_read};

struct tree {
        char path[PATH_MAX];
        int dir;
};

static int setup(void **state)
{
        struct tree *t = calloc(1, sizeof(*t));
        t->dir = tmptree_new(t->path, sizeof(t->path));
        fake.file = NULL;
        fake.error = 0;
        fake.calls = 0;
        sense_notes_reset();
        psi_notes_reset();
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct tree *t = *state;
        tmptree_remove(t->path, t->dir);
        free(t);
        return 0;
}

#define T0 1000000000ULL /* an arbitrary CLOCK_MONOTONIC µs */
#define DT 2000000ULL    /* the fixture's snapshots are about 2 s apart */

static void assert_tick1_absolute(const struct vm_signals *s)
{
        assert_true(s->memory_current == 23228416);
        assert_true(s->memory_anon == 22163456);
        assert_true(s->memory_file == 4096);
        assert_true(s->memory_kernel == 770048);
        assert_true(s->memory_shmem == 4096);
        assert_true(s->memory_sock == 0);
        /* no swap: anon + shmem + (kernel - slab_reclaimable) */
        assert_true(s->memory_unreclaimable == 22163456 + 4096 + (770048 - 4736));
        assert_true(s->memory_high == 16777216);
        assert_true(s->memory_max == LIMIT_MAX);
        assert_int_equal(s->psi.cpu.some.avg10_centi, 1362);
        assert_true(s->psi.cpu.some.total_usec == 9791355);
        assert_true(s->psi.memory.full.total_usec == 25187738);
        assert_true(s->psi.io.some.total_usec == 0);
}

/* Allocations made by the engine's code while counting is on (see wrap_alloc in meson.build). */
static bool counting;
static unsigned allocations;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n)
{
        allocations += counting;
        return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
        allocations += counting;
        return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
        allocations += counting;
        return __real_realloc(p, n);
}

/* Sensing allocates nothing per tick: the sensor holds its fds and the shared read buffer once it has grown to the
 * largest file; 1000 ticks of a VM and of the host then make no malloc, calloc or realloc at all. */
static void test_no_allocation_per_tick(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        _cleanup_(sense_host_freep) struct sense_host *h = NULL;
        const struct sense_options real = {.name = "vm1"}; /* pread, as the daemon reads */
        struct vm_signals sig;
        struct host_signals host;
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_open(t->dir, &real, &s), 0);
        bool have_host = sense_host_open(proc_fd, NULL, &h) == 0; /* no /proc/pressure: the VM alone */
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        if (have_host)
                (void)sense_host_tick(h, T0, &host);

        counting = true;
        for (uint64_t i = 1; i <= 1000; i++) {
                assert_int_equal(sense_vm_tick(s, T0 + i * DT, &sig), 0);
                if (have_host)
                        (void)sense_host_tick(h, T0 + i * DT, &host);
        }
        counting = false;
        print_message("1000 ticks of a VM%s: %u allocations\n", have_host ? " and of the host" : "", allocations);
        assert_int_equal(allocations, 0);
        assert_true(sig.interval_usec == DT); /* the ticks did sense */
}

static void test_two_ticks(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {.runq = {.source = RUNQ_SOURCE_BPF, .p99_usec = 1234}};

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_missing(s), 0);
        assert_false(sense_vm_swap(s));

        /* The first tick: absolute values, no deltas. */
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_true(sig.interval_usec == 0);
        assert_int_equal(sig.cpu.some_ppm, 0);
        assert_int_equal(sig.memory.some_ppm, 0);
        assert_true(sig.cpu_usage_usec == 0 && sig.memory_events_high == 0);
        assert_int_equal(sig.n_io_devices, 1);
        assert_int_equal(sig.io_devices[0].major, 1);
        assert_int_equal(sig.io_devices[0].minor, 0);
        assert_true(sig.io_devices[0].rbytes == 0);
        assert_tick1_absolute(&sig);
        /* runq is schedlat's: left as it was */
        assert_int_equal(sig.runq.source, RUNQ_SOURCE_BPF);
        assert_true(sig.runq.p99_usec == 1234);

        /* The second tick, 2 s later. */
        cgroup_fill(t->dir, FIX("cgroup-6.1-tick2"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_true(sig.interval_usec == DT);
        /* cpu.pressure: some 10785764 - 9791355 = 994409 µs, full 10752695 - 9762472 = 990223 µs, over 2 s */
        assert_int_equal(sig.cpu.some_ppm, 497204);
        assert_int_equal(sig.cpu.full_ppm, 495111);
        /* memory.pressure: 27828520 - 26480409 = 1348111, 26209058 - 25187738 = 1021320 */
        assert_int_equal(sig.memory.some_ppm, 674055);
        assert_int_equal(sig.memory.full_ppm, 510660);
        assert_int_equal(sig.io.some_ppm, 0);
        assert_int_equal(sig.io.full_ppm, 0);
        /* cpu.stat */
        assert_true(sig.cpu_usage_usec == 3411771 - 3089938);
        assert_true(sig.cpu_user_usec == 1668082 - 1382340);
        assert_true(sig.cpu_system_usec == 1743689 - 1707597);
        assert_true(sig.cpu_nr_periods == 218 - 199);
        assert_true(sig.cpu_nr_throttled == 158 - 141);
        assert_true(sig.cpu_throttled_usec == 15195583 - 12770294);
        /* memory.events: high 374 -> 442 */
        assert_true(sig.memory_events_high == 68);
        assert_true(sig.memory_events_max == 0 && sig.memory_events_oom == 0 && sig.memory_events_oom_kill == 0);
        /* absolute values of the second snapshot */
        assert_true(sig.memory_current == 23392256);
        assert_true(sig.memory_anon == 22384640);
        assert_true(sig.memory_unreclaimable == 22384640 + 4096 + (770048 - 4736));
        assert_int_equal(sig.psi.memory.some.avg10_centi, 9076);
        /* io.stat 1:0: rbytes 9437184 -> 33554432, rios 9 -> 32 */
        assert_int_equal(sig.n_io_devices, 1);
        assert_true(sig.io_devices[0].rbytes == 33554432 - 9437184);
        assert_true(sig.io_devices[0].rios == 23);
        assert_true(sig.io_devices[0].wbytes == 0 && sig.io_devices[0].wios == 0);
        assert_int_equal(sig.runq.source, RUNQ_SOURCE_BPF);

        /* A tick at the same instant covers no time: no deltas, the values are still read. */
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_true(sig.interval_usec == 0 && sig.cpu_usage_usec == 0 && sig.cpu.some_ppm == 0);
        assert_true(sig.memory_current == 23392256);

        /* SENSE_NOW reads CLOCK_MONOTONIC, which is far from T0 + DT: an interval, never a wrap */
        uint64_t before = monotonic_usec();
        assert_int_equal(sense_vm_tick(s, SENSE_NOW, &sig), 0);
        if (before > T0 + DT)
                assert_true(sig.interval_usec >= before - (T0 + DT));
}

/* Every counter going back (another cgroup behind the same files, a replay): zeros, never a wrapped value. */
static void test_counter_reset(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {};

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick2"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_true(sig.interval_usec == DT);
        assert_int_equal(sig.cpu.some_ppm, 0);
        assert_int_equal(sig.cpu.full_ppm, 0);
        assert_int_equal(sig.memory.some_ppm, 0);
        assert_true(sig.cpu_usage_usec == 0 && sig.cpu_user_usec == 0 && sig.cpu_system_usec == 0);
        assert_true(sig.cpu_nr_periods == 0 && sig.cpu_nr_throttled == 0 && sig.cpu_throttled_usec == 0);
        assert_true(sig.memory_events_high == 0);
        assert_true(sig.io_devices[0].rbytes == 0 && sig.io_devices[0].rios == 0);
        assert_tick1_absolute(&sig);
        /* and counting resumes from the new base */
        cgroup_fill(t->dir, FIX("cgroup-6.1-tick2"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_tick(s, T0 + 2 * DT, &sig), 0);
        assert_int_equal(sig.cpu.some_ppm, 497204);
        assert_true(sig.cpu_usage_usec == 3411771 - 3089938);
}

/* This work machine: a v2 cgroup without the cpu, memory and io controllers (they are bound to v1). */
static void test_missing_files(void **state)
{
        static const char *const files[] = {"cpu.stat", "cpu.pressure", "memory.pressure", "io.pressure"};
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL, *s2 = NULL;
        struct vm_signals sig = {};
        const unsigned expect = SENSE_FILE_BIT(SENSE_MEMORY_CURRENT) | SENSE_FILE_BIT(SENSE_MEMORY_STAT) |
                                SENSE_FILE_BIT(SENSE_MEMORY_EVENTS) | SENSE_FILE_BIT(SENSE_MEMORY_HIGH) |
                                SENSE_FILE_BIT(SENSE_MEMORY_MAX) | SENSE_FILE_BIT(SENSE_IO_STAT);
        char *out;

        cgroup_fill(t->dir, FIX("cgroup-6.18-hybrid"), files, ELEMENTSOF(files));
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s2), 0); /* a second VM alike: not said again */
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_int_equal(sense_vm_missing(s), expect);
        assert_contains(out, "/sys/fs/cgroup/vm1: no memory.current, memory.stat, memory.events, memory.high, "
                             "memory.max, io.stat (controllers not enabled for it: cpu memory io; cpu.stat has no "
                             "throttling counters): those signals stay 0");
        assert_null(strstr(strstr(out, "no memory.current") + 1, "no memory.current"));
        free(out);

        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        tmptree_write_string(t->dir, "cpu.stat",
                             "usage_usec 1510264\nuser_usec 1410264\nsystem_usec 100000\n"
                             "nice_usec 0\n");
        tmptree_write_string(t->dir, "cpu.pressure",
                             "some avg10=5.61 avg60=1.01 avg300=0.21 total=747867\n"
                             "full avg10=5.61 avg60=1.01 avg300=0.21 total=647867\n");
        assert_int_equal(sense_vm_tick(s, T0 + 1000000, &sig), 0);
        assert_true(sig.interval_usec == 1000000);
        assert_true(sig.cpu_usage_usec == 200000);
        assert_true(sig.cpu_user_usec == 100000 && sig.cpu_system_usec == 100000);
        assert_int_equal(sig.cpu.some_ppm, 100000);
        assert_int_equal(sig.cpu.full_ppm, 0);
        /* what the host cannot measure stays 0 */
        assert_true(sig.cpu_nr_periods == 0 && sig.cpu_nr_throttled == 0 && sig.cpu_throttled_usec == 0);
        assert_true(sig.memory_current == 0 && sig.memory_anon == 0 && sig.memory_unreclaimable == 0);
        assert_true(sig.memory_high == 0 && sig.memory_max == 0);
        assert_true(sig.memory_events_high == 0);
        assert_int_equal(sig.n_io_devices, 0);

        /* the cpu controller present (cpu.max there): only the missing files are named */
        sense_notes_reset();
        tmptree_write_string(t->dir, "cpu.max", "max 100000\n");
        _cleanup_(sense_vm_freep) struct sense_vm *s3 = NULL;
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s3), 0);
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_contains(out, "memory.max, io.stat (controllers not enabled for it: memory io): those signals stay 0");
        free(out);

        /* no cpu.stat: not a cgroup v2 directory, or a removed one */
        _cleanup_(sense_vm_freep) struct sense_vm *s4 = NULL;
        assert_int_equal(unlinkat(t->dir, "cpu.stat", 0), 0);
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s4), -ENOENT);
        assert_null(s4);
}

/* PSI disabled at boot: every *.pressure read fails with EOPNOTSUPP. Said once; the rest is sensed. */
static void test_psi_disabled(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL, *s2 = NULL;
        struct vm_signals sig = {};
        unsigned calls;
        char *out;

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        fake.file = "pressure";
        fake.error = -EOPNOTSUPP;
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s2), 0);
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_int_equal(sense_vm_tick(s2, T0, &sig), 0);
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_contains(out, "PSI is disabled on this kernel (reading /sys/fs/cgroup/vm1/cpu.pressure: EOPNOTSUPP; "
                             "boot with psi=1 to enable it): pressure signals stay 0, sensing goes on without them");
        assert_null(strstr(strstr(out, "PSI is disabled") + 1, "PSI is disabled"));
        free(out);
        assert_true(psi_disabled_seen());
        assert_int_equal(sense_vm_missing(s), SENSE_FILE_BIT(SENSE_CPU_PRESSURE) |
                                                      SENSE_FILE_BIT(SENSE_MEMORY_PRESSURE) |
                                                      SENSE_FILE_BIT(SENSE_IO_PRESSURE));
        assert_true(sig.memory_current == 23228416);

        /* the pressure files are not read again */
        cgroup_fill(t->dir, FIX("cgroup-6.1-tick2"), files_61, ELEMENTSOF(files_61));
        calls = fake.calls;
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_int_equal(fake.calls - calls, 7);
        assert_int_equal(sig.cpu.some_ppm, 0);
        assert_int_equal(sig.memory.some_ppm, 0);
        assert_true(sig.psi.cpu.some.total_usec == 0);
        assert_true(sig.cpu_usage_usec == 3411771 - 3089938);
        assert_true(sig.memory_events_high == 68);
}

static void test_vanished(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {.memory_current = 42};
        char *out;

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);

        /* A removed cgroup: its held files fail with ENODEV; a distinct -ENODEV, ret untouched, at debug level. */
        fake.file = "*";
        fake.error = -ENODEV;
        sig.memory_current = 42;
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), -ENODEV);
        fake.error = -ENOENT;
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), -ENODEV);
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_string_equal(out, "");
        free(out);
        assert_true(sig.memory_current == 42);

        /* One file gone while cpu.stat still reads (memory disabled in the parent's subtree_control): dropped. */
        fake.file = "memory.stat";
        fake.error = -ENODEV;
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        out = stderr_capture_stop();
        assert_contains(out, "/sys/fs/cgroup/vm1: memory.stat went away (No such device) while the cgroup stays");
        free(out);
        assert_int_equal(sense_vm_missing(s), SENSE_FILE_BIT(SENSE_MEMORY_STAT));
        assert_true(sig.memory_anon == 0 && sig.memory_current == 23228416);

        /* Any other error is an error, logged, and ret is untouched. */
        fake.file = "io.stat";
        fake.error = -EIO;
        sig.memory_current = 42;
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0 + 2 * DT, &sig), -EIO);
        out = stderr_capture_stop();
        assert_contains(out, "/sys/fs/cgroup/vm1: read io.stat: Input/output error");
        free(out);
        assert_true(sig.memory_current == 42);

        /* text that does not parse */
        fake.file = NULL;
        tmptree_write_string(t->dir, "memory.current", "lots\n");
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0 + 3 * DT, &sig), -EINVAL);
        out = stderr_capture_stop();
        assert_contains(out, "cannot parse memory.current");
        free(out);

        /* The same failure on the next ticks of the minute: quiet (debug level only), still returned. */
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        for (unsigned i = 4; i < 10; i++)
                assert_int_equal(sense_vm_tick(s, T0 + i * DT, &sig), -EINVAL);
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_string_equal(out, "");
        free(out);

        /* A minute later: one summary that counts them. */
        stderr_capture_start();
        assert_int_equal(sense_vm_tick(s, T0 + 3 * DT + 60 * 1000000ULL, &sig), -EINVAL);
        out = stderr_capture_stop();
        assert_contains(out, "cannot parse memory.current");
        assert_contains(out, "(7 times since the last line");
        free(out);
}

/* With swap, anon and shmem can go; mlocked memory (unevictable) cannot. memory.swap.max 0 takes swap away. */
static void test_swap(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL, *s2 = NULL;
        struct sense_options o = fake_opts;
        struct vm_signals sig = {};

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        tmptree_write_string(t->dir, "memory.stat",
                             "anon 1000000\nfile 500000\nkernel 300000\nkernel_stack 1\n"
                             "shmem 20000\nunevictable 70000\nslab_reclaimable 100000\n");
        o.swap = true;
        assert_int_equal(sense_vm_open(t->dir, &o, &s), 0);
        assert_true(sense_vm_swap(s));
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_true(sig.memory_unreclaimable == 70000 + (300000 - 100000));
        assert_true(sig.memory_kernel == 300000);

        tmptree_write_string(t->dir, "memory.swap.max", "0\n");
        assert_int_equal(sense_vm_open(t->dir, &o, &s2), 0);
        assert_false(sense_vm_swap(s2));
        assert_int_equal(sense_vm_tick(s2, T0, &sig), 0);
        assert_true(sig.memory_unreclaimable == 1000000 + 20000 + (300000 - 100000));

        bool swap = true;
        assert_int_equal(sense_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", &swap), 0);
        assert_false(swap);
        assert_int_equal(sense_parse_swaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                                           "/dev/zram0                              partition\t4194300\t\t0\t\t100\n",
                                           &swap),
                         0);
        assert_true(swap);
        assert_int_equal(sense_parse_swaps("", &swap), -EINVAL);

        tmptree_write_string(t->dir, "swaps",
                             "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile file 1 0 -2\n");
        swap = false;
        assert_int_equal(sense_swap_present(t->dir, &swap), 0);
        assert_true(swap);
        assert_int_equal(unlinkat(t->dir, "swaps", 0), 0);
        assert_int_equal(sense_swap_present(t->dir, &swap), 0); /* no CONFIG_SWAP: no swap */
        assert_false(swap);
}

/* Before 5.18 memory.stat has no "kernel": its parts are summed. */
static void test_memory_stat_without_kernel(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {};

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        tmptree_write_string(t->dir, "memory.stat",
                             "anon 1000000\nfile 500000\nkernel_stack 16384\npagetables 40960\npercpu 2880\n"
                             "sock 0\nshmem 8192\nslab_reclaimable 30000\nslab_unreclaimable 60000\nslab 90000\n");
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_true(sig.memory_unreclaimable == 1000000 + 8192 + 16384 + 40960 + 2880 + 60000);
        assert_true(sig.memory_kernel == 16384 + 40960 + 2880 + 60000 + 30000);
}

/* More devices than SIGNALS_IO_DEVICES: the busiest are kept. A device line that appears counts from zero. */
static void test_io_devices(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {};
        char text[4096];
        size_t n = 0;

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        /* twelve devices 8:0..8:176 with 1000 bytes read each */
        for (unsigned i = 0; i < 12; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      "8:%u rbytes=1000 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n", i * 16);
        tmptree_write_string(t->dir, "io.stat", text);
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_int_equal(sig.n_io_devices, SIGNALS_IO_DEVICES);

        /* device i reads i * 100 more bytes; a new device 253:0 (newest first, as the kernel lists it) writes */
        n = (size_t)snprintf(text, sizeof(text),
                             "253:0 rbytes=0 wbytes=5000000 rios=0 wios=9 dbytes=0 dios=0 "
                             "cost.vrate=100.00 cost.usage=1 cost.wait=0 cost.indebt=0\n");
        for (unsigned i = 0; i < 12; i++)
                n += (size_t)snprintf(text + n, sizeof(text) - n,
                                      "8:%u rbytes=%u wbytes=0 rios=2 wios=0 dbytes=0 dios=0\n", i * 16,
                                      1000 + i * 100);
        tmptree_write_string(t->dir, "io.stat", text);
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_int_equal(sig.n_io_devices, SIGNALS_IO_DEVICES);
        assert_int_equal(sig.io_devices[0].major, 253);
        assert_true(sig.io_devices[0].wbytes == 5000000 && sig.io_devices[0].wios == 9);
        for (unsigned k = 1; k < SIGNALS_IO_DEVICES; k++) {
                unsigned i = 12 - k; /* busiest first: 8:176 (1100 bytes), 8:160, ... */
                assert_int_equal(sig.io_devices[k].major, 8);
                assert_int_equal(sig.io_devices[k].minor, i * 16);
                assert_true(sig.io_devices[k].rbytes == i * 100);
                assert_true(sig.io_devices[k].rios == 1);
        }

        /* an empty io.stat (no I/O yet, or the devices went away) */
        tmptree_write_string(t->dir, "io.stat", "");
        assert_int_equal(sense_vm_tick(s, T0 + 2 * DT, &sig), 0);
        assert_int_equal(sig.n_io_devices, 0);
}

/* A file larger than the initial buffer: the buffer grows once and the file parses. */
static void test_large_file(void **state)
{
        struct tree *t = *state;
        _cleanup_(sense_vm_freep) struct sense_vm *s = NULL;
        struct vm_signals sig = {};
        size_t size = 20000, n = 0;
        _cleanup_free_ char *text = malloc(size);

        cgroup_fill(t->dir, FIX("cgroup-6.1-tick1"), files_61, ELEMENTSOF(files_61));
        n += (size_t)snprintf(text, size, "anon 123\n");
        for (unsigned i = 0; n + 40 < size; i++)
                n += (size_t)snprintf(text + n, size - n, "some_future_key_%u 1\n", i);
        n += (size_t)snprintf(text + n, size - n, "shmem 7\n");
        tmptree_write(t->dir, "memory.stat", text, n);
        assert_int_equal(sense_vm_open(t->dir, &fake_opts, &s), 0);
        assert_int_equal(sense_vm_tick(s, T0, &sig), 0);
        assert_true(sig.memory_anon == 123 && sig.memory_shmem == 7);
        assert_int_equal(sense_vm_tick(s, T0 + DT, &sig), 0);
        assert_true(sig.memory_anon == 123 && sig.memory_shmem == 7);
}

static void test_host(void **state)
{
        static const char *const files[] = {"pressure/cpu", "pressure/memory", "pressure/io"};
        struct tree *t = *state;
        _cleanup_(sense_host_freep) struct sense_host *h = NULL;
        struct host_signals sig = {};
        char *out;

        cgroup_fill(t->dir, FIX("proc-6.1-tick1"), files, ELEMENTSOF(files));
        assert_int_equal(sense_host_open(t->dir, &(struct sense_options){.name = "/proc", .read = fake_read}, &h), 0);
        assert_int_equal(sense_host_tick(h, T0, &sig), 0);
        assert_true(sig.interval_usec == 0 && sig.cpu.some_ppm == 0);
        assert_true(sig.ncpus >= 1);
        assert_true(sig.psi.memory.full.total_usec == 24267381);
        cgroup_fill(t->dir, FIX("proc-6.1-tick2"), files, ELEMENTSOF(files));
        assert_int_equal(sense_host_tick(h, T0 + DT, &sig), 0);
        assert_true(sig.interval_usec == DT);
        /* cpu some 11241565 - 10276560 = 965005; memory some 27482713 - 26080961 = 1401752, full 996390 */
        assert_int_equal(sig.cpu.some_ppm, 482502);
        assert_int_equal(sig.cpu.full_ppm, 0);
        assert_int_equal(sig.memory.some_ppm, 700876);
        assert_int_equal(sig.memory.full_ppm, 498195);
        assert_int_equal(sig.io.some_ppm, 0);
        assert_int_equal(sig.psi.cpu.some.avg10_centi, 2217);

        /* PSI disabled: said once, zeros, and the host tick goes on */
        fake.file = "pressure";
        fake.error = -EOPNOTSUPP;
        log_set_max_level(LOG_INFO);
        stderr_capture_start();
        assert_int_equal(sense_host_tick(h, T0 + 2 * DT, &sig), 0);
        out = stderr_capture_stop();
        log_set_max_level(LOG_DEBUG);
        assert_contains(out, "PSI is disabled on this kernel (reading /proc/pressure/cpu: EOPNOTSUPP");
        free(out);
        assert_int_equal(sig.cpu.some_ppm, 0);
        assert_true(sig.psi.cpu.some.total_usec == 0);
        fake.file = NULL;
        assert_int_equal(sense_host_tick(h, T0 + 3 * DT, &sig), 0);
        assert_true(sig.psi.cpu.some.total_usec == 0); /* not read again */

        /* no /proc/pressure (CONFIG_PSI=n, or psi=0 on 6.1) */
        _cleanup_(sense_host_freep) struct sense_host *h2 = NULL;
        struct tree t2;
        t2.dir = tmptree_new(t2.path, sizeof(t2.path));
        stderr_capture_start();
        assert_int_equal(sense_host_open(t2.dir, NULL, &h2), 0);
        out = stderr_capture_stop();
        assert_contains(out,
                        "/proc/pressure/cpu does not exist (a kernel without CONFIG_PSI, or booted with psi=0): host "
                        "pressure stays 0");
        free(out);
        assert_int_equal(sense_host_tick(h2, T0, &sig), 0);
        assert_int_equal(sense_host_tick(h2, T0 + DT, &sig), 0);
        assert_true(sig.interval_usec == DT && sig.cpu.some_ppm == 0);
        tmptree_remove(t2.path, t2.dir);
}

static void test_file_names(void **state)
{
        assert_string_equal(sense_file_name(SENSE_CPU_STAT), "cpu.stat");
        assert_string_equal(sense_file_name(SENSE_IO_STAT), "io.stat");
        assert_null(sense_file_name(_SENSE_FILE_MAX));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_two_ticks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_allocation_per_tick, setup, teardown),
                cmocka_unit_test_setup_teardown(test_counter_reset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_files, setup, teardown),
                cmocka_unit_test_setup_teardown(test_psi_disabled, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vanished, setup, teardown),
                cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_stat_without_kernel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_io_devices, setup, teardown),
                cmocka_unit_test_setup_teardown(test_large_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host, setup, teardown),
                cmocka_unit_test(test_file_names),
        };
        log_set_max_level(LOG_DEBUG);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
