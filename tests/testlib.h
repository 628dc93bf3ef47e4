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

/* Kill and reap every spawned process, remove every created cgroup. */
void testlib_cleanup(void);

#endif /* __TESTLIB_H */
