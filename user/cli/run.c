// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap run: the privileged sidecar / node agent. */
#include <argp.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <curl/curl.h>

#include "commands.h"
#include "agent.h"
#include "cgroupfs.h"
#include "config.h"
#include "http.h"
#include "kubelet.h"
#include "options.h"
#include "opts.h"
#include "record.h"
#include "report.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/cgsnap"

enum { LOG_WARN, LOG_INFO, LOG_DEBUG };

struct run_args {
	struct run_options o;
	int verbosity;
	bool quiet;
	int pending;		/* --pin or --all given bare: the next argument may be theirs */
	bool check;
};

struct run {
	struct run_args *args;
	struct agent *ag;
	struct http_server *srv;
	struct record *record;
	struct k8s_pods *pods;		/* with a pod source */
	struct kubelet *kubelet;	/* with --kubelet-url */
};

static int verbosity = LOG_INFO;

__attribute__((format(printf, 2, 3)))
static void logmsg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "warning", "info", "debug" };
	va_list ap;

	if (level > verbosity)
		return;
	/* one line at a time: the kubelet thread logs too */
	flockfile(stderr);
	fprintf(stderr, "cgsnap: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

static void kubelet_log(int level, const char *msg)
{
	logmsg(level == KUBELET_LOG_WARN ? LOG_WARN : level == KUBELET_LOG_INFO ? LOG_INFO :
	       LOG_DEBUG, "%s", msg);
}

enum {
	OPT_CONFIG = 0x100,
	OPT_LISTEN,
	OPT_PIN,
	OPT_RECORD,
	OPT_ALL,
	OPT_MAX_CGROUPS,
	OPT_QUIET,
	OPT_CHECK,
	OPT_TOKEN_FILE,
	OPT_AUTH,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_METRICS_HISTOGRAMS,
	OPT_METRICS_FULL,
	OPT_KUBELET_URL,
	OPT_KUBELET_TOKEN,
	OPT_KUBELET_CA,
	OPT_KUBELET_INSECURE,
	OPT_KUBELET_INTERVAL,
	OPT_POD_LABEL,
	OPT_POD_FROM_ENV,
	OPT_IDLE_READ,
};

static const struct argp_option base_options[] = {
	{ NULL, 0, NULL, 0, "What to watch (default: --all, every cgroup):", 1 },
	{ "cgroup", 'c', "PATH", 0,
	  "Watch this cgroup (with its descendants); PATH is relative to the cgroup v2 mount. "
	  "Repeatable", 1 },
	{ "pid", 'p', "PID", 0, "Watch the cgroup of this process. Repeatable", 1 },
	{ "all", OPT_ALL, "PATH", OPTION_ARG_OPTIONAL,
	  "Watch every cgroup under PATH (default: the whole hierarchy), following creation and "
	  "removal", 1 },
	{ NULL, 0, NULL, 0, "Interfaces and lifecycle:", 2 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0,
	  "Serve /metrics and the JSON API here (default " HTTP_DEFAULT_LISTEN "; loopback "
	  "unless another address is given)", 2 },
	{ "pin", OPT_PIN, "DIR", OPTION_ARG_OPTIONAL,
	  "Pin maps and links under DIR (default " DEFAULT_PIN_DIR ") and leave them there at "
	  "exit; a restarted cgsnap reuses them and keeps counting", 2 },
	{ "token-file", OPT_TOKEN_FILE, "FILE", 0,
	  "Writes (POST) need 'Authorization: Bearer TOKEN' with the token in FILE, read again "
	  "when it changes. Without it, writes are allowed on loopback only", 2 },
	{ "auth", OPT_AUTH, "writes|all", 0,
	  "What the token guards: writes (default), or all routes but /healthz", 2 },
	{ "tls-cert", OPT_TLS_CERT, "FILE", 0, "Serve HTTPS with this PEM certificate (chain)", 2 },
	{ "tls-key", OPT_TLS_KEY, "FILE", 0, "... and this PEM private key", 2 },
	{ "metrics-histograms", OPT_METRICS_HISTOGRAMS, "MODE", 0,
	  "Histogram buckets on /metrics: coarse (11, 4 us to 4 s; the default), full (28, "
	  "one per power of two) or none", 2 },
	{ "metrics-full-histograms", OPT_METRICS_FULL, "GLOB", 0,
	  "Full histograms for the cgroups whose path (with its leading /) matches GLOB, "
	  "e.g. '/kubepods.slice/*'; repeatable", 2 },
	{ "record", OPT_RECORD, "FILE", 0,
	  "Append every snapshot to FILE as the JSON Lines cgsnap replay reads", 2 },
	{ "idle-read-interval", OPT_IDLE_READ, "DURATION", 0,
	  "A cgroup none of whose tasks ran since its last reading keeps its CPU usage (it "
	  "cannot have moved) and has its memory read this often (default 10s; 0: read every "
	  "cgroup at every system tick)", 2 },
	{ "config", OPT_CONFIG, "FILE", 0,
	  "Read settings and options from a JSON file (docs/RUN.md); flags override it", 2 },
	{ "max-cgroups", OPT_MAX_CGROUPS, "N", 0, OPT_MAX_CGROUPS_DOC, 2 },
	{ "verbose", 'v', NULL, 0, "Log more (debug); twice: libbpf's messages too", 2 },
	{ "quiet", OPT_QUIET, NULL, 0, "Log warnings only", 2 },
	{ "check", OPT_CHECK, NULL, 0,
	  "Check the options and config file, print the effective settings, and exit", 2 },
	{ NULL, 0, NULL, 0, "Kubernetes (docs/KUBERNETES.md):", 3 },
	{ "kubelet-url", OPT_KUBELET_URL, "URL", 0,
	  "Name pods, containers and workloads from the kubelet's GET /pods, e.g. "
	  "https://$(NODE_IP):10250", 3 },
	{ "kubelet-token-file", OPT_KUBELET_TOKEN, "FILE", 0,
	  "Bearer token for the kubelet, read for every request (default "
	  KUBELET_DEFAULT_TOKEN " when it exists)", 3 },
	{ "kubelet-ca-file", OPT_KUBELET_CA, "FILE", 0,
	  "Check the kubelet's certificate against this CA (default: the system's CAs)", 3 },
	{ "kubelet-insecure-tls", OPT_KUBELET_INSECURE, NULL, 0,
	  "Do not check the kubelet's certificate at all", 3 },
	{ "kubelet-interval", OPT_KUBELET_INTERVAL, "DURATION", 0,
	  "Refresh the pod list this often (default 10s, at least 1s); a new pod's cgroup "
	  "refreshes it sooner", 3 },
	{ "pod-label", OPT_POD_LABEL, "KEY", 0,
	  "Carry this pod label on the series of its cgroups as label_KEY (non-alphanumerics as "
	  "_). Repeatable", 3 },
	{ "pod-from-env", OPT_POD_FROM_ENV, NULL, 0,
	  "Sidecar: this pod's names from POD_NAME, POD_NAMESPACE, POD_UID (the downward API) "
	  "and optionally WORKLOAD_KIND, WORKLOAD_NAME; without --cgroup, watch the pod's cgroup, "
	  "found by its UID", 3 },
	{},
};

static error_t run_parse(int key, char *arg, struct argp_state *state)
{
	struct run_args *a = state->input;
	struct run_options *o = &a->o;
	long n;

	if (key == ARGP_KEY_ARG && a->pending) {
		/* "--pin DIR" and "--all PATH", as well as --pin=DIR and --all=PATH */
		bool pin = a->pending == OPT_PIN;

		a->pending = 0;
		if (pin) {
			o->pin_dir = arg;
			return 0;
		}
		o->agent.all_root = arg;
		return opt_cgroup_root(state, arg);
	}
	if (key != ARGP_KEY_END && key != ARGP_KEY_FINI && key != ARGP_KEY_SUCCESS &&
	    key != ARGP_KEY_INIT && key != ARGP_KEY_NO_ARGS)
		a->pending = 0;
	if (setting_option_parse(key, arg, state, &o->agent.settings))
		return 0;
	switch (key) {
	case 'c':
		return opt_cgroup(state, &o->agent, arg);
	case 'p':
		if (opt_long(state, arg, 1, INT32_MAX, &n))
			return EINVAL;
		return run_options_add_pid(o, n) ? ENOMEM : 0;
	case OPT_ALL:
		o->agent.watch_all = true;
		o->agent.all_root = arg;
		a->pending = arg ? 0 : OPT_ALL;
		return opt_cgroup_root(state, arg);
	case OPT_LISTEN:
		o->http.listen = arg;
		return 0;
	case OPT_PIN:
		o->pin = true;
		o->pin_dir = arg ? arg : DEFAULT_PIN_DIR;
		a->pending = arg ? 0 : OPT_PIN;
		return 0;
	case OPT_RECORD:
		o->record = arg;
		return 0;
	case OPT_TOKEN_FILE:
		o->http.token_file = arg;
		return 0;
	case OPT_AUTH:
		if (parse_auth(arg, &o->http.auth_all))
			argp_error(state, "invalid --auth '%s': expected writes or all", arg);
		return 0;
	case OPT_TLS_CERT:
		o->http.tls_cert = arg;
		return 0;
	case OPT_TLS_KEY:
		o->http.tls_key = arg;
		return 0;
	case OPT_METRICS_HISTOGRAMS:
		if (metrics_histograms_parse(arg, &o->http.metrics.histograms))
			argp_error(state, "invalid --metrics-histograms '%s': expected coarse, full "
				   "or none", arg);
		return 0;
	case OPT_METRICS_FULL:
		return metrics_opts_add_full(&o->http.metrics, arg) ? ENOMEM : 0;
	case OPT_KUBELET_URL:
		o->k8s.kubelet_url = arg;
		return 0;
	case OPT_KUBELET_TOKEN:
		o->k8s.token_file = arg;
		return 0;
	case OPT_KUBELET_CA:
		o->k8s.ca_file = arg;
		return 0;
	case OPT_KUBELET_INSECURE:
		o->k8s.insecure_tls = true;
		return 0;
	case OPT_KUBELET_INTERVAL:
		if (parse_kubelet_interval(arg, &o->k8s.interval_ns))
			argp_error(state, "invalid --kubelet-interval '%s': expected a duration of at "
				   "least 1s (e.g. 10s, 1m)", arg);
		return 0;
	case OPT_POD_LABEL: {
		int err = parse_pod_label(arg, &o->k8s);

		if (err == -EINVAL)
			argp_error(state, "invalid --pod-label '%s': expected a label key (no blanks, "
				   "quotes, '=', ',' or braces)", arg);
		return err ? ENOMEM : 0;
	}
	case OPT_POD_FROM_ENV:
		o->k8s.pod_from_env = true;
		return 0;
	case OPT_CONFIG:
		return 0;	/* read before the flags, see load_config() */
	case OPT_MAX_CGROUPS:
		return opt_max_cgroups(state, arg, &o->agent.max_cgroups);
	case OPT_IDLE_READ:
		if (parse_idle_read_interval(arg, &o->agent.idle_read_ns))
			argp_error(state, "invalid --idle-read-interval '%s': expected a duration "
				   "with a unit (e.g. 10s, 1m), or 0 to read every cgroup at every "
				   "tick", arg);
		return 0;
	case 'v':
		a->verbosity++;
		return 0;
	case OPT_QUIET:
		a->quiet = true;
		return 0;
	case OPT_CHECK:
		a->check = true;
		return 0;
	default:
		return opt_no_args(key, arg, state);
	}
}

static const char run_doc[] =
	"Watch cgroups and keep, for each, the snapshotter of docs/SPEC.md: cpu, memory, "
	"run-queue delay and client-error snapshots, their overload ratios and the idle verdict. "
	"Serve them as Prometheus metrics and a JSON API, and log verdict changes.\v"
	"HTTP: GET /metrics, /healthz, /v1/cgroups, /v1/cgroups/{path-or-id}/status, "
	".../samples?kind=K&duration=D, .../scale?current=N; POST .../client-errors "
	"{\"retry\":N,\"count\":K}; with --kubelet-url or --pod-from-env, /v1/pods/{ns}/{pod}/"
	"status and /scale, /v1/workloads/{ns}/{kind}/{name}/scale (docs/API.md, "
	"docs/KUBERNETES.md).\n"
	"Needs root, or CAP_BPF, CAP_PERFMON (and CAP_SYS_ADMIN to mount bpffs for --pin); "
	"drops every capability once the programs are attached. SIGINT or SIGTERM stop it: "
	"without --pin nothing is left behind.\n"
	"Exit status: 0 after a signal, 1 on failure, 2 for bad options or configuration.";

/* --config is read first, so that the flags override it */
static int load_config(struct run_args *a, int argc, char **argv)
{
	const char *path = NULL;
	char err[768];
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	if (!path)
		return 0;
	ret = config_load(path, &a->o, err, sizeof(err));
	if (ret)
		report("%s", err);
	return ret;
}

/* --pid: the v2 cgroup of each process */
static int resolve_pids(struct run_options *o)
{
	char path[4096];
	unsigned int i;
	int err;

	for (i = 0; i < o->nr_pids; i++) {
		err = cgroup_of_pid("/proc", o->pids[i], path, sizeof(path));
		if (err) {
			report("cannot find the cgroup of process %d: %s", o->pids[i],
			       err == -ESRCH ? "no such process" : strerror(-err));
			return err;
		}
		err = agent_opts_add_cgroup(&o->agent, path);
		if (err) {
			report_err(err, "cannot watch process %d", o->pids[i]);
			return err;
		}
	}
	return 0;
}

static void log_verdict(const struct agent_event *ev)
{
	char why[256];

	if (ev->verdict == VERDICT_IDLE) {
		if (ev->previous != VERDICT_NONE)
			logmsg(LOG_INFO, "cgroup /%s: idle", ev->path);
		return;
	}
	policy_explain(ev->status, why, sizeof(why));
	logmsg(LOG_INFO, "cgroup /%s: OVERLOADED (%s)", ev->path, why);
}

/* one line for a removed cgroup: its last verdict and what it went through */
static void log_gone(const struct agent_event *ev)
{
	char why[256] = "";
	const char *verdict = "no verdict yet";
	uint64_t stalls = 0;
	int i;

	if (ev->verdict == VERDICT_OVERLOADED) {
		policy_explain(ev->status, why, sizeof(why));
		verdict = "OVERLOADED";
	} else if (ev->verdict == VERDICT_IDLE) {
		verdict = "idle";
	}
	for (i = 0; ev->mem && i < CGSNAP_RECLAIM_MAX; i++)
		stalls += ev->mem->count[i];
	logmsg(LOG_INFO, "cgroup /%s removed: final verdict %s%s%s%s; %llu run-queue waits "
	       "(%.3f ms in all, longest %.3f ms), %llu reclaim stalls, %llu OOM kills",
	       ev->path, verdict, *why ? " (" : "", why, *why ? ")" : "",
	       (unsigned long long)(ev->runq ? ev->runq->count : 0),
	       ev->runq ? ev->runq->sum_ns / 1e6 : 0.0, ev->runq ? ev->runq->max_ns / 1e6 : 0.0,
	       (unsigned long long)stalls, (unsigned long long)(ev->mem ? ev->mem->oom_kills : 0));
}

static void on_event(const struct agent_event *ev, void *ctx)
{
	const struct cgsnap_memory_warning *mw = ev->warning;
	struct run *r = ctx;

	switch (ev->type) {
	case AGENT_WATCHED: {
		struct k8s_identity k;

		logmsg(ev->started ? LOG_INFO : LOG_DEBUG, "watching /%s (id %llu)", ev->path,
		       (unsigned long long)ev->id);
		/* a new pod's cgroup: the kubelet's list may not have it yet */
		if (r->kubelet && k8s_identify(ev->path, &k) != K8S_NONE)
			kubelet_notice(r->kubelet, k.pod_uid);
		break;
	}
	case AGENT_GONE:
		log_gone(ev);
		break;
	case AGENT_MEMORY_WARNING:
		logmsg(LOG_WARN, "cgroup /%s: memory critically overloaded: %lld of %lld bytes "
		       "(%.1f%% of the budget, warning threshold %lld)", ev->path,
		       (long long)mw->current_bytes, (long long)mw->budget_bytes,
		       100.0 * mw->current_bytes / mw->budget_bytes, (long long)mw->threshold_bytes);
		break;
	case AGENT_SNAPSHOT:
		if (r->record)
			record_snapshot(r->record, ev->path, ev->snap);
		break;
	case AGENT_VERDICT:
		log_verdict(ev);
		break;
	case AGENT_TICK:
		if (r->record)
			record_flush(r->record);
		break;
	}
}

static int check_k8s(struct k8s_opts *k)
{
	char err[512];

	if (k->kubelet_url && kubelet_check_url(k->kubelet_url, err, sizeof(err))) {
		report("%s", err);
		return -EINVAL;
	}
	if (k->kubelet_url && k->pod_from_env) {
		report("--kubelet-url and --pod-from-env exclude each other: a node agent asks the "
		       "kubelet, a sidecar knows its own pod");
		return -EINVAL;
	}
	if (!k->kubelet_url && (k->token_file || k->ca_file || k->insecure_tls ||
				k->interval_ns)) {
		report("--kubelet-token-file, --kubelet-ca-file, --kubelet-insecure-tls and "
		       "--kubelet-interval need --kubelet-url");
		return -EINVAL;
	}
	if (k->ca_file && k->insecure_tls) {
		report("--kubelet-ca-file and --kubelet-insecure-tls exclude each other");
		return -EINVAL;
	}
	if (k->labels.n && !k->kubelet_url) {
		report("--pod-label needs --kubelet-url: pod labels come from the kubelet");
		return -EINVAL;
	}
	if (k->kubelet_url && !k->token_file && !access(KUBELET_DEFAULT_TOKEN, R_OK))
		k->token_file = KUBELET_DEFAULT_TOKEN;
	if (!k->interval_ns)
		k->interval_ns = K8S_DEFAULT_INTERVAL_NS;
	return 0;
}

static int parse(struct run_args *a, int argc, char **argv)
{
	struct argp argp = { .parser = run_parse, .doc = run_doc };
	struct run_options *o = &a->o;
	const char *why;
	int err;

	argp.options = setting_options_new(base_options, SETTING_RUN,
					   "Snapshotter settings (docs/SPEC.md):", 4);
	if (!argp.options) {
		report_err(-ENOMEM, "cannot parse the options");
		return -ENOMEM;
	}
	cgsnap_settings__init(&o->agent.settings);
	o->agent.idle_read_ns = AGENT_IDLE_READ_DEFAULT_NS;
	err = load_config(a, argc, argv);
	/* in order: "--pin DIR" needs DIR right after --pin */
	if (!err && argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, a))
		err = -EINVAL;
	setting_options_free((struct argp_option *)argp.options);
	if (err)
		return err;
	if (cgsnap_settings__validate(&o->agent.settings, &why)) {
		report("%s", why);
		return -EINVAL;
	}
	if (!o->agent.nr_cgroups && !o->nr_pids && !o->k8s.pod_from_env)
		o->agent.watch_all = true;
	if (check_k8s(&o->k8s))
		return -EINVAL;
	verbosity = a->quiet ? LOG_WARN : a->verbosity ? LOG_DEBUG : LOG_INFO;
	o->agent.verbose = a->verbosity > 1;
	o->agent.keep_totals = true;
	o->agent.drop_caps = true;
	o->agent.pin_dir = o->pin ? o->pin_dir : NULL;
	if (!o->http.listen)
		o->http.listen = HTTP_DEFAULT_LISTEN;
	if (o->http.auth_all && !o->http.token_file) {
		report("--auth all needs --token-file");
		return -EINVAL;
	}
	if (!o->http.tls_cert != !o->http.tls_key) {
		report("--tls-cert and --tls-key go together");
		return -EINVAL;
	}
	return 0;
}

