// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "cgroupfs.h"
#include "collector.h"
#include "report.h"
#include "walk.h"

enum { TICK_RUNQ, TICK_SYSTEM, TICK_CLIENT, NR_TICKS };

struct agent {
	const struct agent_opts *opts;
	struct cgroup_layout layout;
	struct cgsnap_bpf *skel;
	struct collector *collector;
	pthread_mutex_t lock;		/* held around ticks and queries */
	bool pins_reused;
	bool started;
	/* written by the tick thread, read without the lock by agent__health():
	 * /healthz answers even while a tick runs long */
	int64_t last_tick;		/* when the last tick ended */
	unsigned int nr_watched;	/* as of then */
	unsigned int gone;		/* cgroups freed during the tick in progress */
	int64_t next[NR_TICKS];		/* when each tick is due */
	int64_t tick_cpu_ns[2];		/* CPU time of the last runq and system tick */
	uint64_t tick_cpu_total_ns[2];
	uint64_t ticks[2];
};

volatile sig_atomic_t agent_exiting;

/* events: the collector's, passed on by cgroup id and path */

static void announce(struct agent *ag, const struct agent_event *ev)
{
	if (ag->opts->on_event)
		ag->opts->on_event(ev, ag->opts->ctx);
}

static void on_collector_event(const struct collector_event *cev, void *ctx)
{
	static const enum agent_event_type types[] = {
		[COLLECTOR_WATCHED] = AGENT_WATCHED,
		[COLLECTOR_GONE] = AGENT_GONE,
		[COLLECTOR_MEMORY_WARNING] = AGENT_MEMORY_WARNING,
		[COLLECTOR_SNAPSHOT] = AGENT_SNAPSHOT,
		[COLLECTOR_DEPTH_LIMIT] = AGENT_DEPTH_LIMIT,
	};
	struct agent *ag = ctx;
	struct agent_event ev = {
		.type = types[cev->type],
		.started = ag->started,
		.snap = cev->snap,
		.warning = cev->warning,
	};
	struct cgsnap_status st;

	if (cev->type == COLLECTOR_DEPTH_LIMIT) {
		ev.path = cev->path;
		ev.count = cev->count;
		announce(ag, &ev);
		return;
	}
	ev.id = cev->w->id;
	ev.path = cev->w->name;

	if (cev->type == COLLECTOR_GONE) {
		ag->gone++;
		/* its final word: the verdict of its last snapshots, its totals */
		ev.verdict = VERDICT_NONE;
		if (!cgsnap_snapshotter__current_status(cev->w->snap, &st)) {
			ev.verdict = policy_verdict(&st);
			ev.status = &st;
		}
		ev.runq = cev->w->runq_total;
		ev.mem = cev->w->mem_total;
	}
	announce(ag, &ev);
}

/* one event per cgroup whose current verdict changed */
static void announce_verdicts(struct agent *ag)
{
	struct cgsnap_status st;
	struct watched *w;
	enum verdict v;

	for (w = collector__first(ag->collector); w; w = collector__next(w)) {
		struct agent_event ev = { .type = AGENT_VERDICT, .id = w->id, .path = w->name,
					  .started = true, .status = &st };

		if (cgsnap_snapshotter__current_status(w->snap, &st))
			continue;
		v = policy_verdict(&st);
		if (v == (enum verdict)w->verdict)
			continue;
		ev.verdict = v;
		ev.previous = w->verdict;
		w->verdict = v;
		announce(ag, &ev);
	}
}

/* opening and closing */

static unsigned int max_depth(const struct agent_opts *o)
{
	return o->max_depth ? o->max_depth : CGSNAP_MAX_LEVEL_DEFAULT;
}

