// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The tick thread: runq, system and client ticks on the settings' cadence,
 * the verdicts they change, and in fast mode a runq tick at once when the
 * kernel side tells a long wait or a PSI trigger fires.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "agent_int.h"
#include "clock.h"
#include "identity.h"
#include "report.h"

/* one event per cgroup whose current verdict changed (and, with
 * verdict_hold, whose last one held long enough) */
static void announce_verdicts(struct agent *ag, int64_t now)
{
	int64_t hold = ag->opts->settings.verdict_hold_ns;
	struct cgsnap_status st;
	struct watched *w;
	enum verdict v, prev;
	unsigned int kinds;
	int k;

	for (w = collector__first(ag->collector); w; w = collector__next(w)) {
		struct agent_event ev = { .type = AGENT_VERDICT, .id = w->id, .path = w->name,
					  .started = true, .status = &st, .t_ns = now };

		if (cgsnap_snapshotter__current_status(w->snap, &st))
			continue;
		v = policy_verdict(&st);
		for (kinds = 0, k = 0; v == VERDICT_OVERLOADED && k < CGSNAP_KIND_COUNT; k++)
			kinds |= st.kind[k].overloaded ? 1u << k : 0;
		if (!verdicts__update(ag->verdicts, w->id, v, kinds, now, hold, &prev))
			continue;
		ev.verdict = v;
		ev.previous = prev;
		agent_announce(ag, &ev);
	}
}

static void on_signal(int sig)
{
	agent_exiting = 1;
}

void agent_handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: the loop's wait returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* fast mode: triggers for @id, bounded; refusals and the bound told once */
void ticks_watched(struct agent *ag, uint64_t id, const char *path)
{
	struct k8s_identity k;
	int err;

	if (!ag->psi)
		return;
	/* under --all, the Kubernetes pods: the bound is for what matters */
	if (ag->opts->watch_all && !ag->opts->nr_cgroups && k8s_identify(path, &k) != K8S_POD &&
	    (!ag->opts->all_root || strcmp(path, ag->opts->all_root)))
		return;
	err = psi_triggers__add(ag->psi, id, path);
	if (err == -ENOSPC && !ag->psi_full_told) {
		report_log(REPORT_INFO, "PSI triggers on %u cgroups (--psi-triggers): /%s and "
			   "further ones are read at the fast ticks", psi_triggers__count(ag->psi),
			   path);
		ag->psi_full_told = true;
	} else if (err && err != -ENOSPC && !ag->psi_refused_told) {
		report_log(REPORT_INFO, "the kernel refuses a PSI trigger for /%s (%s): it and any "
			   "such cgroup are read at the fast ticks", path, strerror(-err));
		ag->psi_refused_told = true;
	}
}

void ticks_gone(struct agent *ag, uint64_t id)
{
	verdicts__forget(ag->verdicts, id);
	if (ag->psi)
		psi_triggers__remove(ag->psi, id);
}

int ticks_start(struct agent *ag, int64_t now)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKE_BPF };
	struct watched *w;
	int fd;

	ag->next[TICK_RUNQ] = now + s->runq_interval_ns;
	ag->next[TICK_SYSTEM] = now + s->system_info_interval_ns;
	ag->next[TICK_CLIENT] = now + s->client_interval_ns;
	if (!s->fast)
		return 0;
	ag->epfd = epoll_create1(EPOLL_CLOEXEC);
	fd = collector__wake_fd(ag->collector);
	if (ag->epfd < 0 || (fd >= 0 && epoll_ctl(ag->epfd, EPOLL_CTL_ADD, fd, &ev))) {
		report_err(-errno, "cannot wait for the kernel side's wakes");
		return -errno;
	}
	if (!ag->opts->psi_triggers)
		return 0;
	ag->psi = psi_triggers__new(ag->layout.v2, ag->opts->psi_triggers, ag->epfd, WAKE_PSI);
	if (!ag->psi) {
		report_err(-ENOMEM, "cannot start");
		return -ENOMEM;
	}
	pthread_mutex_lock(&ag->lock);
	for (w = collector__first(ag->collector); w; w = collector__next(w))
		ticks_watched(ag, w->id, w->path);
	pthread_mutex_unlock(&ag->lock);
	return 0;
}

void ticks_stop(struct agent *ag)
{
	psi_triggers__free(ag->psi);
	ag->psi = NULL;
	if (ag->epfd >= 0)
		close(ag->epfd);
	ag->epfd = -1;
}

/* run one tick, @which of TICK_RUNQ and TICK_SYSTEM, timing it */
static int timed_tick(struct agent *ag, int which, int64_t now)
{
	int64_t t0 = clock_thread_ns(), cpu;
	int err;

	err = which == TICK_RUNQ ? collector__tick_runq(ag->collector, now) :
				   collector__tick_system(ag->collector, now);
	cpu = clock_thread_ns() - t0;
	ag->tick_cpu_ns[which] = cpu;
	ag->tick_cpu_total_ns[which] += cpu;
	ag->ticks[which]++;
	return err;
}

