/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The system tick's read plan: for each watched cgroup, what to read from
 * cgroupfs and what to keep, decided from what the collector knows (who
 * ran, when a reading is due). Pure: no I/O, no clock, no collector state;
 * systick.c carries the plan out. Tested without root (tests/test_plan.c).
 */
#ifndef __CGSNAP_PLAN_H
#define __CGSNAP_PLAN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether every run since the last tick was counted, so that a watched
 * cgroup whose slots did not move used no CPU since (systick.c's
 * runs_known() reads what this decides from): @was_known, nothing said
 * otherwise since; @drops_read, the drop counters were read at the last
 * tick too; @lost and @lost_before, the sums now and then of the drops that
 * lose a run (plan_drops_losing_runs()); @cpus_read, the CPUs' notes of who
 * is running were read (-1: not); @all_placed, each cgroup on a CPU now is
 * one the registry knows.
 */
bool plan_runs_known(bool was_known, bool drops_read, uint64_t lost, uint64_t lost_before,
		     int cpus_read, bool all_placed);

/* the sum of @drops (CGSNAP_DROP_MAX counters) that lose a run: all but a
 * stale wait ended at a switch, which loses none */
uint64_t plan_drops_losing_runs(const uint64_t *drops);

/* where a cgroup's CPU usage comes from this tick */
enum plan_cpu {
	PLAN_CPU_KERNEL,	/* the kernel's charges (kcpu.c) */
	PLAN_CPU_KEEP,		/* its last reading: it did not run since */
	PLAN_CPU_READ,		/* its cpu.stat */
};

/*
 * @from_kernel: CPU time is charged in the kernel (not --cpu-usage-from
 * cgroupfs); @kernel_whole: no run went uncounted since the last tick;
 * @have_cpu: it has a first reading; @idle: it did not run since.
 */
enum plan_cpu plan_cpu(bool from_kernel, bool kernel_whole, bool have_cpu, bool idle);

/* what of a cgroup's memory this tick reads */
enum plan_mem {
	PLAN_MEM_KEEP,		/* nothing: idle, and not due */
	PLAN_MEM_CHECK,		/* its usage alone; the rest is kept if it did not move,
				 * or moved little (plan_memory_moved_little()) */
	PLAN_MEM_READ,		/* its memory files and memory.pressure */
};

/* an idle cgroup whose usage is checked (once an idle interval) is read in
 * full all the same every this many checks */
#define PLAN_MEM_IDLE_CHECKS	6

/*
 * @valid: it has a reading; @due: when an idle one is read again;
 * @idle_read_ns: --idle-read-interval (0: read every tick). A cgroup whose
 * usage is checked is read in full all the same (its limit, its inactive
 * pages, its PSI): while it runs, from @full_due on (an idle interval after
 * its last full read); while idle, after PLAN_MEM_IDLE_CHECKS @checks in a
 * row (the interval between them is an idle interval already).
 */
enum plan_mem plan_memory(bool idle, bool valid, int64_t now, int64_t due, int64_t idle_read_ns,
			  int64_t full_due, unsigned int checks);

/*
 * A checked usage that moved: whether it moved little enough since the last
 * full read (@full_usage) to be taken alone, the working set moving with it
 * and the limit, inactive pages and PSI kept until the next full read (at
 * most an idle interval later): by at most 1/PLAN_MEM_MOVE_SHARE of
 * its memory @budget. More (a burst of page cache, a large allocation) is
 * read in full at once: pages read from a file land on the inactive list,
 * and a working set moved by all of them would be overstated.
 */
#define PLAN_MEM_MOVE_SHARE	64
bool plan_memory_moved_little(int64_t usage, int64_t full_usage, int64_t budget);

/*
 * Whether its CPU capacity (quota up the tree, cpuset) is read this tick:
 * with idle reads, first thing and then every idle interval while it runs
 * (idle, its ratio is 0 whatever it may use; @cap_due 0: never read);
 * without, after each scan of the tree (@cap_gen, the scan generation of
 * its last reading, against @gen).
 */
bool plan_capacity_due(int64_t idle_read_ns, bool idle, int64_t now, int64_t cap_due,
		       uint32_t cap_gen, uint32_t gen);

/* when a reading taken @now is due again: the first one (@prev_due 0)
 * spread over the @interval by cgroup @id, so that 10,000 new cgroups are
 * not all due in the same tick; then every @interval */
int64_t plan_next_due(uint64_t id, int64_t now, int64_t prev_due, int64_t interval);

/*
 * Reading many busy siblings' cpu.stat (DESIGN.md): a parent with @reads
 * children whose cpu.stat this tick reads is read before the first of them
 * and again every PLAN_FLUSH_EVERY; @nth (from 0) is about to be read.
 */
#define PLAN_FLUSH_EVERY	32
bool plan_flush_parent(uint32_t reads, uint32_t nth);

#endif /* __CGSNAP_PLAN_H */
