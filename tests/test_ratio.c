// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The judgement of a history: the memory warning's threshold and cooldown,
 * and the time-weighted overload ratio (SPEC's examples, Python's rounding,
 * the current window, simultaneous snapshots).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "snaplib.h"

TestSuite(warning, .init = snaplib_setup, .fini = snaplib_teardown);

static int add_mem(int64_t t, int64_t cur, struct cgsnap_memory_warning *w)
{
	struct cgsnap_snapshot m = mem_snap(t, cur, 8 * GIB, 0.9);

	return cgsnap_snapshotter__add(s, &m, w);
}

Test(warning, spec_8gib_example)
{
	struct cgsnap_memory_warning w;

	cr_assert(eq(i64, cgsnap_memory_warning_threshold(8 * GIB, 0.9, 0.5), 8160437861));
	cr_assert(eq(int, add_mem(0, 8160437861, &w), 0), "at the threshold: no warning");
	cr_assert(eq(int, add_mem(1 * MS, 8160437862, &w), 1));
	cr_assert(eq(i64, w.t_ns, 1 * MS));
	cr_assert(eq(i64, w.current_bytes, 8160437862));
	cr_assert(eq(i64, w.threshold_bytes, 8160437861));
	cr_assert(eq(i64, w.budget_bytes, 8 * GIB));
	cr_assert(eq(int, add_mem(2 * MS, 8160437862, &w), 0), "1 ms later: cooling down");
}

Test(warning, cooldown_boundary)
{
	int64_t cooldown = settings.memory_warning_cooldown_ns;

	cr_assert(eq(int, add_mem(5 * SEC, 8 * GIB, NULL), 1));
	cr_assert(eq(int, add_mem(5 * SEC + cooldown - 1, 8 * GIB, NULL), 0));
	cr_assert(eq(int, add_mem(5 * SEC + cooldown, 8 * GIB, NULL), 1),
		  "t == last + cooldown is not inside the cooldown");
}

Test(warning, first_warning_allowed_at_any_time)
{
	cr_assert(eq(int, add_mem(INT64_MIN + 1, 8 * GIB, NULL), 1));
}

TestSuite(ratio, .init = snaplib_setup, .fini = snaplib_teardown);

static double ratio_of(enum cgsnap_kind kind)
{
	struct cgsnap_sample h = sample(kind, 0);

	return cgsnap_sample__overload_ratio(&h);
}

Test(ratio, empty_single_and_zero_total)
{
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.0));
	add(cpu_snap(0, 0.9, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 1.0));
	add(runq_snap(0, 0, 5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_RUNQ), 0.0));
	add(cpu_snap(0, 0.9, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.0), "two snapshots, no time between");
}

Test(ratio, spec_cpu_example)
{
	add(cpu_snap(-180 * SEC, 0.6, 0.75));
	add(cpu_snap(-120 * SEC, 0.7, 0.75));
	add(cpu_snap(-60 * SEC, 0.8, 0.75));
	add(cpu_snap(0, 0.9, 0.75));
	/* history is 30 s by default: only the newest remains */
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 1.0));
}

static void history_5m(struct cgsnap_settings *st)
{
	st->snapshot_history_ns = 300 * SEC;
	st->overload_threshold[CGSNAP_KIND_CPU] = 0.5;
}

Test(ratio, spec_cpu_example_long_history)
{
	struct cgsnap_status st;

	reconfigure(history_5m);
	add(cpu_snap(-180 * SEC, 0.6, 0.75));
	add(cpu_snap(-120 * SEC, 0.7, 0.75));
	add(cpu_snap(-60 * SEC, 0.8, 0.75));
	add(cpu_snap(0, 0.9, 0.75));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.667));
	cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &st), 0));
	cr_assert(eq(dbl, st.kind[CGSNAP_KIND_CPU].actual_ratio, 0.667));
	cr_assert(eq(dbl, st.kind[CGSNAP_KIND_CPU].limit_ratio, 0.5));
	cr_assert(st.kind[CGSNAP_KIND_CPU].overloaded);
	cr_assert(not(st.idle));
}

Test(ratio, oldest_state_never_counts)
{
	add(cpu_snap(0, 0.99, 0.5));
	add(cpu_snap(1 * SEC, 0.1, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.0));
}

Test(ratio, rounds_like_python)
{
	struct cgsnap_sample h;

	/* overloaded 1 of 2000 ns: 0.0005 as a double is above the tie: 0.001 */
	add(runq_snap(0, 0, 5));
	add(runq_snap(1, 9, 5));
	add(runq_snap(2000, 0, 5));
	h = sample(CGSNAP_KIND_RUNQ, 0);
	cr_assert(eq(dbl, cgsnap_sample__overload_ratio(&h), 0.001));
	cr_assert(eq(dbl, cgsnap_round3(0.6665), 0.666), "0.6665 as a double is below the tie");
	cr_assert(eq(dbl, cgsnap_round3(2.0 / 3), 0.667));
	cr_assert(eq(dbl, cgsnap_round3(0.0015), 0.002));
	cr_assert(eq(dbl, cgsnap_round3(1.0005), 1.0));
}

Test(ratio, threshold_is_strict)
{
	struct cgsnap_status st;
	int i;

	/* 2 of 5 seconds overloaded: exactly the 0.4 cpu threshold */
	for (i = 0; i <= 5; i++)
		add(cpu_snap(i * SEC, i >= 4 ? 0.99 : 0.1, 0.5));
	cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &st), 0));
	cr_assert(eq(dbl, st.kind[CGSNAP_KIND_CPU].actual_ratio, 0.4));
	cr_assert(not(st.kind[CGSNAP_KIND_CPU].overloaded));
	cr_assert(st.idle);
}

