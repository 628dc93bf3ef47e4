// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The system tick: each watched cgroup's CPU and memory snapshots from the
 * kernel's cgroup files, read only where something can have changed (who
 * ran, memory due), parents flushed before their children are read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "collector.h"
#include "collector_int.h"
#include "registry.h"
#include "host.h"
#include "memiter.h"
#include "plan.h"

/* cpu and memory snapshots */

/*
 * Which cgroups ran since their last reading (opts.idle_read_ns), and
 * whether the kernel's CPU charges are whole (c->kernel_ok). A cgroup is
 * charged CPU time only while one of its tasks runs, and in sched_info mode
 * every run is counted in its slot when the task leaves the CPU: so a
 * watched cgroup whose slots did not move (w->ran) and that is not on a
 * CPU right now (the per-CPU notes) used no CPU since. Not known without
 * the notes, after a drop, or while a slot's cgroup was unknown: a run may
 * have gone uncounted. Returns whether idle cgroups may keep their readings.
 */
static bool runs_known(struct collector *c)
{
	uint64_t drops[CGSNAP_DROP_MAX], lost;
	bool was_known = !c->runs_unknown, drops_read = c->drops_read, placed = true, known;
	struct cg_node *a, *n;
	struct wentry *w;
	int i, cpus;

	c->runs_unknown = false;
	c->kernel_ok = false;
	c->nr_running = -1;
	if (kmaps__drops(c->maps, drops))
		return false;
	/* creations or removals the kernel could not tell: the scan finds them */
	if (drops[CGSNAP_DROP_EVENTS_FULL] != c->events_full_seen)
		c->rescan = true;
	c->events_full_seen = drops[CGSNAP_DROP_EVENTS_FULL];
	if (drops[CGSNAP_DROP_SLOTS_FULL] && !c->slots_full_told) {
		struct collector_event ev = {
			.type = COLLECTOR_SLOTS_FULL,
			.count = c->opts.maps.nr_slots,
		};

		c->slots_full_told = true;
		if (c->opts.on_event)
			c->opts.on_event(&ev, c->opts.ctx);
	}
	lost = plan_drops_losing_runs(drops);
	cpus = kmaps__running(c->maps, c->running, kmaps__nr_cpus(c->maps));
	c->nr_running = cpus;
	for (i = 0; i < cpus && placed; i++) {
		if (!c->running[i].cgid)
			continue;
		n = registry__find(c->reg, c->running[i].cgid);
		placed = n != NULL;	/* else a cgroup the registry has not placed yet */
		for (a = n; (w = watched_up(&a));)
			w->ran = true;
	}
	known = plan_runs_known(was_known, drops_read, lost, c->drops_seen, cpus, placed);
	c->drops_seen = lost;
	c->drops_read = true;
	if (!known)
		return false;
	c->kernel_ok = !c->opts.cpu_from_cgroupfs;
	return c->opts.idle_read_ns > 0;
}

/*
 * Reading a v2 cgroup's cpu.stat flushes the CPU times its subtree has
 * pending (rstat), and then unlinks it from its parent's list of updated
 * children, a singly linked list the kernel walks to find it: reading k busy
 * siblings one after another costs k^2/2 steps of that walk (2,000 busy
 * siblings: 3.5x the time of reading them after their parent). Reading the
 * parent first flushes them all in one pass, and they find nothing left to
 * unlink. The siblings run again while they are read, and go back on the
 * list: so a parent with at least PLAN_FLUSH_EVERY children whose CPU this
 * tick reads is read before the first of them and again every
 * PLAN_FLUSH_EVERY of them (plan_flush_parent()).
 * The root flushes nothing (its cpu.stat is summed from its children);
 * cgroup v1's cpuacct has no such list, and a parent without cpu.stat is
 * skipped.
 */

/* where @w's CPU usage comes from this tick (plan.h) */
static enum plan_cpu cpu_plan(const struct collector *c, const struct wentry *w, bool idle)
{
	return plan_cpu(!c->opts.cpu_from_cgroupfs, c->kernel_ok, w->pub.sys_state.have_cpu, idle);
}

