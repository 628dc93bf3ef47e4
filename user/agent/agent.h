/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent: the one object the commands drive. It owns the cgroup layout,
 * the BPF programs (through the loader), the collector and the tick
 * schedule, and announces what happens (cgroups watched and gone,
 * snapshots, memory warnings, verdict changes) through one callback.
 *
 *   agent__open() -> agent__start() -> agent__run() (ticks) -> agent__close()
 *
 * Readers on other threads (the HTTP server) never see its internals: the
 * query functions copy what they ask for under the agent's own lock.
 * Command-side code: agent__open() reports its failures on stderr, once.
 */
#ifndef __CGSNAP_AGENT_H
#define __CGSNAP_AGENT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "loader.h"
#include "policy.h"
#include "readings.h"
#include "snapshotter.h"

struct agent_event;

struct agent_opts {
	struct cgsnap_settings settings;
	char **cgroups;			/* --cgroup paths */
	unsigned int nr_cgroups;
	bool watch_all;			/* every cgroup under all_root */
	const char *all_root;		/* NULL: the whole hierarchy */
	bool verbose;			/* libbpf's debug messages */
	unsigned int max_cgroups;	/* run-queue slots; 0: loader_slots_for() */
	unsigned int max_depth;		/* deeper cgroups count in their ancestor at this
					 * depth; 0: CGSNAP_MAX_LEVEL_DEFAULT */
	unsigned int psi_triggers;	/* settings.fast: PSI triggers on at most this many
					 * cgroups (0: none) */
	bool keep_totals;		/* counters since watching began (stat, metrics) */
	bool full_totals;		/* ... with every histogram slot (stat) */
	bool keep_removed;		/* agent__cgroups() lists removed cgroups too (stat) */
	bool drop_caps;			/* drop every capability once attached */
	int64_t idle_read_ns;		/* > 0: cgroups that did not run keep their CPU
					 * usage and have their memory read this often
					 * (collector_opts.idle_read_ns) */
	bool cpu_from_cgroupfs;		/* CPU usage from cpu.stat, not the kernel
					 * side's charges (collector_opts) */
	int64_t rescan_ns;		/* the tree scanned again this often while the
					 * kernel tells creations and removals (0: the
					 * collector's default) */
	const char *pin_dir;		/* pin maps and links there (cgsnap run --pin) */
	void (*on_event)(const struct agent_event *ev, void *ctx);
	void *ctx;
};

enum agent_event_type {
	AGENT_WATCHED,		/* a cgroup is now watched */
	AGENT_GONE,		/* a watched cgroup disappeared (.verdict and .status:
				 * its last; .runq, .mem: its totals, when kept) */
	AGENT_SNAPSHOT,		/* a snapshot was taken (.snap, with .overloaded) */
	AGENT_MEMORY_WARNING,	/* docs/SPEC.md section 5 (.warning) */
	AGENT_VERDICT,		/* the current verdict changed (.verdict, .status) */
	AGENT_TICK,		/* a tick ended */
	AGENT_SLOTS_FULL,	/* every one of .count run-queue slots is taken: waits
				 * of cgroups without one go uncounted (told once) */
	AGENT_DEPTH_LIMIT,	/* cgroups deeper than max_depth were found: .count
				 * of them at the limit have sub-cgroups counted in
				 * them, .path the first */
};

struct agent_event {
	enum agent_event_type type;
	uint64_t id;			/* the cgroup, but for AGENT_TICK */
	const char *path;		/* printable (common/escape.h) */
	bool started;			/* after agent__start() */
	const struct cgsnap_snapshot *snap;
	const struct cgsnap_memory_warning *warning;
	enum verdict verdict, previous;
	const struct cgsnap_status *status;
	const struct lat_total *runq;
	const struct mem_total *mem;
	unsigned int count;
	int64_t t_ns;			/* AGENT_VERDICT: the tick that decided it */
};

/* cgsnap run's default idle_read_ns */
#define AGENT_IDLE_READ_DEFAULT_NS	(10 * 1000000000LL)
/* cgsnap run's default rescan_ns: the collector's own */
#define AGENT_RESCAN_DEFAULT_NS		(30 * 1000000000LL)

/* totals since watching began: accum.h's compact totals, octave histograms */
#define AGENT_OCTAVES	CGSNAP_OCTAVES

/* what agent__cgroups() copies of the totals (agent_opts.keep_totals) */
enum agent_totals {
	AGENT_NO_TOTALS,
	AGENT_TOTALS,		/* .runq and .mem: counters, octave histograms */
	AGENT_TOTALS_FULL,	/* and .runq_full, .mem_full: every histogram slot
				 * (agent_opts.full_totals) */
};