Test(ratio, current_uses_max_snapshot_age)
{
	struct cgsnap_status cur, hist;
	int i;

	/* overloaded for 20 s, then fine for the last 6 s */
	for (i = 0; i <= 26; i++)
		add(runq_snap(i * SEC, i <= 20 ? 100 * MS : 0, 50 * MS));
	cr_assert(eq(int, cgsnap_snapshotter__current_status(s, &cur), 0));
	cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &hist), 0));
	cr_assert(eq(dbl, cur.kind[CGSNAP_KIND_RUNQ].actual_ratio, 0.0));
	cr_assert(cur.idle);
	cr_assert(eq(dbl, hist.kind[CGSNAP_KIND_RUNQ].actual_ratio, 0.769));
	cr_assert(hist.kind[CGSNAP_KIND_RUNQ].overloaded);
	cr_assert(not(hist.idle));
}

/* the status skips the ratio of a history that holds nothing overloaded:
 * that count must follow late inserts and pruning exactly */
Test(ratio, status_agrees_with_the_samples_through_late_arrivals_and_pruning)
{
	struct cgsnap_status hist;
	int64_t now = 0;
	int i;

	srand(7);
	for (i = 0; i < 2000; i++) {
		int64_t t;

		now += rand() % (500 * MS);
		t = rand() % 4 ? now : now - rand() % (40 * SEC);
		/* overloaded in runs, so that histories empty of them come and go */
		add(cpu_snap(t, (i / 100) % 3 == 0 && rand() % 2 ? 0.95 : 0.1, 0.9));
		cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &hist), 0));
		cr_assert(eq(dbl, hist.kind[CGSNAP_KIND_CPU].actual_ratio, ratio_of(CGSNAP_KIND_CPU)),
			  "after %d inserts", i + 1);
	}
}

static void age_zero(struct cgsnap_settings *st)
{
	st->max_snapshot_age_ns = 0;
}

Test(ratio, max_snapshot_age_zero_is_historical)
{
	struct cgsnap_status cur, hist;
	int i;

	reconfigure(age_zero);
	for (i = 0; i <= 10; i++)
		add(cpu_snap(i * SEC, i % 3 ? 0.99 : 0.1, 0.5));
	cgsnap_snapshotter__current_status(s, &cur);
	cgsnap_snapshotter__historical_status(s, &hist);
	cr_assert(eq(dbl, cur.kind[CGSNAP_KIND_CPU].actual_ratio,
		     hist.kind[CGSNAP_KIND_CPU].actual_ratio));
	cr_assert(eq(dbl, cur.kind[CGSNAP_KIND_CPU].actual_ratio, 0.7));
}

Test(ratio, status_when_stopped_is_error)
{
	struct cgsnap_status st;

	cgsnap_snapshotter__stop(s);
	cr_assert(eq(int, cgsnap_snapshotter__current_status(s, &st), -ENOTCONN));
	cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &st), -ENOTCONN));
}

/*
 * Where Crawlee JS (@crawlee/core 3.18 evaluateLoadSignalSample) and
 * crawlee-python (which the SPEC follows) part, cgsnap's choice pinned
 * (docs/SPEC.md section 6): the JS figures are what the real package gives
 * for the same samples (clients/crawlee's differential test runs it).
 */
static void threshold_06(struct cgsnap_settings *st)
{
	st->snapshot_history_ns = 300 * SEC;
	st->overload_threshold[CGSNAP_KIND_CPU] = 0.6;
}

Test(ratio, simultaneous_snapshots_weigh_nothing)
{
	struct cgsnap_status st;

	/* two at one instant, the second overloaded: JS weighs the gap as
	 * 1 ms, ratio 1.0 and overloaded; here no time passed: 0 */
	add(cpu_snap(5 * SEC, 0.1, 0.5));
	add(cpu_snap(5 * SEC, 0.9, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.0));
	cr_assert(eq(int, cgsnap_snapshotter__current_status(s, &st), 0));
	cr_assert(not(st.kind[CGSNAP_KIND_CPU].overloaded));
	/* a second of overload, then one more snapshot at the same instant, not
	 * overloaded: JS 1000/1001 = 0.999; here the 0 ms gap adds nothing: 1.0 */
	add(cpu_snap(6 * SEC, 0.9, 0.5));
	add(cpu_snap(6 * SEC, 0.1, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 1.0));
}

Test(ratio, the_rounded_ratio_is_judged)
{
	struct cgsnap_status st;

	/* 6.004 s overloaded of 10 s: 0.6004, rounded 0.6; JS judges the
	 * unrounded 0.6004 > 0.6 overloaded, reporting 0.6; here 0.6 > 0.6 is not */
	reconfigure(threshold_06);
	add(cpu_snap(0, 0.1, 0.5));
	add(cpu_snap(6004 * CGSNAP_NSEC_PER_MSEC, 0.9, 0.5));
	add(cpu_snap(10 * SEC, 0.1, 0.5));
	cr_assert(eq(int, cgsnap_snapshotter__historical_status(s, &st), 0));
	cr_assert(eq(dbl, st.kind[CGSNAP_KIND_CPU].actual_ratio, 0.6));
	cr_assert(not(st.kind[CGSNAP_KIND_CPU].overloaded));
}

Test(ratio, ties_round_to_even_as_python)
{
	int i;

	/* 1 s of 16 overloaded: 0.0625 exactly; Python's round gives 0.062,
	 * JS's Math.round(62.5) / 1000 0.063 */
	reconfigure(history_5m);
	add(cpu_snap(0, 0.1, 0.5));
	for (i = 1; i <= 16; i++)
		add(cpu_snap(i * SEC, i == 16 ? 0.9 : 0.1, 0.5));
	cr_assert(eq(dbl, ratio_of(CGSNAP_KIND_CPU), 0.062));
}
