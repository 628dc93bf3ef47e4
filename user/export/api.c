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

#include <fnmatch.h>

#include "cgjson.h"
#include "clock.h"
#include "events.h"
#include "httpd.h"
#include "k8sview.h"
#include "metrics.h"
#include "snapjson.h"

static json_t *cgroup_ref(struct request *req, const struct agent_cgroup *c)
{
	struct k8s_pods *pods = http_k8s_pods(req->srv);
	struct k8s_podlist *l = k8s_pods_get(pods);
	json_t *o = cgjson_ref(c->path, c->id, l, k8s_pods_label_keys(pods));

	k8s_podlist_put(l);
	return o;
}

static enum MHD_Result not_watched(struct request *req)
{
	return http_error(req, MHD_HTTP_NOT_FOUND, "cgroup '%s' is not watched", req->ref);
}

enum MHD_Result api_healthz(struct request *req)
{
	struct agent_health h;
	bool ok = !agent__health(req->ag, clock_mono_ns(), &h);
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
	struct kubelet *kl = http_kubelet(req->srv);
	struct kubelet_stats ks;
	struct agent_cgroup *cgs;
	struct http_stream body;
	struct agent_self self;
	struct k8s_view kv;
	unsigned int n;
	FILE *f;
	int err;

	if (http_cgroups(req, AGENT_TOTALS, &cgs, &n))
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if (k8s_view_build(&kv, http_k8s_pods(req->srv), cgs, n)) {
		agent_cgroups_free(cgs, n);
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	agent__self(req->ag, &self);
	if (kl)
		kubelet_stats(kl, &ks);
	f = http_stream_open(req, &body);
	err = f ? metrics_write(f, cgs, n, agent__settings(req->ag), &self,
				http_metrics_opts(req->srv), &kv, kl ? &ks : NULL) : -ENOMEM;
	k8s_view_free(&kv);
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
	struct k8s_pods *pods = http_k8s_pods(req->srv);
	json_t *arr = json_array();
	struct k8s_podlist *l;
	struct agent_cgroup *cgs;
	unsigned int i, n;

	if (!arr || http_cgroups(req, AGENT_NO_TOTALS, &cgs, &n)) {
		json_decref(arr);
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	l = k8s_pods_get(pods);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cgjson_ref(cgs[i].path, cgs[i].id, l, k8s_pods_label_keys(pods)));
	k8s_podlist_put(l);
	agent_cgroups_free(cgs, n);
	return http_json(req, MHD_HTTP_OK, json_pack("{s:o}", "cgroups", arr));
}

enum MHD_Result api_overview(struct request *req)
{
	struct k8s_pods *pods = http_k8s_pods(req->srv);
	struct agent_cgroup *cgs;
	struct k8s_podlist *l;
	unsigned int n;
	json_t *o;

	if (http_cgroups(req, AGENT_TOTALS, &cgs, &n))
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	l = k8s_pods_get(pods);
	o = cgjson_overview(cgs, n, l, k8s_pods_label_keys(pods), clock_mono_ns());
	k8s_podlist_put(l);
	agent_cgroups_free(cgs, n);
	if (!o)
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return http_json(req, MHD_HTTP_OK, o);
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
	o = cgroup_ref(req, &c);
	json_object_set_new(o, "idle", json_boolean(c.current.idle));
	json_object_set_new(o, "overloaded_kinds",
			    json_pack("{s:o,s:o}", "current", cgjson_kinds(&c.current),
				      "historical", cgjson_kinds(&c.historical)));
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
	o = cgroup_ref(req, &c);
	agent_cgroup_fini(&c);
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "duration_ns", json_integer(ns));
	json_object_set_new(o, "samples", arr);
	return http_json(req, MHD_HTTP_OK, o);
}

/* ?current=N (default 1): 0, or -EINVAL once answered with a 400 */
static int arg_current(struct request *req, long long *current)
{
	const char *cur = http_arg(req, "current");
	char *end;

	*current = 1;
	if (!cur)
		return 0;
	errno = 0;
	*current = strtoll(cur, &end, 10);
	/* digits only: no sign, no blanks */
	if (!isdigit((unsigned char)*cur) || errno || *end || *current < 1 ||
	    *current > POLICY_MAX_SCALE) {
		http_error(req, MHD_HTTP_BAD_REQUEST, "invalid current '%s': expected a positive "
			   "integer", cur);
		return -EINVAL;
	}
	return 0;
}

enum MHD_Result api_scale(struct request *req)
{
	struct agent_cgroup c;
	long long current;
	json_t *o;

