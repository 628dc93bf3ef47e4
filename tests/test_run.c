// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap run end to end, the agent's life: verdicts under contention, a
 * clean exit, pins that survive kill -9, --record, cgroups that come and go,
 * cgsnap status, memory given back.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "clock.h"
#include "accum.h"
#include "snapshotter.h"
#include "runlib.h"
#include "testlib.h"

/* make vmtest runs this one under software emulation: curl alone takes a second there */
Test(run, contention_turns_overloaded_then_idle_sibling_stays_idle, .timeout = 240)
{
	char args[512];
	const char *busy, *quiet;
	uint64_t id;
	json_t *st;

	busy = testlib_cgroup("busy", &id);
	quiet = testlib_cgroup("quiet", &id);
	/*
	 * Where the cpu controller is enabled (pure v2), the busy cgroup as a
	 * whole weighs what one root task does: the test's own curl would hold
	 * it below 80% of the CPUs. It is the main workload, and the agent, in
	 * a cgroup of its own, weighs as much (as an operator would run it).
	 */
	testlib_cpu_weight(busy, 10000);
	snprintf(daemon_cgroup, sizeof(daemon_cgroup), "%s/%s", testlib_v2_root(),
		 testlib_cgroup("agent", &id));
	testlib_cpu_weight(daemon_cgroup + strlen(testlib_v2_root()) + 1, 10000);
	/*
	 * 50 ms of p99 wait needs far more contention than 2 CPUs give a test.
	 * What 8 hogs get of the CPUs depends on what else runs: under CI's
	 * foreign load (stress-ng and a fork storm in other sessions, each
	 * session an autogroup weighing as one task) they got 23% in one run,
	 * so the CPU threshold is 10%: still far above the quiet sibling's 0.
	 * "Current" is the last 2 s; under emulation (make vmtest) the agent's
	 * system tick, starved by 8 hogs, can be that late: 10 s there.
	 */
	snprintf(args, sizeof(args), "--cgroup %s --cgroup %s --max-runq-delay 5ms "
		 "--max-used-cpu-ratio 0.1 --max-snapshot-age %s", busy, quiet,
		 getenv("CGSNAP_TEST_EMULATED") ? "10s" : "2s");
	start_daemon(args);
	/* the load ends when the verdict was seen, not after a fixed time: an
	 * emulated guest (make vmtest) takes seconds to start stress-ng */
	char *const stress[] = { "stress-ng", "--cpu", "8", "--timeout", "100s", "--quiet", NULL };
	pid_t spid = testlib_spawn(busy, stress);

	st = wait_status(busy, cpu_and_runq_overloaded, 60);
	cr_assert(cpu_and_runq_overloaded(st), "busy never overloaded (cpu and runq): %s",
		  json_dumps(st, 0));
	cr_assert(not(is_idle(st)));
	json_decref(st);
	st = status_of(quiet);
	cr_assert(is_idle(st), "the quiet sibling is overloaded: %s", json_dumps(st, 0));
	json_decref(st);

	testlib_kill_cgroup(busy);
	waitpid(spid, NULL, 0);
	st = wait_status(busy, is_idle, 30);
	cr_assert(is_idle(st), "busy did not turn idle after the load stopped: %s",
		  json_dumps(st, 0));
	json_decref(st);
	st = status_of(quiet);
	cr_assert(is_idle(st));
	json_decref(st);
}

/* how many BPF programs named sched_switch are loaded */
static int nr_switch_progs(void)
{
	char buf[64];
	int n = 0;
	FILE *p = popen("bpftool prog show | grep -c ' name sched_switch '", "r");

	if (fgets(buf, sizeof(buf), p))
		n = atoi(buf);
	pclose(p);
	return n;
}

/* programs are freed asynchronously once their last link closes: wait for the
 * count to reach @want, or to stop falling, for up to 5 s */
static int settled_progs(int want)
{
	int n = nr_switch_progs(), i;

	for (i = 0; i < 50 && n != want; i++) {
		usleep(100000);
		n = nr_switch_progs();
	}
	return n;
}

