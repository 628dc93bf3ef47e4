// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <linux/bpf.h>

#include "cgsnap.h"
#include "names.h"

static const struct {
	const char *name, *label;
} holders[CGSNAP_HOLDER_MAX] = {
	[CGSNAP_HOLDER_SAME] = { "same_cgroup", "same cgroup" },
	[CGSNAP_HOLDER_OTHER] = { "other_cgroup", "other cgroup" },
	[CGSNAP_HOLDER_KERNEL] = { "kernel", "kernel thread" },
	[CGSNAP_HOLDER_IDLE] = { "idle", "idle CPU" },
};

static const char *const reclaims[CGSNAP_RECLAIM_MAX] = {
	[CGSNAP_RECLAIM_DIRECT] = "direct",
	[CGSNAP_RECLAIM_MEMCG] = "memcg",
};

static const char *const drops[CGSNAP_DROP_MAX] = {
	[CGSNAP_DROP_SLOTS_FULL] = "slots_full",
	[CGSNAP_DROP_MEM_FULL] = "mem_map_full",
	[CGSNAP_DROP_NO_STORAGE] = "no_task_storage",
	[CGSNAP_DROP_NEG_DELTA] = "negative_delta",
	[CGSNAP_DROP_EVENTS_FULL] = "events_full",
	[CGSNAP_DROP_STALE_WAIT] = "stale_wait",
};

const char *holder_name(int holder)
{
	return holder >= 0 && holder < CGSNAP_HOLDER_MAX ? holders[holder].name : "unknown";
}

const char *holder_label(int holder)
{
	return holder >= 0 && holder < CGSNAP_HOLDER_MAX ? holders[holder].label : "unknown";
}

const char *reclaim_name(int kind)
{
	return kind >= 0 && kind < CGSNAP_RECLAIM_MAX ? reclaims[kind] : "unknown";
}

const char *drop_name(int reason)
{
	return reason >= 0 && reason < CGSNAP_DROP_MAX ? drops[reason] : "unknown";
}
