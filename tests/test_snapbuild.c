// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The snapshot builder: readings and accumulators -> snapshots. Pure, no
 * root. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "snapbuild.h"

#define MS CGSNAP_NSEC_PER_MSEC
#define SEC CGSNAP_NSEC_PER_SEC

static struct cgsnap_settings s;

static void init(void)
{
	cgsnap_settings__init(&s);
}

TestSuite(snapbuild, .init = init);

Test(snapbuild, cpu_ratio_over_the_interval_and_capacity)
{
	struct sys_reading r = { .cpu_capacity = 2 };
	struct sys_state st;
	struct cgsnap_snapshot snap;

	build_start(&st, 10 * SEC, true, 5 * SEC, false, 0);
	/* 1.5 CPU-seconds in one second on 2 CPUs */
	cr_assert(build_cpu(&s, &st, &r, 6500 * MS, 11 * SEC, &snap));
	cr_assert(eq(int, snap.kind, CGSNAP_KIND_CPU));
	cr_assert(eq(i64, snap.t_ns, 11 * SEC));
	cr_assert(eq(dbl, snap.cpu.used_ratio, 0.75));
	cr_assert(eq(dbl, snap.cpu.max_used_ratio, 0.95));
	cr_assert(r.cpu_ratio_valid);
	st.prev_t = 11 * SEC;
	/* usage that went back (a counter reset) makes no snapshot */
	cr_assert(not(build_cpu(&s, &st, &r, 1 * SEC, 12 * SEC, &snap)));
	/* overall: first and last reading */
	st.prev_t = 12 * SEC;
	cr_assert(build_cpu(&s, &st, &r, 3 * SEC, 13 * SEC, &snap));
	cr_assert(eq(dbl, snap.cpu.used_ratio, 1.0));
}

Test(snapbuild, first_cpu_reading_is_only_a_base)
{
	struct sys_reading r = { .cpu_capacity = 4 };
	struct sys_state st = {};
	struct cgsnap_snapshot snap;

	cr_assert(not(build_cpu(&s, &st, &r, 7 * SEC, 3 * SEC, &snap)));
	cr_assert(eq(u64, st.first_cpu_ns, 7 * SEC));
	cr_assert(eq(i64, st.first_cpu_t, 3 * SEC));
	cr_assert(eq(dbl, build_cpu_ratio_overall(&st, 4), -1), "one reading: unknown");
	st.prev_t = 3 * SEC;
	cr_assert(build_cpu(&s, &st, &r, 9 * SEC, 4 * SEC, &snap));
	cr_assert(eq(dbl, build_cpu_ratio_overall(&st, 4), 0.5));
}

Test(snapbuild, stall_ratio_is_the_larger_of_bpf_and_psi_capped_at_one)
{
	struct sys_state st;
	double ratio;

	build_start(&st, 1 * SEC, false, 0, true, 1000);
	/* BPF: 100 ms of 1 s; PSI: 250 ms (250000 us) */
	cr_assert(build_stall_ratio(&st, 100 * MS, true, 251000, 2 * SEC, &ratio));
	cr_assert(eq(dbl, ratio, 0.25));
	st.prev_t = 2 * SEC;
	cr_assert(build_stall_ratio(&st, 300 * MS, true, 251000, 3 * SEC, &ratio));
	cr_assert(eq(dbl, ratio, 0.3), "BPF wins when PSI saw less");
	st.prev_t = 3 * SEC;
	cr_assert(build_stall_ratio(&st, 5 * SEC, false, 0, 4 * SEC, &ratio));
	cr_assert(eq(dbl, ratio, 1.0));
}

/* PSI not read at every interval (an idle cgroup's memory is read less
 * often): its delta spans the time since it was read, not one interval */
Test(snapbuild, stall_ratio_from_psi_read_intervals_apart)
{
	struct sys_state st = {};
	double ratio;

	build_start(&st, 1 * SEC, false, 0, true, 1000);
	cr_assert(build_stall_ratio(&st, 0, false, 0, 2 * SEC, &ratio), "BPF alone is known");
	cr_assert(eq(dbl, ratio, 0));
	st.prev_t = 2 * SEC;
	cr_assert(build_stall_ratio(&st, 0, false, 0, 3 * SEC, &ratio));
	st.prev_t = 3 * SEC;
	/* 600 ms of stall over the 3 s since PSI was read */
	cr_assert(build_stall_ratio(&st, 0, true, 601000, 4 * SEC, &ratio));
	cr_assert(eq(dbl, ratio, 0.2));
	st.prev_t = 4 * SEC;
	cr_assert(build_stall_ratio(&st, 0, true, 901000, 5 * SEC, &ratio));
	cr_assert(eq(dbl, ratio, 0.3), "then one interval again");
}