static void log_start(struct run *r)
{
	const struct run_options *o = &r->args->o;

	logmsg(LOG_INFO, "watching %u cgroups under %s (%s%s), serving http%s://%s/ (metrics at "
	       "/metrics)", agent__nr_watched(r->ag), agent__v2_root(r->ag),
	       o->agent.watch_all ? "all of " : "", o->agent.watch_all ?
	       (o->agent.all_root ? o->agent.all_root : "the hierarchy") : "the given cgroups",
	       o->http.tls_cert ? "s" : "", o->http.listen);
	logmsg(LOG_INFO, "http: %s", http_describe(r->srv));
	if (o->pin)
		logmsg(LOG_INFO, "%s in %s", agent__pins_reused(r->ag) ?
		       "reusing the pinned maps and attached programs" : "pinned maps and links",
		       o->pin_dir);
}

/* --check: the effective configuration */
static void print_check(const struct run_options *o)
{
	char v[64];
	unsigned int i;
	size_t k;

	printf("watch:");
	if (o->agent.watch_all)
		printf(" all of /%s", o->agent.all_root ? o->agent.all_root : "");
	for (i = 0; i < o->agent.nr_cgroups; i++)
		printf(" %s", o->agent.cgroups[i]);
	for (i = 0; i < o->nr_pids; i++)
		printf(" pid %d", o->pids[i]);
	printf("\nlisten: %s\npin: %s\nrecord: %s\n", o->http.listen, o->pin ? o->pin_dir : "no",
	       o->record ? o->record : "no");
	printf("token file: %s\nauth: %s\ntls: %s\n", o->http.token_file ? o->http.token_file :
	       "no", o->http.auth_all ? "all" : "writes", o->http.tls_cert ? o->http.tls_cert : "no");
	if (o->agent.idle_read_ns > 0) {
		format_duration(o->agent.idle_read_ns, v, sizeof(v));
		printf("idle cgroups: CPU usage kept, memory read every %s\n", v);
	} else
		printf("idle cgroups: read at every tick\n");
	printf("metrics histograms: %s", metrics_histograms_name(o->http.metrics.histograms));
	for (i = 0; i < o->http.metrics.nr_full; i++)
		printf(", full for %s", o->http.metrics.full[i]);
	printf("\n");
	if (o->k8s.kubelet_url) {
		printf("pods: from the kubelet at %s, every %.0f s\n", o->k8s.kubelet_url,
		       o->k8s.interval_ns / 1e9);
		printf("kubelet token file: %s\nkubelet tls: %s\n", o->k8s.token_file ?
		       o->k8s.token_file : "none", o->k8s.insecure_tls ? "not checked (insecure)" :
		       o->k8s.ca_file ? o->k8s.ca_file : "the system's CAs");
		printf("pod labels:");
		for (i = 0; i < o->k8s.labels.n; i++)
			printf(" %s (as %s)", o->k8s.labels.keys[i], o->k8s.labels.names[i]);
		printf("%s\n", o->k8s.labels.n ? "" : " none");
	} else if (o->k8s.pod_from_env) {
		printf("pods: this pod, from POD_NAME, POD_NAMESPACE, POD_UID%s\n",
		       o->agent.nr_cgroups || o->agent.watch_all || o->nr_pids ? "" :
		       " (watching its cgroup, found by its UID)");
	} else {
		printf("pods: from cgroup paths only\n");
	}
	for (k = 0; k < settings_table_len; k++) {
		setting_format(&settings_table[k], &o->agent.settings, v, sizeof(v));
		printf("%s: %s\n", settings_table[k].name, v);
	}
}