/* One watched cgroup, copied out of the agent. */
struct agent_cgroup {
	uint64_t id;
	bool removed;			/* gone during the measurement (keep_removed) */
	char *path;			/* relative to the v2 mount, printable */
	bool active;			/* its snapshotter runs: the statuses are valid */
	struct cgsnap_status current, historical;
	bool has_latest[CGSNAP_KIND_COUNT];
	struct cgsnap_snapshot latest[CGSNAP_KIND_COUNT];
	struct sys_reading sys;		/* the latest system readings */
	double cpu_ratio_overall;	/* CPU used since watching began; -1 unknown */
	bool has_totals;		/* agent_opts.keep_totals, and asked for */
	struct lat_total runq;		/* since watching began */
	struct mem_total mem;
	struct lat_acc *runq_full;	/* AGENT_TOTALS_FULL: the same, every slot */
	struct mem_acc *mem_full;
};

/* what the agent costs and what the kernel side dropped */
struct agent_self {
	unsigned int nr_watched;
	unsigned int slots_used;
	uint64_t drops[CGSNAP_DROP_MAX];
	int64_t tick_cpu_ns[2];		/* [0] runq, [1] system: the last tick */
	uint64_t tick_cpu_total_ns[2];
	uint64_t ticks[2];
	uint64_t readings[COLL_READING_MAX];	/* collector__readings() */
	unsigned int nr_progs;
	struct loader_prog_stat progs[16];
};

struct agent;

extern volatile sig_atomic_t agent_exiting;

/* Add @path to --cgroup's list: 0, -EINVAL for a path with a "." or ".."
 * component, -ENOMEM. */
int agent_opts_add_cgroup(struct agent_opts *o, const char *path);
void agent_opts_free(struct agent_opts *o);

/* Detect the layout, load and attach the BPF programs, add the watches and
 * scan the tree once. NULL with errno set; the reason is on stderr. */
struct agent *agent__open(const struct agent_opts *o);
void agent__close(struct agent *ag);

/* Take the baseline at @now and start the snapshotters; drop capabilities
 * if asked. Returns 0 or -errno (reported). */
int agent__start(struct agent *ag, int64_t now);

/* Tick on the settings' cadence until @end or a signal; a last runq and
 * system tick close the measurement. Returns 0 or -errno (reported). */
int agent__run(struct agent *ag, int64_t end);

/* SIGINT and SIGTERM set agent_exiting (and interrupt the loop's sleep) */
void agent_handle_signals(void);


/* queries, from any thread */

/* Every watched cgroup, sorted by path, in a new array; with the totals
 * (runq, mem) if @totals. Returns 0 or -ENOMEM. */
int agent__cgroups(struct agent *ag, enum agent_totals totals, struct agent_cgroup **out,
		   unsigned int *n);
void agent_cgroups_free(struct agent_cgroup *v, unsigned int n);

/* The watched cgroup @ref names: a cgroup id, else a path. Returns 0 or
 * -ENOENT. Free with agent_cgroup_fini(). */
int agent__cgroup(struct agent *ag, const char *ref, struct agent_cgroup *out);
void agent_cgroup_fini(struct agent_cgroup *c);

/* sample(@kind, @duration_ns) of the cgroup @ref names, in a new array
 * (*@out, *@n), and who it is in @who (path, id; no statuses). Returns 0,
 * -ENOENT, -ENOTCONN or -ENOMEM. */
int agent__sample(struct agent *ag, const char *ref, enum cgsnap_kind kind, int64_t duration_ns,
		  struct agent_cgroup *who, struct cgsnap_snapshot **out, uint32_t *n);

/* Count @count client errors on retry attempt @retry for @ref. Returns 1 if
 * counted, 0 if ignored, -ENOENT or -EINVAL; the count in *@total. */
int agent__report_client_errors(struct agent *ag, const char *ref, int64_t retry, int64_t count,
				int64_t *total);

struct agent_health {
	bool started;
	unsigned int nr_watched;
	int64_t since_tick_ns;		/* since the last tick ended */
	int64_t late_after_ns;		/* ticks count as stopped beyond this */
	const char *problem;		/* NULL when healthy */
};

/* Whether the agent works at @now: started, ticking on time, watching at
 * least one cgroup. Returns 0, or -EAGAIN with the problem named. */
int agent__health(struct agent *ag, int64_t now, struct agent_health *out);

unsigned int agent__nr_watched(struct agent *ag);
void agent__self(struct agent *ag, struct agent_self *out);
const struct cgsnap_settings *agent__settings(const struct agent *ag);
/* the v2 mount, e.g. /sys/fs/cgroup */
const char *agent__v2_root(const struct agent *ag);
/* whether a previous run's pinned maps (and links) are in use */
bool agent__pins_reused(const struct agent *ag);

#endif /* __CGSNAP_AGENT_H */
