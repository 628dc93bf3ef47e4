/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector drives one tick of the data path: the kernel reader's
 * cumulative counters (kernel/maps.h) become per-cgroup deltas
 * (accum.h), are added to every watched cgroup on the way to the root of
 * the registry's tree (cgroups/registry.h), and at the end of an interval
 * become snapshots (snapbuild.h) in the watched cgroup's snapshotter.
 *
 * A watched cgroup includes its descendants. Library code: no logging;
 * what a person should hear about is passed to the event callback.
 */
#ifndef __CGSNAP_COLLECTOR_H
#define __CGSNAP_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "maps.h"
#include "snapbuild.h"
#include "snapshotter.h"

/* A watched cgroup, read-only outside the collector. */
struct watched {
	uint64_t id;
	const char *path;		/* relative to the v2 mount; "" is the root */
	const char *name;		/* its printable form (common/escape.h) */
	struct cgsnap_snapshotter *snap;
	struct lat_summary last_runq;	/* summary of the last runq interval */
	struct sys_reading sys;		/* the latest system readings */
	struct sys_state sys_state;
	const struct lat_total *runq_total;	/* since watching began (keep_totals) */
	const struct mem_total *mem_total;
	const struct lat_acc *runq_full;	/* the same, every slot (full_totals) */
	const struct mem_acc *mem_full;
	bool removed;			/* the cgroup is gone (collector_opts.keep_removed) */
	int64_t removed_ns;		/* the tick that found out */
};

struct collector;

/* the longest printable name of a watched cgroup (struct watched.name) */
#define COLL_NAME_MAX		1024

/* tree scans this far apart when the kernel tells creations and removals
 * (a lost event, counted as a drop, brings the next one forward) */
#define COLL_RESCAN_WITH_EVENTS_NS	(30 * 1000000000LL)

enum collector_event_type {
	COLLECTOR_WATCHED,	/* a cgroup is now watched */
	COLLECTOR_GONE,		/* a watched cgroup disappeared, its last counters
				 * counted; freed after the callback unless kept */
	COLLECTOR_MEMORY_WARNING,	/* docs/SPEC.md section 5 */
	COLLECTOR_SNAPSHOT,	/* a snapshot was added to w's snapshotter */
	COLLECTOR_DEPTH_LIMIT,	/* a scan found cgroups below max_depth: .count
				 * cgroups at the limit hold them, .path the first
				 * (no .w); told again when the count grows */
	COLLECTOR_SLOTS_FULL,	/* every run-queue slot is taken and a wait went
				 * uncounted: .count slots (no .w); told once */
};

struct collector_event {
	enum collector_event_type type;
	const struct watched *w;
	const struct cgsnap_memory_warning *warning;
	const struct cgsnap_snapshot *snap;	/* as stored, with .overloaded */
	const char *path;
	unsigned int count;
};

struct collector_opts {
	const struct cgroup_layout *layout;
	const struct cgsnap_settings *settings;
	struct kmaps_fds maps;			/* the cg_* maps */
	struct memiter *memiter;		/* every cgroup's memory usage in one
						 * read (memiter.h); NULL: files */
	const char *meminfo;			/* normally /proc/meminfo */
	bool keep_totals;			/* also accumulate since watching began */
	bool full_totals;			/* ... with every histogram slot too */
	bool continue_totals;			/* ... and since the maps began: they
						 * are a previous run's (--pin) */
	bool keep_removed;			/* keep removed cgroups, with their
						 * totals, until collector__free() */
	bool fast;				/* waits in progress count in runq
						 * snapshots (the maps keep them) */
	unsigned int max_depth;			/* deeper cgroups are counted in their
						 * ancestor at this depth (the BPF side
						 * folds them, loader_opts.max_level) */
	int64_t idle_read_ns;			/* > 0: a cgroup that did not run since
						 * its last reading keeps its CPU usage
						 * and has its memory read this often
						 * (when the kernel notes who runs) */
	bool cpu_from_cgroupfs;			/* CPU usage from cpu.stat (cpuacct),
						 * not the kernel side's charges */
	int64_t rescan_ns;			/* the kernel telling creations and
						 * removals, the tree is scanned again
						 * this often as a safety net (0:
						 * COLL_RESCAN_WITH_EVENTS_NS) */
	void (*on_event)(const struct collector_event *ev, void *ctx);
	void *ctx;
};

/* NULL with errno set on failure */
struct collector *collector__new(const struct collector_opts *opts);
void collector__free(struct collector *c);

/* Watch @path (relative to the v2 mount, or absolute under it) and its
 * descendants. Returns 0, -ENOENT if there is no such cgroup, -ENOMEM. */
int collector__watch(struct collector *c, const char *path);
/* Watch every cgroup under @path, each with its descendants, following
 * creation and removal. */
int collector__watch_all(struct collector *c, const char *path);

/* Rescan the v2 hierarchy: find new cgroups, drop vanished ones (and their
 * map entries). The ticks do it as needed. */
int collector__scan(struct collector *c);

/* Take the baseline of every counter and start the snapshotters at @now:
 * the first runq and client snapshots are taken at once. Scans the tree
 * unless it was scanned already. */
int collector__start(struct collector *c, int64_t now);

/* Fast mode: the fd that turns readable when the kernel side tells a wait
 * longer than the budget (-1: none), and how many it told since the last
 * call (consumed). A runq tick then decides now, not at its time. */
int collector__wake_fd(const struct collector *c);
unsigned int collector__wakes(struct collector *c);

/* One runq interval ending at @now: runq snapshots. */
int collector__tick_runq(struct collector *c, int64_t now);
/* One system interval ending at @now: cpu and memory snapshots. */
int collector__tick_system(struct collector *c, int64_t now);
/* client snapshots at @now */
int collector__tick_client(struct collector *c, int64_t now);

/* the watched cgroups, in no particular order */
struct watched *collector__first(struct collector *c);
struct watched *collector__next(struct watched *w);
/* the watched cgroup with cgroup v2 id @id, or whose path (or its printable
 * form) is @path */
struct watched *collector__find_id(struct collector *c, uint64_t id);
struct watched *collector__find_path(struct collector *c, const char *path);
void collector__readings(const struct collector *c, uint64_t out[COLL_READING_MAX]);
unsigned int collector__nr_watched(const struct collector *c);
/* the removed cgroups kept (keep_removed), newest first; collector__next()
 * walks them */
struct watched *collector__first_removed(struct collector *c);
unsigned int collector__nr_removed(const struct collector *c);

/* run-queue slots in use at the last tick */
unsigned int collector__nr_map_entries(const struct collector *c);
/* the kernel's drop counters (enum cgsnap_drop), summed over CPUs */
int collector__drops(const struct collector *c, uint64_t out[CGSNAP_DROP_MAX]);

#endif /* __CGSNAP_COLLECTOR_H */
