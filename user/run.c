// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap run: the privileged sidecar / node agent. */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <jansson.h>

#include "commands.h"
#include "agent.h"
#include "cgroup.h"
#include "config.h"
#include "http.h"
#include "loader.h"
#include "opts.h"
#include "snapjson.h"

#define DEFAULT_PIN_DIR "/sys/fs/bpf/cgsnap"

enum { LOG_WARN, LOG_INFO, LOG_DEBUG };

struct run_args {
	struct agent_opts agent;
	const char *config;
	const char *listen;
	const char *record;
	bool pin;
	const char *pin_dir;
	int *pids;
	unsigned int nr_pids;
	int verbosity;
	bool quiet;
	int pending;		/* --pin or --all given bare: the next argument may be theirs */
	bool check;
	json_t *config_json;	/* the config file; its strings are used in place */
};

struct run {
	struct run_args *args;
	struct agent ag;
	FILE *record;
	bool started;		/* after the start line: new cgroups are news */
};

static int verbosity = LOG_INFO;

__attribute__((format(printf, 2, 3)))
static void logmsg(int level, const char *fmt, ...)
{
	static const char *const names[] = { "warning", "info", "debug" };
	va_list ap;

	if (level > verbosity)
		return;
	fprintf(stderr, "cgsnap: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	OPT_SETTING = 0x1000,	/* + index in settings_table */
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
	{ "record", OPT_RECORD, "FILE", 0,
	  "Append every snapshot to FILE as the JSON Lines cgsnap replay reads", 2 },
	{ "config", OPT_CONFIG, "FILE", 0,
	  "Read settings and options from a JSON file (docs/RUN.md); flags override it", 2 },
	{ "max-cgroups", OPT_MAX_CGROUPS, "N", 0,
	  "Cgroups the run-queue maps can hold (default: twice the cgroups there are, at least "
	  "1024)", 2 },
	{ "verbose", 'v', NULL, 0, "Log more (debug); twice: libbpf's messages too", 2 },
	{ "quiet", OPT_QUIET, NULL, 0, "Log warnings only", 2 },
	{ "check", OPT_CHECK, NULL, 0,
	  "Check the options and config file, print the effective settings, and exit", 2 },
	{ NULL, 0, NULL, 0, "Snapshotter settings (SPEC section 2):", 3 },
};

#define NR_BASE (sizeof(base_options) / sizeof(base_options[0]))

/* argp options: the fixed ones, then one per setting */
static struct argp_option *build_options(void)
{
	static char flags[32][64];
	struct argp_option *o = calloc(NR_BASE + settings_table_len + 1, sizeof(*o));
	size_t i;
	char *p;

	if (!o)
		return NULL;
	memcpy(o, base_options, sizeof(base_options));
	for (i = 0; i < settings_table_len && i < 32; i++) {
		snprintf(flags[i], sizeof(flags[i]), "%s", settings_table[i].name);
		for (p = flags[i]; *p; p++)
			if (*p == '_')
				*p = '-';
		o[NR_BASE + i] = (struct argp_option){
			.name = flags[i],
			.key = OPT_SETTING + (int)i,
			.arg = settings_table[i].type == ST_DURATION ? "DUR" :
			       settings_table[i].type == ST_RATIO ? "RATIO" :
			       settings_table[i].type == ST_SIZE ? "BYTES" :
			       settings_table[i].type == ST_STAT ? "STAT" : "N",
			.doc = settings_table[i].help,
			.group = 3,
		};
	}
	return o;
}

static int add_pid(struct run_args *a, int pid)
{
	int *v = realloc(a->pids, (a->nr_pids + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	a->pids = v;
	v[a->nr_pids++] = pid;
	return 0;
}

static error_t run_parse(int key, char *arg, struct argp_state *state)
{
	struct run_args *a = state->input;
	char err[256];
	long n;

	if (key == ARGP_KEY_ARG && a->pending) {
		/* "--pin DIR" and "--all PATH", as well as --pin=DIR and --all=PATH */
		if (a->pending == OPT_PIN)
			a->pin_dir = arg;
		else
			a->agent.all_root = arg;
		a->pending = 0;
		return 0;
	}
	if (key != ARGP_KEY_END && key != ARGP_KEY_FINI && key != ARGP_KEY_SUCCESS &&
	    key != ARGP_KEY_INIT && key != ARGP_KEY_NO_ARGS)
		a->pending = 0;
	if (key >= OPT_SETTING && key < OPT_SETTING + (int)settings_table_len) {
		if (setting_parse(&settings_table[key - OPT_SETTING], &a->agent.settings, arg, err,
				  sizeof(err)))
			argp_error(state, "%s", err);
		return 0;
	}
	switch (key) {
	case 'c':
		return agent_opts_add_cgroup(&a->agent, arg) ? ENOMEM : 0;
	case 'p':
		if (opt_long(state, arg, 1, INT32_MAX, &n))
			return EINVAL;
		return add_pid(a, n) ? ENOMEM : 0;
	case OPT_ALL:
		a->agent.watch_all = true;
		a->agent.all_root = arg;
		a->pending = arg ? 0 : OPT_ALL;
		return 0;
	case OPT_LISTEN:
		a->listen = arg;
		return 0;
	case OPT_PIN:
		a->pin = true;
		a->pin_dir = arg ? arg : DEFAULT_PIN_DIR;
		a->pending = arg ? 0 : OPT_PIN;
		return 0;
	case OPT_RECORD:
		a->record = arg;
		return 0;
	case OPT_CONFIG:
		return 0;	/* read before the flags, see load_config() */
	case OPT_MAX_CGROUPS:
		if (opt_long(state, arg, 1, CGSNAP_MAX_SLOTS, &n))
			return EINVAL;
		a->agent.max_cgroups = n;
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
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char run_doc[] =
	"Watch cgroups and keep, for each, the snapshotter of SPEC sections 2-6: cpu, memory, "
	"run-queue delay and client-error snapshots, their overload ratios and the idle verdict. "
	"Serve them as Prometheus metrics and a JSON API, and log verdict changes.\v"
	"HTTP: GET /metrics, /healthz, /v1/cgroups, /v1/cgroups/{path-or-id}/status, "
	".../samples?kind=K&duration=D, .../scale?current=N; POST .../client-errors "
	"{\"retry\":N,\"count\":K} (docs/API.md).\n"
	"Needs root, or CAP_BPF, CAP_PERFMON (and CAP_SYS_ADMIN to mount bpffs for --pin); "
	"drops every capability once the programs are attached. SIGINT or SIGTERM stop it: "
	"without --pin nothing is left behind.\n"
	"Exit status: 0 after a signal, 1 on failure, 2 for bad options or configuration.";

/* the "settings" object of the config (its own loop: json_object_foreach
 * iterates by key, so nesting two with the same variables ends the outer) */
static int apply_settings(struct run_args *a, json_t *settings, char *err, size_t errlen)
{
	const struct setting_desc *d;
	const char *key;
	json_t *v;

	json_object_foreach(settings, key, v) {
		d = setting_find(key);
		if (!d)
			return snprintf(err, errlen, "unknown setting \"%s\"", key), -EINVAL;
		if (setting_from_json(d, &a->agent.settings, v, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* the JSON config: {"settings": {...}, "cgroups": [...], "all": "PATH", "pids": [...],
 * "listen": "...", "pin": "DIR", "record": "FILE", "max_cgroups": N} */
static int apply_config(struct run_args *a, json_t *root, char *err, size_t errlen)
{
	const char *key;
	size_t i;
	json_t *v;

	if (!json_is_object(root))
		return snprintf(err, errlen, "the top level must be an object"), -EINVAL;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "settings") && json_is_object(v)) {
			if (apply_settings(a, v, err, errlen))
				return -EINVAL;
		} else if (!strcmp(key, "cgroups") && json_is_array(v)) {
			for (i = 0; i < json_array_size(v); i++) {
				if (!json_is_string(json_array_get(v, i)))
					return snprintf(err, errlen, "\"cgroups\" must hold strings"),
					       -EINVAL;
				agent_opts_add_cgroup(&a->agent, json_string_value(json_array_get(v, i)));
			}
		} else if (!strcmp(key, "pids") && json_is_array(v)) {
			for (i = 0; i < json_array_size(v); i++) {
				json_int_t pid = json_integer_value(json_array_get(v, i));

				if (pid < 1)
					return snprintf(err, errlen, "\"pids\" must hold positive integers"),
					       -EINVAL;
				add_pid(a, pid);
			}
		} else if (!strcmp(key, "all") && json_is_string(v)) {
			a->agent.watch_all = true;
			a->agent.all_root = json_string_value(v);
		} else if (!strcmp(key, "listen") && json_is_string(v)) {
			a->listen = json_string_value(v);
		} else if (!strcmp(key, "pin") && json_is_string(v)) {
			a->pin = true;
			a->pin_dir = json_string_value(v);
		} else if (!strcmp(key, "record") && json_is_string(v)) {
			a->record = json_string_value(v);
		} else if (!strcmp(key, "max_cgroups") && json_is_integer(v) &&
			   json_integer_value(v) > 0 && json_integer_value(v) <= CGSNAP_MAX_SLOTS) {
			a->agent.max_cgroups = json_integer_value(v);
		} else {
			return snprintf(err, errlen, "unknown or malformed key \"%s\"", key), -EINVAL;
		}
	}
	return 0;
}

/* --config is read first, so that the flags override it */
static int load_config(struct run_args *a, int argc, char **argv)
{
	const char *path = NULL;
	json_error_t jerr;
	char err[512];
	json_t *root;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	if (!path)
		return 0;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fprintf(stderr, "cgsnap run: %s:%d: %s\n", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	ret = apply_config(a, root, err, sizeof(err));
	if (ret)
		fprintf(stderr, "cgsnap run: %s: %s\n", path, err);
	a->config_json = root;	/* kept: a->listen and others point into it */
	return ret;
}

/* --pid: the v2 cgroup of each process */
static int resolve_pids(struct run_args *a)
{
	char path[4096];
	unsigned int i;
	int err;

	for (i = 0; i < a->nr_pids; i++) {
		err = cgroup_of_pid("/proc", a->pids[i], path, sizeof(path));
		if (err) {
			fprintf(stderr, "cgsnap run: cannot find the cgroup of process %d: %s\n",
				a->pids[i], err == -ESRCH ? "no such process" : strerror(-err));
			return err;
		}
		agent_opts_add_cgroup(&a->agent, path);
	}
	return 0;
}

static void record_snapshot(struct run *r, const struct watched *w, const struct cgsnap_snapshot *s)
{
	json_t *o = snapjson_snapshot(s, NULL);

	if (!o)
		return;
	json_object_del(o, "overloaded");
	json_object_set_new(o, "cgroup", json_pack("s+", "/", w->path));
	/* 17 digits: replay must see the very same doubles */
	if (json_dumpf(o, r->record, JSON_COMPACT | JSON_REAL_PRECISION(17)) ||
	    fputc('\n', r->record) == EOF)
		logmsg(LOG_WARN, "cannot write to %s: %s", r->args->record, strerror(errno));
	json_decref(o);
}

static void on_event(const struct collector_event *ev, void *ctx)
{
	struct run *r = ctx;
	const struct cgsnap_memory_warning *mw = ev->warning;

	switch (ev->type) {
	case COLLECTOR_WATCHED:
		logmsg(r->started ? LOG_INFO : LOG_DEBUG, "watching /%s (id %llu)", ev->w->path,
		       (unsigned long long)ev->w->id);
		break;
	case COLLECTOR_GONE:
		logmsg(LOG_INFO, "cgroup /%s is gone: no longer watched", ev->w->path);
		break;
	case COLLECTOR_MEMORY_WARNING:
		logmsg(LOG_WARN, "cgroup /%s: memory critically overloaded: %lld of %lld bytes "
		       "(%.1f%% of the budget, warning threshold %lld)", ev->w->path,
		       (long long)mw->current_bytes, (long long)mw->budget_bytes,
		       100.0 * mw->current_bytes / mw->budget_bytes, (long long)mw->threshold_bytes);
		break;
	case COLLECTOR_SNAPSHOT:
		if (r->record)
			record_snapshot(r, ev->w, ev->snap);
		break;
	}
}

/* one line per cgroup whose current verdict changed */
static void log_transitions(struct run *r)
{
	struct cgsnap_status st;
	struct watched *w;
	char why[256];
	int k, state;

	for (w = collector__first(r->ag.collector); w; w = collector__next(w)) {
		if (cgsnap_snapshotter__current_status(w->snap, &st))
			continue;
		state = st.idle ? 1 : 2;
		if (state == w->user_state)
			continue;
		if (st.idle) {
			if (w->user_state)
				logmsg(LOG_INFO, "cgroup /%s: idle", w->path);
		} else {
			why[0] = '\0';
			for (k = 0; k < CGSNAP_KIND_COUNT; k++)
				if (st.kind[k].overloaded)
					snprintf(why + strlen(why), sizeof(why) - strlen(why),
						 "%s%s %.3f > %g", why[0] ? ", " : "",
						 cgsnap_kind_name(k), st.kind[k].actual_ratio,
						 st.kind[k].limit_ratio);
			logmsg(LOG_INFO, "cgroup /%s: OVERLOADED (%s)", w->path, why);
		}
		w->user_state = state;
	}
}

static void after_tick(void *ctx, int64_t now)
{
	struct run *r = ctx;

	log_transitions(r);
	if (r->record)
		fflush(r->record);
}

static int parse(struct run_args *a, int argc, char **argv)
{
	struct argp argp = { .parser = run_parse, .doc = run_doc };
	struct argp_option *options = build_options();
	const char *why;
	int err;

	if (!options)
		return -ENOMEM;
	argp.options = options;
	cgsnap_settings__init(&a->agent.settings);
	err = load_config(a, argc, argv);
	/* in order: "--pin DIR" needs DIR right after --pin */
	if (!err && argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, a))
		err = -EINVAL;
	free(options);
	if (err)
		return err;
	if (cgsnap_settings__validate(&a->agent.settings, &why)) {
		fprintf(stderr, "cgsnap run: %s\n", why);
		return -EINVAL;
	}
	if (!a->agent.nr_cgroups && !a->nr_pids)
		a->agent.watch_all = true;
	verbosity = a->quiet ? LOG_WARN : a->verbosity ? LOG_DEBUG : LOG_INFO;
	a->agent.verbose = a->verbosity > 1;
	a->agent.keep_totals = true;
	a->agent.pin_dir = a->pin ? a->pin_dir : NULL;
	if (!a->listen)
		a->listen = HTTP_DEFAULT_LISTEN;
	return 0;
}

static void log_start(struct run *r)
{
	const struct run_args *a = r->args;

	logmsg(LOG_INFO, "watching %u cgroups under %s (%s%s), serving http://%s/ (metrics at "
	       "/metrics)", collector__nr_watched(r->ag.collector), r->ag.layout.v2,
	       a->agent.watch_all ? "all of " : "", a->agent.watch_all ?
	       (a->agent.all_root ? a->agent.all_root : "the hierarchy") : "the given cgroups",
	       a->listen);
	if (a->pin)
		logmsg(LOG_INFO, "%s in %s", r->ag.pins_reused ?
		       "reusing the pinned maps and attached programs" : "pinned maps and links",
		       a->pin_dir);
}

/* --check: the effective configuration */
static void print_check(const struct run_args *a)
{
	char v[64];
	unsigned int i;
	size_t k;

	printf("watch:");
	if (a->agent.watch_all)
		printf(" all of /%s", a->agent.all_root ? a->agent.all_root : "");
	for (i = 0; i < a->agent.nr_cgroups; i++)
		printf(" %s", a->agent.cgroups[i]);
	for (i = 0; i < a->nr_pids; i++)
		printf(" pid %d", a->pids[i]);
	printf("\nlisten: %s\npin: %s\nrecord: %s\n", a->listen, a->pin ? a->pin_dir : "no",
	       a->record ? a->record : "no");
	for (k = 0; k < settings_table_len; k++) {
		setting_format(&settings_table[k], &a->agent.settings, v, sizeof(v));
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

int cmd_run(int argc, char **argv)
{
	struct run_args a = {};
	struct run r = { .args = &a };
	struct http_server *srv = NULL;
	char err[512];
	int ret = 0;

	if (parse(&a, argc, argv)) {
		ret = 2;
		goto out_args;
	}
	if (a.check) {
		print_check(&a);
		goto out_args;
	}
	if (resolve_pids(&a)) {
		ret = 1;
		goto out_args;
	}
	a.agent.on_event = on_event;
	a.agent.after_tick = after_tick;
	a.agent.ctx = &r;
	if (a.record) {
		r.record = fopen(a.record, "ae");
		if (!r.record) {
			fprintf(stderr, "cgsnap run: cannot open %s: %s\n", a.record, strerror(errno));
			ret = 1;
			goto out_args;
		}
	}
	ret = agent_open(&r.ag, &a.agent, "cgsnap run");
	if (ret)
		goto out;
	/* a first scan, so that the HTTP API knows the watched set at once */
	collector__scan(r.ag.collector);
	srv = http_start(a.listen, &r.ag, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "cgsnap run: %s\n", err);
		ret = -EADDRINUSE;
		goto out;
	}
	ret = loader_drop_caps();
	if (ret)
		logmsg(LOG_WARN, "cannot drop capabilities: %s", strerror(-ret));
	agent_handle_signals();
	log_start(&r);
	r.started = true;
	sd_notify_ready();
	ret = agent_loop(&r.ag, agent_now(), INT64_MAX);
	logmsg(LOG_INFO, "stopping%s", a.pin ? ": maps and links stay pinned" : "");
out:
	http_stop(srv);
	agent_close(&r.ag);
	if (r.record)
		fclose(r.record);
	ret = ret ? 1 : 0;
out_args:
	agent_opts_free(&a.agent);
	free(a.pids);
	json_decref(a.config_json);
	return ret;
}
