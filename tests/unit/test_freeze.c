/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The freeze state machine (decide/freeze.c) against a plant model of a host's memory: each test states the plant,
 * then asserts who is frozen when, for how long at most, and that it does not flap. One tick is one second.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testpolicy.h"

#include "decide/control.h"
#include "decide/freeze.h"
#include "kernel/macro.h"
#include "policy/config.h"

#define SEC      1000000ULL
#define MiB      (1024ULL * 1024)
#define HOST_RAM (1000 * MiB)
#define NVMS     4

static const char *load_err(const char *text)
{
        static char buf[1200];
        struct config_error e = {0};
        struct policy *p = NULL;

        if (config_load_string("test.ini", text, &test_policy_env, &p, &e) == 0) {
                policy_free(p);
                fail_msg("policy accepted: %s", text);
        }
        config_error_format(&e, buf, sizeof(buf));
        return buf;
}

static const char *freeze_policy = "[engine]\n"
                                   "HostFreezePressure = 10%\n"
                                   "HostFreezeAfterSec = 10s\n"
                                   "HostThawAfterSec = 30s\n"
                                   "FreezeMaxSec = 5min\n"
                                   "FreezeCooldownSec = 5min\n"
                                   "[group web]\n"
                                   "MatchName = web\n"
                                   "Class = latency\n"
                                   "[group app]\n"
                                   "MatchName = app\n"
                                   "Class = normal\n"
                                   "FreezeOnHostPressure = yes\n"
                                   "[group batch]\n"
                                   "MatchName = batch*\n"
                                   "Class = batch\n"
                                   "FreezeOnHostPressure = yes\n";

/*
 * Plant: a host of 1000 MiB; each VM that runs touches its working set; a frozen one touches nothing, and the
 * kernel can take its memory. The host stalls on memory ("full") 0.3% per MiB asked beyond its RAM.
 */
struct plant {
        struct policy *p;
        struct group_policy web_frozen; /* a latency group that asks for freezing: made by hand, the loader refuses */
        struct control_state st[NVMS];
        struct vm_signals sig[NVMS];
        struct control_vm vms[NVMS];
        struct freeze_global global;
        uint64_t ws[NVMS];
        uint32_t forced_ppm; /* when set, the host's pressure regardless of the plant */
        bool forced;
        unsigned t, transitions;
        uint64_t max_frozen_usec;
};

enum { WEB, APP, BATCH1, BATCH2 };

static uint32_t plant_pressure(const struct plant *pl)
{
        uint64_t used = 0;
        for (int i = 0; i < NVMS; i++)
                if (!pl->st[i].freeze.frozen)
                        used += pl->ws[i];
        return used <= HOST_RAM ? 0 : (uint32_t)MIN(1000000ULL, (used - HOST_RAM) * 3000 / MiB);
}

static void plant_init(struct plant *pl)
{
        static const char *const names[NVMS] = {"web", "app", "batch1", "batch2"};

        *pl = (struct plant){.p = load(freeze_policy), .ws = {400 * MiB, 300 * MiB, 200 * MiB, 300 * MiB}};
        pl->web_frozen = *group(pl->p, "web");
        pl->web_frozen.freeze_on_host_pressure = true;
        static const char *const groups[NVMS] = {"web", "app", "batch", "batch"};
        for (int i = 0; i < NVMS; i++)
                pl->vms[i] = (struct control_vm){names[i], i == WEB ? &pl->web_frozen : group(pl->p, groups[i]),
                                                 &pl->sig[i], &pl->st[i]};
}

