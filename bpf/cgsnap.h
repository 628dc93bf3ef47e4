/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one header shared by the BPF programs and userspace: map value types,
 * histogram layout and enums. __u32/__u64 only, no includes, no hidden
 * padding. Every counter is cumulative; userspace takes deltas.
 */
#ifndef __CGSNAP_H
#define __CGSNAP_H

/*
 * Run-queue state of a cgroup lives in slot-indexed arrays (cg_runq,
 * cg_runq_hist); cg_slot maps a cgroup id to its slot and cg_owner a slot
 * back to its cgroup id (0: free). Userspace sizes them at load (at least
 * CGSNAP_MIN_SLOTS) and recycles the slots of vanished cgroups through the
 * cg_free queue.
 */
#define CGSNAP_MIN_SLOTS	1024
#define CGSNAP_MAX_SLOTS	(1 << 20)
/*
 * Cgroups deeper than the max level (--max-depth) are counted in their
 * ancestor at that level; it is at most CGSNAP_MAX_LEVEL - 1.
 */
#define CGSNAP_MAX_LEVEL_DEFAULT	32
#define CGSNAP_MAX_LEVEL		256

/* max_entries of cg_mem, keyed by cgroup id (only cgroups that reclaim) */
#define CGSNAP_MEM_ENTRIES	4096

/*
 * Log-linear latency histogram in nanoseconds: slot 0 holds [0, 512 ns);
 * then each power of two from 2^9 to 2^36 ns (~69 s) is split into
 * CGSNAP_HIST_SUB linear slots, so a slot is at most 1/8 = 12.5% of its
 * lower bound wide; the last slot holds everything from 2^37 ns on.
 */
#define CGSNAP_HIST_SUB_BITS	3
#define CGSNAP_HIST_SUB		(1 << CGSNAP_HIST_SUB_BITS)
#define CGSNAP_HIST_MIN_SHIFT	9
#define CGSNAP_HIST_MAX_SHIFT	36
#define CGSNAP_HIST_SLOTS	(2 + (CGSNAP_HIST_MAX_SHIFT - CGSNAP_HIST_MIN_SHIFT + 1) * CGSNAP_HIST_SUB)

/* floor(log2(v)) for v > 0, branch-free and without builtins (BPF has no clz) */
static inline __u32 cgsnap_log2(__u64 v)
{
	__u32 r, s;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	return r;
}

/* histogram slot of a duration of @ns nanoseconds */
static inline __u32 cgsnap_hist_slot(__u64 ns)
{
	__u32 order;

	if (ns < (1ULL << CGSNAP_HIST_MIN_SHIFT))
		return 0;
	order = cgsnap_log2(ns);
	if (order > CGSNAP_HIST_MAX_SHIFT)
		return CGSNAP_HIST_SLOTS - 1;
	return 1 + (order - CGSNAP_HIST_MIN_SHIFT) * CGSNAP_HIST_SUB +
	       ((ns >> (order - CGSNAP_HIST_SUB_BITS)) & (CGSNAP_HIST_SUB - 1));
}

/* who ran on the CPU just before a waiting task got it */
enum cgsnap_holder {
	CGSNAP_HOLDER_SAME = 0,		/* a task of the waiting task's own cgroup */
	CGSNAP_HOLDER_OTHER = 1,	/* a user task of another cgroup */
	CGSNAP_HOLDER_KERNEL = 2,	/* a kernel thread */
	CGSNAP_HOLDER_IDLE = 3,		/* nobody: the CPU was idle */
	CGSNAP_HOLDER_MAX = 4,
};

/* what was dropped or discarded instead of counted (cg_drops map index) */
enum cgsnap_drop {
	CGSNAP_DROP_SLOTS_FULL = 0,	/* no free slot: a wait was not counted */
	CGSNAP_DROP_MEM_FULL = 1,	/* cg_mem map full: a stall or OOM kill was not counted */
	CGSNAP_DROP_NO_STORAGE = 2,	/* task storage unavailable: an event was not stamped */
	CGSNAP_DROP_NEG_DELTA = 3,	/* end before start: a negative duration was discarded */
	CGSNAP_DROP_EVENTS_FULL = 4,	/* cg_events full: a cgroup's creation or removal was
					 * not told (the next scan finds it) */
	CGSNAP_DROP_STALE_WAIT = 5,	/* fast mode: a task leaving the CPU still had a
					 * wait counted in progress (it ran: it was not
					 * waiting); ended then */
	CGSNAP_DROP_MAX = 6,
};

enum cgsnap_reclaim {
	CGSNAP_RECLAIM_DIRECT = 0,	/* global direct reclaim */
	CGSNAP_RECLAIM_MEMCG = 1,	/* memcg limit reclaim */
	CGSNAP_RECLAIM_MAX = 2,
};

/*
 * cg_runq: one value per slot and CPU, at index slot x nr_cpus + cpu, so
 * each CPU writes only its own (no atomics). 128 bytes: two cache lines of
 * their own, never shared between CPUs. A plain mmap-able array rather than
 * a per-CPU one, so userspace reads it in place.
 */
