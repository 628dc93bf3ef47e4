// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The JSON of a watched cgroup that several answers share: its reference
 * (path, id, Kubernetes identity and names), the kinds that make a verdict,
 * and the overview row of GET /v1/overview and cgsnap top. No HTTP here.
 */
#include <jansson.h>

#include "cgjson.h"

/* the "k8s" object of a pod's or container's cgroup: from its path, and
 * from the pod list when the pod is on it */
static json_t *k8s_json(const struct k8s_names *nm, const struct k8s_label_keys *lk)
{
	const struct k8s_identity *k = &nm->id;
	const struct k8s_pod *p = nm->pod;
	json_t *o, *labels;

	o = json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "kind", k8s_kind_name(k->kind),
		      "qos", *k->qos ? k->qos : p ? p->qos : "", "pod_uid", k->pod_uid,
		      "container_id", k->kind == K8S_POD ? NULL : k->container_id,
		      "runtime", *k->runtime ? k->runtime : NULL);
	if (!o || !p)
		return o;
	json_object_update_new(o, json_pack("{s:s,s:s,s:s?,s:s,s:s}", "namespace", p->ns,
					    "pod", p->name, "container",
					    k->kind == K8S_POD ? NULL : nm->container,
					    "workload_kind", p->workload_kind,
					    "workload", p->workload));
	labels = json_object();
	for (unsigned int i = 0; lk && i < lk->n; i++)
		if (p->labels[i])
			json_object_set_new(labels, lk->keys[i], json_string(p->labels[i]));
	json_object_set_new(o, "labels", labels);
	return o;
}

json_t *cgjson_ref(const char *path, uint64_t id, const struct k8s_podlist *l,
		       const struct k8s_label_keys *lk)
{
	json_t *o = json_pack("{s:s+,s:I}", "path", "/", path, "id", (json_int_t)id);
	struct k8s_names nm;

	k8s_resolve(l, path, &nm);
	if (o && nm.id.kind != K8S_NONE)
		json_object_set_new(o, "k8s", k8s_json(&nm, lk));
	return o;
}

json_t *cgjson_kinds(const struct cgsnap_status *st)
{
	json_t *arr = json_array();
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		if (st->kind[k].overloaded)
			json_array_append_new(arr, json_string(cgsnap_kind_name(k)));
	return arr;
}

/* the overview row of @c: cgjson_ref() and what its latest snapshots and
 * totals say */
static json_t *overview_row(const struct agent_cgroup *c, const struct k8s_podlist *l,
			    const struct k8s_label_keys *lk)
{
	const struct cgsnap_snapshot *cpu = &c->latest[CGSNAP_KIND_CPU];
	const struct cgsnap_snapshot *mem = &c->latest[CGSNAP_KIND_MEMORY];
	const struct cgsnap_snapshot *runq = &c->latest[CGSNAP_KIND_RUNQ];
	json_t *o = cgjson_ref(c->path, c->id, l, lk);

	if (!o)
		return NULL;
	json_object_set_new(o, "idle", json_boolean(c->current.idle));
	json_object_set_new(o, "kinds", cgjson_kinds(&c->current));
	json_object_set_new(o, "cpu_used_ratio", c->has_latest[CGSNAP_KIND_CPU] ?
			    json_real(cpu->cpu.used_ratio) : json_null());
	if (c->has_latest[CGSNAP_KIND_MEMORY]) {
		json_object_set_new(o, "memory_bytes", json_integer(mem->memory.current_bytes));
		json_object_set_new(o, "memory_budget_bytes", json_integer(mem->memory.max_bytes));
		json_object_set_new(o, "memory_stall_ratio",
				    mem->present & CGSNAP_F_STALL ?
				    json_real(mem->memory.stall_ratio) : json_null());
	}
	json_object_set_new(o, "runq_p99_ns", c->has_latest[CGSNAP_KIND_RUNQ] ?
			    json_integer(runq->runq.p99_ns) : json_null());
	if (c->has_totals)
		json_object_update_new(o, json_pack("{s:I,s:I,s:I}",
			"runq_waits", (json_int_t)c->runq.count,
			"runq_wait_ns", (json_int_t)c->runq.sum_ns,
			"runq_behind_other_ns",
			(json_int_t)c->runq.holder_ns[CGSNAP_HOLDER_OTHER]));
	return o;
}

json_t *cgjson_overview(const struct agent_cgroup *cgs, unsigned int n,
			const struct k8s_podlist *l, const struct k8s_label_keys *lk, int64_t now)
{
	json_t *arr = json_array(), *row;
	unsigned int i;

	if (!arr)
		return NULL;
	for (i = 0; i < n; i++) {
		row = overview_row(&cgs[i], l, lk);
		if (!row || json_array_append_new(arr, row)) {
			json_decref(arr);
			return NULL;
		}
	}
	return json_pack("{s:I,s:o}", "t_ns", (json_int_t)now, "cgroups", arr);
}
