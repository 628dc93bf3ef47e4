// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The routes of docs/API.md. Each asks the agent for a copy of what it
 * needs and renders it; the verdict policy (load, desired scale) comes from
 * agent/policy.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "k8s.h"
#include "metrics.h"
#include "snapjson.h"

/* {"path", "id"}, and "k8s" for a pod's or container's cgroup (from its path) */
static json_t *cgroup_ref(const struct agent_cgroup *c)
{
	json_t *o = json_pack("{s:s+,s:I}", "path", "/", c->path, "id", (json_int_t)c->id);
	struct k8s_identity k;

	if (o && k8s_identify(c->path, &k) != K8S_NONE)
		json_object_set_new(o, "k8s", json_pack("{s:s,s:s,s:s,s:s?,s:s?}",
							"kind", k8s_kind_name(k.kind),
							"qos", k.qos, "pod_uid", k.pod_uid,
							"container_id", k.kind == K8S_POD ? NULL :
									k.container_id,
							"runtime", *k.runtime ? k.runtime : NULL));
	return o;
}

static json_t *overloaded_kinds(const struct cgsnap_status *st)
{
	json_t *arr = json_array();
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		if (st->kind[k].overloaded)
			json_array_append_new(arr, json_string(cgsnap_kind_name(k)));
	return arr;
}

static enum MHD_Result not_watched(struct request *req)
{
	return http_error(req, MHD_HTTP_NOT_FOUND, "cgroup '%s' is not watched", req->ref);
}

enum MHD_Result api_healthz(struct request *req)
{
	struct agent_health h;
	bool ok = !agent__health(req->ag, agent_now(), &h);
	json_t *o = json_pack("{s:s,s:i}", "status", ok ? "ok" : h.problem, "watched",
			      h.nr_watched);

	if (o && http_has_arg(req, "verbose"))
		json_object_update_new(o, json_pack("{s:b,s:I,s:I}", "started", h.started,
						    "since_last_tick_ns", (json_int_t)h.since_tick_ns,
						    "late_after_ns", (json_int_t)h.late_after_ns));
	return http_json(req, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o);
}

enum MHD_Result api_metrics(struct request *req)
{
	struct agent_cgroup *cgs;
	struct http_stream body;
	struct agent_self self;
	unsigned int n;
	FILE *f;
	int err;

	if (agent__cgroups(req->ag, AGENT_TOTALS, &cgs, &n))
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	agent__self(req->ag, &self);
	f = http_stream_open(req, &body);
	err = f ? metrics_write(f, cgs, n, agent__settings(req->ag), &self,
				http_metrics_opts(req->srv)) : -ENOMEM;
	agent_cgroups_free(cgs, n);
	if (err) {
		if (f)
			http_stream_abort(&body);
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics");
	}
	return http_stream_respond(req, &body, MHD_HTTP_OK,
				   "text/plain; version=0.0.4; charset=utf-8");
}

enum MHD_Result api_cgroups(struct request *req)
{
	json_t *arr = json_array();
	struct agent_cgroup *cgs;
	unsigned int i, n;

	if (!arr || agent__cgroups(req->ag, AGENT_NO_TOTALS, &cgs, &n)) {
		json_decref(arr);
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cgroup_ref(&cgs[i]));
	agent_cgroups_free(cgs, n);
	return http_json(req, MHD_HTTP_OK, json_pack("{s:o}", "cgroups", arr));
}

enum MHD_Result api_status(struct request *req)
{
	struct agent_cgroup c;
	json_t *latest, *o;
	int k;

	if (agent__cgroup(req->ag, req->ref, &c))
		return not_watched(req);
	latest = json_object();
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		json_object_set_new(latest, cgsnap_kind_name(k),
				    c.has_latest[k] ? snapjson_snapshot(&c.latest[k], NULL) :
						      json_null());
	o = cgroup_ref(&c);
	json_object_set_new(o, "idle", json_boolean(c.current.idle));
	json_object_set_new(o, "overloaded_kinds",
			    json_pack("{s:o,s:o}", "current", overloaded_kinds(&c.current),
				      "historical", overloaded_kinds(&c.historical)));
	json_object_set_new(o, "current", snapjson_status(&c.current));
	json_object_set_new(o, "historical", snapjson_status(&c.historical));
	json_object_set_new(o, "latest", latest);
	agent_cgroup_fini(&c);
	return http_json(req, MHD_HTTP_OK, o);
}

