/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmgov: the command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/actuator.h"
#include "daemon/caps.h"
#include "policy/config.h"
#include "daemon/daemon.h"
#include "kernel/log.h"
#include "kernel/macro.h"
#include "cli/replay.h"
#include "publish/snapshot.h"
#include "act/statefile.h"
#include "kernel/units.h"

#ifndef VMGOV_DEFAULT_POLICY
#define VMGOV_DEFAULT_POLICY "/usr/share/vmgov/default.ini"
#endif
#define VMGOV_POLICY_DIR "/etc/vmgov/policy.d"

enum {
        EXIT_OK = 0,
        EXIT_RUNTIME = 1, /* the engine could not start or stopped on an error */
        EXIT_USAGE = 2,   /* bad command line, or a policy that was refused */
        EXIT_CANNOT_ENFORCE = 3,
};

static void help(void)
{
        printf("Usage: vmgov [OPTIONS] COMMAND\n"
               "\n"
               "Resource governor for QEMU/KVM virtual machines on cgroup v2.\n"
               "\n"
               "Commands:\n"
               "  run            discover, place and limit VMs every interval until SIGTERM/SIGINT,\n"
               "                 then restore the original values (SIGHUP reloads the policy)\n"
               "  once           one pass, then exit (limits stay in force)\n"
               "  check [PATH]   validate a policy file or directory; prints file:line: message\n"
               "  status         the running daemon's view of every VM: limits, signals, last decision;\n"
               "                 without a running daemon, the current limits and signals sampled now\n"
               "  probe          can this host enforce limits? one line, exit 0 if yes, 3 if not\n"
               "  restore        write back every original value a previous engine recorded in its state\n"
               "                 file and did not restore (after a crash or a SIGKILL, or after once)\n"
               "  replay FILE    run a signal recording (--record-signals) through the policy's control laws\n"
               "                 offline and print every decision they would make\n"
               "\n"
               "Options:\n"
               "  --policy FILE|DIR    policy (default " VMGOV_POLICY_DIR ", else the shipped default)\n"
               "  --dry-run            change nothing; log and audit every write that would be made\n"
               "  --interval DURATION  override Interval=, e.g. 500ms, 2s\n"
               "  --audit-log FILE     override AuditLog= (\"none\" for no audit file)\n"
               "  --metrics-file FILE  override MetricsFile=: Prometheus textfile rewritten each interval\n"
               "  --cgroup-root DIR    override CgroupRoot=\n"
               "  --proc DIR           read processes from DIR instead of /proc (fixture trees)\n"
               "  --record-signals FILE  append each tick's signals to FILE, for vmgov replay\n"
               "  --state-file FILE    where originals are journalled (default " STATEFILE_DEFAULT ")\n"
               "  --status-file FILE   run: the live view rewritten each interval, which status shows (default\n"
               "                       " SNAPSHOT_DEFAULT "; \"none\": not written, status samples on its own)\n"
               "  --no-proc-events     find new VMs by scanning every interval only, not through the proc connector\n"
               "  --no-pressure-triggers  react to pressure at the interval only, not through PSI triggers\n"
               "  --json               status: one JSON object instead of tables\n"
               "  --log-level LEVEL    err, warning, info (default) or debug\n"
               "  -h, --help           this text\n"
               "\n"
               "Exit status: 0 success, 1 runtime error, 2 bad usage or refused policy, 3 cannot enforce (probe).\n");
}

/* Descriptors grow with the VMs (held cgroup and statistics files): take what the hard limit allows. systemd gives a
 * unit a soft limit of 1024 unless it says otherwise. */
static void nofile_raise(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warn_errno(-errno, "cannot raise the soft limit of open files to %llu: %m",
                               (unsigned long long)rl.rlim_max);
}

static const char *default_policy_path(void)
{
        struct stat st;

        if (stat(VMGOV_POLICY_DIR, &st) == 0 && S_ISDIR(st.st_mode))
                return VMGOV_POLICY_DIR;
        return VMGOV_DEFAULT_POLICY;
}

static int load_policy(const char *path, const struct config_env *env, struct policy **ret)
{
        struct config_error err = {0};
        char msg[1200];
        int r = config_load(path, env, ret, &err);

        if (r < 0) {
                config_error_format(&err, msg, sizeof(msg));
                fprintf(stderr, "%s\n", msg);
                return EXIT_USAGE;
        }
        return EXIT_OK;
}

static int cmd_check(const char *path, const struct config_env *env)
{
        struct policy *p = NULL;
        int r = load_policy(path, env, &p);

        if (r != EXIT_OK)
                return r;
        printf("%s: OK, %zu group%s\n", path, p->n_groups, p->n_groups == 1 ? "" : "s");
        policy_free(p);
        return EXIT_OK;
}

