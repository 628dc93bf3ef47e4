// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The cgroup registry over a directory tree of the test's own: scans,
 * watches, parents, lifecycle. No root, no cgroupfs needed. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "registry.h"
#include "walk.h"

static char root[128];
static char watched[16][64];
static int nr_watched, nr_gone, nr_released;
static uint64_t gone_ids[16];

static int on_watch(struct cg_node *n, void *ctx)
{
	snprintf(watched[nr_watched++], sizeof(watched[0]), "%s", n->path);
	*(char **)n->priv = malloc(8);	/* the owner's, released by gone/release */
	return 0;
}

static void on_gone(struct cg_node *n, void *ctx)
{
	gone_ids[nr_gone++] = n->id;
	free(*(char **)n->priv);
}

static void on_release(struct cg_node *n, void *ctx)
{
	nr_released++;
	free(*(char **)n->priv);
}

static const struct registry_ops ops = {
	.priv_size = sizeof(char *),
	.watch = on_watch,
	.gone = on_gone,
	.release = on_release,
};

static void dir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert(eq(int, mkdir(p, 0755), 0), "mkdir %s", p);
}

static uint64_t ino(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert(eq(int, stat(p, &st), 0));
	return st.st_ino;
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/cgsnap-test-%d-registry", getpid());
	cr_assert(eq(int, mkdir(root, 0755), 0));
	dir("a");
	dir("a/b");
	dir("c");
	nr_watched = nr_gone = nr_released = 0;
}

static void teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		cr_log_warn("cannot remove %s", root);
}

TestSuite(registry, .init = setup, .fini = teardown);

Test(registry, scan_builds_the_tree_with_parents_and_paths)
{
	struct registry *r = registry__new(root, &ops, NULL);
	struct cg_node *b, *a, *top;

	cr_assert(ne(ptr, r, NULL));
	cr_assert(not(registry__scanned(r)));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(registry__scanned(r));
	cr_assert(eq(u32, registry__nr_nodes(r), 4));
	cr_assert(eq(u32, cgroup_count(root, 0), 4));
	b = registry__find(r, ino("a/b"));
	cr_assert(ne(ptr, b, NULL));
	cr_assert(eq(str, b->path, "a/b"));
	a = b->parent;
	cr_assert(eq(u64, a->id, ino("a")));
	top = a->parent;
	cr_assert(eq(str, top->path, ""));
	cr_assert(eq(ptr, top->parent, NULL));
	cr_assert(eq(int, nr_watched, 0), "nothing asked to be watched");
	registry__free(r);
	cr_assert(eq(int, nr_released, 4));
}

Test(registry, watch_selects_exact_paths_and_whole_subtrees)
{
	struct registry *r = registry__new(root, &ops, NULL);
	char abs[256];
	int i;

	snprintf(abs, sizeof(abs), "%s/a/b/", root);
	cr_assert(eq(int, registry__watch(r, abs), 0), "absolute, with a trailing slash");
	cr_assert(eq(int, registry__watch_all(r, "/c"), 0));
	cr_assert(eq(int, registry__watch(r, "nope"), -ENOENT));
	cr_assert(eq(int, registry__watch(r, "a/../c"), -EINVAL), "'..' leaves the path");
	cr_assert(eq(int, registry__watch_all(r, "../.."), -EINVAL));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_watched, 2));
	dir("c/d");
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_watched, 3), "a new cgroup under a --all root is watched");
	for (i = 0; i < nr_watched; i++)
		cr_assert(strcmp(watched[i], "a") && strcmp(watched[i], ""), "%s", watched[i]);
	cr_assert(eq(str, watched[2], "c/d"));
	registry__free(r);
}

Test(registry, vanished_cgroups_are_gone_once_and_forgotten)
{
	struct registry *r = registry__new(root, &ops, NULL);
	char p[256];
	uint64_t id = ino("a/b");

	cr_assert(eq(int, registry__watch_all(r, ""), 0));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_watched, 4));
	snprintf(p, sizeof(p), "%s/a/b", root);
	cr_assert(eq(int, rmdir(p), 0));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_gone, 1));
	cr_assert(eq(u64, gone_ids[0], id));
	cr_assert(eq(ptr, registry__find(r, id), NULL));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_gone, 1), "reported once");
	registry__free(r);
	cr_assert(eq(int, nr_released, 3));
}

Test(registry, scans_are_spaced_unless_an_unknown_id_appears)
{
	struct registry *r = registry__new(root, &ops, NULL);
	const int64_t s = 1000000000LL;

	cr_assert(eq(int, registry__scan_if_due(r, 10 * s, false), 1), "the first is due");
	cr_assert(eq(int, registry__scan_if_due(r, 10 * s + s / 2, false), 0));
	cr_assert(eq(int, registry__scan_if_due(r, 10 * s + s / 2, true), 0), "under 1 s");
	cr_assert(eq(int, registry__scan_if_due(r, 11 * s + s / 2, true), 1));
	cr_assert(eq(int, registry__scan_if_due(r, 12 * s, false), 0));
	cr_assert(eq(int, registry__scan_if_due(r, 14 * s, false), 1), "every 2 s");
	registry__free(r);
}

Test(registry, relative_paths)
{
	struct registry *r = registry__new(root, &ops, NULL);
	char buf[256], abs[256];

	cr_assert(eq(str, (char *)registry__relative(r, "/x/y/", buf, sizeof(buf)), "x/y"));
	snprintf(abs, sizeof(abs), "%s/a", root);
	cr_assert(eq(str, (char *)registry__relative(r, abs, buf, sizeof(buf)), "a"));
	cr_assert(eq(str, (char *)registry__relative(r, root, buf, sizeof(buf)), ""));
	registry__free(r);
}

