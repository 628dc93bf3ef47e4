/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* GET /metrics: the Prometheus text exposition of cgsnap run. */
#ifndef __CGSNAP_METRICS_H
#define __CGSNAP_METRICS_H

#include <stdio.h>

#include "agent.h"

/*
 * Write every metric of @cgs (as agent__cgroups() returns them, with
 * totals), the thresholds of @settings and the agent's own figures @self
 * to @f. Returns 0 or -EIO.
 */
int metrics_write(FILE *f, const struct agent_cgroup *cgs, unsigned int n,
		  const struct cgsnap_settings *settings, const struct agent_self *self);

/* Write @s, a printable form (common/escape.h: valid UTF-8, no control
 * character, as every name the agent hands out is), as a label value:
 * backslash and double quote escaped as the exposition format wants. */
void metrics_label(FILE *f, const char *s);

#endif /* __CGSNAP_METRICS_H */
