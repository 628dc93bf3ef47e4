// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap's measurements checked against the kernel's own accounting, with
 * real workloads in real cgroups: schedstat for run-queue waits, the memory
 * cgroup's oom_kill count for OOM kills.
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

#include "testlib.h"
#include "cgsnap.skel.h"
#include "collector.h"
#include "loader.h"
#include "names.h"

static struct cgsnap_bpf *skel;
static struct collector *coll;
static struct cgroup_layout layout;
static char big_file[64];
static int64_t idle_read_ns;	/* collector_opts.idle_read_ns of the next setup() */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* the suite's init; a test's own .init runs after it (Criterion runs both) */
static void setup(void)
{
	struct loader_opts lo = {};
	struct collector_opts co = {};
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
	coll = collector__new(&co);
	cr_assert(ne(ptr, coll, NULL));
}

/* the same with the wait source of kernels without sched_info: stamps of
 * cgsnap's own at wakeup and preemption */
/* a test's .init of its own: start over with its options (the suite's
 * skeleton and collector would otherwise stay loaded, and leak) */
static void reopen(void)
{
	collector__free(coll);
	loader_close(skel);
	coll = NULL;
	skel = NULL;
	setup();
}

static void setup_own_stamps(void)
{
	setenv("CGSNAP_OWN_STAMPS", "1", 1);
	reopen();
	unsetenv("CGSNAP_OWN_STAMPS");
	cr_assert(not(skel->rodata->targ_sched_info));
	cr_assert(ge(int, bpf_program__fd(skel->progs.sched_wakeup), 0));
}

/* waits read from the kernel's sched_info: its very figures, so that the
 * sums compare as closely as the counts, emulated or not */
static bool kernel_waits(void)
{
	return skel->rodata->targ_sched_info;
}

static void teardown(void)
{
	testlib_cleanup();
	collector__free(coll);
	loader_close(skel);
	if (big_file[0])
		unlink(big_file);
}

/* run the workload @args in cgroup @rel until it reports done */
static pid_t run_workload(const char *rel, const char *extra_procs, const char *args)
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

static const struct watched *watched(const char *rel)
{
	const struct watched *w = collector__find_path(coll, rel);

	cr_assert(ne(ptr, (void *)w, NULL), "%s is not watched", rel);
	return w;
}

static double rel_diff(double a, double b)
{
	return fabs(a - b) / b;
}

TestSuite(kernel, .init = setup, .fini = teardown, .timeout = 120);

/*
 * What to look at when a count disagrees: the kernel side's drop counters,
 * and the waits of @id's slot CPU by CPU, in @buf.
 */
static const char *diagnosis(uint64_t id, char *buf, size_t len)
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
static void wait_off_cpu(uint64_t id)
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
static void compare_schedstat(const char *rel, pid_t pid, double sum_tolerance)
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
	cr_log_info("%s: cgsnap %llu waits, %.3f ms; schedstat %llu timeslices, %.3f ms (ratio %.3f)",
		    rel, (unsigned long long)t->count, t->sum_ns / 1e6,
		    (unsigned long long)slices, delay / 1e6, (double)t->sum_ns / delay);
	cr_log_info("%s", diagnosis(watched(rel)->id, why, sizeof(why)));
	cr_assert(gt(u64, slices, 1000), "too few events to compare");
	cr_assert(le(dbl, rel_diff(t->count, slices), 0.01),
		  "wait count %llu vs schedstat %llu: more than 1%% apart (%s)",
		  (unsigned long long)t->count, (unsigned long long)slices,
		  diagnosis(watched(rel)->id, why, sizeof(why)));
	/*
	 * The main thread's schedstat also holds its waits from before it moved
	 * into the cgroup (fork, the write to cgroup.procs): cgsnap rightly gave
	 * those to the cgroup it waited in. On a busy machine they come to
	 * milliseconds: the difference may reach them, not beyond.
	 */
	testlib_schedstat_of(pid, pid, &main_delay, &main_slices);
	if (sum_tolerance > 0)
		cr_assert(le(dbl, fabs((double)t->sum_ns - delay),
			     sum_tolerance * delay + main_delay),
			  "wait sum %llu vs schedstat run_delay %llu: more than %.0f%% apart, beyond "
			  "the main thread's %llu (%s)", (unsigned long long)t->sum_ns,
			  (unsigned long long)delay, sum_tolerance * 100,
			  (unsigned long long)main_delay, diagnosis(watched(rel)->id, why, sizeof(why)));
}

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

