/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Latency histogram math on the log-linear layout of bpf/cgsnap.h. Pure
 * functions, no I/O. */
#ifndef __CGSNAP_STATS_H
#define __CGSNAP_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/bpf.h>	/* struct bpf_spin_lock, __u32, __u64 for cgsnap.h */

#include "cgsnap.h"

/* [*@lo, *@hi) in ns of histogram slot @slot; the last slot's hi is UINT64_MAX */
void hist_slot_bounds(unsigned int slot, uint64_t *lo, uint64_t *hi);

/*
 * The @q quantile (0 < q <= 1) of @count values spread over @slots: the
 * value of rank ceil(q x count), interpolated linearly inside its slot,
 * and never above @max_ns (when non-zero). Returns 0 if @count is 0.
 */
uint64_t hist_quantile(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, double q,
		       uint64_t max_ns);

/* upper bound of slot @slot (its low end for the last), capped by @max_ns
 * when non-zero */
uint64_t hist_slot_max(unsigned int slot, uint64_t max_ns);

/* upper bound of the highest non-empty slot, capped by @max_ns when non-zero */
uint64_t hist_max_bound(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t max_ns);

/* cur - prev of a counter that may wrap at 32 bits */
static inline uint32_t delta32(uint32_t cur, uint32_t prev)
{
	return cur - prev;
}

/* summary of one interval's waits */
struct lat_summary {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t mean_ns;
	uint64_t p50_ns;
	uint64_t p90_ns;
	uint64_t p99_ns;
	uint64_t max_ns;
	/* fast mode: the waits still in progress at the interval's end */
	uint64_t waiting;		/* tasks */
	uint64_t waiting_ns;		/* how long they have waited so far, together */
};

/* Fill @out from an interval's histogram, count, sum and exact max (0 if
 * unknown: then the max is the histogram's bound). */
void lat_summarize(const uint64_t slots[CGSNAP_HIST_SLOTS], uint64_t count, uint64_t sum_ns,
		   uint64_t max_ns, struct lat_summary *out);

/* The same, knowing that only slots [@lo, @hi) can be non-zero. */
void lat_summarize_range(const uint64_t slots[CGSNAP_HIST_SLOTS], unsigned int lo,
			 unsigned int hi, uint64_t count, uint64_t sum_ns, uint64_t max_ns,
			 struct lat_summary *out);

#endif /* __CGSNAP_STATS_H */