Test(snapbuild, stall_ratio_unknown_without_an_interval)
{
	struct sys_state st = {};
	double ratio;

	cr_assert(not(build_stall_ratio(&st, 0, false, 0, 5 * SEC, &ratio)));
	cr_assert(eq(dbl, ratio, 0));
}

Test(snapbuild, memory_snapshot_carries_budget_system_and_stall)
{
	struct cgroup_memory mem = { .usage_bytes = 900, .working_set_bytes = 800,
				     .limit_bytes = 1000 };
	struct host_memory host = { .total_bytes = 4000, .available_bytes = 1000 };
	struct sys_reading r = {};
	struct cgsnap_snapshot snap;

	s.available_memory_ratio = 0.5;
	cr_assert(build_memory(&s, &mem, &host, true, 0.2, 7, &r, &snap));
	cr_assert(eq(int, snap.kind, CGSNAP_KIND_MEMORY));
	cr_assert(eq(i64, snap.memory.current_bytes, 800));
	cr_assert(eq(i64, snap.memory.max_bytes, 500), "half the limit");
	cr_assert(eq(i64, snap.memory.system_used_bytes, 3000));
	cr_assert(eq(i64, snap.memory.system_total_bytes, 4000));
	cr_assert(eq(dbl, snap.memory.stall_ratio, 0.2));
	cr_assert(ne(u32, snap.present & CGSNAP_F_STALL, 0));
	cr_assert(ne(u32, snap.present & CGSNAP_F_MAX_STALL, 0));
	cr_assert(r.valid);
	cr_assert(eq(i64, r.budget_bytes, 500));
	/* without a limit and without MemTotal there is no budget: no snapshot */
	mem.limit_bytes = -1;
	host.total_bytes = 0;
	s.available_memory_ratio = -1;
	r.valid = false;
	cr_assert(not(build_memory(&s, &mem, &host, false, 0, 8, &r, &snap)));
	cr_assert(not(r.valid));
}

Test(snapbuild, runq_delay_is_the_configured_statistic)
{
	static struct lat_interval acc;
	struct lat_summary sum;
	struct cgsnap_snapshot snap;
	unsigned int slot = cgsnap_hist_slot(60 * MS);

	acc.count = 10;
	acc.sum_ns = 600 * MS;
	acc.max_ns = 61 * MS;
	acc.slots[slot] = 10;
	acc.lo = slot;
	acc.hi = slot + 1;
	build_runq(&s, &acc, 42, &sum, &snap);
	cr_assert(eq(int, snap.kind, CGSNAP_KIND_RUNQ));
	cr_assert(eq(i64, snap.runq.count, 10));
	cr_assert(eq(i64, snap.runq.mean_ns, 60 * MS));
	cr_assert(eq(i64, snap.runq.delay_ns, sum.p99_ns));
	cr_assert(eq(i64, snap.runq.max_delay_ns, 50 * MS));
	s.runq_statistic = CGSNAP_RUNQ_MEAN;
	build_runq(&s, &acc, 42, &sum, &snap);
	cr_assert(eq(i64, snap.runq.delay_ns, 60 * MS));
	s.runq_statistic = CGSNAP_RUNQ_MAX;
	build_runq(&s, &acc, 42, &sum, &snap);
	cr_assert(eq(i64, snap.runq.delay_ns, 61 * MS));
	/* an empty interval has delay 0 */
	memset(&acc, 0, sizeof(acc));
	build_runq(&s, &acc, 43, &sum, &snap);
	cr_assert(eq(i64, snap.runq.delay_ns, 0));
}

Test(snapbuild, client_snapshot_from_the_cumulative_count)
{
	struct cgsnap_snapshot snap;

	build_client(&s, 9, 100, &snap);
	cr_assert(eq(int, snap.kind, CGSNAP_KIND_CLIENT));
	cr_assert(eq(i64, snap.client.error_count, 9));
	cr_assert(eq(i64, snap.client.max_error_count, 1));
	cr_assert(eq(i64, snap.t_ns, 100));
}
