// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Routes (docs/API.md):
 *   GET  /healthz
 *   GET  /metrics
 *   GET  /v1/cgroups
 *   GET  /v1/cgroups/{path-or-id}/status
 *   GET  /v1/cgroups/{path-or-id}/samples?kind=K[&duration=D]
 *   GET  /v1/cgroups/{path-or-id}/scale[?current=N]
 *   POST /v1/cgroups/{path-or-id}/client-errors  {"retry": N, "count": K}
 * Every error is a 4xx or 5xx with {"error": "..."}.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <jansson.h>

#include "http.h"
#include "metrics.h"
#include "snapjson.h"

/* SPEC's AutoscaledPool step: scale by ceil(5%) */
#define SCALE_STEP_RATIO 0.05

struct http_server {
	struct MHD_Daemon *mhd;
	struct agent *ag;
};

struct request {
	char body[HTTP_MAX_BODY + 1];
	size_t len;
	bool too_big;
};

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status,
			       const char *type, char *body, size_t len, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* respond with @obj (its reference is taken) */
static enum MHD_Result respond_json(struct MHD_Connection *conn, unsigned int status, json_t *obj)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	size_t len;

	json_decref(obj);
	if (!body)
		return MHD_NO;
	len = strlen(body);
	/* a trailing newline for people using curl */
	body = realloc(body, len + 2);
	if (!body)
		return MHD_NO;
	body[len++] = '\n';
	body[len] = '\0';
	return respond(conn, status, "application/json", body, len, NULL);
}

__attribute__((format(printf, 3, 4)))
static enum MHD_Result error(struct MHD_Connection *conn, unsigned int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return respond_json(conn, status, json_pack("{s:s}", "error", msg));
}

static enum MHD_Result method_not_allowed(struct MHD_Connection *conn, const char *allow)
{
	char *body = strdup("{\"error\":\"method not allowed\"}\n");

	return body ? respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", body,
			      strlen(body), allow) : MHD_NO;
}

static enum MHD_Result get_metrics(struct MHD_Connection *conn, struct agent *ag)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	err = metrics_write(f, ag);
	fclose(f);
	if (err) {
		free(buf);
		return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics");
	}
	return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len, NULL);
}

static json_t *cgroup_ref(const struct watched *w)
{
	return json_pack("{s:s+,s:I}", "path", "/", w->path, "id", (json_int_t)w->id);
}

static enum MHD_Result get_cgroups(struct MHD_Connection *conn, struct agent *ag)
{
	json_t *arr = json_array();
	struct watched **ws;
	unsigned int i, n;

	n = agent_sorted_watched(ag, &ws);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, cgroup_ref(ws[i]));
	free(ws);
	return respond_json(conn, MHD_HTTP_OK, json_pack("{s:o}", "cgroups", arr));
}

/* the watched cgroup @ref names: a cgroup id, else a path */
static struct watched *find_cgroup(struct agent *ag, const char *ref)
{
	struct watched *w = NULL;
	const char *p = ref;

	while (isdigit((unsigned char)*p))
		p++;
	if (p != ref && !*p)
		w = collector__find_id(ag->collector, strtoull(ref, NULL, 10));
	return w ? w : collector__find_path(ag->collector, ref);
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

static enum MHD_Result get_status(struct MHD_Connection *conn, struct watched *w)
{
	struct cgsnap_status cur, hist;
	json_t *latest = json_object(), *o;
	int k;

	cgsnap_snapshotter__current_status(w->snap, &cur);
	cgsnap_snapshotter__historical_status(w->snap, &hist);
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		const struct cgsnap_snapshot *s = cgsnap_snapshotter__latest(w->snap, k);

		json_object_set_new(latest, cgsnap_kind_name(k), s ? snapjson_snapshot(s, NULL) :
										json_null());
	}
	o = cgroup_ref(w);
	json_object_set_new(o, "idle", json_boolean(cur.idle));
	json_object_set_new(o, "overloaded_kinds", json_pack("{s:o,s:o}", "current",
							      overloaded_kinds(&cur), "historical",
							      overloaded_kinds(&hist)));
	json_object_set_new(o, "current", snapjson_status(&cur));
	json_object_set_new(o, "historical", snapjson_status(&hist));
	json_object_set_new(o, "latest", latest);
	return respond_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result get_samples(struct MHD_Connection *conn, struct watched *w)
{
	const char *kind = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind");
	const char *dur = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "duration");
	struct cgsnap_sample sample;
	int64_t ns = 0;
	json_t *arr, *o;
	uint32_t i;
	int k;