/* tell systemd (Type=notify) that we are ready, if it asked */
static void sd_notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
		   offsetof(struct sockaddr_un, sun_path) + strlen(path)) < 0)
		logmsg(LOG_WARN, "cannot notify systemd: %s", strerror(errno));
	close(fd);
}

struct find_pod {
	const char *uid;
	char *path;
	size_t len;
};

static int visit_pod(const char *path, uint64_t id, void *parent, void **self, void *ctx)
{
	struct find_pod *fp = ctx;
	struct k8s_identity k;

	if (k8s_identify(path, &k) != K8S_POD || strcmp(k.pod_uid, fp->uid))
		return 0;
	snprintf(fp->path, fp->len, "%s", path);
	return 1;
}

/* --pod-from-env: this pod's names, and its cgroup unless told what to watch */
static int pod_from_env(struct run_options *o, struct k8s_pods *pods)
{
	struct cgroup_layout l;
	struct k8s_podlist *pl;
	char err[512], path[4096];
	struct find_pod fp = { .path = path, .len = sizeof(path) };
	int ret;

	ret = k8s_podlist_from_env(getenv, &o->k8s.labels, &pl, err, sizeof(err));
	if (ret) {
		report("%s", ret == -ENOMEM ? "out of memory" : err);
		return ret;
	}
	fp.uid = pl->pods[0].uid;
	k8s_pods_set(pods, pl);
	if (o->agent.nr_cgroups || o->agent.watch_all || o->nr_pids)
		return 0;
	ret = cgroup_layout_detect(&l, "/proc/self/mountinfo");
	if (ret) {
		report("no cgroup v2 hierarchy is mounted: cgsnap needs one");
		return ret;
	}
	ret = cgroup_walk(l.v2, visit_pod, &fp);
	if (ret != 1) {
		report("--pod-from-env: no cgroup of pod %s under %s (is the host's cgroup "
		       "hierarchy mounted there?)", fp.uid, l.v2);
		return -ENOENT;
	}
	logmsg(LOG_INFO, "pod %s/%s: its cgroup is /%s", getenv("POD_NAMESPACE"),
	       getenv("POD_NAME"), path);
	ret = agent_opts_add_cgroup(&o->agent, path);
	if (ret)
		report_err(ret, "cannot watch /%s", path);
	return ret;
}

