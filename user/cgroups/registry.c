// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "cgroupfs.h"
#include "idhash.h"
#include "registry.h"
#include "walk.h"

#define NSEC_PER_SEC		1000000000LL
#define RESCAN_NS		(2 * NSEC_PER_SEC)
#define UNKNOWN_RESCAN_NS	(1 * NSEC_PER_SEC)

struct registry {
	char *root;			/* the v2 mount */
	struct registry_ops ops;
	void *ctx;
	struct cg_node **buckets;
	uint32_t nbuckets, nr_nodes;
	uint32_t gen;
	uint64_t nr_scans;		/* scans made, done or failed */
	bool scanned;
	int64_t last_scan_ns;
	int64_t scan_cost_ns;		/* CPU time of the last scan */
	int64_t rescan_ns;		/* periodic scans this far apart */
	char **wanted;			/* explicit paths */
	unsigned int nr_wanted;
	char **all_roots;		/* every cgroup under these */
	unsigned int nr_all;
	bool removed;			/* registry__remove() since the last sweep */
	uint32_t epoch;			/* changes when nodes may have been freed */
	unsigned int max_depth;		/* deeper cgroups are not nodes (0: no limit) */
	unsigned int nr_beyond;		/* nodes at max_depth with sub-cgroups, last scan */
	char *first_beyond;		/* the first of them, for a message */
};

struct cg_node *registry__find(const struct registry *r, uint64_t id)
{
	struct cg_node *n;

	for (n = r->buckets[id_bucket(id, r->nbuckets)]; n; n = n->hnext)
		if (n->id == id)
			return n;
	return NULL;
}

static int table_grow(struct registry *r)
{
	uint32_t nb = r->nbuckets * 2, i;
	struct cg_node **b = calloc(nb, sizeof(*b)), *n, *next;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < r->nbuckets; i++) {
		for (n = r->buckets[i]; n; n = next) {
			uint32_t h = id_bucket(n->id, nb);

			next = n->hnext;
			n->hnext = b[h];
			b[h] = n;
		}
	}
	free(r->buckets);
	r->buckets = b;
	r->nbuckets = nb;
	return 0;
}

static struct cg_node *node_get(struct registry *r, uint64_t id)
{
	struct cg_node *n = registry__find(r, id);
	uint32_t h;

	if (n)
		return n;
	if (r->nr_nodes >= r->nbuckets && table_grow(r))
		return NULL;
	n = calloc(1, sizeof(*n) + r->ops.priv_size);
	if (!n)
		return NULL;
	n->id = id;
	n->priv = r->ops.priv_size ? n + 1 : NULL;
	h = id_bucket(id, r->nbuckets);
	n->hnext = r->buckets[h];
	r->buckets[h] = n;
	r->nr_nodes++;
	return n;
}

static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!n)
		return true;
	return !strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/');
}

static bool wants(const struct registry *r, const char *path)
{
	unsigned int i;

	for (i = 0; i < r->nr_wanted; i++)
		if (!strcmp(r->wanted[i], path))
			return true;
	for (i = 0; i < r->nr_all; i++)
		if (under(path, r->all_roots[i]))
			return true;
	return false;
}

/* watch @n if a watch selects its path and it is not watched yet */
static int select_watched(struct registry *r, struct cg_node *n)
{
	if (n->watched || !wants(r, n->path))
		return 0;
	n->watched = true;
	return r->ops.watch ? r->ops.watch(n, r->ctx) : 0;
}

static int visit(const char *path, uint64_t id, unsigned int depth, void *parent, void **self,
		 void *ctx)
{
	struct registry *r = ctx;
	struct cg_node *n = node_get(r, id);

	if (!n)
		return -ENOMEM;
	*self = n;
	n->gen = r->gen;
	n->parent = parent;
	n->level = depth;
	if (!n->path || strcmp(n->path, path)) {
		char *p = strdup(path);

		if (!p)
			return -ENOMEM;
		free(n->path);
		n->path = p;
	}
	return select_watched(r, n);
}

static void node_free(struct cg_node *n)
{
	free(n->path);
	free(n);
}

/* a node of the current generation under a stale ancestor is stale too */
static bool stale(const struct registry *r, const struct cg_node *n)
{
	for (; n; n = n->parent)
		if (n->gen != r->gen)
			return true;
	return false;
}

/*
 * Free the stale nodes: those the last scan did not find, or removed, and
 * their descendants. Every gone() is called before any node is freed, so
 * that gone() may walk a node's ancestors.
 */
static void sweep(struct registry *r)
{
	struct cg_node **pp, *n;
	uint32_t i;

	for (i = 0; i < r->nbuckets; i++)
		for (n = r->buckets[i]; n; n = n->hnext)
			n->dead = stale(r, n);
	for (i = 0; i < r->nbuckets && r->ops.gone; i++)
		for (n = r->buckets[i]; n; n = n->hnext)
			if (n->dead)
				r->ops.gone(n, r->ctx);
	for (i = 0; i < r->nbuckets; i++) {
		pp = &r->buckets[i];
		while ((n = *pp)) {
			if (!n->dead) {
				pp = &n->hnext;
				continue;
			}
			*pp = n->hnext;
			node_free(n);
			r->nr_nodes--;
		}
	}
	r->removed = false;
	r->epoch++;
}

