// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap status: ask a running cgsnap run for its verdicts. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <unistd.h>
#include <jansson.h>

#include "commands.h"
#include "addr.h"
#include "client.h"
#include "opts.h"
#include "report.h"
#include "snapshotter.h"

struct status_args {
	const char *server;
	const char *token_file, *cacert;
	struct cli_server srv;
	char **cgroups;
	unsigned int nr_cgroups;
	bool json;
	bool color;
	bool watch;
};

enum { OPT_TOKEN = 0x100, OPT_CACERT };

static const struct argp_option status_options[] = {
	{ "server", 's', "ADDR:PORT|URL", 0,
	  "The agent to ask (default " HTTP_DEFAULT_LISTEN "; https://... for TLS)", 0 },
	{ "cgroup", 'c', "PATH|ID", 0, "Only this cgroup. Repeatable", 0 },
	{ "json", 'j', NULL, 0, "Print the agent's JSON (one status object per line)", 0 },
	{ "watch", 'w', NULL, 0,
	  "Then follow the verdicts as they change (GET /v1/events), one line each, until "
	  "interrupted", 0 },
	CLI_SERVER_OPTIONS(OPT_TOKEN, OPT_CACERT),
	{},
};

static error_t status_parse(int key, char *arg, struct argp_state *state)
{
	struct status_args *a = state->input;
	char **v;

	switch (key) {
	case 's':
		a->server = arg;
		return 0;
	case 'c':
		v = realloc(a->cgroups, (a->nr_cgroups + 1) * sizeof(*v));
		if (!v)
			return ENOMEM;
		a->cgroups = v;
		v[a->nr_cgroups++] = arg;
		return 0;
	case 'j':
		a->json = true;
		return 0;
	case 'w':
		a->watch = true;
		return 0;
	case OPT_TOKEN:
		a->token_file = arg;
		return 0;
	case OPT_CACERT:
		a->cacert = arg;
		return 0;
	default:
		return opt_no_args(key, arg, state);
	}
}

static void print_row(const struct status_args *a, json_t *st)
{
		json_t *cur = json_object_get(st, "current"), *hist = json_object_get(st, "historical");
	bool idle = json_is_true(json_object_get(st, "idle"));
	int k;

	printf("%-40s %s%-10s%s", json_string_value(json_object_get(st, "path")),
	       a->color ? (idle ? "\033[32m" : "\033[1;31m") : "", idle ? "idle" : "OVERLOADED",
	       a->color ? "\033[0m" : "");
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		json_t *c = json_object_get(cur, cgsnap_kind_name(k));
		json_t *h = json_object_get(hist, cgsnap_kind_name(k));
		bool over = json_is_true(json_object_get(c, "overloaded"));
		char cell[32];

		snprintf(cell, sizeof(cell), "%.3f/%.3f%s",
			 json_number_value(json_object_get(c, "actual_ratio")),
			 json_number_value(json_object_get(h, "actual_ratio")), over ? "*" : "");
		printf(" %s%-14s%s", a->color && over ? "\033[1;31m" : "", cell,
		       a->color && over ? "\033[0m" : "");
	}
	printf("\n");
}

/* GET @path: its JSON, or NULL with the failure reported */
static json_t *get(const struct status_args *a, const char *path)
{
	char *body, err[256];
	json_t *o;
	long code;

	if (cli_get(&a->srv, path, &code, &body, err, sizeof(err))) {
		report("cannot reach the agent at %s (is cgsnap run running?): %s", a->srv.base, err);
		return NULL;
	}
	o = json_loads(body, 0, NULL);
	free(body);
	if (code != 200 || !o) {
		report("%s: %s", path, o && json_string_value(json_object_get(o, "error")) ?
		       json_string_value(json_object_get(o, "error")) : "bad response");
		json_decref(o);
		return NULL;
	}
	return o;
}

