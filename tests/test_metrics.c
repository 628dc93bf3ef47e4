// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap run's /metrics end to end: promtool and a real Prometheus server,
 * the series per cgroup, and numbers a scraper can trust.
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
#include <math.h>
#include <jansson.h>

#include "accum.h"
#include "snapshotter.h"
#include "runlib.h"
#include "testlib.h"

Test(run, metrics_pass_promtool_and_prometheus_scrapes_them)
{
	char body[1 << 16], cmd[1024], query[256];
	const char *rel;
	uint64_t id;

	rel = testlib_cgroup("metrics", &id);
	snprintf(cmd, sizeof(cmd), "--cgroup %s", rel);
	start_daemon(cmd);
	/* waits: its run-queue series appear with the first */
	snprintf(cmd, sizeof(cmd), "exec $0 --sleepers 2 --duration-ms 60000");
	char *const sleepers[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	testlib_spawn(rel, sleepers);
	sleep(2);	/* a few ticks: histograms and ratios have values */
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | promtool check "
		 "metrics", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "promtool check metrics failed");
	cr_assert(eq(int, http("GET", "/metrics", NULL, body, sizeof(body)), 200));
	cr_assert(ne(ptr, strstr(body, "cgsnap_runqueue_wait_seconds_bucket{cgroup=\"/"), NULL));
	cr_assert(ne(ptr, strstr(body, "cgsnap_overload_ratio{"), NULL));
	/* gzip when the scraper asks (Prometheus does), plain text when it does not */
	snprintf(cmd, sizeof(cmd), "curl -s -f -H 'Accept-Encoding: gzip' -D /dev/stderr "
		 "http://127.0.0.1:%d/metrics 2>&1 >/dev/null | grep -qi '^content-encoding: gzip'",
		 port);
	cr_assert(eq(int, run_cmd(cmd), 0), "no gzip for a client that accepts it");
	snprintf(cmd, sizeof(cmd), "curl -s -f -H 'Accept-Encoding: gzip' http://127.0.0.1:%d/metrics"
		 " | gunzip | promtool check metrics", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "the gzip body is not the metrics");
	snprintf(cmd, sizeof(cmd), "curl -s -f -D /dev/stderr http://127.0.0.1:%d/metrics 2>&1 "
		 ">/dev/null | grep -qi '^content-encoding'", port);
	cr_assert(ne(int, run_cmd(cmd), 0), "gzip for a client that did not ask");

	/* a real Prometheus server on loopback scrapes it */
	snprintf(query, sizeof(query), "cgsnap_runqueue_wait_seconds_count%%7Bid%%3D%%22%llu%%22%%7D",
		 (unsigned long long)id);
	cr_assert(prometheus_sees("", query, "\"result\":\\[{"),
		  "Prometheus never returned a cgsnap series (id %llu)", (unsigned long long)id);
}

/* @body's buckets of the run-queue histogram of @id_label are cumulative,
 * and +Inf is its _count */
static void assert_cumulative(const char *body, const char *id_label)
{
	unsigned long long prev = 0, v, count = 0;
	const char *l, *end, *val;

	for (l = body; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		val = memmem(l, end - l, "} ", 2);
		if (!val || !memmem(l, end - l, id_label, strlen(id_label)))
			continue;
		v = strtoull(val + 2, NULL, 10);
		if (!strncmp(l, "cgsnap_runqueue_wait_seconds_bucket{", 36)) {
			cr_assert(ge(u64, v, prev), "buckets not cumulative: %.*s", (int)(end - l), l);
			prev = v;
		} else if (!strncmp(l, "cgsnap_runqueue_wait_seconds_count{", 35)) {
			count = v;
		}
	}
	cr_assert(gt(u64, count, 0));
	cr_assert(eq(u64, prev, count), "+Inf %llu, _count %llu", prev, count);
}

/*
 * Series per cgroup (docs/API.md): an idle cgroup has no run-queue series;
 * one that waited has 11 coarse buckets and +Inf by default, 28 and +Inf
 * when full, none with none; a path glob gives one cgroup full ones.
 */
