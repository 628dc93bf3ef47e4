/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The options of `cgsnap run`, and its JSON config file (docs/RUN.md):
 *   {"settings": {"snapshot_history": "60s", ...}, "cgroups": [...],
 *    "all": "PATH", "pids": [...], "listen": "...", "pin": "DIR",
 *    "record": "FILE", "max_cgroups": N, "token_file": "FILE", "auth": "writes",
 *    "tls_cert": "FILE", "tls_key": "FILE", "kubelet_url": "URL",
 *    "kubelet_token_file": "FILE", "kubelet_ca_file": "FILE",
 *    "kubelet_insecure_tls": BOOL, "kubelet_interval": "10s",
 *    "pod_labels": ["KEY", ...], "pod_from_env": BOOL,
 *    "idle_read_interval": "10s"}
 * Setting keys are the names of the settings table; values are strings as
 * for flags, or numbers for ratios, sizes and counts.
 */
#ifndef __CGSNAP_CONFIG_H
#define __CGSNAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "agent.h"
#include "http.h"
#include "pods.h"
#include "settings.h"

/* where pod names come from (docs/KUBERNETES.md) */
struct k8s_opts {
	const char *kubelet_url;	/* NULL: no kubelet client */
	const char *token_file;		/* NULL: KUBELET_DEFAULT_TOKEN if it exists */
	const char *ca_file;
	bool insecure_tls;
	int64_t interval_ns;		/* 0: K8S_DEFAULT_INTERVAL_NS */
	struct k8s_label_keys labels;	/* --pod-label */
	bool pod_from_env;
};

#define K8S_DEFAULT_INTERVAL_NS	10000000000LL
#define K8S_MIN_INTERVAL_NS	1000000000LL

/* --kubelet-interval D: 0, or -EINVAL (at least 1 s) */
int parse_kubelet_interval(const char *value, int64_t *ns);
/* a duration, or "0" alone (every cgroup read at every tick) */
int parse_idle_read_interval(const char *value, int64_t *ns);
/* --pod-label KEY: 0, -EINVAL or -ENOMEM */
int parse_pod_label(const char *key, struct k8s_opts *k);

struct run_options {
	struct agent_opts agent;
	struct http_opts http;
	struct k8s_opts k8s;
	const char *record;
	bool pin;
	const char *pin_dir;
	int *pids;
	unsigned int nr_pids;
	json_t *config;		/* the config file; its strings are used in place */
};

/* add @pid (1 .. INT32_MAX) to --pid's list: 0, -ERANGE or -ENOMEM */
int run_options_add_pid(struct run_options *o, long long pid);
void run_options_free(struct run_options *o);

/* --auth writes|all: 0 or -EINVAL */
int parse_auth(const char *value, bool *all);

/* The same from @len bytes of JSON @text, named @name in messages. */
int config_parse(const char *text, size_t len, const char *name, struct run_options *o,
		 char *err, size_t errlen);

/* Read the config file @path into @o. Returns 0, or -EINVAL / -ENOMEM with
 * "PATH:LINE: problem" or "PATH: problem" in @err. */
int config_load(const char *path, struct run_options *o, char *err, size_t errlen);

/* Set the setting @d from a JSON value (a string as for flags, or a number
 * for ratios, sizes and counts). 0 or -EINVAL with the reason in @err. */
int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen);

#endif /* __CGSNAP_CONFIG_H */
