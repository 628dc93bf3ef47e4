// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel suite's helpers (tests/test_kernel*.c): the BPF programs and a
 * collector in the test's own process, workloads, and the comparison with
 * the kernel's schedstat. The suite's init and fini are here.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "clock.h"
#include "kernlib.h"
#include "testlib.h"
#include "cgsnap.skel.h"
#include "collector.h"
#include "loader.h"
#include "memiter.h"
#include "names.h"

struct cgsnap_bpf *skel;
struct memiter *memiter;
struct collector *coll;
struct cgroup_layout layout;
char big_file[64];
int64_t idle_read_ns;
bool fast;	/* collector_opts.fast of the next setup() */
bool cpu_from_cgroupfs;
bool with_memiter;

int64_t now_ns(void)
{
	return clock_mono_ns();
}

/* the suite's init; a test's own .init runs after it (Criterion runs both) */
static void setup(void)
{
	struct loader_opts lo = { .fast = fast, .wake_ns = 5000000 };
	struct collector_opts co = { .fast = fast };
	char err[256] = "";

	testlib_require_bpf();
	cr_assert(eq(int, cgroup_layout_detect(&layout, PROC_MOUNTINFO), 0));
	skel = loader_open(&lo, err, sizeof(err));
	cr_assert(ne(ptr, skel, NULL), "loader_open: %s", err);
	co.layout = &layout;
	loader_map_fds(skel, &co.maps);
	co.keep_totals = true;
	co.keep_removed = true;
	co.idle_read_ns = idle_read_ns;
	co.cpu_from_cgroupfs = cpu_from_cgroupfs;
	if (with_memiter) {
		memiter = memiter__open(cgroup_memory_root(&layout), err, sizeof(err));
		cr_assert(ne(ptr, memiter, NULL), "memiter__open: %s", err);
		co.memiter = memiter;
	}
	coll = collector__new(&co);
	cr_assert(ne(ptr, coll, NULL));
}

/* the same with the wait source of kernels without sched_info: stamps of
 * cgsnap's own at wakeup and preemption */
/* a test's .init of its own: start over with its options (the suite's
 * skeleton and collector would otherwise stay loaded, and leak) */
void reopen(void)
{
	collector__free(coll);
	memiter__close(memiter);
	loader_close(skel);
	coll = NULL;
	memiter = NULL;
	skel = NULL;
	setup();
}

void setup_own_stamps(void)
{
	setenv("CGSNAP_OWN_STAMPS", "1", 1);
	reopen();
	unsetenv("CGSNAP_OWN_STAMPS");
	cr_assert(not(skel->rodata->targ_sched_info));
	cr_assert(ge(int, bpf_program__fd(skel->progs.sched_wakeup), 0));
}

/* waits read from the kernel's sched_info: its very figures, so that the
 * sums compare as closely as the counts, emulated or not */
bool kernel_waits(void)
{
	return skel->rodata->targ_sched_info;
}

static void teardown(void)
{
	testlib_cleanup();
	collector__free(coll);
	memiter__close(memiter);
	loader_close(skel);
	if (big_file[0])
		unlink(big_file);
}

/* run the workload @args in cgroup @rel until it reports done */
pid_t run_workload(const char *rel, const char *extra_procs, const char *args)
{
	char cmd[512];
	char *const argv[] = { "sh", "-c", cmd, NULL };
	int fd;
	pid_t pid;

	/* exec, so the workload is the spawned process itself */
	snprintf(cmd, sizeof(cmd), "exec %s %s", testlib_workload(), args);
	pid = testlib_spawn_ex(rel, extra_procs, argv, &fd);
	cr_assert(testlib_wait_done(fd, 60000), "workload '%s' did not finish", args);
	close(fd);
	return pid;
}

const struct watched *watched(const char *rel)
{
	const struct watched *w = collector__find_path(coll, rel);

	cr_assert(ne(ptr, (void *)w, NULL), "%s is not watched", rel);
	return w;
}

double rel_diff(double a, double b)
{
	return fabs(a - b) / b;
}


/*
 * What to look at when a count disagrees: the kernel side's drop counters,
 * and the waits of @id's slot CPU by CPU, in @buf.
 */
const char *diagnosis(uint64_t id, char *buf, size_t len)
{
	uint64_t drops[CGSNAP_DROP_MAX], key = id;
	int ncpus = libbpf_num_possible_cpus(), cpu, i;
	struct cgsnap_runq v;
	size_t n = 0;
	__u32 slot, idx;

	collector__drops(coll, drops);
	n += snprintf(buf + n, len - n, "drops:");
	for (i = 0; i < CGSNAP_DROP_MAX && n < len; i++)
		n += snprintf(buf + n, len - n, " %s %llu", drop_name(i),
			      (unsigned long long)drops[i]);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &key, &slot))
		return buf;
	for (cpu = 0; cpu < ncpus && n < len; cpu++) {
		idx = slot * ncpus + cpu;
		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_runq), &idx, &v))
			n += snprintf(buf + n, len - n, "%s cpu%d %llu waits %.3f ms",
				      cpu ? "," : "; per CPU:", cpu, (unsigned long long)v.count,
				      v.sum_ns / 1e6);
	}
	return buf;
}

