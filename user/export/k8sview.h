/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The watched cgroups seen as Kubernetes sees them, for one scrape or one
 * request: each cgroup's names (k8s/pods.h), the pods on the list that have
 * a watched cgroup, and their workloads. A pod's load is the largest
 * historical load (policy_load) of its watched cgroups, its pod cgroup
 * included when watched (it holds its containers); a workload's load is the
 * largest of its pods' on this node.
 */
#ifndef __CGSNAP_K8SVIEW_H
#define __CGSNAP_K8SVIEW_H

#include "agent.h"
#include "pods.h"

struct k8s_view_pod {
	const struct k8s_pod *pod;
	int cgroup;			/* the pod cgroup's index, -1 when not watched */
	double load;
	bool idle;			/* historically idle, all of its cgroups */
	bool overloaded[CGSNAP_KIND_COUNT];	/* historical, any of its cgroups */
};

struct k8s_workload {
	const char *ns, *kind, *name;
	unsigned int first, n;		/* its pods: view.pods[first .. first + n) */
	double load, load_mean;
	bool idle;
	bool overloaded[CGSNAP_KIND_COUNT];
};

struct k8s_view {
	bool source;			/* a pod source (kubelet, environment) is set */
	const struct k8s_label_keys *lk;	/* the labels its pods carry */
	struct k8s_podlist *list;	/* NULL: no pod source, or no list yet */
	struct k8s_names *names;	/* one per cgroup; zeroed without a pod source */
	struct k8s_view_pod *pods;	/* by namespace, workload, then name */
	unsigned int nr_pods;
	struct k8s_workload *workloads;
	unsigned int nr_workloads;
};

/* Build @v over @cgs[0..@n) with @pods' current list (@pods may be NULL).
 * Returns 0 or -ENOMEM. */
int k8s_view_build(struct k8s_view *v, struct k8s_pods *pods, const struct agent_cgroup *cgs,
		   unsigned int n);
void k8s_view_free(struct k8s_view *v);

/* the workload, its kind matched case-insensitively, or NULL */
const struct k8s_workload *k8s_view_workload(const struct k8s_view *v, const char *ns,
					     const char *kind, const char *name);
const struct k8s_view_pod *k8s_view_pod(const struct k8s_view *v, const char *ns,
					const char *name);

#endif /* __CGSNAP_K8SVIEW_H */