/* idle cgroups keep their readings, as cgsnap run's default does, but with
 * their memory due every second (10 s by default) */
static void setup_idle_reads(void)
{
	idle_read_ns = 1000000000LL;
	reopen();
	idle_read_ns = 0;
}

/*
 * With idle reads, the system tick reads only the cgroups that ran since
 * their last reading and keeps the others' CPU usage. What it keeps must
 * be the kernel's figure all the same: after a busy, a bursty, a blocked
 * and an empty cgroup, each one's last usage is cpu.stat's (or cpuacct's),
 * to the microsecond, and the blocked and the empty one were not read again.
 */
Test(kernel, idle_cgroups_keep_their_cpu_reading_exactly, .init = setup_idle_reads)
{
	const char *rel[4], *names[4] = { "busy", "bursty", "blocked", "empty" };
	char go[64], cmd_busy[160], cmd_bursty[160];
	char *const busy[] = { "sh", "-c", cmd_busy, (char *)testlib_workload(), NULL };
	char *const bursty[] = { "sh", "-c", cmd_bursty, (char *)testlib_workload(), NULL };
	uint64_t before[COLL_READING_MAX], after[COLL_READING_MAX], id, usage;
	unsigned int ticks = 0, i;
	char *extra[4], oom_file[256];
	const char *procs;
	int64_t mem;
	int64_t t0, now;
	int fa, fb;

	/* each with its own memory cgroup (on a hybrid host, its v1 twin) */
	for (i = 0; i < 4; i++) {
		rel[i] = testlib_cgroup(names[i], &id);
		procs = testlib_memory_limit(rel[i], 1ULL << 30, oom_file, sizeof(oom_file));
		extra[i] = procs ? strdup(procs) : NULL;	/* a static buffer */
		cr_assert(eq(int, collector__watch(coll, rel[i]), 0));
	}
	snprintf(go, sizeof(go), "/run/cgsnap-test-%d.go", getpid());
	unlink(go);
	/* alone on CPU 1 under SCHED_FIFO, the spinner hardly ever leaves it: only
	 * the per-CPU note tells that it runs */
	snprintf(cmd_busy, sizeof(cmd_busy),
		 "exec $0 --spinners 1 --cpu 1 --fifo --duration-ms 3000 --go %s", go);
	snprintf(cmd_bursty, sizeof(cmd_bursty),
		 "exec $0 --sleepers 2 --sleep-us 100000 --duration-ms 3000 --go %s", go);
	testlib_spawn_ex(rel[0], extra[0], busy, &fa);
	testlib_spawn_ex(rel[1], extra[1], bursty, &fb);
	run_workload(rel[2], extra[2], "--duration-ms 0");	/* blocked from the start */
	cr_assert(testlib_wait_line(fa, "ready", 30000) && testlib_wait_line(fb, "ready", 30000));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	collector__readings(coll, before);
	close(open(go, O_WRONLY | O_CREAT, 0600));
	/* the agent's ticks, faster: runq every 100 ms, system every 250 ms */
	for (t0 = now = now_ns(); now - t0 < 2500000000LL; now = now_ns()) {
		usleep(100000);
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		if (now_ns() - t0 >= (int64_t)(ticks + 1) * 250000000) {
			int64_t t1 = now_ns(), late;
			uint64_t kept;

			cr_assert(eq(int, collector__tick_system(coll, t1), 0));
			ticks++;
			/* what it read for the spinner is behind by at most the time since,
			 * and the run time the scheduler had not charged yet (it charges
			 * at its tick: 10 ms at HZ=100) */
			kept = watched(rel[0])->sys_state.last_cpu_ns;
			cr_assert(eq(int, cgroup_cpu_usage(&layout, rel[0], &usage), 0));
			late = (int64_t)(usage - kept) - (now_ns() - t1);
			cr_assert(le(i64, late, 20000000), "tick %u: the spinner's usage was %.1f ms "
				  "behind cpu.stat", ticks, (double)(usage - kept) / 1e6);
		}
	}
	unlink(go);
	cr_assert(testlib_wait_done(fa, 30000) && testlib_wait_done(fb, 30000));
	/* the last runs are counted when their tasks leave the CPU */
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	ticks++;
	collector__readings(coll, after);
	for (i = 0; i < 4; i++) {
		const struct watched *w = watched(rel[i]);

		cr_assert(eq(int, cgroup_cpu_usage(&layout, rel[i], &usage), 0));
		cr_log_info("%s: kept %.3f ms of CPU, cgroupfs says %.3f ms", names[i],
			    (w->sys_state.last_cpu_ns - w->sys_state.first_cpu_ns) / 1e6,
			    (usage - w->sys_state.first_cpu_ns) / 1e6);
		cr_assert(eq(u64, w->sys_state.last_cpu_ns, usage),
			  "%s: the kept CPU usage is not the kernel's", names[i]);
		/* and its memory, kept or read, within a page of the kernel's */
		cr_assert(w->sys.valid, "%s: no memory reading", names[i]);
		cr_assert(eq(int, cgroup_memory_usage(&layout, rel[i], &mem), 0));
		cr_assert(le(i64, llabs(w->sys.mem.usage_bytes - mem), 4096),
			  "%s: memory kept %lld, the kernel says %lld", names[i],
			  (long long)w->sys.mem.usage_bytes, (long long)mem);
	}
	cr_assert(gt(u64, watched(rel[0])->sys_state.last_cpu_ns -
			  watched(rel[0])->sys_state.first_cpu_ns, 1000000000ULL),
		  "the busy cgroup did not spin");
	cr_log_info("%u system ticks: CPU read %llu, kept %llu; memory read %llu, kept %llu, "
		    "checked %llu", ticks,
		    (unsigned long long)(after[COLL_CPU_READ] - before[COLL_CPU_READ]),
		    (unsigned long long)(after[COLL_CPU_KEPT] - before[COLL_CPU_KEPT]),
		    (unsigned long long)(after[COLL_MEM_READ] - before[COLL_MEM_READ]),
		    (unsigned long long)(after[COLL_MEM_KEPT] - before[COLL_MEM_KEPT]),
		    (unsigned long long)(after[COLL_MEM_CHECKED] - before[COLL_MEM_CHECKED]));
	/* the blocked and the empty cgroup: read at the start only */
	cr_assert(ge(u64, after[COLL_CPU_KEPT] - before[COLL_CPU_KEPT], 2 * (ticks - 1)),
		  "idle cgroups were read again");
	/* due every second, their memory usage was read alone and found unchanged */
	cr_assert(ge(u64, after[COLL_MEM_CHECKED] - before[COLL_MEM_CHECKED], 2));
	/* the busy one ran at every tick, and the bursty one woke ten times a second */
	cr_assert(ge(u64, after[COLL_CPU_READ] - before[COLL_CPU_READ], 2 * (ticks - 1)));
	close(fa);
	close(fb);
	for (i = 0; i < 4; i++)
		free(extra[i]);
}

