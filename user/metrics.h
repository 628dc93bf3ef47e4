/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* GET /metrics: the Prometheus text exposition of cgsnap run. */
#ifndef __CGSNAP_METRICS_H
#define __CGSNAP_METRICS_H

#include <stdio.h>

#include "agent.h"

/* Write every metric to @f; call with the agent locked. Returns 0 or -EIO. */
int metrics_write(FILE *f, struct agent *ag);

#endif /* __CGSNAP_METRICS_H */
