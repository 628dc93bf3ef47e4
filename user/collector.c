// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every cgroup id met in the maps or the v2 tree is a node, found by id in a
 * chained hash table, with a pointer to its parent. A node remembers the
 * cumulative counters it had at the previous tick; the difference is added
 * to the accumulators of every watched node on its way to the root. Nodes
 * are created by scanning the tree (at start, when the maps name an id the
 * table does not know, and every RESCAN_NS) and freed, with their map
 * entries, when a scan no longer finds them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "cgsnap.skel.h"

#define RESCAN_NS		(2 * CGSNAP_NSEC_PER_SEC)
#define UNKNOWN_RESCAN_NS	(1 * CGSNAP_NSEC_PER_SEC)

struct runq_prev {
	struct cgsnap_runq sum;			/* summed over CPUs */
	__u32 slots[CGSNAP_HIST_SLOTS];
};

struct mem_prev {
	__u64 count[CGSNAP_RECLAIM_MAX];
	__u64 sum_ns[CGSNAP_RECLAIM_MAX];
	__u64 max_ns;
	__u64 some_ns;				/* including the stall in progress */
	__u64 oom_kills;
	__u32 slots[CGSNAP_HIST_SLOTS];
};

struct node {
	uint64_t id;
	struct node *hnext;
	struct node *parent;
	char *path;		/* NULL until a scan finds it */
	uint32_t gen;		/* the last scan that found it */
	uint32_t slot;		/* its run-queue slot, when has_slot */
	bool has_slot;
	struct runq_prev *rq;
	struct mem_prev *mem;
	struct watched *w;
};

struct collector {
	struct collector_opts opts;
	struct cgsnap_settings settings;
	struct node **buckets;
	uint32_t nbuckets, nr_nodes;
	uint32_t gen;
	int64_t last_scan_ns;
	bool scanned, started;
	struct watched *watched;
	unsigned int nr_watched;
	char **wanted;		/* explicit paths */
	unsigned int nr_wanted;
	char **all_roots;	/* --all roots */
	unsigned int nr_all;
	int ncpus;
	unsigned int nr_map_entries;
	/* the slot arrays, mapped into our memory: read in place */
	__u64 *owners;			/* cg_owner[nr_slots] */
	struct cgsnap_runq *runq;	/* cg_runq[nr_slots x ncpus] */
	struct cgsnap_hist *hists;	/* cg_runq_hist[nr_slots] */
	size_t owners_len, runq_len, hists_len;
	int64_t scan_cost_ns;		/* CPU time of the last scan */
};

/* node table */

static uint32_t hash_id(uint64_t id, uint32_t nbuckets)
{
	return (uint32_t)((id * 0x9E3779B97F4A7C15ULL) >> 32) & (nbuckets - 1);
}

static struct node *node_find(const struct collector *c, uint64_t id)
{
	struct node *n;

	for (n = c->buckets[hash_id(id, c->nbuckets)]; n; n = n->hnext)
		if (n->id == id)
			return n;
	return NULL;
}

