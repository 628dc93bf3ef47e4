// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The BPF programs load, attach and count, in the real kernel. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "cgsnap.h"
#include "cgsnap.skel.h"
#include "loader.h"

static struct cgsnap_bpf *skel;

static void setup(void)
{
	struct loader_opts opts = {};
	char err[256] = "";

	testlib_require_bpf();
	skel = loader_open(&opts, err, sizeof(err));
	cr_assert(ne(ptr, skel, NULL), "loader_open: %s", err);
}

static void teardown(void)
{
	testlib_cleanup();
	loader_close(skel);
}

/* the slot of @cgid; false if it has none */
static bool slot_of(uint64_t cgid, __u32 *slot)
{
	__u64 owner;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &cgid, slot))
		return false;
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_owner), slot, &owner), 0));
	cr_assert(eq(u64, owner, cgid), "cg_owner maps the slot back to its cgroup");
	return true;
}

/* sum of the per-CPU cg_runq values of @cgid; false if it has no slot */
static bool runq_of(uint64_t cgid, struct cgsnap_runq *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct cgsnap_runq vals[ncpu];
	__u32 slot;
	int i, h;

	memset(sum, 0, sizeof(*sum));
	if (!slot_of(cgid, &slot))
		return false;
	for (i = 0; i < ncpu; i++) {
		__u32 idx = slot * ncpu + i;

		cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_runq), &idx, &vals[i]), 0));
	}
	for (i = 0; i < ncpu; i++) {
		sum->count += vals[i].count;
		sum->sum_ns += vals[i].sum_ns;
		for (h = 0; h < CGSNAP_HOLDER_MAX; h++)
			sum->holder_count[h] += vals[i].holder_count[h];
	}
	return true;
}

TestSuite(bpf, .init = setup, .fini = teardown);

Test(bpf, skeleton_loads_attaches_and_counts_waits_per_cgroup)
{
	char *const sleeper[] = { "sh", "-c", "for i in $(seq 200); do sleep 0.001; done", NULL };
	struct cgsnap_hist hist;
	struct cgsnap_runq rq, idle_rq;
	uint64_t busy, idle, hist_total = 0;
	__u32 slot;
	int i, status;
	pid_t pid;

	testlib_cgroup("busy", &busy);
	testlib_cgroup("idle", &idle);
	pid = testlib_spawn(testlib_cgroup("busy", &busy), sleeper);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0), "workload failed");

	cr_assert(runq_of(busy, &rq), "no cg_runq entry for the busy cgroup");
	/* each of 200 sleeps ends in a wakeup and a switch-in, plus the forks */
	cr_assert(ge(u64, rq.count, 200), "only %llu waits", (unsigned long long)rq.count);
	cr_assert(gt(u64, rq.sum_ns, 0));
	cr_assert(eq(u64, rq.holder_count[0] + rq.holder_count[1] + rq.holder_count[2] +
			  rq.holder_count[3], rq.count), "the holder split covers every wait");
	cr_assert(slot_of(busy, &slot));
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_runq_hist), &slot, &hist), 0));
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		hist_total += hist.slots[i];
	cr_assert(eq(u64, hist_total, rq.count), "histogram and count agree");
	runq_of(idle, &idle_rq);
	cr_assert(eq(u64, idle_rq.count, 0), "an idle cgroup has no waits");
}
