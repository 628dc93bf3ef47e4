/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The clocks cgsnap reads: one helper each. */
#ifndef __CGSNAP_CLOCK_H
#define __CGSNAP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns() and of every
 * snapshot's t_ns */
static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of the calling thread, ns */
static inline int64_t clock_thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A periodic schedule's next time after a tick that was due at @due ran at
 * @now: the next of @due + k * @interval (k >= 1) that is later than @now.
 * A tick that ran late is not run again for the intervals it missed: they
 * would run back to back, their snapshots a burst at one instant (and each
 * history sized for it) where the readings are no more frequent.
 */
static inline int64_t clock_next_due(int64_t due, int64_t now, int64_t interval)
{
	if (interval <= 0)
		return now;
	if (now < due + interval)
		return due + interval;
	return due + ((now - due) / interval + 1) * interval;
}

/* CLOCK_REALTIME in us: for ids that outlive a restart */
static inline uint64_t clock_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

#endif /* __CGSNAP_CLOCK_H */
