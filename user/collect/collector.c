// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The collector: the watched cgroups of a registry, each with its
 * snapshotter, fed by the ticks (kaccount.c from the BPF maps, systick.c
 * from the cgroup files, the client tick here). Construction, start, the
 * snapshots in, and the lookups the agent makes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "collector_int.h"
#include "registry.h"
#include "host.h"

/* events */

void coll_emit(struct collector *c, enum collector_event_type type, const struct watched *w,
		 const struct cgsnap_memory_warning *warning)
{
	struct collector_event ev = { .type = type, .w = w, .warning = warning };

	if (c->opts.on_event)
		c->opts.on_event(&ev, c->opts.ctx);
}

/* add @snap to @w's history, and tell about it and any warning it raised */
void coll_add_snapshot(struct collector *c, struct wentry *w, const struct cgsnap_snapshot *snap)
{
	struct cgsnap_memory_warning warning;
	struct collector_event ev = { .type = COLLECTOR_SNAPSHOT, .w = &w->pub };
	int ret = cgsnap_snapshotter__add(w->pub.snap, snap, &warning);
	struct cgsnap_snapshot latest;

	if (ret < 0 || !c->opts.on_event)
		return;
	if (!cgsnap_snapshotter__latest(w->pub.snap, snap->kind, &latest))
		return;
	ev.snap = &latest;
	c->opts.on_event(&ev, c->opts.ctx);
	if (ret == 1)
		coll_emit(c, COLLECTOR_MEMORY_WARNING, &w->pub, &warning);
}

/* a scan found cgroups below the depth limit: say so when there are more */
void coll_depth_check(struct collector *c)
{
	struct collector_event ev = { .type = COLLECTOR_DEPTH_LIMIT };

	ev.count = registry__beyond(c->reg, &ev.path);
	if (ev.count > c->beyond_told && c->opts.on_event)
		c->opts.on_event(&ev, c->opts.ctx);
	c->beyond_told = ev.count > c->beyond_told ? ev.count : c->beyond_told;
}

int collector__tick_client(struct collector *c, int64_t now)
{
	struct cgsnap_snapshot snap;
	struct wentry *w;

	for (w = c->watched; w; w = w->next) {
		build_client(&c->settings, cgsnap_snapshotter__client_error_count(w->pub.snap), now,
			     &snap);
		coll_add_snapshot(c, w, &snap);
	}
	return 0;
}

int collector__scan(struct collector *c)
{
	int err = registry__scan(c->reg);

	if (!err)
		coll_depth_check(c);
	return err;
}

int collector__start(struct collector *c, int64_t now)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint64_t usage, psi;
	struct wentry *w;
	int err;

	/* a tree scanned already (to know the watched set) is not scanned twice */
	err = registry__scanned(c->reg) ? 0 : registry__scan(c->reg);
	if (err)
		return err;
	registry__defer_scan(c->reg, now);
	/* baseline: counters from before the start are not attributed */
	err = coll_collect_runq(c, now);
	if (!err)
		err = coll_collect_mem(c, now);
	if (err)
		return err;
	c->started = true;
	coll_system_start(c, now);
	for (w = c->watched; w; w = w->next) {
		bool have_usage = !cgroup_cpu_usage(l, w->pub.path, &usage);
		bool have_psi = !cgroup_psi_some_us(l, w->pub.path, "memory", &psi);

		build_start(&w->pub.sys_state, now, have_usage, usage, have_psi, psi);
		if (have_usage)
			coll_cpu_baseline(w, usage);
		coll_acc_put(c, w->runq);
		w->runq = NULL;
		w->mem_some_ns = 0;
		coll_runq_interval_end(c, w, now);
	}
	coll_cpu_rebase(c, now);
	return collector__tick_client(c, now);
}

/* construction and lookups */

