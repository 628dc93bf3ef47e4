// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Memory pressure against the kernel's own counts: reclaim stalls, OOM
 * kills of a cgroup's limit and of the host.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "kernlib.h"
#include "testlib.h"
#include "cgsnap.skel.h"
#include "collector.h"
#include "loader.h"
#include "names.h"

static void make_big_file(size_t mib)
{
	static char buf[1 << 20];
	int fd;
	size_t i;

	snprintf(big_file, sizeof(big_file), "/var/tmp/cgsnap-test-%d.dat", getpid());
	fd = open(big_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(ge(int, fd, 0));
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < mib; i++)
		cr_assert(eq(sz, (size_t)write(fd, buf, sizeof(buf)), sizeof(buf)));
	fsync(fd);
	/* out of the page cache: the readers' faults charge their own cgroups */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

Test(kernel, memory_pressure_and_oom_kills)
{
	char oom_file[1024], args[256];
	const char *limited, *free_rel, *oom, *procs;
	const struct mem_total *m;
	int status, fd;
	uint64_t id, kernel_kills;
	pid_t pid;

	make_big_file(256);
	limited = testlib_cgroup("limited", &id);
	free_rel = testlib_cgroup("unlimited", &id);
	oom = testlib_cgroup("oom", &id);
	cr_assert(eq(int, collector__watch(coll, limited), 0));
	cr_assert(eq(int, collector__watch(coll, free_rel), 0));
	cr_assert(eq(int, collector__watch(coll, oom), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));

	procs = testlib_memory_limit(limited, 32 << 20, oom_file, sizeof(oom_file));
	snprintf(args, sizeof(args), "--read-file %s --duration-ms 2000", big_file);
	run_workload(limited, procs, args);
	run_workload(free_rel, NULL, args);

	/* past its limit: the kernel OOM-kills it */
	procs = testlib_memory_limit(oom, 32 << 20, oom_file, sizeof(oom_file));
	char *const hog[] = { "sh", "-c", "exec $0 --alloc-mb 512", (char *)testlib_workload(), NULL };
	pid = testlib_spawn_ex(oom, procs, hog, &fd);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	close(fd);
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGKILL),
		  "the hog was not OOM-killed");
	kernel_kills = testlib_oom_kills(oom_file);

	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	m = watched(limited)->mem_total;
	cr_log_info("limited: %llu memcg stalls, %.3f ms, some-time %.3f ms",
		    (unsigned long long)m->count[CGSNAP_RECLAIM_MEMCG], m->sum_ns[1] / 1e6,
		    m->some_ns / 1e6);
	cr_assert(gt(u64, m->count[CGSNAP_RECLAIM_MEMCG], 0), "no memcg reclaim stall seen");
	cr_assert(gt(u64, m->sum_ns[CGSNAP_RECLAIM_MEMCG], 0));
	cr_assert(gt(u64, m->some_ns, 0));
	cr_assert(le(u64, m->some_ns, m->sum_ns[0] + m->sum_ns[1]),
		  "some-time cannot exceed the summed stall time");
	m = watched(free_rel)->mem_total;
	cr_assert(eq(u64, m->count[0] + m->count[1], 0), "the unlimited sibling stalled");
	cr_assert(eq(u64, m->some_ns, 0));
	m = watched(oom)->mem_total;
	cr_assert(ge(u64, kernel_kills, 1));
	cr_assert(eq(u64, m->oom_kills, kernel_kills), "OOM kills: cgsnap %llu, kernel %llu",
		  (unsigned long long)m->oom_kills, (unsigned long long)kernel_kills);
	/* its own limit's doing, not the host's */
	cr_assert(eq(u64, m->oom_kills_memcg, kernel_kills), "memcg OOM kills: %llu of %llu",
		  (unsigned long long)m->oom_kills_memcg, (unsigned long long)m->oom_kills);
}

/*
 * A global OOM kill, caused by the host running out of memory, not by a
 * cgroup's limit: a workload with oom_score_adj 1000 (the killer's first
 * choice) allocates more than the machine has. Only on a small machine:
 * make vmtest runs it in its 2 GiB guests; on a large host it is skipped.
 */
Test(kernel, global_oom_kill_is_told_from_a_memcg_one, .timeout = 300)
{
	char args[96], *const argv[] = { "sh", "-c", args, (char *)testlib_workload(), NULL };
	const struct mem_total *m;
	unsigned long long mem_kib = 0;
	const char *rel;
	char line[256];
	uint64_t id;
	int status;
	pid_t pid;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	cr_assert(ne(ptr, f, NULL));
	while (fgets(line, sizeof(line), f) && sscanf(line, "MemTotal: %llu kB", &mem_kib) != 1)
		;
	fclose(f);
	if (mem_kib > 4ULL << 20)
		cr_skip_test("a real global OOM needs a machine of at most 4 GiB, this one has "
			     "%llu MiB: make vmtest runs this test in its 2 GiB guests",
			     mem_kib >> 10);
	rel = testlib_cgroup("global-oom", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	/* twice the machine's memory: no cgroup limit in the way, only the host's */
	snprintf(args, sizeof(args), "echo 1000 >/proc/self/oom_score_adj; exec $0 --alloc-mb %llu",
		 mem_kib >> 9);
	pid = testlib_spawn(rel, argv);
	cr_assert(eq(int, waitpid(pid, &status, 0), pid));
	cr_assert(eq(int, WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGKILL),
		  "the OOM killer did not choose our workload");
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	m = watched(rel)->mem_total;
	cr_assert(eq(u64, m->oom_kills, 1));
	cr_assert(eq(u64, m->oom_kills_memcg, 0), "a global OOM kill counted as the cgroup's own");
}

