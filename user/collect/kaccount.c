// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel's side of a tick: what the BPF maps counted since the last one,
 * per slot (run-queue waits, waits in progress, reclaim stalls, OOM kills),
 * added to the accumulators of the watched cgroups from the slot's cgroup up
 * to the root; the accumulator pool; the runq snapshots at the end of an
 * interval; the wake ring that ends a fast tick early. Every cgroup the
 * registry knows may carry a cg_state: its slot and the cumulative counters
 * it had at the previous tick; a slot whose owner no scan can place is a
 * cgroup that is gone, and is recycled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "collector_int.h"
#include "registry.h"
#include "host.h"

/* run-queue waits */

/* a baseline read again this often, at most, until it agrees with itself */
#define BASELINE_READS 4

const struct lat_total coll_no_waits;
const struct mem_total coll_no_stalls;

/*
 * @w's totals (keep_totals), each made when first needed, at its first wait
 * or its first stall: the many cgroups that never wait share coll_no_waits,
 * the many more that never stall coll_no_stalls. False without totals (or
 * memory for them).
 */
static struct lat_total *runq_totals_of(struct collector *c, struct wentry *w)
{
	if (!w->runq_total && c->opts.keep_totals &&
	    (w->runq_total = calloc(1, sizeof(*w->runq_total))))
		w->pub.runq_total = w->runq_total;
	return w->runq_total;
}

static struct mem_total *mem_totals_of(struct collector *c, struct wentry *w)
{
	if (!w->mem_total && c->opts.keep_totals &&
	    (w->mem_total = calloc(1, sizeof(*w->mem_total))))
		w->pub.mem_total = w->mem_total;
	return w->mem_total;
}

void coll_account_runq(struct collector *c, struct cg_node *n, struct cg_state *st)
{
	static struct lat_delta d;	/* only its listed slots are read */
	__u32 slots[CGSNAP_HIST_SLOTS];
	struct cgsnap_runq cur;
	struct cg_node *a;
	struct wentry *w;
	bool changed;
	int i;

	kmaps__runq_read(c->maps, st->slot, &cur, slots);
	c->readings[COLL_RUNQ_READ]++;
	if (!st->rq) {
		st->rq = calloc(1, sizeof(*st->rq));
		if (!st->rq)
			return;
		/* the baseline: what came before us is not this interval's; it is
		 * the totals' when the maps are a previous run's (continue_totals) */
		if (!c->started && !c->opts.continue_totals) {
			for (i = 1; !runq_prev_set(st->rq, &cur, slots) && i < BASELINE_READS; i++)
				kmaps__runq_read(c->maps, st->slot, &cur, slots);
			return;
		}
	}
	changed = runq_delta(st->rq, &cur, slots, &d);
	if (st->rq->sum.count != cur.count)
		c->readings[COLL_RUNQ_TORN]++;
	if (!changed)
		return;
	for (a = n; (w = watched_up(&a));) {
		w->ran = true;
		if (c->started && (w->runq || (w->runq = coll_acc_get(c))))
			lat_interval_add(w->runq, &d);
		if (runq_totals_of(c, w))
			lat_total_add(w->runq_total, &d);
		if (w->runq_full)
			lat_add(w->runq_full, &d);
	}
}

/* the node owning @slot (NULL if the registry does not know it), remembered
 * until the slot changes hands or a scan may have freed nodes */
struct cg_node *coll_slot_node(struct collector *c, uint32_t slot, uint64_t owner)
{
	struct slot_cache *e = &c->slots[slot];

	if (e->owner != owner || !e->node) {
		e->owner = owner;
		e->node = registry__find(c->reg, owner);
	}
	return e->node;
}

void coll_slot_cache_check(struct collector *c)
{
	uint32_t gen = registry__generation(c->reg);

	if (gen == c->slots_gen)
		return;
	memset(c->slots, 0, c->opts.maps.nr_slots * sizeof(*c->slots));
	c->slots_gen = gen;
}

/* fast mode: @slot's tasks waiting right now, for the watched cgroups from @n up */
static void waits_in_progress(struct collector *c, struct cg_node *n, uint32_t slot, int64_t now)
{
	uint64_t age, waiting = kmaps__runq_waiting(c->maps, slot, now, &age);
	struct cg_node *a;
	struct wentry *w;

	if (!waiting)
		return;
	for (a = n; (w = watched_up(&a));) {
		w->waiting += waiting;
		w->waiting_ns += age;
		w->ran = true;
	}
}