static void plant_tick(struct plant *pl)
{
        uint32_t p = pl->forced ? pl->forced_ppm : plant_pressure(pl);
        struct host_signals host = {.interval_usec = pl->t ? SEC : 0, .memory = {.full_ppm = p, .some_ppm = p}};
        unsigned freezes = 0;

        for (int i = 0; i < NVMS; i++)
                pl->sig[i] = (struct vm_signals){.interval_usec = pl->t ? SEC : 0, .memory_current = pl->ws[i]};
        freeze_tick(pl->vms, NVMS, &host, &pl->p->engine.host, &pl->global, (pl->t + 1) * SEC);
        for (int i = 0; i < NVMS; i++) {
                const struct freeze_state *st = &pl->st[i].freeze;
                if (st->action != FREEZE_NONE) {
                        pl->transitions++;
                        assert_non_null(st->reason);
                        assert_true(strncmp(st->reason, "freeze: ", 8) == 0);
                }
                freezes += st->action == FREEZE_FREEZE;
                assert_int_equal(st->frozen, st->action == FREEZE_FREEZE || (st->frozen && st->action == FREEZE_NONE));
                if (st->frozen || st->action == FREEZE_THAW)
                        pl->max_frozen_usec = MAX(pl->max_frozen_usec, (pl->t + 1) * SEC - st->frozen_usec);
                if (i == WEB)
                        assert_false(st->frozen); /* never a latency VM, even one whose group asks */
        }
        assert_true(freezes <= 1);
        pl->t++;
}

static void plant_done(struct plant *pl)
{
        for (int i = 0; i < NVMS; i++)
                control_state_done(&pl->st[i]);
        policy_free(pl->p);
}

static void test_freeze_keys(void **state)
{
        struct policy *p = load(freeze_policy);
        assert_int_equal(p->engine.host.freeze_pressure_ppm, 100000);
        assert_int_equal(p->engine.host.freeze_after_usec, 10 * SEC);
        assert_int_equal(p->engine.host.thaw_after_usec, 30 * SEC);
        assert_int_equal(p->engine.host.freeze_max_usec, 300 * SEC);
        assert_true(group(p, "batch")->freeze_on_host_pressure);
        assert_false(group(p, "web")->freeze_on_host_pressure);
        policy_free(p);

        p = load("[engine]\nHostMemoryPressureTarget = 12.5%\nHostIOPressureTarget = 20%\nHostFreezePressure = 5%\n");
        assert_int_equal(p->engine.host.memory_pressure_target_ppm, 125000);
        assert_int_equal(p->engine.host.io_pressure_target_ppm, 200000);
        /* the defaults */
        assert_int_equal(p->engine.host.freeze_after_usec, 10 * SEC);
        assert_int_equal(p->engine.host.thaw_after_usec, 30 * SEC);
        assert_int_equal(p->engine.host.freeze_max_usec, 300 * SEC);
        assert_int_equal(p->engine.host.freeze_cooldown_usec, 300 * SEC);
        policy_free(p);

        assert_string_equal(load_err("[engine]\nHostFreezePressure = 5%\n[group w]\nMatchName = w\nClass = latency\n"
                                     "FreezeOnHostPressure = yes\n"),
                            "test.ini:6: [group w]: FreezeOnHostPressure=yes for a latency VM: latency VMs are never "
                            "frozen");
        assert_string_equal(load_err("[group b]\nMatchName = b\nClass = batch\nFreezeOnHostPressure = yes\n"),
                            "test.ini:4: [group b]: FreezeOnHostPressure=yes needs HostFreezePressure= in [engine]");
        assert_string_equal(load_err("[engine]\nHostFreezeAfterSec = 0\n"),
                            "test.ini:2: HostFreezeAfterSec=0: expected a duration from 1s to 24h");
        assert_string_equal(load_err("[engine]\nHostMemoryPressureTarget = 0%\n"),
                            "test.ini:2: HostMemoryPressureTarget=0%: expected a percentage of time stalled, above 0% "
                            "and at most 100%");
        assert_string_equal(load_err("[group b]\nMatchName = b\nFreezeOnHostPressure = maybe\n"),
                            "test.ini:3: FreezeOnHostPressure=maybe: expected yes or no");
}

/* Despite reclaim: while the host's memory law could still take memory from a VM and has taken none since the
 * pressure rose, nothing is frozen, however long the pressure holds; once it has taken some (and the pressure
 * holds all the same), the freeze comes, and its reason says how much was reclaimed. With nothing left to take, the
 * freeze comes on the pressure alone. */
