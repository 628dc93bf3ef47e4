// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgsnap kernel side: per-cgroup run-queue latency and memory-reclaim stalls,
 * from BTF tracepoints. Everything is accumulated in maps keyed by the
 * cgroup v2 id of the task concerned; nothing is sent per event. The
 * programs are here; what they keep is in state.bpf.h, where a count goes
 * in slots.bpf.h, the waits in progress of fast mode in fast.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "cgsnap.h"
#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "state.bpf.h"
#include "slots.bpf.h"
#include "fast.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * The clock of the run queue @t is on (the switch's CPU for its tasks), as
 * __schedule() or the enqueue just updated it. Its cfs_rq is set whatever
 * its class (set_task_rq()); no per-CPU symbol is needed (kallsyms may not
 * list the runqueues).
 */
static __always_inline __u64 rq_clock_of(struct task_struct *t)
{
	if (!bpf_core_field_exists(t->se.cfs_rq))
		return 0;
	return t->se.cfs_rq->rq->clock;
}

/* @t became runnable at @now: remember when */
static __always_inline void stamp(struct task_struct *t, __u64 now)
{
	struct task_ts *ts;

	if (!t->pid)	/* the idle task never waits */
		return;
	ts = bpf_task_storage_get(&task_ts, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		count_drop(CGSNAP_DROP_NO_STORAGE);
		return;
	}
	if (targ_fast) {
		/* one wait at a time: counted in progress from its first stamp */
		if (!ts->runq_ns)
			wait_begin_in(ts, task_cgid(t), now);
		return;
	}
	ts->runq_ns = now;
}

static __always_inline __u32 holder_of(struct task_struct *prev, __u64 cgid)
{
	if (!prev->pid)
		return CGSNAP_HOLDER_IDLE;
	if (prev->flags & PF_KTHREAD)
		return CGSNAP_HOLDER_KERNEL;
	return task_cgid(prev) == cgid ? CGSNAP_HOLDER_SAME : CGSNAP_HOLDER_OTHER;
}

static __always_inline void account_waits(__u32 slot, __u64 delta, __u64 n, __u32 holder,
					  __u64 cgid)
{
	__u32 idx = slot * targ_nr_cpus + bpf_get_smp_processor_id();
	struct cgsnap_runq *rq;
	struct cgsnap_hist *h;
	__u64 bucket;

	rq = bpf_map_lookup_elem(&cg_runq, &idx);
	h = bpf_map_lookup_elem(&cg_runq_hist, &slot);
	if (!rq || !h)
		return;
	/*
	 * This CPU's own value, migration off in tracepoints: plain adds are
	 * safe. The order is the reader's contract (kmaps__runq_read()): the
	 * count first, then the sums, then the shared histogram. A reader that
	 * takes the histogram first and each CPU's sums before its count sees,
	 * on x86's ordered stores, every event it finds in the histogram in the
	 * sums and every one in the sums in the count.
	 */
	rq->count += n;
	barrier();
	rq->sum_ns += delta;
	holder &= CGSNAP_HOLDER_MAX - 1;
	rq->holder_count[holder] += n;
	rq->holder_ns[holder] += delta;
	/* n > 1 only for waits the program did not see one by one: their mean */
	if (n > 1)
		delta /= n;
	if (delta > rq->max_ns)
		rq->max_ns = delta;
	bucket = hist_slot(delta);
	__sync_fetch_and_add(&h->slots[bucket], n);
	/* fast mode: the in-kernel threshold, one compare on the common path */
	if (targ_wake_ns && delta > targ_wake_ns)
		wake_agent(rq, cgid, delta);
}

/* the slot of @next's cgroup, cached in its storage; false if none is free */
static __always_inline bool next_slot_of(struct task_struct *next, struct task_ts *ts,
					 __u64 *cgid)
{
	*cgid = task_cgid(next);
	if (*cgid == ts->cgid)
		return true;
	if (!slot_of(*cgid, &ts->slot)) {
		count_drop(CGSNAP_DROP_SLOTS_FULL);
		return false;
	}
	ts->cgid = *cgid;
	return true;
}

/*
 * sched_info mode: @t, of cgroup @cgid, leaves the CPU (or moves to another
 * cgroup while on it): the CPU time it ran since its last charge (what
 * se.sum_exec_runtime grew by; update_curr() ran before the tracepoint)
 * goes to its cgroup's slot on this CPU, as the scheduler charged it to
 * cpu.stat. Charged from the task's own last charge, not from its last
 * switch-in, so that a switch the program did not see loses nothing. A
 * task first seen here counts from its switch-in when @noted (at @exec),
 * else from now on.
 */