Test(run, sigterm_leaves_nothing_behind)
{
	char args[256];
	const char *rel;
	uint64_t id;
	int before = settled_progs(0), during;

	rel = testlib_cgroup("clean", &id);
	snprintf(args, sizeof(args), "--cgroup %s", rel);
	start_daemon(args);
	during = nr_switch_progs();
	cr_assert(eq(int, during, before + 1));
	kill(daemon_pid, SIGTERM);
	cr_assert(eq(int, waitpid(daemon_pid, NULL, 0), daemon_pid));
	daemon_pid = 0;
	cr_assert(eq(int, settled_progs(before), before), "programs left attached after SIGTERM");
	cr_assert(eq(int, run_cmd("ls /sys/fs/bpf 2>/dev/null | grep -q cgsnap-test"), 1),
		  "pins left in /sys/fs/bpf");
}

/* cgsnap_runqueue_wait_seconds_count of the cgroup with id @id, -1 if absent */
static long long runq_total(uint64_t id)
{
	static char body[1 << 20];
	char needle[96], *p;

	if (http("GET", "/metrics", NULL, body, sizeof(body)) != 200)
		return -1;
	snprintf(needle, sizeof(needle), "id=\"%llu\"}", (unsigned long long)id);
	for (p = strstr(body, "cgsnap_runqueue_wait_seconds_count{"); p;
	     p = strstr(p + 1, "cgsnap_runqueue_wait_seconds_count{")) {
		char *eol = strchr(p, '\n'), *hit = strstr(p, needle);

		if (hit && (!eol || hit < eol))
			return atoll(hit + strlen(needle));
	}
	return -1;
}

Test(run, pins_show_named_fields_and_survive_kill_9)
{
	char args[512], cmd[512], body[1 << 16];
	const char *rel;
	uint64_t id;
	int before = settled_progs(0);
	long long total;
	json_t *st;

	rel = testlib_cgroup("pinned", &id);
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/cgsnap-test-%d", getpid());
	snprintf(args, sizeof(args), "--cgroup %s --pin %s", rel, pin_dir);
	start_daemon(args);
	char *const sleeper[] = { "sh", "-c", "for i in $(seq 100); do sleep 0.01; done", NULL };

	waitpid(testlib_spawn(rel, sleeper), NULL, 0);
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/maps/cg_runq | grep -q "
		 "'\"holder_count\"'", pin_dir);
	cr_assert(eq(int, run_cmd(cmd), 0), "bpftool shows no named fields");
	cr_assert(eq(int, nr_switch_progs(), before + 1));
	/* a second agent on the same pins is refused while the first runs */
	snprintf(cmd, sizeof(cmd), "%s run --cgroup %s --pin %s --listen 127.0.0.1:%d 2>&1 | "
		 "grep -q 'is in use by another cgsnap'", getenv("CGSNAP_BIN"), rel, pin_dir,
		 free_port());
	cr_assert(eq(int, run_cmd(cmd), 0), "a second cgsnap was let onto the same pins");

	usleep(1200000);	/* a tick: the totals hold the waits */
	total = runq_total(id);
	cr_assert(ge(i64, total, 100), "before kill -9: %lld waits", total);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = 0;
	cr_assert(eq(int, nr_switch_progs(), before + 1), "kill -9: the pinned links keep it");
	/* reproducer: the restart's baseline discarded what the maps held */
	waitpid(testlib_spawn(rel, sleeper), NULL, 0);	/* counted while no agent runs */
	start_daemon(args);
	cr_assert(ge(i64, runq_total(id), total + 100), "the totals went back after the restart: "
		  "%lld, %lld before", runq_total(id), total);
	cr_assert(eq(int, nr_switch_progs(), before + 1), "restart attached a second copy");
	snprintf(cmd, sizeof(cmd), "grep -q 'reusing the pinned maps and attached programs' %s",
		 logfile);
	cr_assert(eq(int, run_cmd(cmd), 0), "the restart did not say it reused the pins");
	/* the reused maps still count: the new waits show up in the runq samples */
	waitpid(testlib_spawn(rel, sleeper), NULL, 0);
	usleep(1200000);
	snprintf(cmd, sizeof(cmd), "/v1/cgroups/%s/samples?kind=runq&duration=5s", rel);
	st = get_json(cmd);
	json_t *v;
	size_t i;
	json_int_t waits = 0;

	json_array_foreach(json_object_get(st, "samples"), i, v)
		waits += json_integer_value(json_object_get(v, "count"));
	cr_assert(ge(i64, waits, 100), "after the restart only %lld waits were counted",
		  (long long)waits);
	json_decref(st);
	cr_assert(eq(int, http("GET", "/metrics", NULL, body, sizeof(body)), 200));
	cr_assert(ne(ptr, strstr(body, "cgsnap_runqueue_wait_seconds_count"), NULL));
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = 0;
	snprintf(cmd, sizeof(cmd), "test -e %s/links/sched_switch", pin_dir);
	cr_assert(eq(int, run_cmd(cmd), 0), "--pin: SIGTERM keeps the pins");
}

