/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Snapshot constructors for the tests. */
#ifndef __SNAP_HELPERS_H
#define __SNAP_HELPERS_H

#include "snapshotter.h"

#define MS CGSNAP_NSEC_PER_MSEC
#define SEC CGSNAP_NSEC_PER_SEC
#define GIB (1024LL * 1024 * 1024)

static inline struct cgsnap_snapshot cpu_snap(int64_t t, double used, double max)
{
	return (struct cgsnap_snapshot){
		.t_ns = t, .kind = CGSNAP_KIND_CPU, .cpu = { .used_ratio = used, .max_used_ratio = max },
	};
}

static inline struct cgsnap_snapshot mem_snap(int64_t t, int64_t cur, int64_t max, double ratio)
{
	return (struct cgsnap_snapshot){
		.t_ns = t, .kind = CGSNAP_KIND_MEMORY,
		.memory = { .current_bytes = cur, .max_bytes = max, .max_used_ratio = ratio,
			    .max_stall_ratio = 0.1 },
	};
}

static inline struct cgsnap_snapshot runq_snap(int64_t t, int64_t delay, int64_t max)
{
	return (struct cgsnap_snapshot){
		.t_ns = t, .kind = CGSNAP_KIND_RUNQ, .runq = { .delay_ns = delay, .max_delay_ns = max },
	};
}

static inline struct cgsnap_snapshot client_snap(int64_t t, int64_t errors, int64_t max)
{
	return (struct cgsnap_snapshot){
		.t_ns = t, .kind = CGSNAP_KIND_CLIENT,
		.client = { .error_count = errors, .max_error_count = max },
	};
}

#endif /* __SNAP_HELPERS_H */
