// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The system tick's read plan: what to read from cgroupfs and what to keep.
 * Pure, no root. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "clock.h"
#include "hist.h"
#include "plan.h"

#define SEC 1000000000LL

TestSuite(plan);

Test(plan, runs_are_known_while_no_drop_loses_one)
{
	uint64_t drops[CGSNAP_DROP_MAX] = {};
	uint64_t lost;

	/* was_known, drops_read, lost, lost_before, cpus_read, all_placed */
	cr_assert(plan_runs_known(true, true, 7, 7, 2, true));
	cr_assert(not(plan_runs_known(true, false, 7, 7, 2, true)),
		  "the first reading of the drops has nothing to compare with");
	cr_assert(not(plan_runs_known(true, true, 8, 7, 2, true)), "a drop since the last tick");
	cr_assert(not(plan_runs_known(false, true, 7, 7, 2, true)), "said unknown since");
	cr_assert(not(plan_runs_known(true, true, 7, 7, -1, true)), "the CPUs' notes unread");
	cr_assert(not(plan_runs_known(true, true, 7, 7, 2, false)), "a cgroup on a CPU unplaced");
	cr_assert(plan_runs_known(true, true, 0, 0, 0, true), "no CPU noted is no run unseen");

	/* every drop loses a run but a stale wait's */
	for (int i = 0; i < CGSNAP_DROP_MAX; i++)
		drops[i] = 1ULL << i;
	lost = plan_drops_losing_runs(drops);
	cr_assert(eq(u64, lost, (1ULL << CGSNAP_DROP_MAX) - 1 - (1ULL << CGSNAP_DROP_STALE_WAIT)));
	drops[CGSNAP_DROP_STALE_WAIT] += 1000;
	cr_assert(eq(u64, plan_drops_losing_runs(drops), lost));
	drops[CGSNAP_DROP_SLOTS_FULL]++;
	cr_assert(eq(u64, plan_drops_losing_runs(drops), lost + 1));
}

Test(plan, cpu_from_the_kernel_while_its_charges_are_whole)
{
	/* from_kernel, kernel_whole, have_cpu, idle */
	cr_assert(eq(int, plan_cpu(true, true, true, false), PLAN_CPU_KERNEL));
	cr_assert(eq(int, plan_cpu(true, true, true, true), PLAN_CPU_KERNEL),
		  "an idle cgroup's charges are whole too");
	/* the first reading is cpu.stat's, whatever the kernel charged */
	cr_assert(eq(int, plan_cpu(true, true, false, false), PLAN_CPU_READ));
	cr_assert(eq(int, plan_cpu(true, true, false, true), PLAN_CPU_READ));
	/* a run may have gone uncounted: cpu.stat, unless it did not run */
	cr_assert(eq(int, plan_cpu(true, false, true, false), PLAN_CPU_READ));
	cr_assert(eq(int, plan_cpu(true, false, true, true), PLAN_CPU_KEEP));
	/* --cpu-usage-from cgroupfs */
	cr_assert(eq(int, plan_cpu(false, true, true, false), PLAN_CPU_READ));
	cr_assert(eq(int, plan_cpu(false, true, true, true), PLAN_CPU_KEEP));
	cr_assert(eq(int, plan_cpu(false, false, false, true), PLAN_CPU_READ));
}

Test(plan, memory_kept_while_idle_and_not_due)
{
	/* idle, valid, now, due, idle_read_ns, full_due */
	cr_assert(eq(int, plan_memory(true, true, 5 * SEC, 10 * SEC, 10 * SEC, 12 * SEC, 0),
		     PLAN_MEM_KEEP));
	/* due: its usage alone first */
	cr_assert(eq(int, plan_memory(true, true, 10 * SEC, 10 * SEC, 10 * SEC, 12 * SEC, 0),
		     PLAN_MEM_CHECK));
	/* it ran: checked at every tick, however far its due time */
	cr_assert(eq(int, plan_memory(false, true, 5 * SEC, 10 * SEC, 10 * SEC, 12 * SEC, 0),
		     PLAN_MEM_CHECK));
	/* never read: read in full, idle or not */
	cr_assert(eq(int, plan_memory(true, false, 5 * SEC, 10 * SEC, 10 * SEC, 0, 0), PLAN_MEM_READ));
	cr_assert(eq(int, plan_memory(false, false, 0, 0, 10 * SEC, 0, 0), PLAN_MEM_READ));
}

Test(plan, memory_read_in_full_every_idle_interval_all_the_same_while_it_runs)
{
	int64_t now;

	/* read in full at 0 with 10 s idle reads: its full read due at 10 s */
	for (now = 0; now < 10 * SEC; now += SEC)
		cr_assert(eq(int, plan_memory(false, true, now, now + 10 * SEC, 10 * SEC, 10 * SEC,
					      (unsigned int)(now / SEC)), PLAN_MEM_CHECK));
	cr_assert(eq(int, plan_memory(false, true, 10 * SEC, 20 * SEC, 10 * SEC, 10 * SEC, 10),
		     PLAN_MEM_READ), "its limit and inactive pages are read all the same");
}

Test(plan, idle_memory_read_in_full_every_few_unchanged_checks)
{
	unsigned int checks;

	/* idle and due every 10 s: its usage alone, though its busy due passed */
	for (checks = 0; checks < PLAN_MEM_IDLE_CHECKS; checks++)
		cr_assert(eq(int, plan_memory(true, true, 100 * SEC, 100 * SEC, 10 * SEC, 10 * SEC,
					      checks), PLAN_MEM_CHECK));
	cr_assert(eq(int, plan_memory(true, true, 100 * SEC, 100 * SEC, 10 * SEC, 10 * SEC,
				      PLAN_MEM_IDLE_CHECKS), PLAN_MEM_READ),
		  "its limit and inactive pages are read all the same");
}

