// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CPU usage from the kernel side, without a cgroupfs read per cgroup. In
 * sched_info mode the switch program charges each run's CPU time (what
 * se.sum_exec_runtime grew by) to the slot of the task's cgroup when the
 * task leaves the CPU: the time the scheduler charges to cpu.stat's
 * usage_usec. The runs still in progress are read from the per-CPU notes
 * (who got the CPU, with what sum_exec_runtime) and the task's own
 * /proc/PID/schedstat (in the host's PID namespace only: elsewhere a number
 * may name another task; there a run counts from when it is first seen). Slot by slot, the time goes up the tree to the
 * watched cgroups, as the waits do.
 *
 * cpu.stat is read instead (by the system tick, parents first) while a run
 * may have gone uncounted (a drop, a cgroup not placed yet, no notes):
 * c->kernel_ok false. Both sources feed
 * one usage per cgroup (wentry.cpu_usage) that only grows, by the source's
 * delta, so a snapshot never mixes the two scales.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "collector_int.h"
#include "registry.h"

void coll_account_cpu(struct collector *c, struct cg_node *n, struct cg_state *st,
		      uint32_t slot)
{
	uint64_t cur = kmaps__runq_cpu(c->maps, slot);
	struct cg_node *a;
	struct wentry *w;
	uint64_t d;

	/* a slot starts at 0 when given out (kmaps__recycle()): all of it
	 * counts; watched cgroups take their own baseline (coll_cpu_baseline()) */
	if (cur <= st->cpu_prev)
		return;
	d = cur - st->cpu_prev;
	st->cpu_prev = cur;
	for (a = n; (w = watched_up(&a));) {
		w->kcpu_ns += d;
		w->ran = true;
	}
}

/* PROC_PID_INIT_INO: the initial PID namespace, whose numbers the notes hold */
#define INIT_PID_NS "pid:[4026531836]"

bool coll_host_pids(void)
{
	char link[64];
	ssize_t len = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);

	if (len <= 0)
		return false;
	link[len] = '\0';
	return !strcmp(link, INIT_PID_NS);
}

/* @pid's se.sum_exec_runtime (ns) and pcount (runs on a CPU), from
 * /proc/PID/schedstat; false if unreadable (gone meanwhile) */
static bool task_schedstat(uint32_t pid, uint64_t *exec, uint64_t *runs)
{
	char path[48], buf[128];
	unsigned long long ns, delay, count;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/schedstat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	if (sscanf(buf, "%llu %llu %llu", &ns, &delay, &count) != 3)
		return false;
	*exec = ns;
	*runs = count;
	return true;
}

/*
 * The run in progress on @cpu (noted at its switch-in): what its task's
 * sum_exec_runtime grew by since (the scheduler updates it at every tick),
 * if it is still that run: the note took pcount before the switch counted
 * it, so one more now. A switch the program did not see leaves a note of a
 * run that ended (its time charged with the task's next seen one): nothing
 * of it is in progress. With no schedstat to read, the time since this run
 * was first seen: then the part before that comes when the run ends.
 */
static uint64_t run_so_far(const struct collector *c, struct cpu_run *r,
			   const struct cgsnap_cpu_note *note, int64_t now)
{
	uint64_t exec, runs;

	if (!note->pid || !note->cgid)
		return 0;
	if (c->host_pids && task_schedstat(note->pid, &exec, &runs)) {
		if (runs != note->count + 1)
			return 0;
		return exec > note->exec ? exec - note->exec : 0;
	}
	if (r->task != note->task || r->exec != note->exec) {
		r->task = note->task;
		r->exec = note->exec;
		r->since = now;
		return 0;
	}
	return now > r->since ? (uint64_t)(now - r->since) : 0;
}

static bool same_run(const struct cgsnap_cpu_note *a, const struct cgsnap_cpu_note *b)
{
	return a->task == b->task && a->exec == b->exec;
}

