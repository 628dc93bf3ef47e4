// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap-workload: known workloads for the kernel tests and benchmarks.
 *
 *   --spinners N --sleepers M [--sleep-us U] [--duration-ms D] [--cpu C] [--fifo]
 *             [--go FILE]
 *       N threads spin, M threads sleep U us and wake, for D ms (all pinned
 *       to CPU C if given). With --fifo they run SCHED_FIFO and spinners
 *       yield every millisecond: they take turns among themselves, and no
 *       ordinary task runs on their CPU meanwhile (but in the kernel's RT
 *       throttling window), whatever else the machine does. With --go, "ready"
 *       is printed and nothing starts before FILE exists: workloads started
 *       one after another (slowly, in an emulated guest) then overlap for
 *       all of D. Then every thread blocks, "done" is printed, and the
 *       process waits to be killed, so /proc/PID/task/ stays readable.
 *   --read-file PATH --duration-ms D
 *       read PATH over and over (page-cache pressure), then as above.
 *   --alloc-mb N
 *       allocate and touch N MiB of anonymous memory (64 MiB at a time),
 *       then as above.
 *   --bursters N --burst-ms B --every-ms E
 *       (beside the above) N threads spinning B ms every E ms, each started at
 *       a random phase: bursty work that leaves the CPUs idle most of the
 *       time.
 *   --moved-child MS
 *       fork a child onto CPU 0 while holding CPU 0 at SCHED_FIFO, spin MS
 *       ms, then move the child (never run yet) to CPU 1: its first wait is
 *       cut by a move between run queues. Then as above (the child blocks
 *       too, and dies with its parent).
 *   --pingpong N [--cpu C]
 *       N round trips over a pair of pipes between two processes on one
 *       CPU; prints the round trips per second.
 *   --each-cgroup DIR --count N [--sleep-us U] [--also-in DIR1] [--touch-kb K]
 *       one process in each of the cgroups DIR/cg-0 ... DIR/cg-(N-1) (v2
 *       directories), waking every U us (default 100 ms, spread), until
 *       killed (the whole process group: kill -- -PID); "ready" once all
 *       are in place. Every cgroup of a large node active at once. With
 *       --also-in, each is in DIR1/cg-i too (a v1 memory hierarchy, as
 *       systemd places a unit's tasks in both); with --touch-kb, each wake
 *       maps and touches K KiB or unmaps them, in turn: a memory usage that
 *       moves at every wake, as a working program's does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static int fifo;
static int started, blocked;	/* threads started, and those now in block() */

static double now_s(void);
static int block_pipe[2];
static long sleep_us = 1000;
static int cpu = -1;
static const char *read_path;
static const char *go_path;
static long burst_ms = 10, every_ms = 100;

static void pin(void)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		exit(1);
	}
}

/* block for good: nothing is ever written to block_pipe */
static void block(void)
{
	char c;

	__atomic_add_fetch(&blocked, 1, __ATOMIC_SEQ_CST);
	for (;;)
		if (read(block_pipe[0], &c, 1) <= 0 && errno != EINTR)
			pause();
}

static void *spinner(void *arg)
{
	volatile unsigned long x = 0;
	double next = now_s() + 0.001;

	pin();
	while (!stop) {
		x++;
		if (fifo && !(x & 1023) && now_s() >= next) {
			sched_yield();	/* to a sibling of the same priority, if any */
			next = now_s() + 0.001;
		}
	}
	block();
	return NULL;
}

static void *sleeper(void *arg)
{
	struct timespec ts = { .tv_sec = sleep_us / 1000000, .tv_nsec = (sleep_us % 1000000) * 1000 };

	pin();
	while (!stop)
		nanosleep(&ts, NULL);
	block();
	return NULL;
}

static void *burster(void *arg)
{
	struct timespec ts;
	double start;

	/* a phase of its own: bursts of several threads do not line up */
	ts.tv_sec = 0;
	ts.tv_nsec = (long)((double)rand() / RAND_MAX * every_ms) * 1000000;
	nanosleep(&ts, NULL);
	while (!stop) {
		for (start = now_s(); now_s() - start < burst_ms / 1000.0;)
			;
		ts.tv_sec = (every_ms - burst_ms) / 1000;
		ts.tv_nsec = ((every_ms - burst_ms) % 1000) * 1000000;
		nanosleep(&ts, NULL);
	}
	block();
	return NULL;
}