/* one process waking every 20 ms in each of @n new cgroups under @rel */
static int busy_children(const char *rel, unsigned int n, char paths[][128])
{
	char dir[1600], cmd[2048];
	char *const argv[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	unsigned int i;
	int fd;

	snprintf(dir, sizeof(dir), "%s/%s", testlib_v2_root(), rel);
	for (i = 0; i < n; i++) {
		char full[1800];

		snprintf(paths[i], 128, "%s/cg-%u", rel, i);
		snprintf(full, sizeof(full), "%s/cg-%u", dir, i);
		cr_assert(eq(int, mkdir(full, 0755), 0), "mkdir %s: %s", full, strerror(errno));
		cr_assert(eq(int, collector__watch(coll, paths[i]), 0));
	}
	snprintf(cmd, sizeof(cmd), "exec $0 --each-cgroup %s --count %u --sleep-us 20000", dir, n);
	testlib_spawn_ex(rel, NULL, argv, &fd);
	cr_assert(testlib_wait_line(fd, "ready", 30000));
	return fd;
}

/*
 * Reading busy siblings' cpu.stat one after another costs the kernel a walk
 * of their parent's list per read; the system tick reads a parent of many
 * (here 40) busy watched cgroups before them, and again every 32 of them, and
 * not one of a few (3). The figures stay the kernel's: each child's last usage is cpu.stat's,
 * to the microsecond, once its tasks are gone.
 */
Test(kernel, parents_of_many_busy_cgroups_are_read_first)
{
	static char many[40][128], few[3][128];
	uint64_t before[COLL_READING_MAX], after[COLL_READING_MAX], id, usage, used = 0;
	const char *rel_many = testlib_cgroup("many", &id), *rel_few = testlib_cgroup("few", &id);
	unsigned int ticks, i;
	int fm, ff;

	fm = busy_children(rel_many, 40, many);
	ff = busy_children(rel_few, 3, few);
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	collector__readings(coll, before);
	for (ticks = 0; ticks < 3; ticks++) {
		usleep(200000);
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	}
	collector__readings(coll, after);
	cr_log_info("%u system ticks: %llu cpu.stat read, %llu parents read first", ticks,
		    (unsigned long long)(after[COLL_CPU_READ] - before[COLL_CPU_READ]),
		    (unsigned long long)(after[COLL_CPU_FLUSH] - before[COLL_CPU_FLUSH]));
	/* before the 1st and the 33rd of its 40 children, every tick */
	cr_assert(eq(u64, after[COLL_CPU_FLUSH] - before[COLL_CPU_FLUSH], 2 * ticks),
		  "the parent of 40 should be read twice a tick, the parent of 3 never");
	cr_assert(eq(u64, after[COLL_CPU_READ] - before[COLL_CPU_READ], 43 * ticks));
	/* once the tasks are gone, nothing is pending: the last reading is the kernel's */
	testlib_kill_cgroup(rel_many);
	testlib_kill_cgroup(rel_few);
	usleep(100000);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	for (i = 0; i < 43; i++) {
		const char *rel = i < 40 ? many[i] : few[i - 40];
		const struct watched *w = watched(rel);

		cr_assert(eq(int, cgroup_cpu_usage(&layout, rel, &usage), 0));
		cr_assert(eq(u64, w->sys_state.last_cpu_ns, usage),
			  "%s: the CPU usage read is not the kernel's", rel);
		used += usage - w->sys_state.first_cpu_ns;
	}
	cr_assert(gt(u64, used, 0), "the children did not run");
	close(fm);
	close(ff);
}


static void make_big_file(size_t mib)
{
	static char buf[1 << 20];
	int fd;
	size_t i;

	snprintf(big_file, sizeof(big_file), "/var/tmp/cgsnap-test-%d.dat", getpid());
	fd = open(big_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(ge(int, fd, 0));
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < mib; i++)
		cr_assert(eq(sz, (size_t)write(fd, buf, sizeof(buf)), sizeof(buf)));
	fsync(fd);
	/* out of the page cache: the readers' faults charge their own cgroups */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

Test(kernel, memory_pressure_and_oom_kills)
{
	char oom_file[1024], args[256];
	const char *limited, *free_rel, *oom, *procs;
	const struct mem_total *m;
	int status, fd;
	uint64_t id, kernel_kills;
	pid_t pid;

	make_big_file(256);
	limited = testlib_cgroup("limited", &id);
	free_rel = testlib_cgroup("unlimited", &id);
	oom = testlib_cgroup("oom", &id);
	cr_assert(eq(int, collector__watch(coll, limited), 0));
	cr_assert(eq(int, collector__watch(coll, free_rel), 0));
	cr_assert(eq(int, collector__watch(coll, oom), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));

	procs = testlib_memory_limit(limited, 32 << 20, oom_file, sizeof(oom_file));
	snprintf(args, sizeof(args), "--read-file %s --duration-ms 2000", big_file);
	run_workload(limited, procs, args);
	run_workload(free_rel, NULL, args);

	/* past its limit: the kernel OOM-kills it */
	procs = testlib_memory_limit(oom, 32 << 20, oom_file, sizeof(oom_file));
	char *const hog[] = { "sh", "-c", "exec $0 --alloc-mb 512", (char *)testlib_workload(), NULL };
	pid = testlib_spawn_ex(oom, procs, hog, &fd);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	close(fd);
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGKILL),
		  "the hog was not OOM-killed");
	kernel_kills = testlib_oom_kills(oom_file);

	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	m = watched(limited)->mem_total;
	cr_log_info("limited: %llu memcg stalls, %.3f ms, some-time %.3f ms",
		    (unsigned long long)m->count[CGSNAP_RECLAIM_MEMCG], m->sum_ns[1] / 1e6,
		    m->some_ns / 1e6);
	cr_assert(gt(u64, m->count[CGSNAP_RECLAIM_MEMCG], 0), "no memcg reclaim stall seen");
	cr_assert(gt(u64, m->sum_ns[CGSNAP_RECLAIM_MEMCG], 0));
	cr_assert(gt(u64, m->some_ns, 0));
	cr_assert(le(u64, m->some_ns, m->sum_ns[0] + m->sum_ns[1]),
		  "some-time cannot exceed the summed stall time");
	m = watched(free_rel)->mem_total;
	cr_assert(eq(u64, m->count[0] + m->count[1], 0), "the unlimited sibling stalled");
	cr_assert(eq(u64, m->some_ns, 0));
	m = watched(oom)->mem_total;
	cr_assert(ge(u64, kernel_kills, 1));
	cr_assert(eq(u64, m->oom_kills, kernel_kills), "OOM kills: cgsnap %llu, kernel %llu",
		  (unsigned long long)m->oom_kills, (unsigned long long)kernel_kills);
	/* its own limit's doing, not the host's */
	cr_assert(eq(u64, m->oom_kills_memcg, kernel_kills), "memcg OOM kills: %llu of %llu",
		  (unsigned long long)m->oom_kills_memcg, (unsigned long long)m->oom_kills);
}