/* the pod names' source: the kubelet's list, or this pod's environment */
static int start_k8s(struct run *r)
{
	struct run_options *o = &r->args->o;
	struct kubelet_opts ko = {
		.url = o->k8s.kubelet_url,
		.token_file = o->k8s.token_file,
		.ca_file = o->k8s.ca_file,
		.insecure_tls = o->k8s.insecure_tls,
		.interval_ns = o->k8s.interval_ns,
		.log = kubelet_log,
	};
	char err[512];

	if (!o->k8s.kubelet_url && !o->k8s.pod_from_env)
		return 0;
	r->pods = k8s_pods_new(&o->k8s.labels);
	if (!r->pods) {
		report_err(-ENOMEM, "cannot start");
		return -ENOMEM;
	}
	o->http.pods = r->pods;
	if (o->k8s.pod_from_env)
		return pod_from_env(o, r->pods);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		report("cannot initialise libcurl");
		return -EIO;
	}
	r->kubelet = kubelet_start(&ko, r->pods, err, sizeof(err));
	if (!r->kubelet) {
		report("%s", err);
		return -EINVAL;
	}
	o->http.kubelet = r->kubelet;
	return 0;
}

static void stop_k8s(struct run *r)
{
	if (r->kubelet) {
		kubelet_stop(r->kubelet);
		curl_global_cleanup();
	}
	k8s_pods_free(r->pods);
}