static int add_watches(struct agent *ag)
{
	const struct agent_opts *o = ag->opts;
	const char *root = o->all_root ? o->all_root : "";
	unsigned int i;
	int err;

	for (i = 0; i < o->nr_cgroups; i++) {
		err = collector__watch(ag->collector, o->cgroups[i]);
		if (err == -ERANGE) {
			report("cgroup '%s' is deeper than --max-depth %u: raise it to watch this "
			       "cgroup", o->cgroups[i], max_depth(o));
			return err;
		}
		if (err) {
			report_err(err, "%s cgroup '%s' under %s",
				   err == -EINVAL ? "invalid" : "no such", o->cgroups[i],
				   ag->layout.v2);
			return err;
		}
	}
	if (!o->watch_all)
		return 0;
	err = collector__watch_all(ag->collector, root);
	if (err)
		report_err(err, "cannot watch '%s'", *root ? root : "/");
	return err;
}

static int open_programs(struct agent *ag)
{
	const struct agent_opts *o = ag->opts;
	struct loader_opts lo = {
		.verbose = o->verbose,
		.nr_slots = o->max_cgroups,
		.max_level = max_depth(o),
		.pin_dir = o->pin_dir,
	};
	char why[512];

	if (!lo.nr_slots)
		lo.nr_slots = loader_slots_for(cgroup_count(ag->layout.v2, lo.max_level));
	if (o->pin_dir)
		ag->skel = loader_open_pinned(&lo, &ag->pins_reused, why, sizeof(why));
	else
		ag->skel = loader_open(&lo, why, sizeof(why));
	if (!ag->skel) {
		report("%s", why);
		return -errno;
	}
	return 0;
}

static int open_collector(struct agent *ag)
{
	struct collector_opts co = {
		.layout = &ag->layout,
		.settings = &ag->opts->settings,
		.keep_totals = ag->opts->keep_totals,
		.full_totals = ag->opts->full_totals,
		.keep_removed = ag->opts->keep_removed,
		.idle_read_ns = ag->opts->idle_read_ns,
		.max_depth = max_depth(ag->opts),
		.continue_totals = ag->pins_reused,
		.on_event = on_collector_event,
		.ctx = ag,
	};
	int err;

	loader_map_fds(ag->skel, &co.maps);
	ag->collector = collector__new(&co);
	if (!ag->collector) {
		err = -errno;
		report_err(err, "cannot read the BPF maps");
		return err;
	}
	return 0;
}

struct agent *agent__open(const struct agent_opts *o)
{
	struct agent *ag = calloc(1, sizeof(*ag));
	int err;

	if (!ag) {
		report_err(-ENOMEM, "cannot start");
		return NULL;
	}
	ag->opts = o;
	pthread_mutex_init(&ag->lock, NULL);
	err = cgroup_layout_detect(&ag->layout, PROC_MOUNTINFO);
	if (err) {
		report("no cgroup v2 hierarchy is mounted (looked in %s): cgsnap needs cgroup v2, "
		       "pure or hybrid", PROC_MOUNTINFO);
		goto err;
	}
	err = open_programs(ag);
	if (!err)
		err = open_collector(ag);
	if (!err)
		err = add_watches(ag);
	/* a first scan, so that queries know the watched set at once */
	if (!err) {
		err = collector__scan(ag->collector);
		if (err)
			report_err(err, "cannot scan %s", ag->layout.v2);
	}
	if (!err)
		return ag;
err:
	agent__close(ag);
	errno = -err;
	return NULL;
}

void agent__close(struct agent *ag)
{
	if (!ag)
		return;
	collector__free(ag->collector);
	loader_close(ag->skel);
	pthread_mutex_destroy(&ag->lock);
	free(ag);
}

/* the tick loop */

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

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * CGSNAP_NSEC_PER_SEC + ts.tv_nsec;
}

