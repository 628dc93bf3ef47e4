// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The accumulators: cumulative kernel counters -> deltas -> sums. Pure, no
 * root: fed by hand-made counter fixtures. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "accum.h"

TestSuite(accum);

/* a slot's counters as the kernel side would hold them after @n waits of
 * @ns each, all behind a task of another cgroup */
static void waits(struct cgsnap_runq *r, __u32 slots[CGSNAP_HIST_SLOTS], uint64_t n, uint64_t ns)
{
	r->count += n;
	r->sum_ns += n * ns;
	if (ns > r->max_ns)
		r->max_ns = ns;
	r->holder_count[CGSNAP_HOLDER_OTHER] += n;
	r->holder_ns[CGSNAP_HOLDER_OTHER] += n * ns;
	slots[cgsnap_hist_slot(ns)] += n;
}

Test(accum, baseline_is_not_counted_and_deltas_are)
{
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};
	struct lat_acc acc = {};

	waits(&cur, slots, 100, 2000);		/* before watching began */
	runq_prev_set(&prev, &cur, slots);
	cr_assert(not(runq_delta(&prev, &cur, slots, &d)), "nothing new since the baseline");
	waits(&cur, slots, 3, 5000000);
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	lat_add(&acc, &d);
	cr_assert(eq(u64, acc.count, 3));
	cr_assert(eq(u64, acc.sum_ns, 15000000));
	cr_assert(eq(u64, acc.max_ns, 5000000));
	cr_assert(eq(u64, acc.holder_count[CGSNAP_HOLDER_OTHER], 3));
	cr_assert(eq(u64, acc.slots[cgsnap_hist_slot(5000000)], 3));
	cr_assert(eq(u64, acc.slots[cgsnap_hist_slot(2000)], 0), "the baseline's slot");
	cr_assert(eq(u16, acc.lo, cgsnap_hist_slot(5000000)));
	cr_assert(eq(u16, acc.hi, cgsnap_hist_slot(5000000) + 1));
}

Test(accum, histogram_slots_wrap_at_32_bits)
{
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};
	unsigned int s = cgsnap_hist_slot(1000);

	waits(&cur, slots, UINT32_MAX - 1, 1000);
	cr_assert(runq_prev_set(&prev, &cur, slots), "the count agrees with the slots mod 2^32");
	waits(&cur, slots, 5, 1000);		/* the slot wraps to 3 */
	cr_assert(eq(u32, slots[s], 3));
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	cr_assert(eq(u32, d.nr_nz, 1));
	cr_assert(eq(u64, d.acc.slots[s], 5));
	cr_assert(eq(u64, d.acc.count, 5));
	cr_assert(eq(u64, d.acc.sum_ns, 5000), "a count past 2^32 still agrees");
}

/* the totals as /metrics exports them, checked as Prometheus requires */
static void assert_coherent(const struct lat_total *t)
{
	uint64_t octaves = 0, holders = 0;
	int i;

	for (i = 0; i < CGSNAP_OCTAVES; i++)
		octaves += t->octaves[i];
	for (i = 0; i < CGSNAP_HOLDER_MAX; i++)
		holders += t->holder_count[i];
	cr_assert(eq(u64, octaves, t->count), "+Inf (the count) is the buckets' sum");
	cr_assert(le(u64, holders, t->count), "the holder split is never ahead of the count");
}

/*
 * A reading that caught waits being written: the histogram holds some the
 * count and sums do not (or the reverse). The count is the histogram's;
 * the sums and the split follow once a reading agrees with itself.
 */
