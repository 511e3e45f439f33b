/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "discover/qmp.h"
#include "kernel/clock.h"
#include "kernel/macro.h"
#include "kernel/procfs.h"

void qmp_threads_done(struct qmp_threads *t)
{
        t->vcpus = mfree(t->vcpus);
        t->iothreads = mfree(t->iothreads);
        t->n_vcpus = t->n_iothreads = 0;
}

/* ---- The command line ---- */

/* One element of a QemuOpts string, read as QEMU does: "key=value", a bare "flag" (= on), or for the first element
 * a bare value of the implicit key; ",," in a value is a comma. Keys and values that do not fit are flagged cut. */
struct opt {
        char key[32];
        char val[QMP_PATH_MAX];
        bool cut;
};

static const char *opt_next(const char *p, const char *end, const char *implicit, struct opt *o)
{
        size_t name_len = 0, n = 0;

        while (p + name_len < end && p[name_len] != '=' && p[name_len] != ',')
                name_len++;
        *o = (struct opt){};
        if (p + name_len < end && p[name_len] == '=') {
                if (name_len >= sizeof(o->key))
                        o->cut = true;
                else
                        memcpy(o->key, p, name_len);
                p += name_len + 1;
        } else if (implicit) {
                snprintf(o->key, sizeof(o->key), "%s", implicit);
        } else {
                /* a flag: "server" is server=on */
                if (name_len >= sizeof(o->key))
                        o->cut = true;
                else
                        memcpy(o->key, p, name_len);
                strcpy(o->val, "on");
                p += name_len;
                return p < end ? p + 1 : p;
        }
        for (; p < end; p++) {
                if (*p == ',') {
                        if (p + 1 < end && p[1] == ',')
                                p++;
                        else
                                break;
                }
                if (n + 1 < sizeof(o->val))
                        o->val[n++] = *p;
                else
                        o->cut = true;
        }
        o->val[n] = '\0';
        return p < end ? p + 1 : p;
}

static bool opt_is(const struct opt *o, const char *key)
{
        return !o->cut && strcmp(o->key, key) == 0;
}

/* QEMU's booleans: on, yes, true, y. */
static bool opt_bool(const struct opt *o)
{
        return strcmp(o->val, "on") == 0 || strcmp(o->val, "yes") == 0 || strcmp(o->val, "true") == 0 ||
               strcmp(o->val, "y") == 0;
}

/* A unix socket QEMU listens on, from the options after "unix:" (-qmp) or "socket," (-chardev). */
struct listener {
        char id[QMP_PATH_MAX];
        char path[QMP_PATH_MAX];
        bool ok; /* a path QEMU could bind, server=on, not abstract, nothing cut */
};

static void listener_parse(const char *p, const char *end, const char *implicit, struct listener *l)
{
        bool server = false, abstract = false, cut = false;
        struct opt o;

        *l = (struct listener){};
        while (p < end) {
                p = opt_next(p, end, implicit, &o);
                implicit = NULL;
                if (o.cut) {
                        /* a path longer than QEMU can bind: not a socket it listens on */
                        cut = cut || strcmp(o.key, "path") == 0;
                        continue;
                }
                if (opt_is(&o, "path"))
                        strcpy(l->path, o.val);
                else if (opt_is(&o, "id"))
                        strcpy(l->id, o.val);
                else if (opt_is(&o, "server"))
                        server = opt_bool(&o);
                else if (opt_is(&o, "abstract"))
                        abstract = opt_bool(&o);
        }
        l->ok = server && !abstract && !cut && l->path[0] != '\0';
}

static const char *option_name(const char *arg)
{
        if (arg[0] != '-')
                return NULL;
        return arg[1] == '-' ? arg + 2 : arg + 1;
}

/* The argument after argv[i], or NULL at the end. */
static const char *arg_next(const char *argv, size_t len, size_t *i)
{
        size_t at = *i + strnlen(argv + *i, len - *i) + 1;

        *i = at;
        return at < len ? argv + at : NULL;
}

static size_t arg_len(const char *argv, size_t len, const char *arg)
{
        return strnlen(arg, len - (size_t)(arg - argv));
}