void coll_collect_cpu(struct collector *c, int64_t now)
{
	const uint64_t *owners = kmaps__owners(c->maps);
	int ncpus = c->nr_running, cpu;
	struct cg_node *a, *n;
	struct cg_state *st;
	struct wentry *w;
	uint32_t hi, i;

	for (w = c->watched; w; w = w->next)
		w->cpu_inprog = 0;
	for (cpu = 0; cpu < ncpus; cpu++)
		c->runs[cpu].ran = run_so_far(c, &c->runs[cpu], &c->running[cpu], now);
	/* the runs that ended */
	hi = kmaps__scan_slots(c->maps);
	coll_slot_cache_check(c);
	for (i = 0; i < hi; i++) {
		if (!owners[i] || !(n = coll_slot_node(c, i, owners[i])))
			continue;	/* placed by the next scan, counted then */
		st = state_of(n);
		st->slot = i;
		st->has_slot = true;
		coll_account_cpu(c, n, st, i);
	}
	if (ncpus <= 0)
		return;
	/*
	 * A run that ended while the slots were read may be in them or not,
	 * so it is not counted in progress. Its charge is in its slot by now:
	 * the switch that ended it charged it before it noted the next run.
	 * That one slot is read again, so the run counts at this tick, once
	 * (a FIFO spinner's run lasts up to 950 ms: waiting for the next tick
	 * left the usage that far behind; the reads take deltas).
	 */
	if (kmaps__running(c->maps, c->running_after, ncpus) != ncpus)
		return;
	for (cpu = 0; cpu < ncpus; cpu++) {
		if (!c->runs[cpu].ran)
			continue;
		n = registry__find(c->reg, c->running[cpu].cgid);
		if (!same_run(&c->running[cpu], &c->running_after[cpu])) {
			if (n && (st = state_of(n))->has_slot)
				coll_account_cpu(c, n, st, st->slot);
			continue;
		}
		for (a = n; (w = watched_up(&a));)
			w->cpu_inprog += c->runs[cpu].ran;
	}
}

void coll_cpu_baseline(struct wentry *w, uint64_t usage)
{
	w->cpu_usage = usage;
	w->stat_prev = usage;
	w->stat_last = true;
	w->kcpu_seen = w->kcpu_ns + w->cpu_inprog;
	w->cpu_rebase = true;
}

/*
 * The cgroups whose usage this tick took from cpu.stat (a first reading, or
 * the second of ticks whose kernel charges were not whole; the first of
 * them still adds the kernel's delta) take the kernel's baseline after that
 * read, not before: the time they ran between the two would count twice,
 * in cpu.stat's usage and again in the kernel's next delta.
 * (The kernel side is read at the top of a tick, and at 10,000 cgroups the
 * last cpu.stat comes hundreds of ms later: a 6.1 guest in CI showed a
 * spinner's usage 1.3% ahead of cpu.stat at a tick.) Taken after, the time
 * between is not counted: never ahead of cpu.stat, behind it by that time.
 * One more pass over the slots and notes, on such ticks only.
 */
void coll_cpu_rebase(struct collector *c, int64_t now)
{
	bool read = c->opts.cpu_from_cgroupfs;
	struct wentry *w;

	for (w = c->watched; w; w = w->next) {
		if (!w->cpu_rebase)
			continue;
		/* once, at the first of them: the cgroups before it need none */
		if (!read) {
			/* the runs in progress now, not at the top of the tick */
			if (c->nr_running > 0 &&
			    kmaps__running(c->maps, c->running, c->nr_running) != c->nr_running)
				c->nr_running = -1;
			coll_collect_cpu(c, now);
			read = true;
		}
		/* never lower: a run in progress the estimate now misses (its
		 * note changed) would come again whole in the next delta */
		if (w->kcpu_ns + w->cpu_inprog > w->kcpu_seen)
			w->kcpu_seen = w->kcpu_ns + w->cpu_inprog;
		w->cpu_rebase = false;
	}
}

uint64_t coll_cpu_usage(struct wentry *w, const uint64_t *stat)
{
	uint64_t k = w->kcpu_ns + w->cpu_inprog, dk = 0;

	/* what the kernel charged since the most it had shown: an estimate
	 * of a run in progress that fell short is made up, never counted twice */
	if (k > w->kcpu_seen) {
		dk = k - w->kcpu_seen;
		w->kcpu_seen = k;
	}
	/* cpu.stat's delta when the last reading was cpu.stat's too, else the
	 * kernel's; on cpu.stat's scale, the kernel's baseline is taken after
	 * the read (coll_cpu_rebase()) */
	if (stat && w->stat_last) {
		w->cpu_usage += *stat > w->stat_prev ? *stat - w->stat_prev : 0;
		w->cpu_rebase = true;
	} else {
		w->cpu_usage += dk;
	}
	w->stat_last = stat != NULL;
	if (stat)
		w->stat_prev = *stat;
	return w->cpu_usage;
}