/*
 * A global OOM kill, caused by the host running out of memory, not by a
 * cgroup's limit: a workload with oom_score_adj 1000 (the killer's first
 * choice) allocates more than the machine has. Only on a small machine:
 * make vmtest runs it in its 2 GiB guests; on a large host it is skipped.
 */
Test(kernel, global_oom_kill_is_told_from_a_memcg_one, .timeout = 300)
{
	char args[96], *const argv[] = { "sh", "-c", args, (char *)testlib_workload(), NULL };
	const struct mem_total *m;
	unsigned long long mem_kib = 0;
	const char *rel;
	char line[256];
	uint64_t id;
	int status;
	pid_t pid;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	cr_assert(ne(ptr, f, NULL));
	while (fgets(line, sizeof(line), f) && sscanf(line, "MemTotal: %llu kB", &mem_kib) != 1)
		;
	fclose(f);
	if (mem_kib > 4ULL << 20)
		cr_skip_test("a real global OOM needs a machine of at most 4 GiB, this one has "
			     "%llu MiB: make vmtest runs this test in its 2 GiB guests",
			     mem_kib >> 10);
	rel = testlib_cgroup("global-oom", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	/* twice the machine's memory: no cgroup limit in the way, only the host's */
	snprintf(args, sizeof(args), "echo 1000 >/proc/self/oom_score_adj; exec $0 --alloc-mb %llu",
		 mem_kib >> 9);
	pid = testlib_spawn(rel, argv);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGKILL),
		  "the OOM killer did not choose our workload");
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	m = watched(rel)->mem_total;
	cr_assert(eq(u64, m->oom_kills, 1));
	cr_assert(eq(u64, m->oom_kills_memcg, 0), "a global OOM kill counted as the cgroup's own");
}