/* The -chardev socket with this id that listens on a path. */
static bool chardev_find(const char *argv, size_t len, const char *id, struct listener *ret)
{
        bool found = false;

        for (size_t i = 0; i < len;) {
                const char *name = option_name(argv + i), *val;

                if (!name || strcmp(name, "chardev") != 0) {
                        (void)arg_next(argv, len, &i);
                        continue;
                }
                val = arg_next(argv, len, &i);
                if (!val)
                        break;
                if (strncmp(val, "socket,", 7) == 0) {
                        struct listener l;

                        listener_parse(val + 7, val + arg_len(argv, len, val), NULL, &l);
                        /* QEMU refuses two chardevs with one id; the last one is taken all the same */
                        if (strcmp(l.id, id) == 0) {
                                *ret = l;
                                found = true;
                        }
                }
        }
        return found && ret->ok;
}

/* The chardev of a "-mon chardev=X,mode=control", or "". */
static void mon_parse(const char *p, const char *end, char ret_chardev[QMP_PATH_MAX])
{
        const char *implicit = "chardev";
        bool control = false;
        struct opt o;

        ret_chardev[0] = '\0';
        while (p < end) {
                p = opt_next(p, end, implicit, &o);
                implicit = NULL;
                if (opt_is(&o, "chardev"))
                        strcpy(ret_chardev, o.val);
                else if (opt_is(&o, "mode"))
                        control = strcmp(o.val, "control") == 0;
        }
        if (!control)
                ret_chardev[0] = '\0';
}

static size_t path_add(char ret_paths[][QMP_PATH_MAX], size_t n, size_t max, const char *path)
{
        for (size_t j = 0; j < n; j++)
                if (strcmp(ret_paths[j], path) == 0)
                        return n;
        if (n < max)
                strcpy(ret_paths[n++], path);
        return n;
}

int qmp_sockets_parse(const char *argv, size_t len, char ret_paths[][QMP_PATH_MAX], size_t max)
{
        _cleanup_free_ char *copy = NULL;
        size_t n = 0;

        /* Every argument NUL-terminated, the last one too: the string functions below then stay inside. */
        if (len > 0 && argv[len - 1] != '\0') {
                copy = malloc(len + 1);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, argv, len);
                copy[len++] = '\0';
                argv = copy;
        }

        for (size_t i = 0; i < len && n < max;) {
                const char *name = option_name(argv + i), *val, *end;
                char chardev[QMP_PATH_MAX] = "";
                struct listener l = {};

                if (!name ||
                    (strcmp(name, "qmp") != 0 && strcmp(name, "qmp-pretty") != 0 && strcmp(name, "mon") != 0)) {
                        (void)arg_next(argv, len, &i);
                        continue;
                }
                val = arg_next(argv, len, &i);
                if (!val)
                        break;
                end = val + arg_len(argv, len, val);
                if (strcmp(name, "mon") == 0)
                        mon_parse(val, end, chardev);
                else if (strncmp(val, "chardev:", 8) == 0)
                        snprintf(chardev, sizeof(chardev), "%s", val + 8);
                else if (strncmp(val, "unix:", 5) == 0)
                        listener_parse(val + 5, end, "path", &l);

                if (chardev[0] != '\0')
                        (void)chardev_find(argv, len, chardev, &l);
                if (l.ok)
                        n = path_add(ret_paths, n, max, l.path);
        }
        return (int)n;
}

/* ---- Framing ---- */

int qmp_frame_next(struct qmp_framer *f, const char *buf, size_t len, size_t *ret_start, size_t *ret_end)
{
        for (; f->pos < len; f->pos++) {
                char c = buf[f->pos];

                if (f->depth == 0) {
                        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                                continue;
                        if (c != '{')
                                return -EBADMSG;
                        f->start = f->pos;
                        f->depth = 1;
                        f->arrays = 0;
                        continue;
                }
                if (f->in_string) {
                        if (f->escaped)
                                f->escaped = false;
                        else if (c == '\\')
                                f->escaped = true;
                        else if (c == '"')
                                f->in_string = false;
                        continue;
                }
                if (c == '"')
                        f->in_string = true;
                else if (c == '{' || c == '[') {
                        if (f->depth >= QMP_DEPTH_MAX)
                                return -EBADMSG;
                        if (c == '[')
                                f->arrays |= UINT64_C(1) << f->depth;
                        else
                                f->arrays &= ~(UINT64_C(1) << f->depth);
                        f->depth++;
                } else if (c == '}' || c == ']') {
                        /* a reply cut short and another begun, or plain garbage: say so now, not at the timeout */
                        if (!!(f->arrays & (UINT64_C(1) << (f->depth - 1))) != (c == ']'))
                                return -EBADMSG;
                        if (--f->depth == 0) {
                                *ret_start = f->start;
                                *ret_end = ++f->pos;
                                return 1;
                        }
                }
        }
        return 0;
}

