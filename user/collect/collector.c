// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every cgroup the registry knows may carry a cg_state: its run-queue slot
 * and the cumulative counters it had at the previous tick. The difference
 * is added to the accumulators of every watched cgroup on its way to the
 * root. A slot whose owner no scan can place is a cgroup that is gone: it
 * is recycled.
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
static void add_snapshot(struct collector *c, struct wentry *w, const struct cgsnap_snapshot *snap)
{
	struct cgsnap_memory_warning warning;
	struct collector_event ev = { .type = COLLECTOR_SNAPSHOT, .w = &w->pub };
	int ret = cgsnap_snapshotter__add(w->pub.snap, snap, &warning);

	if (ret < 0 || !c->opts.on_event)
		return;
	ev.snap = cgsnap_snapshotter__latest(w->pub.snap, snap->kind);
	c->opts.on_event(&ev, c->opts.ctx);
	if (ret == 1)
		coll_emit(c, COLLECTOR_MEMORY_WARNING, &w->pub, &warning);
}

/* the watched cgroups from @*a up to the root, one per call; NULL at the end */
static struct wentry *watched_up(struct cg_node **a)
{
	struct cg_state *st;

	for (; *a; *a = (*a)->parent) {
		st = state_of(*a);
		if (st->w) {
			*a = (*a)->parent;
			return st->w;
		}
	}
	return NULL;
}

/* run-queue waits */

/* a baseline read again this often, at most, until it agrees with itself */
#define BASELINE_READS 4

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
			lat_add(w->runq, &d);
		if (w->runq_total)
			lat_total_add(w->runq_total, &d);
		if (w->runq_full)
			lat_add(w->runq_full, &d);
	}
}

/* the node owning @slot (NULL if the registry does not know it), remembered
 * until the slot changes hands or a scan may have freed nodes */
static struct cg_node *slot_node(struct collector *c, uint32_t slot, uint64_t owner)
{
	struct slot_cache *e = &c->slots[slot];

	if (e->owner != owner || !e->node) {
		e->owner = owner;
		e->node = registry__find(c->reg, owner);
	}
	return e->node;
}

static void slot_cache_check(struct collector *c)
{
	uint32_t gen = registry__generation(c->reg);

	if (gen == c->slots_gen)
		return;
	memset(c->slots, 0, c->opts.maps.nr_slots * sizeof(*c->slots));
	c->slots_gen = gen;
}