static int table_grow(struct collector *c)
{
	uint32_t nb = c->nbuckets * 2, i;
	struct node **b = calloc(nb, sizeof(*b)), *n, *next;

	if (!b)
		return -ENOMEM;
	for (i = 0; c->buckets && i < c->nbuckets; i++) {
		for (n = c->buckets[i]; n; n = next) {
			uint32_t h = hash_id(n->id, nb);

			next = n->hnext;
			n->hnext = b[h];
			b[h] = n;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
	return 0;
}

static struct node *node_get(struct collector *c, uint64_t id)
{
	struct node *n = node_find(c, id);
	uint32_t h;

	if (n)
		return n;
	if (c->nr_nodes >= c->nbuckets && table_grow(c))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->id = id;
	h = hash_id(id, c->nbuckets);
	n->hnext = c->buckets[h];
	c->buckets[h] = n;
	c->nr_nodes++;
	return n;
}

/* watched cgroups */

static void emit(struct collector *c, enum collector_event_type type, const struct watched *w,
		 const struct cgsnap_memory_warning *warning)
{
	struct collector_event ev = { .type = type, .w = w, .warning = warning };

	if (c->opts.on_event)
		c->opts.on_event(&ev, c->opts.ctx);
}

/* add @snap to @w's history, and tell about it and any warning it raised */
static void add_snapshot(struct collector *c, struct watched *w, const struct cgsnap_snapshot *snap)
{
	struct cgsnap_memory_warning warning;
	struct collector_event ev = { .type = COLLECTOR_SNAPSHOT, .w = w };
	int ret = cgsnap_snapshotter__add(w->snap, snap, &warning);

	if (ret < 0 || !c->opts.on_event)
		return;
	ev.snap = cgsnap_snapshotter__latest(w->snap, snap->kind);
	c->opts.on_event(&ev, c->opts.ctx);
	if (ret == 1)
		emit(c, COLLECTOR_MEMORY_WARNING, w, &warning);
}

static void watched_free(struct watched *w)
{
	if (!w)
		return;
	cgsnap_snapshotter__free(w->snap);
	free(w->runq_total);
	free(w->mem_total);
	free(w->path);
	free(w);
}

static int watched_new(struct collector *c, struct node *n)
{
	struct watched *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->id = n->id;
	w->path = strdup(n->path);
	w->snap = cgsnap_snapshotter__new(&c->settings);
	if (c->opts.keep_totals) {
		w->runq_total = calloc(1, sizeof(*w->runq_total));
		w->mem_total = calloc(1, sizeof(*w->mem_total));
	}
	if (!w->path || !w->snap ||
	    (c->opts.keep_totals && (!w->runq_total || !w->mem_total))) {
		watched_free(w);
		return -ENOMEM;
	}
	cgsnap_snapshotter__start(w->snap);
	w->node = n;
	n->w = w;
	w->next = c->watched;
	c->watched = w;
	c->nr_watched++;
	emit(c, COLLECTOR_WATCHED, w, NULL);
	return 0;
}

static void watched_remove(struct collector *c, struct watched *w)
{
	struct watched **pp;

	for (pp = &c->watched; *pp; pp = &(*pp)->next) {
		if (*pp != w)
			continue;
		*pp = w->next;
		c->nr_watched--;
		break;
	}
	emit(c, COLLECTOR_GONE, w, NULL);
	w->node->w = NULL;
	watched_free(w);
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!n)
		return true;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

static bool wants(const struct collector *c, const char *path)
{
	unsigned int i;

	for (i = 0; i < c->nr_wanted; i++)
		if (!strcmp(c->wanted[i], path))
			return true;
	for (i = 0; i < c->nr_all; i++)
		if (under(path, c->all_roots[i]))
			return true;
	return false;
}

/* scanning the v2 tree */

static int scan_found(struct collector *c, struct node *n, struct node *parent, const char *path)
{
	n->gen = c->gen;
	n->parent = parent;
	if (!n->path || strcmp(n->path, path)) {
		char *p = strdup(path);

		if (!p)
			return -ENOMEM;
		free(n->path);
		n->path = p;
	}
	if (!n->w && wants(c, path))
		return watched_new(c, n);
	return 0;
}

static int scan_dir(struct collector *c, int dfd, char *path, size_t len, struct node *parent)
{
	size_t plen = strlen(path);
	struct dirent *de;
	struct node *n;
	struct stat st;
	DIR *dir;
	int err, fd;

	if (fstat(dfd, &st))
		return -errno;
	n = node_get(c, st.st_ino);
	if (!n)
		return -ENOMEM;
	err = scan_found(c, n, parent, path);
	if (err)
		return err;
	fd = dup(dfd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (!err && (de = readdir(dir))) {
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (plen + strlen(de->d_name) + 2 > len)
			continue;	/* deeper than PATH_MAX: not a real cgroup path */
		cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;	/* removed meanwhile */
		snprintf(path + plen, len - plen, "%s%s", plen ? "/" : "", de->d_name);
		err = scan_dir(c, cfd, path, len, n);
		path[plen] = '\0';
		close(cfd);
	}
	closedir(dir);
	return err;
}

/* hand @slot of vanished cgroup @id back to the BPF side, zeroed */
static void recycle_slot(struct collector *c, __u32 slot, __u64 id)
{
	bpf_map_delete_elem(c->opts.slot_fd, &id);
	memset(&c->runq[(size_t)slot * c->ncpus], 0, c->ncpus * sizeof(*c->runq));
	memset(&c->hists[slot], 0, sizeof(c->hists[slot]));
	c->owners[slot] = 0;
	bpf_map_update_elem(c->opts.free_fd, NULL, &slot, BPF_ANY);
}

/* the cgroup @id is gone: free what the kernel side holds for it */
static void forget(struct collector *c, struct node *n)
{
	if (n->has_slot)
		recycle_slot(c, n->slot, n->id);
	bpf_map_delete_elem(c->opts.mem_fd, &n->id);
}

/* free the nodes the last scan did not find: their cgroups are gone */
static void sweep(struct collector *c)
{
	struct node **pp, *n;
	uint32_t i;

	for (i = 0; i < c->nbuckets; i++) {
		pp = &c->buckets[i];
		while ((n = *pp)) {
			if (n->gen == c->gen) {
				pp = &n->hnext;
				continue;
			}
			*pp = n->hnext;
			if (n->w)
				watched_remove(c, n->w);
			forget(c, n);
			free(n->rq);
			free(n->mem);
			free(n->path);
			free(n);
			c->nr_nodes--;
		}
	}
	/* children of freed nodes were freed too: no parent pointer dangles */
}

int collector__scan(struct collector *c)
{
	char path[4096] = "";
	int fd, err;

	fd = open(c->opts.layout->v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->gen++;
	err = scan_dir(c, fd, path, sizeof(path), NULL);
	close(fd);
	if (err)
		return err;
	c->scanned = true;
	sweep(c);
	return 0;
}

/*
 * Returns 1 if it scanned, 0 if no scan was due, or -errno. Scans are spaced
 * at least 50 times their own cost apart, so that a large tree costs at most
 * about 2% of a CPU.
 */
static int scan_if_due(struct collector *c, int64_t now, bool unknown)
{
	int64_t age = now - c->last_scan_ns, floor = 50 * c->scan_cost_ns;
	int64_t every = RESCAN_NS > floor ? RESCAN_NS : floor;
	int64_t unknown_every = UNKNOWN_RESCAN_NS > floor ? UNKNOWN_RESCAN_NS : floor;
	struct timespec t0, t1;
	int err;

	if (c->scanned && age < every && (!unknown || age < unknown_every))
		return 0;
	c->last_scan_ns = now;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	err = collector__scan(c);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	c->scan_cost_ns = (t1.tv_sec - t0.tv_sec) * CGSNAP_NSEC_PER_SEC + t1.tv_nsec - t0.tv_nsec;
	return err ? err : 1;
}

/* reading the maps */

/* map array map @fd of @entries values of @value_size; NULL on failure */
static void *map_array(int fd, size_t value_size, size_t entries, size_t *len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = (((value_size + 7) & ~7UL) * entries + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* the highest slot in use + 1 */
static long slots_in_use(struct collector *c)
{
	long hi = 0, i;

	c->nr_map_entries = 0;
	for (i = 0; i < (long)c->opts.nr_slots; i++) {
		if (!c->owners[i])
			continue;
		hi = i + 1;
		c->nr_map_entries++;
	}
	return hi;
}

static __u64 count_cpus(const struct collector *c, const struct cgsnap_runq *vals)
{
	__u64 n = 0;
	int cpu;

	for (cpu = 0; cpu < c->ncpus; cpu++)
		n += vals[cpu].count;
	return n;
}

static void sum_cpus(const struct collector *c, const struct cgsnap_runq *vals,
		     struct cgsnap_runq *sum)
{
	int cpu, h;

	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < c->ncpus; cpu++) {
		const struct cgsnap_runq *v = &vals[cpu];

		sum->count += v->count;
		sum->sum_ns += v->sum_ns;
		if (v->max_ns > sum->max_ns)
			sum->max_ns = v->max_ns;
		for (h = 0; h < CGSNAP_HOLDER_MAX; h++) {
			sum->holder_count[h] += v->holder_count[h];
			sum->holder_ns[h] += v->holder_ns[h];
		}
	}
}

/* one node's waits since the previous tick, with its non-zero slots listed */
struct lat_delta {
	struct lat_acc acc;
	uint16_t nz[CGSNAP_HIST_SLOTS];
	unsigned int nr_nz;
};

static void lat_add(struct lat_acc *a, const struct lat_delta *d)
{
	unsigned int i;

	a->count += d->acc.count;
	a->sum_ns += d->acc.sum_ns;
	if (d->acc.max_ns > a->max_ns)
		a->max_ns = d->acc.max_ns;
	for (i = 0; i < CGSNAP_HOLDER_MAX; i++) {
		a->holder_count[i] += d->acc.holder_count[i];
		a->holder_ns[i] += d->acc.holder_ns[i];
	}
	for (i = 0; i < d->nr_nz; i++)
		a->slots[d->nz[i]] += d->acc.slots[d->nz[i]];
	if (!d->nr_nz)
		return;
	/* nz[] is ascending */
	if (a->lo >= a->hi || d->nz[0] < a->lo)
		a->lo = d->nz[0];
	if (d->nz[d->nr_nz - 1] + 1 > a->hi)
		a->hi = d->nz[d->nr_nz - 1] + 1;
}

/* empty @a, touching only what lat_add() may have filled */
static void lat_clear(struct lat_acc *a)
{
	if (a->lo < a->hi)
		memset(&a->slots[a->lo], 0, (a->hi - a->lo) * sizeof(a->slots[0]));
	memset(a, 0, offsetof(struct lat_acc, slots));
}


/* the waits of @n since the previous tick, in *@dd; false if none */
static bool runq_delta(struct collector *c, struct node *n, const struct cgsnap_runq *cur,
		       struct lat_delta *dd)
{
	const struct cgsnap_hist *h = &c->hists[n->slot];
	struct lat_acc *d = &dd->acc;
	struct runq_prev *p = n->rq;
	int b, i;

	if (cur->count < p->sum.count)	/* the entry was reset: count from zero */
		memset(p, 0, sizeof(*p));
	if (cur->count == p->sum.count)
		return false;
	d->count = cur->count - p->sum.count;
	d->sum_ns = cur->sum_ns - p->sum.sum_ns;
	for (i = 0; i < CGSNAP_HOLDER_MAX; i++) {
		d->holder_count[i] = cur->holder_count[i] - p->sum.holder_count[i];
		d->holder_ns[i] = cur->holder_ns[i] - p->sum.holder_ns[i];
	}
	/* few slots change in an interval: skip equal blocks of 8 with memcmp */
	dd->nr_nz = 0;
	for (b = 0; b < CGSNAP_HIST_SLOTS; b += 8) {
		int end = b + 8 < CGSNAP_HIST_SLOTS ? b + 8 : CGSNAP_HIST_SLOTS;

		if (!memcmp(&h->slots[b], &p->slots[b], (end - b) * sizeof(__u32)))
			continue;
		for (i = b; i < end; i++) {
			if (h->slots[i] == p->slots[i])
				continue;
			d->slots[i] = delta32(h->slots[i], p->slots[i]);
			p->slots[i] = h->slots[i];
			dd->nz[dd->nr_nz++] = i;
		}
	}
	/* a new record is this interval's max; else the histogram bounds it */
	d->max_ns = cur->max_ns > p->sum.max_ns ? cur->max_ns : hist_max_bound(d->slots, cur->max_ns);
	p->sum = *cur;
	return true;
}

static void account_runq(struct collector *c, struct node *n, const struct cgsnap_runq *cur)
{
	static struct lat_delta d;	/* only its listed slots are read */
	struct node *a;

	if (!n->rq) {
		n->rq = calloc(1, sizeof(*n->rq));
		if (!n->rq)
			return;
		if (!c->started) {	/* baseline: what came before us is not ours */
			n->rq->sum = *cur;
			memcpy(n->rq->slots, c->hists[n->slot].slots, sizeof(n->rq->slots));
			return;
		}
	}
	if (!runq_delta(c, n, cur, &d))
		return;
	for (a = n; a; a = a->parent) {
		if (!a->w)
			continue;
		lat_add(&a->w->runq, &d);
		if (a->w->runq_total)
			lat_add(a->w->runq_total, &d);
	}
}

static int collect_runq(struct collector *c, int64_t now)
{
	struct cgsnap_runq cur;
	bool unknown = false;
	long hi, i;
	int scanned;

	hi = slots_in_use(c);
	for (i = 0; i < hi && !unknown; i++)
		unknown = c->owners[i] && !node_find(c, c->owners[i]);
	scanned = scan_if_due(c, now, unknown);
	if (scanned < 0)
		return scanned;
	for (i = 0; i < hi; i++) {
		struct node *node;

		if (!c->owners[i])
			continue;
		node = node_find(c, c->owners[i]);
		/*
		 * Unknown ids wait for a scan to place them, so that no wait is
		 * counted against nobody; unknown after a full scan, the cgroup
		 * is gone and its slot is recycled.
		 */
		if (!node) {
			if (scanned)
				recycle_slot(c, i, c->owners[i]);
			continue;
		}
		node->slot = i;
		node->has_slot = true;
		/* unchanged count: nothing else changed either (one cache line a CPU) */
		if (node->rq && count_cpus(c, &c->runq[(size_t)i * c->ncpus]) == node->rq->sum.count)
			continue;
		sum_cpus(c, &c->runq[(size_t)i * c->ncpus], &cur);
		account_runq(c, node, &cur);
	}
	return 0;
}

static int64_t runq_statistic(const struct cgsnap_settings *s, const struct lat_summary *l)
{
	switch (s->runq_statistic) {
	case CGSNAP_RUNQ_P50:
		return l->p50_ns;
	case CGSNAP_RUNQ_P90:
		return l->p90_ns;
	case CGSNAP_RUNQ_MAX:
		return l->max_ns;
	case CGSNAP_RUNQ_MEAN:
		return l->mean_ns;
	default:
		return l->p99_ns;
	}
}

static void runq_snapshot(struct collector *c, struct watched *w, int64_t now)
{
	struct lat_summary *l = &w->last_runq;
	struct cgsnap_snapshot snap = {
		.t_ns = now,
		.kind = CGSNAP_KIND_RUNQ,
		.present = CGSNAP_F_RUNQ_COUNT | CGSNAP_F_RUNQ_MEAN | CGSNAP_F_RUNQ_P50 |
			   CGSNAP_F_RUNQ_P90 | CGSNAP_F_RUNQ_P99 | CGSNAP_F_RUNQ_MAX,
	};

	lat_summarize_range(w->runq.slots, w->runq.lo, w->runq.hi, w->runq.count, w->runq.sum_ns,
			    w->runq.max_ns, l);
	snap.runq = (struct cgsnap_runq_snapshot){
		.delay_ns = runq_statistic(&c->settings, l),
		.max_delay_ns = c->settings.max_runq_delay_ns,
		.count = l->count,
		.mean_ns = l->mean_ns,
		.p50_ns = l->p50_ns,
		.p90_ns = l->p90_ns,
		.p99_ns = l->p99_ns,
		.max_ns = l->max_ns,
	};
	add_snapshot(c, w, &snap);
	lat_clear(&w->runq);
}

int collector__tick_runq(struct collector *c, int64_t now)
{
	struct watched *w;
	int err;

	err = collect_runq(c, now);
	if (err)
		return err;
	for (w = c->watched; w; w = w->next)
		runq_snapshot(c, w, now);
	return 0;
}

/* memory pressure */

static void mem_add(struct mem_acc *a, const struct mem_acc *d)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		a->count[i] += d->count[i];
		a->sum_ns[i] += d->sum_ns[i];
	}
	if (d->max_ns > a->max_ns)
		a->max_ns = d->max_ns;
	a->some_ns += d->some_ns;
	a->oom_kills += d->oom_kills;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		a->slots[i] += d->slots[i];
}

/* @v's counters as a mem_prev, the stall in progress counted up to @now */
static void mem_current(const struct cgsnap_mem *v, int64_t now, struct mem_prev *cur)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		cur->count[i] = v->count[i];
		cur->sum_ns[i] = v->sum_ns[i];
	}
	cur->max_ns = v->max_ns;
	cur->some_ns = v->some_ns;
	if (v->nr_stalled && (__u64)now > v->stall_start_ns)
		cur->some_ns += now - v->stall_start_ns;
	cur->oom_kills = v->oom_kills;
	memcpy(cur->slots, v->slots, sizeof(cur->slots));
}

static void mem_delta(const struct mem_prev *p, const struct mem_prev *cur, struct mem_acc *d)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		d->count[i] = cur->count[i] - p->count[i];
		d->sum_ns[i] = cur->sum_ns[i] - p->sum_ns[i];
	}
	d->max_ns = cur->max_ns > p->max_ns ? cur->max_ns : 0;
	d->some_ns = cur->some_ns > p->some_ns ? cur->some_ns - p->some_ns : 0;
	d->oom_kills = cur->oom_kills - p->oom_kills;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		d->slots[i] = delta32(cur->slots[i], p->slots[i]);
}

