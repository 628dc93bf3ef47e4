// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent: open (layout, programs, collector, watches), start, close, and
 * the collector's events passed on by cgroup id and path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"
#include "clock.h"
#include "memiter.h"
#include "report.h"
#include "walk.h"

_Static_assert(AGENT_RESCAN_DEFAULT_NS == COLL_RESCAN_WITH_EVENTS_NS,
	       "cgsnap run's default rescan interval is the collector's");

volatile sig_atomic_t agent_exiting;

/* events: the collector's, passed on by cgroup id and path */

void agent_announce(struct agent *ag, const struct agent_event *ev)
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
		[COLLECTOR_SLOTS_FULL] = AGENT_SLOTS_FULL,
	};
	struct agent *ag = ctx;
	struct agent_event ev = {
		.type = types[cev->type],
		.started = ag->started,
		.snap = cev->snap,
		.warning = cev->warning,
	};
	struct cgsnap_status st;

	if (cev->type == COLLECTOR_DEPTH_LIMIT || cev->type == COLLECTOR_SLOTS_FULL) {
		ev.path = cev->path;
		ev.count = cev->count;
		agent_announce(ag, &ev);
		return;
	}
	ev.id = cev->w->id;
	ev.path = cev->w->name;
	if (cev->type == COLLECTOR_WATCHED)
		ticks_watched(ag, cev->w->id, cev->w->path);

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
		ticks_gone(ag, cev->w->id);
	}
	agent_announce(ag, &ev);
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
		.fast = o->settings.fast,
		.wake_ns = o->settings.max_runq_delay_ns,
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
	char why[512];
	struct collector_opts co = {
		.layout = &ag->layout,
		.settings = &ag->opts->settings,
		.keep_totals = ag->opts->keep_totals,
		.full_totals = ag->opts->full_totals,
		.keep_removed = ag->opts->keep_removed,
		.idle_read_ns = ag->opts->idle_read_ns,
		.cpu_from_cgroupfs = ag->opts->cpu_from_cgroupfs,
		.rescan_ns = ag->opts->rescan_ns,
		.max_depth = max_depth(ag->opts),
		.fast = ag->opts->settings.fast,
		.continue_totals = ag->pins_reused,
		.on_event = on_collector_event,
		.ctx = ag,
	};
	int err;

	/* loaded while privileged; a kernel before 6.1 has no cgroup iterator */
	ag->memiter = memiter__open(cgroup_memory_root(&ag->layout), why, sizeof(why));
	if (!ag->memiter)
		report_log(REPORT_INFO, "%s: each busy cgroup's memory usage is read from its file",
			   why);
	co.memiter = ag->memiter;
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
	ag->epfd = -1;
	ag->verdicts = verdicts__new();
	if (!ag->verdicts) {
		err = -ENOMEM;
		report_err(err, "cannot start");
		goto err;
	}
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
	ticks_stop(ag);
	collector__free(ag->collector);
	memiter__close(ag->memiter);
	loader_close(ag->skel);
	verdicts__free(ag->verdicts);
	pthread_mutex_destroy(&ag->lock);
	free(ag);
}


int agent__start(struct agent *ag, int64_t now)
{
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
	/* PSI triggers are made before the capabilities go: a privileged one
	 * takes a 1 s window */
	err = ticks_start(ag, now);
	if (err)
		return err;
	if (ag->opts->drop_caps) {
		err = loader_drop_caps();
		if (err)
			report_err(err, "warning: cannot drop capabilities");
	}
	return 0;
}