	if (agent__cgroup(req->ag, req->ref, &c))
		return not_watched(req);
	if (arg_current(req, &current)) {
		agent_cgroup_fini(&c);
		return MHD_YES;
	}
	o = cgroup_ref(req, &c);
	json_object_set_new(o, "load", json_real(policy_load(&c.historical)));
	json_object_set_new(o, "historical_idle", json_boolean(c.historical.idle));
	json_object_set_new(o, "overloaded_kinds", cgjson_kinds(&c.historical));
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

/* Kubernetes: /v1/pods and /v1/workloads (docs/KUBERNETES.md) */

static json_t *kinds_json(const bool overloaded[CGSNAP_KIND_COUNT])
{
	json_t *arr = json_array();

	for (int k = 0; k < CGSNAP_KIND_COUNT; k++)
		if (overloaded[k])
			json_array_append_new(arr, json_string(cgsnap_kind_name(k)));
	return arr;
}

static const char *no_source_hint(struct request *req)
{
	return http_k8s_pods(req->srv) ? "" : " (cgsnap knows no pod names: run it with "
					       "--kubelet-url or --pod-from-env)";
}

/* the watched cgroups and the view over them; an error response if not */
static int view_open(struct request *req, struct agent_cgroup **cgs, unsigned int *n,
		     struct k8s_view *kv)
{
	if (http_cgroups(req, AGENT_NO_TOTALS, cgs, n))
		goto nomem;
	if (!k8s_view_build(kv, http_k8s_pods(req->srv), *cgs, *n))
		return 0;
	agent_cgroups_free(*cgs, *n);
nomem:
	http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	return -ENOMEM;
}

static void view_close(struct agent_cgroup *cgs, unsigned int n, struct k8s_view *kv)
{
	k8s_view_free(kv);
	agent_cgroups_free(cgs, n);
}

static json_t *pod_json(const struct k8s_view_pod *p, const struct agent_cgroup *cgs)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?,s:f,s:b,s:o}", "namespace", p->pod->ns,
			 "pod", p->pod->name, "uid", p->pod->uid,
			 "workload_kind", p->pod->workload_kind, "workload", p->pod->workload,
			 "cgroup", p->cgroup >= 0 ? cgs[p->cgroup].path : NULL, "load", p->load,
			 "historical_idle", p->idle, "overloaded_kinds", kinds_json(p->overloaded));
}

static json_t *workload_json(const struct k8s_workload *w)
{
	return json_pack("{s:s,s:s,s:s,s:i,s:f,s:f,s:b,s:o}", "namespace", w->ns, "kind", w->kind,
			 "name", w->name, "pods", (int)w->n, "load", w->load,
			 "load_mean", w->load_mean, "historical_idle", w->idle,
			 "overloaded_kinds", kinds_json(w->overloaded));
}

/* {"pods": [...]} or {"workloads": [...]}: every entry of the view */
static enum MHD_Result list_json(struct request *req, bool workloads)
{
	struct agent_cgroup *cgs;
	struct k8s_view kv;
	json_t *arr;
	unsigned int i, n;

	if (view_open(req, &cgs, &n, &kv))
		return MHD_YES;
	arr = json_array();
	for (i = 0; i < (workloads ? kv.nr_workloads : kv.nr_pods); i++)
		json_array_append_new(arr, workloads ? workload_json(&kv.workloads[i]) :
						       pod_json(&kv.pods[i], cgs));
	view_close(cgs, n, &kv);
	return http_json(req, MHD_HTTP_OK, json_pack("{s:o}", workloads ? "workloads" : "pods",
						     arr));
}

enum MHD_Result api_pods(struct request *req)
{
	return list_json(req, false);
}

/* split {namespace}/{pod} (http_match made sure of its shape) */
static void split2(const char *ref, char *ns, size_t len, const char **name)
{
	const char *slash = strchr(ref, '/');

	snprintf(ns, len, "%.*s", (int)(slash - ref), ref);
	*name = slash + 1;
}

static const struct k8s_view_pod *find_pod(struct request *req, const struct k8s_view *kv)
{
	const struct k8s_view_pod *p;
	const char *name;
	char ns[256];

	split2(req->ref, ns, sizeof(ns), &name);
	p = k8s_view_pod(kv, ns, name);
	if (!p)
		http_error(req, MHD_HTTP_NOT_FOUND, "no pod %s/%s with a watched cgroup on this "
			   "node%s", ns, name, no_source_hint(req));
	return p;
}

enum MHD_Result api_pod_status(struct request *req)
{
	const struct k8s_view_pod *p;
	struct agent_cgroup *cgs;
	struct k8s_view kv;
	unsigned int n;
	char id[32];