static int cmd_replay(const char *path, const char *policy_path, const struct config_env *env)
{
        struct policy *p = NULL;
        FILE *f;
        int r = load_policy(policy_path, env, &p);

        if (r != EXIT_OK)
                return r;
        f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
        if (!f) {
                fprintf(stderr, "vmgov replay: %s: %s\n", path, strerror(errno));
                policy_free(p);
                return EXIT_USAGE;
        }
        r = replay_run(f, path, p, stdout, stderr);
        if (f != stdin)
                fclose(f);
        policy_free(p);
        return r < 0 ? EXIT_USAGE : EXIT_OK;
}

static int cmd_restore(const struct engine_options *opt)
{
        int r = engine_restore_journal(&opt->roots, opt->state_path ? opt->state_path : STATEFILE_DEFAULT);

        return r == 0 ? EXIT_OK : EXIT_RUNTIME;
}

static int cmd_probe(const struct engine_options *opt)
{
        char why[512];

        if (engine_probe(&opt->roots, why, sizeof(why)) < 0) {
                printf("cannot enforce: %s\n", why);
                return EXIT_CANNOT_ENFORCE;
        }
        printf("can enforce: %s\n", why);
        return EXIT_OK;
}

/* A daemon's memory comes back when it is freed. glibc raises its mmap threshold each time a large block is freed,
 * so the next ones (the BTF libbpf parses at start, a scan's identities) come from the heap, whose freed middle it
 * keeps: fixed at the default, every block of 128 KiB or more is its own mapping and goes back to the kernel. */