Test(run, record_writes_what_replay_reads)
{
	char args[512], *rec = rec_file, cmd[512], out[1 << 16];
	const char *rel;
	uint64_t id;
	json_t *r, *hist;
	size_t n;
	FILE *p;

	rel = testlib_cgroup("record", &id);
	snprintf(rec_file, sizeof(rec_file), "/tmp/cgsnap-test-%d.jsonl", getpid());
	snprintf(args, sizeof(args), "--cgroup %s --record %s", rel, rec);
	start_daemon(args);
	usleep(2600000);
	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	daemon_pid = 0;
	snprintf(cmd, sizeof(cmd), "%s replay --snapshot-history 1m %s", getenv("CGSNAP_BIN"), rec);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0), "cgsnap replay rejected the recording: %s", out);
	r = json_loads(out, 0, NULL);
	snprintf(cmd, sizeof(cmd), "/%s", rel);
	hist = json_object_get(json_object_get(json_object_get(json_object_get(r, "cgroups"), cmd),
					       "history"), "runq");
	/* 2.6 s at 500 ms: the first snapshot at start, then one per interval */
	cr_assert(ge(sz, json_array_size(hist), 5), "%zu runq snapshots recorded",
		  json_array_size(hist));
	cr_assert(ge(sz, json_array_size(json_object_get(json_object_get(json_object_get(
		  json_object_get(r, "cgroups"), cmd), "history"), "cpu")), 2));
	json_decref(r);
}

Test(run, all_follows_creation_and_removal)
{
	char args[800], child[1400], path[600];
	const char *parent;
	uint64_t id;
	int i;

	parent = testlib_cgroup("tree", &id);
	snprintf(args, sizeof(args), "--all %s", parent);
	start_daemon(args);
	snprintf(path, sizeof(path), "/%s/late", parent);
	cr_assert(not(listed(path)));
	snprintf(child, sizeof(child), "%s/%s/late", testlib_v2_root(), parent);
	cr_assert(eq(int, mkdir(child, 0755), 0));
	for (i = 0; i < 40 && !listed(path); i++)
		usleep(250000);
	cr_assert(listed(path), "a cgroup created under the --all root was not picked up");
	cr_assert(eq(int, rmdir(child), 0));
	for (i = 0; i < 40 && listed(path); i++)
		usleep(250000);
	cr_assert(not(listed(path)), "a removed cgroup is still listed");
	snprintf(args, sizeof(args), "grep -q 'cgroup %s removed: final verdict .*run-queue waits' %s",
		 path, logfile);
	cr_assert(eq(int, run_cmd(args), 0), "the removal was not logged");
}

