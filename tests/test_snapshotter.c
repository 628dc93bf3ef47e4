// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* docs/SPEC.md sections 3-5: snapshots and histories (warnings and ratios: test_ratio.c). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snaplib.h"

TestSuite(snapshot);

Test(snapshot, cpu_overloaded_only_strictly_above)
{
	cr_assert(not(overloaded(cpu_snap(0, 0.75, 0.75))));
	cr_assert(overloaded(cpu_snap(0, 0.7500001, 0.75)));
	cr_assert(not(overloaded(cpu_snap(0, 0.2, 0.75))));
}

Test(snapshot, memory_ratio_rule)
{
	cr_assert(not(overloaded(mem_snap(0, 8 * GIB, 10 * GIB, 0.8))));
	cr_assert(overloaded(mem_snap(0, 8 * GIB + 1, 10 * GIB, 0.8)));
}

Test(snapshot, memory_system_rule_needs_both_figures)
{
	struct cgsnap_snapshot m = mem_snap(0, 1, 100, 0.9);

	m.memory.system_used_bytes = 9701;
	m.memory.system_total_bytes = 10000;
	m.present = CGSNAP_F_SYSTEM_USED;
	cr_assert(not(overloaded(m)), "system total unknown: the 0.97 rule does not apply");
	m.present |= CGSNAP_F_SYSTEM_TOTAL;
	cr_assert(overloaded(m), "9701/10000 > 0.97");
	m.memory.system_used_bytes = 9700;
	cr_assert(not(overloaded(m)), "exactly 0.97 is not overloaded");
}

Test(snapshot, memory_stall_rule)
{
	struct cgsnap_snapshot m = mem_snap(0, 1, 100, 0.9);

	m.memory.stall_ratio = 0.5;
	cr_assert(not(overloaded(m)), "stall_ratio not present: not considered");
	m.present = CGSNAP_F_STALL;
	cr_assert(overloaded(m));
	m.memory.stall_ratio = 0.1;
	cr_assert(not(overloaded(m)), "stall_ratio equal to max_stall_ratio");
	m.memory.stall_ratio = 0.11;
	cr_assert(overloaded(m));
}

Test(snapshot, runq_and_client_strict)
{
	cr_assert(not(overloaded(runq_snap(0, 50 * MS, 50 * MS))));
	cr_assert(overloaded(runq_snap(0, 50 * MS + 1, 50 * MS)));
	struct cgsnap_snapshot c = client_snap(0, 0, 1);

	c.client.new_error_count = 1;
	cr_assert(not(overloaded(c)));
	c.client.new_error_count = 2;
	cr_assert(overloaded(c));
}

Test(snapshot, validate_rejects_bad_values)
{
	struct cgsnap_snapshot c = cpu_snap(0, NAN, 0.5);
	const char *why = NULL;

	cr_assert(eq(int, cgsnap_snapshot__validate(&c, &why), -EINVAL));
	cr_assert(ne(ptr, (void *)why, NULL));
	c = cpu_snap(0, 0.5, 1.5);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c = mem_snap(0, -1, 10, 0.5);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c = mem_snap(0, 1, 0, 0.5);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c = runq_snap(0, -1, 10);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c = client_snap(0, -3, 1);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c.kind = 9;
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), -EINVAL));
	c = cpu_snap(0, 1.2, 0.9);
	cr_assert(eq(int, cgsnap_snapshot__validate(&c, NULL), 0), "used_ratio above 1 is a reading");
}

TestSuite(history, .init = snaplib_setup, .fini = snaplib_teardown);

Test(history, late_snapshot_inserted_in_place)
{
	struct cgsnap_sample h;

	add(cpu_snap(0, 0.1, 0.9));
	add(cpu_snap(2 * SEC, 0.3, 0.9));
	add(cpu_snap(1 * SEC, 0.2, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 3));
	cr_assert(eq(i64, at(&h, 0).t_ns, 0));
	cr_assert(eq(i64, at(&h, 1).t_ns, 1 * SEC));
	cr_assert(eq(i64, at(&h, 2).t_ns, 2 * SEC));
}