struct collector *collector__new(const struct collector_opts *opts)
{
	static const struct registry_ops ops = {
		.priv_size = sizeof(struct cg_state),
		.watch = on_watch,
		.gone = on_gone,
		.release = on_release,
	};
	struct collector *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return NULL;
	c->opts = *opts;
	if (opts->settings)
		c->settings = *opts->settings;
	else
		cgsnap_settings__init(&c->settings);
	if (!c->opts.meminfo)
		c->opts.meminfo = "/proc/meminfo";
	c->maps = kmaps__open(&opts->maps);
	c->slots = c->maps ? calloc(opts->maps.nr_slots, sizeof(*c->slots)) : NULL;
	if (c->slots) {
		int ncpus = kmaps__nr_cpus(c->maps);

		c->running = calloc(ncpus, sizeof(*c->running));
		c->running_after = calloc(ncpus, sizeof(*c->running_after));
		c->runs = calloc(ncpus, sizeof(*c->runs));
	}
	c->reg = c->running && c->running_after && c->runs ?
		 registry__new(opts->layout->v2, &ops, c) : NULL;
	if (!c->reg) {
		err = errno;
		collector__free(c);
		errno = err;
		return NULL;
	}
	registry__set_max_depth(c->reg, opts->max_depth);
	c->host_pids = coll_host_pids();
	/* the kernel tells creations and removals: scans are the safety net */
	if (opts->maps.events_fd >= 0)
		registry__set_rescan(c->reg, opts->rescan_ns > 0 ? opts->rescan_ns :
						     COLL_RESCAN_WITH_EVENTS_NS);
	return c;
}

void collector__free(struct collector *c)
{
	struct wentry *w;

	if (!c)
		return;
	while ((w = c->watched)) {
		c->watched = w->next;
		wentry_free(w);
	}
	while ((w = c->removed)) {
		c->removed = w->next;
		wentry_free(w);
	}
	registry__free(c->reg);
	kmaps__close(c->maps);
	free(c->slots);
	free(c->running);
	free(c->running_after);
	free(c->runs);
	while (c->nr_pool)
		free(c->pool[--c->nr_pool]);
	free(c->pool);
	free(c);
}

int collector__watch(struct collector *c, const char *path)
{
	return registry__watch(c->reg, path);
}

int collector__watch_all(struct collector *c, const char *path)
{
	return registry__watch_all(c->reg, path);
}

struct watched *collector__first(struct collector *c)
{
	return c->watched ? &c->watched->pub : NULL;
}

struct watched *collector__next(struct watched *w)
{
	struct wentry *next = wentry_of(w)->next;

	return next ? &next->pub : NULL;
}

struct watched *collector__find_id(struct collector *c, uint64_t id)
{
	struct cg_node *n = registry__find(c->reg, id);

	return n && state_of(n)->w ? &state_of(n)->w->pub : NULL;
}

struct watched *collector__find_path(struct collector *c, const char *path)
{
	char rel[4096];
	struct wentry *w;

	registry__relative(c->reg, path, rel, sizeof(rel));
	for (w = c->watched; w; w = w->next)
		if (!strcmp(w->pub.path, rel) || !strcmp(w->pub.name, rel))
			return &w->pub;
	return NULL;
}

struct watched *collector__first_removed(struct collector *c)
{
	return c->removed ? &c->removed->pub : NULL;
}

unsigned int collector__nr_removed(const struct collector *c)
{
	return c->nr_removed;
}

void collector__readings(const struct collector *c, uint64_t out[COLL_READING_MAX])
{
	memcpy(out, c->readings, sizeof(c->readings));
	out[COLL_TREE_SCAN] = registry__nr_scans(c->reg);
}

unsigned int collector__nr_watched(const struct collector *c)
{
	return c->nr_watched;
}

unsigned int collector__nr_map_entries(const struct collector *c)
{
	return kmaps__nr_used(c->maps);
}

int collector__drops(const struct collector *c, uint64_t out[CGSNAP_DROP_MAX])
{
	return kmaps__drops(c->maps, out);
}
