/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The JSON of a watched cgroup shared by the API, the event stream and cgsnap top. */
#ifndef __CGSNAP_CGJSON_H
#define __CGSNAP_CGJSON_H

#include <stdint.h>
#include <jansson.h>

#include "agent.h"
#include "pods.h"

/* {"path", "id"} of a cgroup, and "k8s" for a pod's or container's, names
 * from @l (may be NULL); NULL on ENOMEM */
json_t *cgjson_ref(const char *path, uint64_t id, const struct k8s_podlist *l,
		   const struct k8s_label_keys *lk);
/* ["cpu", "runq", ...]: the kinds @st says are overloaded */
json_t *cgjson_kinds(const struct cgsnap_status *st);
/*
 * {"t_ns": @now, "cgroups": [row, ...]}: per cgroup of @cgs (with totals),
 * its cgjson_ref(), "idle", "kinds", and the latest "cpu_used_ratio",
 * "memory_bytes", "memory_budget_bytes", "memory_stall_ratio",
 * "runq_p99_ns", and the totals since watching began "runq_waits",
 * "runq_wait_ns", "runq_behind_other_ns" (docs/API.md); NULL on ENOMEM
 */
json_t *cgjson_overview(const struct agent_cgroup *cgs, unsigned int n,
			const struct k8s_podlist *l, const struct k8s_label_keys *lk, int64_t now);

#endif /* __CGSNAP_CGJSON_H */