static int show(const struct status_args *a, const char *ref, bool header)
{
	char path[12400], enc[4096 * 3], *text;
	json_t *st;

	cli_url_path(ref, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/v1/cgroups/%s/status", *enc == '/' ? enc + 1 : enc);
	st = get(a, path);
	if (!st)
		return 1;
	if (a->json) {
		text = json_dumps(st, JSON_COMPACT);
		printf("%s\n", text ? text : "");
		free(text);
	} else {
		if (header)
			printf("%-40s %-10s %-14s %-14s %-14s %-14s\n", "CGROUP", "VERDICT",
			       "CPU cur/hist", "MEMORY", "RUNQ", "CLIENT");
		print_row(a, st);
	}
	json_decref(st);
	return 0;
}

/* one change of the stream, as a line: its time, cgroup, verdict, kinds */
static int on_event(const char *type, const char *id, const char *data, void *ctx)
{
	const struct status_args *a = ctx;
	json_t *o, *k;
	char when[32];
	time_t now;
	size_t i;

	if (a->json) {
		printf("%s\n", data);
		fflush(stdout);
		return 0;
	}
	if (!strcmp(type, "lost")) {
		printf("(some changes were missed: the stream fell behind)\n");
		return 0;
	}
	o = json_loads(data, 0, NULL);
	if (!o)
		return 0;
	now = time(NULL);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	bool over = json_is_true(json_object_get(o, "overloaded"));

	printf("%s %-40s %s%-10s%s", when, json_string_value(json_object_get(o, "cgroup")),
	       a->color ? (over ? "\033[1;31m" : "\033[32m") : "", over ? "OVERLOADED" : "idle",
	       a->color ? "\033[0m" : "");
	json_array_foreach(json_object_get(o, "kinds"), i, k)
		printf("%s%s", i ? "," : " ", json_string_value(k));
	printf("%s\n", json_is_true(json_object_get(o, "initial")) ? " (now)" : "");
	fflush(stdout);
	json_decref(o);
	return 0;
}

/* --watch: the stream of changes, for @ref (NULL: every cgroup) */
static int watch(const struct status_args *a, const char *ref)
{
	char path[12400], enc[4096 * 3], err[256];
	long code = 0;
	int ret;

	strcpy(path, "/v1/events");
	if (ref) {
		cli_url_path(*ref == '/' ? ref : ref, enc, sizeof(enc));
		snprintf(path, sizeof(path), "/v1/events?cgroup=%s%s", *ref == '/' ? "" : "/", enc);
	}
	ret = cli_events(&a->srv, path, on_event, (void *)a, &code, err, sizeof(err));
	if (ret == -EPROTO) {
		report("%s: HTTP %ld%s", path, code, code == 503 ? " (too many subscribers)" :
		       code == 401 ? " (give the agent's token with --token-file)" : "");
		return 1;
	}
	if (ret) {
		report("the event stream of %s broke: %s", a->srv.base, err);
		return 1;
	}
	return 0;
}

static const char status_doc[] =
	"Ask a running `cgsnap run` for the verdict of its cgroups and print a table: per kind, "
	"the current/historical overload ratio, * when the kind overloads the cgroup now. With "
	"--watch, then print each verdict change as the agent decides it.";

int cmd_status(int argc, char **argv)
{
	const struct argp argp = { .options = status_options, .parser = status_parse,
				   .doc = status_doc };
	struct status_args a = { .server = HTTP_DEFAULT_LISTEN };
	json_t *list, *cg;
	char err[512];
	unsigned int i;
	size_t j;
	int ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	if (cli_server_init(&a.srv, a.server, a.token_file, a.cacert, err, sizeof(err))) {
		report("%s", err);
		free(a.cgroups);
		return 2;
	}
	if (a.watch && a.nr_cgroups > 1) {
		report("--watch follows one cgroup or all of them");
		free(a.cgroups);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	a.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (a.nr_cgroups) {
		for (i = 0; i < a.nr_cgroups; i++)
			ret |= show(&a, a.cgroups[i], i == 0);
	} else if ((list = get(&a, "/v1/cgroups"))) {
		json_array_foreach(json_object_get(list, "cgroups"), j, cg)
			ret |= show(&a, json_string_value(json_object_get(cg, "path")), j == 0);
		json_decref(list);
	} else {
		ret = 1;
	}
	if (a.watch && !ret) {
		fflush(stdout);
		ret = watch(&a, a.nr_cgroups ? a.cgroups[0] : NULL);
	}
	free(a.cgroups);
	curl_global_cleanup();
	return ret;
}