int coll_collect_runq(struct collector *c, int64_t now)
{
	const uint64_t *owners = kmaps__owners(c->maps);
	bool unknown = false;
	int64_t wait_now = c->opts.fast ? kmaps__wait_clock(c->maps, now) : 0;
	uint32_t hi, i;
	int scanned;

	c->now = now;
	/* cgroups created since the last tick are known before their waits
	 * are read; removed ones leave after (registry__flush() below) */
	kmaps__events(c->maps, on_cg_event, c);
	hi = kmaps__scan_slots(c->maps);
	coll_slot_cache_check(c);
	for (i = 0; i < hi && !unknown; i++)
		unknown = owners[i] && !coll_slot_node(c, i, owners[i]);
	/* the waits of an unknown cgroup are read after the scan places it */
	c->runs_unknown |= unknown;
	scanned = registry__scan_if_due(c->reg, now, unknown || c->rescan);
	if (scanned < 0)
		return scanned;
	if (scanned) {
		c->rescan = false;
		coll_depth_check(c);
	}
	coll_slot_cache_check(c);
	for (i = 0; i < hi; i++) {
		uint64_t owner = owners[i];
		struct cg_state *st;
		struct cg_node *n;

		if (!owner)
			continue;
		n = coll_slot_node(c, i, owner);
		/*
		 * Unknown ids wait for a scan to place them, so that no wait is
		 * counted against nobody; unknown after a full scan, the cgroup
		 * is gone and its slot is recycled.
		 */
		if (!n) {
			if (scanned)
				kmaps__recycle(c->maps, i, owner);
			continue;
		}
		st = state_of(n);
		st->slot = i;
		st->has_slot = true;
		if (c->opts.fast)
			waits_in_progress(c, n, i, wait_now);
		/* unchanged count since a reading that agreed: nothing else changed */
		if (st->rq && kmaps__runq_count(c->maps, i) == st->rq->sum.count)
			continue;
		coll_account_runq(c, n, st);
	}
	registry__flush(c->reg);
	return 0;
}

struct lat_interval *coll_acc_get(struct collector *c)
{
	return c->nr_pool ? c->pool[--c->nr_pool] : calloc(1, sizeof(struct lat_interval));
}

void coll_acc_put(struct collector *c, struct lat_interval *a)
{
	struct lat_interval **v;

	if (!a)
		return;
	lat_interval_clear(a);
	if (c->nr_pool == c->cap_pool) {
		v = realloc(c->pool, (c->cap_pool ? 2 * c->cap_pool : 64) * sizeof(*v));
		if (!v) {
			free(a);
			return;
		}
		c->pool = v;
		c->cap_pool = c->cap_pool ? 2 * c->cap_pool : 64;
	}
	c->pool[c->nr_pool++] = a;
}

/*
 * At most one accumulator is taken per watched cgroup, all given back at
 * the end of a runq tick: the pool keeps no more than the cgroups watched,
 * and what cgroups that went had used is freed.
 */
static void pool_trim(struct collector *c)
{
	struct lat_interval **v;

	if (c->nr_pool <= c->nr_watched)
		return;
	while (c->nr_pool > c->nr_watched)
		free(c->pool[--c->nr_pool]);
	if (c->cap_pool > 64 && c->nr_pool < c->cap_pool / 4 &&
	    (v = realloc(c->pool, (c->cap_pool / 2) * sizeof(*v)))) {
		c->pool = v;
		c->cap_pool /= 2;
	}
}

/* the runq snapshot of @w's interval, which then starts again */
void coll_runq_interval_end(struct collector *c, struct wentry *w, int64_t now)
{
	static const struct lat_interval none;
	struct cgsnap_snapshot snap;

	build_runq(&c->settings, w->runq ? w->runq : &none, now, &w->pub.last_runq, &snap);
	build_runq_waiting(w->waiting, w->waiting_ns, &w->pub.last_runq, &snap);
	w->waiting = w->waiting_ns = 0;
	coll_add_snapshot(c, w, &snap);
	coll_acc_put(c, w->runq);
	w->runq = NULL;
}

static void on_wake(const struct cgsnap_wake *wk, void *ctx)
{
	(*(unsigned int *)ctx)++;
}

int collector__wake_fd(const struct collector *c)
{
	return kmaps__wake_fd(c->maps);
}

unsigned int collector__wakes(struct collector *c)
{
	unsigned int n = 0;

	kmaps__wakes(c->maps, on_wake, &n);
	return n;
}

int collector__tick_runq(struct collector *c, int64_t now)
{
	struct wentry *w;
	int err;

	err = coll_collect_runq(c, now);
	if (err)
		return err;
	for (w = c->watched; w; w = w->next)
		coll_runq_interval_end(c, w, now);
	pool_trim(c);
	return 0;
}

/* memory pressure */

void coll_account_mem(uint64_t id, const struct cgsnap_mem *v, void *ctx)
{
	struct collector *c = ctx;
	struct cg_node *a, *n = registry__find(c->reg, id);
	struct cg_state *st;
	struct wentry *w;
	struct mem_prev cur;
	struct mem_acc d;

	if (!n)
		return;
	st = state_of(n);
	mem_current(v, c->now, &cur);
	if (!st->mem) {
		st->mem = calloc(1, sizeof(*st->mem));
		if (!st->mem)
			return;
		if (!c->started && !c->opts.continue_totals) {
			*st->mem = cur;
			return;
		}
	}
	mem_delta(st->mem, &cur, &d);
	for (a = n; (w = watched_up(&a));) {
		/* a stall or an OOM kill: its memory moved */
		w->ran |= d.some_ns || d.count[CGSNAP_RECLAIM_DIRECT] ||
			  d.count[CGSNAP_RECLAIM_MEMCG] || d.oom_kills;
		if (c->started)
			w->mem_some_ns += d.some_ns;
		if (mem_totals_of(c, w))
			mem_total_add(w->mem_total, &d);
		if (w->mem_full)
			mem_add(w->mem_full, &d);
	}
}

int coll_collect_mem(struct collector *c, int64_t now)
{
	c->now = now;
	return kmaps__for_each_mem(c->maps, coll_account_mem, c);
}

