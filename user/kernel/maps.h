/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel reader: what the BPF programs wrote, read in place. The
 * run-queue arrays are mmap-ed (one value per slot per CPU, one histogram
 * per slot); the reclaim map is iterated with its values copied under their
 * spin lock. Slots of vanished cgroups are zeroed and handed back to the
 * BPF side here. Library code: no logging, -errno.
 */
#ifndef __CGSNAP_MAPS_H
#define __CGSNAP_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/bpf.h>	/* struct bpf_spin_lock, __u32, __u64 for cgsnap.h */

#include "cgsnap.h"

/* the fds of the cg_* maps, and how many slots they hold */
struct kmaps_fds {
	int runq_fd, hist_fd, mem_fd, drops_fd;
	int slot_fd, owner_fd, free_fd;
	int events_fd;			/* cg_events; -1: none (no lifecycle events) */
	int notes_fd;			/* cur_cpu; -1: not kept (own stamps) */
	int wake_fd;			/* cg_wake; -1: none (not fast mode) */
	unsigned int nr_slots;
	bool rq_clock;			/* waits in progress on the run queues' clock */
};

struct kmaps;

/* Map the arrays of @fds. NULL with errno set on failure. */
struct kmaps *kmaps__open(const struct kmaps_fds *fds);
void kmaps__close(struct kmaps *m);

/* Count the slots in use: returns the highest in use + 1 (0 if none). */
uint32_t kmaps__scan_slots(struct kmaps *m);
/* slots in use at the last kmaps__scan_slots() */
unsigned int kmaps__nr_used(const struct kmaps *m);

/* The cgroup id owning each slot (0: free), in place: nr_slots entries. */
const uint64_t *kmaps__owners(const struct kmaps *m);
/* @slot's wait count summed over CPUs: cheap, one cache line a CPU */
uint64_t kmaps__runq_count(const struct kmaps *m, uint32_t slot);
/*
 * @slot's histogram copied into @slots, then its counters summed over CPUs
 * into @sum (max: the largest), in the order the BPF side's stores make
 * consistent: every wait the copy holds is in the sums, and every wait in
 * a CPU's sums is in its count (the count may be ahead: waits being
 * written meanwhile). runq_delta() takes it from there.
 */
void kmaps__runq_read(const struct kmaps *m, uint32_t slot, struct cgsnap_runq *sum,
		      __u32 slots[CGSNAP_HIST_SLOTS]);

/* Hand @slot of vanished cgroup @id back to the BPF side, zeroed. */
void kmaps__recycle(struct kmaps *m, uint32_t slot, uint64_t id);
/* Drop the reclaim entry of vanished cgroup @id. */
void kmaps__forget_mem(struct kmaps *m, uint64_t id);

/* Call @fn for every cgroup with a reclaim entry, with a consistent copy. */
int kmaps__for_each_mem(struct kmaps *m,
			void (*fn)(uint64_t id, const struct cgsnap_mem *v, void *ctx), void *ctx);

/* The slot the BPF side gave cgroup @id: 0, or -ENOENT if it has none. */
int kmaps__slot_of(const struct kmaps *m, uint64_t id, uint32_t *slot);
/* @id's reclaim entry, copied consistently: 0, or -ENOENT. */
int kmaps__mem_of(const struct kmaps *m, uint64_t id, struct cgsnap_mem *out);

/* Call @fn for every cgroup creation and removal the kernel told since the
 * last call, in order. Returns the number of events, or a negative errno. */
int kmaps__events(struct kmaps *m, void (*fn)(const struct cgsnap_cg_event *e, void *ctx),
		  void *ctx);

/* @slot's CPU time charged by the switch program, summed over CPUs (ns;
 * sched_info mode, else 0): the runs that ended, not those in progress */
uint64_t kmaps__runq_cpu(const struct kmaps *m, uint32_t slot);

/*
 * Who runs on each CPU right now (cur_cpu): its note per CPU in @notes, of
 * at most @max CPUs (all zero for an idle or offline CPU: .cgid 0). Returns
 * the number of CPUs, -ENODATA when the notes are not kept (own stamps) or
 * an online CPU has not switched since the programs were attached (who runs
 * there is unknown), or another negative errno.
 */
int kmaps__running(const struct kmaps *m, struct cgsnap_cpu_note *notes, int max);
/* the number of possible CPUs, as the per-CPU maps hold them */
int kmaps__nr_cpus(const struct kmaps *m);

/* Fast mode. The fd to wait on for the kernel side's wakes (epoll), -1
 * without; call @fn for each wake told since the last call. */
int kmaps__wake_fd(const struct kmaps *m);
int kmaps__wakes(struct kmaps *m, void (*fn)(const struct cgsnap_wake *w, void *ctx), void *ctx);
/*
 * The clock waits in progress are stamped on, now: @mono_now (the BPF
 * clock, CLOCK_MONOTONIC) or, with fds.rq_clock, the run queues' clock at
 * the latest switch any CPU noted (the agent's own thread switched in just
 * before it asked: at most its own run time behind).
 */
int64_t kmaps__wait_clock(const struct kmaps *m, int64_t mono_now);
/* How many tasks of @slot's cgroup wait for a CPU at @now (on
 * kmaps__wait_clock()), and in *@age_ns how long they have waited so far,
 * together. */
uint64_t kmaps__runq_waiting(const struct kmaps *m, uint32_t slot, int64_t now,
			     uint64_t *age_ns);

/* The drop counters (enum cgsnap_drop), summed over CPUs. */
int kmaps__drops(const struct kmaps *m, uint64_t out[CGSNAP_DROP_MAX]);

#endif /* __CGSNAP_MAPS_H */