/* open the agent and its interfaces, run until a signal */
static int serve(struct run *r)
{
	const struct run_options *o = &r->args->o;
	char err[512];
	int ret;

	r->ag = agent__open(&o->agent);
	if (!r->ag)
		return -errno;
	r->srv = http_start(&o->http, r->ag, err, sizeof(err));
	if (!r->srv) {
		report("%s", err);
		return -EADDRINUSE;
	}
	agent_handle_signals();
	ret = agent__start(r->ag, agent_now());
	if (!ret) {
		log_start(r);
		sd_notify_ready();
		ret = agent__run(r->ag, INT64_MAX);
		logmsg(LOG_INFO, "stopping%s", o->pin ? ": maps and links stay pinned" : "");
	}
	http_stop(r->srv);
	r->srv = NULL;
	return ret;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = {};
	struct run r = { .args = &a };
	int ret = 0;

	/* A fixed threshold: glibc raises it after a large block is freed, and
	 * then keeps every later scrape buffer in the heap for good. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	a.o.agent.on_event = on_event;
	a.o.agent.ctx = &r;
	if (parse(&a, argc, argv)) {
		ret = 2;
		goto out;
	}
	if (a.check) {
		print_check(&a.o);
		goto out;
	}
	if (resolve_pids(&a.o) || start_k8s(&r)) {
		ret = 1;
		goto out;
	}
	if (a.o.record) {
		r.record = record_open(a.o.record);
		if (!r.record) {
			report_err(-errno, "cannot open %s", a.o.record);
			ret = 1;
			goto out;
		}
	}
	ret = serve(&r) ? 1 : 0;
	agent__close(r.ag);
	if (record_close(r.record))
		ret = 1;
out:
	stop_k8s(&r);
	run_options_free(&a.o);
	return ret;
}
