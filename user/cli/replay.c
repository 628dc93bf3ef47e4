// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "replay.h"
#include "snapjson.h"
#include "options.h"
#include "opts.h"
#include "report.h"

struct replay_cgroup {
	const char *name;	/* key owned by replay.index */
	struct cgsnap_snapshotter *snap;
	json_t *warnings;
};

struct replay {
	const struct replay_opts *opts;
	json_t *index;		/* name -> position in cgs[] */
	struct replay_cgroup *cgs;
	size_t nr, cap;
};

static void replay_free(struct replay *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		cgsnap_snapshotter__free(r->cgs[i].snap);
		json_decref(r->cgs[i].warnings);
	}
	free(r->cgs);
	json_decref(r->index);
}

/* the cgroup named @name, created (and started) on first use */
static struct replay_cgroup *replay_cgroup(struct replay *r, const char *name)
{
	json_t *pos = json_object_get(r->index, name);
	struct replay_cgroup *cg;

	if (pos)
		return &r->cgs[json_integer_value(pos)];
	if (r->nr == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct replay_cgroup *cgs = realloc(r->cgs, cap * sizeof(*cgs));

		if (!cgs)
			return NULL;
		r->cgs = cgs;
		r->cap = cap;
	}
	cg = &r->cgs[r->nr];
	cg->snap = cgsnap_snapshotter__new(&r->opts->settings);
	cg->warnings = json_array();
	if (!cg->snap || !cg->warnings ||
	    json_object_set_new(r->index, name, json_integer((json_int_t)r->nr))) {
		cgsnap_snapshotter__free(cg->snap);
		json_decref(cg->warnings);
		return NULL;
	}
	cg->name = json_object_iter_key(json_object_iter_at(r->index, name));
	cgsnap_snapshotter__start(cg->snap);
	r->nr++;
	return cg;
}

static bool blank(const char *line)
{
	return line[strspn(line, " \t\r\n")] == '\0';
}

static int replay_line(struct replay *r, const char *line, size_t lineno, char *err,
		       size_t errlen)
{
	struct cgsnap_memory_warning warning;
	struct cgsnap_snapshot snap;
	struct replay_cgroup *cg;
	const char *name, *why;
	json_error_t jerr;
	char what[256];
	json_t *obj;
	int ret;

	obj = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		snprintf(err, errlen, "line %zu: invalid JSON: %s (column %d)", lineno, jerr.text,
			 jerr.column);
		return -EINVAL;
	}
	ret = snapjson_parse(obj, &snap, &name, what, sizeof(what));
	if (ret) {
		snprintf(err, errlen, "line %zu: %s", lineno, what);
		goto out;
	}
	cg = replay_cgroup(r, name ? name : REPLAY_DEFAULT_CGROUP);
	if (!cg) {
		ret = -ENOMEM;
		snprintf(err, errlen, "line %zu: out of memory", lineno);
		goto out;
	}
	ret = cgsnap_snapshotter__add(cg->snap, &snap, &warning);
	if (ret == 1)
		ret = json_array_append_new(cg->warnings, snapjson_warning(&warning)) ? -ENOMEM : 0;
	if (ret < 0) {
		why = ret == -ENOMEM ? "out of memory" : cgsnap_strerror(ret);
		snprintf(err, errlen, "line %zu: %s", lineno, why);
	}
out:
	json_decref(obj);
	return ret;
}

static json_t *cgroup_result(const struct replay_cgroup *cg, const struct replay_opts *opts)
{
	struct cgsnap_sample hist[CGSNAP_KIND_COUNT], sample[CGSNAP_KIND_COUNT];
	struct cgsnap_status current, historical;
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		cgsnap_snapshotter__sample(cg->snap, k, 0, &hist[k]);
		cgsnap_snapshotter__sample(cg->snap, k, opts->sample_ns, &sample[k]);
	}
	cgsnap_snapshotter__current_status(cg->snap, &current);
	cgsnap_snapshotter__historical_status(cg->snap, &historical);
	return json_pack("{s:o,s:o*,s:o,s:o,s:O}", "history", snapjson_sample(hist, cg->name),
			 "sample", opts->sample ? snapjson_sample(sample, cg->name) : NULL, "current",
			 snapjson_status(&current), "historical", snapjson_status(&historical),
			 "warnings", cg->warnings);
}

static int replay_result(struct replay *r, json_t **result)
{
	json_t *cgroups = json_object();
	size_t i;

	if (!cgroups)
		return -ENOMEM;
	/* an empty input reports "default" with empty histories */
	if (!r->nr && !replay_cgroup(r, REPLAY_DEFAULT_CGROUP))
		goto err;
	for (i = 0; i < r->nr; i++) {
		json_t *cg = cgroup_result(&r->cgs[i], r->opts);

		if (!cg || json_object_set_new(cgroups, r->cgs[i].name, cg))
			goto err;
	}
	*result = json_pack("{s:o}", "cgroups", cgroups);
	return *result ? 0 : -ENOMEM;
err:
	json_decref(cgroups);
	return -ENOMEM;
}

