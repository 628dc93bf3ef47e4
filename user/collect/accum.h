/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The accumulators: the kernel side's cumulative counters of one cgroup
 * turned into what happened since the previous tick (a delta), and deltas
 * added up over an interval or since watching began. Pure arithmetic over
 * plain structs: no I/O, no allocation, testable without a kernel.
 */
#ifndef __CGSNAP_ACCUM_H
#define __CGSNAP_ACCUM_H

#include <stdbool.h>
#include <stdint.h>

#include "hist.h"
#include "readings.h"

/*
 * A slot's run-queue counters as counted so far. The histogram's slots are
 * always taken in full, and their waits are what is counted; the count,
 * sums and holder split of the CPUs only when they tell the same waits as
 * the histogram (a reading that caught waits being written tells fewer):
 * until then what they add waits for the next reading, so that no sum or
 * split is ever ahead of the count.
 */
struct runq_prev {
	struct cgsnap_runq sum;			/* summed over CPUs, at the last reading
						 * that agreed with the histogram */
	uint64_t max_ns;			/* the largest max read so far */
	uint32_t hist_sum;			/* the histogram's waits, mod 2^32 */
	__u32 slots[CGSNAP_HIST_SLOTS];
};

/* a cgroup's reclaim counters at the previous tick */
struct mem_prev {
	__u64 count[CGSNAP_RECLAIM_MAX];
	__u64 sum_ns[CGSNAP_RECLAIM_MAX];
	__u64 max_ns;
	__u64 some_ns;				/* including the stall in progress */
	__u64 oom_kills;
	__u64 oom_kills_memcg;
	__u32 slots[CGSNAP_HIST_SLOTS];
};

/* one cgroup's waits since the previous tick, with its non-zero slots listed */
struct lat_delta {
	struct lat_acc acc;		/* only the listed slots are meaningful */
	uint16_t nz[CGSNAP_HIST_SLOTS];	/* ascending */
	unsigned int nr_nz;
};

/* @p becomes the baseline @cur, @slots: what came before is not counted.
 * Returns whether the two agree (else read them again). */
bool runq_prev_set(struct runq_prev *p, const struct cgsnap_runq *cur,
		   const __u32 slots[CGSNAP_HIST_SLOTS]);

/*
 * The waits between @p and a reading (@cur, @slots; kmaps__runq_read()) in
 * *@d, and @p moved on to them. The count is the histogram's new waits; the
 * sums and the holder split are added once a reading's count agrees with
 * its histogram, so that they never run ahead of the count (a torn reading
 * leaves them to the next one). A count that went back (the entry was
 * reset) counts from zero. Returns false if nothing changed.
 */
bool runq_delta(struct runq_prev *p, const struct cgsnap_runq *cur,
		const __u32 slots[CGSNAP_HIST_SLOTS], struct lat_delta *d);

void lat_add(struct lat_acc *a, const struct lat_delta *d);
/* empty @a, touching only what lat_add() may have filled */
void lat_clear(struct lat_acc *a);

/*
 * Run-queue waits over one interval of a watched cgroup: what its runq
 * snapshot summarizes (no holder split), at half the size of a lat_acc.
 * A slot adds the per-tick deltas of the kernel's 32-bit slots of the
 * cgroup and its subtree over one interval (one runq tick unless a cgroup
 * went), so 2^32 waits of one slot would take more than 8e9 waits a second
 * of 0.5 s intervals; it saturates rather than wrap. Every active cgroup
 * holds one while the runq tick reads the maps: 936 bytes, not 1,904.
 */
struct lat_interval {
	uint16_t lo, hi;	/* slots [lo, hi) may be non-zero; lo >= hi: none */
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint32_t slots[CGSNAP_HIST_SLOTS];
};

void lat_interval_add(struct lat_interval *a, const struct lat_delta *d);
/* empty @a, touching only what lat_interval_add() may have filled */
void lat_interval_clear(struct lat_interval *a);

/* @v's counters as a mem_prev, the stall in progress counted up to @now */
void mem_current(const struct cgsnap_mem *v, int64_t now, struct mem_prev *cur);
/* The stalls between @p and @cur in *@d, and @p moved on to @cur. */
void mem_delta(struct mem_prev *p, const struct mem_prev *cur, struct mem_acc *d);
void mem_add(struct mem_acc *a, const struct mem_acc *d);

/* the same, into the compact totals */
void lat_total_add(struct lat_total *t, const struct lat_delta *d);
void mem_total_add(struct mem_total *t, const struct mem_acc *d);

#endif /* __CGSNAP_ACCUM_H */