static void account_mem(struct collector *c, struct node *n, const struct cgsnap_mem *v,
			int64_t now)
{
	struct mem_prev cur;
	struct mem_acc d;
	struct node *a;

	mem_current(v, now, &cur);
	if (!n->mem) {
		n->mem = calloc(1, sizeof(*n->mem));
		if (!n->mem)
			return;
		if (!c->started) {
			*n->mem = cur;
			return;
		}
	}
	if (cur.count[0] + cur.count[1] < n->mem->count[0] + n->mem->count[1] ||
	    cur.oom_kills < n->mem->oom_kills)
		memset(n->mem, 0, sizeof(*n->mem));	/* reset */
	mem_delta(n->mem, &cur, &d);
	*n->mem = cur;
	for (a = n; a; a = a->parent) {
		if (!a->w)
			continue;
		mem_add(&a->w->mem, &d);
		if (a->w->mem_total)
			mem_add(a->w->mem_total, &d);
	}
}

static int collect_mem(struct collector *c, int64_t now)
{
	__u64 key, next, *prev = NULL;
	struct cgsnap_mem v;
	struct node *n;

	/* few entries (cgroups that ever reclaimed): plain iteration, values
	 * copied under their spin lock */
	while (!bpf_map_get_next_key(c->opts.mem_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem_flags(c->opts.mem_fd, &key, &v, BPF_F_LOCK))
			continue;
		n = node_find(c, key);
		if (n)
			account_mem(c, n, &v, now);
	}
	return 0;
}