/* a scan found cgroups below the depth limit: say so when there are more */
static void depth_check(struct collector *c)
{
	struct collector_event ev = { .type = COLLECTOR_DEPTH_LIMIT };

	ev.count = registry__beyond(c->reg, &ev.path);
	if (ev.count > c->beyond_told && c->opts.on_event)
		c->opts.on_event(&ev, c->opts.ctx);
	c->beyond_told = ev.count > c->beyond_told ? ev.count : c->beyond_told;
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

static int collect_runq(struct collector *c, int64_t now)
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
	slot_cache_check(c);
	for (i = 0; i < hi && !unknown; i++)
		unknown = owners[i] && !slot_node(c, i, owners[i]);
	/* the waits of an unknown cgroup are read after the scan places it */
	c->runs_unknown |= unknown;
	scanned = registry__scan_if_due(c->reg, now, unknown || c->rescan);
	if (scanned < 0)
		return scanned;
	if (scanned) {
		c->rescan = false;
		depth_check(c);
	}
	slot_cache_check(c);
	for (i = 0; i < hi; i++) {
		uint64_t owner = owners[i];
		struct cg_state *st;
		struct cg_node *n;

		if (!owner)
			continue;
		n = slot_node(c, i, owner);
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

struct lat_acc *coll_acc_get(struct collector *c)
{
	return c->nr_pool ? c->pool[--c->nr_pool] : calloc(1, sizeof(struct lat_acc));
}

void coll_acc_put(struct collector *c, struct lat_acc *a)
{
	struct lat_acc **v;

	if (!a)
		return;
	lat_clear(a);
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

/* the runq snapshot of @w's interval, which then starts again */
static void runq_interval_end(struct collector *c, struct wentry *w, int64_t now)
{
	static const struct lat_acc none;
	struct cgsnap_snapshot snap;

	build_runq(&c->settings, w->runq ? w->runq : &none, now, &w->pub.last_runq, &snap);
	build_runq_waiting(w->waiting, w->waiting_ns, &w->pub.last_runq, &snap);
	w->waiting = w->waiting_ns = 0;
	add_snapshot(c, w, &snap);
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

	err = collect_runq(c, now);
	if (err)
		return err;
	for (w = c->watched; w; w = w->next)
		runq_interval_end(c, w, now);
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
		if (w->mem_total)
			mem_total_add(w->mem_total, &d);
		if (w->mem_full)
			mem_add(w->mem_full, &d);
	}
}

static int collect_mem(struct collector *c, int64_t now)
{
	c->now = now;
	return kmaps__for_each_mem(c->maps, coll_account_mem, c);
}

/* cpu and memory snapshots */

/*
 * Which cgroups ran since their last reading (opts.idle_read_ns). A cgroup
 * is charged CPU time only while one of its tasks runs, and in sched_info
 * mode every run is counted in its slot when the task leaves the CPU: so a
 * watched cgroup whose waits did not move (w->ran) and that is not on a CPU
 * right now (the per-CPU notes) used no CPU since, and its usage is the one
 * last read. Not known (everything is read) without the notes, after a
 * drop, or while a slot's cgroup was unknown: a run may have gone uncounted.
 */
static bool runs_known(struct collector *c)
{
	uint64_t drops[CGSNAP_DROP_MAX], sum = 0;
	bool known = !c->runs_unknown;
	struct cg_node *a, *n;
	struct wentry *w;
	int i, cpus;

	c->runs_unknown = false;
	if (kmaps__drops(c->maps, drops))
		return false;
	/* creations or removals the kernel could not tell: the scan finds them */
	if (drops[CGSNAP_DROP_EVENTS_FULL] != c->events_full_seen)
		c->rescan = true;
	c->events_full_seen = drops[CGSNAP_DROP_EVENTS_FULL];
	for (i = 0; i < CGSNAP_DROP_MAX; i++)
		sum += drops[i];
	known &= c->drops_read && sum == c->drops_seen;
	c->drops_seen = sum;
	c->drops_read = true;
	if (c->opts.idle_read_ns <= 0)
		return false;
	cpus = kmaps__running(c->maps, c->running, kmaps__nr_cpus(c->maps));
	if (!known || cpus < 0)
		return false;
	for (i = 0; i < cpus; i++) {
		if (!c->running[i])
			continue;
		n = registry__find(c->reg, c->running[i]);
		if (!n)
			return false;	/* a cgroup the registry has not placed yet */
		for (a = n; (w = watched_up(&a));)
			w->ran = true;
	}
	return true;
}

/* a cgroup's first readings of memory and capacity spread over the idle interval, by id */
static int64_t spread(uint64_t id, int64_t span)
{
	return (int64_t)((id * 0x9E3779B97F4A7C15ULL >> 32) % (uint64_t)span);
}

/*
 * Reading a v2 cgroup's cpu.stat flushes the CPU times its subtree has
 * pending (rstat), and then unlinks it from its parent's list of updated
 * children, a singly linked list the kernel walks to find it: reading k busy
 * siblings one after another costs k^2/2 steps of that walk (2,000 busy
 * siblings: 3.5x the time of reading them after their parent). Reading the
 * parent first flushes them all in one pass, and they find nothing left to
 * unlink. The siblings run again while they are read, and go back on the
 * list: so a parent with at least FLUSH_EVERY children whose CPU this tick
 * reads is read before the first of them and again every FLUSH_EVERY of them.
 * The root flushes nothing (its cpu.stat is summed from its children);
 * cgroup v1's cpuacct has no such list, and a parent without cpu.stat is
 * skipped.
 */
#define FLUSH_EVERY 32

/* @w's CPU usage this tick: the last one kept, since it did not run */
static bool cpu_kept(const struct wentry *w, bool idle)
{
	return idle && w->pub.sys_state.have_cpu;
}

/* the parent whose cpu.stat can flush @w's, or NULL (the root flushes nothing) */
static struct cg_node *flush_point(const struct wentry *w)
{
	struct cg_node *p = w->node->parent;

	return p && p->parent ? p : NULL;
}

static void count_reads(struct collector *c, bool known)
{
	struct cg_state *st;
	struct cg_node *p;
	struct wentry *w;

	c->sys_ticks++;
	for (w = c->watched; w; w = w->next) {
		if (cpu_kept(w, known && !w->ran) || !(p = flush_point(w)))
			continue;
		st = state_of(p);
		if (st->reads_tick != c->sys_ticks) {
			st->reads_tick = c->sys_ticks;
			st->reads = 0;
			st->since_flush = 0;
		}
		st->reads++;
	}
}

/* before @w's CPU is read */
static void flush_parent(struct collector *c, struct wentry *w)
{
	struct cg_node *p = flush_point(w);
	struct cg_state *st;
	uint64_t usage;

	if (!p)
		return;
	st = state_of(p);
	if (st->reads_tick != c->sys_ticks || st->reads < FLUSH_EVERY ||
	    st->since_flush++ % FLUSH_EVERY)
		return;
	if (!cgroup_read_key(c->opts.layout->v2, p->path, "cpu.stat", "usage_usec", &usage))
		c->readings[COLL_CPU_FLUSH]++;
}

static void cpu_snapshot(struct collector *c, struct wentry *w, int64_t now, bool idle)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint32_t gen = registry__generation(c->reg);
	struct cgsnap_snapshot snap;
	uint64_t usage;

	if (cpu_kept(w, idle)) {
		usage = w->pub.sys_state.last_cpu_ns;	/* it did not run: unchanged */
		c->readings[COLL_CPU_KEPT]++;
	} else {
		flush_parent(c, w);
		if (cgroup_cpu_usage(l, w->pub.path, &usage))
			return;
		c->readings[COLL_CPU_READ]++;
	}
	/* limits change rarely: resolved again after each scan, not each tick;
	 * with idle reads, every idle interval (spread) while it runs: idle, its
	 * ratio is 0 whatever it may use */
	if (c->opts.idle_read_ns > 0 ? (!w->cap_due || (!idle && now >= w->cap_due)) :
				       w->cap_gen != gen) {
		if (cgroup_cpu_capacity(l, w->pub.path, &w->pub.sys.cpu_capacity))
			return;
		w->cap_gen = gen;
		if (c->opts.idle_read_ns > 0)
			w->cap_due = now + (w->cap_due ? c->opts.idle_read_ns :
					    spread(w->pub.id, c->opts.idle_read_ns));
	}
	if (build_cpu(&c->settings, &w->pub.sys_state, &w->pub.sys, usage, now, &snap))
		add_snapshot(c, w, &snap);
}

static void memory_snapshot(struct collector *c, struct wentry *w, int64_t now,
			    const struct host_memory *host, bool idle)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint32_t gen = registry__generation(c->reg);
	struct cgsnap_snapshot snap;
	struct cgroup_memory mem;
	bool known, reuse;
	double stall;
	uint64_t psi = 0;

	if (w->have_no_mem && w->no_mem_gen == gen)
		return;
	/* a cgroup that did not run keeps its last reading until it is due,
	 * and then too if its usage did not move (but every few times) */
	reuse = idle && w->pub.sys.valid && now < w->mem_due;
	if (reuse) {
		c->readings[COLL_MEM_KEPT]++;
	} else if (idle && w->pub.sys.valid && w->mem_checks < COLL_MEM_CHECKS) {
		int64_t usage;

		reuse = !cgroup_memory_usage(l, w->pub.path, &usage) &&
			usage == w->pub.sys.mem.usage_bytes;
		if (reuse) {
			w->mem_checks++;
			w->mem_due = now + c->opts.idle_read_ns;
			c->readings[COLL_MEM_CHECKED]++;
		}
	}
	if (reuse) {
		mem = w->pub.sys.mem;
	} else {
		w->mem_checks = 0;
		if (cgroup_memory(l, w->pub.path, &mem)) {
			/* no memory files (e.g. no v1 memory cgroup): look again after a scan */
			w->no_mem_gen = gen;
			w->have_no_mem = true;
			return;
		}
		w->pub.sys.psi = !cgroup_psi_some_us(l, w->pub.path, "memory", &psi);
		c->readings[COLL_MEM_READ]++;
		if (c->opts.idle_read_ns > 0)
			w->mem_due = now + (w->mem_due ? c->opts.idle_read_ns :
					    spread(w->pub.id, c->opts.idle_read_ns));
	}
	known = build_stall_ratio(&w->pub.sys_state, w->mem_some_ns, !reuse && w->pub.sys.psi,
				  psi, now, &stall);
	if (build_memory(&c->settings, &mem, host, known, stall, now, &w->pub.sys, &snap))
		add_snapshot(c, w, &snap);
}