/* ---- Messages ---- */

static void text_copy_cut(char *dst, size_t size, const char *src, size_t len, bool *ret_cut)
{
        bool cut = len >= size;

        if (cut) {
                len = size - 1;
                /* back to the start of a character: jansson gave valid UTF-8, keep it valid */
                while (len > 0 && ((unsigned char)src[len] & 0xc0) == 0x80)
                        len--;
        }
        memcpy(dst, src, len);
        dst[len] = '\0';
        if (ret_cut)
                *ret_cut = cut;
}

static bool tid_valid(json_int_t tid)
{
        return tid > 0 && tid <= INT_MAX;
}

static int cpus_parse(json_t *list, struct qmp_threads *t)
{
        _cleanup_free_ struct qmp_vcpu *vcpus = NULL;
        size_t n = json_array_size(list);

        if (n > QMP_VCPUS_MAX)
                return -E2BIG;
        if (n > 0) {
                vcpus = calloc(n, sizeof(*vcpus));
                if (!vcpus)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                json_int_t index, tid;

                /* "I", never "i": jansson casts a wider number into an int silently */
                if (json_unpack(json_array_get(list, i), "{s:I, s:I}", "cpu-index", &index, "thread-id", &tid) < 0)
                        return -EBADMSG;
                if (index < 0 || index > INT_MAX || !tid_valid(tid))
                        return -EBADMSG;
                for (size_t j = 0; j < i; j++)
                        if (vcpus[j].index == index)
                                return -EBADMSG;
                vcpus[i] = (struct qmp_vcpu){.index = (int)index, .tid = (pid_t)tid};
        }
        free(t->vcpus);
        t->vcpus = TAKE_PTR(vcpus);
        t->n_vcpus = n;
        return 0;
}

static int iothreads_parse(json_t *list, struct qmp_threads *t)
{
        _cleanup_free_ struct qmp_iothread *iothreads = NULL;
        size_t n = json_array_size(list);

        if (n > QMP_IOTHREADS_MAX)
                return -E2BIG;
        if (n > 0) {
                iothreads = calloc(n, sizeof(*iothreads));
                if (!iothreads)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const char *id;
                size_t id_len;
                json_int_t tid;

                if (json_unpack(json_array_get(list, i), "{s:s%, s:I}", "id", &id, &id_len, "thread-id", &tid) < 0)
                        return -EBADMSG;
                if (!tid_valid(tid))
                        return -EBADMSG;
                text_copy_cut(iothreads[i].id, sizeof(iothreads[i].id), id, id_len, &iothreads[i].id_truncated);
                iothreads[i].tid = (pid_t)tid;
        }
        free(t->iothreads);
        t->iothreads = TAKE_PTR(iothreads);
        t->n_iothreads = n;
        t->iothreads_unknown = false;
        return 0;
}

static int greeting_parse(json_t *root, struct qmp_threads *t)
{
        json_int_t major, minor, micro;

        if (json_unpack(root, "{s:{s:{s:{s:I, s:I, s:I}}}}", "QMP", "version", "qemu", "major", &major, "minor", &minor,
                        "micro", &micro) < 0)
                return -EBADMSG;
        if (major < 0 || major > UINT_MAX || minor < 0 || minor > UINT_MAX || micro < 0 || micro > UINT_MAX)
                return -EBADMSG;
        t->version_major = (unsigned)major;
        t->version_minor = (unsigned)minor;
        t->version_micro = (unsigned)micro;
        return 0;
}