Test(plan, a_usage_that_moved_little_is_taken_alone)
{
	int64_t budget = 64LL << 20;	/* 1/64: 1 MiB */

	cr_assert(plan_memory_moved_little(100 << 20, 100 << 20, budget));
	cr_assert(plan_memory_moved_little((100 << 20) + (1 << 20), 100 << 20, budget));
	cr_assert(plan_memory_moved_little((100 << 20) - (1 << 20), 100 << 20, budget),
		  "down as up");
	cr_assert(not(plan_memory_moved_little((100 << 20) + (1 << 20) + 1, 100 << 20, budget)),
		  "more: read in full");
	cr_assert(not(plan_memory_moved_little((99 << 20) - 1, 100 << 20, budget)));
	cr_assert(not(plan_memory_moved_little(100 << 20, 100 << 20, 0)), "no budget known");
}

Test(plan, memory_read_every_tick_without_idle_reads)
{
	cr_assert(eq(int, plan_memory(false, true, 5 * SEC, 0, 0, 0, 0), PLAN_MEM_READ));
	cr_assert(eq(int, plan_memory(true, true, 5 * SEC, 0, 0, 0, 0), PLAN_MEM_READ));
}

Test(plan, capacity_every_idle_interval_while_it_runs)
{
	/* idle_read_ns, idle, now, cap_due, cap_gen, gen */
	cr_assert(plan_capacity_due(10 * SEC, true, 0, 0, 0, 0), "never read: read, even idle");
	cr_assert(not(plan_capacity_due(10 * SEC, false, 5 * SEC, 10 * SEC, 0, 0)));
	cr_assert(plan_capacity_due(10 * SEC, false, 10 * SEC, 10 * SEC, 0, 0));
	cr_assert(not(plan_capacity_due(10 * SEC, true, 20 * SEC, 10 * SEC, 0, 0)),
		  "idle: its ratio is 0 whatever its capacity");
	/* a scan does not make it due: the interval does */
	cr_assert(not(plan_capacity_due(10 * SEC, false, 5 * SEC, 10 * SEC, 1, 2)));
}

Test(plan, capacity_after_each_scan_without_idle_reads)
{
	cr_assert(not(plan_capacity_due(0, false, 5 * SEC, 0, 3, 3)));
	cr_assert(plan_capacity_due(0, false, 5 * SEC, 0, 3, 4));
	cr_assert(plan_capacity_due(0, true, 5 * SEC, 0, 3, 4));
}

/* the first due times of 10,000 cgroups cover the interval evenly; later
 * ones come every interval */
Test(plan, first_due_times_spread_over_the_interval)
{
	unsigned int per_tenth[10] = { 0 }, i;
	int64_t due;

	for (i = 0; i < 10000; i++) {
		/* cgroup ids are inode numbers: often consecutive */
		due = plan_next_due(4096 + i, 100 * SEC, 0, 10 * SEC);
		cr_assert(ge(i64, due, 100 * SEC));
		cr_assert(lt(i64, due, 110 * SEC));
		per_tenth[(due - 100 * SEC) / SEC]++;
	}
	for (i = 0; i < 10; i++)
		cr_assert(le(u32, per_tenth[i] > 1000 ? per_tenth[i] - 1000 : 1000 - per_tenth[i],
			     100), "second %u of 10 has %u first readings of 10,000", i,
			  per_tenth[i]);
	cr_assert(eq(i64, plan_next_due(4096, 100 * SEC, 95 * SEC, 10 * SEC), 110 * SEC));
	cr_assert(eq(i64, plan_next_due(4096, 100 * SEC, 0, 0), 100 * SEC));
}

Test(plan, a_parent_of_many_children_is_read_before_each_run_of_them)
{
	uint32_t nth, flushes = 0;

	for (nth = 0; nth < PLAN_FLUSH_EVERY - 1; nth++)
		cr_assert(not(plan_flush_parent(PLAN_FLUSH_EVERY - 1, nth)),
			  "fewer children than a run: no extra read");
	for (nth = 0; nth < 100; nth++)
		flushes += plan_flush_parent(100, nth);
	cr_assert(plan_flush_parent(100, 0), "before the first of them");
	cr_assert(eq(u32, flushes, 4), "at 0, 32, 64 and 96 of 100");
}

/* the agent's tick schedule (clock_next_due()): on time, the next interval;
 * late, the next time on the same grid after now, never a burst of the
 * missed ones */
Test(plan, a_late_tick_is_not_run_again_for_what_it_missed)
{
	const int64_t s = 1000000000;

	cr_assert(eq(i64, clock_next_due(10 * s, 10 * s, s), 11 * s), "on time");
	cr_assert(eq(i64, clock_next_due(10 * s, 10 * s + s / 2, s), 11 * s), "a little late");
	cr_assert(eq(i64, clock_next_due(10 * s, 11 * s, s), 12 * s), "late by one interval");
	cr_assert(eq(i64, clock_next_due(10 * s, 17 * s + 1, s), 18 * s), "seven missed");
	cr_assert(eq(i64, clock_next_due(10 * s, 9 * s, s), 11 * s), "early (forced)");
	cr_assert(eq(i64, clock_next_due(10 * s, 12 * s, 0), 12 * s), "no interval");
}