int registry__add(struct registry *r, uint64_t id, uint64_t parent_id, const char *name)
{
	struct cg_node *parent = registry__find(r, parent_id), *n;
	char *path;

	if (!parent || stale(r, parent) || registry__find(r, id) ||
	    (r->max_depth && parent->level >= r->max_depth))
		return 0;
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (asprintf(&path, "%s%s%s", parent->path, *parent->path ? "/" : "", name) < 0)
		return -ENOMEM;
	n = node_get(r, id);
	if (!n) {
		free(path);
		return -ENOMEM;
	}
	n->gen = r->gen;
	n->parent = parent;
	n->level = parent->level + 1;
	n->path = path;
	return select_watched(r, n) ? -ENOMEM : 1;
}

void registry__remove(struct registry *r, uint64_t id)
{
	struct cg_node *n = registry__find(r, id);

	if (!n || !n->parent)	/* the root stays */
		return;
	n->gen = r->gen - 1;
	r->removed = true;
}

void registry__flush(struct registry *r)
{
	if (r->removed)
		sweep(r);
}

static void beyond(const char *path, void *self, void *ctx)
{
	struct registry *r = ctx;

	if (!r->nr_beyond++) {
		free(r->first_beyond);
		r->first_beyond = strdup(path);
	}
}

int registry__scan(struct registry *r)
{
	struct cgroup_walk_ops ops = { .visit = visit, .beyond = beyond,
				       .max_depth = r->max_depth };
	int err;

	r->gen++;
	r->nr_scans++;
	r->nr_beyond = 0;
	err = cgroup_walk(r->root, &ops, r);
	if (err)
		return err;
	r->scanned = true;
	sweep(r);
	return 0;
}


/* scans are spaced at least 50 times their own cost apart, so that a large
 * tree costs at most about 2% of a CPU */
int registry__scan_if_due(struct registry *r, int64_t now, bool unknown)
{
	int64_t age = now - r->last_scan_ns, floor = 50 * r->scan_cost_ns;
	int64_t every = r->rescan_ns > floor ? r->rescan_ns : floor;
	int64_t unknown_every = UNKNOWN_RESCAN_NS > floor ? UNKNOWN_RESCAN_NS : floor;
	int64_t t0;
	int err;

	if (r->scanned && age < every && (!unknown || age < unknown_every))
		return 0;
	r->last_scan_ns = now;
	t0 = clock_thread_ns();
	err = registry__scan(r);
	r->scan_cost_ns = clock_thread_ns() - t0;
	return err ? err : 1;
}

void registry__set_rescan(struct registry *r, int64_t ns)
{
	r->rescan_ns = ns > 0 ? ns : RESCAN_NS;
}

void registry__defer_scan(struct registry *r, int64_t now)
{
	r->last_scan_ns = now;
}

void registry__set_max_depth(struct registry *r, unsigned int depth)
{
	r->max_depth = depth;
}

unsigned int registry__beyond(const struct registry *r, const char **first)
{
	if (first)
		*first = r->nr_beyond ? r->first_beyond : NULL;
	return r->nr_beyond;
}

uint64_t registry__nr_scans(const struct registry *r)
{
	return r->nr_scans;
}

uint32_t registry__generation(const struct registry *r)
{
	return r->epoch;
}

bool registry__scanned(const struct registry *r)
{
	return r->scanned;
}

unsigned int registry__nr_nodes(const struct registry *r)
{
	return r->nr_nodes;
}

const char *registry__relative(const struct registry *r, const char *path, char *buf,
			       size_t len)
{
	size_t n = strlen(r->root), l;

	if (n && !strncmp(path, r->root, n) && (path[n] == '/' || !path[n]))
		path += n;
	while (*path == '/')
		path++;
	l = strlen(path);
	while (l && path[l - 1] == '/')
		l--;	/* "a/b/" names "a/b" */
	snprintf(buf, len, "%.*s", (int)l, path);
	return buf;
}

static int add_path(struct registry *r, char ***v, unsigned int *n, const char *path)
{
	char rel[4096], **nv;
	uint64_t id;
	int err;

	unsigned int depth = 0;
	const char *c;

	registry__relative(r, path, rel, sizeof(rel));
	if (!cgroup_path_valid(rel))
		return -EINVAL;
	for (c = rel; *rel && c; c = strchr(c + 1, '/'))
		depth++;
	if (r->max_depth && depth > r->max_depth)
		return -ERANGE;
	err = cgroup_path_to_id(r->root, rel, &id);
	if (err)
		return err;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(rel);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

int registry__watch(struct registry *r, const char *path)
{
	return add_path(r, &r->wanted, &r->nr_wanted, path);
}

int registry__watch_all(struct registry *r, const char *path)
{
	return add_path(r, &r->all_roots, &r->nr_all, path);
}

struct registry *registry__new(const char *v2root, const struct registry_ops *ops, void *ctx)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ops = *ops;
	r->ctx = ctx;
	r->nbuckets = 256;
	r->rescan_ns = RESCAN_NS;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	r->root = strdup(v2root);
	if (!r->buckets || !r->root) {
		registry__free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

static void free_strings(char **v, unsigned int n)
{
	while (n--)
		free(v[n]);
	free(v);
}

void registry__free(struct registry *r)
{
	struct cg_node *n, *next;
	uint32_t i;

	if (!r)
		return;
	for (i = 0; r->buckets && i < r->nbuckets; i++) {
		for (n = r->buckets[i]; n; n = next) {
			next = n->hnext;
			if (r->ops.release)
				r->ops.release(n, r->ctx);
			node_free(n);
		}
	}
	free(r->buckets);
	free_strings(r->wanted, r->nr_wanted);
	free_strings(r->all_roots, r->nr_all);
	free(r->root);
	free(r->first_beyond);
	free(r);
}
