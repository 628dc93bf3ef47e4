// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Histogram layout (shared with BPF) and quantiles. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "hist.h"

TestSuite(stats);

Test(stats, slots_are_contiguous_and_at_most_12_5_percent_wide)
{
	uint64_t lo, hi, prev_hi = 0;
	unsigned int i;

	for (i = 0; i < CGSNAP_HIST_SLOTS; i++) {
		hist_slot_bounds(i, &lo, &hi);
		cr_assert(eq(u64, lo, prev_hi), "slot %u starts where %u ends", i, i - 1);
		if (lo >= 1000 && hi != UINT64_MAX)
			cr_assert(le(dbl, (double)(hi - lo) / (double)lo, 0.125), "slot %u", i);
		prev_hi = hi;
	}
	/* the fine range reaches at least 30 s */
	hist_slot_bounds(CGSNAP_HIST_SLOTS - 1, &lo, &hi);
	cr_assert(ge(u64, lo, 30ULL * 1000000000));
}

Test(stats, bpf_slot_function_agrees_with_bounds)
{
	static const uint64_t probes[] = { 0, 1, 511, 512, 513, 1000, 1023, 1024, 1151, 1152,
					   999999, 1000000, 123456789, 30000000000ULL,
					   (1ULL << 37) - 1, 1ULL << 37, UINT64_MAX };
	uint64_t lo, hi;
	unsigned int i, slot;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		slot = cgsnap_hist_slot(probes[i]);
		cr_assert(lt(u32, slot, CGSNAP_HIST_SLOTS));
		hist_slot_bounds(slot, &lo, &hi);
		cr_assert(ge(u64, probes[i], lo), "%llu in slot %u", (unsigned long long)probes[i], slot);
		cr_assert(probes[i] < hi || hi == UINT64_MAX, "%llu below slot %u's end",
			  (unsigned long long)probes[i], slot);
	}
	for (i = 0; i < 64; i++)
		cr_assert(eq(u32, cgsnap_log2(1ULL << i), i));
}

Test(stats, quantiles_interpolate_within_slot)
{
	uint64_t slots[CGSNAP_HIST_SLOTS] = {};
	uint64_t lo, hi;
	unsigned int s = cgsnap_hist_slot(1000000);	/* ~1 ms */
	struct lat_summary sum;

	hist_slot_bounds(s, &lo, &hi);
	slots[s] = 100;
	/* p50 of 100 values spread evenly over [lo, hi) */
	cr_assert(eq(u64, hist_quantile(slots, 100, 0.5, 0), lo + (hi - lo) / 2));
	cr_assert(eq(u64, hist_quantile(slots, 100, 1.0, 0), hi));
	cr_assert(eq(u64, hist_quantile(slots, 100, 1.0, lo + 5), lo + 5), "capped by the max");
	cr_assert(eq(u64, hist_quantile(slots, 0, 0.5, 0), 0));

	memset(slots, 0, sizeof(slots));
	slots[cgsnap_hist_slot(2000)] = 98;
	slots[cgsnap_hist_slot(50000000)] = 2;
	lat_summarize(slots, 100, 98 * 2000 + 2 * 50000000ULL, 50000000, &sum);
	cr_assert(eq(u64, sum.mean_ns, (98 * 2000 + 2 * 50000000ULL) / 100));
	cr_assert(lt(u64, sum.p90_ns, 2300), "p90 is in the 2 us slot");
	cr_assert(ge(u64, sum.p99_ns, 45000000), "p99 is in the 50 ms slot");
	cr_assert(eq(u64, sum.max_ns, 50000000));
}

Test(stats, wrapping_counters)
{
	cr_assert(eq(u32, delta32(5, 0xFFFFFFFE), 7));
	cr_assert(eq(u32, delta32(10, 3), 7));
}

Test(stats, one_pass_summary_matches_quantile_by_quantile)
{
	uint64_t slots[CGSNAP_HIST_SLOTS], count, max;
	struct lat_summary s;
	int round, i;

	srand(7);
	for (round = 0; round < 200; round++) {
		count = 0;
		for (i = 0; i < CGSNAP_HIST_SLOTS; i++) {
			slots[i] = rand() % 4 ? 0 : rand() % 50;
			count += slots[i];
		}
		max = rand() % 2 ? 0 : hist_max_bound(slots, 0) / 2;
		lat_summarize(slots, count, count * 1000, max, &s);
		max = max ? max : hist_max_bound(slots, 0);
		cr_assert(eq(u64, s.p50_ns, hist_quantile(slots, count, 0.50, max)));
		cr_assert(eq(u64, s.p90_ns, hist_quantile(slots, count, 0.90, max)));
		cr_assert(eq(u64, s.p99_ns, hist_quantile(slots, count, 0.99, max)));
		cr_assert(eq(u64, s.max_ns, count ? max : 0));
	}
}