Test(accum, a_torn_reading_never_puts_sums_or_splits_ahead_of_the_count)
{
	static __u32 slots[CGSNAP_HIST_SLOTS], torn[CGSNAP_HIST_SLOTS], unused[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {}, part;
	struct runq_prev prev = {};
	struct lat_total t = {};

	waits(&cur, slots, 10, 4000);
	cr_assert(runq_prev_set(&prev, &cur, slots));
	/* histogram ahead: 3 waits in it, the CPUs' counters show 2 of them */
	part = cur;
	waits(&part, unused, 2, 50000);
	waits(&cur, slots, 3, 50000);
	cr_assert(runq_delta(&prev, &part, slots, &d));
	lat_total_add(&t, &d);
	cr_assert(eq(u64, d.acc.count, 3), "the histogram's waits are counted");
	cr_assert(eq(u64, d.acc.sum_ns, 0), "the sums wait for a reading that agrees");
	assert_coherent(&t);
	/* count ahead: 2 more waits in the counters, 1 of them in the histogram */
	memcpy(torn, slots, sizeof(torn));
	waits(&cur, slots, 2, 7000000);
	torn[cgsnap_hist_slot(7000000)]++;
	cr_assert(runq_delta(&prev, &cur, torn, &d));
	lat_total_add(&t, &d);
	cr_assert(eq(u64, t.count, 4));
	cr_assert(eq(u64, t.sum_ns, 0));
	assert_coherent(&t);
	/* a reading that agrees: everything is counted, exactly once */
	waits(&cur, slots, 1, 4000);
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	lat_total_add(&t, &d);
	cr_assert(eq(u64, t.count, 6));
	cr_assert(eq(u64, t.sum_ns, 3 * 50000 + 2 * 7000000 + 4000));
	cr_assert(eq(u64, t.holder_count[CGSNAP_HOLDER_OTHER], 6));
	cr_assert(eq(u64, t.holder_ns[CGSNAP_HOLDER_OTHER], t.sum_ns));
	assert_coherent(&t);
	cr_assert(not(runq_delta(&prev, &cur, slots, &d)), "nothing new");
}

/* every order in which a reader may catch a writer, at random: the totals
 * stay coherent at every step and are exact once a reading agrees */
Test(accum, torn_readings_at_random_stay_coherent_and_end_exact)
{
	static __u32 slots[CGSNAP_HIST_SLOTS], seen[CGSNAP_HIST_SLOTS], unused[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {}, part;
	struct runq_prev prev = {};
	struct lat_total t = {};
	uint64_t ns;
	int i, j;

	srand(42);
	runq_prev_set(&prev, &cur, slots);
	for (i = 0; i < 2000; i++) {
		part = cur;
		memcpy(seen, slots, sizeof(seen));
		/* 1-3 waits land; the reading sees some in the histogram, some in
		 * the counters, independently */
		for (j = rand() % 3 + 1; j; j--) {
			ns = 1000ULL << (rand() % 20);
			waits(&cur, slots, 1, ns);
			if (rand() % 2)
				waits(&part, unused, 1, ns);
			if (rand() % 2)
				seen[cgsnap_hist_slot(ns)]++;
		}
		if (runq_delta(&prev, &part, seen, &d))
			lat_total_add(&t, &d);
		assert_coherent(&t);
		/* the next reading agrees: nothing the torn one saw counts twice */
		if (runq_delta(&prev, &cur, slots, &d))
			lat_total_add(&t, &d);
		assert_coherent(&t);
		cr_assert(eq(u64, t.count, cur.count));
		cr_assert(eq(u64, t.sum_ns, cur.sum_ns));
	}
}

Test(accum, a_reset_entry_counts_from_zero)
{
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};

	waits(&cur, slots, 50, 1000);
	runq_prev_set(&prev, &cur, slots);
	/* the slot was recycled and refilled: fewer waits than before */
	memset(&cur, 0, sizeof(cur));
	memset(slots, 0, sizeof(slots));
	waits(&cur, slots, 7, 1000);
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	cr_assert(eq(u64, d.acc.count, 7));
}

Test(accum, interval_max_is_bounded_by_the_histogram_when_no_new_record)
{
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};
	uint64_t lo, hi;

	waits(&cur, slots, 1, 80000000);	/* an old 80 ms record */
	runq_prev_set(&prev, &cur, slots);
	waits(&cur, slots, 4, 10000);		/* this interval: 10 us waits */
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	hist_slot_bounds(cgsnap_hist_slot(10000), &lo, &hi);
	cr_assert(le(u64, d.acc.max_ns, hi), "not the old record");
	cr_assert(ge(u64, d.acc.max_ns, 10000));
}

Test(accum, lat_clear_empties_only_what_was_filled)
{
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	static struct lat_acc acc, zero;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};

	runq_prev_set(&prev, &cur, slots);
	waits(&cur, slots, 2, 700);
	waits(&cur, slots, 2, 3000000000ULL);
	cr_assert(runq_delta(&prev, &cur, slots, &d));
	lat_add(&acc, &d);
	cr_assert(eq(u64, acc.count, 4));
	lat_clear(&acc);
	cr_assert(eq(int, memcmp(&acc, &zero, sizeof(acc)), 0));
}

