// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap run's own options, one row each: the flag, the config key, the
 * help, the parser and the --check line. The argp vector, the config file's
 * keys and --check are generated from it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "events.h"
#include "kubelet.h"
#include "options.h"
#include "opts.h"
#include "readfile.h"
#include "run_options.h"
#include "run_options_int.h"

static int expect(char *err, size_t len, const char *what)
{
	snprintf(err, len, "expected %s", what);
	return -EINVAL;
}

static bool is_true(const char *v)
{
	return !v || !strcmp(v, "true");
}

/* what to watch */

static int set_cgroup(struct run_options *o, const char *v, char *err, size_t len)
{
	int ret = agent_opts_add_cgroup(&o->agent, v);

	return ret == -EINVAL ? expect(err, len, "a cgroup path without '.' or '..' components") :
	       ret;
}

static int set_pid(struct run_options *o, const char *v, char *err, size_t len)
{
	long pid;
	int *p;

	if (parse_long(v, 1, INT32_MAX, &pid))
		return expect(err, len, "a process id from 1 to 2147483647");
	p = realloc(o->pids, (o->nr_pids + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	o->pids = p;
	p[o->nr_pids++] = (int)pid;
	return 0;
}

static int set_all(struct run_options *o, const char *v, char *err, size_t len)
{
	if (v && !cgroup_path_valid(v))
		return expect(err, len, "a cgroup path without '.' or '..' components");
	o->agent.watch_all = true;
	o->agent.all_root = v;
	return 0;
}

static void show_watch(const struct run_options *o, FILE *f)
{
	unsigned int i;

	fprintf(f, "watch:");
	if (o->agent.watch_all)
		fprintf(f, " all of /%s", o->agent.all_root ? o->agent.all_root : "");
	for (i = 0; i < o->agent.nr_cgroups; i++)
		fprintf(f, " %s", o->agent.cgroups[i]);
	for (i = 0; i < o->nr_pids; i++)
		fprintf(f, " pid %d", o->pids[i]);
	fputc('\n', f);
}

/* interfaces and lifecycle: strings kept as given */

#define STRING_SETTER(fn, field)						\
	static int fn(struct run_options *o, const char *v, char *err, size_t len)	\
	{									\
		o->field = v;							\
		return 0;							\
	}

STRING_SETTER(set_listen, http.listen)
STRING_SETTER(set_token_file, http.token_file)
STRING_SETTER(set_tls_cert, http.tls_cert)
STRING_SETTER(set_tls_key, http.tls_key)
STRING_SETTER(set_record, record)
STRING_SETTER(set_kubelet_url, k8s.kubelet_url)
STRING_SETTER(set_kubelet_token, k8s.token_file)
STRING_SETTER(set_kubelet_ca, k8s.ca_file)

static void show_listen(const struct run_options *o, FILE *f)
{
	fprintf(f, "listen: %s\n", o->http.listen);
}

static int set_pin(struct run_options *o, const char *v, char *err, size_t len)
{
	o->pin = true;
	o->pin_dir = v ? v : DEFAULT_PIN_DIR;
	return 0;
}

static void show_pin(const struct run_options *o, FILE *f)
{
	fprintf(f, "pin: %s\n", o->pin ? o->pin_dir : "no");
}

static void show_record(const struct run_options *o, FILE *f)
{
	fprintf(f, "record: %s\n", o->record ? o->record : "no");
}

static int set_auth(struct run_options *o, const char *v, char *err, size_t len)
{
	if (strcmp(v, "writes") && strcmp(v, "all"))
		return expect(err, len, "writes or all");
	o->http.auth_all = !strcmp(v, "all");
	return 0;
}

static void show_http(const struct run_options *o, FILE *f)
{
	fprintf(f, "token file: %s\nauth: %s\ntls: %s\n",
		o->http.token_file ? o->http.token_file : "no", o->http.auth_all ? "all" : "writes",
		o->http.tls_cert ? o->http.tls_cert : "no");
}

static int set_histograms(struct run_options *o, const char *v, char *err, size_t len)
{
	if (metrics_histograms_parse(v, &o->http.metrics.histograms))
		return expect(err, len, "coarse, full or none");
	return 0;
}

static int set_full_histograms(struct run_options *o, const char *v, char *err, size_t len)
{
	return metrics_opts_add_full(&o->http.metrics, v);
}

static void show_histograms(const struct run_options *o, FILE *f)
{
	fprintf(f, "metrics histograms: %s", metrics_histograms_name(o->http.metrics.histograms));
	for (unsigned int i = 0; i < o->http.metrics.nr_full; i++)
		fprintf(f, ", full for %s", o->http.metrics.full[i]);
	fputc('\n', f);
}

static int set_idle_read(struct run_options *o, const char *v, char *err, size_t len)
{
	if (!strcmp(v, "0")) {	/* "0" alone turns it off */
		o->agent.idle_read_ns = 0;
		return 0;
	}
	if (cgsnap_parse_duration(v, &o->agent.idle_read_ns))
		return expect(err, len, "a duration with a unit (e.g. 10s, 1m), or 0 to read every "
			      "cgroup at every tick");
	return 0;
}

static void show_idle_read(const struct run_options *o, FILE *f)
{
	char v[64];

	if (o->agent.idle_read_ns <= 0) {
		fprintf(f, "idle cgroups: read at every tick\n");
		return;
	}
	format_duration(o->agent.idle_read_ns, v, sizeof(v));
	fprintf(f, "idle cgroups: CPU usage kept, memory read every %s\n", v);
}

static int set_cpu_from(struct run_options *o, const char *v, char *err, size_t len)
{
	if (!strcmp(v, "kernel"))
		o->agent.cpu_from_cgroupfs = false;
	else if (!strcmp(v, "cgroupfs"))
		o->agent.cpu_from_cgroupfs = true;
	else
		return expect(err, len, "kernel or cgroupfs");
	return 0;
}

static void show_cpu_from(const struct run_options *o, FILE *f)
{
	fprintf(f, "CPU usage from: %s\n", o->agent.cpu_from_cgroupfs ?
		"cgroupfs (cpu.stat, cpuacct)" : "the kernel side's charges (cpu.stat where "
		"a run may have gone uncounted)");
}

static int set_rescan(struct run_options *o, const char *v, char *err, size_t len)
{
	if (cgsnap_parse_duration(v, &o->agent.rescan_ns) || o->agent.rescan_ns < CGSNAP_NSEC_PER_SEC)
		return expect(err, len, "a duration of at least 1s (e.g. 30s, 5m)");
	return 0;
}

static void show_rescan(const struct run_options *o, FILE *f)
{
	char v[64];

	format_duration(o->agent.rescan_ns, v, sizeof(v));
	fprintf(f, "tree scans: every %s (the kernel tells creations and removals between "
		"them)\n", v);
}

static int set_max_cgroups(struct run_options *o, const char *v, char *err, size_t len)
{
	long n;

	if (parse_long(v, 1, CGSNAP_MAX_SLOTS, &n))
		return expect(err, len, "an integer from 1 to 1048576");
	o->agent.max_cgroups = n;
	return 0;
}

static void show_max_cgroups(const struct run_options *o, FILE *f)
{
	if (o->agent.max_cgroups)
		fprintf(f, "max cgroups: %u\n", o->agent.max_cgroups);
	else
		fprintf(f, "max cgroups: the cgroups there are at start, a quarter more and 512, "
			"in steps of %u\n", CGSNAP_MIN_SLOTS);
}

static int set_max_depth(struct run_options *o, const char *v, char *err, size_t len)
{
	long n;

	if (parse_long(v, 1, CGSNAP_MAX_LEVEL - 1, &n))
		return expect(err, len, "an integer from 1 to 255");
	o->agent.max_depth = n;
	return 0;
}

static void show_max_depth(const struct run_options *o, FILE *f)
{
	fprintf(f, "max depth: %u (deeper cgroups count in their ancestor there)\n",
		o->agent.max_depth);
}

static int set_psi_triggers(struct run_options *o, const char *v, char *err, size_t len)
{
	long n;

	if (parse_long(v, 0, 4096, &n))
		return expect(err, len, "an integer from 0 to 4096");
	o->agent.psi_triggers = n;
	return 0;
}

static void show_fast(const struct run_options *o, FILE *f)
{
	if (!o->agent.settings.fast) {
		fprintf(f, "fast mode: no\n");
		return;
	}
	fprintf(f, "fast mode: waits in progress counted, a wait over %.0f ms read at once, PSI "
		"triggers on at most %u cgroups\n", o->agent.settings.max_runq_delay_ns / 1e6,
		o->agent.psi_triggers);
}

static int set_events_max(struct run_options *o, const char *v, char *err, size_t len)
{
	long n;

	if (parse_long(v, 1, 4096, &n))
		return expect(err, len, "an integer from 1 to 4096");
	o->http.events_max = n;
	return 0;
}

static int set_noop(struct run_options *o, const char *v, char *err, size_t len)
{
	return 0;	/* --config: read before the other flags (run.c) */
}

static int set_verbose(struct run_options *o, const char *v, char *err, size_t len)
{
	o->verbosity++;
	return 0;
}

static int set_quiet(struct run_options *o, const char *v, char *err, size_t len)
{
	o->quiet = true;
	return 0;
}

static int set_check(struct run_options *o, const char *v, char *err, size_t len)
{
	o->check = true;
	return 0;
}

/* Kubernetes */

static int set_kubelet_insecure(struct run_options *o, const char *v, char *err, size_t len)
{
	o->k8s.insecure_tls = is_true(v);
	return 0;
}

static int set_kubelet_interval(struct run_options *o, const char *v, char *err, size_t len)
{
	if (cgsnap_parse_duration(v, &o->k8s.interval_ns) || o->k8s.interval_ns < K8S_MIN_INTERVAL_NS)
		return expect(err, len, "a duration of at least 1s (e.g. 10s, 1m)");
	return 0;
}

static int set_kubelet_max_pods(struct run_options *o, const char *v, char *err, size_t len)
{
	long n;

	if (parse_long(v, 1, 1000000, &n))
		return expect(err, len, "an integer from 1 to 1000000");
	o->k8s.max_pods = n;
	return 0;
}

static int set_pod_label(struct run_options *o, const char *v, char *err, size_t len)
{
	struct k8s_label_keys *lk = &o->k8s.labels;

	for (unsigned int i = 0; i < lk->n; i++)
		if (!strcmp(lk->keys[i], v))
			return 0;
	if (strpbrk(v, " \t\r\n\"=,{}") || k8s_label_keys_add(lk, v) == -EINVAL)
		return expect(err, len, "a label key (no blanks, quotes, '=', ',' or braces)");
	return 0;
}

static int set_pod_from_env(struct run_options *o, const char *v, char *err, size_t len)
{
	o->k8s.pod_from_env = is_true(v);
	return 0;
}

static void show_pods(const struct run_options *o, FILE *f)
{
	const struct k8s_opts *k = &o->k8s;
	unsigned int i;

	if (k->pod_from_env) {
		fprintf(f, "pods: this pod, from POD_NAME, POD_NAMESPACE, POD_UID%s\n",
			o->agent.nr_cgroups || o->agent.watch_all || o->nr_pids ? "" :
			" (watching its cgroup, found by its UID)");
		return;
	}
	if (!k->kubelet_url) {
		fprintf(f, "pods: from cgroup paths only\n");
		return;
	}
	fprintf(f, "pods: from the kubelet at %s, every %.0f s, at most %u\n", k->kubelet_url,
		k->interval_ns / 1e9, k->max_pods ? k->max_pods : K8S_DEFAULT_MAX_PODS);
	fprintf(f, "kubelet token file: %s\nkubelet tls: %s\n",
		k->token_file ? k->token_file : "none",
		k->insecure_tls ? "not checked (insecure)" : k->ca_file ? k->ca_file :
		"the system's CAs");
	fprintf(f, "pod labels:");
	for (i = 0; i < k->labels.n; i++)
		fprintf(f, " %s (as %s)", k->labels.keys[i], k->labels.names[i]);
	fprintf(f, "%s\n", k->labels.n ? "" : " none");
}

#define G_WATCH	1
#define G_IFACE	2
#define G_K8S	3

static const struct run_opt table[] = {
	{ "cgroup", 'c', "PATH", 0, "cgroups", J_STR | J_LIST, G_WATCH,
	  "Watch this cgroup (with its descendants); PATH is relative to the cgroup v2 mount. "
	  "Repeatable", set_cgroup, show_watch },
	{ "pid", 'p', "PID", 0, "pids", J_INT | J_LIST, G_WATCH,
	  "Watch the cgroup of this process. Repeatable", set_pid, NULL },
	{ "all", RUN_OPT_ALL, "PATH", OPTION_ARG_OPTIONAL, "all", J_STR, G_WATCH,
	  "Watch every cgroup under PATH (default: the whole hierarchy), following creation and "
	  "removal", set_all, NULL },
	{ "listen", 0, "ADDR:PORT", 0, "listen", J_STR, G_IFACE,
	  "Serve /metrics and the JSON API here (default " HTTP_DEFAULT_LISTEN "; loopback "
	  "unless another address is given)", set_listen, show_listen },
	{ "pin", RUN_OPT_PIN, "DIR", OPTION_ARG_OPTIONAL, "pin", J_STR, G_IFACE,
	  "Pin maps and links under DIR (default " DEFAULT_PIN_DIR ") and leave them there at "
	  "exit; a restarted cgsnap reuses them and keeps counting", set_pin, show_pin },
	{ "events-max-subscribers", 0, "N", 0, "events_max_subscribers", J_INT, G_IFACE,
	  "Clients GET /v1/events may have open at once (default 64); more are answered 503",
	  set_events_max, NULL },
	{ "record", 0, "FILE", 0, "record", J_STR, G_IFACE,
	  "Append every snapshot to FILE as the JSON Lines cgsnap replay reads", set_record,
	  show_record },
	{ "token-file", 0, "FILE", 0, "token_file", J_STR, G_IFACE,
	  "Writes (POST) need 'Authorization: Bearer TOKEN' with the token in FILE, read again "
	  "when it changes. Without it, writes are allowed on loopback only", set_token_file,
	  show_http },
	{ "auth", 0, "writes|all", 0, "auth", J_STR, G_IFACE,
	  "What the token guards: writes (default), or all routes but /healthz", set_auth, NULL },
	{ "tls-cert", 0, "FILE", 0, "tls_cert", J_STR, G_IFACE,
	  "Serve HTTPS with this PEM certificate (chain)", set_tls_cert, NULL },
	{ "tls-key", 0, "FILE", 0, "tls_key", J_STR, G_IFACE, "... and this PEM private key",
	  set_tls_key, NULL },
	{ "metrics-histograms", 0, "MODE", 0, "metrics_histograms", J_STR, G_IFACE,
	  "Histogram buckets on /metrics: coarse (11, 4 us to 4 s; the default), full (28, "
	  "one per power of two) or none", set_histograms, show_histograms },
	{ "metrics-full-histograms", 0, "GLOB", 0, "metrics_full_histograms", J_STR | J_LIST,
	  G_IFACE, "Full histograms for the cgroups whose path (with its leading /) matches GLOB, "
	  "e.g. '/kubepods.slice/*'; repeatable", set_full_histograms, NULL },
	{ "idle-read-interval", 0, "DURATION", 0, "idle_read_interval", J_STR, G_IFACE,
	  "A cgroup none of whose tasks ran since its last reading keeps its CPU usage (it "
	  "cannot have moved) and has its memory read this often (default 10s; 0: read every "
	  "cgroup at every system tick)", set_idle_read, show_idle_read },
	{ "cpu-usage-from", 0, "SOURCE", 0, "cpu_usage_from", J_STR, G_IFACE,
	  "kernel (default): each cgroup's CPU time as the switch program charges it, "
	  "no cgroupfs read per cgroup; cgroupfs: read cpu.stat (cpuacct) at every tick",
	  set_cpu_from, show_cpu_from },
	{ "rescan-interval", 0, "DURATION", 0, "rescan_interval", J_STR, G_IFACE,
	  "Scan the watched trees again this often (default 30s), the safety net for a "
	  "creation or removal the kernel could not tell (a scan comes sooner after one)",
	  set_rescan, show_rescan },
	{ "max-cgroups", 0, "N", 0, "max_cgroups", J_INT, G_IFACE, OPT_MAX_CGROUPS_DOC,
	  set_max_cgroups, show_max_cgroups },
	{ "max-depth", 0, "N", 0, "max_depth", J_INT, G_IFACE,
	  "Cgroups deeper than N levels below the v2 root (default 32) are not watched on "
	  "their own: their tasks count in their ancestor at level N, and a warning says so",
	  set_max_depth, show_max_depth },
	{ "psi-triggers", 0, "N", 0, "psi_triggers", J_INT, G_IFACE,
	  "--fast: PSI triggers on at most N cgroups (default 16; each costs the kernel a "
	  "thread); under --all, Kubernetes pods only; 0: none", set_psi_triggers, show_fast },
	{ "config", RUN_OPT_CONFIG, "FILE", 0, NULL, 0, G_IFACE,
	  "Read settings and options from a JSON file (docs/RUN.md); flags override it", set_noop,
	  NULL },
	{ "verbose", 'v', NULL, 0, NULL, 0, G_IFACE, "Log more (debug); twice: libbpf's messages too",
	  set_verbose, NULL },
	{ "quiet", 0, NULL, 0, NULL, 0, G_IFACE, "Log warnings only", set_quiet, NULL },
	{ "check", 0, NULL, 0, NULL, 0, G_IFACE,
	  "Check the options and config file, print the effective settings, and exit", set_check,
	  NULL },
	{ "kubelet-url", 0, "URL", 0, "kubelet_url", J_STR, G_K8S,
	  "Name pods, containers and workloads from the kubelet's GET /pods, e.g. "
	  "https://$(NODE_IP):10250", set_kubelet_url, show_pods },
	{ "kubelet-token-file", 0, "FILE", 0, "kubelet_token_file", J_STR, G_K8S,
	  "Bearer token for the kubelet, read for every request (default " KUBELET_DEFAULT_TOKEN
	  " when it exists)", set_kubelet_token, NULL },
	{ "kubelet-ca-file", 0, "FILE", 0, "kubelet_ca_file", J_STR, G_K8S,
	  "Check the kubelet's certificate against this CA (default: the system's CAs)",
	  set_kubelet_ca, NULL },
	{ "kubelet-insecure-tls", 0, NULL, 0, "kubelet_insecure_tls", J_BOOL, G_K8S,
	  "Do not check the kubelet's certificate at all", set_kubelet_insecure, NULL },
	{ "kubelet-interval", 0, "DURATION", 0, "kubelet_interval", J_STR, G_K8S,
	  "Refresh the pod list this often (default 10s, at least 1s); a new pod's cgroup "
	  "refreshes it sooner", set_kubelet_interval, NULL },
	{ "kubelet-max-pods", 0, "N", 0, "kubelet_max_pods", J_INT, G_K8S,
	  "Keep at most N pods of the kubelet's list (default 1000; a node runs a few hundred at "
	  "most); the others are named by their cgroup paths only, and a warning says so",
	  set_kubelet_max_pods, NULL },
	{ "pod-label", 0, "KEY", 0, "pod_labels", J_STR | J_LIST, G_K8S,
	  "Carry this pod label on the series of its cgroups as label_KEY (non-alphanumerics as "
	  "_). Repeatable", set_pod_label, NULL },
	{ "pod-from-env", 0, NULL, 0, "pod_from_env", J_BOOL, G_K8S,
	  "Sidecar: this pod's names from POD_NAME, POD_NAMESPACE, POD_UID (the downward API) "
	  "and optionally WORKLOAD_KIND, WORKLOAD_NAME; without --cgroup, watch the pod's cgroup, "
	  "found by its UID", set_pod_from_env, NULL },
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

static const char *const group_titles[] = {
	[G_WATCH] = "What to watch (default: --all, every cgroup):",
	[G_IFACE] = "Interfaces and lifecycle:",
	[G_K8S] = "Kubernetes (docs/KUBERNETES.md):",
};

static int key_of(size_t i)
{
	return table[i].key ? table[i].key : RUN_OPT_FIRST_PLAIN + (int)i;
}

void run_options_init(struct run_options *o)
{
	memset(o, 0, sizeof(*o));
	cgsnap_settings__init(&o->agent.settings);
	o->agent.idle_read_ns = AGENT_IDLE_READ_DEFAULT_NS;
	o->agent.max_depth = CGSNAP_MAX_LEVEL_DEFAULT;
	o->agent.rescan_ns = AGENT_RESCAN_DEFAULT_NS;
	o->agent.psi_triggers = 16;
	o->http.events_max = EVENTS_DEFAULT_SUBSCRIBERS;
}

void run_options_free(struct run_options *o)
{
	agent_opts_free(&o->agent);
	metrics_opts_free(&o->http.metrics);
	k8s_label_keys_free(&o->k8s.labels);
	free(o->pids);
	o->pids = NULL;
	json_decref(o->config);
	o->config = NULL;
}

struct argp_option *run_argp_options(void)
{
	struct argp_option base[TABLE_LEN + 4] = {}, *o = base;
	int g;

	for (g = G_WATCH; g <= G_K8S; g++) {
		*o++ = (struct argp_option){ .doc = group_titles[g], .group = g };
		for (size_t i = 0; i < TABLE_LEN; i++)
			if (table[i].group == g)
				*o++ = (struct argp_option){ .name = table[i].flag, .key = key_of(i),
							     .arg = table[i].arg,
							     .flags = table[i].argp_flags,
							     .doc = table[i].doc, .group = g };
	}
	return setting_options_new(base, SETTING_RUN, "Snapshotter settings (docs/SPEC.md):",
				   G_K8S + 1);
}

static int apply_arg(struct argp_state *state, size_t i, char *arg, struct run_options *o)
{
	char err[256];
	int ret = table[i].set(o, arg, err, sizeof(err));

	if (ret == -EINVAL)
		argp_error(state, "invalid --%s '%s': %s", table[i].flag, arg ? arg : "", err);
	return ret ? EINVAL : 0;
}

int run_option_parse(int key, char *arg, struct argp_state *state, struct run_options *o)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (key_of(i) == key) {
			apply_arg(state, i, arg, o);
			return 1;
		}
	return 0;
}

const struct run_opt *run_opt_by_config(const char *key)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (table[i].config && !strcmp(table[i].config, key))
			return &table[i];
	return NULL;
}

void run_options_print(const struct run_options *o, FILE *f)
{
	char v[64];

	for (size_t i = 0; i < TABLE_LEN; i++)
		if (table[i].show)
			table[i].show(o, f);
	for (size_t k = 0; k < settings_table_len; k++) {
		setting_format(&settings_table[k], &o->agent.settings, v, sizeof(v));
		fprintf(f, "%s: %s\n", settings_table[k].name, v);
	}
}