static void test_freeze_after_reclaim(void **state)
{
        struct plant pl;

        plant_init(&pl);
        pl.forced = true;
        pl.forced_ppm = 300000; /* far over the 10% threshold */
        pl.global.host_can_take = true;
        for (int t = 0; t < 60; t++)
                plant_tick(&pl);
        assert_int_equal(pl.transitions, 0);

        pl.global.host_taken_total += 64 * MiB; /* the host law took 64 MiB: the pressure stays */
        for (int t = 0; t < 12 && !pl.st[BATCH2].freeze.frozen; t++)
                plant_tick(&pl);
        assert_true(pl.st[BATCH2].freeze.frozen);
        assert_non_null(strstr(pl.st[BATCH2].freeze.reason, "despite 64 MiB reclaimed from VMs meanwhile"));

        /* the next freeze needs reclaim tried again, from the freeze on */
        for (int t = 0; t < 60; t++)
                plant_tick(&pl);
        assert_false(pl.st[BATCH1].freeze.frozen);
        pl.global.host_can_take = false; /* nothing left to take */
        for (int t = 0; t < 12 && !pl.st[BATCH1].freeze.frozen; t++)
                plant_tick(&pl);
        assert_true(pl.st[BATCH1].freeze.frozen);
        plant_done(&pl);
}

/* Pressure above the threshold for 9 s out of every 10 never freezes; once frozen, pressure in the dead band
 * (between 80% and 100% of the threshold) or calm for less than 30 s at a time never thaws: only the bound does. */
static void test_freeze_hysteresis(void **state)
{
        struct plant pl;

        plant_init(&pl);
        pl.forced = true;
        for (unsigned i = 0; i < 600; i++) {
                pl.forced_ppm = i % 10 == 9 ? 50000 : 500000;
                plant_tick(&pl);
        }
        assert_int_equal(pl.transitions, 0);

        pl.forced_ppm = 500000; /* held from this tick on: 10 s later, a freeze */
        for (unsigned i = 0; i < 11; i++)
                plant_tick(&pl);
        assert_int_equal(pl.transitions, 1);
        assert_true(pl.st[BATCH2].freeze.frozen); /* the batch VM that holds the most */
        assert_string_equal(pl.st[BATCH2].freeze.reason,
                            "freeze: host memory pressure (full) 50.00% > HostFreezePressure=10.00% for 10s: the "
                            "batch VM that holds the most memory (memory.current 314572800) is frozen, for at most "
                            "300s");
        unsigned frozen_at = pl.t;
        char thaw_reason[FREEZE_REASON_MAX] = "";

        /* the dead band, then calm for 29 s of every 30: no thaw, and no further freeze either */
        for (unsigned i = 0; i < 310; i++) {
                pl.forced_ppm = i < 100 ? 90000 : i % 30 == 29 ? 85000 : 10000;
                plant_tick(&pl);
                if (pl.t - frozen_at < 300)
                        assert_true(pl.st[BATCH2].freeze.frozen);
                if (pl.st[BATCH2].freeze.action == FREEZE_THAW)
                        snprintf(thaw_reason, sizeof(thaw_reason), "%s", pl.st[BATCH2].freeze.reason);
        }
        print_message("hysteresis: 600 s at 9 s in 10 over the threshold: no freeze; frozen at %u s, then dead band "
                      "and broken calm: %u transitions, thawed by the bound after %llu s\n",
                      frozen_at, pl.transitions, (unsigned long long)(pl.max_frozen_usec / SEC));
        assert_int_equal(pl.transitions, 2);
        assert_false(pl.st[BATCH2].freeze.frozen);
        assert_non_null(strstr(thaw_reason, "freeze: frozen for 300s, the bound (FreezeMaxSec=300s): thawed"));
        plant_done(&pl);
}

