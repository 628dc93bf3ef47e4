/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the collector hands out about a cgroup, as plain values: its counters
 * over an interval or since watching began, its latest system readings, and
 * how many readings of each kind it made. No functions: the agent and its
 * users (stat, metrics, top) see these, not the accumulators' arithmetic
 * (accum.h), the snapshot builders (snapbuild.h) or the collector itself.
 */
#ifndef __CGSNAP_READINGS_H
#define __CGSNAP_READINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroupfs.h"
#include "hist.h"

/* run-queue waits accumulated over an interval (or since watching began) */
struct lat_acc {
	uint16_t lo, hi;	/* slots [lo, hi) may be non-zero; lo >= hi: none */
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t holder_count[CGSNAP_HOLDER_MAX];
	uint64_t holder_ns[CGSNAP_HOLDER_MAX];
	uint64_t slots[CGSNAP_HIST_SLOTS];
};

/* reclaim stalls and OOM kills accumulated likewise */
struct mem_acc {
	uint64_t count[CGSNAP_RECLAIM_MAX];
	uint64_t sum_ns[CGSNAP_RECLAIM_MAX];
	uint64_t max_ns;
	uint64_t some_ns;	/* time with a task of the cgroup in reclaim */
	uint64_t oom_kills;	/* all OOM kills of its tasks, */
	uint64_t oom_kills_memcg;	/* of which by a cgroup's limit (the rest: global) */
	uint64_t slots[CGSNAP_HIST_SLOTS];
};

/*
 * Totals since watching began, their histogram folded to one bucket per
 * power of two (what /metrics exports, every layout of it): [0] below
 * 2^(CGSNAP_HIST_MIN_SHIFT + 1) ns, [o] up to 2^(CGSNAP_HIST_MIN_SHIFT + o),
 * [CGSNAP_OCTAVES - 1] beyond the histogram's last slot. 328 and 304 bytes
 * where the full-slot accumulators take 1,904 and 1,872.
 */
#define CGSNAP_OCTAVES	(CGSNAP_HIST_MAX_SHIFT - CGSNAP_HIST_MIN_SHIFT + 3)

static inline unsigned int hist_octave(unsigned int slot)
{
	return slot == 0 ? 0 : slot >= CGSNAP_HIST_SLOTS - 1 ? CGSNAP_OCTAVES - 1 :
	       1 + (slot - 1) / CGSNAP_HIST_SUB;
}

struct lat_total {
	uint64_t count, sum_ns, max_ns;
	uint64_t holder_count[CGSNAP_HOLDER_MAX];
	uint64_t holder_ns[CGSNAP_HOLDER_MAX];
	uint64_t octaves[CGSNAP_OCTAVES];
};

struct mem_total {
	uint64_t count[CGSNAP_RECLAIM_MAX];
	uint64_t sum_ns[CGSNAP_RECLAIM_MAX];
	uint64_t max_ns, some_ns;
	uint64_t oom_kills, oom_kills_memcg;
	uint64_t octaves[CGSNAP_OCTAVES];
};

/* the latest system readings of a watched cgroup */
struct sys_reading {
	bool valid;		/* a memory snapshot was taken */
	double cpu_capacity;	/* CPUs it may use */
	double cpu_used_ratio;	/* of the last interval; valid after two readings */
	bool cpu_ratio_valid;
	struct cgroup_memory mem;
	int64_t budget_bytes;
	double stall_ratio;	/* of the last interval, BPF and PSI combined */
	bool psi;		/* the kernel provides memory PSI for it */
};

/* the system ticks' readings of watched cgroups: from cgroupfs, or kept
 * because the cgroup did not run (collector_opts.idle_read_ns), or, for the
 * memory of one that did not run, checked: its usage alone read, unchanged;
 * and the parents read first to flush their busy children's CPU counts.
 * And the run-queue ticks' readings of slots that moved: those that caught
 * waits being written (torn) leave their sums to the next reading. */
enum collector_reading {
	COLL_CPU_READ,
	COLL_CPU_KEPT,
	COLL_CPU_FLUSH,		/* a parent's cpu.stat, read before its children's */
	COLL_CPU_KERNEL,	/* from the kernel side's charges, no cgroupfs read */
	COLL_MEM_READ,
	COLL_MEM_KEPT,
	COLL_MEM_CHECKED,	/* due, but its usage had not moved: the rest kept */
	COLL_MEM_MOVED,		/* its usage moved a little (plan_memory_moved_little()):
				 * the working set with it, the rest kept */
	COLL_MEM_KERNEL,	/* of the checked and moved, the usage from the
				 * kernel's memory iterator: no file read */
	COLL_RUNQ_READ,
	COLL_RUNQ_TORN,		/* of them, the count did not agree with the histogram */
	COLL_TREE_SCAN,		/* tree scans (registry__nr_scans()) */
	COLL_READING_MAX,
};

#endif /* __CGSNAP_READINGS_H */