Test(kernel, stat_json_end_to_end)
{
	char cmd[1024], out[1 << 16], go[64], spin_cmd[160];
	char *const spin[] = { "sh", "-c", spin_cmd, (char *)testlib_workload(), NULL };
	json_error_t jerr;
	json_t *root, *cg;
	const char *rel;
	uint64_t id;
	double ratio;
	size_t n;
	FILE *p;
	int fd;

	rel = testlib_cgroup("stat", &id);
	/*
	 * They outlast cgsnap stat's start-up on a loaded machine (teardown
	 * kills them), and spin before it measures: on a busy machine their
	 * start-up alone can take a good part of the 1.5 s.
	 */
	snprintf(go, sizeof(go), "/run/cgsnap-test-%d.go", getpid());
	unlink(go);
	snprintf(spin_cmd, sizeof(spin_cmd),
		 "exec $0 --spinners 3 --cpu 0 --fifo --duration-ms 30000 --go %s", go);
	testlib_spawn_ex(rel, NULL, spin, &fd);
	cr_assert(testlib_wait_line(fd, "ready", 30000), "the spinners did not start");
	close(open(go, O_WRONLY | O_CREAT, 0600));
	usleep(200000);
	unlink(go);
	/* the absolute cgroupfs path works as well as the relative one */
	snprintf(cmd, sizeof(cmd), "%s stat --cgroup %s/%s --duration 1500ms --json",
		 getenv("CGSNAP_BIN"), layout.v2, rel);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0), "cgsnap stat failed: %s", out);
	close(fd);
	root = json_loads(out, 0, &jerr);
	cr_assert(ne(ptr, root, NULL), "not JSON: %s", jerr.text);
	cr_assert(eq(sz, json_array_size(json_object_get(root, "cgroups")), 1));
	cg = json_array_get(json_object_get(root, "cgroups"), 0);
	cr_assert(eq(i64, json_integer_value(json_object_get(cg, "id")), (json_int_t)id));
	cr_assert(gt(i64, json_integer_value(json_object_get(json_object_get(cg, "runq"), "count")), 100));
	/* SCHED_FIFO on CPU 0: whatever else runs, they take turns there and hold it but
	 * for the kernel's RT throttling (5%): about 0.475 of the 2 CPUs */
	ratio = json_real_value(json_object_get(json_object_get(cg, "cpu"), "used_ratio"));
	cr_assert(ge(dbl, ratio, 0.4), "3 spinners on CPU 0 used %.3f of 2 CPUs", ratio);
	cr_assert(le(dbl, ratio, 0.55), "3 spinners on CPU 0 used %.3f of 2 CPUs", ratio);
	cr_assert(ne(ptr, json_object_get(json_object_get(root, "dropped"), "slots_full"), NULL));
	json_decref(root);
}

