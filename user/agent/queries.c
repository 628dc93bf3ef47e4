// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's queries, from any thread: what they ask for, copied under the
 * agent's lock, rendered outside it. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"

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
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		out->has_latest[k] = cgsnap_snapshotter__latest(w->snap, k, &out->latest[k]);
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
	int err;

	err = cgsnap_snapshotter__sample(w->snap, kind, duration_ns, &sample);
	if (err)
		return err;
	*out = malloc((sample.len + 1) * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	*n = cgsnap_sample__copy(&sample, 0, sample.len, *out);
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
