/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The collector's insides, shared by collector.c (construction, lookups,
 * snapshots in), kaccount.c (the BPF maps' counts), systick.c (the cgroup
 * files' readings) and lifecycle.c (cgroups watched, created, removed).
 * Not for other users.
 */
#ifndef __CGSNAP_COLLECTOR_INT_H
#define __CGSNAP_COLLECTOR_INT_H

#include <stddef.h>

#include "cgroupfs.h"
#include "collector.h"
#include "registry.h"

/* a watched cgroup: the public part, then the collector's own */
struct wentry {
	struct watched pub;
	struct lat_interval *runq;	/* the current runq interval; NULL: no wait yet
					 * (taken from and given back to a pool) */
	uint64_t mem_some_ns;		/* the current system interval's reclaim time */
	uint64_t waiting, waiting_ns;	/* fast: waits in progress at the runq tick */
	struct lat_total *runq_total;
	struct mem_total *mem_total;
	struct lat_acc *runq_full;
	struct mem_acc *mem_full;
	uint32_t cap_gen;		/* scan generation of sys.cpu_capacity */
	int64_t cap_due;		/* idle reads: read the capacity again then */
	struct cgroup_cpu_twins twins;	/* hybrid: its v1 cpu and cpuset cgroups, */
	int64_t twins_due;		/* kept until then (COLL_TWINS_KEEP_NS) */
	uint32_t no_mem_gen;		/* scan generation that found no memory files */
	bool have_no_mem;
	bool ran;			/* a task of it ran since its last CPU reading */
	int64_t mem_due;		/* idle: read its memory again from then on */
	/* CPU usage from the kernel's charges (kcpu.c) */
	uint64_t kcpu_ns;		/* charged to its subtree's slots since watched */
	uint64_t cpu_inprog;		/* this system tick: its runs in progress */
	uint64_t kcpu_seen;		/* the most kcpu_ns + cpu_inprog a tick saw */
	uint64_t cpu_usage;		/* its usage as its snapshots take it (ns) */
	uint64_t stat_prev;		/* cpu.stat's usage when last read, */
	bool stat_last;			/* at the last reading (start or tick) */
	bool cpu_rebase;		/* cpu.stat read this tick: the kernel's
					 * baseline is taken after (coll_cpu_rebase()) */
	int64_t mem_full_due;		/* running, it is read in full again from then on; */
	unsigned int mem_checks;	/* idle, after this many checks (plan_memory()) */
	int64_t mem_full_usage;		/* its usage and working set at its last full read */
	int64_t mem_full_ws;
	uint64_t mem_kid;		/* the id of its usage file's cgroup in the
					 * memory iterator's hierarchy; 0: unknown */
	int usage_fd;			/* its memory usage file kept open, or -1 */
	bool usage_unkept;		/* not to be kept (no file of the same path) */
	struct cg_node *node;
	struct wentry *next;
};

/* what the collector keeps per registry node (node->priv) */
struct cg_state {
	uint32_t slot;		/* its run-queue slot, when has_slot */
	bool has_slot;
	struct runq_prev *rq;
	struct mem_prev *mem;
	uint64_t cpu_prev;	/* its slot's CPU time at the last reading */
	struct wentry *w;
	uint32_t reads_tick;	/* the system tick its children's reads were counted in */
	uint32_t reads;		/* children whose CPU that tick reads */
	uint32_t since_flush;	/* of them read so far */
	/* the limits along it and its ancestors, read once a system tick
	 * (systick.c); the ticks are c->sys_ticks + 1 */
	uint32_t quota_tick, mem_max_tick;
	double quota;		/* smallest CPU quota, CPUs; 0: none; < 0: -errno */
	int64_t mem_max;	/* smallest memory.max (v2), bytes; -1: none */
};

struct collector {
	struct collector_opts opts;
	struct cgsnap_settings settings;
	struct registry *reg;
	struct kmaps *maps;
	bool started;
	struct wentry *watched;
	unsigned int nr_watched;
	struct wentry *removed;	/* opts.keep_removed: the removed, newest first */
	unsigned int nr_removed;
	int64_t now;		/* of the tick in progress */
	/* who ran (opts.idle_read_ns): unknown after a slot of an unknown cgroup
	 * or a drop, when a wait may have gone uncounted */
	bool runs_unknown;
	bool drops_read;
	uint64_t drops_seen;
	uint64_t events_full_seen;	/* lifecycle events lost: scan soon */
	bool rescan;
	unsigned int beyond_told;	/* cgroups at the depth limit told of */
	bool slots_full_told;
	/* who runs on each CPU (kmaps__nr_cpus()), read at the system tick:
	 * nr_running CPUs, or < 0 when not known */
	struct cgsnap_cpu_note *running, *running_after;
	struct cpu_run *runs;
	int nr_running;
	bool kernel_ok;		/* no run went uncounted since the last tick */
	bool host_pids;		/* /proc has the notes' PIDs (coll_host_pids()) */
	/* memory usage files kept open (systick.c): how many, how many may be */
	unsigned int usage_fds, usage_fds_max;
	bool memiter_want;		/* this system tick takes usages from opts.memiter */
	bool memiter_read;		/* and read it (at the first usage asked for) */
	uint64_t readings[COLL_READING_MAX];
	uint32_t sys_ticks;
	/* slot -> node, valid while the owner and the scan generation stay */
	struct slot_cache {
		uint64_t owner;
		struct cg_node *node;
	} *slots;
	uint32_t slots_gen;
	/* interval accumulators of the cgroups that waited this tick: as many
	 * as cgroups wait at once, not one per watched cgroup */
	struct lat_interval **pool;
	unsigned int nr_pool, cap_pool;
};

static inline struct wentry *wentry_of(struct watched *w)
{
	return (struct wentry *)((char *)w - offsetof(struct wentry, pub));
}

static inline struct cg_state *state_of(const struct cg_node *n)
{
	return n->priv;
}

/* a CPU's run in progress, as the system tick reads it (kcpu.c) */
struct cpu_run {
	uint64_t ran;			/* this tick: CPU time of the noted run so far */
	uint64_t task, exec;		/* the run first seen (no schedstat to read) */
	int64_t since;			/* and when */
};

/* the watched cgroups from @*a up to the root, one per call; NULL at the end */
static inline struct wentry *watched_up(struct cg_node **a)
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


/* collector.c */
void coll_emit(struct collector *c, enum collector_event_type type, const struct watched *w,
	       const struct cgsnap_memory_warning *warning);
/* add @snap to @w's history, and tell about it and any warning it raised */
void coll_add_snapshot(struct collector *c, struct wentry *w, const struct cgsnap_snapshot *snap);
/* a scan found cgroups below the depth limit: say so when there are more */
void coll_depth_check(struct collector *c);

/* kaccount.c */
/* the totals of every watched cgroup that has not waited nor stalled yet */
extern const struct lat_total coll_no_waits;
extern const struct mem_total coll_no_stalls;
/* an empty interval accumulator, or NULL (no memory) */
struct lat_interval *coll_acc_get(struct collector *c);
/* give @a (emptied here) back */
void coll_acc_put(struct collector *c, struct lat_interval *a);
/* read @st's slot and add what it counted since to the watched cgroups from @n up */
void coll_account_runq(struct collector *c, struct cg_node *n, struct cg_state *st);
void coll_account_mem(uint64_t id, const struct cgsnap_mem *v, void *ctx);
/* every slot's waits, and the memory-pressure counters, read at @now */
int coll_collect_runq(struct collector *c, int64_t now);
int coll_collect_mem(struct collector *c, int64_t now);
/* the runq snapshot of @w's interval, which then starts again */
void coll_runq_interval_end(struct collector *c, struct wentry *w, int64_t now);

/* the node owning @slot (NULL if the registry does not know it) */
struct cg_node *coll_slot_node(struct collector *c, uint32_t slot, uint64_t owner);
/* forget the slots' nodes after a scan (which may have freed nodes) */
void coll_slot_cache_check(struct collector *c);

/* kcpu.c */
/* add what @slot's CPU time grew by to the watched cgroups from @n up */
void coll_account_cpu(struct collector *c, struct cg_node *n, struct cg_state *st,
		      uint32_t slot);
/* every slot's CPU time, and the runs in progress, read at @now (after
 * c->running was): each watched cgroup's kcpu_ns and cpu_inprog */
void coll_collect_cpu(struct collector *c, int64_t now);
/* whether this process sees the initial PID namespace, which the notes' PIDs are of */
bool coll_host_pids(void);
/* @w's CPU usage this tick (ns, its snapshots' scale): what the kernel
 * charged since the last tick, or, when the tick read it (@stat non-NULL),
 * what cpu.stat grew by since a last reading of its own */
uint64_t coll_cpu_usage(struct wentry *w, const uint64_t *stat);
/* the first reading of @w's CPU: cpu.stat's @usage, and the kernel's at
 * the end of the tick (coll_cpu_rebase()) */
void coll_cpu_baseline(struct wentry *w, uint64_t usage);
/* after a tick's cpu.stat reads: the kernel's baseline of the cgroups read */
void coll_cpu_rebase(struct collector *c, int64_t now);

/* systick.c: the baselines of the system tick's counters at the start */
void coll_system_start(struct collector *c, int64_t now);
/* systick.c: @w's memory usage file, if kept open, closed (its cgroup is gone) */
void coll_usage_close(struct collector *c, struct wentry *w);

/* lifecycle.c: the registry's callbacks (registry_ops), and the kernel's
 * lifecycle events (kmaps__events()) */
void wentry_free(struct wentry *w);
int on_watch(struct cg_node *n, void *ctx);
void on_gone(struct cg_node *n, void *ctx);
void on_release(struct cg_node *n, void *ctx);
void on_cg_event(const struct cgsnap_cg_event *e, void *ctx);

#endif /* __CGSNAP_COLLECTOR_INT_H */
