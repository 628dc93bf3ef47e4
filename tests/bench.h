/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgsnap-bench's commands beside bench.c's own. */
#ifndef __CGSNAP_BENCH_H
#define __CGSNAP_BENCH_H

/* the cgsnap-workload beside cgsnap-bench */
extern char bench_workload[1024];

/* detect CGSNAP SCENARIO ROUNDS [OPTION...] (bench_detect.c) */
int bench_detect(const char *cgsnap, const char *scenario, int rounds, char **opts, int nopts);

#endif /* __CGSNAP_BENCH_H */