Test(history, equal_timestamp_goes_after_existing)
{
	struct cgsnap_sample h;

	add(cpu_snap(1 * SEC, 0.1, 0.9));
	add(cpu_snap(2 * SEC, 0.2, 0.9));
	add(cpu_snap(1 * SEC, 0.5, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 3));
	cr_assert(eq(dbl, at(&h, 0).cpu.used_ratio, 0.1));
	cr_assert(eq(dbl, at(&h, 1).cpu.used_ratio, 0.5));
	cr_assert(eq(dbl, at(&h, 2).cpu.used_ratio, 0.2));
}

Test(history, prune_keeps_exactly_history_old)
{
	struct cgsnap_sample h;

	add(cpu_snap(0, 0.1, 0.9));
	add(cpu_snap(1, 0.1, 0.9));
	add(cpu_snap(30 * SEC, 0.1, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 3), "a snapshot exactly 30 s old is kept");
	add(cpu_snap(30 * SEC + 1, 0.1, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 3), "one 30 s + 1 ns old is dropped");
	cr_assert(eq(i64, at(&h, 0).t_ns, 1));
}

/*
 * A history holds what the window holds: snapshots every 30/31 s keep 32 in
 * a 30 s window, and the 33rd pushes the oldest out before it is stored, in
 * the room for 32 it fills, not room grown to 64 for a moment (and for
 * good). Identical snapshots (an idle cgroup's) cost their time and flag.
 */
Test(history, a_history_is_the_size_of_its_window)
{
	size_t empty = cgsnap_snapshotter__heap_bytes(s), full;
	struct cgsnap_sample h;
	int64_t step = 30 * SEC / 31;
	int i;

	for (i = 0; i < 40; i++)
		add(cpu_snap(i * step, 0.1, 0.9));
	full = cgsnap_snapshotter__heap_bytes(s);
	for (; i < 100; i++)
		add(cpu_snap(i * step, 0.1, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 32), "32 snapshots in the window");
	cr_assert(eq(sz, cgsnap_snapshotter__heap_bytes(s), full), "no growth once the window is full");
	/* 32 entries of 8 bytes, and no codes: nothing changed */
	cr_assert(le(sz, full - empty, 32 * 8), "%zu bytes for 32 identical snapshots",
		  full - empty);
	cr_assert(eq(i64, at(&h, 0).t_ns, 68 * step));
}

/*
 * A busy cgroup's runq history, every snapshot different: once the window
 * is full its codes buffer holds at most about 1.6 times the live codes
 * (a quarter dead at most, grown by a quarter), not the up to four times a
 * buffer that waits for half dead and doubles would hold.
 */
Test(history, a_busy_history_holds_little_more_than_its_codes)
{
	size_t empty = cgsnap_snapshotter__heap_bytes(s), full, most = 0, now;
	uint64_t x = 88172645463325252ULL;	/* xorshift: the same values every run */
	int64_t step = SEC / 2;
	int i;

	for (i = 0; i < 2000; i++) {
		struct cgsnap_snapshot r = runq_snap(i * step, 0, 50 * MS);

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		r.present |= CGSNAP_F_RUNQ_COUNT | CGSNAP_F_RUNQ_MEAN | CGSNAP_F_RUNQ_P99;
		r.runq.delay_ns = (int64_t)(x % 5000000);
		r.runq.count = (int64_t)(x >> 40) % 3000;
		r.runq.mean_ns = (int64_t)(x >> 20) % 2000000;
		r.runq.p99_ns = r.runq.delay_ns;
		add(r);
		now = cgsnap_snapshotter__heap_bytes(s) - empty;
		if (i == 60)
			full = now;
		if (i > 60 && now > most)
			most = now;
	}
	cr_assert(eq(u32, sample(CGSNAP_KIND_RUNQ, 0).len, 61), "the window's 61 snapshots");
	/* entries 64 * 8 bytes; codes as the window first filled, give or take */
	cr_assert(le(sz, most, 512 + (full - 512) * 3 / 2),
		  "%zu bytes at most against %zu when the window first filled", most, full);
}

Test(history, late_snapshot_older_than_window_is_dropped)
{
	struct cgsnap_sample h;

	add(runq_snap(100 * SEC, 0, 1));
	add(runq_snap(60 * SEC, 0, 1));
	h = sample(CGSNAP_KIND_RUNQ, 0);
	cr_assert(eq(u32, h.len, 1));
	cr_assert(eq(i64, at(&h, 0).t_ns, 100 * SEC));
}

