// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The system tick's read plan (plan.h). Pure. */
#include "plan.h"
#include "hist.h"	/* cgsnap.h: the drops */

bool plan_runs_known(bool was_known, bool drops_read, uint64_t lost, uint64_t lost_before,
		     int cpus_read, bool all_placed)
{
	return was_known && drops_read && lost == lost_before && cpus_read >= 0 && all_placed;
}

uint64_t plan_drops_losing_runs(const uint64_t *drops)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < CGSNAP_DROP_MAX; i++)
		if (i != CGSNAP_DROP_STALE_WAIT)
			sum += drops[i];
	return sum;
}

enum plan_cpu plan_cpu(bool from_kernel, bool kernel_whole, bool have_cpu, bool idle)
{
	/* after its first reading, from the kernel's charges while they are whole */
	if (from_kernel && have_cpu && kernel_whole)
		return PLAN_CPU_KERNEL;
	if (idle && have_cpu)
		return PLAN_CPU_KEEP;
	return PLAN_CPU_READ;
}

enum plan_mem plan_memory(bool idle, bool valid, int64_t now, int64_t due, int64_t idle_read_ns,
			  int64_t full_due, unsigned int checks)
{
	/* a cgroup that did not run keeps its last reading until it is due;
	 * one that ran, or is due, keeps it if its usage did not move (but
	 * every idle interval while it runs, every few times while idle): its
	 * usage alone, not its memory files and PSI */
	if (idle && valid && now < due)
		return PLAN_MEM_KEEP;
	if (idle_read_ns > 0 && valid && (idle ? checks < PLAN_MEM_IDLE_CHECKS : now < full_due))
		return PLAN_MEM_CHECK;
	return PLAN_MEM_READ;
}

bool plan_memory_moved_little(int64_t usage, int64_t full_usage, int64_t budget)
{
	int64_t moved = usage > full_usage ? usage - full_usage : full_usage - usage;

	return budget > 0 && moved <= budget / PLAN_MEM_MOVE_SHARE;
}

bool plan_capacity_due(int64_t idle_read_ns, bool idle, int64_t now, int64_t cap_due,
		       uint32_t cap_gen, uint32_t gen)
{
	if (idle_read_ns > 0)
		return !cap_due || (!idle && now >= cap_due);
	return cap_gen != gen;
}

int64_t plan_next_due(uint64_t id, int64_t now, int64_t prev_due, int64_t interval)
{
	if (interval <= 0)
		return now;
	if (prev_due)
		return now + interval;
	/* Fibonacci hashing of the id (spread evenly however the ids run),
	 * scaled to the interval: the hash's high 32 bits modulo it, as before,
	 * reached only its first 4.29 s */
	return now + (int64_t)(((unsigned __int128)(id * 0x9E3779B97F4A7C15ULL) *
				(uint64_t)interval) >> 64);
}

bool plan_flush_parent(uint32_t reads, uint32_t nth)
{
	return reads >= PLAN_FLUSH_EVERY && nth % PLAN_FLUSH_EVERY == 0;
}