enum MHD_Result api_samples(struct request *req)
{
	const char *kind = http_arg(req, "kind"), *dur = http_arg(req, "duration");
	struct cgsnap_snapshot *snaps;
	struct agent_cgroup c;
	json_t *arr, *o;
	int64_t ns = 0;
	uint32_t i, n;
	int k, err;

	if (!kind)
		return http_error(req, MHD_HTTP_BAD_REQUEST, "the kind parameter is missing "
				  "(cpu, memory, runq or client)");
	k = cgsnap_kind_from_name(kind);
	if (k < 0)
		return http_error(req, MHD_HTTP_BAD_REQUEST, "unknown kind '%s' (expected cpu, "
				  "memory, runq or client)", kind);
	if (dur && cgsnap_parse_duration(dur, &ns))
		return http_error(req, MHD_HTTP_BAD_REQUEST, "invalid duration '%s': expected a "
				  "non-negative integer with a unit (ns, us, ms, s, m, h)", dur);
	err = agent__sample(req->ag, req->ref, k, ns, &c, &snaps, &n);
	if (err == -ENOENT)
		return not_watched(req);
	if (err)
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", cgsnap_strerror(err));
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, snapjson_snapshot(&snaps[i], NULL));
	free(snaps);
	o = cgroup_ref(&c);
	agent_cgroup_fini(&c);
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "duration_ns", json_integer(ns));
	json_object_set_new(o, "samples", arr);
	return http_json(req, MHD_HTTP_OK, o);
}

enum MHD_Result api_scale(struct request *req)
{
	const char *cur = http_arg(req, "current");
	struct agent_cgroup c;
	long long current = 1;
	char *end;
	json_t *o;

	if (agent__cgroup(req->ag, req->ref, &c))
		return not_watched(req);
	if (cur) {
		errno = 0;
		current = strtoll(cur, &end, 10);
		/* digits only: no sign, no blanks */
		if (!isdigit((unsigned char)*cur) || errno || *end || current < 1 ||
		    current > POLICY_MAX_SCALE) {
			agent_cgroup_fini(&c);
			return http_error(req, MHD_HTTP_BAD_REQUEST, "invalid current '%s': "
					  "expected a positive integer", cur);
		}
	}
	o = cgroup_ref(&c);
	json_object_set_new(o, "load", json_real(policy_load(&c.historical)));
	json_object_set_new(o, "historical_idle", json_boolean(c.historical.idle));
	json_object_set_new(o, "overloaded_kinds", overloaded_kinds(&c.historical));
	json_object_set_new(o, "current", json_integer(current));
	json_object_set_new(o, "desired_scale",
			    json_integer(policy_desired_scale(current, c.historical.idle)));
	agent_cgroup_fini(&c);
	return http_json(req, MHD_HTTP_OK, o);
}

enum MHD_Result api_client_errors(struct request *req)
{
	json_t *body, *retry, *count;
	int64_t n = 1, total = 0;
	json_error_t jerr;
	int ret;

	if (req->too_big)
		return http_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d "
				  "bytes", HTTP_MAX_BODY);
	body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body)
		return http_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON: %s", jerr.text);
	retry = json_object_get(body, "retry");
	count = json_object_get(body, "count");
	if (!json_is_object(body) || !json_is_integer(retry) || json_integer_value(retry) < 0 ||
	    (count && (!json_is_integer(count) || json_integer_value(count) < 0)) ||
	    json_object_size(body) != 1 + !!count) {
		json_decref(body);
		return http_error(req, MHD_HTTP_BAD_REQUEST, "expected {\"retry\": N, \"count\": K} "
				  "with non-negative integers (count defaults to 1) and no other "
				  "key");
	}
	if (count)
		n = json_integer_value(count);
	ret = agent__report_client_errors(req->ag, req->ref, json_integer_value(retry), n, &total);
	json_decref(body);
	if (ret == -ENOENT)
		return not_watched(req);
	if (ret < 0)
		return http_error(req, MHD_HTTP_BAD_REQUEST, "cannot count these errors: %s",
				  cgsnap_strerror(ret));
	return http_json(req, MHD_HTTP_OK, json_pack("{s:b,s:I}", "counted", ret == 1,
						     "error_count", (json_int_t)total));
}