static void history_50ms(struct cgsnap_settings *st)
{
	st->snapshot_history_ns = 50 * MS;
}

Test(history, integer_durations_are_exact)
{
	struct cgsnap_sample h;

	/* 1.05 s - 0.5 s - 0.5 s is exactly 50 ms: the oldest stays */
	reconfigure(history_50ms);
	add(cpu_snap(1000 * MS, 0.1, 0.9));
	add(cpu_snap(1050 * MS, 0.1, 0.9));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 2));
}

Test(history, sample_is_inclusive_and_relative_to_newest)
{
	struct cgsnap_sample h;
	int i;

	for (i = 0; i <= 10; i++)
		add(cpu_snap(100 * SEC + i * SEC, 0.1, 0.9));
	h = sample(CGSNAP_KIND_CPU, 3 * SEC);
	cr_assert(eq(u32, h.len, 4), "t = newest-3s ... newest");
	cr_assert(eq(i64, at(&h, 0).t_ns, 107 * SEC));
	h = sample(CGSNAP_KIND_CPU, 3 * SEC - 1);
	cr_assert(eq(u32, h.len, 3));
	h = sample(CGSNAP_KIND_CPU, 0);
	cr_assert(eq(u32, h.len, 11), "duration 0 is the whole history");
	h = sample(CGSNAP_KIND_MEMORY, 3 * SEC);
	cr_assert(eq(u32, h.len, 0));
}

Test(history, lifecycle_errors)
{
	struct cgsnap_snapshot c = cpu_snap(0, 0.1, 0.9);
	struct cgsnap_sample out;

	cr_assert(eq(int, cgsnap_snapshotter__start(s), -EALREADY));
	cr_assert(eq(str, (char *)cgsnap_strerror(-EALREADY), "snapshotter is already active"));
	cr_assert(eq(int, cgsnap_snapshotter__stop(s), 0));
	cr_assert(eq(int, cgsnap_snapshotter__stop(s), -ENOTCONN));
	cr_assert(eq(str, (char *)cgsnap_strerror(-ENOTCONN), "snapshotter is not active"));
	cr_assert(eq(int, cgsnap_snapshotter__sample(s, CGSNAP_KIND_CPU, 0, &out), -ENOTCONN));
	cr_assert(eq(int, cgsnap_snapshotter__add(s, &c, NULL), -ENOTCONN));
	cr_assert(eq(int, cgsnap_snapshotter__start(s), 0));
	cr_assert(eq(int, cgsnap_snapshotter__add(s, &c, NULL), 0));
	cr_assert(eq(int, cgsnap_snapshotter__sample(s, 7, 0, &out), -EINVAL));
}

Test(history, client_new_errors_from_newest_in_history)
{
	struct cgsnap_snapshot c = client_snap(0, 4, 2), l, *latest = &l;

	add(c);
	cr_assert(cgsnap_snapshotter__latest(s, CGSNAP_KIND_CLIENT, latest));
	cr_assert(eq(i64, latest->client.new_error_count, 4));
	cr_assert(latest->overloaded, "a first snapshot can be overloaded");
	add(client_snap(1 * SEC, 6, 2));
	cr_assert(cgsnap_snapshotter__latest(s, CGSNAP_KIND_CLIENT, latest));
	cr_assert(eq(i64, latest->client.new_error_count, 2));
	cr_assert(not(latest->overloaded));
	c = client_snap(2 * SEC, 100, 2);
	c.client.new_error_count = 1;
	c.present = CGSNAP_F_NEW_ERRORS;
	add(c);
	cr_assert(cgsnap_snapshotter__latest(s, CGSNAP_KIND_CLIENT, latest));
	cr_assert(eq(i64, latest->client.new_error_count, 1), "a given new_error_count is kept");
}

Test(history, client_errors_counted_on_configured_retry_only)
{
	struct cgsnap_snapshot l, *latest = &l;

	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 1, 5), 0));
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 2, 3), 1));
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 3, 7), 0));
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, -1, 1), -EINVAL));
	cr_assert(eq(i64, cgsnap_snapshotter__client_error_count(s), 3));
	cr_assert(eq(int, cgsnap_snapshotter__take_client_snapshot(s, 0), 0));
	cr_assert(cgsnap_snapshotter__latest(s, CGSNAP_KIND_CLIENT, latest));
	cr_assert(eq(i64, latest->client.error_count, 3));
	cr_assert(eq(i64, latest->client.new_error_count, 3));
	cr_assert(latest->overloaded, "3 new errors > max_client_errors 1");
	cr_assert(eq(int, cgsnap_snapshotter__take_client_snapshot(s, 1 * SEC), 0));
	cr_assert(cgsnap_snapshotter__latest(s, CGSNAP_KIND_CLIENT, latest));
	cr_assert(eq(i64, latest->client.new_error_count, 0));
}