/* Pressure that never ends: each VM is frozen for FreezeMaxSec= at most, and not again before the cool-down;
 * batch VMs go first (the larger first), then the normal one; the latency VM never. */
static void test_freeze_bound_and_order(void **state)
{
        struct plant pl;
        unsigned frozen_at[NVMS] = {0}, thawed_at[NVMS] = {0}, refrozen_at[NVMS] = {0};

        plant_init(&pl);
        pl.forced = true;
        pl.forced_ppm = 800000;
        for (unsigned i = 0; i < 1200; i++) {
                plant_tick(&pl);
                for (int v = 0; v < NVMS; v++) {
                        enum freeze_action a = pl.st[v].freeze.action;
                        if (a == FREEZE_FREEZE && !frozen_at[v])
                                frozen_at[v] = pl.t;
                        else if (a == FREEZE_FREEZE && !refrozen_at[v])
                                refrozen_at[v] = pl.t;
                        if (a == FREEZE_THAW && !thawed_at[v]) {
                                thawed_at[v] = pl.t;
                                assert_non_null(strstr(pl.st[v].freeze.reason, "the bound (FreezeMaxSec=300s)"));
                        }
                }
        }
        print_message("bound: frozen at %u/%u/%u s (batch2, batch1, app), thawed at %u/%u/%u, again at %u/%u/%u; "
                      "longest freeze %llu s; batch2 frozen %llu s of 1200\n",
                      frozen_at[BATCH2], frozen_at[BATCH1], frozen_at[APP], thawed_at[BATCH2], thawed_at[BATCH1],
                      thawed_at[APP], refrozen_at[BATCH2], refrozen_at[BATCH1], refrozen_at[APP],
                      (unsigned long long)(pl.max_frozen_usec / SEC),
                      (unsigned long long)(freeze_frozen_usec(&pl.st[BATCH2].freeze, pl.t * SEC) / SEC));
        /* one freeze per HostFreezeAfterSec= of pressure (the first tick has no deltas: sensed from 1 s on): the
         * larger batch VM, the other, then the normal one */
        assert_int_equal(frozen_at[BATCH2], 12);
        assert_int_equal(frozen_at[BATCH1], 22);
        assert_int_equal(frozen_at[APP], 32);
        assert_int_equal(frozen_at[WEB], 0);
        for (int v = APP; v < NVMS; v++) {
                assert_int_equal(thawed_at[v] - frozen_at[v], 300);
                assert_true(refrozen_at[v] - thawed_at[v] >= 300); /* the cool-down */
        }
        assert_true(pl.max_frozen_usec <= 300 * SEC);
        plant_done(&pl);
}

/*
 * A long run. The latency VM holds 400 MiB, the normal one 300 MiB; a batch job holds 200 MiB, but for its first
 * 600 s of running it needs 500 MiB: 400 MiB beyond the host, "full" pressure 100% while it runs (the other batch
 * VM is idle at 100 MiB). A frozen job makes no progress. The machine must see the job through, never freeze the
 * latency VM, hold no freeze past the bound, and be still (no freeze, no thaw) for the last 10 of 60 minutes.
 */
static void test_freeze_long_run(void **state)
{
        struct plant pl;
        unsigned progress = 0, done_at = 0, late = 0, freezes = 0;

        plant_init(&pl);
        pl.ws[BATCH1] = 100 * MiB;
        for (unsigned i = 0; i < 3600; i++) {
                pl.ws[BATCH2] = progress < 600 ? 500 * MiB : 200 * MiB;
                unsigned before = pl.transitions;
                plant_tick(&pl);
                if (!pl.st[BATCH2].freeze.frozen && ++progress == 600)
                        done_at = pl.t;
                if (pl.t > 3000)
                        late += pl.transitions - before;
                freezes += pl.st[BATCH2].freeze.action == FREEZE_FREEZE || pl.st[APP].freeze.action == FREEZE_FREEZE ||
                           pl.st[BATCH1].freeze.action == FREEZE_FREEZE;
        }
        print_message("long run: the job's big phase done at %u s; %u freezes, %u transitions; longest freeze %llu s; "
                      "batch frozen %llu s in all; %u transitions in the last 10 minutes\n",
                      done_at, freezes, pl.transitions, (unsigned long long)(pl.max_frozen_usec / SEC),
                      (unsigned long long)(freeze_frozen_usec(&pl.st[BATCH2].freeze, pl.t * SEC) / SEC), late);
        assert_true(done_at > 0 && done_at < 3000);
        assert_int_equal(late, 0);
        assert_true(pl.max_frozen_usec <= 300 * SEC);
        for (int v = 0; v < NVMS; v++)
                assert_false(pl.st[v].freeze.frozen);
        plant_done(&pl);
}

