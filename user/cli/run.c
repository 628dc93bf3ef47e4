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

#include "clock.h"
#include "commands.h"
#include "escape.h"
#include "events.h"
#include "agent.h"
#include "cgroupfs.h"
#include "http.h"
#include "kubelet.h"
#include "options.h"
#include "opts.h"
#include "record.h"
#include "report.h"
#include "run_options.h"
#include "walk.h"


struct run_args {
	struct run_options o;
	int pending;		/* --pin or --all given bare: the next argument may be theirs */
};

struct run {
	struct run_args *args;
	struct agent *ag;
	struct http_server *srv;
	struct record *record;
	struct k8s_pods *pods;		/* with a pod source */
	struct kubelet *kubelet;	/* with --kubelet-url */
	struct events *events;		/* GET /v1/events */
};

static void kubelet_log(int level, const char *msg)
{
	report_log(level == KUBELET_LOG_WARN ? REPORT_WARN :
		   level == KUBELET_LOG_INFO ? REPORT_INFO : REPORT_DEBUG, "%s", msg);
}

static error_t run_parse(int key, char *arg, struct argp_state *state)
{
	struct run_args *a = state->input;
	int pending = a->pending;

	if (key != ARGP_KEY_END && key != ARGP_KEY_FINI && key != ARGP_KEY_SUCCESS &&
	    key != ARGP_KEY_INIT && key != ARGP_KEY_NO_ARGS)
		a->pending = 0;
	/* "--pin DIR" and "--all PATH", as well as --pin=DIR and --all=PATH */
	if (key == ARGP_KEY_ARG && pending) {
		run_option_parse(pending, arg, state, &a->o);
		return 0;
	}
	if (setting_option_parse(key, arg, state, &a->o.agent.settings))
		return 0;
	if (run_option_parse(key, arg, state, &a->o)) {
		if ((key == RUN_OPT_PIN || key == RUN_OPT_ALL) && !arg)
			a->pending = key;
		return 0;
	}
	return opt_no_args(key, arg, state);
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
			report_log(REPORT_INFO, "cgroup /%s: idle", ev->path);
		return;
	}
	policy_explain(ev->status, why, sizeof(why));
	report_log(REPORT_INFO, "cgroup /%s: OVERLOADED (%s)", ev->path, why);
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
	report_log(REPORT_INFO, "cgroup /%s removed: final verdict %s%s%s%s; %llu run-queue waits "
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

		report_log(ev->started ? REPORT_INFO : REPORT_DEBUG, "watching /%s (id %llu)", ev->path,
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
		report_log(REPORT_WARN, "cgroup /%s: memory critically overloaded: %lld of %lld bytes "
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
		/* a first verdict of idle is no change: subscribers heard the state */
		if (r->events && (ev->verdict != VERDICT_IDLE || ev->previous != VERDICT_NONE))
			events__publish(r->events, ev->path, ev->id, ev->verdict == VERDICT_OVERLOADED,
					ev->status, ev->t_ns);
		break;
	case AGENT_TICK:
		if (r->record)
			record_flush(r->record);
		break;
	case AGENT_SLOTS_FULL:
		report_log(REPORT_WARN, "all %u run-queue slots are taken: the waits of cgroups "
			   "without one are not counted (cgsnap_dropped_events_total{reason=\"slots_full\"}); "
			   "slots of removed cgroups come back, or raise --max-cgroups", ev->count);
		break;
	case AGENT_DEPTH_LIMIT: {
		char first[1024];

		report_log(REPORT_WARN, "%u cgroup%s at --max-depth %u hold%s deeper cgroups (the first: "
		       "/%s): their tasks are counted in %s, not on their own", ev->count,
		       ev->count == 1 ? "" : "s", r->args->o.agent.max_depth, ev->count == 1 ? "s" : "",
		       escape_text(ev->path, first, sizeof(first)), ev->count == 1 ? "it" : "them");
		break;
	}
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
				k->interval_ns || k->max_pods)) {
		report("--kubelet-token-file, --kubelet-ca-file, --kubelet-insecure-tls, "
		       "--kubelet-interval and --kubelet-max-pods need --kubelet-url");
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
	/* two keys, one Prometheus name: the scrape would repeat a label */
	for (unsigned int i = 0; i < k->labels.n; i++)
		for (unsigned int j = 0; j < i; j++)
			if (!strcmp(k->labels.names[i], k->labels.names[j])) {
				report("--pod-label %s and --pod-label %s would both be %s on the "
				       "series: keep one of them", k->labels.keys[j],
				       k->labels.keys[i], k->labels.names[i]);
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

	argp.options = run_argp_options();
	if (!argp.options) {
		report_err(-ENOMEM, "cannot parse the options");
		return -ENOMEM;
	}
	err = load_config(a, argc, argv);
	/* in order: "--pin DIR" needs DIR right after --pin */
	if (!err && argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, a))
		err = -EINVAL;
	setting_options_free((struct argp_option *)argp.options);
	if (err)
		return err;
	settings_apply_fast(&o->agent.settings);
	if (cgsnap_settings__validate(&o->agent.settings, &why)) {
		report("%s", why);
		return -EINVAL;
	}
	if (!o->agent.nr_cgroups && !o->nr_pids && !o->k8s.pod_from_env)
		o->agent.watch_all = true;
	if (check_k8s(&o->k8s))
		return -EINVAL;
	report_set_level(o->quiet ? REPORT_WARN : o->verbosity ? REPORT_DEBUG : REPORT_INFO);
	o->agent.verbose = o->verbosity > 1;
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

	report_log(REPORT_INFO, "watching %u cgroups under %s (%s%s), serving http%s://%s/ (metrics at "
	       "/metrics)", agent__nr_watched(r->ag), agent__v2_root(r->ag),
	       o->agent.watch_all ? "all of " : "", o->agent.watch_all ?
	       (o->agent.all_root ? o->agent.all_root : "the hierarchy") : "the given cgroups",
	       o->http.tls_cert ? "s" : "", o->http.listen);
	report_log(REPORT_INFO, "http: %s", http_describe(r->srv));
	if (o->pin)
		report_log(REPORT_INFO, "%s in %s", agent__pins_reused(r->ag) ?
		       "reusing the pinned maps and attached programs" : "pinned maps and links",
		       o->pin_dir);
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
		report_log(REPORT_WARN, "cannot notify systemd: %s", strerror(errno));
	close(fd);
}

struct find_pod {
	const char *uid;
	char *path;
	size_t len;
};

static int visit_pod(const char *path, uint64_t id, unsigned int depth, void *parent, void **self,
		     void *ctx)
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
	const struct cgroup_walk_ops walk = { .visit = visit_pod, .max_depth = o->agent.max_depth };
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
	ret = cgroup_walk(l.v2, &walk, &fp);
	if (ret != 1) {
		report("--pod-from-env: no cgroup of pod %s under %s (is the host's cgroup "
		       "hierarchy mounted there?)", fp.uid, l.v2);
		return -ENOENT;
	}
	report_log(REPORT_INFO, "pod %s/%s: its cgroup is /%s", getenv("POD_NAMESPACE"),
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
		.max_pods = o->k8s.max_pods,
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
	r->events = events__new(o->http.events_max, r->pods);
	if (!r->events) {
		report_err(-ENOMEM, "cannot start");
		return -ENOMEM;
	}
	r->args->o.http.events = r->events;
	r->srv = http_start(&r->args->o.http, r->ag, err, sizeof(err));
	if (!r->srv) {
		report("%s", err);
		return -EADDRINUSE;
	}
	agent_handle_signals();
	ret = agent__start(r->ag, clock_mono_ns());
	if (!ret) {
		log_start(r);
		sd_notify_ready();
		ret = agent__run(r->ag, INT64_MAX);
		report_log(REPORT_INFO, "stopping%s", o->pin ? ": maps and links stay pinned" : "");
	}
	http_stop(r->srv);
	r->srv = NULL;
	events__free(r->events);
	r->events = NULL;
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
	run_options_init(&a.o);
	a.o.agent.on_event = on_event;
	a.o.agent.ctx = &r;
	if (parse(&a, argc, argv)) {
		ret = 2;
		goto out;
	}
	if (a.o.check) {
		run_options_print(&a.o, stdout);
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