int qmp_message_parse(const char *msg, size_t len, enum qmp_expect expect, unsigned id, struct qmp_threads *t)
{
        json_auto_t *root = NULL; /* jansson's own cleanup attribute */
        json_t *reply_id, *error, *ret;
        json_error_t e;

        /* Strict: invalid UTF-8, \u0000 and a lone surrogate are refused by default, a repeated key on request. */
        root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &e);
        if (!root || !json_is_object(root))
                return -EBADMSG;
        if (json_object_get(root, "event"))
                return 1;
        if (expect == QMP_EXPECT_GREETING)
                return greeting_parse(root, t);

        reply_id = json_object_get(root, "id");
        if (!json_is_integer(reply_id) || json_integer_value(reply_id) != (json_int_t)id)
                return -EBADMSG;
        error = json_object_get(root, "error");
        if (error) {
                const char *class;
                size_t class_len;

                if (json_unpack(error, "{s:s%}", "class", &class, &class_len) < 0)
                        return -EBADMSG;
                text_copy_cut(t->error_class, sizeof(t->error_class), class, class_len, NULL);
                return -EREMOTEIO;
        }
        ret = json_object_get(root, "return");
        switch (expect) {
        case QMP_EXPECT_CAPABILITIES:
                return json_is_object(ret) ? 0 : -EBADMSG;
        case QMP_EXPECT_CPUS:
                return json_is_array(ret) ? cpus_parse(ret, t) : -EBADMSG;
        case QMP_EXPECT_IOTHREADS:
                return json_is_array(ret) ? iothreads_parse(ret, t) : -EBADMSG;
        default:
                return -EINVAL;
        }
}

/* ---- I/O ---- */

/* Milliseconds left until deadline, rounded up so that a poll waits at least until it; 0 when it has passed. */
static int ms_left(uint64_t deadline)
{
        uint64_t now = monotonic_usec();

        return now >= deadline ? 0 : (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT_MAX);
}

static int wait_for(int fd, short events, uint64_t deadline)
{
        for (;;) {
                struct pollfd p = {.fd = fd, .events = events};
                int timeout = ms_left(deadline), k;

                if (timeout == 0)
                        return -ETIMEDOUT;
                k = poll(&p, 1, timeout);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -ETIMEDOUT;
                return 0;
        }
}

