/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * iolat: the workload of a latency-sensitive VM's disk that a tiny QEMU guest cannot generate itself. It reads
 * --bs bytes (default 4096) with O_DIRECT at random aligned offsets of DEVICE, --rate times a second on a steady
 * schedule (a read that runs late shifts the schedule instead of bursting to catch up), and measures each read.
 *
 *   iolat --rate HZ [--bs BYTES] [--seconds T] DEVICE
 *   iolat --stream [--bs BYTES] [--seconds T] DEVICE
 *
 * Each second it prints "t=S reads=N p50_us=X p99_us=Y max_us=Z". SIGUSR1 prints "window=K reads=N p50_us=X
 * p99_us=Y max_us=Z mean_us=M late=L" over the reads since the previous SIGUSR1 (or the start) and starts a new
 * window; SIGTERM, SIGINT and the end of --seconds (0: run until signalled) print the last window the same way and
 * exit 0. "late" counts reads whose slot had passed before the previous read ended.
 *
 * --stream is the batch VM's side: sequential O_DIRECT reads of --bs bytes back to back, from the start of DEVICE
 * again at its end, in one process (a `dd` loop would leave a dd running in the cgroup when the loop is killed);
 * at the end it prints "stream reads=N bytes=B".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READS_MAX (1u << 20)

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig)
{
        if (sig == SIGUSR1)
                got_usr1 = 1;
        else
                got_term = 1;
}

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

/* Sorts v. */
static uint64_t percentile(uint64_t *v, size_t n, unsigned permille)
{
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(*v), cmp_u64);
        size_t i = n * permille / 1000;
        return v[i < n ? i : n - 1];
}

struct window {
        uint64_t *lat_ns;
        size_t n;
        uint64_t sum_ns, late;
};

static void window_add(struct window *w, uint64_t ns)
{
        if (w->n < READS_MAX)
                w->lat_ns[w->n++] = ns;
        w->sum_ns += ns;
}

static void window_print(const char *prefix, struct window *w, int with_mean)
{
        size_t n = w->n;
        uint64_t p50 = percentile(w->lat_ns, n, 500), p99 = percentile(w->lat_ns, n, 990);
        uint64_t max = n ? w->lat_ns[n - 1] : 0;

        printf("%s reads=%zu p50_us=%llu p99_us=%llu max_us=%llu", prefix, n, (unsigned long long)(p50 / 1000),
               (unsigned long long)(p99 / 1000), (unsigned long long)(max / 1000));
        if (with_mean)
                printf(" mean_us=%llu late=%llu", (unsigned long long)(n ? w->sum_ns / n / 1000 : 0),
                       (unsigned long long)w->late);
        printf("\n");
        fflush(stdout);
        w->n = 0;
        w->sum_ns = 0;
        w->late = 0;
}

static uint64_t xorshift64(uint64_t *s)
{
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return *s = x;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                {"rate", required_argument, NULL, 'r'},
                {"bs", required_argument, NULL, 'b'},
                {"seconds", required_argument, NULL, 't'},
                {"stream", no_argument, NULL, 's'},
                {},
        };
        uint64_t rate = 100, bs = 4096, seconds = 0;
        struct window sec = {0}, win = {0};
        unsigned window_no = 0;
        bool stream = false;
        void *buf;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        rate = strtoull(optarg, NULL, 10);
                        break;
                case 'b':
                        bs = strtoull(optarg, NULL, 10);
                        break;
                case 't':
                        seconds = strtoull(optarg, NULL, 10);
                        break;
                case 's':
                        stream = true;
                        break;
                default:
                        return 2;
                }
        }
        if (optind != argc - 1 || rate == 0 || rate > 100000 || bs == 0 || bs % 512 != 0) {
                fprintf(stderr, "usage: iolat --rate HZ [--bs BYTES] [--seconds T] DEVICE\n"
                                "       iolat --stream [--bs BYTES] [--seconds T] DEVICE\n");
                return 2;
        }

        int fd = open(argv[optind], O_RDONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "iolat: %s: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < (off_t)bs) {
                fprintf(stderr, "iolat: %s: size %lld is below one read of %llu bytes\n", argv[optind], (long long)size,
                        (unsigned long long)bs);
                return 1;
        }
        uint64_t blocks = (uint64_t)size / bs;
        if (posix_memalign(&buf, 4096, bs) != 0)
                return 1;
        sec.lat_ns = calloc(READS_MAX, sizeof(uint64_t));
        win.lat_ns = calloc(READS_MAX, sizeof(uint64_t));
        if (!sec.lat_ns || !win.lat_ns)
                return 1;

        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if (stream) {
                uint64_t end = seconds ? now_ns() + seconds * 1000000000ULL : UINT64_MAX, reads = 0, bytes = 0;
                off_t off = 0;
                while (!got_term && now_ns() < end) {
                        if (off + (off_t)bs > size)
                                off = 0;
                        ssize_t n = pread(fd, buf, bs, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                fprintf(stderr, "iolat: read at %lld: %s\n", (long long)off,
                                        n < 0 ? strerror(errno) : "end of device");
                                return 1;
                        }
                        reads++;
                        bytes += (uint64_t)n;
                        off += n;
                }
                printf("stream reads=%llu bytes=%llu\n", (unsigned long long)reads, (unsigned long long)bytes);
                return 0;
        }

        uint64_t period = 1000000000ULL / rate, start = now_ns(), next = start, next_report = start + 1000000000ULL;
        uint64_t end = seconds ? start + seconds * 1000000000ULL : UINT64_MAX, seed = start | 1;
        unsigned t = 0;

        while (!got_term && now_ns() < end) {
                struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ULL),
                                      .tv_nsec = (long)(next % 1000000000ULL)};
                int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                if (r == EINTR || got_term)
                        goto signals;

                off_t off = (off_t)(xorshift64(&seed) % blocks * bs);
                uint64_t t0 = now_ns();
                ssize_t n = pread(fd, buf, bs, off);
                uint64_t t1 = now_ns();
                if (n < 0 && errno != EINTR) {
                        fprintf(stderr, "iolat: read at %lld: %s\n", (long long)off, strerror(errno));
                        return 1;
                }
                if (n >= 0) {
                        window_add(&sec, t1 - t0);
                        window_add(&win, t1 - t0);
                }
                next += period;
                if (next < t1) { /* missed a slot: keep the rate, do not burst */
                        win.late++;
                        next = t1;
                }
              signals:
                if (now_ns() >= next_report) {
                        char prefix[32];
                        snprintf(prefix, sizeof(prefix), "t=%u", ++t);
                        window_print(prefix, &sec, 0);
                        next_report += 1000000000ULL;
                }
                if (got_usr1) {
                        char prefix[32];
                        got_usr1 = 0;
                        snprintf(prefix, sizeof(prefix), "window=%u", window_no++);
                        window_print(prefix, &win, 1);
                }
        }
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "window=%u", window_no);
        window_print(prefix, &win, 1);
        return 0;
}
