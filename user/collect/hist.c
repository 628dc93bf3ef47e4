// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <string.h>

#include "hist.h"

void hist_slot_bounds(unsigned int slot, uint64_t *lo, uint64_t *hi)
{
	unsigned int order, sub;
	uint64_t width;

	if (slot == 0) {
		*lo = 0;
		*hi = 1ULL << CGSNAP_HIST_MIN_SHIFT;
		return;
	}
	if (slot >= CGSNAP_HIST_SLOTS - 1) {
		*lo = 1ULL << (CGSNAP_HIST_MAX_SHIFT + 1);
		*hi = UINT64_MAX;
		return;
	}
	order = CGSNAP_HIST_MIN_SHIFT + (slot - 1) / CGSNAP_HIST_SUB;
	sub = (slot - 1) % CGSNAP_HIST_SUB;
	width = 1ULL << (order - CGSNAP_HIST_SUB_BITS);
	*lo = (1ULL << order) + sub * width;
	*hi = *lo + width;
}

static uint64_t interpolate(unsigned int i, uint64_t seen, uint64_t n, uint64_t rank);
static uint64_t rank_of(double q, uint64_t count);

uint64_t hist_quantile(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, double q,
		       uint64_t max_ns)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (!count)
		return 0;
	rank = rank_of(q, count);
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++) {
		if (!slots[i] || seen + slots[i] < rank) {
			seen += slots[i];
			continue;
		}
		/* the open-ended last slot gives its lower bound */
		v = interpolate(i, seen, slots[i], rank);
		return max_ns && v > max_ns ? max_ns : v;
	}
	return max_ns;
}

uint64_t hist_slot_max(unsigned int slot, uint64_t max_ns)
{
	uint64_t lo, hi;

	hist_slot_bounds(slot, &lo, &hi);
	if (hi == UINT64_MAX)
		hi = lo;
	return max_ns && hi > max_ns ? max_ns : hi;
}

uint64_t hist_max_bound(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t max_ns)
{
	int i;

	for (i = CGSNAP_HIST_SLOTS - 1; i >= 0; i--)
		if (slots[i])
			return hist_slot_max(i, max_ns);
	return 0;
}

/* value of rank @rank inside slot @i, which holds @n values after @seen */
static uint64_t interpolate(unsigned int i, uint64_t seen, uint64_t n, uint64_t rank)
{
	uint64_t lo, hi;

	hist_slot_bounds(i, &lo, &hi);
	if (hi == UINT64_MAX)
		return lo;
	return lo + (uint64_t)((double)(hi - lo) * (double)(rank - seen) / (double)n);
}

static uint64_t rank_of(double q, uint64_t count)
{
	uint64_t rank = (uint64_t)ceil(q * (double)count);

	return rank < 1 ? 1 : rank > count ? count : rank;
}

void lat_summarize(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, uint64_t sum_ns,
		   uint64_t max_ns, struct lat_summary *out)
{
	lat_summarize_range(slots, 0, CGSNAP_HIST_SLOTS, count, sum_ns, max_ns, out);
}

void lat_summarize_range(const uint64_t slots[CGSNAP_HIST_SLOTS], unsigned int lo,
			 unsigned int hi, uint64_t count, uint64_t sum_ns, uint64_t max_ns,
			 struct lat_summary *out)
{
	static const double q[3] = { 0.50, 0.90, 0.99 };
	uint64_t *res[3] = { &out->p50_ns, &out->p90_ns, &out->p99_ns };
	uint64_t seen = 0, max, rank[3], l, h;
	unsigned int i, k = 0;

	memset(out, 0, sizeof(*out));
	if (!count || lo >= hi)
		return;
	max = max_ns;
	if (!max) {	/* the histogram's bound: the end of the highest non-empty slot */
		for (i = hi; i > lo && !slots[i - 1]; i--)
			;
		hist_slot_bounds(i > lo ? i - 1 : lo, &l, &h);
		max = h == UINT64_MAX ? l : h;
	}
	for (i = 0; i < 3; i++)
		rank[i] = rank_of(q[i], count);
	/* one pass for the three quantiles, as hist_quantile() computes each */
	for (i = lo; i < hi && k < 3; i++) {
		if (!slots[i])
			continue;
		while (k < 3 && seen + slots[i] >= rank[k]) {
			uint64_t v = interpolate(i, seen, slots[i], rank[k]);

			*res[k++] = v > max ? max : v;
		}
		seen += slots[i];
	}
	out->count = count;
	out->sum_ns = sum_ns;
	out->mean_ns = sum_ns / count;
	out->max_ns = max;
}