/*
 * In sched_info mode a task's waits are read when it leaves its CPU, and
 * /proc shows a thread asleep from the moment it sets its state, before it
 * has left (on a loaded host, a qemu guest's vCPU may stop in between). The
 * per-CPU notes name the cgroup on each CPU (0 when idle), written by the
 * very switch that reads the waits: once none names @id, every wait of its
 * tasks has been read.
 */
void wait_off_cpu(uint64_t id)
{
	int ncpus = libbpf_num_possible_cpus(), cpu, waited;
	struct cgsnap_cpu_note notes[ncpus > 0 ? ncpus : 1];
	__u32 zero = 0;
	bool on;

	if (!skel->rodata->targ_sched_info)
		return;	/* own stamps: a wait is counted when it ends */
	for (waited = 0;; waited++) {
		cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cur_cpu), &zero, notes),
			     0));
		for (on = false, cpu = 0; cpu < ncpus; cpu++)
			on |= notes[cpu].cgid == id;
		if (!on)
			return;
		cr_assert(lt(int, waited, 5000), "a task of the cgroup stayed on its CPU for 5 s");
		usleep(1000);
	}
}

/* compare cgsnap's totals for @rel with the schedstat of workload @pid */
void compare_schedstat(const char *rel, pid_t pid, double sum_tolerance)
{
	uint64_t delay, slices, main_delay, main_slices;
	const struct lat_total *t;
	char why[512];

	/* its threads blocked at the end ("done"): once each has left its CPU,
	 * every wait of theirs is read (sched_info mode reads them then) */
	cr_assert(testlib_wait_blocked(pid, 5000), "the workload's threads did not block");
	wait_off_cpu(watched(rel)->id);
	testlib_schedstat(pid, &delay, &slices);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	t = watched(rel)->runq_total;
	/*
	 * The main thread's schedstat also holds its waits from before it moved
	 * into the cgroup (fork, the write to cgroup.procs): cgsnap rightly gave
	 * those to the cgroup it waited in. On a busy machine they come to
	 * milliseconds: the difference may reach them, not beyond.
	 */
	testlib_schedstat_of(pid, pid, &main_delay, &main_slices);
	cr_log_info("%s: cgsnap %llu waits, %.3f ms; schedstat %llu timeslices, %.3f ms (ratio %.3f)"
		    "; the main thread %llu, %.3f ms", rel, (unsigned long long)t->count,
		    t->sum_ns / 1e6, (unsigned long long)slices, delay / 1e6,
		    (double)t->sum_ns / delay, (unsigned long long)main_slices, main_delay / 1e6);
	cr_log_info("%s", diagnosis(watched(rel)->id, why, sizeof(why)));
	cr_assert(gt(u64, slices, 1000), "too few events to compare");
	cr_assert(le(dbl, rel_diff(t->count, slices), 0.01),
		  "wait count %llu vs schedstat %llu: more than 1%% apart (%s)",
		  (unsigned long long)t->count, (unsigned long long)slices,
		  diagnosis(watched(rel)->id, why, sizeof(why)));
	if (sum_tolerance > 0)
		cr_assert(le(dbl, fabs((double)t->sum_ns - delay),
			     sum_tolerance * delay + main_delay),
			  "wait sum %llu vs schedstat run_delay %llu: more than %.0f%% apart, beyond "
			  "the main thread's %llu (%s)", (unsigned long long)t->sum_ns,
			  (unsigned long long)delay, sum_tolerance * 100,
			  (unsigned long long)main_delay, diagnosis(watched(rel)->id, why, sizeof(why)));
}


TestSuite(kernel, .init = setup, .fini = teardown, .timeout = 120);

void wait_cpu_still(const char *rel)
{
	uint64_t last, now;
	int tries;

	cr_assert(eq(int, cgroup_cpu_usage(&layout, rel, &last), 0), "%s: no cpu.stat", rel);
	for (tries = 0; tries < 100; tries++) {
		usleep(100000);
		cr_assert(eq(int, cgroup_cpu_usage(&layout, rel, &now), 0), "%s: no cpu.stat", rel);
		if (now == last)
			return;
		last = now;
	}
	cr_assert(false, "%s: its tasks still ran after 10 s", rel);
}
