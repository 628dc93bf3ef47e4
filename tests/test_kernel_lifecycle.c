// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroups that come and go: a vanished one's last counts, its slot
 * recycled; short-lived ones seen and counted.
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

static int gone_events;

static void count_gone(const struct collector_event *ev, void *ctx)
{
	if (ev->type == COLLECTOR_GONE)
		gone_events++;
}

Test(kernel, vanished_cgroup_is_reported_freed_and_its_slot_recycled)
{
	char *const sleeper[] = { "sh", "-c", "for i in $(seq 20); do sleep 0.001; done", NULL };
	struct collector_opts co = {};
	char dir[1200];
	__u32 slot;
	__u64 owner = 1;
	uint64_t id;
	const char *rel;
	pid_t pid;
	int i;

	/* a collector of our own, to see its events */
	collector__free(coll);
	loader_map_fds(skel, &co.maps);
	co.layout = &layout;
	co.on_event = count_gone;
	coll = collector__new(&co);
	cr_assert(ne(ptr, coll, NULL));

	rel = testlib_cgroup("doomed", &id);
	cr_assert(eq(int, collector__watch(coll, rel), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	pid = testlib_spawn(rel, sleeper);
	waitpid(pid, NULL, 0);
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(ne(ptr, (void *)collector__find_id(coll, id), NULL));
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &id, &slot), 0),
		  "the cgroup got a slot");

	snprintf(dir, sizeof(dir), "%s/%s", layout.v2, rel);
	for (i = 0; rmdir(dir) && i < 100; i++)
		usleep(10000);
	cr_assert(eq(int, access(dir, F_OK), -1), "cannot remove %s", dir);
	/* the next scan notices: ticks keep working */
	cr_assert(eq(int, collector__scan(coll), 0));
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	cr_assert(eq(int, collector__tick_system(coll, now_ns()), 0));
	cr_assert(eq(int, gone_events, 1));
	cr_assert(eq(ptr, (void *)collector__find_id(coll, id), NULL));
	cr_assert(eq(ptr, (void *)collector__find_path(coll, rel), NULL));
	cr_assert(eq(u32, collector__nr_watched(coll), 0));
	/*
	 * Its id is unmapped and its slot back in the free queue, with other
	 * vanished cgroups' slots: on a machine where cgroups come and go, a
	 * new cgroup's first wait may already have taken it (then its owner is
	 * that cgroup, not ours).
	 */
	cr_assert(ne(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_slot), &id, &slot), 0));
	__u32 freed;
	bool queued = false;

	while (!bpf_map_lookup_and_delete_elem(bpf_map__fd(skel->maps.cg_free), NULL, &freed))
		queued |= freed == slot;
	cr_assert(eq(int, bpf_map_lookup_elem(bpf_map__fd(skel->maps.cg_owner), &slot, &owner), 0));
	if (queued)
		cr_assert(eq(u64, owner, 0), "a queued slot has an owner");
	else
		cr_assert(ne(u64, owner, 0), "slot %u is neither free nor reused", slot);
	cr_assert(ne(u64, owner, id));
}

/*
 * Cgroups that live 100-300 ms, several created and removed between two
 * ticks (as containers and jobs do, and faster than any scan): each is
 * watched from the kernel's cgroup_mkdir, its waits are counted up to its
 * cgroup_rmdir, and it is kept as removed with the waits its threads' own
 * schedstat holds. The reference is exact: it is read once every thread
 * sleeps for good, and the process then leaves the cgroup (for its parent)
 * before the cgroup is removed and the process killed, so no wait of the
 * cgroup comes after the read, however slowly the machine runs.
 */
Test(kernel, short_lived_cgroups_are_seen_and_counted, .timeout = 240)
{
	enum { N = 30 };
	const char *parent;
	char rel[N][160], full[1700], args[160];
	uint64_t ids[N], delay, slices[N], main_slices[N], total = 0;
	const struct watched *w;
	unsigned int seen = 0;
	char why[512];
	pid_t pid;
	int i, j;

	parent = testlib_cgroup("churn", &ids[0]);
	cr_assert(eq(int, collector__watch_all(coll, parent), 0));
	cr_assert(eq(int, collector__start(coll, now_ns()), 0));
	srand(getpid());
	for (i = 0; i < N; i++) {
		snprintf(rel[i], sizeof(rel[i]), "%s/job-%d", parent, i);
		snprintf(full, sizeof(full), "%s/%s/job-%d", testlib_v2_root(), parent, i);
		cr_assert(eq(int, mkdir(full, 0755), 0), "mkdir %s: %s", full, strerror(errno));
		cr_assert(eq(int, cgroup_path_to_id(testlib_v2_root(), rel[i], &ids[i]), 0));
		snprintf(args, sizeof(args), "--spinners 2 --sleepers 2 --sleep-us 500 "
			 "--duration-ms %d", 100 + rand() % 200);
		pid = run_workload(rel[i], NULL, args);
		cr_assert(testlib_wait_blocked(pid, 5000), "the workload's threads did not block");
		wait_off_cpu(ids[i]);
		testlib_schedstat(pid, &delay, &slices[i]);
		testlib_schedstat_of(pid, pid, &delay, &main_slices[i]);
		testlib_move(parent, pid);
		for (j = 0; rmdir(full) && errno == EBUSY && j < 500; j++)
			usleep(2000);
		cr_assert(eq(int, access(full, F_OK), -1), "%s was not removed", full);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* a tick every fourth cgroup: three live and die unseen by any scan */
		if (i % 4 == 3)
			cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	}
	cr_assert(eq(int, collector__tick_runq(coll, now_ns()), 0));
	for (i = 0; i < N; i++) {
		for (w = collector__first_removed(coll); w && w->id != ids[i];
		     w = collector__next((struct watched *)w))
			;
		cr_assert(ne(ptr, (void *)w, NULL), "%s (id %llu) is not listed as removed", rel[i],
			  (unsigned long long)ids[i]);
		cr_assert(w->removed);
		cr_log_info("%s: cgsnap %llu waits, schedstat %llu (the main thread %llu)", rel[i],
			    (unsigned long long)w->runq_total->count, (unsigned long long)slices[i],
			    (unsigned long long)main_slices[i]);
		/*
		 * Never more than schedstat. Fewer by the main thread's waits
		 * before it joined the cgroup (fork, the write to cgroup.procs),
		 * which cgsnap gave to the cgroup they were in: a few, never more
		 * than all the main thread's.
		 */
		cr_assert(le(u64, w->runq_total->count, slices[i]),
			  "%s: %llu waits, more than schedstat's %llu (%s)", rel[i],
			  (unsigned long long)w->runq_total->count, (unsigned long long)slices[i],
			  diagnosis(ids[i], why, sizeof(why)));
		cr_assert(le(u64, slices[i] - w->runq_total->count, main_slices[i]),
			  "%s: %llu waits vs schedstat %llu: short by more than the main thread's "
			  "waits before it joined (%s)", rel[i],
			  (unsigned long long)w->runq_total->count, (unsigned long long)slices[i],
			  diagnosis(ids[i], why, sizeof(why)));
		total += slices[i];
		seen++;
	}
	cr_assert(eq(u32, seen, N));
	cr_assert(gt(u64, total, N * 100), "too few events to compare: %llu waits in all",
		  (unsigned long long)total);
	/* the parent, watched all along, holds their waits too */
	cr_assert(ge(u64, watched(parent)->runq_total->count, N * 100));
}