	if (view_open(req, &cgs, &n, &kv))
		return MHD_YES;
	p = find_pod(req, &kv);
	if (p && p->cgroup < 0) {
		http_error(req, MHD_HTTP_NOT_FOUND, "the cgroup of pod %s/%s is not watched (only "
			   "some of its containers' are): see its /scale", p->pod->ns, p->pod->name);
		p = NULL;
	}
	if (p)
		snprintf(id, sizeof(id), "%llu", (unsigned long long)cgs[p->cgroup].id);
	view_close(cgs, n, &kv);
	if (!p)
		return MHD_YES;
	/* the pod cgroup's status, as /v1/cgroups/{id}/status has it */
	req->ref = id;
	return api_status(req);
}

enum MHD_Result api_pod_scale(struct request *req)
{
	const struct k8s_view_pod *p;
	struct agent_cgroup *cgs;
	long long current;
	struct k8s_view kv;
	unsigned int n;
	json_t *o;

	if (view_open(req, &cgs, &n, &kv))
		return MHD_YES;
	p = find_pod(req, &kv);
	if (!p || arg_current(req, &current)) {
		view_close(cgs, n, &kv);
		return MHD_YES;
	}
	o = pod_json(p, cgs);
	json_object_set_new(o, "current", json_integer(current));
	json_object_set_new(o, "desired_scale",
			    json_integer(policy_desired_scale(current, p->idle)));
	view_close(cgs, n, &kv);
	return http_json(req, MHD_HTTP_OK, o);
}

enum MHD_Result api_workloads(struct request *req)
{
	return list_json(req, true);
}

enum MHD_Result api_workload_scale(struct request *req)
{
	const struct k8s_workload *w;
	struct agent_cgroup *cgs;
	const char *kind, *name;
	char ns[256], kbuf[256];
	long long current;
	struct k8s_view kv;
	json_t *o, *per;
	unsigned int i, n;

	split2(req->ref, ns, sizeof(ns), &kind);
	split2(kind, kbuf, sizeof(kbuf), &name);
	if (arg_current(req, &current) || view_open(req, &cgs, &n, &kv))
		return MHD_YES;
	w = k8s_view_workload(&kv, ns, kbuf, name);
	if (!w) {
		view_close(cgs, n, &kv);
		return http_error(req, MHD_HTTP_NOT_FOUND, "no workload %s %s/%s with pods on this "
				  "node%s", kbuf, ns, name, no_source_hint(req));
	}
	o = workload_json(w);
	per = json_array();
	for (i = w->first; i < w->first + w->n; i++)
		json_array_append_new(per, pod_json(&kv.pods[i], cgs));
	json_object_set_new(o, "per_pod", per);
	json_object_set_new(o, "current", json_integer(current));
	json_object_set_new(o, "desired_scale",
			    json_integer(policy_desired_scale(current, w->idle)));
	view_close(cgs, n, &kv);
	return http_json(req, MHD_HTTP_OK, o);
}

/* GET /v1/events[?cgroup=GLOB]: verdict changes as Server-Sent Events */
enum MHD_Result api_events(struct request *req)
{
	const char *glob = http_arg(req, "cgroup"), *lei;
	struct events *bus = http_events(req->srv);
	struct agent_cgroup *cgs;
	struct MHD_Response *r;
	long long last = -1;
	unsigned int i, n;
	enum MHD_Result ret;
	char *initial = NULL, path[4200], *one, *p;
	size_t len = 0;
	FILE *f;

	if (!bus)
		return http_error(req, MHD_HTTP_NOT_FOUND, "no event stream");
	lei = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");
	if (lei && *lei) {
		last = strtoll(lei, &p, 10);
		if (!isdigit((unsigned char)*lei) || *p || last < 0)
			return http_error(req, MHD_HTTP_BAD_REQUEST, "invalid Last-Event-ID '%s': "
					  "expected an event id", lei);
	} else {
		/* a new subscriber first hears every verdict as it stands */
		if (http_cgroups(req, AGENT_NO_TOTALS, &cgs, &n))
			return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		f = open_memstream(&initial, &len);
		for (i = 0; f && i < n; i++) {
			snprintf(path, sizeof(path), "/%s", cgs[i].path);
			if (!cgs[i].active || (glob && fnmatch(glob, path, 0)))
				continue;
			one = events_format(cgs[i].path, cgs[i].id, !cgs[i].current.idle,
					    &cgs[i].current, clock_mono_ns(), http_k8s_pods(req->srv),
					    true, -1);
			if (one)
				fputs(one, f);
			free(one);
		}
		if (f)
			fclose(f);
		agent_cgroups_free(cgs, n);
	}
	r = events__subscribe(bus, req->conn, glob, last, initial);
	if (!r && errno == EBUSY)
		return http_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "too many event subscribers "
				  "(--events-max-subscribers %u); try again in a second (those that "
				  "went away are being let go)",
				  http_events_max(req->srv));
	if (!r)
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	ret = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
