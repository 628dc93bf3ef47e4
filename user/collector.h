/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector: reads the BPF maps and cgroupfs, turns cumulative kernel
 * counters into per-interval deltas, and feeds the cpu, memory, runq and
 * client snapshots of every watched cgroup into its snapshotter.
 *
 * A watched cgroup includes its descendants: the map entries of every
 * cgroup below it are summed (histograms merged). Library code: no logging;
 * what a person should hear about is passed to the event callback.
 */
#ifndef __CGSNAP_COLLECTOR_H
#define __CGSNAP_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "snapshotter.h"
#include "stats.h"

struct collector;

/* run-queue waits accumulated over an interval (or since watching began) */
struct lat_acc {
	uint16_t lo, hi;	/* slots [lo, hi) may be non-zero; lo >= hi: none */
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t holder_count[CGSNAP_HOLDER_MAX];
	uint64_t holder_ns[CGSNAP_HOLDER_MAX];
	uint64_t slots[CGSNAP_HIST_SLOTS];
};

/* reclaim stalls and OOM kills accumulated likewise */
struct mem_acc {
	uint64_t count[CGSNAP_RECLAIM_MAX];
	uint64_t sum_ns[CGSNAP_RECLAIM_MAX];
	uint64_t max_ns;
	uint64_t some_ns;	/* time with a task of the cgroup in reclaim */
	uint64_t oom_kills;
	uint64_t slots[CGSNAP_HIST_SLOTS];
};

/* the latest system readings of a watched cgroup */
struct sys_reading {
	bool valid;
	double cpu_capacity;	/* CPUs it may use */
	double cpu_used_ratio;	/* of the last interval; valid after two readings */
	bool cpu_ratio_valid;
	struct cgroup_memory mem;
	int64_t budget_bytes;
	double stall_ratio;	/* of the last interval, BPF and PSI combined */
	bool psi;		/* the kernel provides memory PSI for it */
};

/* A watched cgroup. Fields are read-only outside the collector. */
struct watched {
	uint64_t id;
	char *path;			/* relative to the v2 mount; "" is the root */
	struct cgsnap_snapshotter *snap;
	struct lat_acc runq;		/* the current runq interval */
	struct mem_acc mem;		/* the current system interval */
	struct lat_acc *runq_total;	/* since watching began (opts.keep_totals) */
	struct mem_acc *mem_total;
	struct lat_summary last_runq;	/* summary of the last runq interval */
	struct sys_reading sys;
	uint64_t first_cpu_ns;		/* CPU usage at the first reading, and when */
	int64_t first_cpu_t;
	int user_state;			/* free for the caller (cgsnap run: last verdict) */
	/* private */
	uint64_t prev_cpu_ns;
	uint64_t prev_psi_us;
	int64_t prev_sys_ns;
	bool have_cpu_base, have_psi_base;
	uint32_t cap_gen;		/* scan generation of sys.cpu_capacity */
	uint32_t no_mem_gen;		/* scan generation that found no memory files */
	struct node *node;
	struct watched *next;
};

enum collector_event_type {
	COLLECTOR_WATCHED,	/* a cgroup is now watched */
	COLLECTOR_GONE,		/* a watched cgroup disappeared; it is freed after the callback */
	COLLECTOR_MEMORY_WARNING,	/* SPEC section 5 */
	COLLECTOR_SNAPSHOT,	/* a snapshot was added to w's snapshotter */
};

struct collector_event {
	enum collector_event_type type;
	const struct watched *w;
	const struct cgsnap_memory_warning *warning;
	const struct cgsnap_snapshot *snap;	/* as stored, with .overloaded */
};

struct collector_opts {
	const struct cgroup_layout *layout;
	const struct cgsnap_settings *settings;
	int runq_fd, hist_fd, mem_fd, drops_fd;	/* the cg_* maps */
	int slot_fd, owner_fd, free_fd;
	unsigned int nr_slots;			/* their max_entries */
	const char *meminfo;			/* normally /proc/meminfo */
	bool keep_totals;			/* also accumulate since watching began */
	void (*on_event)(const struct collector_event *ev, void *ctx);
	void *ctx;
};

/* NULL with errno set on failure */
struct collector *collector__new(const struct collector_opts *opts);
void collector__free(struct collector *c);

/* Watch @path (relative to the v2 mount, or absolute under it) and its
 * descendants. Returns 0,
 * -ENOENT if there is no such cgroup, -ENOMEM. */
int collector__watch(struct collector *c, const char *path);
/* Watch every cgroup under @path, each with its descendants, following
 * creation and removal. */
int collector__watch_all(struct collector *c, const char *path);

/* Rescan the v2 hierarchy: find new cgroups, drop vanished ones (and their
 * map entries). Done by the ticks as needed; exposed for callers that know. */
int collector__scan(struct collector *c);

/* Take the baseline of every counter and start the snapshotters at @now:
 * the first runq and client snapshots are taken at once. Scans the tree
 * unless collector__scan() was called already. */
int collector__start(struct collector *c, int64_t now);

/* One runq interval ending at @now: runq snapshots. */
int collector__tick_runq(struct collector *c, int64_t now);
/* One system interval ending at @now: cpu and memory snapshots. */
int collector__tick_system(struct collector *c, int64_t now);
/* client snapshots at @now */
int collector__tick_client(struct collector *c, int64_t now);

struct watched *collector__first(struct collector *c);
static inline struct watched *collector__next(struct watched *w)
{
	return w->next;
}
/* the watched cgroup with cgroup v2 id @id, or whose path is @path */
struct watched *collector__find_id(struct collector *c, uint64_t id);
struct watched *collector__find_path(struct collector *c, const char *path);
unsigned int collector__nr_watched(const struct collector *c);
/* Fill @o's map fds and slot count from a loaded skeleton. */
struct cgsnap_bpf;
void collector_opts__from_skel(struct collector_opts *o, const struct cgsnap_bpf *skel);

/* run-queue slots in use at the last tick */
unsigned int collector__nr_map_entries(const struct collector *c);

/* the kernel's drop counters (enum cgsnap_drop), summed over CPUs */
int collector__drops(const struct collector *c, uint64_t out[CGSNAP_DROP_MAX]);

#endif /* __CGSNAP_COLLECTOR_H */