int replay_stream(FILE *in, const struct replay_opts *opts, json_t **result, char *err,
		  size_t errlen)
{
	struct replay r = { .opts = opts, .index = json_object() };
	size_t cap = 0, lineno = 0;
	char *line = NULL;
	int ret = 0;

	*result = NULL;
	if (!r.index)
		return -ENOMEM;
	while (getline(&line, &cap, in) >= 0) {
		lineno++;
		if (blank(line))
			continue;
		ret = replay_line(&r, line, lineno, err, errlen);
		if (ret)
			goto out;
	}
	if (ferror(in)) {
		ret = -EIO;
		snprintf(err, errlen, "read error after line %zu", lineno);
		goto out;
	}
	ret = replay_result(&r, result);
	if (ret)
		snprintf(err, errlen, "out of memory");
out:
	free(line);
	replay_free(&r);
	return ret;
}

/* command line */

enum { OPT_SAMPLE = 0x100, OPT_PRETTY };

static const struct argp_option replay_options[] = {
	{ "sample-duration", OPT_SAMPLE, "DUR", 0,
	  "Also print sample(kind, DUR) per cgroup; 0s means the whole history", 0 },
	{ "pretty", OPT_PRETTY, NULL, 0, "Indent the JSON output", 0 },
	{},
};

struct replay_args {
	struct replay_opts opts;
	const char *file;
	bool pretty;
};

static error_t replay_parse(int key, char *arg, struct argp_state *state)
{
	struct replay_args *a = state->input;
	struct cgsnap_settings *s = &a->opts.settings;

	if (setting_option_parse(key, arg, state, s))
		return 0;
	switch (key) {
	case OPT_SAMPLE:
		a->opts.sample = true;
		return opt_duration(state, arg, &a->opts.sample_ns);
	case OPT_PRETTY:
		a->pretty = true;
		return 0;
	case ARGP_KEY_ARG:
		if (a->file)
			argp_error(state, "only one FILE may be given");
		a->file = arg;
		return 0;
	case ARGP_KEY_END:
		if (!a->file)
			argp_error(state, "FILE is missing (use - for standard input)");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static const char replay_doc[] =
	"Feed recorded snapshots through the snapshotter the daemon uses and print the "
	"result as one JSON object.\v"
	"FILE (or - for standard input) holds JSON Lines, one snapshot per line, e.g.\n"
	"  {\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.6,\"max_used_ratio\":0.75}\n"
	"  {\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":4294967296,"
	"\"max_bytes\":12884901888,\"max_used_ratio\":0.8}\n"
	"  {\"kind\":\"runq\",\"t_ns\":0,\"delay_ns\":700000000,\"max_delay_ns\":500000000}\n"
	"  {\"kind\":\"client\",\"t_ns\":0,\"error_count\":4,\"max_error_count\":2}\n"
	"Optional per line: \"cgroup\" (default \"default\"), memory's system_used_bytes, "
	"system_total_bytes, stall_ratio, max_stall_ratio (default 0.1), runq's count, "
	"mean_ns, p50_ns, p90_ns, p99_ns, max_ns, client's new_error_count.\n"
	"A duration DUR is a non-negative integer with a unit: ns, us, ms, s, m, h.\n"
	"The output holds, per cgroup: history, sample (with --sample-duration), current "
	"and historical overload ratios per kind with the idle verdict, and critical-memory "
	"warnings. See docs/REPLAY.md.\n"
	"Exit status: 0 on success, 2 for a malformed line or bad option, 1 otherwise.";

int cmd_replay(int argc, char **argv)
{
	struct argp argp = {
		.parser = replay_parse,
		.args_doc = "FILE|-",
		.doc = replay_doc,
	};
	struct replay_args a = {};
	char err[512];
	const char *why;
	json_t *result;
	FILE *in;
	int ret;

	argp.options = setting_options_new(replay_options, SETTING_REPLAY,
					   "Snapshotter settings (docs/SPEC.md):", 1);
	if (!argp.options) {
		report_err(-ENOMEM, "cannot parse the options");
		return 1;
	}
	cgsnap_settings__init(&a.opts.settings);
	ret = argp_parse(&argp, argc, argv, 0, NULL, &a);
	setting_options_free((struct argp_option *)argp.options);
	if (ret)
		return 2;
	if (cgsnap_settings__validate(&a.opts.settings, &why)) {
		report("%s", why);
		return 2;
	}
	in = strcmp(a.file, "-") ? fopen(a.file, "r") : stdin;
	if (!in) {
		report_err(-errno, "cannot open '%s'", a.file);
		return 1;
	}
	ret = replay_stream(in, &a.opts, &result, err, sizeof(err));
	if (in != stdin)
		fclose(in);
	if (ret) {
		report("%s: %s", a.file, err);
		return ret == -EINVAL ? 2 : 1;
	}
	ret = json_dumpf(result, stdout,
			 (a.pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(15));
	json_decref(result);
	if (ret || fputc('\n', stdout) == EOF || fflush(stdout)) {
		report_err(-errno, "cannot write the output");
		return 1;
	}
	return 0;
}