/* an interval's 32-bit slots hold what the full accumulator's do */
Test(accum, interval_accumulator_agrees_with_the_full_one)
{
	static const uint64_t ns[] = { 100, 700, 4096, 5000000, 61000000, 3000000000ULL };
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	static struct lat_acc full;
	static struct lat_interval iv, zero;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};
	unsigned int i, s;

	runq_prev_set(&prev, &cur, slots);
	for (i = 0; i < 60; i++) {
		waits(&cur, slots, 1 + i % 7, ns[(i * 5) % 6]);
		cr_assert(runq_delta(&prev, &cur, slots, &d));
		lat_add(&full, &d);
		lat_interval_add(&iv, &d);
	}
	cr_assert(eq(u64, iv.count, full.count));
	cr_assert(eq(u64, iv.sum_ns, full.sum_ns));
	cr_assert(eq(u64, iv.max_ns, full.max_ns));
	cr_assert(eq(u16, iv.lo, full.lo));
	cr_assert(eq(u16, iv.hi, full.hi));
	for (s = 0; s < CGSNAP_HIST_SLOTS; s++)
		cr_assert(eq(u64, iv.slots[s], full.slots[s]), "slot %u", s);
	lat_interval_clear(&iv);
	cr_assert(eq(int, memcmp(&iv, &zero, sizeof(iv)), 0));
}

/* a slot of 32 bits saturates: it never wraps to a small count */
Test(accum, interval_slots_saturate)
{
	static struct lat_delta d;
	static struct lat_interval iv;
	unsigned int s = cgsnap_hist_slot(1000);

	d.acc.count = 3000000000ULL;
	d.acc.slots[s] = 3000000000ULL;
	d.nz[0] = s;
	d.nr_nz = 1;
	lat_interval_add(&iv, &d);
	lat_interval_add(&iv, &d);
	cr_assert(eq(u32, iv.slots[s], UINT32_MAX));
	cr_assert(eq(u64, iv.count, 6000000000ULL), "the count is 64 bits");
	cr_assert(eq(u16, iv.lo, s));
	cr_assert(eq(u16, iv.hi, s + 1));
}

Test(accum, memory_stall_in_progress_counts_up_to_now)
{
	struct cgsnap_mem v = { .count = { 1, 2 }, .sum_ns = { 100, 200 }, .some_ns = 300,
				.nr_stalled = 1, .stall_start_ns = 1000, .oom_kills = 1 };
	struct mem_prev prev, cur;
	struct mem_acc d, total = {};

	mem_current(&v, 1000, &prev);
	cr_assert(eq(u64, prev.some_ns, 300));
	mem_current(&v, 1500, &cur);
	cr_assert(eq(u64, cur.some_ns, 800), "the 500 ns of the stall in progress");
	mem_delta(&prev, &cur, &d);
	cr_assert(eq(u64, d.some_ns, 500));
	cr_assert(eq(u64, d.count[0] + d.count[1], 0));
	cr_assert(eq(u64, d.oom_kills, 0));
	/* the stall ends and an OOM kill follows */
	v.nr_stalled = 0;
	v.some_ns = 900;
	v.count[1]++;
	v.sum_ns[1] += 600;
	v.oom_kills++;
	mem_current(&v, 2000, &cur);
	mem_delta(&prev, &cur, &d);
	mem_add(&total, &d);
	cr_assert(eq(u64, total.some_ns, 100));
	cr_assert(eq(u64, total.count[CGSNAP_RECLAIM_MEMCG], 1));
	cr_assert(eq(u64, total.sum_ns[CGSNAP_RECLAIM_MEMCG], 600));
	cr_assert(eq(u64, total.oom_kills, 1));
}

Test(accum, a_reset_memory_entry_counts_from_zero)
{
	struct cgsnap_mem v = { .count = { 10, 0 }, .oom_kills = 3 };
	struct mem_prev prev, cur;
	struct mem_acc d;

	mem_current(&v, 0, &prev);
	memset(&v, 0, sizeof(v));
	v.count[0] = 2;
	mem_current(&v, 0, &cur);
	mem_delta(&prev, &cur, &d);
	cr_assert(eq(u64, d.count[0], 2));
	cr_assert(eq(u64, d.oom_kills, 0));
}

/* The collector reuses one lat_delta for every cgroup of a tick: an
 * interval's max must come from this cgroup's slots, never from slots
 * another cgroup's delta left behind. */