/* a client driving the count to its maximum must not lock out every later
 * report (issue: after INT64_MAX every report got 400) */
Test(history, client_error_count_saturates)
{
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 2, INT64_MAX), 1));
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 2, INT64_MAX), 1));
	cr_assert(eq(int, cgsnap_snapshotter__report_client_errors(s, 2, 1), 1));
	cr_assert(eq(i64, cgsnap_snapshotter__client_error_count(s), INT64_MAX));
}

Test(history, burst_beyond_cap_drops_oldest_and_counts)
{
	struct cgsnap_sample h;
	uint32_t i;

	for (i = 0; i < CGSNAP_HISTORY_MAX + 10; i++)
		add(runq_snap(i, 0, 1));
	h = sample(CGSNAP_KIND_RUNQ, 0);
	cr_assert(eq(u32, h.len, CGSNAP_HISTORY_MAX));
	cr_assert(eq(u64, cgsnap_snapshotter__dropped(s, CGSNAP_KIND_RUNQ), 10));
	cr_assert(eq(i64, at(&h, 0).t_ns, 10));
}

/* naive model: a sorted array, pruned relative to its newest entry */
struct model {
	int64_t t[4096];
	int n;
};

static void model_add(struct model *m, int64_t t, int64_t window)
{
	int pos = m->n, drop = 0, i;

	while (pos > 0 && m->t[pos - 1] > t)
		pos--;
	memmove(&m->t[pos + 1], &m->t[pos], (m->n - pos) * sizeof(m->t[0]));
	m->t[pos] = t;
	m->n++;
	while (drop < m->n && m->t[m->n - 1] - m->t[drop] > window)
		drop++;
	for (i = drop; i < m->n; i++)
		m->t[i - drop] = m->t[i];
	m->n -= drop;
}

Test(history, matches_naive_model_under_random_late_arrivals)
{
	static struct model m;
	struct cgsnap_sample h;
	int64_t now = 0;
	int i, j;

	srand(42);
	for (i = 0; i < 3000; i++) {
		int64_t t;

		now += rand() % (300 * MS);
		/* one in five arrives late, up to 40 s late */
		t = rand() % 5 ? now : now - rand() % (40 * SEC);
		add(cpu_snap(t, 0.5, 0.9));
		model_add(&m, t, settings.snapshot_history_ns);
		h = sample(CGSNAP_KIND_CPU, 0);
		cr_assert(eq(u32, h.len, (uint32_t)m.n), "after %d inserts", i + 1);
		for (j = 0; j < m.n; j++)
			cr_assert(eq(i64, at(&h, j).t_ns, m.t[j]));
	}
}


/* a snapshot of @kind at @t with values from @r: small steps, jumps, the
 * extremes of each field, repeats */
static struct cgsnap_snapshot random_snap(enum cgsnap_kind kind, int64_t t, unsigned int r)
{
	static const int64_t ints[] = { 0, 1, 127, 128, 16383, 1000000, INT32_MAX,
					(int64_t)INT32_MAX + 1, INT64_MAX - 4, INT64_MAX - 3 };
	static const double reals[] = { 0, 0.1, 0.5, 0.97, 1, 1e-300, 0.333333333333333314829616256247 };
	struct cgsnap_snapshot sn = { .t_ns = t, .kind = kind };
#define IV(n) (ints[((r) >> (n)) % 10] + ((r) >> 20) % 3)
#define RV(n) (reals[((r) >> (n)) % 7])