static __always_inline void charge_run(struct task_struct *t, struct task_ts *ts, __u64 cgid,
				  bool noted, __u64 exec)
{
	__u64 now = t->se.sum_exec_runtime, since = ts->exec_charged;
	struct cgsnap_runq *rq;

	if (!since)
		since = noted ? exec : now;
	ts->exec_charged = now;
	if (now <= since)
		return;
	rq = task_runq(ts, cgid);
	if (rq)
		rq->cpu_ns += now - since;
}

/* per CPU: the task the last switch gave the CPU to, its cgroup, and who
 * held the CPU before it (sched_info mode) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgsnap_cpu_note);
} cur_cpu SEC(".maps");

/*
 * sched_info mode. The kernel keeps every task's waits in sched_info: the
 * wait ending at a switch-in is added to run_delay and counted in pcount by
 * sched_info_arrive(), right after this tracepoint, on the runqueue's own
 * clock (and a wait cut by a move between runqueues adds its first part to
 * run_delay at the move). So a task's waits are read when it leaves the
 * CPU, as what its run_delay and pcount grew by since it last left: the
 * same figures /proc/PID/schedstat reports, with no timestamp of ours and
 * no program at wakeup. Who held the CPU before it is noted per CPU when it
 * gets the CPU, with its cgroup: one cgroup walk per switch.
 */
/*
 * sched_info mode: @t leaves a CPU for the first time since cgsnap began,
 * with @delay and @count in its sched_info now; set where its waits count
 * from. A task started since then counts from its start, all of it: the
 * switch-in's figures would miss the part of its first wait that a move
 * between run queues before it first ran added early (a new thread placed
 * on a busy CPU and pulled to an idle one). An older task counts from the
 * switch-in noted in @c (what it waited before it got this CPU counts,
 * what came before does not); without one, from now on.
 */
static __always_inline void first_seen(struct task_ts *ts, struct task_struct *t,
				       const struct cgsnap_cpu_note *c, __u64 delay, __u64 count)
{
	ts->seen = 1;
	if (t->start_time >= targ_since_ns) {
		ts->seen_delay = 0;
		ts->seen_count = 0;
	} else if (c) {
		ts->seen_delay = c->delay;
		ts->seen_count = c->count;
	} else {
		ts->seen_delay = delay;
		ts->seen_count = count;
	}
}

static __always_inline int switch_sched_info(bool preempt, struct task_struct *prev,
					     struct task_struct *next)
{
	__u32 zero = 0, holder = CGSNAP_HOLDER_OTHER;
	__u64 delay, count, cgid, prev_cgid = 0;
	struct cgsnap_cpu_note *c;
	struct task_ts *ts;
	bool known;

	c = bpf_map_lookup_elem(&cur_cpu, &zero);
	if (!c)
		return 0;
	known = c->task == (__u64)prev;
	if (known) {
		prev_cgid = c->cgid;
		holder = c->holder;
	}
	if (prev->pid) {
		ts = bpf_task_storage_get(&task_ts, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!ts) {
			count_drop(CGSNAP_DROP_NO_STORAGE);
			goto next;
		}
		delay = prev->sched_info.run_delay;
		count = prev->sched_info.pcount;
		if (!ts->seen)
			first_seen(ts, prev, known ? c : NULL, delay, count);
		if (count < ts->seen_count || delay < ts->seen_delay) {
			count_drop(CGSNAP_DROP_NEG_DELTA);
		} else if (count != ts->seen_count) {
			if (!known)
				prev_cgid = task_cgid(prev);
			if (prev_cgid == ts->cgid || slot_of(prev_cgid, &ts->slot)) {
				ts->cgid = prev_cgid;
				account_waits(ts->slot, delay - ts->seen_delay, count - ts->seen_count,
					      holder, prev_cgid);
			} else {
				count_drop(CGSNAP_DROP_SLOTS_FULL);
			}
		}
		ts->seen_delay = delay;
		ts->seen_count = count;
		/* the CPU time of this run (and of any not seen) */
		if (!known && !prev_cgid)
			prev_cgid = task_cgid(prev);
		charge_run(prev, ts, prev_cgid, known, c->exec);
		/* fast mode: it ran, so no wait of it is in progress */
		if (targ_fast && ts->runq_ns)
			end_stale_wait(ts);
		/* fast mode: still runnable, it starts a wait in progress */
		if (targ_fast && (preempt || get_task_state(prev) == TASK_RUNNING))
			wait_begin_in(ts, prev_cgid,
				      targ_rq_clock ? rq_clock_of(prev) : bpf_ktime_get_ns());
	}
next:
	c->task = (__u64)next;
	if (!next->pid) {
		c->cgid = 0;	/* idle: no cgroup runs here */
		c->pid = 0;
		return 0;
	}
	c->delay = next->sched_info.run_delay;
	c->count = next->sched_info.pcount;
	c->pid = next->pid;
	c->exec = next->se.sum_exec_runtime;
	cgid = task_cgid(next);
	c->cgid = cgid;
	if (targ_fast) {
		if (targ_rq_clock)
			c->clock = rq_clock_of(next->pid ? next : prev);
		fast_switch_in(next);
	}
	if (!prev->pid)
		c->holder = CGSNAP_HOLDER_IDLE;
	else if (prev->flags & PF_KTHREAD)
		c->holder = CGSNAP_HOLDER_KERNEL;
	else
		c->holder = (known ? prev_cgid : task_cgid(prev)) == cgid ? CGSNAP_HOLDER_SAME :
									    CGSNAP_HOLDER_OTHER;
	return 0;
}