/* cpu and memory snapshots */

static void cpu_snapshot(struct collector *c, struct watched *w, int64_t now, int64_t dt)
{
	const struct cgroup_layout *l = c->opts.layout;
	struct cgsnap_snapshot snap = { .t_ns = now, .kind = CGSNAP_KIND_CPU };
	uint64_t usage;

	if (cgroup_cpu_usage(l, w->path, &usage))
		return;
	/* limits change rarely: resolved again after each scan, not each tick */
	if (w->cap_gen != c->gen) {
		if (cgroup_cpu_capacity(l, w->path, &w->sys.cpu_capacity))
			return;
		w->cap_gen = c->gen;
	}
	if (w->have_cpu_base && dt > 0 && usage >= w->prev_cpu_ns) {
		w->sys.cpu_used_ratio = (double)(usage - w->prev_cpu_ns) /
					((double)dt * w->sys.cpu_capacity);
		w->sys.cpu_ratio_valid = true;
		snap.cpu.used_ratio = w->sys.cpu_used_ratio;
		snap.cpu.max_used_ratio = c->settings.max_used_cpu_ratio;
		add_snapshot(c, w, &snap);
	}
	if (!w->have_cpu_base) {
		w->first_cpu_ns = usage;
		w->first_cpu_t = now;
	}
	w->prev_cpu_ns = usage;
	w->have_cpu_base = true;
}

