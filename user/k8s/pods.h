/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who a pod is, by its UID: namespace, name, QoS class, its containers'
 * names by runtime id, selected labels, and the workload that owns it. The
 * list comes from the kubelet's /pods (a PodList, kubelet.c) or, in a
 * sidecar, from the downward API's environment (--pod-from-env).
 *
 * A list is immutable once built and shared by reference: the kubelet
 * thread swaps in a new one, readers (a scrape, an API request) hold theirs
 * as long as they render, without a lock.
 */
#ifndef __CGSNAP_PODS_H
#define __CGSNAP_PODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"

struct k8s_container {
	char *id;		/* the runtime's id, without "containerd://" */
	char *name;
};

struct k8s_pod {
	char uid[37];
	char *ns, *name;
	char *qos;		/* lower case, as the cgroup path has it; "" unknown */
	char *workload_kind;	/* Deployment, StatefulSet, DaemonSet, Job, CronJob,
				 * ReplicaSet, another controller's kind, or Pod */
	char *workload;
	char **labels;		/* the selected labels' values, NULL where absent */
	struct k8s_container *containers;
	unsigned int nr_containers;
};

struct k8s_podlist {
	int refs;
	struct k8s_pod *pods;	/* sorted by uid */
	unsigned int n;
};

/* the labels a list keeps (--pod-label), and their Prometheus names */
struct k8s_label_keys {
	char **keys;		/* "app.kubernetes.io/name" */
	char **names;		/* "label_app_kubernetes_io_name" */
	unsigned int n;
};

int k8s_label_keys_add(struct k8s_label_keys *lk, const char *key);
void k8s_label_keys_free(struct k8s_label_keys *lk);

/* a node runs a few hundred pods at most (the kubelet's default max-pods is
 * 110): a list is cut at this many unless told otherwise (--kubelet-max-pods) */
#define K8S_DEFAULT_MAX_PODS	1000

/* what a PodList held beside the pods kept */
struct k8s_parse_stats {
	unsigned int items;	/* pod objects in it */
	unsigned int left_out;	/* of them without a usable UID, name or namespace */
	unsigned int over;	/* usable, but beyond the bound: not kept */
};

/*
 * A PodList (the kubelet's GET /pods) parsed as it arrives (podlist.c):
 * feed it the answer in chunks of any size, then end it. Only what names
 * pods is kept, for at most @max_pods pods (0: K8S_DEFAULT_MAX_PODS), so
 * its memory is bounded by that, not by the answer. A pod with no usable
 * UID, name or namespace (absent, too long, not UTF-8, holding a NUL) is
 * left out alone. new() returns NULL with errno ENOMEM.
 */
struct k8s_podlist_parser;

struct k8s_podlist_parser *k8s_podlist_parser_new(const struct k8s_label_keys *lk,
						  unsigned int max_pods);
/* 0, or the error that stops the parse (-EINVAL: not a PodList, -ENOMEM) */
int k8s_podlist_parser_feed(struct k8s_podlist_parser *p, const char *data, size_t len);
/* Returns 0 and the list (one reference) in *@out, or -EINVAL with the
 * reason in @err, or -ENOMEM; @stats (may be NULL) in any case. */
int k8s_podlist_parser_end(struct k8s_podlist_parser *p, struct k8s_podlist **out,
			   struct k8s_parse_stats *stats, char *err, size_t errlen);
void k8s_podlist_parser_free(struct k8s_podlist_parser *p);

/* the same for a whole answer of @len bytes */
int k8s_podlist_parse(const char *json, size_t len, const struct k8s_label_keys *lk,
		      unsigned int max_pods, struct k8s_podlist **out,
		      struct k8s_parse_stats *stats, char *err, size_t errlen);

/* building a list (the parser, the downward API): an empty one with room
 * for @nr_labels label values per pod; a zeroed pod added to it (its labels
 * array allocated), NULL without memory; sorted by UID once complete */
struct k8s_podlist *k8s_podlist_new(unsigned int nr_labels);
struct k8s_pod *k8s_podlist_add(struct k8s_podlist *l);
void k8s_podlist_seal(struct k8s_podlist *l);
/* "containerd://abc" -> "abc" */
const char *k8s_runtime_id(const char *s);

/*
 * The one pod of a sidecar, from the downward API's environment, read
 * through @get (getenv): POD_NAME, POD_NAMESPACE and POD_UID (required),
 * WORKLOAD_KIND and WORKLOAD_NAME (optional, both or neither; without them
 * the pod is its own workload); no labels. Returns 0, or -EINVAL naming the variable
 * in @err.
 */
int k8s_podlist_from_env(char *(*get)(const char *), const struct k8s_label_keys *lk,
			 struct k8s_podlist **out, char *err, size_t errlen);

struct k8s_podlist *k8s_podlist_get(struct k8s_podlist *l);
void k8s_podlist_put(struct k8s_podlist *l);

const struct k8s_pod *k8s_podlist_find(const struct k8s_podlist *l, const char *uid);
/* the name of @pod's container with runtime id @id, or NULL */
const char *k8s_pod_container(const struct k8s_pod *pod, const char *id);

/*
 * The workload that owns a pod, from its controller ownerReference
 * (@owner_kind, @owner_name; NULL when it has none) and its pod-template-hash
 * label (@hash, or NULL): a ReplicaSet named <deployment>-<hash> is its
 * Deployment, a Job named <cronjob>-<8 or more digits> (the CronJob
 * controller's scheduled minute) its CronJob, other controllers themselves,
 * and a pod without one is its own workload, kind Pod. Points *@kind and
 * *@name into static strings or @buf (of @len bytes) and the arguments.
 */
void k8s_workload_of(const char *pod_name, const char *owner_kind, const char *owner_name,
		     const char *hash, const char **kind, const char **name, char *buf,
		     size_t len);

/* What is known of a cgroup: from its path, and from the list if the pod is on it. */
struct k8s_names {
	struct k8s_identity id;		/* id.kind K8S_NONE: not a Kubernetes cgroup */
	const struct k8s_pod *pod;	/* NULL: not on the list (path identity only) */
	const char *container;		/* the container's name, or "" */
};

void k8s_resolve(const struct k8s_podlist *l, const char *path, struct k8s_names *out);

/* The current list, shared between the thread that refreshes it and readers. */
struct k8s_pods;

struct k8s_pods *k8s_pods_new(const struct k8s_label_keys *lk);
void k8s_pods_free(struct k8s_pods *p);
/* replace the list with @l (its reference is taken) */
void k8s_pods_set(struct k8s_pods *p, struct k8s_podlist *l);
/* a reference to the current list, or NULL before the first one */
struct k8s_podlist *k8s_pods_get(struct k8s_pods *p);
const struct k8s_label_keys *k8s_pods_label_keys(const struct k8s_pods *p);
/* whether the current list has pod @uid */
bool k8s_pods_has(struct k8s_pods *p, const char *uid);

#endif /* __CGSNAP_PODS_H */