Test(run, metrics_series_per_cgroup_by_histogram_mode)
{
	static char body[1 << 16];
	static const struct {
		const char *args;
		int busy_buckets;
	} modes[] = {
		{ "", 12 },
		{ "--metrics-histograms full", 29 },
		{ "--metrics-histograms none", 0 },
		{ "--metrics-histograms none --metrics-full-histograms '/*-busy'", 29 },
	};
	char args[512], busy_id[64], idle_id[64], cmd[128];
	const char *busy, *idle;
	uint64_t id;
	unsigned int m;
	int i;

	busy = testlib_cgroup("busy", &id);
	snprintf(busy_id, sizeof(busy_id), "id=\"%llu\"", (unsigned long long)id);
	idle = testlib_cgroup("idle", &id);
	snprintf(idle_id, sizeof(idle_id), "id=\"%llu\"", (unsigned long long)id);
	snprintf(cmd, sizeof(cmd), "exec $0 --sleepers 2 --duration-ms 120000");
	char *const sleepers[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
	testlib_spawn(busy, sleepers);
	for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		snprintf(args, sizeof(args), "--cgroup %s --cgroup %s %s", busy, idle, modes[m].args);
		start_daemon(args);
		for (i = 0; i < 40; i++) {
			cr_assert(eq(int, http("GET", "/metrics", NULL, body, sizeof(body)), 200));
			if (count_lines(body, "cgsnap_runqueue_waits_by_holder_total{", busy_id))
				break;
			usleep(250000);
		}
		cr_assert(eq(int, count_lines(body, "cgsnap_runqueue_wait_seconds_bucket{", busy_id),
			     modes[m].busy_buckets), "%s: %s", modes[m].args, body);
		cr_assert(eq(int, count_lines(body, "cgsnap_runqueue_waits_by_holder_total{", busy_id),
			     CGSNAP_HOLDER_MAX));
		if (modes[m].busy_buckets)
			assert_cumulative(body, busy_id);
		/* the idle one: its verdict and OOM series, no run-queue or reclaim ones */
		cr_assert(eq(int, count_lines(body, "cgsnap_runqueue_", idle_id), 0), "%s", body);
		cr_assert(eq(int, count_lines(body, "cgsnap_memory_reclaim_", idle_id), 0));
		cr_assert(eq(int, count_lines(body, "cgsnap_oom_kills_total{", idle_id), 2));
		cr_assert(eq(int, count_lines(body, "cgsnap_overload_ratio{", idle_id),
			     2 * CGSNAP_KIND_COUNT));
		stop_pid(&daemon_pid, SIGTERM);
	}
}

/* the series of one scrape that carry @id_label: names with labels, values */
struct scrape {
	char *key[512];
	double val[512];
	int n;
};

static void scrape_parse(char *body, const char *id_label, struct scrape *s)
{
	char *l, *end, *val;

	s->n = 0;
	for (l = body; *l && s->n < 512; l = end + 1) {
		end = strchrnul(l, '\n');
		val = memmem(l, end - l, "} ", 2);
		if (*l != '#' && val && memmem(l, val - l, id_label, strlen(id_label))) {
			s->key[s->n] = strndup(l, val + 1 - l);
			s->val[s->n++] = strtod(val + 2, NULL);
		}
		if (!*end)
			break;
	}
}

static void scrape_free(struct scrape *s)
{
	while (s->n)
		free(s->key[--s->n]);
}

static double scrape_value(const struct scrape *s, const char *prefix, double *sum)
{
	double v = -1;

	*sum = 0;
	for (int i = 0; i < s->n; i++) {
		if (strncmp(s->key[i], prefix, strlen(prefix)))
			continue;
		v = s->val[i];
		*sum += v;
	}
	return v;
}

/*
 * What one scrape shows of a cgroup comes from one consistent reading, and
 * no counter goes back between scrapes: reproducer of a +Inf bucket (the
 * count) below a finite one, the kernel side's count and histogram having
 * been read while a wait was being written. Two pipe ping-pongs, one on
 * each CPU, end a wait at every switch; the run-queue tick reads every
 * 20 ms, and hundreds of scrapes follow.
 */