/* stall ratio of the interval: the larger of BPF's reclaim some-time and PSI */
static bool stall_ratio(struct watched *w, const struct cgroup_layout *l, int64_t dt,
			double *ratio)
{
	bool known = false;
	uint64_t psi;

	*ratio = 0;
	if (dt > 0 && w->prev_sys_ns) {
		*ratio = (double)w->mem.some_ns / (double)dt;
		known = true;
	}
	w->sys.psi = !cgroup_psi_some_us(l, w->path, "memory", &psi);
	if (w->sys.psi) {
		if (w->have_psi_base && dt > 0 && psi >= w->prev_psi_us) {
			double r = (double)(psi - w->prev_psi_us) * 1000.0 / (double)dt;

			if (r > *ratio)
				*ratio = r;
			known = true;
		}
		w->prev_psi_us = psi;
		w->have_psi_base = true;
	}
	if (*ratio > 1)
		*ratio = 1;
	return known;
}

static void memory_snapshot(struct collector *c, struct watched *w, int64_t now, int64_t dt,
			    int64_t mem_total, int64_t mem_avail)
{
	struct cgsnap_snapshot snap = { .t_ns = now, .kind = CGSNAP_KIND_MEMORY };
	struct cgsnap_memory_snapshot *m = &snap.memory;

	if (w->no_mem_gen == c->gen)
		return;
	if (cgroup_memory(c->opts.layout, w->path, &w->sys.mem)) {
		/* no memory files (e.g. no v1 memory cgroup): look again after a scan */
		w->no_mem_gen = c->gen;
		return;
	}
	w->sys.budget_bytes = cgsnap_settings__memory_budget(&c->settings, w->sys.mem.limit_bytes,
							     mem_total);
	if (w->sys.budget_bytes <= 0)
		return;
	m->current_bytes = w->sys.mem.working_set_bytes;
	m->max_bytes = w->sys.budget_bytes;
	m->max_used_ratio = c->settings.max_used_memory_ratio;
	m->max_stall_ratio = c->settings.max_memory_stall_ratio;
	snap.present |= CGSNAP_F_MAX_STALL;	/* recorded, so replay judges alike */
	if (mem_total > 0) {
		m->system_total_bytes = mem_total;
		m->system_used_bytes = mem_total - mem_avail;
		snap.present |= CGSNAP_F_SYSTEM_USED | CGSNAP_F_SYSTEM_TOTAL;
	}
	if (stall_ratio(w, c->opts.layout, dt, &m->stall_ratio)) {
		snap.present |= CGSNAP_F_STALL;
		w->sys.stall_ratio = m->stall_ratio;
	}
	w->sys.valid = true;
	add_snapshot(c, w, &snap);
}

