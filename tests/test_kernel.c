// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Run-queue waits against schedstat, with real workloads in real cgroups:
 * saturated and light, from sched_info, from cgsnap's own stamps and in
 * fast mode; and who held the CPU.
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

#include "kernlib.h"
#include "testlib.h"
#include "cgsnap.skel.h"
#include "collector.h"
#include "loader.h"
#include "names.h"

Test(kernel, runq_matches_schedstat_when_saturated)
{
	char args[128];
	const char *busy, *idle;
	uint64_t id, delay, slices, bound;
	pid_t pid, idle_pid;
	const struct lat_total *t;

	busy = testlib_cgroup("busy", &id);
	idle = testlib_cgroup("idle", &id);
	cr_assert(eq(int, collector__watch(coll, busy), 0));
	cr_assert(eq(int, collector__watch(coll, idle), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	/* the idle sibling: one process that starts and blocks */
	idle_pid = run_workload(idle, NULL, "--duration-ms 0");
	snprintf(args, sizeof(args), "--spinners %ld --sleepers 2 --sleep-us 1000 --duration-ms 3000",
		 2 * sysconf(_SC_NPROCESSORS_ONLN));
	pid = run_workload(busy, NULL, args);
	/*
	 * With the kernel's sched_info the sums are its own run_delay: within
	 * 1% like the counts, emulated or not. With cgsnap's own stamps, under
	 * software emulation (make vmtest sets CGSNAP_TEST_EMULATED) the
	 * kernel's path from its stamp to the tracepoint takes ~20 us instead of
	 * well under one, and far more when the host deschedules the emulator's
	 * threads meanwhile (3% of the sum on a quiet host, 8% on a busy one):
	 * only the counts compare there.
	 */
	compare_schedstat(busy, pid, kernel_waits() ? 0.01 : getenv("CGSNAP_TEST_EMULATED") ? 0 : 0.02);
	/*
	 * None of the busy cgroup's seconds of waits leak into its sibling: what
	 * the sibling shows is its own start-up, which a loaded or emulated
	 * machine makes longer; its own schedstat is the measure (its count, and
	 * its sum times 2: schedstat's short-wait bias, see DESIGN.md).
	 */
	testlib_schedstat(idle_pid, &delay, &slices);
	bound = 2 * delay + 5000000 > 20000000 ? 2 * delay + 5000000 : 20000000;
	t = watched(idle)->runq_total;
	cr_log_info("idle sibling: %llu waits, %.3f ms; its schedstat %llu, %.3f ms",
		    (unsigned long long)t->count, t->sum_ns / 1e6, (unsigned long long)slices,
		    delay / 1e6);
	cr_assert(le(u64, t->count, slices + slices / 10 + 20),
		  "idle sibling: %llu waits, its own schedstat %llu",
		  (unsigned long long)t->count, (unsigned long long)slices);
	cr_assert(lt(u64, t->sum_ns, bound), "idle sibling waited %llu ns, its own schedstat %llu",
		  (unsigned long long)t->sum_ns, (unsigned long long)delay);
}

Test(kernel, runq_counts_match_schedstat_under_light_load)
{
	const char *rel;
	uint64_t id;
	pid_t pid;

	/* sleepers only, CPUs mostly idle: every wakeup must still be counted */
	rel = testlib_cgroup("light", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	pid = run_workload(rel, NULL, "--sleepers 4 --sleep-us 1000 --duration-ms 2000");
	compare_schedstat(rel, pid, kernel_waits() ? 0.01 : 0);
}

/* the pid of @pid's only child */
static pid_t only_child(pid_t pid)
{
	char path[64];
	FILE *f;
	int child = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	cr_assert(eq(int, fscanf(f, "%d", &child), 1), "%d has no child", pid);
	fclose(f);
	return child;
}

/*
 * A new task whose first wait is cut by a move between run queues before it
 * first ran: sched_info adds the wait's first part to run_delay at the
 * move, so the figures at its first switch-in already hold it. All of it
 * counts: the task began after cgsnap did.
 */
Test(kernel, first_wait_cut_by_a_move_counts_whole)
{
	uint64_t id, delay, slices, child_delay, child_slices;
	const struct lat_total *t;
	const char *rel;
	pid_t pid, child;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("the move needs a second CPU");
	rel = testlib_cgroup("moved", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	pid = run_workload(rel, NULL, "--moved-child 50");
	child = only_child(pid);
	cr_assert(testlib_wait_blocked(child, 5000), "the child did not block");
	wait_off_cpu(id);
	testlib_schedstat(child, &child_delay, &child_slices);
	testlib_schedstat(pid, &delay, &slices);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	t = watched(rel)->runq_total;
	cr_log_info("moved child: %llu waits, %.3f ms; its parent %llu, %.3f ms; cgsnap %llu, %.3f ms",
		    (unsigned long long)child_slices, child_delay / 1e6, (unsigned long long)slices,
		    delay / 1e6, (unsigned long long)t->count, t->sum_ns / 1e6);
	cr_assert(ge(u64, child_delay, 45000000), "the child waited %llu ns, not the 50 ms behind "
		  "its FIFO parent", (unsigned long long)child_delay);
	/* the child's own, and no more than the two have waited in all */
	cr_assert(ge(u64, t->sum_ns, child_delay), "cgsnap %llu ns, the moved child alone %llu",
		  (unsigned long long)t->sum_ns, (unsigned long long)child_delay);
	cr_assert(le(u64, t->sum_ns, child_delay + delay), "cgsnap %llu ns, the two %llu",
		  (unsigned long long)t->sum_ns, (unsigned long long)(child_delay + delay));
}

/* kernels without sched_info: the same two comparisons with cgsnap's own
 * stamps (this host has it, so they are forced) */
Test(kernel, own_stamps_match_schedstat_under_light_load, .init = setup_own_stamps)
{
	const char *rel;
	uint64_t id;
	pid_t pid;

	rel = testlib_cgroup("light", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	pid = run_workload(rel, NULL, "--sleepers 4 --sleep-us 1000 --duration-ms 2000");
	compare_schedstat(rel, pid, 0);
}

Test(kernel, own_stamps_match_schedstat_when_saturated, .init = setup_own_stamps)
{
	char args[128];
	const char *busy;
	uint64_t id;
	pid_t pid;

	busy = testlib_cgroup("busy", &id);
	cr_assert(eq(int, collector__watch(coll, busy), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	snprintf(args, sizeof(args), "--spinners %ld --sleepers 2 --sleep-us 1000 --duration-ms 3000",
		 2 * sysconf(_SC_NPROCESSORS_ONLN));
	pid = run_workload(busy, NULL, args);
	compare_schedstat(busy, pid, getenv("CGSNAP_TEST_EMULATED") ? 0 : 0.02);
}

/* where the kernel has sched_info (every kernel cgsnap is tested on), the
 * switch program alone reads the waits: nothing runs at wakeup */
Test(kernel, waits_come_from_sched_info_without_wakeup_programs)
{
	cr_assert(kernel_waits(), "this kernel's BTF has sched_info: it should be used");
	cr_assert(lt(int, bpf_program__fd(skel->progs.sched_wakeup), 0),
		  "sched_wakeup loaded although sched_info gives the waits");
	cr_assert(lt(int, bpf_program__fd(skel->progs.sched_wakeup_new), 0));
}

Test(kernel, noisy_neighbour_split)
{
	const char *a, *b, *alone;
	const struct lat_total *t;
	uint64_t id;

	a = testlib_cgroup("a", &id);
	b = testlib_cgroup("b", &id);
	alone = testlib_cgroup("alone", &id);
	cr_assert(eq(int, collector__watch(coll, a), 0));
	cr_assert(eq(int, collector__watch(coll, b), 0));
	cr_assert(eq(int, collector__watch(coll, alone), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	/*
	 * a and b contend for CPU 0; "alone" contends with itself on CPU 1.
	 * SCHED_FIFO spinners that yield to each other every millisecond keep
	 * the machine's other work off those CPUs meanwhile: the holder of a
	 * wait is who ran just before the task got the CPU, and a foreign task
	 * running there (a fork storm's) would rightly be "other".
	 */
	char go[64], cmd_a[160], cmd_alone[160];

	snprintf(go, sizeof(go), "/run/cgsnap-test-%d.go", getpid());
	unlink(go);
	snprintf(cmd_a, sizeof(cmd_a),
		 "exec $0 --spinners 1 --cpu 0 --fifo --duration-ms 1500 --go %s", go);
	snprintf(cmd_alone, sizeof(cmd_alone),
		 "exec $0 --spinners 2 --cpu 1 --fifo --duration-ms 1500 --go %s", go);
	char *const spin_a[] = { "sh", "-c", cmd_a, (char *)testlib_workload(), NULL };
	char *const spin_alone[] = { "sh", "-c", cmd_alone, (char *)testlib_workload(), NULL };
	int fa, fb, fc, fd;

	testlib_spawn_ex(a, NULL, spin_a, &fa);
	testlib_spawn_ex(b, NULL, spin_a, &fb);
	testlib_spawn_ex(alone, NULL, spin_alone, &fc);
	/* all three start together, however long each took to come up */
	cr_assert(testlib_wait_line(fa, "ready", 30000) && testlib_wait_line(fb, "ready", 30000) &&
		  testlib_wait_line(fc, "ready", 30000));
	fd = open(go, O_WRONLY | O_CREAT, 0600);
	cr_assert(ge(int, fd, 0));
	close(fd);
	bool done = testlib_wait_done(fa, 30000) && testlib_wait_done(fb, 30000) &&
		    testlib_wait_done(fc, 30000);
	unlink(go);
	cr_assert(done);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));

	t = watched(a)->runq_total;
	cr_log_info("a: %llu waits, %.1f ms; behind other cgroups %llu, %.1f ms",
		    (unsigned long long)t->count, t->sum_ns / 1e6,
		    (unsigned long long)t->holder_count[CGSNAP_HOLDER_OTHER],
		    t->holder_ns[CGSNAP_HOLDER_OTHER] / 1e6);
	cr_assert(gt(u64, t->count, 50));
	cr_assert(ge(dbl, (double)t->holder_count[CGSNAP_HOLDER_OTHER] / t->count, 0.5),
		  "a waits mostly behind b");
	t = watched(alone)->runq_total;
	cr_log_info("alone: %llu waits, %.1f ms; behind itself %llu, %.1f ms",
		    (unsigned long long)t->count, t->sum_ns / 1e6,
		    (unsigned long long)t->holder_count[CGSNAP_HOLDER_SAME],
		    t->holder_ns[CGSNAP_HOLDER_SAME] / 1e6);
	cr_assert(gt(u64, t->count, 50));
	cr_assert(ge(dbl, (double)t->holder_count[CGSNAP_HOLDER_SAME] / t->count, 0.5),
		  "alone waits mostly behind itself");
	close(fa);
	close(fb);
	close(fc);
}


static void setup_fast(void)
{
	fast = true;
	reopen();
	fast = false;
	cr_assert(skel->rodata->targ_fast);
}

/*
 * Fast mode: the same waits as schedstat's, with those still in progress
 * counted at every tick (a saturated cgroup always has some), none left
 * once its tasks block, and long waits woken up for at once.
 */
Test(kernel, fast_mode_counts_waits_in_progress_and_tells_long_ones, .init = setup_fast)
{
	char cmd[256];
	char *const argv[] = { "sh", "-c", cmd, NULL };
	const char *busy;
	uint64_t id, most = 0, ticks = 0, with = 0, aged = 0;
	const struct lat_summary *r;
	unsigned int wakes = 0;
	int fd;
	pid_t pid;

	busy = testlib_cgroup("busy", &id);
	cr_assert(eq(int, collector__watch(coll, busy), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	cr_assert(ge(int, collector__wake_fd(coll), 0), "fast mode without its wake ring");
	/* ~650 slices a CPU-second here, fewer where other work takes CPUs or
	 * where they are emulated: long enough for the 1,000 the comparison
	 * with schedstat needs under CI's loaded rounds (4 s gave 862 there) */
	snprintf(cmd, sizeof(cmd), "exec %s --spinners %ld --duration-ms %d", testlib_workload(),
		 4 * sysconf(_SC_NPROCESSORS_ONLN), getenv("CGSNAP_TEST_EMULATED") ? 12000 : 10000);
	pid = testlib_spawn_ex(busy, NULL, argv, &fd);
	/* four times as many spinners as CPUs: three in four wait at any instant,
	 * each for a few slices */
	while (!testlib_wait_done(fd, 100)) {
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		wakes += collector__wakes(coll);
		ticks++;
		r = &watched(busy)->last_runq;
		with += r->waiting > 0;
		/* each waits a few slices: a mean age of far less than 500 ms,
		 * on whichever clock the stamps are */
		aged += r->waiting > 0 && r->waiting_ns > 0 && r->waiting_ns / r->waiting < 500000000;
		if (r->waiting > most)
			most = r->waiting;
		cr_assert(lt(u64, ticks, 600), "the workload did not finish");
	}
	close(fd);
	cr_log_info("%llu of %llu ticks saw waits in progress (%llu of a plausible age), at most "
		    "%llu; %u wakes", (unsigned long long)with, (unsigned long long)ticks,
		    (unsigned long long)aged, (unsigned long long)most, wakes);
	/* a tick may fall in the workload's start or end: not the others */
	cr_assert(ge(u64, with + 3, ticks), "only %llu of %llu ticks saw waits in progress",
		  (unsigned long long)with, (unsigned long long)ticks);
	cr_assert(ge(u64, aged + 3, ticks), "only %llu of %llu ticks saw waits of a plausible age",
		  (unsigned long long)aged, (unsigned long long)ticks);
	/* the cgroup's tasks: the spinners and the workload's main thread,
	 * runnable while it starts them and when its sleep ends; all of them
	 * wait at once when foreign work holds both CPUs (CI's loaded rounds
	 * saw 9 of 9 here) */
	cr_assert(le(u64, most, 4 * sysconf(_SC_NPROCESSORS_ONLN) + 1),
		  "%llu waits in progress: more than the cgroup's tasks", (unsigned long long)most);
	cr_assert(gt(u32, wakes, 0), "no wait longer than 5 ms was told");
	compare_schedstat(busy, pid, 0.01);
	cr_assert(eq(u64, watched(busy)->last_runq.waiting, 0),
		  "%llu waits still in progress after the workload blocked",
		  (unsigned long long)watched(busy)->last_runq.waiting);
}

/*
 * Fast mode: a cgroup whose tasks were killed keeps no wait in progress.
 * 8 spinner threads killed while they wait and run, round after round: in
 * CI, a count of one (its end never taken back) stayed in the slot of such
 * a cgroup, 10 s and more old, and held it overloaded with no task left.
 * A task that leaves the CPU is not waiting: any wait still counted for it
 * ends then (cgsnap_dropped_events_total{reason="stale_wait"}). On a quiet
 * host the rounds pass without that rule too: the count left behind came
 * in CI's loaded rounds, and this test is the check that holds it there.
 */
Test(kernel, fast_mode_leaves_no_wait_in_progress_in_a_killed_cgroup, .init = setup_fast)
{
	char cmd[256];
	char *const argv[] = { "sh", "-c", cmd, NULL };
	uint64_t id, drops[CGSNAP_DROP_MAX];
	const char *busy;
	int round, i, fd;
	pid_t pid;

	busy = testlib_cgroup("killed", &id);
	cr_assert(eq(int, collector__watch(coll, busy), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	snprintf(cmd, sizeof(cmd), "exec %s --spinners %ld --duration-ms 60000", testlib_workload(),
		 4 * sysconf(_SC_NPROCESSORS_ONLN));
	for (round = 0; round < 12; round++) {
		pid = testlib_spawn_ex(busy, NULL, argv, &fd);
		for (i = 0; i < 5; i++) {	/* 0.5 s of spinning, read as in fast mode */
			usleep(100000);
			cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		}
		testlib_kill_cgroup(busy);
		waitpid(pid, NULL, 0);
		close(fd);
		/* the dead threads' last switches may come a little after */
		for (i = 0; i < 20; i++) {
			usleep(50000);
			cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
			if (!watched(busy)->last_runq.waiting)
				break;
		}
		cr_assert(eq(u64, watched(busy)->last_runq.waiting, 0),
			  "round %d: %llu waits in progress (mean age %llu ms) in a cgroup with no "
			  "task left", round, (unsigned long long)watched(busy)->last_runq.waiting,
			  (unsigned long long)(watched(busy)->last_runq.waiting_ns /
					       watched(busy)->last_runq.waiting / 1000000));
	}
	cr_assert(eq(int, collector__drops(coll, drops), 0));
	cr_log_info("stale waits ended at a switch: %llu",
		    (unsigned long long)drops[CGSNAP_DROP_STALE_WAIT]);
}
