/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Verdicts and scaling policy over a cgroup's status: whether it is idle or
 * overloaded and why, its load, and the AutoscaledPool rule that turns a
 * verdict into a desired scale. Pure functions: no I/O, no state.
 */
#ifndef __CGSNAP_POLICY_H
#define __CGSNAP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshotter.h"

/* AutoscaledPool's step: scale by ceil(5%) of the current size */
#define POLICY_SCALE_STEP_RATIO	0.05
/* the largest current size policy_desired_scale() takes */
#define POLICY_MAX_SCALE	1000000000LL

enum verdict {
	VERDICT_NONE = 0,	/* not judged yet */
	VERDICT_IDLE,
	VERDICT_OVERLOADED,
};

enum verdict policy_verdict(const struct cgsnap_status *st);

/* Why @st is overloaded: "cpu 0.667 > 0.4, runq 1.000 > 0.6"; "" if idle. */
void policy_explain(const struct cgsnap_status *st, char *buf, size_t len);

/* The load: the largest actual_ratio / limit_ratio over the kinds. Above 1,
 * at least one kind is overloaded; KEDA and the HPA scale on it. */
double policy_load(const struct cgsnap_status *st);

/* Crawlee's AutoscaledPool: from @current (>= 1) up by ceil(5%) when @idle,
 * else down by as much, never below 1. */
int64_t policy_desired_scale(int64_t current, bool idle);

#endif /* __CGSNAP_POLICY_H */