Test(accum, interval_max_ignores_slots_of_a_previous_delta)
{
	static __u32 xs[CGSNAP_HIST_SLOTS], ys[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	struct cgsnap_runq x = {}, y = {};
	struct runq_prev px = {}, py = {};
	uint64_t lo, hi;

	waits(&y, ys, 1, 100000000);		/* y: an old 100 ms record */
	runq_prev_set(&px, &x, xs);
	runq_prev_set(&py, &y, ys);
	waits(&x, xs, 1, 80000000);		/* x waited 80 ms */
	cr_assert(runq_delta(&px, &x, xs, &d));
	cr_assert(eq(u64, d.acc.max_ns, 80000000));
	waits(&y, ys, 4, 10000);		/* y: only 10 us waits this time */
	cr_assert(runq_delta(&py, &y, ys, &d));
	hist_slot_bounds(cgsnap_hist_slot(10000), &lo, &hi);
	cr_assert(le(u64, d.acc.max_ns, hi), "y's max %llu ns comes from x's 80 ms slot",
		  (unsigned long long)d.acc.max_ns);
}

/* the compact totals hold what the full ones do, the histogram by octave */
Test(accum, compact_totals_fold_the_histogram_by_octave)
{
	static const uint64_t ns[] = { 100, 600, 1000, 1100, 4095, 4096, 5000000, 200000000000ULL };
	static __u32 slots[CGSNAP_HIST_SLOTS];
	static struct lat_delta d;
	static struct lat_acc full;
	struct cgsnap_runq cur = {};
	struct runq_prev prev = {};
	struct lat_total t = {};
	uint64_t want[CGSNAP_OCTAVES] = {}, sum = 0;
	unsigned int i, s;

	runq_prev_set(&prev, &cur, slots);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		waits(&cur, slots, i + 1, ns[i]);
		cr_assert(runq_delta(&prev, &cur, slots, &d));
		lat_add(&full, &d);
		lat_total_add(&t, &d);
	}
	cr_assert(eq(u64, t.count, full.count));
	cr_assert(eq(u64, t.sum_ns, full.sum_ns));
	cr_assert(eq(u64, t.max_ns, full.max_ns));
	cr_assert(eq(u64, t.holder_count[CGSNAP_HOLDER_OTHER], full.count));
	for (s = 0; s < CGSNAP_HIST_SLOTS; s++)
		want[hist_octave(s)] += full.slots[s];
	for (i = 0; i < CGSNAP_OCTAVES; i++) {
		cr_assert(eq(u64, t.octaves[i], want[i]), "octave %u", i);
		sum += t.octaves[i];
	}
	cr_assert(eq(u64, sum, t.count));
	/* below 2^10 ns: octaves 0 and 1; beyond the histogram: the last */
	cr_assert(eq(u64, t.octaves[0], 1));
	cr_assert(eq(u64, t.octaves[CGSNAP_OCTAVES - 1], 8));
	cr_assert(eq(uint, hist_octave(cgsnap_hist_slot(4096)), 1 + 12 - CGSNAP_HIST_MIN_SHIFT));
}

Test(accum, compact_memory_totals)
{
	static struct mem_acc d;
	struct mem_total t = {};

	d.count[CGSNAP_RECLAIM_MEMCG] = 2;
	d.sum_ns[CGSNAP_RECLAIM_MEMCG] = 3000000;
	d.max_ns = 2000000;
	d.some_ns = 2500000;
	d.oom_kills = 1;
	d.oom_kills_memcg = 1;
	d.slots[cgsnap_hist_slot(1000000)] = 1;
	d.slots[cgsnap_hist_slot(2000000)] = 1;
	mem_total_add(&t, &d);
	mem_total_add(&t, &d);
	cr_assert(eq(u64, t.count[CGSNAP_RECLAIM_MEMCG], 4));
	cr_assert(eq(u64, t.sum_ns[CGSNAP_RECLAIM_MEMCG], 6000000));
	cr_assert(eq(u64, t.max_ns, 2000000));
	cr_assert(eq(u64, t.some_ns, 5000000));
	cr_assert(eq(u64, t.oom_kills_memcg, 2));
	cr_assert(eq(u64, t.octaves[hist_octave(cgsnap_hist_slot(1000000))], 2));
	cr_assert(eq(u64, t.octaves[hist_octave(cgsnap_hist_slot(2000000))], 2));
}