	if (!kind)
		return error(conn, MHD_HTTP_BAD_REQUEST, "the kind parameter is missing "
			     "(cpu, memory, runq or client)");
	k = cgsnap_kind_from_name(kind);
	if (k < 0)
		return error(conn, MHD_HTTP_BAD_REQUEST, "unknown kind '%s' (expected cpu, memory, "
			     "runq or client)", kind);
	if (dur && cgsnap_parse_duration(dur, &ns))
		return error(conn, MHD_HTTP_BAD_REQUEST, "invalid duration '%s': expected a "
			     "non-negative integer with a unit (ns, us, ms, s, m, h)", dur);
	if (cgsnap_snapshotter__sample(w->snap, k, ns, &sample))
		return error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "snapshotter is not active");
	arr = json_array();
	for (i = 0; i < sample.len; i++)
		json_array_append_new(arr, snapjson_snapshot(cgsnap_sample__at(&sample, i), NULL));
	o = cgroup_ref(w);
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "duration_ns", json_integer(ns));
	json_object_set_new(o, "samples", arr);
	return respond_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result get_scale(struct MHD_Connection *conn, struct watched *w)
{
	const char *cur = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "current");
	struct cgsnap_status hist;
	long long current = 1, step, desired;
	double load = 0;
	json_t *o;
	char *end;
	int k;

	if (cur) {
		errno = 0;
		current = strtoll(cur, &end, 10);
		if (errno || end == cur || *end || current < 1 || current > 1000000000)
			return error(conn, MHD_HTTP_BAD_REQUEST, "invalid current '%s': expected a "
				     "positive integer", cur);
	}
	cgsnap_snapshotter__historical_status(w->snap, &hist);
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		double r = hist.kind[k].actual_ratio / hist.kind[k].limit_ratio;

		if (r > load)
			load = r;
	}
	/* Crawlee's AutoscaledPool: up by ceil(5%) when historically idle, else down */
	step = (long long)ceil(current * SCALE_STEP_RATIO);
	desired = hist.idle ? current + step : current - step;
	if (desired < 1)
		desired = 1;
	o = cgroup_ref(w);
	json_object_set_new(o, "load", json_real(load));
	json_object_set_new(o, "historical_idle", json_boolean(hist.idle));
	json_object_set_new(o, "overloaded_kinds", overloaded_kinds(&hist));
	json_object_set_new(o, "current", json_integer(current));
	json_object_set_new(o, "desired_scale", json_integer(desired));
	return respond_json(conn, MHD_HTTP_OK, o);
}

static enum MHD_Result post_client_errors(struct MHD_Connection *conn, struct watched *w,
					  const struct request *req)
{
	json_t *body, *retry, *count;
	json_error_t jerr;
	json_int_t n = 1;
	int ret;

	if (req->too_big)
		return error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body larger than %d bytes",
			     HTTP_MAX_BODY);
	body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body)
		return error(conn, MHD_HTTP_BAD_REQUEST, "invalid JSON: %s", jerr.text);
	retry = json_object_get(body, "retry");
	count = json_object_get(body, "count");
	if (!json_is_object(body) || !json_is_integer(retry) || json_integer_value(retry) < 0 ||
	    (count && (!json_is_integer(count) || json_integer_value(count) < 0))) {
		json_decref(body);
		return error(conn, MHD_HTTP_BAD_REQUEST, "expected {\"retry\": N, \"count\": K} "
			     "with non-negative integers (count defaults to 1)");
	}
	if (count)
		n = json_integer_value(count);
	ret = cgsnap_snapshotter__report_client_errors(w->snap, json_integer_value(retry), n);
	json_decref(body);
	if (ret < 0)
		return error(conn, MHD_HTTP_BAD_REQUEST, "cannot count these errors: %s",
			     cgsnap_strerror(ret));
	return respond_json(conn, MHD_HTTP_OK,
			    json_pack("{s:b,s:I}", "counted", ret == 1, "error_count",
				      (json_int_t)cgsnap_snapshotter__client_error_count(w->snap)));
}