int collector__tick_system(struct collector *c, int64_t now)
{
	struct host_memory host = {};
	struct wentry *w;
	bool known;
	int err;

	err = collect_mem(c, now);
	if (err)
		return err;
	if (meminfo_read(c->opts.meminfo, &host.total_bytes, &host.available_bytes))
		host.total_bytes = host.available_bytes = 0;
	known = runs_known(c);
	count_reads(c, known);
	for (w = c->watched; w; w = w->next) {
		bool idle = known && !w->ran;

		cpu_snapshot(c, w, now, idle);
		memory_snapshot(c, w, now, &host, idle);
		w->pub.sys_state.prev_t = now;
		w->mem_some_ns = 0;
		w->ran = false;
	}
	return 0;
}

int collector__tick_client(struct collector *c, int64_t now)
{
	struct cgsnap_snapshot snap;
	struct wentry *w;

	for (w = c->watched; w; w = w->next) {
		build_client(&c->settings, cgsnap_snapshotter__client_error_count(w->pub.snap), now,
			     &snap);
		add_snapshot(c, w, &snap);
	}
	return 0;
}

int collector__scan(struct collector *c)
{
	int err = registry__scan(c->reg);

	if (!err)
		depth_check(c);
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
	err = collect_runq(c, now);
	if (!err)
		err = collect_mem(c, now);
	if (err)
		return err;
	c->started = true;
	for (w = c->watched; w; w = w->next) {
		bool have_usage = !cgroup_cpu_usage(l, w->pub.path, &usage);
		bool have_psi = !cgroup_psi_some_us(l, w->pub.path, "memory", &psi);

		build_start(&w->pub.sys_state, now, have_usage, usage, have_psi, psi);
		coll_acc_put(c, w->runq);
		w->runq = NULL;
		w->mem_some_ns = 0;
		runq_interval_end(c, w, now);
	}
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
	c->running = c->slots ? calloc(kmaps__nr_cpus(c->maps), sizeof(*c->running)) : NULL;
	c->reg = c->running ? registry__new(opts->layout->v2, &ops, c) : NULL;
	if (!c->reg) {
		err = errno;
		collector__free(c);
		errno = err;
		return NULL;
	}
	registry__set_max_depth(c->reg, opts->max_depth);
	/* the kernel tells creations and removals: scans are the safety net */
	if (opts->maps.events_fd >= 0)
		registry__set_rescan(c->reg, COLL_RESCAN_WITH_EVENTS_NS);
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