/* Calm for HostThawAfterSec= thaws, and says so; a VM frozen again soon after waits twice as long for its next
 * thaw on calm. */
static void test_freeze_thaw_on_calm(void **state)
{
        struct plant pl;
        unsigned thawed_after[2] = {0}, n = 0, calm_from = 0;

        plant_init(&pl);
        pl.forced = true;
        for (unsigned round = 0; round < 2; round++) {
                pl.forced_ppm = 500000;
                while (!pl.st[BATCH2].freeze.frozen)
                        plant_tick(&pl);
                pl.forced_ppm = 10000;
                calm_from = pl.t;
                while (pl.st[BATCH2].freeze.frozen && pl.t < 2000)
                        plant_tick(&pl);
                thawed_after[n++] = pl.t - calm_from;
                if (round == 0)
                        assert_string_equal(pl.st[BATCH2].freeze.reason,
                                            "freeze: host memory pressure (full) 1.00% under 80% of "
                                            "HostFreezePressure=10.00% for 30s: thawed after 31s frozen");
        }
        print_message("thaw on calm: after %u s of calm, then after %u s when frozen again soon\n", thawed_after[0],
                      thawed_after[1]);
        assert_int_equal(thawed_after[0], 31); /* the first calm tick starts the 30 s */
        assert_int_equal(thawed_after[1], 61);
        plant_done(&pl);
}

/* A reload that takes the permission away, or the threshold, thaws at once. */
static void test_freeze_permission_withdrawn(void **state)
{
        struct plant pl;

        plant_init(&pl);
        pl.forced = true;
        pl.forced_ppm = 500000;
        for (unsigned i = 0; i < 12; i++)
                plant_tick(&pl);
        assert_true(pl.st[BATCH2].freeze.frozen);

        struct group_policy no = *pl.vms[BATCH2].group;
        no.freeze_on_host_pressure = false;
        pl.vms[BATCH2].group = &no;
        plant_tick(&pl);
        assert_false(pl.st[BATCH2].freeze.frozen);
        assert_int_equal(pl.st[BATCH2].freeze.action, FREEZE_THAW);
        assert_string_equal(
                pl.st[BATCH2].freeze.reason,
                "freeze: its group no longer allows freezing (FreezeOnHostPressure=, Class=): thawed after 1s");

        /* the threshold gone: whoever is frozen thaws */
        for (unsigned i = 0; i < 12; i++)
                plant_tick(&pl);
        assert_true(pl.st[BATCH1].freeze.frozen);
        pl.p->engine.host.freeze_pressure_ppm = 0;
        plant_tick(&pl);
        assert_false(pl.st[BATCH1].freeze.frozen);
        assert_string_equal(pl.st[BATCH1].freeze.reason,
                            "freeze: HostFreezePressure= is no longer set: thawed after 4s");
        plant_done(&pl);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_freeze_keys),
                cmocka_unit_test(test_freeze_hysteresis),
                cmocka_unit_test(test_freeze_after_reclaim),
                cmocka_unit_test(test_freeze_bound_and_order),
                cmocka_unit_test(test_freeze_long_run),
                cmocka_unit_test(test_freeze_thaw_on_calm),
                cmocka_unit_test(test_freeze_permission_withdrawn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