Test(run, status_command_and_many_clients)
{
	char args[256], cmd[1024], out[8192];
	const char *rel;
	uint64_t id;
	size_t n;
	FILE *p;

	rel = testlib_cgroup("status", &id);
	snprintf(args, sizeof(args), "--cgroup %s", rel);
	start_daemon(args);
	snprintf(cmd, sizeof(cmd), "%s status --server 127.0.0.1:%d", getenv("CGSNAP_BIN"), port);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0), "cgsnap status failed: %s", out);
	cr_assert(ne(ptr, strstr(out, "VERDICT"), NULL), "%s", out);
	cr_assert(ne(ptr, strstr(out, rel), NULL), "%s", out);
	cr_assert(ne(ptr, strstr(out, "idle"), NULL), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s status --server 127.0.0.1:%d --cgroup %llu --json",
		 getenv("CGSNAP_BIN"), port, (unsigned long long)id);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, pclose(p), 0));
	json_t *st = json_loads(out, 0, NULL);

	cr_assert(ne(ptr, st, NULL), "not JSON: %s", out);
	cr_assert(eq(i64, json_integer_value(json_object_get(st, "id")), (json_int_t)id));
	json_decref(st);

	/* 400 requests, 16 at a time, on every endpoint: all answered */
	snprintf(cmd, sizeof(cmd), "seq 400 | xargs -P 16 -I{} sh -c 'case $(({} %% 4)) in "
		 "0) u=/metrics;; 1) u=/v1/cgroups/%s/status;; 2) u=/v1/cgroups;; "
		 "3) u=/v1/cgroups/%s/samples?kind=runq;; esac; "
		 "curl -s -o /dev/null -w \"%%{http_code}\\n\" -m 10 http://127.0.0.1:%d$u' | "
		 "sort | uniq -c", rel, rel, port);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	cr_assert(ne(ptr, strstr(out, "400 200"), NULL), "not every request got 200: %s", out);
	expect("GET", "/healthz", NULL, 200, "\"ok\"");
}

/* reproducer: on a full filesystem --record lost data silently, or cut a
 * line in the middle so that replay failed on it */
Test(run, record_on_a_full_disk_stops_at_a_line_boundary)
{
	char args[512], cmd[1024], body[256];
	const char *rel;
	uint64_t id;
	int status, i;

	snprintf(tiny_fs, sizeof(tiny_fs), "/tmp/cgsnap-test-%d-tiny", getpid());
	cr_assert(eq(int, mkdir(tiny_fs, 0755), 0));
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=12k tmpfs %s", tiny_fs);
	cr_assert(eq(int, run_cmd(cmd), 0));
	rel = testlib_cgroup("rec", &id);
	snprintf(args, sizeof(args), "--all %s --record %s/rec.jsonl --runq-interval 50ms", rel,
		 tiny_fs);
	start_daemon(args);
	snprintf(cmd, sizeof(cmd), "grep -q 'cannot write to %s/rec.jsonl; recording stopped at "
		 "a line boundary: No space left on device' %s", tiny_fs, logfile);
	for (i = 0; i < 60 && run_cmd(cmd); i++)
		usleep(250000);
	cr_assert(eq(int, run_cmd(cmd), 0), "the full disk was not reported");
	cr_assert(eq(int, http("GET", "/healthz", NULL, body, sizeof(body)), 200),
		  "the agent goes on");
	kill(daemon_pid, SIGTERM);
	cr_assert(eq(int, waitpid(daemon_pid, &status, 0), daemon_pid));
	daemon_pid = 0;
	cr_assert(eq(int, WEXITSTATUS(status), 1), "a lost recording is an exit status 1");
	/* what was written is whole lines, and replay reads all of them */
	snprintf(cmd, sizeof(cmd), "test \"$(tail -c 1 %s/rec.jsonl | od -An -c | tr -d ' ')\" "
		 "= '\\n' && %s replay %s/rec.jsonl > /dev/null", tiny_fs, getenv("CGSNAP_BIN"),
		 tiny_fs);
	cr_assert(eq(int, run_cmd(cmd), 0), "the recording ends in half a line");
}

/* reproducer: a daemon that watched 1,001 cgroups kept 187 MB after they
 * were gone, and one large scrape raised its RSS for good */
Test(run, memory_is_returned_when_cgroups_vanish, .timeout = 240)
{
	enum { N = 1000 };
	char args[256], dir[1200], body[128];
	const char *parent;
	long before, peak, after;
	uint64_t id;
	int i;

#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("RSS under ASan is its allocator's (a quarantine, no trim): this test runs "
		     "in the plain build");
