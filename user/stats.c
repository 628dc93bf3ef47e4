// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>

#include "stats.h"

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

uint64_t hist_quantile(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, double q,
		       uint64_t max_ns)
{
	uint64_t rank, seen = 0, lo, hi, v;
	unsigned int i;

	if (!count)
		return 0;
	rank = (uint64_t)ceil(q * (double)count);
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++) {
		if (!slots[i] || seen + slots[i] < rank) {
			seen += slots[i];
			continue;
		}
		hist_slot_bounds(i, &lo, &hi);
		if (hi == UINT64_MAX)	/* open-ended last slot: its lower bound */
			v = lo;
		else
			v = lo + (uint64_t)((double)(hi - lo) * (double)(rank - seen) /
					    (double)slots[i]);
		return max_ns && v > max_ns ? max_ns : v;
	}
	return max_ns;
}

uint64_t hist_max_bound(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t max_ns)
{
	uint64_t lo, hi;
	int i;

	for (i = CGSNAP_HIST_SLOTS - 1; i >= 0; i--) {
		if (!slots[i])
			continue;
		hist_slot_bounds(i, &lo, &hi);
		if (hi == UINT64_MAX)
			hi = lo;
		return max_ns && hi > max_ns ? max_ns : hi;
	}
	return 0;
}

void lat_summarize(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, uint64_t sum_ns,
		   uint64_t max_ns, struct lat_summary *out)
{
	uint64_t max = max_ns ? max_ns : hist_max_bound(slots, 0);

	out->count = count;
	out->sum_ns = sum_ns;
	out->mean_ns = count ? sum_ns / count : 0;
	out->p50_ns = hist_quantile(slots, count, 0.50, max);
	out->p90_ns = hist_quantile(slots, count, 0.90, max);
	out->p99_ns = hist_quantile(slots, count, 0.99, max);
	out->max_ns = count ? max : 0;
}
