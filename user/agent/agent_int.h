/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's insides, shared by agent.c (open, close, start, the
 * collector's events), ticks.c (the tick schedule, wakes, verdicts) and
 * queries.c (copies for other threads). Not for other users.
 */
#ifndef __CGSNAP_AGENT_INT_H
#define __CGSNAP_AGENT_INT_H

#include <pthread.h>

#include "agent.h"
#include "cgroupfs.h"
#include "collector.h"
#include "psi.h"
#include "verdicts.h"

enum { TICK_RUNQ, TICK_SYSTEM, TICK_CLIENT, NR_TICKS };

/* epoll data of what wakes the tick thread (fast mode) */
enum { WAKE_BPF = 1, WAKE_PSI = 2 };

struct agent {
	const struct agent_opts *opts;
	struct cgroup_layout layout;
	struct cgsnap_bpf *skel;
	struct memiter *memiter;	/* every cgroup's memory usage at once; NULL */
	struct collector *collector;
	pthread_mutex_t lock;		/* held around ticks and queries */
	bool pins_reused;
	bool started;
	/* written by the tick thread, read without the lock by agent__health():
	 * /healthz answers even while a tick runs long */
	int64_t last_tick;		/* when the last tick ended */
	unsigned int nr_watched;	/* as of then */
	unsigned int gone;		/* cgroups freed during the tick in progress */
	int64_t next[NR_TICKS];		/* when each tick is due */
	int64_t tick_cpu_ns[2];		/* CPU time of the last runq and system tick */
	uint64_t tick_cpu_total_ns[2];
	uint64_t ticks[2];
	struct verdicts *verdicts;	/* announced, by cgroup id */
	/* fast mode */
	int epfd;			/* the kernel side's wakes, PSI triggers; -1 */
	struct psi_triggers *psi;
	bool psi_refused_told, psi_full_told;
	uint64_t wakes[2];		/* out-of-cadence runq ticks: BPF, PSI */
};

/* the event @ev to the agent's user (ag->opts->on_event), on the tick thread */
void agent_announce(struct agent *ag, const struct agent_event *ev);

/* ticks.c: the tick schedule from @now, and the fast mode's epoll set and
 * triggers: 0 or -errno (reported) */
int ticks_start(struct agent *ag, int64_t now);
void ticks_stop(struct agent *ag);
/* a cgroup is watched, or gone: its PSI triggers (fast mode) */
void ticks_watched(struct agent *ag, uint64_t id, const char *path);
void ticks_gone(struct agent *ag, uint64_t id);

#endif /* __CGSNAP_AGENT_INT_H */
