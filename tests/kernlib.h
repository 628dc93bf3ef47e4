/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel suite (tests/test_kernel*.c): cgsnap's measurements against
 * the kernel's own accounting, with real workloads in real cgroups. Each
 * test has the BPF programs loaded and a collector over them (kernlib.c);
 * the fini removes what it made, also when it fails.
 */
#ifndef __KERNLIB_H
#define __KERNLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgsnap.skel.h"
#include "collector.h"

extern struct cgsnap_bpf *skel;
extern struct collector *coll;
extern struct cgroup_layout layout;
extern char big_file[64];		/* removed by the fini when set */
extern int64_t idle_read_ns;		/* collector_opts.idle_read_ns of the next setup */
extern bool fast;			/* fast mode for the next setup */
extern bool cpu_from_cgroupfs;		/* collector_opts.cpu_from_cgroupfs of the next setup */
extern bool with_memiter;		/* the next setup reads memory usage through the
					 * kernel's iterator (collector_opts.memiter) */
extern struct memiter *memiter;		/* then that iterator */

int64_t now_ns(void);
/* a test's .init of its own: start over with its options */
void reopen(void);
/* the wait source of kernels without sched_info: stamps of cgsnap's own */
void setup_own_stamps(void);
/* whether waits come from the kernel's sched_info */
bool kernel_waits(void);
/* run the workload @args in cgroup @rel until it reports done */
pid_t run_workload(const char *rel, const char *extra_procs, const char *args);
const struct watched *watched(const char *rel);
double rel_diff(double a, double b);
/* the drops and the slot's waits CPU by CPU, for a failure's message */
const char *diagnosis(uint64_t id, char *buf, size_t len);
/* wait until no CPU runs a task of cgroup @id (sched_info mode) */
void wait_off_cpu(uint64_t id);
/* compare cgsnap's totals for @rel with the schedstat of workload @pid */
void compare_schedstat(const char *rel, pid_t pid, double sum_tolerance);

/* wait until cpu.stat of @rel stands still for 100 ms: no task of it runs
 * (a workload's "done" comes before the last of its threads has blocked) */
void wait_cpu_still(const char *rel);

#endif /* __KERNLIB_H */
