// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "k8sview.h"

static int by_workload(const void *a, const void *b)
{
	const struct k8s_pod *x = ((const struct k8s_view_pod *)a)->pod;
	const struct k8s_pod *y = ((const struct k8s_view_pod *)b)->pod;
	int c;

	if ((c = strcmp(x->ns, y->ns)) || (c = strcmp(x->workload_kind, y->workload_kind)) ||
	    (c = strcmp(x->workload, y->workload)))
		return c;
	return strcmp(x->name, y->name);
}

static bool same_workload(const struct k8s_pod *x, const struct k8s_pod *y)
{
	return !strcmp(x->ns, y->ns) && !strcmp(x->workload_kind, y->workload_kind) &&
	       !strcmp(x->workload, y->workload);
}

/* fold cgroup @c into pod @p's verdict */
static void add_cgroup(struct k8s_view_pod *p, const struct agent_cgroup *c)
{
	double load;
	int k;

	if (!c->active)
		return;
	load = policy_load(&c->historical);
	if (load > p->load)
		p->load = load;
	p->idle &= c->historical.idle;
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		p->overloaded[k] |= c->historical.kind[k].overloaded;
}

static int group_workloads(struct k8s_view *v)
{
	unsigned int i, j;
	int k;

	v->workloads = calloc(v->nr_pods ? v->nr_pods : 1, sizeof(*v->workloads));
	if (!v->workloads)
		return -ENOMEM;
	for (i = 0; i < v->nr_pods; i = j) {
		struct k8s_workload *w = &v->workloads[v->nr_workloads++];
		double sum = 0;

		w->ns = v->pods[i].pod->ns;
		w->kind = v->pods[i].pod->workload_kind;
		w->name = v->pods[i].pod->workload;
		w->first = i;
		w->idle = true;
		for (j = i; j < v->nr_pods && same_workload(v->pods[i].pod, v->pods[j].pod); j++) {
			const struct k8s_view_pod *p = &v->pods[j];

			sum += p->load;
			if (p->load > w->load)
				w->load = p->load;
			w->idle &= p->idle;
			for (k = 0; k < CGSNAP_KIND_COUNT; k++)
				w->overloaded[k] |= p->overloaded[k];
		}
		w->n = j - i;
		w->load_mean = sum / w->n;
	}
	return 0;
}

int k8s_view_build(struct k8s_view *v, struct k8s_pods *pods, const struct agent_cgroup *cgs,
		   unsigned int n)
{
	int *slot = NULL;	/* list pod -> its index in v->pods, + 1 */
	unsigned int i;
	int ret = -ENOMEM;

	memset(v, 0, sizeof(*v));
	v->source = pods;
	v->lk = k8s_pods_label_keys(pods);
	v->list = k8s_pods_get(pods);
	v->names = calloc(n ? n : 1, sizeof(*v->names));
	if (!v->names)
		goto out;
	if (v->list) {
		slot = calloc(v->list->n ? v->list->n : 1, sizeof(*slot));
		v->pods = calloc(v->list->n ? v->list->n : 1, sizeof(*v->pods));
		if (!slot || !v->pods)
			goto out;
	}
	/* without a pod source nobody reads the names: no path parsed per scrape */
	for (i = 0; pods && i < n; i++) {
		struct k8s_names *nm = &v->names[i];
		struct k8s_view_pod *p;
		unsigned int at;

		k8s_resolve(v->list, cgs[i].path, nm);
		if (!nm->pod || cgs[i].removed)
			continue;
		at = nm->pod - v->list->pods;
		if (!slot[at]) {
			p = &v->pods[v->nr_pods];
			slot[at] = ++v->nr_pods;
			p->pod = nm->pod;
			p->cgroup = -1;
			p->idle = true;
		}
		p = &v->pods[slot[at] - 1];
		if (nm->id.kind == K8S_POD)
			p->cgroup = i;
		add_cgroup(p, &cgs[i]);
	}
	if (v->nr_pods)
		qsort(v->pods, v->nr_pods, sizeof(*v->pods), by_workload);
	ret = group_workloads(v);
out:
	free(slot);
	if (ret)
		k8s_view_free(v);
	return ret;
}

void k8s_view_free(struct k8s_view *v)
{
	k8s_podlist_put(v->list);
	free(v->names);
	free(v->pods);
	free(v->workloads);
	memset(v, 0, sizeof(*v));
}

const struct k8s_workload *k8s_view_workload(const struct k8s_view *v, const char *ns,
					     const char *kind, const char *name)
{
	unsigned int i;

	for (i = 0; i < v->nr_workloads; i++)
		if (!strcmp(v->workloads[i].ns, ns) && !strcasecmp(v->workloads[i].kind, kind) &&
		    !strcmp(v->workloads[i].name, name))
			return &v->workloads[i];
	return NULL;
}

const struct k8s_view_pod *k8s_view_pod(const struct k8s_view *v, const char *ns,
					const char *name)
{
	unsigned int i;

	for (i = 0; i < v->nr_pods; i++)
		if (!strcmp(v->pods[i].pod->ns, ns) && !strcmp(v->pods[i].pod->name, name))
			return &v->pods[i];
	return NULL;
}