/* the parent whose cpu.stat can flush @w's, or NULL (the root flushes nothing) */
static struct cg_node *flush_point(const struct wentry *w)
{
	struct cg_node *p = w->node->parent;

	return p && p->parent ? p : NULL;
}

static void count_reads(struct collector *c, bool known)
{
	struct cg_state *st;
	struct cg_node *p;
	struct wentry *w;

	if (c->kernel_ok)
		return;		/* no cpu.stat is read */
	for (w = c->watched; w; w = w->next) {
		if (cpu_plan(c, w, known && !w->ran) != PLAN_CPU_READ || !(p = flush_point(w)))
			continue;
		st = state_of(p);
		if (st->reads_tick != c->sys_ticks) {
			st->reads_tick = c->sys_ticks;
			st->reads = 0;
			st->since_flush = 0;
		}
		st->reads++;
	}
}

/* before @w's CPU is read */
static void flush_parent(struct collector *c, struct wentry *w)
{
	struct cg_node *p = flush_point(w);
	struct cg_state *st;
	uint64_t usage;

	if (!p)
		return;
	st = state_of(p);
	if (st->reads_tick != c->sys_ticks || !plan_flush_parent(st->reads, st->since_flush++))
		return;
	if (!cgroup_read_key(c->opts.layout->v2, p->path, "cpu.stat", "usage_usec", &usage))
		c->readings[COLL_CPU_FLUSH]++;
}

/*
 * The CPU quotas and memory.max of a cgroup's ancestors are its siblings'
 * too: each is read once a system tick, not once for each of 1,000 busy
 * siblings, and kept in the node's state for that tick.
 */
static double chain_quota(struct collector *c, struct cg_node *n)
{
	struct cg_state *st = state_of(n);
	double above, q;
	int err;

	if (st->quota_tick == c->sys_ticks + 1)
		return st->quota;
	above = n->parent ? chain_quota(c, n->parent) : 0;
	if (above < 0)
		q = above;
	else if ((err = cgroup_cpu_quota_under(c->opts.layout, n->path,
					       st->w ? &st->w->twins : NULL, above, &q)))
		q = err;
	st->quota = q;
	st->quota_tick = c->sys_ticks + 1;
	return q;
}

static int64_t chain_mem_max(struct collector *c, struct cg_node *n)
{
	struct cg_state *st = state_of(n);

	if (st->mem_max_tick != c->sys_ticks + 1) {
		st->mem_max = cgroup_memory_max_under(c->opts.layout, n->path,
						      n->parent ? chain_mem_max(c, n->parent) : -1);
		st->mem_max_tick = c->sys_ticks + 1;
	}
	return st->mem_max;
}

/*
 * On a hybrid host a capacity comes from v1's cpu and cpuset hierarchies,
 * and a cgroup created in v2 alone is found there through a task's
 * /proc/PID/cgroup: six reads of the eight a capacity took. Its v1 cgroups
 * are kept for a minute (a task rarely moves in v1 alone); one that is gone
 * is found again at once (cgroup_cpu_quota_under()).
 */
#define COLL_TWINS_KEEP_NS	(60 * 1000000000LL)

/* the CPUs @w may use: the smallest quota up its tree, else its cpuset */
static int cpu_capacity(struct collector *c, struct wentry *w, int64_t now, double *cpus)
{
	const struct cgroup_layout *l = c->opts.layout;
	double q;

	if ((l->cpu[0] || l->cpuset[0]) && now >= w->twins_due) {
		cgroup_cpu_twins_free(&w->twins);
		if (!cgroup_cpu_twins_find(l, w->pub.path, &w->twins))
			w->twins_due = now + COLL_TWINS_KEEP_NS;
	}
	q = chain_quota(c, w->node);
	return q < 0 ? (int)q : cgroup_cpu_capacity_under(l, w->pub.path, &w->twins, q, cpus);
}