Test(run, metrics_stay_coherent_under_a_switch_storm, .timeout = 180)
{
	static char body[1 << 18];
	static struct scrape prev, cur;
	double count, sum, holders, holder_ns, last, torn;
	char args[512], id_label[64], cmd[128];
	const char *rel;
	int i, j, k, scrapes = 0;
	uint64_t id;

	rel = testlib_cgroup("storm", &id);
	snprintf(id_label, sizeof(id_label), "id=\"%llu\"", (unsigned long long)id);
	for (i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "exec $0 --pingpong 1000000000 --cpu %d", i);
		char *const pp[] = { "sh", "-c", cmd, (char *)testlib_workload(), NULL };
		testlib_spawn(rel, pp);
	}
	snprintf(args, sizeof(args), "--cgroup %s --runq-interval 20ms --metrics-histograms full",
		 rel);
	start_daemon(args);
	for (i = 0; i < 400; i++) {
		cr_assert(eq(int, http("GET", "/metrics", NULL, body, sizeof(body)), 200));
		scrape_parse(body, id_label, &cur);
		count = scrape_value(&cur, "cgsnap_runqueue_wait_seconds_count{", &sum);
		if (count > 0) {
			scrapes++;
			/* buckets cumulative, +Inf the count */
			for (last = 0, j = 0; j < cur.n; j++) {
				if (strncmp(cur.key[j], "cgsnap_runqueue_wait_seconds_bucket{", 36))
					continue;
				cr_assert(ge(dbl, cur.val[j], last), "buckets not cumulative: %s %.0f "
					  "after %.0f", cur.key[j], cur.val[j], last);
				last = cur.val[j];
			}
			cr_assert(eq(dbl, last, count), "+Inf %.0f, _count %.0f", last, count);
			/* the split is of the counted waits, never of more */
			scrape_value(&cur, "cgsnap_runqueue_waits_by_holder_total{", &holders);
			scrape_value(&cur, "cgsnap_runqueue_wait_by_holder_seconds_total{", &holder_ns);
			scrape_value(&cur, "cgsnap_runqueue_wait_seconds_sum{", &sum);
			cr_assert(le(dbl, holders, count), "split %.0f waits of %.0f", holders, count);
			cr_assert(le(dbl, fabs(holder_ns - sum), 1e-6 * (sum + 1)),
				  "split %.9f s of a sum of %.9f s", holder_ns, sum);
		}
		/* every series of the previous scrape is there, none lower */
		for (j = 0; j < prev.n; j++) {
			for (k = 0; k < cur.n && strcmp(cur.key[k], prev.key[j]); k++)
				;
			cr_assert(lt(int, k, cur.n), "%s vanished", prev.key[j]);
			if (strstr(prev.key[j], "_bucket{") || strstr(prev.key[j], "_total{") ||
			    strstr(prev.key[j], "_count{") || strstr(prev.key[j], "_sum{"))
				cr_assert(ge(dbl, cur.val[k], prev.val[j]), "%s went back: %.9f after "
					  "%.9f", prev.key[j], cur.val[k], prev.val[j]);
		}
		scrape_free(&prev);
		prev = cur;
		cur.n = 0;
	}
	scrape_free(&prev);
	cr_assert(ge(int, scrapes, 300), "only %d scrapes showed waits", scrapes);
	torn = 0;
	snprintf(cmd, sizeof(cmd), "cgsnap_collector_readings_total{resource=\"runq\",source=\"torn\"}");
	if (strstr(body, cmd))
		torn = strtod(strstr(body, cmd) + strlen(cmd), NULL);
	cr_log_info("%d scrapes coherent; %.0f slot readings caught waits being written", scrapes,
		    torn);
}

/*
 * With --max-cgroups 1 the first cgroup to wait (any of the host's) takes
 * the one run-queue slot, and the next wait of another finds none: the
 * agent says so once, naming --max-cgroups, and counts every such wait.
 */
Test(run, full_run_queue_slots_are_said_once_and_counted)
{
	static char body[1 << 20];
	char args[256], cmd[128], *p;
	char *const argv[] = { "sh", "-c", cmd, NULL };
	const char *rel;
	uint64_t id;
	long drops = 0;
	int i;

	rel = testlib_cgroup("slots", &id);
	snprintf(args, sizeof(args), "--cgroup %s --max-cgroups 1", rel);
	start_daemon(args);
	snprintf(cmd, sizeof(cmd), "exec %s --sleepers 2 --sleep-us 1000 --duration-ms 3000",
		 testlib_workload());
	testlib_spawn(rel, argv);
	cr_assert(wait_log("all 1 run-queue slots are taken", 10), "the full slots were not said");
	for (i = 0; i < 20 && drops <= 0; i++) {
		usleep(250000);
		cr_assert(eq(int, http("GET", "/metrics", NULL, body, sizeof(body)), 200));
		p = strstr(body, "cgsnap_dropped_events_total{reason=\"slots_full\"} ");
		cr_assert(ne(ptr, p, NULL), "no slots_full series");
		drops = atol(strchr(p, ' ') + 1);
	}
	cr_assert(gt(i64, drops, 0), "no wait counted as dropped for want of a slot");
	sleep(2);
	cr_assert(eq(int, log_count("run-queue slots are taken"), 1), "said more than once");
}