Test(kernel, stat_errors_are_clear)
{
	char cmd[512], out[4096];
	size_t n;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s stat --cgroup no-such-cgroup-%d -d 1s 2>&1",
		 getenv("CGSNAP_BIN"), getpid());
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	cr_assert(eq(int, WEXITSTATUS(status), 1));
	cr_assert(ne(ptr, strstr(out, "no such cgroup 'no-such-cgroup-"), NULL), "got: %s", out);
	snprintf(cmd, sizeof(cmd), "%s stat -d 0s 2>&1", getenv("CGSNAP_BIN"));
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, WEXITSTATUS(pclose(p)), 2));
	cr_assert(ne(ptr, strstr(out, "--duration must be greater than 0"), NULL), "got: %s", out);
}

static int gone_events;

static void count_gone(const struct collector_event *ev, void *ctx)
{
	if (ev->type == COLLECTOR_GONE)
		gone_events++;
}

Test(kernel, vanished_cgroup_is_reported_freed_and_its_slot_recycled)
{
	char *const sleeper[] = { "sh", "-c", "for i in $(seq 20); do sleep 0.001; done", NULL };
	struct collector_opts co = {};
	char dir[1200];
	__u32 slot;
	__u64 owner = 1;
	uint64_t id;
	const char *rel;
	pid_t pid;
	int i;

	/* a collector of our own, to see its events */
	collector__free(coll);
	loader_map_fds(skel, &co.maps);
	co.layout = &layout;
	co.on_event = count_gone;
	coll = collector__new(&co);
	cr_assert(ne(ptr, coll, NULL));

	rel = testlib_cgroup("doomed", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	pid = testlib_spawn(rel, sleeper);
	waitpid(pid, NULL, 0);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(ne(ptr, (void *)collector__find_id(coll, id), NULL));
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &id, &slot), 0),
		  "the cgroup got a slot");

	snprintf(dir, sizeof(dir), "%s/%s", layout.v2, rel);
	for (i = 0; rmdir(dir) && i < 100; i++)
		usleep(10000);
	cr_assert(eq(int, access(dir, F_OK), -1), "cannot remove %s", dir);
	/* the next scan notices: ticks keep working */
	cr_assert(eq(int, collector__scan(coll), 0));
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	cr_assert(eq(int, gone_events, 1));
	cr_assert(eq(ptr, (void *)collector__find_id(coll, id), NULL));
	cr_assert(eq(ptr, (void *)collector__find_path(coll, rel), NULL));
	cr_assert(eq(u32, collector__nr_watched(coll), 0));
	/*
	 * Its id is unmapped and its slot back in the free queue, with other
	 * vanished cgroups' slots: on a machine where cgroups come and go, a
	 * new cgroup's first wait may already have taken it (then its owner is
	 * that cgroup, not ours).
	 */
	cr_assert(ne(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &id, &slot), 0));
	__u32 freed;
	bool queued = false;

	while (!bpf_map_lookup_and_delete_elem(bpf_map__fd(skel->maps.cg_free), NULL, &freed))
		queued |= freed == slot;
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_owner), &slot, &owner), 0));
	if (queued)
		cr_assert(eq(u64, owner, 0), "a queued slot has an owner");
	else
		cr_assert(ne(u64, owner, 0), "slot %u is neither free nor reused", slot);
	cr_assert(ne(u64, owner, id));
}