/* the ticks that are due at @now; those of @force (1 << TICK_x) at once */
static int tick(struct agent *ag, int64_t now, unsigned int force)
{
	const struct cgsnap_settings *s = &ag->opts->settings;
	const struct agent_event ev = { .type = AGENT_TICK, .started = true };
	int err = 0;

	pthread_mutex_lock(&ag->lock);
	if (now >= ag->next[TICK_RUNQ] || (force & 1 << TICK_RUNQ)) {
		err = timed_tick(ag, TICK_RUNQ, now);
		ag->next[TICK_RUNQ] = force & 1 << TICK_RUNQ ? now + s->runq_interval_ns :
				      clock_next_due(ag->next[TICK_RUNQ], now,
						     s->runq_interval_ns);
	}
	if (!err && (now >= ag->next[TICK_SYSTEM] || (force & 1 << TICK_SYSTEM))) {
		err = timed_tick(ag, TICK_SYSTEM, now);
		ag->next[TICK_SYSTEM] = force & 1 << TICK_SYSTEM ? now + s->system_info_interval_ns :
					clock_next_due(ag->next[TICK_SYSTEM], now,
						       s->system_info_interval_ns);
	}
	if (!err && now >= ag->next[TICK_CLIENT]) {
		err = collector__tick_client(ag->collector, now);
		ag->next[TICK_CLIENT] = clock_next_due(ag->next[TICK_CLIENT], now,
						       s->client_interval_ns);
	}
	if (!err) {
		/* decided now, when the readings are in: a slow tick is not hidden */
		announce_verdicts(ag, clock_mono_ns());
		agent_announce(ag, &ev);
		__atomic_store_n(&ag->nr_watched, collector__nr_watched(ag->collector),
				 __ATOMIC_RELEASE);
		__atomic_store_n(&ag->last_tick, now, __ATOMIC_RELEASE);
	}
	/* what vanished cgroups held goes back to the kernel, not to the heap */
	if (ag->gone)
		malloc_trim(0);
	ag->gone = 0;
	pthread_mutex_unlock(&ag->lock);
	return err;
}

/* the earliest of the next ticks and @end */
static int64_t wake_time(const struct agent *ag, int64_t end)
{
	int64_t t = end;
	int i;

	for (i = 0; i < NR_TICKS; i++)
		if (ag->next[i] < t)
			t = ag->next[i];
	return t;
}

/* the shortest gap between two runq ticks a wake may make */
#define WAKE_MIN_GAP_NS	(20 * CGSNAP_NSEC_PER_MSEC)

/*
 * Until @t, or (fast mode) until the kernel side or a PSI trigger wakes
 * the tick thread: which ticks to force then (1 << TICK_x), or 0.
 */
static unsigned int wait_until(struct agent *ag, int64_t t)
{
	struct timespec ts = { .tv_sec = t / CGSNAP_NSEC_PER_SEC, .tv_nsec = t % CGSNAP_NSEC_PER_SEC };
	struct epoll_event evs[8];
	unsigned int force = 0;
	int64_t left;
	int n, i;

	if (ag->epfd < 0) {
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		return 0;
	}
	left = t - clock_mono_ns();
	ts.tv_sec = left > 0 ? left / CGSNAP_NSEC_PER_SEC : 0;
	ts.tv_nsec = left > 0 ? left % CGSNAP_NSEC_PER_SEC : 0;
	n = epoll_pwait2(ag->epfd, evs, 8, &ts, NULL);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == WAKE_BPF && collector__wakes(ag->collector)) {
			force |= 1 << TICK_RUNQ;
			ag->wakes[0]++;
		} else if (evs[i].data.u64 == WAKE_PSI) {
			force |= 1 << TICK_RUNQ | 1 << TICK_SYSTEM;
			ag->wakes[1]++;
		}
	}
	return force;
}

int agent__run(struct agent *ag, int64_t end)
{
	int64_t now, last_forced = 0;
	unsigned int force;
	int err;

	while (!agent_exiting) {
		force = wait_until(ag, wake_time(ag, end));
		now = clock_mono_ns();
		if (agent_exiting || now >= end)
			break;
		/* wakes come in bursts: one early tick for a burst */
		if (force && now - last_forced < WAKE_MIN_GAP_NS)
			force = 0;
		if (force)
			last_forced = now;
		if (!force && now < wake_time(ag, end))
			continue;
		err = tick(ag, now, force);
		if (err) {
			report_err(err, "collecting failed");
			return err;
		}
	}
	/* close the measurement: the tail since the last ticks */
	now = clock_mono_ns();
	ag->next[TICK_RUNQ] = ag->next[TICK_SYSTEM] = now;
	ag->next[TICK_CLIENT] = INT64_MAX;
	err = tick(ag, now, 0);
	if (err)
		report_err(err, "collecting failed");
	return err;
}