int collector__tick_system(struct collector *c, int64_t now)
{
	int64_t mem_total = 0, mem_avail = 0, dt;
	struct watched *w;
	int err;

	err = collect_mem(c, now);
	if (err)
		return err;
	if (meminfo_read(c->opts.meminfo, &mem_total, &mem_avail))
		mem_total = mem_avail = 0;
	for (w = c->watched; w; w = w->next) {
		dt = w->prev_sys_ns ? now - w->prev_sys_ns : 0;
		cpu_snapshot(c, w, now, dt);
		memory_snapshot(c, w, now, dt, mem_total, mem_avail);
		w->prev_sys_ns = now;
		memset(&w->mem, 0, sizeof(w->mem));
	}
	return 0;
}

int collector__tick_client(struct collector *c, int64_t now)
{
	struct watched *w;

	for (w = c->watched; w; w = w->next) {
		struct cgsnap_snapshot snap = {
			.t_ns = now,
			.kind = CGSNAP_KIND_CLIENT,
			.client = {
				.error_count = cgsnap_snapshotter__client_error_count(w->snap),
				.max_error_count = c->settings.max_client_errors,
			},
		};

		add_snapshot(c, w, &snap);
	}
	return 0;
}

int collector__start(struct collector *c, int64_t now)
{
	struct watched *w;
	int err;

	/* a caller that scanned already (to know the watched set) is not scanned twice */
	c->last_scan_ns = now;
	err = c->scanned ? 0 : collector__scan(c);
	if (err)
		return err;
	/* baseline: counters from before the start are not attributed */
	err = collect_runq(c, now);
	if (!err)
		err = collect_mem(c, now);
	if (err)
		return err;
	c->started = true;
	for (w = c->watched; w; w = w->next) {
		uint64_t v;

		if (!cgroup_cpu_usage(c->opts.layout, w->path, &v)) {
			w->prev_cpu_ns = w->first_cpu_ns = v;
			w->first_cpu_t = now;
			w->have_cpu_base = true;
		}
		if (!cgroup_psi_some_us(c->opts.layout, w->path, "memory", &v)) {
			w->prev_psi_us = v;
			w->have_psi_base = true;
		}
		w->prev_sys_ns = now;
		lat_clear(&w->runq);
		memset(&w->mem, 0, sizeof(w->mem));
		runq_snapshot(c, w, now);
	}
	return collector__tick_client(c, now);
}

