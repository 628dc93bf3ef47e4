// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Watched cgroups come and go: selected by a scan or told by the kernel
 * (cgroup_mkdir), and gone when a scan misses them or the kernel tells
 * (cgroup_rmdir, cgroup_release). A gone cgroup's last counters are read
 * before its slot is recycled.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector_int.h"
#include "escape.h"

/* watched cgroups, created and dropped by the registry's scans */

void wentry_free(struct wentry *w)
{
	if (!w)
		return;
	if (w->usage_fd >= 0)
		close(w->usage_fd);
	cgroup_cpu_twins_free(&w->twins);
	cgsnap_snapshotter__free(w->pub.snap);
	free(w->runq);
	free(w->runq_total);
	free(w->mem_total);
	free(w->runq_full);
	free(w->mem_full);
	free((char *)w->pub.path);
	free((char *)w->pub.name);
	free(w);
}

/*
 * The printable name of @n's cgroup: its path, escaped; past
 * COLL_NAME_MAX bytes (cgroupfs allows paths beyond PATH_MAX, which a
 * Prometheus label limit or a log line would not take) cut at a character
 * and marked with its id, by which the API finds it.
 */
static char *display_name(const struct cg_node *n)
{
	char *name = escape_text_dup(n->path), *cut;

	if (!name || strlen(name) <= COLL_NAME_MAX)
		return name;
	cut = malloc(COLL_NAME_MAX + 64);
	if (cut) {
		escape_text(name, cut, COLL_NAME_MAX - 40);
		snprintf(cut + strlen(cut), 64 + 40, "...[truncated, id %llu]",
			 (unsigned long long)n->id);
	}
	free(name);
	return cut;
}

int on_watch(struct cg_node *n, void *ctx)
{
	struct collector *c = ctx;
	struct cg_state *st = state_of(n);
	struct wentry *w = calloc(1, sizeof(*w));

	if (!w)
		goto err;
	w->usage_fd = -1;
	w->pub.id = n->id;
	w->pub.path = strdup(n->path);
	w->pub.name = display_name(n);
	w->pub.snap = cgsnap_snapshotter__new(&c->settings);
	if (c->opts.keep_totals && c->opts.full_totals) {
		w->runq_full = calloc(1, sizeof(*w->runq_full));
		w->mem_full = calloc(1, sizeof(*w->mem_full));
		if (!w->runq_full || !w->mem_full)
			goto err;
	}
	if (!w->pub.path || !w->pub.name || !w->pub.snap)
		goto err;
	/* totals are made at a first wait or stall (kaccount.c): until then
	 * the shared zeros */
	w->pub.runq_total = c->opts.keep_totals ? &coll_no_waits : NULL;
	w->pub.mem_total = c->opts.keep_totals ? &coll_no_stalls : NULL;
	w->pub.runq_full = w->runq_full;
	w->pub.mem_full = w->mem_full;
	cgsnap_snapshotter__start(w->pub.snap);
	w->node = n;
	st->w = w;
	w->next = c->watched;
	c->watched = w;
	c->nr_watched++;
	coll_emit(c, COLLECTOR_WATCHED, &w->pub, NULL);
	return 0;
err:
	wentry_free(w);
	n->watched = false;	/* the next scan tries again */
	return -ENOMEM;
}

static void state_free(struct cg_node *n)
{
	struct cg_state *st = state_of(n);

	free(st->rq);
	free(st->mem);
	memset(st, 0, sizeof(*st));
}

static void unlink_watched(struct collector *c, struct wentry *w)
{
	struct wentry **pp;

	for (pp = &c->watched; *pp; pp = &(*pp)->next) {
		if (*pp != w)
			continue;
		*pp = w->next;
		c->nr_watched--;
		return;
	}
}

/*
 * The last counters of @n, whose cgroup is gone: what its tasks did since
 * the last tick (all of it, for a cgroup that lived shorter than a tick)
 * still counts, for it and the watched cgroups above it.
 */
static void final_counts(struct collector *c, struct cg_node *n, struct cg_state *st)
{
	struct cgsnap_mem mem;

	if (!c->started)
		return;
	if (!st->has_slot && !kmaps__slot_of(c->maps, n->id, &st->slot))
		st->has_slot = st->slot < c->opts.maps.nr_slots;
	if (st->has_slot && kmaps__owners(c->maps)[st->slot] == n->id) {
		coll_account_runq(c, n, st);
		coll_account_cpu(c, n, st, st->slot);
	}
	if (!kmaps__mem_of(c->maps, n->id, &mem))
		coll_account_mem(n->id, &mem, c);
}

/* the cgroup of @n is gone: count its last waits, tell, and free what the
 * kernel side holds for it */
void on_gone(struct cg_node *n, void *ctx)
{
	struct collector *c = ctx;
	struct cg_state *st = state_of(n);
	struct wentry *w = st->w;

	final_counts(c, n, st);
	if (w) {
		unlink_watched(c, w);
		coll_usage_close(c, w);
		coll_acc_put(c, w->runq);
		w->runq = NULL;
		w->pub.removed = true;
		w->pub.removed_ns = c->now;
		w->node = NULL;
		coll_emit(c, COLLECTOR_GONE, &w->pub, NULL);
		if (c->opts.keep_removed) {
			w->next = c->removed;
			c->removed = w;
			c->nr_removed++;
		} else {
			wentry_free(w);
		}
	}
	if (st->has_slot)
		kmaps__recycle(c->maps, st->slot, n->id);
	kmaps__forget_mem(c->maps, n->id);
	state_free(n);
}

/* a cgroup created or removed, as the kernel tells it */
void on_cg_event(const struct cgsnap_cg_event *e, void *ctx)
{
	struct collector *c = ctx;

	switch (e->type) {
	case CGSNAP_EVENT_MKDIR:
		/* < 0: not a name (ignored), or no memory: the next scan retries */
		registry__add(c->reg, e->id, e->parent_id, e->name);
		break;
	case CGSNAP_EVENT_RMDIR:
	case CGSNAP_EVENT_RELEASE:
		registry__remove(c->reg, e->id);
		break;
	}
}

void on_release(struct cg_node *n, void *ctx)
{
	state_free(n);
}

