// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU usage charged in the kernel (the switch program adds each run's
 * sum_exec_runtime to its cgroup's slot; runs in progress come from the
 * per-CPU notes) against cpu.stat, the kernel's own figure, for every kind
 * of run: a spinner that never leaves its CPU, spinners that take turns,
 * short bursts, and a parent whose CPU is its children's.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernlib.h"
#include "testlib.h"
#include "collector.h"
#include "collector_int.h"	/* struct collector: host_pids */

#define NR_CG 4

/* the time all CPUs spent in interrupts or had stolen, which the scheduler
 * charges to no task (ns, /proc/stat's irq, softirq and steal) */
static uint64_t uncharged_ns(void)
{
	unsigned long long v[8] = {};
	char line[512];
	FILE *f = fopen("/proc/stat", "re");
	bool ok;

	cr_assert(f != NULL, "/proc/stat: %s", strerror(errno));
	ok = fgets(line, sizeof(line), f) &&
	     sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		    &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
	fclose(f);
	cr_assert(ok, "/proc/stat: no cpu line");
	return (v[5] + v[6] + v[7]) * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* cpu.stat's usage of @rel (ns) */
static uint64_t stat_usage(const char *rel)
{
	uint64_t usage;

	cr_assert(eq(int, cgroup_cpu_usage(&layout, rel, &usage), 0), "%s: no cpu.stat", rel);
	return usage;
}

/*
 * The system tick's usage of each cgroup, the agent's ticks made faster
 * (runq every 100 ms, system every 250 ms), is never ahead of cpu.stat's
 * read right after it, and behind it by no more than the time between the
 * two reads and the scheduler's tick (it charges the running task's time
 * at its tick, 4 ms at HZ=250, 10 ms at HZ=100). Once the tasks are gone,
 * the two agree within 1% (here, to the microsecond); no cgroupfs read of
 * the CPU was needed. Charged per task, the runs of switches the program
 * did not see count as well (under load, a few a second here: at 1% the
 * test failed when runs were charged from the noted switch-in).
 * What a cgroup runs between its first cpu.stat read and the kernel's
 * baseline right after it counts in neither (kcpu.c): the workloads, which
 * poll for the go file every millisecond, ran up to 58 ms during the
 * collector's start in an emulated guest (none here), and the tree ended
 * 1.26% behind in CI. That much more may be missing, no more: what each
 * cgroup ran from just before the start to just after it.
 */
static void charged_against_cpu_stat(bool host_pids)
{
	/*
	 * Without the host's PIDs a run in progress is estimated by the time
	 * since a tick first saw it: wall time, with the interrupts' and (in a
	 * guest) the stolen time the scheduler does not charge. Under software
	 * emulation that is a few percent (1.4% ahead at a tick on 6.1 in CI),
	 * and the last run's may stay when nothing runs after it. Under foreign
	 * load one tick was 4.7% ahead in a loaded round (this VM's /proc/stat
	 * shows steal, not irq time: the cause is not proven): the interrupt and
	 * stolen time /proc/stat counts since the start is allowed on top.
	 */
	double ahead = host_pids ? 0.01 : getenv("CGSNAP_TEST_EMULATED") ? 0.05 : 0.02;
	static const char *const names[NR_CG] = { "alone", "turns", "bursts", "tree" };
	static const char *const args[NR_CG] = {
		/* alone on CPU 1 under SCHED_FIFO: one run in progress throughout */
		"--spinners 1 --cpu 1 --fifo",
		/* four spinners on the other CPU: runs of a slice each */
		"--spinners 4 --cpu 0",
		"--bursters 3 --burst-ms 3 --every-ms 20",
		/* in each of the parent's three children */
		"--bursters 1 --burst-ms 2 --every-ms 10",
	};
	uint64_t before[COLL_READING_MAX], after[COLL_READING_MAX], id, start[NR_CG], window[NR_CG];
	uint64_t irq0, irq;
	char go[64], cmd[256], dir[4096], child[3][256];
	char *const argv[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	const char *rel[NR_CG];
	int fd[NR_CG + 2], i, ticks = 0;
	int64_t t0, now;

	snprintf(go, sizeof(go), "/run/cgsnap-test-%d.go", getpid());
	unlink(go);
	for (i = 0; i < NR_CG; i++) {
		rel[i] = testlib_cgroup(names[i], &id);
		cr_assert(eq(int, collector__watch(coll, rel[i]), 0));
	}
	/* the parent is watched, its three children are not: their runs go up */
	for (i = 0; i < 3; i++) {
		snprintf(child[i], sizeof(child[i]), "%.200s/cg-%d", rel[3], i);
		snprintf(dir, sizeof(dir), "%s/%s", testlib_v2_root(), child[i]);
		cr_assert(eq(int, mkdir(dir, 0755), 0), "mkdir %s: %s", dir, strerror(errno));
	}
	for (i = 0; i < NR_CG + 2; i++) {
		const char *where = i < NR_CG - 1 ? rel[i] : child[i - (NR_CG - 1)];

		snprintf(cmd, sizeof(cmd), "exec $0 %s --duration-ms 3000 --go %s",
			 args[i < NR_CG ? i : NR_CG - 1], go);
		testlib_spawn_ex(where, NULL, argv, &fd[i]);
		cr_assert(testlib_wait_line(fd[i], "ready", 30000), "%s did not start", where);
	}
	coll->host_pids = host_pids;
	for (i = 0; i < NR_CG; i++)
		window[i] = stat_usage(rel[i]);
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	for (i = 0; i < NR_CG; i++) {
		window[i] = stat_usage(rel[i]) - window[i];
		start[i] = watched(rel[i])->sys_state.first_cpu_ns;
	}
	collector__readings(coll, before);
	irq0 = uncharged_ns();
	close(open(go, O_WRONLY | O_CREAT, 0600));
	for (t0 = now = now_ns(); now - t0 < 2800000000LL; now = now_ns()) {
		usleep(100000);
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		if (now_ns() - t0 < (int64_t)(ticks + 1) * 250000000)
			continue;
		int64_t t1 = now_ns();

		cr_assert(eq(int, collector__tick_system(coll, t1), 0));
		ticks++;
		irq = host_pids ? 0 : uncharged_ns() - irq0;
		for (i = 0; i < NR_CG; i++) {
			uint64_t ours = watched(rel[i])->sys_state.last_cpu_ns - start[i];
			uint64_t theirs = stat_usage(rel[i]) - start[i];
			/* two CPUs, for as long as since the tick, and a scheduler
			 * tick of 10 ms on each */
			int64_t slack = 2 * (now_ns() - t1) + 2 * 10000000;

			/* (the kernel's baseline was read a few us after cpu.stat's) */
			cr_assert(le(u64, ours, theirs + (uint64_t)(ahead * theirs) + irq + 100000),
				  "tick %d, %s: %.3f ms of CPU, ahead of cpu.stat's %.3f ms", ticks,
				  names[i], ours / 1e6, theirs / 1e6);
			if (!host_pids)
				continue;	/* a run is counted from when a tick first sees it */
			cr_assert(ge(i64, (int64_t)(ours + window[i]),
				     (int64_t)(theirs - theirs / 100) - slack),
				  "tick %d, %s: %.3f ms of CPU, behind cpu.stat's %.3f ms", ticks,
				  names[i], ours / 1e6, theirs / 1e6);
		}
	}
	unlink(go);
	for (i = 0; i < NR_CG + 2; i++)
		cr_assert(testlib_wait_done(fd[i], 30000), "workload %d did not finish", i);
	/* done, their threads block, some a little later (a burst, a spinner that
	 * was waiting for its CPU): their last runs are all charged once
	 * cpu.stat stands still */
	for (i = 0; i < NR_CG; i++)
		wait_cpu_still(rel[i]);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	ticks++;
	collector__readings(coll, after);
	irq = host_pids ? 0 : uncharged_ns() - irq0;
	for (i = 0; i < NR_CG; i++) {
		uint64_t ours = watched(rel[i])->sys_state.last_cpu_ns - start[i];
		uint64_t theirs = stat_usage(rel[i]) - start[i];
		uint64_t tol = (uint64_t)(ahead * (double)theirs);

		cr_log_info("%s: %.3f ms of CPU charged in the kernel, cpu.stat %.3f ms (%+.3f%%); "
			    "%.3f ms run during the start", names[i], ours / 1e6, theirs / 1e6,
			    theirs ? 100.0 * ((double)ours - (double)theirs) / (double)theirs : 0.0,
			    window[i] / 1e6);
		cr_assert(gt(u64, theirs, 10000000), "%s did not run", names[i]);
		cr_assert(le(u64, ours, theirs + tol + irq), "%s: %.3f ms of CPU, ahead of cpu.stat's %.3f ms",
			  names[i], ours / 1e6, theirs / 1e6);
		cr_assert(ge(u64, ours + tol + window[i], theirs),
			  "%s: %.3f ms of CPU, cpu.stat says %.3f ms (%.3f ms run during the start)",
			  names[i], ours / 1e6, theirs / 1e6, window[i] / 1e6);
	}
	cr_log_info("%d system ticks: CPU from the kernel %llu, from cgroupfs %llu", ticks,
		    (unsigned long long)(after[COLL_CPU_KERNEL] - before[COLL_CPU_KERNEL]),
		    (unsigned long long)(after[COLL_CPU_READ] - before[COLL_CPU_READ]));
	/* a tick whose runs were not all counted reads cpu.stat (a drop, a cgroup
	 * not placed yet): the others need no cgroupfs read for the CPU */
	cr_assert(ge(u64, after[COLL_CPU_KERNEL] - before[COLL_CPU_KERNEL],
		     (uint64_t)NR_CG * (ticks - 2)),
		  "the CPU came from the kernel in fewer than all but two ticks");
	for (i = 0; i < NR_CG + 2; i++)
		close(fd[i]);
}

Test(kernel, cpu_charged_in_the_kernel_agrees_with_cpu_stat)
{
	cr_assert(coll->host_pids, "the test runs in the host's PID namespace");
	charged_against_cpu_stat(true);
}

/*
 * In a PID namespace of its own (a container without hostPID) the agent
 * cannot read a running task's schedstat: a run in progress counts from the
 * tick that first sees it, the rest when it ends. Never ahead of cpu.stat,
 * and in the end the same.
 */
Test(kernel, cpu_charged_in_the_kernel_without_host_pids_agrees_in_the_end)
{
	charged_against_cpu_stat(false);
}

/*
 * Without sched_info (own stamps) the kernel side charges no CPU time: the
 * usage comes from cpu.stat, whole from the first system tick on.
 */
Test(kernel, cpu_from_cpu_stat_where_the_kernel_side_charges_none, .init = setup_own_stamps)
{
	uint64_t before[COLL_READING_MAX], after[COLL_READING_MAX], id, ours, theirs, start;
	char go[64], cmd[256];
	char *const argv[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	const char *rel = testlib_cgroup("spin", &id);
	int64_t t1;
	int fd;

	snprintf(go, sizeof(go), "/run/cgsnap-test-%d.go", getpid());
	unlink(go);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	snprintf(cmd, sizeof(cmd), "exec $0 --spinners 1 --duration-ms 1000 --go %s", go);
	testlib_spawn_ex(rel, NULL, argv, &fd);
	cr_assert(testlib_wait_line(fd, "ready", 30000), "the spinner did not start");
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	start = watched(rel)->sys_state.first_cpu_ns;
	collector__readings(coll, before);
	close(open(go, O_WRONLY | O_CREAT, 0600));
	usleep(500000);
	t1 = now_ns();
	cr_assert(eq(int, collector__tick_system(coll, t1), 0));
	ours = watched(rel)->sys_state.last_cpu_ns - start;
	theirs = stat_usage(rel) - start;
	collector__readings(coll, after);
	unlink(go);
	cr_log_info("first tick: %.3f ms of CPU, cpu.stat %.3f ms", ours / 1e6, theirs / 1e6);
	cr_assert(gt(u64, ours, 200000000), "the first tick saw %.3f ms of a spinner's 500",
		  ours / 1e6);
	cr_assert(le(u64, ours, theirs));
	cr_assert(eq(u64, after[COLL_CPU_KERNEL] - before[COLL_CPU_KERNEL], 0));
	cr_assert(eq(u64, after[COLL_CPU_READ] - before[COLL_CPU_READ], 1));
	cr_assert(testlib_wait_done(fd, 30000));
	close(fd);
}