static void cpu_snapshot(struct collector *c, struct wentry *w, int64_t now, bool idle)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint32_t gen = registry__generation(c->reg);
	struct cgsnap_snapshot snap;
	/* after its first reading, from the kernel's charges (kcpu.c) */
	bool charged = !c->opts.cpu_from_cgroupfs && w->pub.sys_state.have_cpu;
	enum plan_cpu plan = cpu_plan(c, w, idle);
	uint64_t usage;

	if (plan == PLAN_CPU_KERNEL) {
		usage = coll_cpu_usage(w, NULL);
		c->readings[COLL_CPU_KERNEL]++;
	} else if (plan == PLAN_CPU_KEEP) {
		usage = w->pub.sys_state.last_cpu_ns;	/* it did not run: unchanged */
		c->readings[COLL_CPU_KEPT]++;
	} else {
		flush_parent(c, w);
		if (cgroup_cpu_usage(l, w->pub.path, &usage))
			return;
		c->readings[COLL_CPU_READ]++;
		if (charged)
			usage = coll_cpu_usage(w, &usage);
		else
			coll_cpu_baseline(w, usage);
	}
	/* limits change rarely: not read every tick (plan_capacity_due()) */
	if (plan_capacity_due(c->opts.idle_read_ns, idle, now, w->cap_due, w->cap_gen, gen)) {
		if (cpu_capacity(c, w, now, &w->pub.sys.cpu_capacity))
			return;
		w->cap_gen = gen;
		if (c->opts.idle_read_ns > 0)
			w->cap_due = plan_next_due(w->pub.id, now, w->cap_due,
						   c->opts.idle_read_ns);
	}
	if (build_cpu(&c->settings, &w->pub.sys_state, &w->pub.sys, usage, now, &snap))
		coll_add_snapshot(c, w, &snap);
}

/*
 * Memory usage files kept open, one per watched cgroup, as many as
 * COLL_USAGE_FDS: a busy cgroup's usage is read every tick, and pread at
 * offset 0 makes the kernel format the file again without the open's path
 * walk and the close (~2.4 us against ~9 us here). Each costs the kernel
 * ~6 KiB (the open file and its seq_file page), charged to the agent's
 * cgroup: hence the bound. Taken from the part of RLIMIT_NOFILE above
 * COLL_FD_RESERVE (the HTTP server's connections, the BPF objects), which
 * is raised for it: past the hard limit with CAP_SYS_RESOURCE (as root),
 * else up to it (none is kept below the reserve).
 */
#define COLL_USAGE_FDS	1024
#define COLL_FD_RESERVE	8192

static void usage_fds_init(struct collector *c)
{
	struct rlimit rl;
	rlim_t want = COLL_FD_RESERVE + COLL_USAGE_FDS;

	c->usage_fds_max = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		struct rlimit up = { want, rl.rlim_max > want ? rl.rlim_max : want };

		/* past the hard limit with CAP_SYS_RESOURCE, else up to it */
		if (setrlimit(RLIMIT_NOFILE, &up) && rl.rlim_cur < rl.rlim_max) {
			up.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
			up.rlim_max = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &up);
		}
		if (getrlimit(RLIMIT_NOFILE, &rl))
			return;
	}
	if (rl.rlim_cur > COLL_FD_RESERVE)
		c->usage_fds_max = rl.rlim_cur - COLL_FD_RESERVE < COLL_USAGE_FDS ?
					   (unsigned int)(rl.rlim_cur - COLL_FD_RESERVE) :
					   COLL_USAGE_FDS;
}

void coll_usage_close(struct collector *c, struct wentry *w)
{
	if (w->usage_fd < 0)
		return;
	close(w->usage_fd);
	w->usage_fd = -1;
	c->usage_fds--;
}

/*
 * @w's usage as the memory iterator read it this tick (at the first usage
 * asked for, if memiter_plan() found it worth it): that of the cgroup of
 * its usage file (v2's, or v1's of the same path; one found through a task
 * is read by path). A miss (gone, no memcg of its own, a new cgroup of that
 * path) is found again next time.
 */
