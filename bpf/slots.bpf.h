/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Where a count goes: a task's cgroup id (at most targ_max_level deep),
 * the slot of a cgroup (allocated on first use, recycled by userspace), a
 * CPU's summary of a slot, a histogram bucket, a drop counted. Included
 * once, by cgsnap.bpf.c, after state.bpf.h.
 */
#ifndef __CGSNAP_SLOTS_BPF_H
#define __CGSNAP_SLOTS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "state.bpf.h"

/* histogram slot of @ns, bounded in a way the verifier can see: a 64-bit
 * index (no zero-extended copy to lose the bound on) behind a barrier */
static __always_inline __u64 hist_slot(__u64 ns)
{
	__u64 slot = cgsnap_hist_slot(ns);

	barrier_var(slot);
	if (slot >= CGSNAP_HIST_SLOTS)
		slot = CGSNAP_HIST_SLOTS - 1;
	return slot;
}

static __always_inline void count_drop(__u32 what)
{
	__u64 *cnt = bpf_map_lookup_elem(&cg_drops, &what);

	if (cnt)
		*cnt += 1;
}

/*
 * tp_btf arguments are BTF pointers: plain dereferences compile to inline,
 * fault-safe loads (with CO-RE relocations, as vmlinux.h types carry
 * preserve_access_index), several times cheaper than a bpf_probe_read_kernel()
 * call per hop as BPF_CORE_READ() would make.
 */
static __noinline __u64 ancestor_cgid(struct cgroup *cg)
{
	struct cgroup *anc = NULL;

	/*
	 * ancestors[] is indexed by level (v5.19, 7f203bc89eb6; before, it was
	 * ancestor_ids[]); a flexible array the verifier lets no direct load
	 * reach: read its entry, then the id, the slow way (deep cgroups only)
	 */
	bpf_probe_read_kernel(&anc, sizeof(anc),
			      (void *)cg + bpf_core_field_offset(struct cgroup, ancestors) +
			      (targ_max_level & (CGSNAP_MAX_LEVEL - 1)) * sizeof(anc));
	return anc ? BPF_CORE_READ(anc, kn, id) : 0;
}

static __always_inline __u64 task_cgid(struct task_struct *t)
{
	struct cgroup *cg = t->cgroups->dfl_cgrp;

	if (cg->level > (int)targ_max_level)
		return ancestor_cgid(cg);
	return cg->kn->id;
}

/* the slot of cgroup @cgid, allocated on first use; false if none is free */
static __noinline bool slot_of(__u64 cgid, __u32 *slot)
{
	__u32 *found, s;
	long err;

	found = bpf_map_lookup_elem(&cg_slot, &cgid);
	if (found) {
		*slot = *found;
		return true;
	}
	if (bpf_map_pop_elem(&cg_free, &s)) {
		s = __sync_fetch_and_add(&next_slot, 1);
		if (s >= targ_nr_slots)
			return false;
	}
	err = bpf_map_update_elem(&cg_slot, &cgid, &s, BPF_NOEXIST);
	if (err) {
		/* another CPU allocated one meanwhile: use that, return ours */
		bpf_map_push_elem(&cg_free, &s, 0);
		found = bpf_map_lookup_elem(&cg_slot, &cgid);
		if (!found)
			return false;
		*slot = *found;
		return true;
	}
	bpf_map_update_elem(&cg_owner, &s, &cgid, BPF_ANY);
	*slot = s;
	return true;
}

/* this CPU's cg_runq value of @slot */
static __always_inline struct cgsnap_runq *runq_of(__u32 slot)
{
	__u32 idx = slot * targ_nr_cpus + bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&cg_runq, &idx);
}

/* this CPU's cg_runq value of cgroup @cgid's slot, which @ts caches for its
 * task; NULL if no slot is free (a drop counted) */
static __always_inline struct cgsnap_runq *task_runq(struct task_ts *ts, __u64 cgid)
{
	if (cgid != ts->cgid) {
		if (!slot_of(cgid, &ts->slot)) {
			count_drop(CGSNAP_DROP_SLOTS_FULL);
			return NULL;
		}
		ts->cgid = cgid;
	}
	return runq_of(ts->slot);
}

#endif /* __CGSNAP_SLOTS_BPF_H */
