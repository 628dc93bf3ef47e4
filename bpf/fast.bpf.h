/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fast mode (targ_fast): the waits in progress, counted per slot and CPU
 * from a task's start of a wait to its end, and the agent woken through
 * the cg_wake ring when a finished wait is longer than its budget. Included
 * once, by cgsnap.bpf.c, after slots.bpf.h.
 */
#ifndef __CGSNAP_FAST_BPF_H
#define __CGSNAP_FAST_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "state.bpf.h"
#include "slots.bpf.h"

/* fast mode: a task of cgroup @cgid (storage @ts), runnable from @now on:
 * its wait is counted in progress, in the slot of that cgroup */
static __noinline void wait_begin_in(struct task_ts *ts, __u64 cgid, __u64 now)
{
	struct cgsnap_runq *rq = task_runq(ts, cgid);

	if (!rq)
		return;
	ts->runq_ns = now;
	ts->wait_slot = ts->slot;
	/*
	 * The order is the reader's (kmaps__runq_waiting(), which reads the
	 * count first): a reading caught between the two stores of a start or
	 * of an end understates the ages, never overstates them.
	 */
	rq->waiting_since_sum += now;
	barrier();
	rq->waiting += 1;
}

/* fast mode: @ts's wait ends (its task got the CPU): out of the waits in
 * progress, where it was counted */
static __noinline void wait_end(struct task_ts *ts)
{
	struct cgsnap_runq *rq = runq_of(ts->wait_slot);

	if (rq) {
		rq->waiting -= 1;
		barrier();
		rq->waiting_since_sum -= ts->runq_ns;
	}
	ts->runq_ns = 0;
}

/*
 * fast mode: a wait of cgroup @cgid longer than the budget (targ_wake_ns)
 * ended: wake the agent, at most once per targ_wake_gap_ns per slot and CPU
 * (the last time in this CPU's @rq)
 */
static __noinline void wake_agent(struct cgsnap_runq *rq, __u64 cgid, __u64 wait_ns)
{
	__u64 now = bpf_ktime_get_ns();
	struct cgsnap_wake *w;

	if (now - rq->wake_ns < targ_wake_gap_ns)
		return;
	rq->wake_ns = now;
	w = bpf_ringbuf_reserve(&cg_wake, sizeof(*w), 0);
	if (!w)
		return;
	w->cgid = cgid;
	w->wait_ns = wait_ns;
	w->t_ns = now;
	bpf_ringbuf_submit(w, BPF_RB_FORCE_WAKEUP);
}

/*
 * fast mode: @ts's task leaves the CPU with a wait still counted in
 * progress. It ran, so it was not waiting: the count is stale (an end not
 * seen, or a start while it ran) and ends now. Left alone, it stayed in the
 * slot for good when the task then exited: its cgroup "waited" forever.
 */
static __noinline void end_stale_wait(struct task_ts *ts)
{
	wait_end(ts);
	count_drop(CGSNAP_DROP_STALE_WAIT);
}

/* fast mode beside sched_info (which counts the finished waits): @next
 * gets the CPU, ending its wait in progress if it had one */
static __always_inline void fast_switch_in(struct task_struct *next)
{
	struct task_ts *ts = bpf_task_storage_get(&task_ts, next, NULL, 0);

	if (ts && ts->runq_ns)
		wait_end(ts);
}

#endif /* __CGSNAP_FAST_BPF_H */
