/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every cgroup's memory usage in one read (memusage.bpf.c): a cgroup
 * iterator over the hierarchy the memory controller is bound to, read once
 * a system tick instead of one usage file per busy cgroup. Needs a kernel
 * with cgroup iterators (6.1) and the privileges to load and attach; the
 * reads after that need none. Library code: no logging, -errno.
 */
#ifndef __CGSNAP_MEMITER_H
#define __CGSNAP_MEMITER_H

#include <stddef.h>
#include <stdint.h>

struct memiter;

/*
 * Load the iterator and attach it to @root, the directory of that
 * hierarchy's root (the v2 mount, or v1's memory one). NULL with errno set
 * and a one-line reason in @err on failure.
 */
struct memiter *memiter__open(const char *root, char *err, size_t errlen);
void memiter__close(struct memiter *m);

/* Read every cgroup's usage now; the last read is kept until the next. */
int memiter__read(struct memiter *m);
/* Cgroups the last read held */
size_t memiter__count(const struct memiter *m);
/* The usage in bytes of cgroup @id (its directory's inode number) at the
 * last read: 0, or -ENOENT if it had none (gone, or no memcg of its own). */
int memiter__usage(const struct memiter *m, uint64_t id, int64_t *bytes);

#endif /* __CGSNAP_MEMITER_H */