/* what the kernel tells (cgroup_mkdir, cgroup_rmdir) lands without a scan */
Test(registry, kernel_events_add_and_remove_without_a_scan)
{
	struct registry *r = registry__new(root, &ops, NULL);
	uint64_t a = ino("a"), ab = ino("a/b");
	struct cg_node *n;

	cr_assert(eq(int, registry__watch_all(r, "a"), 0));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_watched, 2));
	/* a child of a known parent: added and watched, its path the parent's + name */
	cr_assert(eq(int, registry__add(r, 1000001, ab, "job-1"), 1));
	n = registry__find(r, 1000001);
	cr_assert(ne(ptr, n, NULL));
	cr_assert(eq(str, n->path, "a/b/job-1"));
	cr_assert(eq(str, watched[2], "a/b/job-1"));
	/* and its child, before any tick */
	cr_assert(eq(int, registry__add(r, 1000002, 1000001, "step"), 1));
	cr_assert(eq(str, registry__find(r, 1000002)->path, "a/b/job-1/step"));
	/* known already, unknown parent, not a name */
	cr_assert(eq(int, registry__add(r, 1000001, ab, "job-1"), 0));
	cr_assert(eq(int, registry__add(r, 1000003, 424242, "x"), 0));
	cr_assert(eq(int, registry__add(r, 1000004, a, ".."), -EINVAL));
	cr_assert(eq(int, registry__add(r, 1000004, a, "x/y"), -EINVAL));
	/* removal takes effect at the flush, with what is below it (a lost
	 * rmdir of the child must not leave it with a freed parent) */
	registry__remove(r, 1000001);
	cr_assert(ne(ptr, registry__find(r, 1000001), NULL));
	registry__flush(r);
	cr_assert(eq(ptr, registry__find(r, 1000001), NULL));
	cr_assert(eq(ptr, registry__find(r, 1000002), NULL));
	cr_assert(eq(int, nr_gone, 2));
	cr_assert(ne(ptr, registry__find(r, ab), NULL));
	/* the root stays */
	registry__remove(r, ino(""));
	registry__flush(r);
	cr_assert(ne(ptr, registry__find(r, a), NULL));
	registry__free(r);
}

/* a chain of @n directories named @name under @rel, made a level at a time
 * (the path may outgrow PATH_MAX); the fd of the deepest */
static int chain(const char *rel, const char *name, int n)
{
	char p[256];
	int fd, next;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_RDONLY | O_DIRECTORY);
	cr_assert(ge(int, fd, 0));
	for (int i = 0; i < n; i++) {
		cr_assert(eq(int, mkdirat(fd, name, 0755), 0), "level %d", i);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		cr_assert(ge(int, fd, 0));
	}
	return fd;
}

static void no_watch_release(struct cg_node *n, void *ctx)
{
}

static void no_watch_gone(struct cg_node *n, void *ctx)
{
	nr_gone++;
}

static const struct registry_ops plain_ops = { .gone = no_watch_gone,
					       .release = no_watch_release };

/* reproducer: a chain of 600 nested cgroups stalled the agent for 18 s */
Test(registry, a_deep_chain_stops_at_the_depth_limit)
{
	struct registry *r = registry__new(root, &plain_ops, NULL);
	char deep[64] = "";
	const char *first;
	struct cg_node *n;
	int fd, i;

	fd = chain(".", "d", 100);
	close(fd);
	registry__set_max_depth(r, 10);
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(u32, registry__nr_nodes(r), 1 + 3 + 10), "levels 0 to 10 only");
	cr_assert(eq(u32, cgroup_count(root, 10), 14));
	cr_assert(eq(u32, registry__beyond(r, &first), 1));
	for (i = 0; i < 10; i++)
		strcat(deep, i ? "/d" : "d");
	cr_assert(eq(str, (char *)first, deep));
	/* the kernel's word of a deeper one is not taken either */
	n = registry__find(r, ino(deep));
	cr_assert(ne(ptr, n, NULL));
	cr_assert(eq(u32, n->level, 10));
	cr_assert(eq(int, registry__add(r, 987654321, n->id, "d"), 0));
	cr_assert(eq(ptr, registry__find(r, 987654321), NULL));
	strcat(deep, "/d");
	cr_assert(eq(int, registry__watch(r, deep), -ERANGE));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_gone, 0));
	registry__free(r);
}

/* reproducer: paths over PATH_MAX were skipped by scans, and a cgroup the
 * kernel had told of was then reported removed while it existed */
Test(registry, paths_beyond_path_max_are_scanned_and_stay)
{
	struct registry *r = registry__new(root, &plain_ops, NULL);
	char name[256];
	struct stat st;
	struct cg_node *n;
	int fd;

	memset(name, 'x', 255);
	name[255] = '\0';
	fd = chain("c", name, 17);
	cr_assert(eq(int, fstat(fd, &st), 0));
	close(fd);
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(u32, registry__nr_nodes(r), 4 + 17));
	n = registry__find(r, st.st_ino);
	cr_assert(ne(ptr, n, NULL), "the deepest is a node");
	cr_assert(eq(sz, strlen(n->path), 1 + 17 * 256), "c and 17 names of 255");
	cr_assert(gt(sz, strlen(n->path), 4096));
	cr_assert(eq(int, registry__scan(r), 0));
	cr_assert(eq(int, nr_gone, 0), "a scan removed a cgroup that exists");
	registry__free(r);
}