#endif
	parent = testlib_cgroup("churn", &id);
	snprintf(args, sizeof(args), "--all %s", parent);
	start_daemon(args);
	sleep(3);	/* histories of the parent fill up */
	before = rss_kib(daemon_pid);
	for (i = 0; i < N; i++) {
		snprintf(dir, sizeof(dir), "%s/%s/c%d", testlib_v2_root(), parent, i);
		cr_assert(eq(int, mkdir(dir, 0755), 0));
	}
	for (i = 0; i < 120 && nr_listed() < N + 1; i++)
		usleep(250000);
	cr_assert(eq(sz, nr_listed(), N + 1));
	sleep(5);	/* their histories fill up too */
	snprintf(body, sizeof(body), "curl -s -f -o /dev/null http://127.0.0.1:%d/metrics", port);
	cr_assert(eq(int, run_cmd(body), 0), "the scrape failed");
	peak = rss_kib(daemon_pid);
	for (i = 0; i < N; i++) {
		snprintf(dir, sizeof(dir), "%s/%s/c%d", testlib_v2_root(), parent, i);
		cr_assert(eq(int, rmdir(dir), 0));
	}
	for (i = 0; i < 120 && nr_listed() > 1; i++)
		usleep(250000);
	cr_assert(eq(sz, nr_listed(), 1));
	sleep(3);
	after = rss_kib(daemon_pid);
	cr_log_info("RSS: %ld KiB before, %ld KiB with %d more cgroups and a scrape, %ld KiB after "
		    "they are gone", before, peak, N, after);
	cr_assert(le(long, after, 2 * before), "RSS %ld KiB after the cgroups went, %ld before",
		  after, before);
}

/* CPU time of process @pid so far, in seconds */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	cr_assert(ne(ptr, f, NULL));
	cr_assert(ne(ptr, fgets(buf, sizeof(buf), f), NULL));
	fclose(f);
	p = strrchr(buf, ')');
	cr_assert(eq(int, sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				 &utime, &stime), 2));
	return (double)(utime + stime) / sysconf(_SC_CLK_TCK);
}

static double mono_s(void)
{
	return clock_mono_ns() / 1e9;
}

/*
 * Reproducer: a chain of 600 nested cgroups (1-byte names) under a watched
 * root kept /healthz from answering for 18 s and burned 24 s of CPU; at 1,000
 * levels SIGTERM went unheard. Below --max-depth (32) cgroups count in their
 * ancestor there: a sleeper at the bottom is counted in the level-32 cgroup.
 */