int qmp_connect(int pid_fd, pid_t pid, uid_t uid, const char *path)
{
        _cleanup_close_ int dir_fd = -1, file_fd = -1, fd = -1;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                /* the path is QEMU's: resolve it as QEMU sees it, and never out of its root */
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct ucred cred;
        socklen_t cred_len = sizeof(cred);
        struct stat st;

        if (path[0] == '\0')
                return -ENOENT;
        dir_fd = openat(pid_fd, path[0] == '/' ? "root" : "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        file_fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
        if (file_fd < 0)
                return -errno;
        if (fstat(file_fd, &st) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        if (st.st_uid != uid)
                return -EPERM;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* connect to the very file checked above, through our own fd table: a path can be swapped, an fd cannot */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", file_fd);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return errno == EAGAIN ? -EBUSY : -errno;
        /* the listener's credentials, taken at listen(): the QEMU process itself, or not its socket at all */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
                return -errno;
        if (cred.pid != pid || cred.uid != uid)
                return -EPERM;
        return TAKE_FD(fd);
}

/* The bytes of one exchange, kept whole (at most QMP_READ_MAX) so that the framer never looks at a byte twice. */
struct stream {
        int fd;
        uint64_t deadline;
        char *buf;
        size_t len, allocated;
        struct qmp_framer framer;
};

static int stream_next(struct stream *s, const char **ret_msg, size_t *ret_len)
{
        for (;;) {
                size_t start, end;
                ssize_t k;
                int r;

                r = qmp_frame_next(&s->framer, s->buf, s->len, &start, &end);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *ret_msg = s->buf + start;
                        *ret_len = end - start;
                        return 0;
                }
                if (s->len == QMP_READ_MAX)
                        return -EMSGSIZE;
                if (s->len == s->allocated) {
                        size_t want = MIN(MAX(s->allocated * 2, (size_t)16384), (size_t)QMP_READ_MAX);
                        char *p = realloc(s->buf, want);

                        if (!p)
                                return -ENOMEM;
                        s->buf = p;
                        s->allocated = want;
                }
                r = wait_for(s->fd, POLLIN, s->deadline);
                if (r < 0)
                        return r;
                k = recv(s->fd, s->buf + s->len, s->allocated - s->len, MSG_DONTWAIT);
                if (k == 0)
                        return -ECONNRESET;
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (k < 0)
                        return -errno;
                s->len += (size_t)k;
        }
}

/* The next message that is not an event, parsed as expect. */
static int stream_answer(struct stream *s, enum qmp_expect expect, unsigned id, struct qmp_threads *t)
{
        for (;;) {
                const char *msg = NULL;
                size_t len = 0;
                int r;

                r = stream_next(s, &msg, &len);
                if (r < 0)
                        return r;
                r = qmp_message_parse(msg, len, expect, id, t);
                if (r != 1)
                        return r;
        }
}

static int stream_command(struct stream *s, const char *command, unsigned id, enum qmp_expect expect,
                          struct qmp_threads *t)
{
        char line[128];
        size_t len, sent = 0;
        int r;

        len = (size_t)snprintf(line, sizeof(line), "{\"execute\": \"%s\", \"id\": %u}\n", command, id);
        while (sent < len) {
                ssize_t k = send(s->fd, line + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
                        r = wait_for(s->fd, POLLOUT, s->deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k < 0)
                        return errno == EPIPE ? -ECONNRESET : -errno;
                sent += (size_t)k;
        }
        return stream_answer(s, expect, id, t);
}

int qmp_exchange(int fd, int timeout_ms, struct qmp_threads *t)
{
        struct stream s = {.fd = fd, .deadline = monotonic_usec() + (uint64_t)MAX(timeout_ms, 0) * 1000};
        int r;

        r = stream_answer(&s, QMP_EXPECT_GREETING, 0, t);
        if (r == -ETIMEDOUT && s.len == 0)
                r = -EBUSY;
        if (r >= 0)
                r = stream_command(&s, "qmp_capabilities", 1, QMP_EXPECT_CAPABILITIES, t);
        if (r >= 0)
                r = stream_command(&s, "query-cpus-fast", 2, QMP_EXPECT_CPUS, t);
        if (r >= 0) {
                r = stream_command(&s, "query-iothreads", 3, QMP_EXPECT_IOTHREADS, t);
                if (r == -EREMOTEIO) {
                        t->iothreads_unknown = true;
                        r = 0;
                }
        }
        free(s.buf);
        return r;
}

int qmp_threads_query(int proc_fd, pid_t pid, int timeout_ms, struct qmp_threads *t)
{
        _cleanup_close_ int pid_fd = -1;
        _cleanup_free_ char *argv = NULL;
        char paths[QMP_SOCKETS_MAX][QMP_PATH_MAX];
        uint64_t deadline = monotonic_usec() + (uint64_t)MAX(timeout_ms, 0) * 1000;
        size_t size;
        uid_t uid;
        int n, r;

        *t = (struct qmp_threads){};
        pid_fd = procfs_pid_open(proc_fd, pid);
        if (pid_fd < 0)
                return pid_fd;
        r = procfs_file_read(pid_fd, "cmdline", PROCFS_CMDLINE_MAX, &argv, &size);
        if (r < 0)
                return r;
        if (r > 0) {
                /* cut: drop the partial last argument, half a path is not a path */
                const char *nul = memrchr(argv, '\0', size);

                size = nul ? (size_t)(nul - argv) + 1 : 0;
        }
        n = qmp_sockets_parse(argv, size, paths, QMP_SOCKETS_MAX);
        if (n <= 0)
                return n < 0 ? n : -ENOENT;
        r = procfs_uid_read(pid_fd, &uid);
        if (r < 0)
                return r;

        for (int i = 0; i < n; i++) {
                _cleanup_close_ int fd = -1;
                int left = ms_left(deadline);

                strcpy(t->socket, paths[i]);
                if (left == 0)
                        return -ETIMEDOUT;
                fd = qmp_connect(pid_fd, pid, uid, paths[i]);
                if (fd < 0) {
                        r = fd;
                        continue;
                }
                /* a busy socket eats only its share of what is left */
                r = qmp_exchange(fd, left / (n - i), t);
                if (r >= 0)
                        return 0;
                qmp_threads_done(t); /* half an answer is no answer */
        }
        return r;
}