int agent__start(struct agent *ag, int64_t now)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	int err;

	pthread_mutex_lock(&ag->lock);
	err = collector__start(ag->collector, now);
	__atomic_store_n(&ag->started, !err, __ATOMIC_RELEASE);
	__atomic_store_n(&ag->last_tick, now, __ATOMIC_RELEASE);
	__atomic_store_n(&ag->nr_watched, collector__nr_watched(ag->collector), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&ag->lock);
	if (err) {
		report_err(err, "cannot start collecting");
		return err;
	}
	ag->next[TICK_RUNQ] = now + s->runq_interval_ns;
	ag->next[TICK_SYSTEM] = now + s->system_info_interval_ns;
	ag->next[TICK_CLIENT] = now + s->client_interval_ns;
	if (ag->opts->drop_caps) {
		err = loader_drop_caps();
		if (err)
			report_err(err, "warning: cannot drop capabilities");
	}
	return 0;
}

/* run one tick, @which of TICK_RUNQ and TICK_SYSTEM, timing it */
static int timed_tick(struct agent *ag, int which, int64_t now)
{
	int64_t t0 = thread_cpu_ns(), cpu;
	int err;

	err = which == TICK_RUNQ ? collector__tick_runq(ag->collector, now) :
				   collector__tick_system(ag->collector, now);
	cpu = thread_cpu_ns() - t0;
	ag->tick_cpu_ns[which] = cpu;
	ag->tick_cpu_total_ns[which] += cpu;
	ag->ticks[which]++;
	return err;
}

/* the ticks that are due at @now */
static int tick(struct agent *ag, int64_t now)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	const struct agent_event ev = { .type = AGENT_TICK, .started = true };
	int err = 0;

	pthread_mutex_lock(&ag->lock);
	if (now >= ag->next[TICK_RUNQ]) {
		err = timed_tick(ag, TICK_RUNQ, now);
		ag->next[TICK_RUNQ] += s->runq_interval_ns;
	}
	if (!err && now >= ag->next[TICK_SYSTEM]) {
		err = timed_tick(ag, TICK_SYSTEM, now);
		ag->next[TICK_SYSTEM] += s->system_info_interval_ns;
	}
	if (!err && now >= ag->next[TICK_CLIENT]) {
		err = collector__tick_client(ag->collector, now);
		ag->next[TICK_CLIENT] += s->client_interval_ns;
	}
	if (!err) {
		announce_verdicts(ag);
		announce(ag, &ev);
		__atomic_store_n(&ag->nr_watched, collector__nr_watched(ag->collector),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&ag->last_tick, now, __ATOMIC_RELEASE);
	}
	/* what vanished cgroups held goes back to the kernel, not to the heap */
	if (ag->gone)
		malloc_trim(0);
	ag->gone = 0;
	pthread_mutex_unlock(&ag->lock);
	return err;
}