/* @next got the CPU from @prev: if it was waiting, charge the wait to its cgroup */
static __always_inline int handle_switch(bool preempt, struct task_struct *prev,
					 struct task_struct *next)
{
	__u64 now, start, cgid;
	struct task_ts *ts;

	if (targ_sched_info) {
		return switch_sched_info(preempt, prev, next);
	}
	now = bpf_ktime_get_ns();
	/*
	 * @prev stays queued, so its wait starts now, when it yields while
	 * runnable or when it is preempted: a task preempted between setting
	 * TASK_(UN)INTERRUPTIBLE and calling schedule() itself is not
	 * dequeued (__schedule() tests the preempt flag before the state), and
	 * schedstat counts its wait. Testing the state alone missed those.
	 * Fast mode: it ran, so no wait of it is in progress.
	 */
	if (targ_fast && prev->pid) {
		ts = bpf_task_storage_get(&task_ts, prev, NULL, 0);
		if (ts && ts->runq_ns)
			end_stale_wait(ts);
	}
	if (preempt || get_task_state(prev) == TASK_RUNNING)
		stamp(prev, now);
	if (!next->pid)
		return 0;
	ts = bpf_task_storage_get(&task_ts, next, NULL, 0);
	if (!ts || !ts->runq_ns)
		return 0;
	start = ts->runq_ns;
	if (targ_fast)
		wait_end(ts);
	ts->runq_ns = 0;
	if (now < start) {
		count_drop(CGSNAP_DROP_NEG_DELTA);
		return 0;
	}
	if (next_slot_of(next, ts, &cgid))
		account_waits(ts->slot, now - start, 1, holder_of(prev, cgid), cgid);
	return 0;
}

/* woken: it waits from now on; in fast mode not if it is on a CPU still
 * (woken before it went to sleep): that is no wait */
static __always_inline void woken(struct task_struct *p)
{
	__u64 queued;

	if (targ_fast && p->on_cpu)
		return;
	if (targ_rq_clock) {
		/* enqueued just now, on its run queue's clock */
		queued = p->sched_info.last_queued;
		stamp(p, queued ?: rq_clock_of(p));
		return;
	}
	stamp(p, bpf_ktime_get_ns());
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	woken(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	woken(p);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return handle_switch(preempt, prev, next);
}

/*
 * A task moved to another cgroup v2 while it runs on this CPU (it moved
 * itself, as a container runtime's init does before it execs the
 * workload): its run so far is charged to the cgroup it ran in, the rest
 * will be to the new one, as the scheduler charges cpu.stat. A task moved
 * while it runs on another CPU has its run charged to the old cgroup.
 */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task)
{
	struct cgsnap_cpu_note *c;
	struct task_ts *ts;
	__u32 zero = 0;

	if (!targ_sched_info || dst->root->hierarchy_id != 0)
		return 0;
	c = bpf_map_lookup_elem(&cur_cpu, &zero);
	if (!c || c->task != (__u64)task || !task->pid)
		return 0;
	ts = bpf_task_storage_get(&task_ts, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts)
		return 0;
	charge_run(task, ts, c->cgid, true, c->exec);
	c->cgid = task_cgid(task);
	return 0;
}

/* memory pressure */

static __always_inline void reclaim_begin(__u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgsnap_mem *m;
	struct task_ts *ts;
	__u64 now, cgid;

	ts = bpf_task_storage_get(&task_ts, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		count_drop(CGSNAP_DROP_NO_STORAGE);
		return;
	}
	kind &= CGSNAP_RECLAIM_MAX - 1;
	now = bpf_ktime_get_ns();
	ts->last_reclaim = kind + 1;
	ts->last_reclaim_ns = now;
	if (ts->reclaim_ns[kind])	/* nested begin: keep the outer one */
		return;
	cgid = task_cgid(task);
	m = bpf_map_lookup_or_try_init(&cg_mem, &cgid, &zero_mem);
	if (!m) {
		count_drop(CGSNAP_DROP_MEM_FULL);
		return;
	}
	ts->reclaim_ns[kind] = now;
	ts->reclaim_cgid = cgid;
	bpf_spin_lock(&m->lock);
	if (m->nr_stalled++ == 0)
		m->stall_start_ns = now;
	bpf_spin_unlock(&m->lock);
}