/* construction and lookups */

struct collector *collector__new(const struct collector_opts *opts)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->opts = *opts;
	if (opts->settings)
		c->settings = *opts->settings;
	else
		cgsnap_settings__init(&c->settings);
	if (!c->opts.meminfo)
		c->opts.meminfo = "/proc/meminfo";
	c->ncpus = libbpf_num_possible_cpus();
	c->nbuckets = 256;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (c->ncpus > 0 && opts->nr_slots) {
		c->owners = map_array(opts->owner_fd, sizeof(*c->owners), opts->nr_slots,
				      &c->owners_len);
		c->runq = map_array(opts->runq_fd, sizeof(*c->runq),
				    (size_t)opts->nr_slots * c->ncpus, &c->runq_len);
		c->hists = map_array(opts->hist_fd, sizeof(*c->hists), opts->nr_slots,
				     &c->hists_len);
	}
	if (c->ncpus <= 0 || !c->buckets || !c->owners || !c->runq || !c->hists) {
		collector__free(c);
		errno = opts->nr_slots ? ENOMEM : EINVAL;
		return NULL;
	}
	return c;
}

static void free_strings(char **v, unsigned int n)
{
	while (n--)
		free(v[n]);
	free(v);
}

void collector__free(struct collector *c)
{
	struct node *n, *next;
	struct watched *w;
	uint32_t i;

	if (!c)
		return;
	while ((w = c->watched)) {
		c->watched = w->next;
		watched_free(w);
	}
	for (i = 0; c->buckets && i < c->nbuckets; i++) {
		for (n = c->buckets[i]; n; n = next) {
			next = n->hnext;
			free(n->rq);
			free(n->mem);
			free(n->path);
			free(n);
		}
	}
	free(c->buckets);
	free_strings(c->wanted, c->nr_wanted);
	free_strings(c->all_roots, c->nr_all);
	if (c->owners)
		munmap(c->owners, c->owners_len);
	if (c->runq)
		munmap(c->runq, c->runq_len);
	if (c->hists)
		munmap(c->hists, c->hists_len);
	free(c);
}