/* /v1/cgroups/{ref}/{action} */
static enum MHD_Result cgroup_route(struct MHD_Connection *conn, struct agent *ag,
				    const char *rest, const char *method,
				    const struct request *req)
{
	static const char *const actions[] = { "status", "samples", "scale", "client-errors" };
	const char *slash = strrchr(rest, '/');
	char ref[4096];
	struct watched *w;
	size_t a;

	/* an empty reference (/v1/cgroups//status) is the root cgroup */
	if (!slash || (size_t)(slash - rest) >= sizeof(ref))
		return error(conn, MHD_HTTP_NOT_FOUND, "no such resource");
	for (a = 0; a < 4; a++)
		if (!strcmp(slash + 1, actions[a]))
			break;
	if (a == 4)
		return error(conn, MHD_HTTP_NOT_FOUND, "no such resource: expected "
			     "/v1/cgroups/{path-or-id}/status, samples, scale or client-errors");
	if (a == 3 ? strcmp(method, "POST") : strcmp(method, "GET") && strcmp(method, "HEAD"))
		return method_not_allowed(conn, a == 3 ? "POST" : "GET, HEAD");
	snprintf(ref, sizeof(ref), "%.*s", (int)(slash - rest), rest);
	w = find_cgroup(ag, ref);
	if (!w)
		return error(conn, MHD_HTTP_NOT_FOUND, "cgroup '%s' is not watched", ref);
	switch (a) {
	case 0:
		return get_status(conn, w);
	case 1:
		return get_samples(conn, w);
	case 2:
		return get_scale(conn, w);
	default:
		return post_client_errors(conn, w, req);
	}
}

static enum MHD_Result route(struct MHD_Connection *conn, struct agent *ag, const char *url,
			     const char *method, const struct request *req)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");

	if (!strncmp(url, "/v1/cgroups/", 12))
		return cgroup_route(conn, ag, url + 12, method, req);
	if (strcmp(url, "/metrics") && strcmp(url, "/healthz") && strcmp(url, "/v1/cgroups") &&
	    strcmp(url, "/v1/cgroups/"))
		return error(conn, MHD_HTTP_NOT_FOUND, "no such resource '%s' (see /v1/cgroups, "
			     "/metrics, /healthz)", url);
	if (!get)
		return method_not_allowed(conn, "GET, HEAD");
	if (!strcmp(url, "/metrics"))
		return get_metrics(conn, ag);
	if (!strcmp(url, "/healthz"))
		return respond_json(conn, MHD_HTTP_OK,
				    json_pack("{s:s,s:i}", "status", "ok", "watched",
					      collector__nr_watched(ag->collector)));
	return get_cgroups(conn, ag);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;
	enum MHD_Result ret;

	if (!req) {
		req = calloc(1, sizeof(*req));
		*con_cls = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*upload_data_size) {
		/* keep reading an oversized body, but keep none of it */
		if (req->len + *upload_data_size > HTTP_MAX_BODY)
			req->too_big = true;
		else
			memcpy(req->body + req->len, upload_data, *upload_data_size);
		req->len += req->too_big ? 0 : *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv->ag->lock);
	ret = route(conn, srv->ag, url, method, req);
	pthread_mutex_unlock(&srv->ag->lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

int http_parse_listen(const char *listen, char *host, size_t hostlen, unsigned int *port)
{
	const char *colon;
	char *end;
	size_t n;
	long p;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = close - listen - 1;
		listen++;
		colon = close + 1;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		n = colon - listen;
	}
	if (!n || n >= hostlen)
		return -EINVAL;
	memcpy(host, listen, n);
	host[n] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
		return -EINVAL;
	*port = p;
	return 0;
}

struct http_server *http_start(const char *listen, struct agent *ag, char *err, size_t errlen)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct http_server *srv;
	unsigned int port, flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr *sa;
	char host[128];

	if (http_parse_listen(listen, host, sizeof(host), &port)) {
		snprintf(err, errlen, "invalid listen address '%s': expected HOST:PORT or "
				      "[IPV6]:PORT", listen);
		return NULL;
	}
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_port = htons(port);
		sa = (struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_port = htons(port);
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "invalid listen address '%s': the host must be an IP "
				      "address", listen);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->ag = ag;
	srv->mhd = MHD_start_daemon(flags, port, NULL, NULL, handle, srv,
				    MHD_OPTION_SOCK_ADDR, sa,
				    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				    MHD_OPTION_CONNECTION_LIMIT, 64U,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT, 32U,
				    MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
			 errno ? strerror(errno) : "libmicrohttpd failed to start");
		free(srv);
		return NULL;
	}
	return srv;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd);
	free(srv);
}
