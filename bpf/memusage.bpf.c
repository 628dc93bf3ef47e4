// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The memory usage of every cgroup in a hierarchy, in one read: a cgroup
 * iterator (kernel 6.1+) attached to the root of the hierarchy the memory
 * controller is bound to writes one struct cgsnap_mem_usage per cgroup that
 * has a memcg. The system tick reads it once instead of a usage file per
 * busy cgroup (user/kernel/memiter.c). Nothing is kept here.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "cgsnap.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* cgroup->subsys[] has CGROUP_SUBSYS_COUNT entries; memory's is below this */
#define SUBSYS_MAX 64

SEC("iter/cgroup")
int mem_usage(struct bpf_iter__cgroup *ctx)
{
	struct cgroup_subsys_state *css = NULL;
	struct cgroup *cgrp = ctx->cgroup;
	struct cgsnap_mem_usage rec;
	struct mem_cgroup *memcg;
	int ssid;

	if (!cgrp || !bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	ssid = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (ssid < 0 || ssid >= SUBSYS_MAX)
		return 0;
	/* NULL where the controller is not enabled for this cgroup (v2) */
	if (bpf_core_read(&css, sizeof(css), &cgrp->subsys[ssid]) || !css)
		return 0;
	/* css is the memcg's first member */
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	rec.id = BPF_CORE_READ(cgrp, kn, id);
	rec.pages = BPF_CORE_READ(memcg, memory.usage.counter);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