static int usage_from_iter(struct collector *c, struct wentry *w, int64_t *bytes)
{
	const struct cgroup_layout *l = c->opts.layout;

	if (!c->memiter_want || w->usage_unkept)
		return -ENOENT;
	if (!c->memiter_read) {
		/* the first usage this tick asks for: all of them now, once */
		c->memiter_want = !memiter__read(c->opts.memiter);
		if (!c->memiter_want)
			return -ENOENT;
		c->memiter_read = true;
	}
	if (!w->mem_kid && l->memory[0]) {
		if (cgroup_path_to_id(l->memory, w->pub.path, &w->mem_kid)) {
			w->usage_unkept = true;
			return -ENOENT;
		}
	} else if (!w->mem_kid) {
		w->mem_kid = w->pub.id;
	}
	if (memiter__usage(c->opts.memiter, w->mem_kid, bytes)) {
		w->mem_kid = 0;
		return -ENOENT;
	}
	return 0;
}

/* @w's memory usage: from the memory iterator, else from its file kept open
 * where it may be, else read */
static int memory_usage(struct collector *c, struct wentry *w, int64_t *bytes)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint64_t v;
	int fd;

	if (!usage_from_iter(c, w, bytes)) {
		c->readings[COLL_MEM_KERNEL]++;
		return 0;
	}
	if (w->usage_fd < 0 && !w->usage_unkept && c->usage_fds < c->usage_fds_max) {
		fd = cgroup_memory_usage_open(l, w->pub.path);
		if (fd >= 0) {
			w->usage_fd = fd;
			c->usage_fds++;
		} else {
			/* no file of that path: a v1 twin found through a task */
			w->usage_unkept = fd == -ENOENT;
		}
	}
	if (w->usage_fd >= 0) {
		if (!cgroup_read_u64_at(w->usage_fd, &v)) {
			*bytes = (int64_t)v;
			return 0;
		}
		/* gone (-ENODEV), or an odd reading: read by path, as without */
		coll_usage_close(c, w);
	}
	return cgroup_memory_usage(l, w->pub.path, bytes);
}

/* what of @w's memory this tick reads (plan_memory()) */
static enum plan_mem memory_plan(const struct collector *c, const struct wentry *w, int64_t now,
				 bool idle)
{
	return plan_memory(idle, w->pub.sys.valid, now, w->mem_due, c->opts.idle_read_ns,
			   w->mem_full_due, w->mem_checks);
}