struct cgsnap_runq {
	__u64 count;				/* waits that ended (task got the CPU) */
	__u64 sum_ns;				/* their total duration */
	__u64 max_ns;				/* longest wait on this CPU since load */
	__u64 holder_count[CGSNAP_HOLDER_MAX];	/* the waits split by who held the CPU */
	__u64 holder_ns[CGSNAP_HOLDER_MAX];
	/*
	 * Fast mode (targ_fast): waits in progress. A task that becomes
	 * runnable adds 1 and its start (bpf_ktime_get_ns()) on the CPU that
	 * sees it, and takes them back where it gets a CPU: summed over CPUs
	 * (mod 2^64), how many of the cgroup's tasks wait right now, and since
	 * when on average. wake_ns: when this CPU last woke the agent for it.
	 */
	__u64 waiting;
	__u64 waiting_since_sum;
	__u64 wake_ns;
	/*
	 * sched_info mode: the CPU time the cgroup's tasks ran on this CPU
	 * (se.sum_exec_runtime, what the kernel charges to cpu.stat's
	 * usage_usec), added when a task leaves the CPU; the run of a task on
	 * a CPU now is in that CPU's note (struct cgsnap_cpu_note).
	 */
	__u64 cpu_ns;
	__u64 __pad;
};

/* cg_wake, fast mode: a wait of @wait_ns ended in cgroup @cgid at @t_ns,
 * longer than the agent's budget: it reads the maps now, not at its tick */
struct cgsnap_wake {
	__u64 cgid;
	__u64 wait_ns;
	__u64 t_ns;
};

/*
 * cur_cpu, per CPU (sched_info mode only): the task that got the CPU at the
 * last switch and its cgroup. Userspace reads the cgroups running right now
 * from it; 0 while the CPU runs its idle task.
 */
struct cgsnap_cpu_note {
	__u64 task;
	__u64 cgid;
	__u64 delay, count;	/* its run_delay and pcount before this wait was added */
	__u64 clock;		/* fast mode with targ_rq_clock: the run queue's clock then */
	__u32 holder;
	__u32 pid;		/* the task's pid (in the initial namespace), 0: idle */
	__u64 exec;		/* its se.sum_exec_runtime when it got the CPU */
};

/* cg_runq_hist: array value indexed by slot, shared by all CPUs (atomic adds) */
struct cgsnap_hist {
	__u32 slots[CGSNAP_HIST_SLOTS];		/* wraps; userspace takes deltas mod 2^32 */
};

/* cg_mem: value keyed by cgroup v2 id; rare events, updated under lock */
struct cgsnap_mem {
	struct bpf_spin_lock lock;
	__u32 nr_stalled;			/* tasks of the cgroup in reclaim right now */
	__u64 stall_start_ns;			/* when nr_stalled went from 0 to 1 */
	__u64 some_ns;				/* time with nr_stalled > 0, ended periods */
	__u64 count[CGSNAP_RECLAIM_MAX];	/* reclaim stalls that ended, by kind */
	__u64 sum_ns[CGSNAP_RECLAIM_MAX];
	__u64 max_ns;
	__u64 oom_kills;			/* tasks of the cgroup chosen as OOM victim, */
	__u64 oom_kills_memcg;			/* of which by a memcg OOM (a cgroup's limit);
						 * the rest by a global one (the host) */
	__u32 slots[CGSNAP_HIST_SLOTS];		/* stall duration histogram, both kinds */
};

/*
 * cgroup lifecycle, from the cgroup_mkdir, cgroup_rmdir and cgroup_release
 * tracepoints of the v2 hierarchy, through the cg_events ring buffer: the
 * agent learns of a cgroup at once instead of at its next scan, and reads
 * the last counters of one that is removed before recycling its slot.
 */
#define CGSNAP_EVENT_NAME_MAX	256	/* a kernfs name is at most 255 bytes */

enum cgsnap_event_type {
	CGSNAP_EVENT_MKDIR = 1,
	CGSNAP_EVENT_RMDIR = 2,
	CGSNAP_EVENT_RELEASE = 3,
};

struct cgsnap_cg_event {
	__u32 type;				/* enum cgsnap_event_type */
	__u32 level;				/* depth: the root is 0 */
	__u64 id;				/* the cgroup's id (its inode number) */
	__u64 parent_id;
	__u64 t_ns;				/* bpf_ktime_get_ns() */
	char name[CGSNAP_EVENT_NAME_MAX];	/* its directory's name */
};

/*
 * One record of the memory usage iterator (memusage.bpf.c): a cgroup of the
 * hierarchy the memory controller is bound to (v2, or v1's memory one) and
 * its memory usage in pages, as memory.current / memory.usage_in_bytes
 * count them (the memcg's page counter).
 */
struct cgsnap_mem_usage {
	__u64 id;		/* its kernfs id: its directory's inode number */
	__u64 pages;
};

#endif /* __CGSNAP_H */