static void malloc_tune(void)
{
        (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        (void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

int main(int argc, char **argv)
{
        enum {
                OPT_POLICY = 0x100,
                OPT_DRY_RUN,
                OPT_INTERVAL,
                OPT_AUDIT_LOG,
                OPT_CGROUP_ROOT,
                OPT_PROC,
                OPT_LOG_LEVEL,
                OPT_RECORD,
                OPT_STATE_FILE,
                OPT_NO_PROC_EVENTS,
                OPT_NO_PRESSURE_TRIGGERS,
                OPT_METRICS_FILE,
                OPT_JSON,
                OPT_STATUS_FILE,
        };
        static const struct option options[] = {
                {"policy", required_argument, NULL, OPT_POLICY},
                {"dry-run", no_argument, NULL, OPT_DRY_RUN},
                {"interval", required_argument, NULL, OPT_INTERVAL},
                {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
                {"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
                {"proc", required_argument, NULL, OPT_PROC},
                {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
                {"record-signals", required_argument, NULL, OPT_RECORD},
                {"state-file", required_argument, NULL, OPT_STATE_FILE},
                {"no-proc-events", no_argument, NULL, OPT_NO_PROC_EVENTS},
                {"no-pressure-triggers", no_argument, NULL, OPT_NO_PRESSURE_TRIGGERS},
                {"metrics-file", required_argument, NULL, OPT_METRICS_FILE},
                {"json", no_argument, NULL, OPT_JSON},
                {"status-file", required_argument, NULL, OPT_STATUS_FILE},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        /* The host's kernel interfaces: the only place that names them. */
        struct engine_options opt = {.roots = {.proc = "/proc", .sys = "/sys", .root = "/"}};
        struct config_env env;
        struct policy *policy = NULL;
        struct engine e;
        bool json = false;
        const char *cmd;
        int c, r;

        malloc_tune();

        /* On a terminal the "<N>" priority prefixes are noise; journald wants them. */
        log_set_prefix(!isatty(STDERR_FILENO));

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case OPT_POLICY:
                        opt.policy_path = optarg;
                        break;
                case OPT_DRY_RUN:
                        opt.dry_run = true;
                        break;
                case OPT_INTERVAL:
                        if (units_parse_duration(optarg, &opt.interval_usec) < 0 || opt.interval_usec < 100000) {
                                fprintf(stderr, "--interval %s: expected a duration of at least 100ms\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case OPT_AUDIT_LOG:
                        opt.audit_log = optarg;
                        break;
                case OPT_CGROUP_ROOT:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "--cgroup-root %s: expected an absolute path\n", optarg);
                                return EXIT_USAGE;
                        }
                        opt.cgroup_root = optarg;
                        break;
                case OPT_PROC:
                        opt.roots.proc = optarg;
                        break;
                case OPT_RECORD:
                        opt.record_path = optarg;
                        break;
                case OPT_STATE_FILE:
                        opt.state_path = optarg;
                        break;
                case OPT_NO_PROC_EVENTS:
                        opt.no_proc_events = true;
                        break;
                case OPT_NO_PRESSURE_TRIGGERS:
                        opt.no_pressure_triggers = true;
                        break;
                case OPT_METRICS_FILE:
                        opt.metrics_file = optarg;
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_STATUS_FILE:
                        opt.status_path = optarg;
                        break;
                case OPT_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0) {
                                fprintf(stderr, "--log-level %s: expected err, warning, info or debug\n", optarg);
                                return EXIT_USAGE;
                        }
                        log_set_max_level(r);
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "vmgov: no command given (run, once, check, status, probe); see --help\n");
                return EXIT_USAGE;
        }
        cmd = argv[optind++];

        engine_config_env(&env);
        if (strcmp(cmd, "check") == 0) {
                const char *path = optind < argc ? argv[optind++] : opt.policy_path;
                return cmd_check(path ? path : default_policy_path(), &env);
        }
        if (strcmp(cmd, "replay") == 0) {
                if (optind >= argc) {
                        fprintf(stderr, "vmgov replay: which recording? (vmgov replay FILE --policy P)\n");
                        return EXIT_USAGE;
                }
                return cmd_replay(argv[optind], opt.policy_path ? opt.policy_path : default_policy_path(), &env);
        }
        if (optind < argc) {
                fprintf(stderr, "vmgov %s: unexpected argument \"%s\"\n", cmd, argv[optind]);
                return EXIT_USAGE;
        }
        if (strcmp(cmd, "probe") == 0)
                return cmd_probe(&opt);
        if (strcmp(cmd, "restore") == 0)
                return cmd_restore(&opt);
        if (strcmp(cmd, "run") != 0 && strcmp(cmd, "once") != 0 && strcmp(cmd, "status") != 0) {
                fprintf(stderr, "vmgov: unknown command \"%s\"; see --help\n", cmd);
                return EXIT_USAGE;
        }

        if (strcmp(cmd, "status") == 0) {
                /* a running daemon's view needs no policy */
                r = status_show_live(&opt, json);
                if (r != 0)
                        return r > 0 ? EXIT_OK : EXIT_RUNTIME;
                if (!opt.policy_path && access(default_policy_path(), F_OK) < 0) {
                        fprintf(stderr,
                                "vmgov status: no vmgov is running (no status file at %s), and there is no policy to "
                                "sample the VMs with (%s does not exist): give one with --policy FILE, e.g. "
                                "--policy policies/default.ini in the source tree\n",
                                opt.status_path ? opt.status_path : SNAPSHOT_DEFAULT, default_policy_path());
                        return EXIT_USAGE;
                }
        }
        if (!opt.policy_path)
                opt.policy_path = default_policy_path();
        r = load_policy(opt.policy_path, &env, &policy);
        if (r != EXIT_OK)
                return r;

        opt.sense = true;
        nofile_raise();
        opt.command = cmd;
        if (strcmp(cmd, "status") == 0) {
                /* status only reads: no audit, no journal, no tree to create, and only warnings in the log */
                opt.audit_log = "none";
                opt.dry_run = true;
                if (log_get_max_level() == LOG_INFO)
                        log_set_max_level(LOG_WARNING);
        }
        r = engine_open(&e, &opt, policy);
        if (r < 0) {
                engine_close(&e);
                return EXIT_RUNTIME;
        }

        /* Start-up is done (cgroup mount, audit log, state file, BPF and netlink sockets are open): keep only the
         * capabilities the loop needs. */
        unsigned last_cap = caps_last_cap(e.proc_fd);
        r = caps_reduce(caps_engine_mask(last_cap), last_cap);
        if (r < 0)
                log_full_errno(geteuid() == 0 ? LOG_WARNING : LOG_DEBUG, r,
                               "cannot drop every capability it does not need: %m");

        if (strcmp(cmd, "status") == 0)
                r = engine_status(&e, json);
        else if (strcmp(cmd, "once") == 0) {
                r = engine_tick(&e);
                /* once leaves its limits in force, and their originals in the state file for vmgov restore */
                e.act->state_path = NULL;
                actuator_done(e.act);
                if (r == 0)
                        log_info("once: %u written, %u would be written (dry-run), %u errors", e.act->writes,
                                 e.act->would_writes, e.act->errors + e.placement_errors);
                if (r == 0 && (e.act->errors || e.placement_errors))
                        r = -EIO;
        } else
                r = engine_run(&e);

        if (engine_close(&e) > 0 && r == 0)
                r = -EIO;
        return r < 0 ? EXIT_RUNTIME : EXIT_OK;
}
