/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * memhog: the workload of a VM whose working set is far below what it has allocated, which a tiny QEMU guest
 * cannot generate itself (tests/integration/loop_memory.sh runs it inside the VM's cgroup).
 *
 *   memhog [--sleep-ms S] TOTAL_MIB WORKING_MIB GROWN_MIB
 *
 * It maps TOTAL_MIB of private anonymous memory (no transparent huge pages), writes every page once, then loops:
 * one write to each page of the first WORKING_MIB, then a nanosleep of S ms (default 10), so the rest goes cold
 * and a TCG guest keeps a CPU for the engine. On SIGUSR1 the working set grows to GROWN_MIB. Every page holds a
 * counter in its first 8 bytes, never zero, so that zram stores it compressed, not as a same-filled page.
 *
 * Prints, one line each: "memhog: allocated ...", "memhog: phase 1: working set ...", and on SIGUSR1
 * "memhog: phase 2: working set ..." with the passes of phase 1. Runs until killed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t grow_requested;

static void on_usr1(int sig)
{
        (void)sig;
        grow_requested = 1;
}

static double now_sec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mib(const char *s, const char *what, uint64_t *ret)
{
        char *end;

        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v == 0 || v > (1ULL << 20)) {
                fprintf(stderr, "memhog: %s: expected a size in MiB (1..1048576), got \"%s\"\n", what, s);
                return -1;
        }
        *ret = v;
        return 0;
}

/* One write to each page of [0, pages). */
static void touch(unsigned char *base, size_t page_size, size_t pages)
{
        for (size_t i = 0; i < pages; i++) {
                volatile uint64_t *w = (volatile uint64_t *)(base + i * page_size);
                *w = *w + 1;
        }
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"sleep-ms", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        unsigned long sleep_ms = 10;
        uint64_t total_mib, working_mib, grown_mib;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        sleep_ms = strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        printf("usage: memhog [--sleep-ms S] TOTAL_MIB WORKING_MIB GROWN_MIB\n");
                        return 0;
                default:
                        return 2;
                }
        }
        if (argc - optind != 3) {
                fprintf(stderr, "usage: memhog [--sleep-ms S] TOTAL_MIB WORKING_MIB GROWN_MIB\n");
                return 2;
        }
        if (parse_mib(argv[optind], "TOTAL_MIB", &total_mib) < 0 ||
            parse_mib(argv[optind + 1], "WORKING_MIB", &working_mib) < 0 ||
            parse_mib(argv[optind + 2], "GROWN_MIB", &grown_mib) < 0)
                return 2;
        if (working_mib > grown_mib || grown_mib > total_mib) {
                fprintf(stderr, "memhog: expected WORKING_MIB <= GROWN_MIB <= TOTAL_MIB\n");
                return 2;
        }

        setvbuf(stdout, NULL, _IOLBF, 0);
        struct sigaction sa = {.sa_handler = on_usr1};
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGUSR1, &sa, NULL) < 0) {
                perror("memhog: sigaction");
                return 1;
        }

        size_t page_size = (size_t)sysconf(_SC_PAGESIZE);
        size_t pages_per_mib = (1u << 20) / page_size;
        size_t total = total_mib << 20;
        unsigned char *base =
                mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
                perror("memhog: mmap");
                return 1;
        }
        if (madvise(base, total, MADV_NOHUGEPAGE) < 0)
                perror("memhog: madvise(MADV_NOHUGEPAGE), going on"); /* a kernel without THP says EINVAL */

        double t0 = now_sec();
        for (size_t i = 0; i < total_mib * pages_per_mib; i++)
                *(uint64_t *)(base + i * page_size) = i + 1;
        printf("memhog: allocated %llu MiB (%zu pages of %zu bytes), each page written once in %.1f s\n",
               (unsigned long long)total_mib, total_mib * pages_per_mib, page_size, now_sec() - t0);

        struct timespec pause = {.tv_sec = sleep_ms / 1000, .tv_nsec = (long)(sleep_ms % 1000) * 1000000L};
        uint64_t working = working_mib, passes = 0;
        double phase_start = now_sec();
        printf("memhog: phase 1: working set %llu MiB, one write per page then %lu ms asleep, per pass\n",
               (unsigned long long)working, sleep_ms);
        for (;;) {
                if (grow_requested && working != grown_mib) {
                        double secs = now_sec() - phase_start;
                        printf("memhog: phase 2: working set %llu MiB (phase 1: %llu passes over %llu MiB in %.1f "
                               "s)\n",
                               (unsigned long long)grown_mib, (unsigned long long)passes, (unsigned long long)working,
                               secs);
                        working = grown_mib;
                        passes = 0;
                        phase_start = now_sec();
                }
                touch(base, page_size, working * pages_per_mib);
                passes++;
                if (sleep_ms)
                        nanosleep(&pause, NULL); /* EINTR (SIGUSR1) just ends the pause early */
        }
}