	switch (kind) {
	case CGSNAP_KIND_CPU:
		sn.cpu.used_ratio = RV(0) * (1 + r % 5);
		sn.cpu.max_used_ratio = r % 7 ? 0.95 : 0.5;
		break;
	case CGSNAP_KIND_MEMORY:
		sn.present = r % 3 ? CGSNAP_F_STALL | CGSNAP_F_SYSTEM_USED | CGSNAP_F_SYSTEM_TOTAL : 0;
		sn.memory = (struct cgsnap_memory_snapshot){ IV(1), IV(3) + 1, RV(5) ? RV(5) : 0.9,
							     IV(7), IV(9) + 1, RV(11), 0.1 };
		break;
	case CGSNAP_KIND_RUNQ:
		sn.present = CGSNAP_F_RUNQ_COUNT | CGSNAP_F_RUNQ_MAX;
		sn.runq = (struct cgsnap_runq_snapshot){ IV(0), IV(2), IV(4), IV(6), IV(8), IV(10), IV(12), IV(14) };
		break;
	default:
		sn.present = r % 2 ? CGSNAP_F_NEW_ERRORS : 0;
		sn.client = (struct cgsnap_client_snapshot){ IV(1), IV(5), IV(9) };
		break;
	}
#undef IV
#undef RV
	return sn;
}

/*
 * The histories are compact, and lossless: what is copied back is what was
 * added, field for field, through late arrivals, pruning and the values
 * that change not at all, a little or to either end of their range.
 */
static void copies_back(bool far)
{
	static struct cgsnap_snapshot model[4096], got[4096];
	struct cgsnap_snapshot sn, exp;
	struct cgsnap_sample h;
	int64_t now = 0, window;
	int k, i, j, n;

	srand(7);
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		if (far) {
			snaplib_teardown();
			snaplib_setup();
		} else {
			reconfigure(history_50ms);
		}
		window = settings.snapshot_history_ns;
		for (i = n = 0; i < 2000; i++) {
			unsigned int r = (unsigned int)rand() ^ ((unsigned int)rand() << 15);
			int pos, drop = 0;

			now += far ? (int64_t)(rand() % 6000) * MS : rand() % (5 * MS);
			sn = random_snap(k, rand() % 6 ? now : now - (int64_t)rand() % (window + window / 5),
					 rand() % 3 ? r : 0);
			add(sn);
			/* the model: what add() makes of it, sorted after equal times,
			 * pruned relative to the newest */
			exp = sn;
			if (k == CGSNAP_KIND_CLIENT && !(sn.present & CGSNAP_F_NEW_ERRORS))
				exp.client.new_error_count = sn.client.error_count -
							     (n ? model[n - 1].client.error_count : 0);
			exp.overloaded = cgsnap_snapshot__is_overloaded(&exp);
			for (pos = n; pos > 0 && model[pos - 1].t_ns > sn.t_ns; pos--)
				;
			memmove(&model[pos + 1], &model[pos], (n - pos) * sizeof(model[0]));
			model[pos] = exp;
			n++;
			while (drop < n && model[n - 1].t_ns - model[drop].t_ns > window)
				drop++;
			memmove(model, model + drop, (n - drop) * sizeof(model[0]));
			n -= drop;
			h = sample(k, 0);
			cr_assert(eq(u32, h.len, (uint32_t)n), "kind %d, after %d adds", k, i + 1);
			cr_assert(eq(u32, cgsnap_sample__copy(&h, 0, h.len + 5, got), h.len));
			for (j = 0; j < n; j++) {
				cr_assert(eq(i64, got[j].t_ns, model[j].t_ns));
				cr_assert(eq(u32, got[j].kind, (uint32_t)k));
				cr_assert(eq(int, got[j].overloaded, model[j].overloaded));
				cr_assert(eq(u32, got[j].present, model[j].present));
				cr_assert(eq(int, memcmp(&got[j].runq, &model[j].runq, sizeof(got[j].runq)), 0),
					  "kind %d, after %d adds: snapshot %d of %d differs", k, i + 1, j, n);
			}
			/* a window of it, from the middle */
			if (n > 2) {
				cr_assert(eq(u32, cgsnap_sample__copy(&h, n / 2, 2, got), 2));
				cr_assert(eq(int, memcmp(&got[1].runq, &model[n / 2 + 1].runq,
							 sizeof(got[1].runq)), 0));
			}
		}
	}
}

Test(history, copies_back_exactly_what_was_added)
{
	/* gaps of milliseconds in a 50 ms window, then of seconds (some
	 * beyond the 4.3 s an entry's gap holds) in the default 30 s one */
	copies_back(false);
	copies_back(true);
}
