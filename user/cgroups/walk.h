/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Walking a cgroup hierarchy: every directory once, parents before
 * children, down to a depth limit. One open directory per level, so a
 * walk costs a file descriptor per level of the tree and not per cgroup;
 * paths may exceed PATH_MAX (each level is opened relative to its parent).
 * Library code: no logging, -errno.
 */
#ifndef __CGSNAP_WALK_H
#define __CGSNAP_WALK_H

#include <stdint.h>

struct cgroup_walk_ops {
	/*
	 * A cgroup: its path relative to the walk's root ("" for the root), its
	 * id (inode number), its depth (the root is 0), the token its parent set
	 * in *@self (NULL for the root). It may set its own. A non-zero return
	 * stops the walk with that value.
	 */
	int (*visit)(const char *path, uint64_t id, unsigned int depth, void *parent, void **self,
		     void *ctx);
	/* the cgroup whose token is @self, at max_depth, has sub-cgroups that
	 * are not visited (NULL: not told) */
	void (*beyond)(const char *path, void *self, void *ctx);
	unsigned int max_depth;		/* 0: no limit */
};

/* Walk the hierarchy at @root. Entries removed meanwhile are skipped.
 * Returns 0, the first non-zero value of visit(), or -errno. */
int cgroup_walk(const char *root, const struct cgroup_walk_ops *ops, void *ctx);

/* Number of cgroups (directories) in the hierarchy at @root down to
 * @max_depth (0: all), itself included; 0 if it cannot be read. */
unsigned int cgroup_count(const char *root, unsigned int max_depth);

#endif /* __CGSNAP_WALK_H */