/* the earliest of the next ticks and @end */
static int64_t wake_time(const struct agent *ag, int64_t end)
{
	int64_t t = end;
	int i;

	for (i = 0; i < NR_TICKS; i++)
		if (ag->next[i] < t)
			t = ag->next[i];
	return t;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { .tv_sec = t / CGSNAP_NSEC_PER_SEC, .tv_nsec = t % CGSNAP_NSEC_PER_SEC };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

int agent__run(struct agent *ag, int64_t end)
{
	int64_t now;
	int err;

	while (!agent_exiting) {
		sleep_until(wake_time(ag, end));
		now = agent_now();
		if (agent_exiting || now >= end)
			break;
		err = tick(ag, now);
		if (err) {
			report_err(err, "collecting failed");
			return err;
		}
	}
	/* close the measurement: the tail since the last ticks */
	now = agent_now();
	ag->next[TICK_RUNQ] = ag->next[TICK_SYSTEM] = now;
	ag->next[TICK_CLIENT] = INT64_MAX;
	err = tick(ag, now);
	if (err)
		report_err(err, "collecting failed");
	return err;
}

/* queries */

static int copy_totals(const struct watched *w, enum agent_totals totals,
		       struct agent_cgroup *out)
{
	out->has_totals = totals != AGENT_NO_TOTALS && w->runq_total && w->mem_total;
	if (!out->has_totals) {
		memset(&out->runq, 0, sizeof(out->runq));
		memset(&out->mem, 0, sizeof(out->mem));
		return 0;
	}
	out->runq = *w->runq_total;
	out->mem = *w->mem_total;
	if (totals != AGENT_TOTALS_FULL || !w->runq_full || !w->mem_full)
		return 0;
	out->runq_full = malloc(sizeof(*out->runq_full));
	out->mem_full = malloc(sizeof(*out->mem_full));
	if (!out->runq_full || !out->mem_full)
		return -ENOMEM;
	*out->runq_full = *w->runq_full;
	*out->mem_full = *w->mem_full;
	return 0;
}

/* @w's state in @out; with its totals as @totals says */
static int copy_cgroup(const struct watched *w, enum agent_totals totals,
		       struct agent_cgroup *out)
{
	const struct cgsnap_snapshot *s;
	int k;

	memset(out, 0, offsetof(struct agent_cgroup, runq));	/* the totals: below */
	out->runq_full = NULL;
	out->mem_full = NULL;
	out->id = w->id;
	out->removed = w->removed;
	out->path = strdup(w->name);
	if (!out->path)
		return -ENOMEM;
	out->active = !cgsnap_snapshotter__current_status(w->snap, &out->current) &&
		      !cgsnap_snapshotter__historical_status(w->snap, &out->historical);
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		s = cgsnap_snapshotter__latest(w->snap, k);
		out->has_latest[k] = s;
		if (s)
			out->latest[k] = *s;
	}
	out->sys = w->sys;
	out->cpu_ratio_overall = build_cpu_ratio_overall(&w->sys_state, w->sys.cpu_capacity);
	return copy_totals(w, totals, out);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct agent_cgroup *)a)->path,
		      ((const struct agent_cgroup *)b)->path);
}

int agent__cgroups(struct agent *ag, enum agent_totals totals, struct agent_cgroup **out,
		   unsigned int *n)
{
	struct agent_cgroup *v;
	struct watched *w;
	unsigned int i = 0;
	int err = 0;

	pthread_mutex_lock(&ag->lock);
	v = malloc((collector__nr_watched(ag->collector) + collector__nr_removed(ag->collector) +
		    1) * sizeof(*v));
	for (w = collector__first(ag->collector); v && w && !err; w = collector__next(w))
		err = copy_cgroup(w, totals, &v[i++]);
	for (w = collector__first_removed(ag->collector); v && w && !err; w = collector__next(w))
		err = copy_cgroup(w, totals, &v[i++]);
	pthread_mutex_unlock(&ag->lock);
	if (!v || err) {
		agent_cgroups_free(v, i);	/* the failed one included: it is consistent */
		return -ENOMEM;
	}
	qsort(v, i, sizeof(*v), by_path);
	*out = v;
	*n = i;
	return 0;
}

void agent_cgroups_free(struct agent_cgroup *v, unsigned int n)
{
	while (v && n--)
		agent_cgroup_fini(&v[n]);
	free(v);
}

void agent_cgroup_fini(struct agent_cgroup *c)
{
	free(c->path);
	free(c->runq_full);
	free(c->mem_full);
	c->path = NULL;
	c->runq_full = NULL;
	c->mem_full = NULL;
}

/* the watched cgroup @ref names: a cgroup id, else a path; call locked */
static struct watched *find(struct agent *ag, const char *ref)
{
	struct watched *w = NULL;
	const char *p = ref;

	while (isdigit((unsigned char)*p))
		p++;
	if (p != ref && !*p)
		w = collector__find_id(ag->collector, strtoull(ref, NULL, 10));
	return w ? w : collector__find_path(ag->collector, ref);
}

int agent__cgroup(struct agent *ag, const char *ref, struct agent_cgroup *out)
{
	struct watched *w;
	int err;

	pthread_mutex_lock(&ag->lock);
	w = find(ag, ref);
	err = w ? copy_cgroup(w, AGENT_TOTALS, out) : -ENOENT;
	pthread_mutex_unlock(&ag->lock);
	return err;
}