static int add_string(char ***v, unsigned int *n, const char *path)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	while (*path == '/')
		path++;
	nv[*n] = strdup(path);
	if (!nv[*n])
		return -ENOMEM;
	/* "a/b/" names "a/b" */
	while (strlen(nv[*n]) && nv[*n][strlen(nv[*n]) - 1] == '/')
		nv[*n][strlen(nv[*n]) - 1] = '\0';
	(*n)++;
	return 0;
}

/* @path relative to the v2 mount; an absolute path under the mount is accepted too */
static const char *relative(const struct collector *c, const char *path)
{
	size_t n = strlen(c->opts.layout->v2);

	if (n && !strncmp(path, c->opts.layout->v2, n) && (path[n] == '/' || !path[n]))
		return path + n;
	return path;
}

int collector__watch(struct collector *c, const char *path)
{
	uint64_t id;
	int err;

	path = relative(c, path);
	err = cgroup_path_to_id(c->opts.layout->v2, path, &id);
	if (err)
		return err;
	return add_string(&c->wanted, &c->nr_wanted, path);
}

int collector__watch_all(struct collector *c, const char *path)
{
	uint64_t id;
	int err;

	path = relative(c, path);
	err = cgroup_path_to_id(c->opts.layout->v2, path, &id);
	if (err)
		return err;
	return add_string(&c->all_roots, &c->nr_all, path);
}

struct watched *collector__first(struct collector *c)
{
	return c->watched;
}

struct watched *collector__find_id(struct collector *c, uint64_t id)
{
	struct node *n = node_find(c, id);

	return n ? n->w : NULL;
}

struct watched *collector__find_path(struct collector *c, const char *path)
{
	struct watched *w;
	size_t len;

	while (*path == '/')
		path++;
	len = strlen(path);
	while (len && path[len - 1] == '/')
		len--;
	for (w = c->watched; w; w = w->next)
		if (strlen(w->path) == len && !strncmp(w->path, path, len))
			return w;
	return NULL;
}

void collector_opts__from_skel(struct collector_opts *o, const struct cgsnap_bpf *skel)
{
	o->runq_fd = bpf_map__fd(skel->maps.cg_runq);
	o->hist_fd = bpf_map__fd(skel->maps.cg_runq_hist);
	o->mem_fd = bpf_map__fd(skel->maps.cg_mem);
	o->drops_fd = bpf_map__fd(skel->maps.cg_drops);
	o->slot_fd = bpf_map__fd(skel->maps.cg_slot);
	o->owner_fd = bpf_map__fd(skel->maps.cg_owner);
	o->free_fd = bpf_map__fd(skel->maps.cg_free);
	o->nr_slots = bpf_map__max_entries(skel->maps.cg_owner);
}

unsigned int collector__nr_watched(const struct collector *c)
{
	return c->nr_watched;
}

unsigned int collector__nr_map_entries(const struct collector *c)
{
	return c->nr_map_entries;
}

int collector__drops(const struct collector *c, uint64_t out[CGSNAP_DROP_MAX])
{
	__u64 vals[c->ncpus];
	__u32 i;
	int cpu;

	for (i = 0; i < CGSNAP_DROP_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(c->opts.drops_fd, &i, vals))
			return -errno;
		for (cpu = 0; cpu < c->ncpus; cpu++)
			out[i] += vals[cpu];
	}
	return 0;
}
