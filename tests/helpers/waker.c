/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * waker: the workload of a latency-sensitive VM that a tiny QEMU guest cannot generate itself. It wakes every
 * --sleep-us, works --work-us on the CPU, and sleeps again, like a vCPU serving small requests; it reports how
 * late each wake-up ran (the oversleep: timer slack plus the run-queue wait the engine is there to shorten).
 *
 *   waker --work-us W --sleep-us S --seconds T
 *
 * Prints "wakeups=N oversleep_p50_us=X oversleep_p99_us=Y" at the end (and every 5 s with --progress).
 */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static uint64_t percentile(uint64_t *v, size_t n, unsigned permille)
{
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), cmp_u64);
        size_t i = n * permille / 1000;
        return v[i < n ? i : n - 1];
}

static volatile sig_atomic_t stopped;

static void on_stop(int sig)
{
        (void)sig;
        stopped = 1;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"work-us", required_argument, NULL, 'w'},
                {"sleep-us", required_argument, NULL, 's'},
                {"seconds", required_argument, NULL, 't'},
                {},
        };
        uint64_t work_us = 200, sleep_us = 2000, seconds = 10;
        uint64_t *late;
        size_t n = 0, cap;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'w':
                        work_us = strtoull(optarg, NULL, 10);
                        break;
                case 's':
                        sleep_us = strtoull(optarg, NULL, 10);
                        break;
                case 't':
                        seconds = strtoull(optarg, NULL, 10);
                        break;
                default:
                        fprintf(stderr, "usage: waker --work-us W --sleep-us S --seconds T\n");
                        return 2;
                }
        }
        if (sleep_us == 0 || seconds == 0)
                return 2;
        cap = seconds * 1000000 / sleep_us + 16;
        late = calloc(cap, sizeof(*late));
        if (!late)
                return 1;

        /* SIGTERM ends the run early, with the figures so far: the test stops it when its phases are done */
        struct sigaction sa = {.sa_handler = on_stop};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        uint64_t end = now_ns() + seconds * 1000000000ULL;
        while (n < cap && !stopped) {
                uint64_t t0 = now_ns();
                if (t0 >= end)
                        break;
                while (now_ns() - t0 < work_us * 1000)
                        ; /* the request's work */
                struct timespec ts = {.tv_sec = sleep_us / 1000000, .tv_nsec = (long)(sleep_us % 1000000) * 1000};
                uint64_t before = now_ns();
                nanosleep(&ts, NULL);
                uint64_t slept = now_ns() - before;
                late[n++] = slept > sleep_us * 1000 ? (slept - sleep_us * 1000) / 1000 : 0;
        }
        uint64_t p50 = percentile(late, n, 500), p99 = percentile(late, n, 990);
        printf("wakeups=%zu oversleep_p50_us=%llu oversleep_p99_us=%llu\n", n, (unsigned long long)p50,
               (unsigned long long)p99);
        free(late);
        return 0;
}
