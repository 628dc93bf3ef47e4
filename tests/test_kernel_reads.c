// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The system tick's readings against cgroupfs: idle cgroups keep their CPU
 * usage exactly, parents of many busy cgroups are read first; and cgsnap
 * stat end to end.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
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
#include "memiter.h"
#include "names.h"

/* idle cgroups keep their readings, as cgsnap run's default does, but with
 * their memory due every second (10 s by default); CPU usage from cgroupfs,
 * as where the kernel's charges are not whole */
static void setup_idle_reads(void)
{
	idle_read_ns = 1000000000LL;
	cpu_from_cgroupfs = true;
	reopen();
	idle_read_ns = 0;
	cpu_from_cgroupfs = false;
}

/* idle reads as cgsnap run's default (10 s): a busy cgroup's memory is
 * checked at every tick, and read in full 10-20 s after its first reading
 * (well after these tests' ticks, however loaded the machine) */
static void setup_busy_checks(void)
{
	idle_read_ns = 10000000000LL;
	cpu_from_cgroupfs = true;
	reopen();
	idle_read_ns = 0;
	cpu_from_cgroupfs = false;
}

/* CPU usage from cgroupfs (--cpu-usage-from cgroupfs) */
static void setup_cgroupfs_cpu(void)
{
	cpu_from_cgroupfs = true;
	reopen();
	cpu_from_cgroupfs = false;
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
			 * at its tick: 10 ms at HZ=100). Under emulation a vCPU can go
			 * unrun for tens of ms, which its next tick charges to the task
			 * that held it (29 ms once in a 6.1 guest, CI-run): a run in
			 * progress not counted would be the whole 250 ms. */
			kept = watched(rel[0])->sys_state.last_cpu_ns;
			cr_assert(eq(int, cgroup_cpu_usage(&layout, rel[0], &usage), 0));
			late = (int64_t)(usage - kept) - (now_ns() - t1);
			cr_assert(le(i64, late, getenv("CGSNAP_TEST_EMULATED") ? 100000000 : 20000000),
				  "tick %u: the spinner's usage was %.1f ms behind cpu.stat", ticks,
				  (double)(usage - kept) / 1e6);
		}
	}
	unlink(go);
	cr_assert(testlib_wait_done(fa, 30000) && testlib_wait_done(fb, 30000));
	/* the last runs are counted when their tasks leave the CPU: after the
	 * last of them (CI's sanitizer pass saw a burst's 12 us come after) */
	for (i = 0; i < 4; i++)
		wait_cpu_still(rel[i]);
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
Test(kernel, parents_of_many_busy_cgroups_are_read_first, .init = setup_cgroupfs_cpu)
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


