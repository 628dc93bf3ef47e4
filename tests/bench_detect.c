// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap-bench detect CGSNAP SCENARIO ROUNDS [OPTION...]: how long a real
 * `cgsnap run` (the binary CGSNAP, with OPTIONs) takes to say so, from the
 * instant contention starts to its first overloaded verdict for the watched
 * cgroup, and from the instant it ends to its idle verdict, ROUNDS times:
 *
 *   saturate   8 spinners start in the watched cgroup
 *   neighbour  the watched cgroup runs 1 spinner (half the CPUs of a
 *              2-CPU host); 8 start in a sibling (not watched): its task
 *              waits behind the neighbour's
 *
 * A round starts once the agent says idle; one that never does is left out
 * of the medians and counted, as is one whose verdict never comes.
 *
 * The verdicts come from GET /v1/events; with BENCH_POLL=1 from polling
 * /v1/cgroups/busy/status every 20 ms, which every version of cgsnap has
 * (to compare with older commits). The onset is the instant the workload's
 * --go file appears (CLOCK_MONOTONIC, as the events' t_ns).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "bench.h"
#include "client.h"
#include "clock.h"

struct watch {
	pthread_mutex_t lock;
	struct cli_server srv;
	char path[512];		/* "/cgsnap-bench-detect-PID/busy" */
	bool overloaded;	/* the last verdict heard */
	int64_t t_ns;		/* its time */
	char kinds[128];
	bool poll, stop;
};

static int on_event(const char *type, const char *id, const char *data, void *ctx)
{
	struct watch *w = ctx;
	json_t *o = json_loads(data, 0, NULL), *k;
	size_t i, n = 0;

	if (o && !strcmp(json_string_value(json_object_get(o, "cgroup")), w->path)) {
		pthread_mutex_lock(&w->lock);
		w->overloaded = json_is_true(json_object_get(o, "overloaded"));
		w->t_ns = json_is_true(json_object_get(o, "initial")) ? 0 :
			  json_integer_value(json_object_get(o, "t_ns"));
		w->kinds[0] = '\0';
		json_array_foreach(json_object_get(o, "kinds"), i, k)
			n += snprintf(w->kinds + n, sizeof(w->kinds) - n, "%s%s", i ? "," : "",
				      json_string_value(k));
		pthread_mutex_unlock(&w->lock);
	}
	json_decref(o);
	return w->stop;
}

/* the verdicts, on a thread of their own: from the stream, or by polling */
static void *follow(void *arg)
{
	struct watch *w = arg;
	char err[256], path[600], *body;
	long status;
	json_t *o, *k;
	size_t i, n;

	if (!w->poll) {
		cli_events(&w->srv, "/v1/events", on_event, w, &status, err, sizeof(err));
		return NULL;
	}
	snprintf(path, sizeof(path), "/v1/cgroups%s/status", w->path);
	while (!w->stop) {
		if (!cli_get(&w->srv, path, &status, &body, err, sizeof(err))) {
			o = json_loads(body, 0, NULL);
			pthread_mutex_lock(&w->lock);
			if (o && json_is_boolean(json_object_get(o, "idle")) &&
			    json_is_false(json_object_get(o, "idle")) != w->overloaded) {
				w->overloaded = !w->overloaded;
				w->t_ns = clock_mono_ns();
				n = 0;
				w->kinds[0] = '\0';
				json_array_foreach(json_object_get(json_object_get(o, "overloaded_kinds"),
								   "current"), i, k)
					n += snprintf(w->kinds + n, sizeof(w->kinds) - n, "%s%s",
						      i ? "," : "", json_string_value(k));
			}
			pthread_mutex_unlock(&w->lock);
			json_decref(o);
			free(body);
		}
		usleep(20000);
	}
	return NULL;
}

/* wait up to @secs for the verdict @overloaded, decided at or after @since:
 * the ms it took from @since, or -1; its kinds in @kinds */
static double wait_verdict(struct watch *w, bool overloaded, int64_t since, int secs,
			   char *kinds, size_t len)
{
	double ms = -1;

	kinds[0] = '\0';
	for (int i = 0; i < secs * 200 && ms < 0; i++) {
		pthread_mutex_lock(&w->lock);
		if (w->overloaded == overloaded && w->t_ns >= since) {
			ms = (w->t_ns - since) / 1e6;
			snprintf(kinds, len, "%s", w->kinds);
		}
		pthread_mutex_unlock(&w->lock);
		if (ms < 0)
			usleep(5000);
	}
	return ms;
}

/* cgsnap-workload @args in cgroup @dir, waiting for @go: its pid */
static pid_t spawn_in(const char *dir, const char *args, const char *go)
{
	char cmd[1400];
	pid_t pid = fork();

	if (pid)
		return pid;
	snprintf(cmd, sizeof(cmd), "echo $$ > %s/cgroup.procs && exec %s %s --go %s > /dev/null",
		 dir, bench_workload, args, go);
	execl("/bin/sh", "sh", "-c", cmd, NULL);
	_exit(127);
}

static void stop_in(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* "median M ms (LO to HI), K of N": the rounds with a figure (>= 0) */
static void print_median(const char *what, double *v, int n)
{
	int k = 0;

	qsort(v, n, sizeof(*v), cmp_d);
	while (k < n && v[k] < 0)
		k++;
	if (k == n) {
		printf("%s never", what);
		return;
	}
	printf("%s after %.0f ms (%.0f to %.0f) in %d of %d", what, v[k + (n - k) / 2], v[k],
	       v[n - 1], n - k, n);
}

static pid_t agent;
static char parent[256];

static void cleanup(void)
{
	char dir[600];

	stop_in(&agent);
	for (int tries = 0; tries < 50; tries++) {
		snprintf(dir, sizeof(dir), "%s/busy", parent);
		rmdir(dir);
		snprintf(dir, sizeof(dir), "%s/noisy", parent);
		rmdir(dir);
		if (!rmdir(parent) || errno == ENOENT)
			return;
		usleep(100000);
	}
}

/* the agent, started with --cgroup busy and @opts: 0 once it answers */
static int start_agent(const char *cgsnap, const char *rel, int port, char **opts, int nopts)
{
	char listen[64], busy[600], err[64], *body;
	char *argv[64] = { (char *)cgsnap, "run", "--cgroup", busy, "--listen", listen, "--quiet" };
	struct cli_server s;
	long status;
	int argc = 7;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(busy, sizeof(busy), "%s/busy", rel);
	for (int i = 0; i < nopts && argc < 62; i++)
		argv[argc++] = opts[i];
	argv[argc] = NULL;
	agent = fork();
	if (!agent) {
		freopen("/dev/null", "w", stderr);
		execv(cgsnap, argv);
		_exit(127);
	}
	cli_server_init(&s, listen, NULL, NULL, err, sizeof(err));
	for (int i = 0; i < 100; i++) {
		if (!cli_get(&s, "/healthz", &status, &body, err, sizeof(err))) {
			free(body);
			if (status == 200)
				return 0;
		}
		usleep(100000);
	}
	return -1;
}

int bench_detect(const char *cgsnap, const char *scenario, int rounds, char **opts, int nopts)
{
	bool neighbour = !strcmp(scenario, "neighbour");
	char v2[256] = "/sys/fs/cgroup/unified", go[128], busy[600], noisy[600], kinds[128];
	char err[256], listen[64];
	double *det = calloc(rounds, sizeof(*det)), *rec = calloc(rounds, sizeof(*rec));
	int64_t onset, end;
	pthread_t th;
	pid_t own = 0, load = 0;
	struct watch w = { .lock = PTHREAD_MUTEX_INITIALIZER, .poll = getenv("BENCH_POLL") };
	int port = 30000 + getpid() % 20000, r, fast = 0, i;

	for (i = 0; i < nopts; i++)
		fast |= !strcmp(opts[i], "--fast");
	if (access(v2, F_OK))
		strcpy(v2, "/sys/fs/cgroup");
	snprintf(parent, sizeof(parent), "%s/cgsnap-bench-detect-%d", v2, getpid());
	snprintf(busy, sizeof(busy), "%s/busy", parent);
	snprintf(noisy, sizeof(noisy), "%s/noisy", parent);
	snprintf(go, sizeof(go), "/tmp/cgsnap-bench-detect-%d.go", getpid());
	atexit(cleanup);
	if (mkdir(parent, 0755) || mkdir(busy, 0755) || mkdir(noisy, 0755))
		return 1;
	if (start_agent(cgsnap, parent + strlen(v2) + 1, port, opts, nopts)) {
		fprintf(stderr, "bench: the agent did not start\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	cli_server_init(&w.srv, listen, NULL, NULL, err, sizeof(err));
	snprintf(w.path, sizeof(w.path), "%s", busy + strlen(v2));
	pthread_create(&th, NULL, follow, &w);
	printf("%s, %s%s (verdicts %s):\n", scenario, fast ? "--fast" : "defaults",
	       nopts > fast ? " and options" : "", w.poll ? "polled every 20 ms" : "pushed");
	for (r = 0; r < rounds; r++) {
		unlink(go);
		det[r] = rec[r] = -1;
		if (neighbour)
			own = spawn_in(busy, "--spinners 1 --duration-ms 600000", "/");
		load = spawn_in(neighbour ? noisy : busy, "--spinners 8 --duration-ms 600000", go);
		/* long enough that the current window holds no earlier load */
		sleep(fast ? 3 : 8);
		if (wait_verdict(&w, false, 0, 10, kinds, sizeof(kinds)) < 0) {
			printf("  round %2d: not idle before the load, left out\n", r);
			stop_in(&load);
			stop_in(&own);
			continue;
		}
		onset = clock_mono_ns();
		fclose(fopen(go, "w"));
		det[r] = wait_verdict(&w, true, onset, 30, kinds, sizeof(kinds));
		printf("  round %2d: overloaded after %7.0f ms (%s)", r, det[r], kinds);
		stop_in(&load);
		end = clock_mono_ns();
		rec[r] = wait_verdict(&w, false, end, 30, kinds, sizeof(kinds));
		printf(", idle %7.0f ms after the load ended\n", rec[r]);
		stop_in(&own);
		fflush(stdout);
	}
	print_median("  median: overloaded", det, rounds);
	print_median(", idle", rec, rounds);
	printf("\n");
	w.stop = true;
	stop_in(&agent);	/* ends the stream */
	pthread_join(th, NULL);
	unlink(go);
	free(det);
	free(rec);
	curl_global_cleanup();
	return 0;
}
