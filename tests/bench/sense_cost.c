/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-sense-cost — benchmark (a) of issue 4: what sensing costs per VM per tick, next to a bare pread() of the
 * same files on held fds, in the same run. Run by scripts/bench/sense-cost, which creates the cgroups.
 *
 *   bench-sense-cost [--rounds R] DIR N
 *
 * DIR holds N cgroups vm-0 .. vm-(N-1). For each, a sensor (engine/sense/sense.c) and, for the baseline, one held fd on
 * each file the sensor reads there (the same list: the files that exist). Each round times, over all N VMs:
 *   bare      one pread() per held file into a buffer, nothing else;
 *   sensor    sense_vm_tick(): the same preads, the parse, the deltas, the signals (clock read included);
 *   loop      cgroupfs_pread() per held file: the read-until-EOF loop (a second pread per file), for comparison;
 * in an order that rotates every round, after one warm-up round. Prints the median over the rounds in ns per VM per
 * tick, the ratio sensor / bare, and the parse cost alone on realistic text (the 6.1 fixture's figures).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "kernel/cgroupfs.h"
#include "kernel/cgvalues.h"
#include "kernel/macro.h"
#include "sense/psi.h"
#include "sense/sense.h"

struct vm {
        struct sense_vm *sensor;
        int fd[_SENSE_FILE_MAX];
        unsigned n_fd;
};

static char buf[65536];

static struct cost pass_bare(struct vm *vms, unsigned n)
{
        struct cost t0 = cost_start();
        for (unsigned i = 0; i < n; i++)
                for (unsigned f = 0; f < vms[i].n_fd; f++)
                        if (pread(vms[i].fd[f], buf, sizeof(buf) - 1, 0) < 0)
                                abort();
        return cost_end(t0);
}

static struct cost pass_loop(struct vm *vms, unsigned n)
{
        struct cost t0 = cost_start();
        for (unsigned i = 0; i < n; i++)
                for (unsigned f = 0; f < vms[i].n_fd; f++)
                        if (cgroupfs_pread(vms[i].fd[f], buf, sizeof(buf)) < 0)
                                abort();
        return cost_end(t0);
}

static struct cost pass_sensor(struct vm *vms, unsigned n)
{
        struct vm_signals sig = {};
        struct cost t0 = cost_start();
        for (unsigned i = 0; i < n; i++)
                if (sense_vm_tick(vms[i].sensor, SENSE_NOW, &sig) < 0)
                        abort();
        return cost_end(t0);
}

/* Parsing alone, on the text a busy 6.1 cgroup shows (tests/fixtures/sense/cgroup-6.1-tick2): the four files this
 * host has, or (all) the ten a cgroup with the cpu, memory and io controllers has. CPU ns per VM. */
static uint64_t parse_only_ns(unsigned iterations, bool all)
{
        static const char cpu_stat[] = "usage_usec 3411771\nuser_usec 1668082\nsystem_usec 1743689\nnr_periods 218\n"
                                       "nr_throttled 158\nthrottled_usec 15195583\nnr_bursts 0\nburst_usec 0\n";
        static const char cpu_p[] = "some avg10=16.59 avg60=10.55 avg300=3.04 total=10785764\n"
                                    "full avg10=16.48 avg60=10.50 avg300=3.03 total=10752695\n";
        static const char mem_p[] = "some avg10=90.76 avg60=34.60 avg300=8.46 total=27828520\n"
                                    "full avg10=84.97 avg60=33.56 avg300=8.24 total=26209058\n";
        static const char io_p[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                   "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        static const char memory_stat[] = "anon 22384640\n"
                                          "file 4096\n"
                                          "kernel 770048\n"
                                          "kernel_stack 98304\n"
                                          "pagetables 335872\n"
                                          "sec_pagetables 0\n"
                                          "percpu 0\n"
                                          "sock 0\n"
                                          "vmalloc 0\n"
                                          "shmem 4096\n"
                                          "zswap 0\n"
                                          "zswapped 0\n"
                                          "file_mapped 0\n"
                                          "file_dirty 0\n"
                                          "file_writeback 0\n"
                                          "swapcached 0\n"
                                          "anon_thp 8388608\n"
                                          "file_thp 0\n"
                                          "shmem_thp 0\n"
                                          "inactive_anon 22323200\n"
                                          "active_anon 16384\n"
                                          "inactive_file 0\n"
                                          "active_file 0\n"
                                          "unevictable 0\n"
                                          "slab_reclaimable 4736\n"
                                          "slab_unreclaimable 213576\n"
                                          "slab 218312\n"
                                          "workingset_refault_anon 0\n"
                                          "workingset_refault_file 0\n"
                                          "workingset_activate_anon 0\n"
                                          "workingset_activate_file 0\n"
                                          "workingset_restore_anon 0\n"
                                          "workingset_restore_file 0\n"
                                          "workingset_nodereclaim 0\n"
                                          "pgscan 0\n"
                                          "pgsteal 0\n"
                                          "pgscan_kswapd 0\n"
                                          "pgscan_direct 0\n"
                                          "pgsteal_kswapd 0\n"
                                          "pgsteal_direct 0\n"
                                          "pgfault 6498\n"
                                          "pgmajfault 0\n"
                                          "pgrefill 0\n"
                                          "pgactivate 1\n"
                                          "pgdeactivate 0\n"
                                          "pglazyfree 0\n"
                                          "pglazyfreed 0\n"
                                          "zswpin 0\n"
                                          "zswpout 0\n"
                                          "thp_fault_alloc 5\n"
                                          "thp_collapse_alloc 6\n";
        struct cgv_cpu_stat cs;
        struct cgv_memory_stat mst;
        struct cgv_memory_events ev;
        struct cgv_io_stat_device io[4];
        uint64_t v;
        struct psi_resource r;
        uint64_t t0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);

        for (unsigned i = 0; i < iterations; i++) {
                if (cgv_parse_cpu_stat(cpu_stat, &cs) < 0 || psi_parse(cpu_p, &r) < 0 || psi_parse(mem_p, &r) < 0 ||
                    psi_parse(io_p, &r) < 0)
                        abort();
                if (all &&
                    (cgv_parse_u64("23392256\n", &v) < 0 || cgv_parse_memory_stat(memory_stat, &mst) < 0 ||
                     cgv_parse_memory_events("low 0\nhigh 442\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n", &ev) <
                             0 ||
                     cgv_parse_memory("16777216\n", &v) < 0 || cgv_parse_memory("max\n", &v) < 0 ||
                     cgv_parse_io_stat_all("1:0 rbytes=33554432 wbytes=0 rios=32 wios=0 dbytes=0 dios=0\n", io, 4) < 0))
                        abort();
                __asm__ volatile("" : : "r"(&mst), "r"(&ev), "r"(io), "r"(&v) : "memory");
                __asm__ volatile("" : : "r"(&r), "r"(&cs) : "memory");
        }
        return (bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / iterations;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {{"rounds", required_argument, NULL, 'r'}, {}};
        unsigned rounds = 15, n, files = 0;
        struct cost bare[BENCH_ROUNDS_MAX], sensor[BENCH_ROUNDS_MAX], loop[BENCH_ROUNDS_MAX];
        struct rlimit rl;
        struct vm *vms;
        _cleanup_close_ int root = -1;
        unsigned missing = 0;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                if (c != 'r')
                        return 2;
                rounds = (unsigned)strtoul(optarg, NULL, 10);
        }
        if (optind != argc - 2 || rounds == 0 || rounds > BENCH_ROUNDS_MAX) {
                fprintf(stderr, "usage: bench-sense-cost [--rounds 1..%d] DIR N\n", BENCH_ROUNDS_MAX);
                return 2;
        }
        n = (unsigned)strtoul(argv[optind + 1], NULL, 10);
        root = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || n == 0) {
                fprintf(stderr, "bench-sense-cost: %s: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        /* two fds per file and VM */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        vms = calloc(n, sizeof(*vms));
        if (!vms)
                return 1;
        for (unsigned i = 0; i < n; i++) {
                char name[32];
                _cleanup_close_ int dir = -1;
                int r;

                snprintf(name, sizeof(name), "vm-%u", i);
                dir = openat(root, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0) {
                        fprintf(stderr, "bench-sense-cost: %s/%s: %s\n", argv[optind], name, strerror(errno));
                        return 1;
                }
                r = sense_vm_open(dir, &(struct sense_options){.name = name}, &vms[i].sensor);
                if (r < 0) {
                        fprintf(stderr, "bench-sense-cost: sensor on %s: %s\n", name, strerror(-r));
                        return 1;
                }
                missing = sense_vm_missing(vms[i].sensor);
                for (unsigned f = 0; f < _SENSE_FILE_MAX; f++) {
                        if (missing & SENSE_FILE_BIT(f))
                                continue;
                        vms[i].fd[vms[i].n_fd] = openat(dir, sense_file_name(f), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        if (vms[i].fd[vms[i].n_fd] < 0) {
                                fprintf(stderr, "bench-sense-cost: %s/%s: %s\n", name, sense_file_name(f),
                                        strerror(errno));
                                return 1;
                        }
                        vms[i].n_fd++;
                }
                files = vms[i].n_fd;
        }

        printf("cgroups: %u under %s\nfiles read per VM per tick: %u (", n, argv[optind], files);
        for (unsigned f = 0, k = 0; f < _SENSE_FILE_MAX; f++)
                if (!(missing & SENSE_FILE_BIT(f)))
                        printf("%s%s", k++ ? " " : "", sense_file_name(f));
        printf(")\n");

        /* warm-up: the sensors' first tick (buffers sized, no deltas yet), caches */
        (void)pass_bare(vms, n);
        (void)pass_sensor(vms, n);
        (void)pass_loop(vms, n);

        for (unsigned r = 0; r < rounds; r++) {
                switch (r % 3) {
                case 0:
                        bare[r] = pass_bare(vms, n);
                        sensor[r] = pass_sensor(vms, n);
                        loop[r] = pass_loop(vms, n);
                        break;
                case 1:
                        sensor[r] = pass_sensor(vms, n);
                        loop[r] = pass_loop(vms, n);
                        bare[r] = pass_bare(vms, n);
                        break;
                default:
                        loop[r] = pass_loop(vms, n);
                        bare[r] = pass_bare(vms, n);
                        sensor[r] = pass_sensor(vms, n);
                }
        }
        printf("rounds: %u, median [min..max], ns per VM per tick; CPU time of this thread (user + system), then "
               "wall time\n",
               rounds);
        uint64_t mb = bench_report("bare pread", bare, rounds, n);
        uint64_t ms = bench_report("sensor tick", sensor, rounds, n);
        uint64_t ml = bench_report("read-to-EOF loop", loop, rounds, n);
        printf("ratio sensor/bare (CPU):  %.2f  (goal <= 1.5)\n", (double)ms / (double)mb);
        printf("ratio loop/bare (CPU):    %.2f  (cgroupfs_pread: a second pread per file to see EOF)\n",
               (double)ml / (double)mb);
        printf("parse only, 6.1 text, these 4 files:        %llu ns/VM/tick (CPU)\n",
               (unsigned long long)parse_only_ns(200000, false));
        printf("parse only, 6.1 text, all 10 files (memory.stat, io.stat...): %llu ns/VM/tick (CPU)\n",
               (unsigned long long)parse_only_ns(100000, true));

        for (unsigned i = 0; i < n; i++) {
                sense_vm_free(vms[i].sensor);
                for (unsigned f = 0; f < vms[i].n_fd; f++)
                        close(vms[i].fd[f]);
        }
        free(vms);
        return 0;
}