static void *reader(void *arg)
{
	static char buf[1 << 16];
	int fd;

	while (!stop) {
		fd = open(read_path, O_RDONLY);
		if (fd < 0) {
			perror(read_path);
			exit(1);
		}
		while (!stop && read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	block();
	return NULL;
}

static void start(void *(*fn)(void *), int n)
{
	pthread_t t;

	started += n > 0 ? n : 0;
	while (n-- > 0)
		if (pthread_create(&t, NULL, fn, NULL)) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
}

/*
 * "done" once every thread started is past its work and on its way into
 * block(): from then on no thread runs again until it is killed, but for
 * the few instructions into its read() (done once /proc/PID/task/TID/stat
 * says every thread is sleeping).
 */
static void done(void)
{
	struct timespec ms = { .tv_nsec = 1000000 };

	while (__atomic_load_n(&blocked, __ATOMIC_SEQ_CST) < started)
		nanosleep(&ms, NULL);
	printf("done\n");
	fflush(stdout);
	block();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int pingpong(long n)
{
	int ab[2], ba[2];
	double t0, t1;
	char c = 0;
	pid_t pid;
	long i;

	if (pipe(ab) || pipe(ba))
		return 1;
	pin();
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < n; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	t1 = now_s();
	waitpid(pid, NULL, 0);
	printf("%.0f\n", n / (t1 - t0));
	return 0;
}

/* SCHED_FIFO needs RT throttling, which leaves the machine its 5%: without
 * it, a FIFO spinner would starve its CPU's kernel threads */
static int check_rt_throttling(const char *what)
{
	FILE *f = fopen("/proc/sys/kernel/sched_rt_runtime_us", "r");
	long rt = -1;

	if (!f || fscanf(f, "%ld", &rt) != 1 || rt < 0) {
		fprintf(stderr, "cgsnap-workload: %s needs RT throttling "
				"(kernel.sched_rt_runtime_us is -1 or unreadable)\n", what);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int set_cpu_of(pid_t pid, int c)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(c, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

static int moved_child(long ms)
{
	struct sched_param sp = { .sched_priority = 1 };
	double until;
	int ran[2];
	pid_t pid;
	char c;

	if (check_rt_throttling("--moved-child") || pipe(ran))
		return 1;
	/* the child is an ordinary task (reset on fork), queued behind us */
	if (set_cpu_of(0, 0) || sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
		perror("cgsnap-workload: --moved-child");
		return 1;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (write(ran[1], "r", 1) != 1)
			_exit(1);
		block();
	}
	for (until = now_s() + ms / 1000.0; now_s() < until;)
		;
	if (set_cpu_of(pid, 1) || read(ran[0], &c, 1) != 1) {
		perror("cgsnap-workload: moving the child");
		kill(pid, SIGKILL);
		return 1;
	}
	sp.sched_priority = 0;
	sched_setscheduler(0, SCHED_OTHER, &sp);
	done();
	return 0;
}

/* @pid into @dir/cg-@i */
static void enter_nth(const char *dir, long i, const char *pid)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/cg-%ld/cgroup.procs", dir, i);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0) {
		perror(path);
		_exit(1);
	}
	close(fd);
}

/* one waking process in each of @n cgroups under @dir (and @also_in) */
static int each_cgroup(const char *dir, const char *also_in, long n, long us, long touch_kb)
{
	char pid[32];
	long i;

	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("cgsnap-workload: fork");
			return 1;
		}
		if (p == 0) {
			struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000 };
			struct timespec first = { .tv_nsec = (i * 7919 % us) * 1000 % 1000000000 };
			size_t len = (size_t)touch_kb << 10;
			char *mem = NULL;

			snprintf(pid, sizeof(pid), "%d", getpid());
			enter_nth(dir, i, pid);
			if (also_in)
				enter_nth(also_in, i, pid);
			nanosleep(&first, NULL);
			for (;;) {
				nanosleep(&ts, NULL);
				if (!len)
					continue;
				if (mem) {
					munmap(mem, len);
					mem = NULL;
					continue;
				}
				mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				if (mem == MAP_FAILED)
					mem = NULL;
				else
					memset(mem, 1, len);
			}
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "spinners", required_argument, NULL, 's' },
		{ "sleepers", required_argument, NULL, 'S' },
		{ "sleep-us", required_argument, NULL, 'u' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "read-file", required_argument, NULL, 'r' },
		{ "alloc-mb", required_argument, NULL, 'a' },
		{ "pingpong", required_argument, NULL, 'p' },
		{ "fifo", no_argument, NULL, 'f' },
		{ "go", required_argument, NULL, 'g' },
		{ "each-cgroup", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "also-in", required_argument, NULL, 'i' },
		{ "touch-kb", required_argument, NULL, 't' },
		{ "bursters", required_argument, NULL, 'b' },
		{ "burst-ms", required_argument, NULL, 'B' },
		{ "every-ms", required_argument, NULL, 'E' },
		{ "moved-child", required_argument, NULL, 'm' },
		{},
	};
	long spinners = 0, sleepers = 0, duration_ms = 1000, alloc_mb = 0, rounds = 0, count = 0;
	long touch_kb = 0;
	long bursters = 0, moved_ms = 0;
	const char *each_dir = NULL, *also_in = NULL;
	int sleep_given = 0;
	struct timespec ts;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': spinners = atol(optarg); break;
		case 'S': sleepers = atol(optarg); break;
		case 'u': sleep_us = atol(optarg); sleep_given = 1; break;
		case 'd': duration_ms = atol(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'r': read_path = optarg; break;
		case 'a': alloc_mb = atol(optarg); break;
		case 'p': rounds = atol(optarg); break;
		case 'f': fifo = 1; break;
		case 'g': go_path = optarg; break;
		case 'e': each_dir = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'i': also_in = optarg; break;
		case 't': touch_kb = atol(optarg); break;
		case 'b': bursters = atol(optarg); break;
		case 'B': burst_ms = atol(optarg); break;
		case 'E': every_ms = atol(optarg); break;
		case 'm': moved_ms = atol(optarg); break;
		default:
			fprintf(stderr, "usage: see the comment at the top of tests/workload.c\n");
			return 2;
		}
	}
	if (pipe(block_pipe))
		return 1;
	if (rounds)
		return pingpong(rounds);
	if (each_dir)
		return each_cgroup(each_dir, also_in, count,
				   sleep_given && sleep_us > 0 ? sleep_us : 100000, touch_kb);
	if (alloc_mb) {
		/* in 64 MiB pieces: one mapping larger than the machine's memory
		 * would be refused by overcommit's heuristic, not OOM-killed */
		for (long mb = 0; mb < alloc_mb; mb += 64) {
			size_t len = (size_t)(alloc_mb - mb < 64 ? alloc_mb - mb : 64) << 20;
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				return 1;
			memset(p, 1, len);
		}
		done();
	}
	if (moved_ms)
		return moved_child(moved_ms);
	if (fifo) {
		struct sched_param sp = { .sched_priority = 1 };

		if (check_rt_throttling("--fifo"))
			return 1;
		/* the threads inherit it */
		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			perror("cgsnap-workload: sched_setscheduler");
			return 1;
		}
	}
	if (go_path) {
		struct timespec ms = { .tv_nsec = 1000000 };

		printf("ready\n");
		fflush(stdout);
		while (access(go_path, F_OK))
			nanosleep(&ms, NULL);
	}
	if (burst_ms < 0 || every_ms <= burst_ms) {
		fprintf(stderr, "cgsnap-workload: --burst-ms must be below --every-ms\n");
		return 2;
	}
	start(spinner, spinners);
	start(sleeper, sleepers);
	start(burster, bursters);
	if (read_path)
		start(reader, 1);
	ts.tv_sec = duration_ms / 1000;
	ts.tv_nsec = (duration_ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	stop = 1;
	done();
	return 0;
}