static __always_inline void reclaim_end(__u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgsnap_mem *m;
	struct task_ts *ts;
	__u64 now, start, delta, slot;

	ts = bpf_task_storage_get(&task_ts, task, NULL, 0);
	kind &= CGSNAP_RECLAIM_MAX - 1;
	if (!ts || !ts->reclaim_ns[kind])
		return;
	start = ts->reclaim_ns[kind];
	ts->reclaim_ns[kind] = 0;
	m = bpf_map_lookup_elem(&cg_mem, &ts->reclaim_cgid);
	if (!m)
		return;
	now = bpf_ktime_get_ns();
	delta = now > start ? now - start : 0;
	slot = hist_slot(delta);
	bpf_spin_lock(&m->lock);
	m->count[kind]++;
	m->sum_ns[kind] += delta;
	if (delta > m->max_ns)
		m->max_ns = delta;
	m->slots[slot]++;
	if (m->nr_stalled && --m->nr_stalled == 0)
		m->some_ns += now - m->stall_start_ns;
	bpf_spin_unlock(&m->lock);
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(direct_reclaim_begin)
{
	reclaim_begin(CGSNAP_RECLAIM_DIRECT);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(direct_reclaim_end)
{
	reclaim_end(CGSNAP_RECLAIM_DIRECT);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memcg_reclaim_begin)
{
	reclaim_begin(CGSNAP_RECLAIM_MEMCG);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(memcg_reclaim_end)
{
	reclaim_end(CGSNAP_RECLAIM_MEMCG);
	return 0;
}

/*
 * Which OOM: the killer runs in the context of the task whose allocation
 * failed, and mark_victim carries no oom_control. A memcg OOM follows that
 * task's failed memcg reclaim (try_charge retries it, then calls the OOM
 * killer); a global one follows direct reclaim, or no reclaim at all
 * (sysrq-f, a kernel thread). So the cause is the kind of the reclaim that
 * task entered last, if it entered one within the last few seconds.
 */
#define OOM_RECLAIM_WINDOW_NS	(5ULL * 1000000000)

static __always_inline bool oom_is_memcg(void)
{
	struct task_ts *ts;

	ts = bpf_task_storage_get(&task_ts, bpf_get_current_task_btf(), NULL, 0);
	return ts && ts->last_reclaim == CGSNAP_RECLAIM_MEMCG + 1 &&
	       bpf_ktime_get_ns() - ts->last_reclaim_ns < OOM_RECLAIM_WINDOW_NS;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim, struct task_struct *task)
{
	__u64 cgid = task_cgid(task);
	struct cgsnap_mem *m;

	m = bpf_map_lookup_or_try_init(&cg_mem, &cgid, &zero_mem);
	if (!m) {
		count_drop(CGSNAP_DROP_MEM_FULL);
		return 0;
	}
	__sync_fetch_and_add(&m->oom_kills, 1);
	if (oom_is_memcg())
		__sync_fetch_and_add(&m->oom_kills_memcg, 1);
	return 0;
}

/*
 * cgroup lifecycle: v2 hierarchy only (hierarchy 0; a hybrid host's v1
 * controllers have their own). The name is the directory's, not the path
 * the tracepoint carries: that path is relative to the init cgroup
 * namespace, the agent's may differ; the agent joins the name to the
 * parent it knows.
 */
static __always_inline void cg_event(struct cgroup *cgrp, __u32 type)
{
	struct cgsnap_cg_event *e;
	struct cgroup_subsys_state *parent;

	/* below --max-depth: counted in an ancestor, not told */
	if (cgrp->root->hierarchy_id != 0 || cgrp->level > (int)targ_max_level)
		return;
	e = bpf_ringbuf_reserve(&cg_events, sizeof(*e), 0);
	if (!e) {
		count_drop(CGSNAP_DROP_EVENTS_FULL);
		return;
	}
	e->type = type;
	e->level = cgrp->level;
	e->id = cgrp->kn->id;
	parent = cgrp->self.parent;
	e->parent_id = parent ? parent->cgroup->kn->id : 0;
	e->t_ns = bpf_ktime_get_ns();
	if (bpf_probe_read_kernel_str(e->name, sizeof(e->name), cgrp->kn->name) < 0)
		e->name[0] = '\0';
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroup_mkdir, struct cgroup *cgrp)
{
	cg_event(cgrp, CGSNAP_EVENT_MKDIR);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgroup_rmdir, struct cgroup *cgrp)
{
	cg_event(cgrp, CGSNAP_EVENT_RMDIR);
	return 0;
}

SEC("tp_btf/cgroup_release")
int BPF_PROG(cgroup_release, struct cgroup *cgrp)
{
	cg_event(cgrp, CGSNAP_EVENT_RELEASE);
	return 0;
}
