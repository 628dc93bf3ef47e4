// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * One CPU usage from two sources (kcpu.c): the kernel's charges and
 * cpu.stat, switched between as ticks find the charges whole or not. The
 * arithmetic alone, on a made-up timeline: no root, no maps.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "collector.h"
#include "collector_int.h"

TestSuite(kcpu);

#define STAT_BASE 5000	/* cpu.stat counts from the cgroup's birth, the kernel side from the watch */

static struct collector c;
static struct wentry w;
static uint64_t truth;	/* CPU time the cgroup has run */

/*
 * One system tick: 100 units pass, the slots are read (the top of the
 * tick), 10 pass, cpu.stat is read if @from_stat, 10 pass, the rebase reads
 * the slots again. The kernel's charges are exact here (no run in
 * progress). Returns the truth at the moment the usage stands for.
 */
static uint64_t tick(bool from_stat)
{
	uint64_t at, stat;

	truth += 100;
	w.kcpu_ns = truth;
	at = truth;
	truth += 10;
	if (from_stat) {
		stat = STAT_BASE + truth;
		coll_cpu_usage(&w, &stat);
		at = w.cpu_rebase ? truth : at;	/* on cpu.stat's scale: its read */
	} else {
		coll_cpu_usage(&w, NULL);
	}
	truth += 10;
	w.kcpu_ns = truth;
	coll_cpu_rebase(&c, 0);
	return at;
}

/*
 * Ticks from the kernel, one tick from cpu.stat (a drop), the kernel again,
 * two from cpu.stat, the kernel again. The usage never runs ahead of what
 * the cgroup ran by the moment it stands for; what it falls behind by is
 * the time between a cpu.stat read and the kernel's baseline after it (10
 * here) at the start and where cpu.stat's scale gives way to the kernel's,
 * and between the top of the tick and the cpu.stat read where the kernel's
 * gives way to cpu.stat's deltas. A single tick from cpu.stat loses
 * nothing: its usage is the kernel's delta (taking the kernel's baseline
 * after it lost 20 there, and more under real load).
 */
Test(kcpu, usage_counts_each_interval_once_across_source_changes)
{
	static const struct {
		bool from_stat;
		uint64_t behind;	/* what it lags the truth by, after the tick */
	} seq[] = {
		{ false, 10 }, { false, 10 },
		{ true, 10 }, { false, 10 }, { false, 10 },
		{ true, 10 }, { true, 20 }, { false, 30 }, { false, 30 },
	};
	uint64_t at, usage;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.opts.cpu_from_cgroupfs = true;	/* the rebase reads no maps: tick() sets them */
	c.watched = &w;
	truth = 0;
	/* the start: the slots, cpu.stat, the rebase */
	w.kcpu_ns = truth;
	truth += 10;
	coll_cpu_baseline(&w, STAT_BASE + truth);
	truth += 10;
	w.kcpu_ns = truth;
	coll_cpu_rebase(&c, 0);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		at = tick(seq[i].from_stat);
		usage = w.cpu_usage - STAT_BASE;
		cr_assert(le(u64, usage, at), "tick %zu: usage %llu ahead of the truth %llu", i,
			  (unsigned long long)usage, (unsigned long long)at);
		cr_assert(eq(u64, at - usage, seq[i].behind),
			  "tick %zu (%s): %llu behind, expected %llu", i,
			  seq[i].from_stat ? "cpu.stat" : "kernel", (unsigned long long)(at - usage),
			  (unsigned long long)seq[i].behind);
	}
}