/*
 * Cgroups that live 100-300 ms, several created and removed between two
 * ticks (as containers and jobs do, and faster than any scan): each is
 * watched from the kernel's cgroup_mkdir, its waits are counted up to its
 * cgroup_rmdir, and it is kept as removed, its count within 5% of the
 * schedstat of its threads read just before they were killed.
 */
Test(kernel, short_lived_cgroups_are_seen_and_counted, .timeout = 240)
{
	enum { N = 30 };
	const char *parent;
	char rel[N][160], full[1700], args[160];
	uint64_t ids[N], delay, slices[N], total = 0;
	const struct watched *w;
	unsigned int seen = 0;
	char why[512];
	pid_t pid;
	int i, j;

	parent = testlib_cgroup("churn", &ids[0]);
	cr_assert(eq(int, collector__watch_all(coll, parent), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	srand(getpid());
	for (i = 0; i < N; i++) {
		snprintf(rel[i], sizeof(rel[i]), "%s/job-%d", parent, i);
		snprintf(full, sizeof(full), "%s/%s", testlib_v2_root(), rel[i]);
		cr_assert(eq(int, mkdir(full, 0755), 0), "mkdir %s: %s", full, strerror(errno));
		cr_assert(eq(int, cgroup_path_to_id(testlib_v2_root(), rel[i], &ids[i]), 0));
		snprintf(args, sizeof(args), "--spinners 2 --sleepers 2 --sleep-us 500 "
			 "--duration-ms %d", 100 + rand() % 200);
		pid = run_workload(rel[i], NULL, args);
		testlib_schedstat(pid, &delay, &slices[i]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* the exited task leaves its cgroup asynchronously */
		for (j = 0; rmdir(full) && errno == EBUSY && j < 500; j++)
			usleep(2000);
		cr_assert(eq(int, access(full, F_OK), -1), "%s was not removed", full);
		/* a tick every fourth cgroup: three live and die unseen by any scan */
		if (i % 4 == 3)
			cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	}
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	for (i = 0; i < N; i++) {
		for (w = collector__first_removed(coll); w && w->id != ids[i];
		     w = collector__next((struct watched *)w))
			;
		cr_assert(ne(ptr, (void *)w, NULL), "%s (id %llu) is not listed as removed", rel[i],
			  (unsigned long long)ids[i]);
		cr_assert(w->removed);
		cr_log_info("%s: cgsnap %llu waits, schedstat %llu", rel[i],
			    (unsigned long long)w->runq_total->count, (unsigned long long)slices[i]);
		/* within 5%, or 10 waits for a cgroup a busy machine let run little
		 * (the kill's wake-up after schedstat was read counts too) */
		cr_assert(le(dbl, fabs((double)w->runq_total->count - slices[i]),
			     fmax(0.05 * slices[i], 10)),
			  "%s: %llu waits vs schedstat %llu: more than 5%% apart (%s)", rel[i],
			  (unsigned long long)w->runq_total->count, (unsigned long long)slices[i],
			  diagnosis(ids[i], why, sizeof(why)));
		total += slices[i];
		seen++;
	}
	cr_assert(eq(u32, seen, N));
	cr_assert(gt(u64, total, N * 100), "too few events to compare: %llu waits in all",
		  (unsigned long long)total);
	/* the parent, watched all along, holds their waits too */
	cr_assert(ge(u64, watched(parent)->runq_total->count, N * 100));
}
