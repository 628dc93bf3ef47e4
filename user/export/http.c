// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The transport: libmicrohttpd, the request body, responses, and the route
 * table. What each route answers is in api.c. Every error is a 4xx or 5xx
 * with {"error": "..."}.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "http.h"
#include "httpd.h"

struct http_server {
	struct MHD_Daemon *mhd;
	struct agent *ag;
};

enum { GET = 1, POST = 2 };

/* exact paths, and /v1/cgroups/{ref}/ACTION */
static const struct route {
	const char *path;	/* exact, or the ACTION when under /v1/cgroups/{ref}/ */
	bool per_cgroup;
	unsigned int methods;
	enum MHD_Result (*handler)(struct request *req);
} routes[] = {
	{ "/healthz", false, GET, api_healthz },
	{ "/metrics", false, GET, api_metrics },
	{ "/v1/cgroups", false, GET, api_cgroups },
	{ "/v1/cgroups/", false, GET, api_cgroups },
	{ "status", true, GET, api_status },
	{ "samples", true, GET, api_samples },
	{ "scale", true, GET, api_scale },
	{ "client-errors", true, POST, api_client_errors },
};

#define NR_ROUTES (sizeof(routes) / sizeof(routes[0]))
#define CGROUPS_PREFIX "/v1/cgroups/"

static enum MHD_Result respond(struct request *req, unsigned int status, const char *type,
			       char *body, size_t len, const char *allow)
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
	ret = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_body(struct request *req, unsigned int status, const char *type, char *body,
			  size_t len)
{
	return respond(req, status, type, body, len, NULL);
}

/* the answer when a response cannot be built */
static enum MHD_Result internal_error(struct request *req)
{
	static const char msg[] = "{\"error\":\"cannot build the response\"}\n";
	char *body = strdup(msg);

	if (!body)
		return MHD_NO;
	return respond(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", body,
		       sizeof(msg) - 1, NULL);
}

enum MHD_Result http_json(struct request *req, unsigned int status, json_t *obj)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	size_t len;
	char *nb;

	json_decref(obj);
	if (!body)
		return internal_error(req);
	len = strlen(body);
	/* a trailing newline for people using curl */
	nb = realloc(body, len + 2);
	if (!nb) {
		free(body);
		return internal_error(req);
	}
	nb[len++] = '\n';
	nb[len] = '\0';
	return http_body(req, status, "application/json", nb, len);
}

enum MHD_Result http_error(struct request *req, unsigned int status, const char *fmt, ...)
{
	char raw[1024], msg[4 * sizeof(raw)];
	va_list ap;

	/* the message may quote the request: make it valid UTF-8 */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	return http_json(req, status, json_pack("{s:s}", "error",
						escape_text(raw, msg, sizeof(msg))));
}

const char *http_arg(struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool http_has_arg(struct request *req, const char *name)
{
	const char *value;
	size_t len;

	return MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
					     &value, &len) == MHD_YES;
}

static enum MHD_Result method_not_allowed(struct request *req, unsigned int methods)
{
	static const char msg[] = "{\"error\":\"method not allowed\"}\n";
	char *body = strdup(msg);

	if (!body)
		return MHD_NO;
	return respond(req, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", body, sizeof(msg) - 1,
		       methods == POST ? "POST" : "GET, HEAD");
}

/* the route of @url: for /v1/cgroups/{ref}/ACTION, with req->ref set (in @ref) */
static const struct route *find_route(const char *url, struct request *req, char *ref,
				      size_t reflen)
{
	const char *rest, *slash;
	size_t i;

	for (i = 0; i < NR_ROUTES; i++)
		if (!routes[i].per_cgroup && !strcmp(url, routes[i].path))
			return &routes[i];
	if (strncmp(url, CGROUPS_PREFIX, strlen(CGROUPS_PREFIX)))
		return NULL;
	rest = url + strlen(CGROUPS_PREFIX);
	slash = strrchr(rest, '/');
	/* an empty reference (/v1/cgroups//status) is the root cgroup */
	if (!slash || (size_t)(slash - rest) >= reflen)
		return NULL;
	for (i = 0; i < NR_ROUTES; i++) {
		if (!routes[i].per_cgroup || strcmp(slash + 1, routes[i].path))
			continue;
		snprintf(ref, reflen, "%.*s", (int)(slash - rest), rest);
		req->ref = ref;
		return &routes[i];
	}
	return NULL;
}

static enum MHD_Result route(struct request *req, const char *url, const char *method)
{
	unsigned int m = !strcmp(method, "GET") || !strcmp(method, "HEAD") ? GET :
			 !strcmp(method, "POST") ? POST : 0;
	const struct route *r;
	char ref[4096];

	r = find_route(url, req, ref, sizeof(ref));
	if (!r && !strncmp(url, CGROUPS_PREFIX, strlen(CGROUPS_PREFIX)))
		return http_error(req, MHD_HTTP_NOT_FOUND, "no such resource: expected "
				  "/v1/cgroups/{path-or-id}/status, samples, scale or client-errors");
	if (!r)
		return http_error(req, MHD_HTTP_NOT_FOUND, "no such resource '%s' (see /v1/cgroups, "
				  "/metrics, /healthz)", url);
	if (!(r->methods & m))
		return method_not_allowed(req, r->methods);
	return r->handler(req);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->conn = conn;
		req->ag = srv->ag;
		*con_cls = req;
		return MHD_YES;
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
	return route(req, url, method);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

struct http_server *http_start(const char *listen, struct agent *ag, char *err, size_t errlen)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	struct http_server *srv;
	socklen_t len;

	if (addr_resolve(listen, &ss, &len)) {
		snprintf(err, errlen, "invalid listen address '%s': expected IP:PORT or "
				      "[IPV6]:PORT with a numeric address", listen);
		return NULL;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->ag = ag;
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, srv,
				    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
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
