/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kubelet's pod list, kept fresh by a thread of its own: GET /pods at
 * start, every interval, and soon (at most every KUBELET_MIN_GAP_NS) after a
 * cgroup of a pod the list does not have appears. libcurl, with timeouts; a
 * failing kubelet costs that thread only: the last good list stays, one log
 * line says it fails and why (HTTP 401, TLS, timeout...), one that it answers
 * again.
 */
#ifndef __CGSNAP_KUBELET_H
#define __CGSNAP_KUBELET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pods.h"

#define KUBELET_DEFAULT_TOKEN	"/var/run/secrets/kubernetes.io/serviceaccount/token"
#define KUBELET_MIN_GAP_NS	2000000000LL
#define KUBELET_CONNECT_TIMEOUT_MS	2000L
#define KUBELET_TIMEOUT_MS	10000L
/* larger answers are refused; parsed as they arrive, they are never held */
#define KUBELET_MAX_BODY	(64u << 20)

enum { KUBELET_LOG_WARN, KUBELET_LOG_INFO, KUBELET_LOG_DEBUG };

struct kubelet_opts {
	const char *url;		/* http:// or https://host:port; "/pods" is appended */
	const char *token_file;		/* sent as a bearer token, read for every request */
	const char *ca_file;		/* NULL: the system's CAs */
	bool insecure_tls;		/* no certificate check at all */
	int64_t interval_ns;
	unsigned int max_pods;		/* pods kept of a list; 0: K8S_DEFAULT_MAX_PODS */
	void (*log)(int level, const char *msg);
};

struct kubelet_stats {
	bool up;			/* the last GET /pods succeeded */
	unsigned int pods;		/* in the current list */
	unsigned int over_limit;	/* beyond max_pods in the last answer: not kept */
	unsigned int unusable;		/* without a usable UID, name or namespace */
	uint64_t refreshes, failures;	/* GETs done, failed */
	double last_seconds;		/* how long the last GET and parse took */
};

/* 0, or -EINVAL with the reason in @err: a URL cgsnap can GET /pods from */
int kubelet_check_url(const char *url, char *err, size_t errlen);

struct kubelet;

/* Start the thread that fills @pods. NULL with the reason in @err. */
struct kubelet *kubelet_start(const struct kubelet_opts *o, struct k8s_pods *pods, char *err,
			      size_t errlen);
/* a cgroup of pod @uid appeared: refresh soon if the list does not have it */
void kubelet_notice(struct kubelet *k, const char *uid);
void kubelet_stats(struct kubelet *k, struct kubelet_stats *out);
void kubelet_stop(struct kubelet *k);

#endif /* __CGSNAP_KUBELET_H */