Test(run, deep_trees_are_bounded_and_never_block_healthz, .timeout = 180)
{
	char path[4096], rel32[1024], args[1200], body[256];
	const char *parent;
	double t0, t, worst = 0, cpu;
	int i, status, code;
	uint64_t id;
	struct stat st;

	parent = testlib_cgroup("deep", &id);
	snprintf(path, sizeof(path), "%s/%s", testlib_v2_root(), parent);
	for (i = 1; i <= 1000; i++) {
		strcat(path, "/a");
		cr_assert(eq(int, mkdir(path, 0755), 0), "level %d", i);
		if (i == 31) {
			snprintf(rel32, sizeof(rel32), "%s", path + strlen(testlib_v2_root()) + 1);
			cr_assert(eq(int, stat(path, &st), 0));
		}
		if (i == 600) {
			char cmd[64];

			snprintf(cmd, sizeof(cmd), "exec $0 --sleepers 2 --sleep-us 2000 "
				 "--duration-ms 60000");
			char *const sleepers[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
			testlib_spawn(path + strlen(testlib_v2_root()) + 1, sleepers);
		}
	}
	snprintf(args, sizeof(args), "--all %s", parent);
	start_daemon(args);
	for (t0 = mono_s(); mono_s() - t0 < 8;) {
		t = mono_s();
		code = http("GET", "/healthz", NULL, body, sizeof(body));
		t = mono_s() - t;
		cr_assert(eq(int, code, 200), "/healthz: %d %s", code, body);
		worst = t > worst ? t : worst;
		usleep(200000);
	}
	cpu = cpu_seconds(daemon_pid);
	cr_log_info("1,000 levels: /healthz answered within %.3f s at worst; the agent used "
		    "%.2f s of CPU", worst, cpu);
	cr_assert(lt(dbl, worst, 1.0), "/healthz took %.3f s", worst);
	cr_assert(lt(dbl, cpu, 3.0), "the agent used %.2f s of CPU in 8 s", cpu);
	cr_assert(eq(sz, nr_listed(), 32), "the test's cgroup and 31 levels below it");
	/* (other deep trees of the host would be counted too) */
	cr_assert(eq(int, log_count("cgroups\\? at --max-depth 32 holds\\? deeper cgroups"), 1),
		  "the depth limit was not said, or said more than once");
	for (i = 0; i < 40 && runq_total(st.st_ino) <= 0; i++)
		usleep(250000);
	cr_assert(gt(i64, runq_total(st.st_ino), 0), "the sleeper at level 601 is not counted "
		  "in /%s", rel32);
	t0 = mono_s();
	kill(daemon_pid, SIGTERM);
	for (i = 0; i < 300 && waitpid(daemon_pid, &status, WNOHANG) != daemon_pid; i++)
		usleep(10000);
	cr_assert(lt(int, i, 300), "SIGTERM: still running after 3 s");
	daemon_pid = 0;
	cr_assert(eq(int, WEXITSTATUS(status), 0));
}

/* the agent's tree scans so far (cgsnap_collector_readings_total), -1 if absent */
static long long tree_scans(void)
{
	static const char key[] = "cgsnap_collector_readings_total{resource=\"tree\",source=\"scan\"} ";
	static char body[1 << 20];
	char *p;

	if (http("GET", "/metrics", NULL, body, sizeof(body)) != 200 || !(p = strstr(body, key)))
		return -1;
	return atoll(p + strlen(key));
}

/*
 * Reproducer: cgroups whose paths outgrow PATH_MAX (17 names of 255 bytes)
 * were watched from the kernel's word, then the tree scan skipped them and
 * the agent logged them removed while they existed.
 */
Test(run, paths_beyond_path_max_are_named_and_never_reported_removed, .timeout = 120)
{
	char args[256], name[256], url[128];
	const char *parent;
	int fd, next, i;
	uint64_t id;
	struct stat st;
	json_t *o;

	parent = testlib_cgroup("long", &id);
	memset(name, 'z', 255);
	name[255] = '\0';
	snprintf(args, sizeof(args), "%s/%s", testlib_v2_root(), parent);
	fd = open(args, O_RDONLY | O_DIRECTORY);
	cr_assert(ge(int, fd, 0));
	for (i = 0; i < 17; i++) {
		if (i == 8) {	/* half found by the first scan, half told by the kernel */
			snprintf(args, sizeof(args), "--all %s --rescan-interval 2s", parent);
			start_daemon(args);
		}
		cr_assert(eq(int, mkdirat(fd, name, 0755), 0), "level %d", i);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	cr_assert(eq(int, fstat(fd, &st), 0));
	close(fd);
	for (i = 0; i < 40 && nr_listed() < 18; i++)
		usleep(250000);
	cr_assert(eq(sz, nr_listed(), 18));
	/* past a periodic scan (--rescan-interval 2s) */
	long long scans = tree_scans();

	cr_assert(gt(i64, scans, 0), "no tree scan counted");
	for (i = 0; i < 40 && tree_scans() == scans; i++)
		usleep(250000);
	cr_assert(gt(i64, tree_scans(), scans), "no periodic scan within 10 s");
	cr_assert(eq(sz, nr_listed(), 18), "a scan dropped cgroups that exist");
	cr_assert(eq(int, log_count("removed"), 0), "a cgroup that exists was reported removed");
	/* the deepest, by its id: its name is cut and marked, its files are read */
	snprintf(url, sizeof(url), "/v1/cgroups/%llu/status", (unsigned long long)st.st_ino);
	o = get_json(url);
	const char *shown = json_string_value(json_object_get(o, "path"));

	cr_assert(ne(ptr, strstr(shown, "...[truncated, id "), NULL), "%s", shown);
	bool cpu = json_is_object(json_object_get(json_object_get(o, "latest"), "cpu"));

	cr_assert(cpu, "no CPU reading of a path beyond PATH_MAX");
	json_decref(o);
}
