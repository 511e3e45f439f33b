/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f)   __attribute__((cleanup(f)))

static inline void freep(void *p)
{
        free(*(void **)p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

/* Close fd (if open) and return -1, for "fd = safe_close(fd);": the variable never holds a closed fd. */
static inline int safe_close(int fd)
{
        closep(&fd);
        return -1;
}

/* Free p and return NULL, for "p = mfree(p);": the pointer never dangles. */
static inline void *mfree(void *p)
{
        free(p);
        return NULL;
}

/*
 * Make room for n elements in *array, which holds *allocated: it grows to at least n, doubling, so that adding
 * elements one at a time costs amortised O(1). Returns 0, or -ENOMEM with the array and *allocated unchanged.
 */
static inline int array_reserve(void **array, size_t *allocated, size_t n, size_t size)
{
        size_t want = *allocated ? *allocated : 8;
        void *p;

        if (n <= *allocated)
                return 0;
        while (want < n) {
                if (want > SIZE_MAX / 2)
                        return -ENOMEM;
                want *= 2;
        }
        p = reallocarray(*array, want, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        *allocated = want;
        return 0;
}
#define GREEDY_REALLOC(array, allocated, n) array_reserve((void **)&(array), &(allocated), (n), sizeof(*(array)))

static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)                                                                                                    \
        ({                                                                                                             \
                __typeof__(p) _taken = (p);                                                                            \
                (p) = NULL;                                                                                            \
                _taken;                                                                                                \
        })

#define TAKE_FD(fd)                                                                                                    \
        ({                                                                                                             \
                int _taken = (fd);                                                                                     \
                (fd) = -1;                                                                                             \
                _taken;                                                                                                \
        })

#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

/* True for the errors that mean "the process or cgroup went away": logged at debug, never fatal. */
static inline int errno_is_vanished(int r)
{
        r = r < 0 ? -r : r;
        return r == ENOENT || r == ENODEV || r == ESRCH;
}
