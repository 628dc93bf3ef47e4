/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* GET /metrics: the Prometheus text exposition of cgsnap run. */
#ifndef __CGSNAP_METRICS_H
#define __CGSNAP_METRICS_H

#include <stdio.h>

#include "agent.h"
#include "k8sview.h"
#include "kubelet.h"

/* the buckets of a cgroup's histograms (docs/API.md, "Series") */
enum metrics_histograms {
	METRICS_HIST_COARSE,	/* 11 buckets, 4.1 us to 4.3 s, a factor of 4 apart */
	METRICS_HIST_FULL,	/* 28 buckets, one per power of two, 1 us to 137 s */
	METRICS_HIST_NONE,	/* none: the by-holder counters still give count and sum */
};

struct metrics_opts {
	enum metrics_histograms histograms;	/* every cgroup's, but: */
	char **full;				/* path globs (fnmatch(3), on "/path")
						 * of cgroups with full histograms */
	unsigned int nr_full;
};

/* "coarse", "full", "none": 0 or -EINVAL */
int metrics_histograms_parse(const char *s, enum metrics_histograms *out);
const char *metrics_histograms_name(enum metrics_histograms h);
/* add @glob to @mo->full: 0 or -ENOMEM */
int metrics_opts_add_full(struct metrics_opts *mo, const char *glob);
void metrics_opts_free(struct metrics_opts *mo);

/*
 * Write every metric of @cgs (as agent__cgroups() returns them, with
 * totals), the thresholds of @settings and the agent's own figures @self
 * to @f, with histograms as @mo says. @kv (NULL: none) names the cgroups of
 * pods and gives the workloads; @ks (NULL: none) the kubelet client's state.
 * Returns 0, -ENOMEM or -EIO.
 */
int metrics_write(FILE *f, const struct agent_cgroup *cgs, unsigned int n,
		  const struct cgsnap_settings *settings, const struct agent_self *self,
		  const struct metrics_opts *mo, const struct k8s_view *kv,
		  const struct kubelet_stats *ks);

/* Write @s, a printable form (common/escape.h: valid UTF-8, no control
 * character, as every name the agent hands out is), as a label value:
 * backslash and double quote escaped as the exposition format wants. */
void metrics_label(FILE *f, const char *s);

#endif /* __CGSNAP_METRICS_H */
