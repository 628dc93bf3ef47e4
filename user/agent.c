// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "agent.h"
#include "loader.h"
#include "cgsnap.skel.h"

volatile sig_atomic_t agent_exiting;

int agent_opts_add_cgroup(struct agent_opts *o, const char *path)
{
	char **v = realloc(o->cgroups, (o->nr_cgroups + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	o->cgroups = v;
	v[o->nr_cgroups] = strdup(path);
	if (!v[o->nr_cgroups])
		return -ENOMEM;
	o->nr_cgroups++;
	return 0;
}

void agent_opts_free(struct agent_opts *o)
{
	while (o->nr_cgroups)
		free(o->cgroups[--o->nr_cgroups]);
	free(o->cgroups);
	o->cgroups = NULL;
}

static int add_watches(struct agent *ag, const char *prog)
{
	const struct agent_opts *o = ag->opts;
	unsigned int i;
	int err;

	for (i = 0; i < o->nr_cgroups; i++) {
		err = collector__watch(ag->collector, o->cgroups[i]);
		if (err) {
			fprintf(stderr, "%s: no such cgroup '%s' under %s: %s\n", prog,
				o->cgroups[i], ag->layout.v2, strerror(-err));
			return err;
		}
	}
	if (!o->watch_all)
		return 0;
	err = collector__watch_all(ag->collector, o->all_root ? o->all_root : "");
	if (err)
		fprintf(stderr, "%s: cannot watch '%s': %s\n", prog, o->all_root ? o->all_root : "/",
			strerror(-err));
	return err;
}

int agent_open(struct agent *ag, const struct agent_opts *o, const char *prog)
{
	struct loader_opts lo = {
		.verbose = o->verbose,
		.nr_slots = o->max_cgroups,
		.pin_dir = o->pin_dir,
	};
	struct collector_opts co = {};
	char err_msg[512];
	int err;

	ag->opts = o;
	ag->layout_p = &ag->layout;
	pthread_mutex_init(&ag->lock, NULL);
	ag->locked_init = true;
	err = cgroup_layout_detect(&ag->layout, PROC_MOUNTINFO);
	if (err) {
		fprintf(stderr, "%s: no cgroup v2 hierarchy is mounted (looked in %s): cgsnap "
				"needs cgroup v2, pure or hybrid\n", prog, PROC_MOUNTINFO);
		return err;
	}
	if (!lo.nr_slots)
		lo.nr_slots = loader_slots_for(cgroup_count(ag->layout.v2));
	if (o->pin_dir)
		ag->skel = loader_open_pinned(&lo, &ag->pins_reused, err_msg, sizeof(err_msg));
	else
		ag->skel = loader_open(&lo, err_msg, sizeof(err_msg));
	if (!ag->skel) {
		err = -errno;
		fprintf(stderr, "%s: %s\n", prog, err_msg);
		return err;
	}
	co.layout = &ag->layout;
	co.settings = &o->settings;
	collector_opts__from_skel(&co, ag->skel);
	co.keep_totals = o->keep_totals;
	co.on_event = o->on_event;
	co.ctx = o->ctx;
	ag->collector = collector__new(&co);
	if (!ag->collector) {
		fprintf(stderr, "%s: %s\n", prog, strerror(errno));
		return -errno;
	}
	return add_watches(ag, prog);
}

void agent_close(struct agent *ag)
{
	collector__free(ag->collector);
	ag->collector = NULL;
	loader_close(ag->skel);
	ag->skel = NULL;
	if (ag->locked_init)
		pthread_mutex_destroy(&ag->lock);
	ag->locked_init = false;
}

static void on_signal(int sig)
{
	agent_exiting = 1;
}

void agent_handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: the loop's sleep returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int64_t agent_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * CGSNAP_NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / CGSNAP_NSEC_PER_SEC, .tv_nsec = t % CGSNAP_NSEC_PER_SEC };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* the earliest of the next ticks and @end */
static int64_t wake_time(const int64_t next[3], int64_t end)
{
	int64_t t = end;
	int i;

	for (i = 0; i < 3; i++)
		if (next[i] < t)
			t = next[i];
	return t;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * CGSNAP_NSEC_PER_SEC + ts.tv_nsec;
}

static void account_tick(struct agent *ag, int which, int64_t cpu_ns)
{
	ag->tick_cpu_ns[which] = cpu_ns;
	ag->tick_cpu_total_ns[which] += cpu_ns;
	ag->ticks[which]++;
}

/* one pass of the loop: the ticks that are due at @now */
static int tick(struct agent *ag, int64_t now, int64_t next[3])
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	int err = 0;

	pthread_mutex_lock(&ag->lock);
	if (now >= next[0]) {
		int64_t t0 = thread_cpu_ns();

		err = collector__tick_runq(ag->collector, now);
		account_tick(ag, 0, thread_cpu_ns() - t0);
		next[0] += s->runq_interval_ns;
	}
	if (!err && now >= next[1]) {
		int64_t t0 = thread_cpu_ns();

		err = collector__tick_system(ag->collector, now);
		account_tick(ag, 1, thread_cpu_ns() - t0);
		next[1] += s->system_info_interval_ns;
	}
	if (!err && now >= next[2]) {
		err = collector__tick_client(ag->collector, now);
		next[2] += s->client_interval_ns;
	}
	if (!err && ag->opts->after_tick)
		ag->opts->after_tick(ag->opts->ctx, now);
	pthread_mutex_unlock(&ag->lock);
	return err;
}

int agent_loop(struct agent *ag, int64_t start, int64_t end)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	int64_t next[3], now;
	int err;

	pthread_mutex_lock(&ag->lock);
	err = collector__start(ag->collector, start);
	pthread_mutex_unlock(&ag->lock);
	if (err) {
		fprintf(stderr, "cgsnap: cannot start collecting: %s\n", strerror(-err));
		return err;
	}
	next[0] = start + s->runq_interval_ns;
	next[1] = start + s->system_info_interval_ns;
	next[2] = start + s->client_interval_ns;
	while (!agent_exiting) {
		sleep_until(wake_time(next, end));
		now = agent_now();
		if (agent_exiting || now >= end)
			break;
		err = tick(ag, now, next);
		if (err) {
			fprintf(stderr, "cgsnap: collecting failed: %s\n", strerror(-err));
			return err;
		}
	}
	/* close the measurement: the tail since the last ticks */
	now = agent_now();
	next[0] = next[1] = now;
	next[2] = INT64_MAX;
	return tick(ag, now, next);
}

static int by_path(const void *a, const void *b)
{
	const struct watched *wa = *(struct watched *const *)a, *wb = *(struct watched *const *)b;

	return strcmp(wa->path, wb->path);
}

unsigned int agent_sorted_watched(struct agent *ag, struct watched ***out)
{
	unsigned int n = collector__nr_watched(ag->collector), i = 0;
	struct watched *w;

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return 0;
	for (w = collector__first(ag->collector); w && i < n; w = collector__next(w))
		(*out)[i++] = w;
	qsort(*out, i, sizeof(**out), by_path);
	return i;
}
