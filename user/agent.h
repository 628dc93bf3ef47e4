/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What `cgsnap stat` and `cgsnap run` share: the cgroup layout, the BPF
 * programs, the collector, signal handling and the tick loop. Command-side
 * code: it reports its own failures on stderr, once.
 */
#ifndef __CGSNAP_AGENT_H
#define __CGSNAP_AGENT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct agent_opts {
	struct cgsnap_settings settings;
	char **cgroups;			/* --cgroup paths */
	unsigned int nr_cgroups;
	bool watch_all;			/* every cgroup under all_root */
	const char *all_root;		/* NULL: the whole hierarchy */
	bool verbose;
	unsigned int max_cgroups;	/* run-queue slots; 0: twice the cgroups there are */
	bool keep_totals;
	const char *pin_dir;		/* pin maps and links there (cgsnap run --pin) */
	void (*on_event)(const struct collector_event *ev, void *ctx);
	void *ctx;
	/* called after each tick, with the agent locked */
	void (*after_tick)(void *ctx, int64_t now);
};

struct agent {
	const struct agent_opts *opts;
	struct cgroup_layout layout;
	const struct cgroup_layout *layout_p;
	struct cgsnap_bpf *skel;
	struct collector *collector;
	pthread_mutex_t lock;		/* held around ticks; readers take it too */
	bool locked_init;
	bool pins_reused;		/* a previous run's pinned maps (and links) in use */
	int64_t tick_cpu_ns[2];		/* CPU time of the last runq and system tick */
	uint64_t tick_cpu_total_ns[2];
	uint64_t ticks[2];
};

extern volatile sig_atomic_t agent_exiting;

int agent_opts_add_cgroup(struct agent_opts *o, const char *path);
void agent_opts_free(struct agent_opts *o);

/* Detect the layout, load and attach the BPF programs, create the collector
 * and add the watches. Prints the reason to stderr, prefixed by @prog, and
 * returns -errno on failure. */
int agent_open(struct agent *ag, const struct agent_opts *o, const char *prog);
void agent_close(struct agent *ag);

/* SIGINT and SIGTERM set agent_exiting (and interrupt the loop's sleep) */
void agent_handle_signals(void);

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns() */
int64_t agent_now(void);

/* Start the collector at @start and tick on the settings' cadence until
 * @end or a signal; a last runq and system tick close the measurement. */
int agent_loop(struct agent *ag, int64_t start, int64_t end);

/* the watched cgroups sorted by path, in a new array (*@out) */
unsigned int agent_sorted_watched(struct agent *ag, struct watched ***out);

#endif /* __CGSNAP_AGENT_H */
