/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the cgsnap object holds: the settings userspace fixes before load
 * (targ_*), the per-task storage, and the maps it shares with userspace
 * (struct cgsnap_* of cgsnap.h). Included once, by cgsnap.bpf.c.
 */
#ifndef __CGSNAP_STATE_BPF_H
#define __CGSNAP_STATE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "cgsnap.h"

#define TASK_RUNNING	0
#define PF_KTHREAD	0x00200000

/* sized by userspace before load: the number of slots, of possible CPUs */
const volatile __u32 targ_nr_slots = CGSNAP_MIN_SLOTS;
const volatile __u32 targ_nr_cpus = 1;
/*
 * Where waits come from, chosen by userspace before load: the kernel's own
 * sched_info (CONFIG_SCHED_INFO: what /proc/PID/schedstat reports), read at
 * the switch alone; or, where the kernel has none, a stamp of our own at
 * wakeup and preemption (the sched_wakeup programs then load).
 */
const volatile bool targ_sched_info = false;
/*
 * The deepest level of cgroups counted as themselves (--max-depth; the v2
 * root is level 0): a task deeper down is counted in its ancestor at this
 * level, which the agent knows, so that a subtree nested a thousand deep
 * costs the agent what 32 levels do and no wait is lost.
 */
const volatile __u32 targ_max_level = CGSNAP_MAX_LEVEL_DEFAULT;
/*
 * Fast mode (cgsnap run --fast): waits in progress are kept per slot and
 * CPU (stamps at wakeup and preemption, taken back when the task runs), and
 * a wait longer than targ_wake_ns wakes the agent through cg_wake, at most
 * once per targ_wake_gap_ns per slot and CPU.
 */
const volatile bool targ_fast = false;
const volatile __u64 targ_wake_ns = 0;
const volatile __u64 targ_wake_gap_ns = 100000000;
/*
 * Fast mode beside sched_info: waits in progress start on the run queue's
 * clock, which the kernel has just read (sched_info.last_queued at a
 * wakeup, rq->clock at a switch), instead of bpf_ktime_get_ns(), the
 * costliest part of a wakeup's program; each switch notes that clock per
 * CPU, the agent's "now" on it. Set by userspace where the kernel's BTF
 * has the way there (task->se.cfs_rq->rq, CONFIG_FAIR_GROUP_SCHED).
 */
const volatile bool targ_rq_clock = false;
/*
 * sched_info mode: when the programs were loaded (CLOCK_MONOTONIC, the
 * clock of task->start_time). A task started since then has all its waits
 * counted: its run_delay and pcount are its own since it began.
 */
const volatile __u64 targ_since_ns = 0;

/* bump allocator of never-used slots */
__u32 next_slot;

/* per-task state: no pid-keyed table to overflow or confuse on reuse */
struct task_ts {
	__u64 runq_ns;				/* when the task became runnable; 0: not waiting
						 * (own stamps) */
	__u64 seen_delay;			/* sched_info: run_delay and pcount when */
	__u64 seen_count;			/* it last left a CPU, */
	__u32 seen;				/* once it has */
	__u64 cgid;				/* the task's cgroup when last switched in, */
	__u32 slot;				/* and that cgroup's slot */
	__u32 last_reclaim;			/* kind + 1 of the last reclaim entered */
	__u64 last_reclaim_ns;			/* and when; 0: never */
	__u64 reclaim_ns[CGSNAP_RECLAIM_MAX];	/* when it entered reclaim; 0: not in reclaim */
	__u64 reclaim_cgid;			/* cgroup charged with the stall at begin */
	__u32 wait_slot;			/* fast mode: the slot its wait in progress
						 * is counted in (runq_ns set) */
	__u64 exec_charged;			/* sched_info: its se.sum_exec_runtime when its
						 * CPU time was last charged; 0: never */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ts);
} task_ts SEC(".maps");

/*
 * Per-CPU summaries, but a shared histogram: per-CPU histograms would cost
 * CPUs x cgroups x 904 bytes (58 MB for 1,000 cgroups on 64 CPUs). Both are
 * arrays indexed by the cgroup's slot, which the switch path finds in the
 * task's own storage: array lookups are inlined, no hashing per event.
 * They are mmap-able: the collector reads them in place, without syscalls.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, CGSNAP_MIN_SLOTS);	/* x nr_cpus, set by userspace */
	__type(key, __u32);
	__type(value, struct cgsnap_runq);
} cg_runq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, CGSNAP_MIN_SLOTS);
	__type(key, __u32);
	__type(value, struct cgsnap_hist);
} cg_runq_hist SEC(".maps");

/* cgroup id -> slot, consulted when a task's cached cgroup differs */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGSNAP_MIN_SLOTS);
	__type(key, __u64);
	__type(value, __u32);
} cg_slot SEC(".maps");

/* slot -> cgroup id, for userspace (0: free) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, CGSNAP_MIN_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} cg_owner SEC(".maps");

/* slots of vanished cgroups, zeroed and pushed back by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, CGSNAP_MIN_SLOTS);
	__type(value, __u32);
} cg_free SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CGSNAP_MEM_ENTRIES);
	__type(key, __u64);
	__type(value, struct cgsnap_mem);
} cg_mem SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGSNAP_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} cg_drops SEC(".maps");

/* fast mode: long waits, told at once (struct cgsnap_wake) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} cg_wake SEC(".maps");

/* cgroup creation and removal (struct cgsnap_cg_event) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* ~3,600 events between two reads */
} cg_events SEC(".maps");

static const struct cgsnap_mem zero_mem;

#endif /* __CGSNAP_STATE_BPF_H */
