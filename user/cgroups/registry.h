/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The cgroup registry: every cgroup of the v2 hierarchy as a node, found by
 * id in a hash table, with its parent and path; which of them are watched;
 * and their lifecycle. Scans walk the tree: nodes are created when a scan
 * finds them and released when a scan no longer does. What a node carries
 * for its owner (the collector) hangs off ->priv.
 * Library code: no logging, -errno. Only the path under the v2 mount is
 * read, so tests can point it at a directory tree of their own.
 */
#ifndef __CGSNAP_REGISTRY_H
#define __CGSNAP_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

struct cg_node {
	uint64_t id;		/* the inode number of its directory */
	struct cg_node *parent;	/* NULL for the root of the hierarchy */
	char *path;		/* relative to the v2 mount; "" is the root */
	bool watched;		/* selected by a watch */
	unsigned int level;	/* its depth: the root is 0 */
	void *priv;		/* the owner's: registry_ops.priv_size bytes, zeroed */
	/* private */
	struct cg_node *hnext;
	uint32_t gen;
	bool dead;
};

struct registry_ops {
	size_t priv_size;	/* what the owner keeps per node, allocated with it */
	/* @n is selected by a watch; a non-zero return stops the scan */
	int (*watch)(struct cg_node *n, void *ctx);
	/* @n's cgroup is gone; the node is freed after the call */
	void (*gone)(struct cg_node *n, void *ctx);
	/* registry__free(): release what @n->priv points to */
	void (*release)(struct cg_node *n, void *ctx);
};

struct registry;

/* NULL with errno set on failure */
struct registry *registry__new(const char *v2root, const struct registry_ops *ops, void *ctx);
void registry__free(struct registry *r);

/* Watch @path (relative to the v2 mount, or absolute under it). Returns 0,
 * -ENOENT if there is no such cgroup, -EINVAL for a path with a "." or ".."
 * component, -ERANGE for one deeper than the max depth, -ENOMEM. */
int registry__watch(struct registry *r, const char *path);
/* Watch every cgroup under @path, following creation and removal. */
int registry__watch_all(struct registry *r, const char *path);

/* Walk the tree: create, re-parent and rename nodes, select watched ones,
 * and drop those that are gone. */
int registry__scan(struct registry *r);
/*
 * Scan if one is due at @now: every RESCAN_NS (registry__set_rescan()), or every
 * UNKNOWN_RESCAN_NS when
 * @unknown (the kernel side names an id the registry does not know), and
 * at least 50 times the last scan's cost apart. Returns 1 if it scanned,
 * 0 if not, -errno.
 */
int registry__scan_if_due(struct registry *r, int64_t now, bool unknown);
/* Periodic scans @ns apart (0: the default, 2 s); the kernel's lifecycle
 * events make them a safety net that can be rare. */
void registry__set_rescan(struct registry *r, int64_t ns);
/* The next periodic scan is due a period after @now (a scan was just made). */
void registry__defer_scan(struct registry *r, int64_t now);
/* Cgroups deeper than @depth (0: no limit) are not nodes: scans do not go
 * below it and the kernel's mkdir of one is not added. */
void registry__set_max_depth(struct registry *r, unsigned int depth);
/* How many nodes at the max depth had sub-cgroups at the last scan (they
 * count in them), and the path of the first, or NULL. */
unsigned int registry__beyond(const struct registry *r, const char **first);
/* scans made since registry__new() */
uint64_t registry__nr_scans(const struct registry *r);
/* a number that changes when nodes may have been freed */
uint32_t registry__generation(const struct registry *r);
/* whether a scan was made */
bool registry__scanned(const struct registry *r);

/*
 * The kernel told that cgroup @id was created as @name under @parent_id:
 * add it now, watched if a watch selects it (ops.watch is called). Returns
 * 1 if added, 0 if not (its parent is unknown: a scan will find it; or it
 * is known already), -EINVAL for a name that is not one, -ENOMEM.
 */
int registry__add(struct registry *r, uint64_t id, uint64_t parent_id, const char *name);
/* The kernel told that cgroup @id is removed: it is gone, with what is
 * still known below it, at the next registry__flush() (ops.gone). */
void registry__remove(struct registry *r, uint64_t id);
void registry__flush(struct registry *r);

/* the node of cgroup @id, or NULL */
struct cg_node *registry__find(const struct registry *r, uint64_t id);
unsigned int registry__nr_nodes(const struct registry *r);

/* @path relative to the v2 mount, with leading and trailing '/' removed,
 * into @buf; an absolute path under the mount is accepted too. */
const char *registry__relative(const struct registry *r, const char *path, char *buf,
			       size_t len);

#endif /* __CGSNAP_REGISTRY_H */
