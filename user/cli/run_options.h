/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The options of `cgsnap run`: one table (run_options.c) gives each its
 * flag, its config-file key, its help, how its value is parsed and its line
 * in --check, as the settings table (lib/settings.h) does for the
 * snapshotter's settings. The JSON config file (docs/RUN.md):
 *   {"settings": {"snapshot_history": "60s", ...}, "cgroups": [...],
 *    "listen": "...", "kubelet_url": "URL", ...}
 * Setting keys are the names of the settings table; values are strings as
 * for flags, or numbers for ratios, sizes and counts, booleans for switches.
 */
#ifndef __CGSNAP_RUN_OPTIONS_H
#define __CGSNAP_RUN_OPTIONS_H

#include <argp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "agent.h"
#include "http.h"
#include "pods.h"
#include "settings.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/cgsnap"

/* where pod names come from (docs/KUBERNETES.md) */
struct k8s_opts {
	const char *kubelet_url;	/* NULL: no kubelet client */
	const char *token_file;		/* NULL: KUBELET_DEFAULT_TOKEN if it exists */
	const char *ca_file;
	bool insecure_tls;
	int64_t interval_ns;		/* 0: K8S_DEFAULT_INTERVAL_NS */
	unsigned int max_pods;		/* of a pod list; 0: K8S_DEFAULT_MAX_PODS */
	struct k8s_label_keys labels;	/* --pod-label */
	bool pod_from_env;
};

#define K8S_DEFAULT_INTERVAL_NS	10000000000LL
#define K8S_MIN_INTERVAL_NS	1000000000LL

struct run_options {
	struct agent_opts agent;
	struct http_opts http;
	struct k8s_opts k8s;
	const char *record;
	bool pin;
	const char *pin_dir;
	int *pids;
	unsigned int nr_pids;
	int verbosity;		/* -v given this often */
	bool quiet, check;
	json_t *config;		/* the config file; its strings are used in place */
};

/* @o with every default (settings included) */
void run_options_init(struct run_options *o);
void run_options_free(struct run_options *o);

/* argp's view of the table: its options by group, then the settings'
 * (options.h). NULL on ENOMEM; free with setting_options_free(). */
struct argp_option *run_argp_options(void);

/* argv: if @key is a table option's, apply @arg (argp_error() when bad) and
 * return 1, else 0. --pin and --all take their value from the next argument
 * too when given bare (run.c): their keys are RUN_OPT_PIN and RUN_OPT_ALL. */
int run_option_parse(int key, char *arg, struct argp_state *state, struct run_options *o);

enum {
	RUN_OPT_CONFIG = 0x100,
	RUN_OPT_PIN,
	RUN_OPT_ALL,
	RUN_OPT_FIRST_PLAIN,	/* the rest, numbered by the table */
};

/* The config file @path into @o. Returns 0, or -EINVAL / -ENOMEM with
 * "PATH:LINE: problem" or "PATH: problem" in @err. */
int config_load(const char *path, struct run_options *o, char *err, size_t errlen);
/* the same from @len bytes of JSON @text, named @name in messages */
int config_parse(const char *text, size_t len, const char *name, struct run_options *o,
		 char *err, size_t errlen);

/* --check: the options and settings in force, one per line */
void run_options_print(const struct run_options *o, FILE *f);

#endif /* __CGSNAP_RUN_OPTIONS_H */