static int copy_sample(const struct watched *w, enum cgsnap_kind kind, int64_t duration_ns,
		       struct cgsnap_snapshot **out, uint32_t *n)
{
	struct cgsnap_sample sample;
	uint32_t i;
	int err;

	err = cgsnap_snapshotter__sample(w->snap, kind, duration_ns, &sample);
	if (err)
		return err;
	*out = malloc((sample.len + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < sample.len; i++)
		(*out)[i] = *cgsnap_sample__at(&sample, i);
	*n = sample.len;
	return 0;
}

int agent__sample(struct agent *ag, const char *ref, enum cgsnap_kind kind, int64_t duration_ns,
		  struct agent_cgroup *who, struct cgsnap_snapshot **out, uint32_t *n)
{
	struct watched *w;
	int err;

	pthread_mutex_lock(&ag->lock);
	w = find(ag, ref);
	err = w ? copy_cgroup(w, AGENT_NO_TOTALS, who) : -ENOENT;
	if (!err) {
		err = copy_sample(w, kind, duration_ns, out, n);
		if (err)
			agent_cgroup_fini(who);
	}
	pthread_mutex_unlock(&ag->lock);
	return err;
}

int agent__report_client_errors(struct agent *ag, const char *ref, int64_t retry, int64_t count,
				int64_t *total)
{
	struct watched *w;
	int ret;

	pthread_mutex_lock(&ag->lock);
	w = find(ag, ref);
	ret = w ? cgsnap_snapshotter__report_client_errors(w->snap, retry, count) : -ENOENT;
	if (w)
		*total = cgsnap_snapshotter__client_error_count(w->snap);
	pthread_mutex_unlock(&ag->lock);
	return ret;
}

unsigned int agent__nr_watched(struct agent *ag)
{
	unsigned int n;

	pthread_mutex_lock(&ag->lock);
	n = collector__nr_watched(ag->collector);
	pthread_mutex_unlock(&ag->lock);
	return n;
}

int agent__health(struct agent *ag, int64_t now, struct agent_health *out)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	int64_t every = s->runq_interval_ns > s->system_info_interval_ns ?
			s->runq_interval_ns : s->system_info_interval_ns;

	out->started = __atomic_load_n(&ag->started, __ATOMIC_ACQUIRE);
	out->nr_watched = __atomic_load_n(&ag->nr_watched, __ATOMIC_ACQUIRE);
	out->since_tick_ns = now - __atomic_load_n(&ag->last_tick, __ATOMIC_ACQUIRE);
	/* a tick may be late by its own length; three intervals are not */
	out->late_after_ns = 3 * every;
	if (!out->started)
		out->problem = "not started";
	else if (out->since_tick_ns > out->late_after_ns)
		out->problem = "ticks stopped";
	else if (!out->nr_watched)
		out->problem = "watching no cgroup";
	else
		out->problem = NULL;
	return out->problem ? -EAGAIN : 0;
}

void agent__self(struct agent *ag, struct agent_self *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ag->lock);
	out->nr_watched = collector__nr_watched(ag->collector);
	out->slots_used = collector__nr_map_entries(ag->collector);
	collector__drops(ag->collector, out->drops);
	memcpy(out->tick_cpu_ns, ag->tick_cpu_ns, sizeof(out->tick_cpu_ns));
	memcpy(out->tick_cpu_total_ns, ag->tick_cpu_total_ns, sizeof(out->tick_cpu_total_ns));
	memcpy(out->ticks, ag->ticks, sizeof(out->ticks));
	collector__readings(ag->collector, out->readings);
	pthread_mutex_unlock(&ag->lock);
	out->nr_progs = loader_prog_stats(ag->skel, out->progs,
					  sizeof(out->progs) / sizeof(out->progs[0]));
}

const struct cgsnap_settings *agent__settings(const struct agent *ag)
{
	return &ag->opts->settings;
}

const char *agent__v2_root(const struct agent *ag)
{
	return ag->layout.v2;
}

bool agent__pins_reused(const struct agent *ag)
{
	return ag->pins_reused;
}
