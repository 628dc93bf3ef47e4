/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Real cgroups and workloads for the kernel tests. Every cgroup is named
 * cgsnap-test-<pid>-<name> and removed by testlib_cleanup(), which the
 * suites call from .fini so it also runs when an assertion fails. */
#ifndef __TESTLIB_H
#define __TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TESTLIB_MAX_CGROUPS 8
#define TESTLIB_MAX_PROCS 64

/* Skip (outside CI) or fail (in CI, CI=true) unless root with BPF and BTF. */
void testlib_require_bpf(void);

/* The v2 mount, e.g. /sys/fs/cgroup/unified on hybrid hosts. */
const char *testlib_v2_root(void);

/* Create a v2 cgroup cgsnap-test-<pid>-@name; returns its path relative to
 * the v2 mount (static storage) and its id in *@id. */
const char *testlib_cgroup(const char *name, uint64_t *id);

/* Start @argv in cgroup @rel (relative to the v2 mount). The child is moved
 * into the cgroup before it execs. Returns its pid. */
pid_t testlib_spawn(const char *rel, char *const argv[]);

/* in a child just forked from @parent: @sig when the parent dies (a test
 * timed out and its worker was killed), so nothing it started outlives it */
void testlib_die_with(pid_t parent, int sig);

/* As testlib_spawn(), also joining @extra_procs (a cgroup.procs file of a v1
 * hierarchy, or NULL), with the child's stdout readable from *@out_fd. */
pid_t testlib_spawn_ex(const char *rel, const char *extra_procs, char *const argv[], int *out_fd);

/* Read @fd until a line "done" arrives (true) or @timeout_ms passes. */
bool testlib_wait_done(int fd, int timeout_ms);
/* wait until the workload on @fd printed @line (e.g. "ready"), as above */
bool testlib_wait_line(int fd, const char *line, int timeout_ms);

/* Sum field 2 (run_delay ns) and field 3 (timeslices) of the schedstat of
 * every thread of @pid. */
/* Wait until no thread of @pid is running or runnable (it has left its CPU,
 * so that cgsnap has read its waits: it reads them as a task leaves the CPU).
 * Returns whether that happened within @timeout_ms. */
bool testlib_wait_blocked(pid_t pid, int timeout_ms);
/* the same for thread @tid of @pid alone */
void testlib_schedstat_of(pid_t pid, pid_t tid, uint64_t *run_delay_ns, uint64_t *timeslices);
void testlib_schedstat(pid_t pid, uint64_t *run_delay_ns, uint64_t *timeslices);

/* A memory-limited cgroup for the tasks of v2 cgroup @rel: on hybrid hosts a
 * v1 memory cgroup of the same name (returns its cgroup.procs path to pass
 * to testlib_spawn_ex), on pure v2 hosts the memory.max of @rel (returns
 * NULL). *@oom_kills_file gets the file whose "oom_kill N" line counts the
 * kernel's OOM kills for it. */
const char *testlib_memory_limit(const char *rel, uint64_t bytes, char *oom_kills_file,
				 size_t len);

/* A CPU quota of @quota_us every @period_us for the tasks of v2 cgroup
 * @rel: on hybrid hosts a v1 cpu cgroup of the same name (returns its
 * cgroup.procs path for testlib_spawn_ex), on pure v2 its cpu.max (NULL). */
const char *testlib_cpu_quota(const char *rel, unsigned int quota_us, unsigned int period_us);

/* The kernel's oom_kill count in @file (memory.oom_control / memory.events). */
uint64_t testlib_oom_kills(const char *file);

/* Path of the cgsnap-workload helper binary (next to CGSNAP_BIN). */
const char *testlib_workload(void);

/* Kill and reap every spawned process, remove every created cgroup. */
/* Set @rel's cpu.weight where the cpu controller is enabled (pure v2). */
void testlib_cpu_weight(const char *rel, unsigned int weight);
/* SIGKILL every process in cgroup @rel (relative to the v2 root, or a full
 * path) and its descendants, until none is left */
void testlib_kill_cgroup(const char *rel);

/* Move process @pid (all its threads) into v2 cgroup @rel. */
void testlib_move(const char *rel, pid_t pid);
void testlib_cleanup(void);

#endif /* __TESTLIB_H */