/* how many of this process's open files are @path */
static int fds_open_on(const char *path)
{
	char link[300], target[4096];
	struct dirent *d;
	int n = 0;
	ssize_t len;
	DIR *dir = opendir("/proc/self/fd");

	cr_assert(ne(ptr, dir, NULL));
	while ((d = readdir(dir))) {
		snprintf(link, sizeof(link), "/proc/self/fd/%s", d->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += !strcmp(target, path);
	}
	closedir(dir);
	return n;
}

/*
 * A busy cgroup's memory usage is read every tick from its file kept open
 * (pread at offset 0, no open and close): one file, read afresh, and closed
 * when the cgroup goes. 4 MiB touched of a 1 GiB budget show at the next
 * tick from that file alone, the working set moving with the usage; 64 MiB
 * make it read its memory files in full at once.
 */
/* the workload in @rel touches @mb MiB more and keeps them; then a runq and
 * a system tick */
static void alloc_then_tick(const char *rel, const char *extra, unsigned int mb)
{
	char cmd[64];
	char *const argv[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	int fa;

	snprintf(cmd, sizeof(cmd), "exec $0 --alloc-mb %u", mb);
	testlib_spawn_ex(rel, extra, argv, &fa);
	cr_assert(testlib_wait_done(fa, 30000), "the allocation of %u MiB did not finish", mb);
	close(fa);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
}

/*
 * Cgroup "cgsnap-test-PID-@name", with a 1 GiB memory limit (and on a
 * hybrid host its v1 memory twin, its procs file into @extra), watched, two
 * sleepers in it (fd *@fd), and the collector started and ticked three
 * times, runq and system, 250 ms apart: busy, its usage checked each tick.
 * Its usage file's path goes to @file.
 */
static const char *busy_memory_cgroup(const char *name, char **extra, int *fd, char *file,
				      size_t len)
{
	char oom_file[256], cmd[160];
	char *const argv[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	const char *rel, *procs;
	uint64_t id;
	int i;

	rel = testlib_cgroup(name, &id);
	procs = testlib_memory_limit(rel, 1ULL << 30, oom_file, sizeof(oom_file));
	*extra = procs ? strdup(procs) : NULL;	/* a static buffer */
	snprintf(file, len, "%s/%s/%s", cgroup_memory_root(&layout), rel,
		 layout.memory[0] ? "memory.usage_in_bytes" : "memory.current");
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	snprintf(cmd, sizeof(cmd), "exec $0 --sleepers 2 --sleep-us 20000 --duration-ms 60000");
	testlib_spawn_ex(rel, *extra, argv, fd);
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	for (i = 0; i < 3; i++) {
		usleep(250000);
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
		cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	}
	return rel;
}

Test(kernel, memory_usage_is_read_from_a_file_kept_open, .init = setup_busy_checks)
{
	char file[4096], dir[4096];
	uint64_t r0[COLL_READING_MAX], r1[COLL_READING_MAX];
	const char *rel;
	int64_t before, usage, ws;
	char *extra;
	int fd, i;

	/* busy all along: its usage is checked at every system tick */
	rel = busy_memory_cgroup("kept", &extra, &fd, file, sizeof(file));
	cr_assert(eq(int, fds_open_on(file), 1), "%s is not kept open, once", file);
	/* 4 MiB, less than 1/64 of its 1 GiB: the usage alone, the working set
	 * with it */
	before = watched(rel)->sys.mem.usage_bytes;
	ws = watched(rel)->sys.mem.working_set_bytes;
	collector__readings(coll, r0);
	alloc_then_tick(rel, extra, 4);
	collector__readings(coll, r1);
	cr_assert(eq(int, cgroup_memory_usage(&layout, rel, &usage), 0));
	cr_log_info("4 MiB: usage %.2f -> %.2f MiB (the kernel: %.2f), working set %.2f -> %.2f; "
		    "%llu moved, %llu read", before / 1048576.0,
		    watched(rel)->sys.mem.usage_bytes / 1048576.0, usage / 1048576.0,
		    ws / 1048576.0, watched(rel)->sys.mem.working_set_bytes / 1048576.0,
		    (unsigned long long)(r1[COLL_MEM_MOVED] - r0[COLL_MEM_MOVED]),
		    (unsigned long long)(r1[COLL_MEM_READ] - r0[COLL_MEM_READ]));
	cr_assert(eq(u64, r1[COLL_MEM_MOVED] - r0[COLL_MEM_MOVED], 1), "not taken alone");
	cr_assert(eq(u64, r1[COLL_MEM_READ] - r0[COLL_MEM_READ], 0));
	cr_assert(le(i64, llabs(watched(rel)->sys.mem.usage_bytes - usage), 256 << 10),
		  "the usage is not the kernel's");
	cr_assert(eq(i64, watched(rel)->sys.mem.working_set_bytes - ws,
		     watched(rel)->sys.mem.usage_bytes - before), "the working set did not follow");
	before = watched(rel)->sys.mem.usage_bytes;
	alloc_then_tick(rel, extra, 64);
	usage = watched(rel)->sys.mem.usage_bytes;
	collector__readings(coll, r0);
	cr_log_info("usage %.1f MiB before, %.1f MiB after 64 MiB touched", before / 1048576.0,
		    usage / 1048576.0);
	cr_assert(ge(i64, usage - before, 60LL << 20), "the kept file read an old usage");
	cr_assert(eq(u64, r0[COLL_MEM_READ] - r1[COLL_MEM_READ], 1),
		  "moved by more than 1/64 of its budget: not read in full");
	cr_assert(eq(int, fds_open_on(file), 1));
	/* gone: its file is closed */
	testlib_kill_cgroup(rel);
	close(fd);
	free(extra);
	snprintf(dir, sizeof(dir), "%s/%s", layout.v2, rel);
	for (i = 0; i < 100 && rmdir(dir); i++)
		usleep(20000);
	cr_assert(eq(int, i < 100, 1), "rmdir %s: %s", dir, strerror(errno));
	for (i = 0; i < 50 && collector__find_path(coll, rel); i++) {
		usleep(20000);
		cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	}
	cr_assert(eq(ptr, (void *)collector__find_path(coll, rel), NULL), "still watched");
	cr_assert(eq(int, fds_open_on(file), 0), "%s still open after its cgroup went", file);
}

/*
 * A cgroup's CPU capacity and memory limit are the smallest up its tree:
 * the ancestors' are read once a system tick and shared by the siblings
 * (one parent, three children: no limits of their own, smaller ones, a
 * smaller quota and a larger memory limit; v1 takes no quota above its
 * parent's).
 */
Test(kernel, limits_are_the_smallest_up_the_tree_for_every_sibling)
{
	static const char *const names[] = { "a", "b", "c" };
	/* each child's own quota (us per 100 ms) and memory limit (MiB); 0: none */
	static const unsigned int quota[] = { 0, 25000, 40000 }, mib[] = { 0, 128, 1024 };
	static const double want_cpus[] = { 0.5, 0.25, 0.4 };
	static const int64_t want_mib[] = { 256, 128, 256 };
	char child[3][256], dir[4096], oom_file[256];
	const char *parent;
	uint64_t id;
	int i;

	parent = testlib_cgroup("limits", &id);
	testlib_cpu_quota(parent, 50000, 100000);
	testlib_memory_limit(parent, 256ULL << 20, oom_file, sizeof(oom_file));
	if (!layout.memory[0]) {	/* pure v2: the controllers for the children */
		snprintf(dir, sizeof(dir), "%s/%s/cgroup.subtree_control", layout.v2, parent);
		int fd = open(dir, O_WRONLY);

		cr_assert(ge(int, fd, 0), "%s: %s", dir, strerror(errno));
		cr_assert(eq(long, (long)write(fd, "+cpu +memory", 12), 12L), "%s: %s", dir,
			  strerror(errno));
		close(fd);
	}
	for (i = 0; i < 3; i++) {
		snprintf(child[i], sizeof(child[i]), "%.200s/%s", parent, names[i]);
		snprintf(dir, sizeof(dir), "%s/%s", layout.v2, child[i]);
		cr_assert(eq(int, mkdir(dir, 0755), 0), "mkdir %s: %s", dir, strerror(errno));
		if (quota[i])
			testlib_cpu_quota(child[i], quota[i], 100000);
		/* on a hybrid host, each has its v1 memory cgroup (unlimited for a) */
		if (mib[i] || layout.memory[0])
			testlib_memory_limit(child[i], mib[i] ? (uint64_t)mib[i] << 20 : 1ULL << 40,
					     oom_file, sizeof(oom_file));
		cr_assert(eq(int, collector__watch(coll, child[i]), 0));
	}
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	for (i = 0; i < 3; i++) {
		const struct watched *w = watched(child[i]);

		cr_log_info("%s: %.2f CPUs, memory limit %lld", names[i], w->sys.cpu_capacity,
			    (long long)w->sys.mem.limit_bytes);
		cr_assert(eq(dbl, w->sys.cpu_capacity, want_cpus[i]), "%s: %.3f CPUs", names[i],
			  w->sys.cpu_capacity);
		cr_assert(w->sys.valid, "%s: no memory reading", names[i]);
		cr_assert(eq(i64, w->sys.mem.limit_bytes, want_mib[i] << 20), "%s: limit %lld",
			  names[i], (long long)w->sys.mem.limit_bytes);
	}
}

/* memory usage through the kernel's cgroup iterator (memiter.h), idle reads as
 * setup_busy_checks() */
static void setup_memiter(void)
{
	idle_read_ns = 10000000000LL;
	with_memiter = true;
	reopen();
	idle_read_ns = 0;
	with_memiter = false;
}

/*
 * With the memory iterator, a busy cgroup's usage is the kernel's page
 * counter as its usage file shows it, read for every cgroup at once: its
 * checks open no file and keep none open, a small move is taken alone, a
 * large one still reads the memory files in full.
 */
Test(kernel, memory_usage_comes_from_the_kernels_iterator, .init = setup_memiter)
{
	char file[4096];
	uint64_t kid, r0[COLL_READING_MAX], r1[COLL_READING_MAX];
	const char *rel, *root = cgroup_memory_root(&layout);
	int64_t before, usage, it;
	char *extra;
	int fd;

	rel = busy_memory_cgroup("iter", &extra, &fd, file, sizeof(file));
	cr_assert(eq(int, cgroup_path_to_id(root, rel, &kid), 0));
	/* the same counter as the file: apart by what moved between the reads */
	cr_assert(eq(int, memiter__read(memiter), 0));
	cr_assert(eq(int, memiter__usage(memiter, kid, &it), 0), "no usage of %s", rel);
	cr_assert(eq(int, cgroup_memory_usage(&layout, rel, &usage), 0));
	cr_log_info("%s: %.3f MiB from the iterator (%zu cgroups), %.3f MiB in its file", rel,
		    it / 1048576.0, memiter__count(memiter), usage / 1048576.0);
	cr_assert(le(i64, llabs(it - usage), 256 << 10));
	cr_assert(eq(int, fds_open_on(file), 0), "%s kept open: the iterator has it", file);
	/* 4 MiB: taken alone, from the kernel */
	before = watched(rel)->sys.mem.usage_bytes;
	collector__readings(coll, r0);
	alloc_then_tick(rel, extra, 4);
	collector__readings(coll, r1);
	cr_assert(eq(int, cgroup_memory_usage(&layout, rel, &usage), 0));
	cr_log_info("4 MiB: usage %.2f -> %.2f MiB (its file: %.2f); %llu from the kernel",
		    before / 1048576.0, watched(rel)->sys.mem.usage_bytes / 1048576.0,
		    usage / 1048576.0,
		    (unsigned long long)(r1[COLL_MEM_KERNEL] - r0[COLL_MEM_KERNEL]));
	cr_assert(eq(u64, r1[COLL_MEM_KERNEL] - r0[COLL_MEM_KERNEL], 1));
	cr_assert(eq(u64, r1[COLL_MEM_MOVED] - r0[COLL_MEM_MOVED], 1), "not taken alone");
	cr_assert(ge(i64, watched(rel)->sys.mem.usage_bytes - before, 3LL << 20));
	cr_assert(le(i64, llabs(watched(rel)->sys.mem.usage_bytes - usage), 256 << 10),
		  "the usage is not the kernel's");
	/* 64 MiB, more than 1/64 of its budget: its files read in full */
	alloc_then_tick(rel, extra, 64);
	collector__readings(coll, r0);
	cr_assert(eq(u64, r0[COLL_MEM_READ] - r1[COLL_MEM_READ], 1), "not read in full");
	cr_assert(ge(i64, watched(rel)->sys.mem.usage_bytes - before, 60LL << 20));
	testlib_kill_cgroup(rel);
	close(fd);
	free(extra);
}