static void memory_snapshot(struct collector *c, struct wentry *w, int64_t now,
			    const struct host_memory *host, bool idle)
{
	const struct cgroup_layout *l = c->opts.layout;
	uint32_t gen = registry__generation(c->reg);
	struct cgsnap_snapshot snap;
	struct cgroup_memory mem;
	bool known, reuse, psi_read = false, have_usage = false;
	enum plan_mem plan;
	int64_t usage;
	double stall;
	uint64_t psi = 0;

	if (w->have_no_mem && w->no_mem_gen == gen)
		return;
	plan = memory_plan(c, w, now, idle);
	reuse = plan == PLAN_MEM_KEEP;
	mem = w->pub.sys.mem;
	if (plan == PLAN_MEM_CHECK)
		have_usage = !memory_usage(c, w, &usage);
	if (reuse) {
		c->readings[COLL_MEM_KEPT]++;
	} else if (have_usage) {
		/* unchanged: all kept; moved a little since the last full read:
		 * the working set moves with it, limit and PSI kept */
		if (usage == mem.usage_bytes) {
			reuse = true;
			c->readings[COLL_MEM_CHECKED]++;
		} else if (plan_memory_moved_little(usage, w->mem_full_usage,
						    w->pub.sys.budget_bytes)) {
			reuse = true;
			mem.usage_bytes = usage;
			mem.working_set_bytes = w->mem_full_ws + (usage - w->mem_full_usage);
			if (mem.working_set_bytes < 0)
				mem.working_set_bytes = 0;
			c->readings[COLL_MEM_MOVED]++;
		}
		if (reuse) {
			w->mem_checks++;
			w->mem_due = now + c->opts.idle_read_ns;
		}
	}
	if (!reuse) {
		/* v2: the limits above it as this tick read them; v1's come whole */
		int64_t above = !l->memory[0] && w->node->parent ?
					chain_mem_max(c, w->node->parent) : -1;

		/* the usage its check read, else the memory iterator's where it
		 * has it: not read again */
		if (!have_usage)
			have_usage = !usage_from_iter(c, w, &usage);
		w->mem_checks = 0;
		if (cgroup_memory_under(l, w->pub.path, l->memory[0] ? NULL : &above,
					have_usage ? &usage : NULL, &mem)) {
			/* no memory files (e.g. no v1 memory cgroup): look again after a scan */
			w->no_mem_gen = gen;
			w->have_no_mem = true;
			return;
		}
		w->mem_full_usage = mem.usage_bytes;
		w->mem_full_ws = mem.working_set_bytes;
		w->pub.sys.psi = !cgroup_psi_some_us(l, w->pub.path, "memory", &psi);
		psi_read = w->pub.sys.psi;
		c->readings[COLL_MEM_READ]++;
		if (c->opts.idle_read_ns > 0) {
			w->mem_due = plan_next_due(w->pub.id, now, w->mem_due,
						   c->opts.idle_read_ns);
			/* the first one spread over the interval after the next */
			w->mem_full_due = w->mem_full_due ?
				now + c->opts.idle_read_ns :
				plan_next_due(w->pub.id, now + c->opts.idle_read_ns, 0,
					      c->opts.idle_read_ns);
		}
	}
	known = build_stall_ratio(&w->pub.sys_state, w->mem_some_ns, psi_read, psi, now, &stall);
	if (build_memory(&c->settings, &mem, host, known, stall, now, &w->pub.sys, &snap))
		coll_add_snapshot(c, w, &snap);
}

/*
 * Whether this tick takes usages from the memory iterator: its read walks
 * every cgroup of the hierarchy (~0.75 us each here), a usage file kept
 * open costs a pread (~2.4 us). Worth it when the cgroups whose usage this
 * tick reads (those that ran, and the idle ones due: memory_plan() keeps
 * nothing) are a third of those it walks, or it walks few (512 in well
 * under a millisecond). If its read fails, the tick reads files.
 */
#define COLL_MEMITER_WALK_PER_READ	3
#define COLL_MEMITER_SMALL		512

static void memiter_plan(struct collector *c, bool known, int64_t now)
{
	unsigned int n = 0;
	struct wentry *w;

	c->memiter_read = false;
	c->memiter_want = false;
	if (!c->opts.memiter)
		return;
	for (w = c->watched; w; w = w->next)
		n += memory_plan(c, w, now, known && !w->ran) != PLAN_MEM_KEEP;
	c->memiter_want = memiter__count(c->opts.memiter) <=
			  (size_t)n * COLL_MEMITER_WALK_PER_READ + COLL_MEMITER_SMALL;
}

void coll_system_start(struct collector *c, int64_t now)
{
	usage_fds_init(c);
	runs_known(c);
	if (!c->opts.cpu_from_cgroupfs)
		coll_collect_cpu(c, now);
}

int collector__tick_system(struct collector *c, int64_t now)
{
	struct host_memory host = {};
	struct wentry *w;
	bool known;
	int err;

	err = coll_collect_mem(c, now);
	if (err)
		return err;
	if (meminfo_read(c->opts.meminfo, &host.total_bytes, &host.available_bytes))
		host.total_bytes = host.available_bytes = 0;
	c->sys_ticks++;
	known = runs_known(c);
	count_reads(c, known);
	if (!c->opts.cpu_from_cgroupfs)
		coll_collect_cpu(c, now);
	memiter_plan(c, known, now);
	for (w = c->watched; w; w = w->next) {
		bool idle = known && !w->ran;

		cpu_snapshot(c, w, now, idle);
		memory_snapshot(c, w, now, &host, idle);
		w->pub.sys_state.prev_t = now;
		w->mem_some_ns = 0;
		w->ran = false;
	}
	coll_cpu_rebase(c, now);
	return 0;
}

