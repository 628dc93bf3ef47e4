// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The transport: libmicrohttpd, the request body and the route table
 * (connections and their deadline: conntrack.c; the responses' bodies:
 * respond.c). What each route answers is in api.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "auth.h"
#include "conntrack.h"
#include "events.h"
#include "http.h"
#include "httpd.h"
#include "readfile.h"

struct http_server {
	struct MHD_Daemon *mhd;
	struct agent *ag;
	struct auth *auth;
	char *tls_cert, *tls_key;
	struct metrics_opts metrics;
	struct k8s_pods *pods;
	struct kubelet *kubelet;
	struct events *events;
	unsigned int events_max;
	struct conntrack ct;
};

enum { GET = 1, POST = 2 };

/*
 * Exact paths, and PREFIX{ref}/ACTION: under /v1/cgroups/ the ref is a
 * cgroup path or id (slashes and all), under /v1/pods/ {namespace}/{pod},
 * under /v1/workloads/ {namespace}/{kind}/{name}.
 */
static const struct route {
	const char *path;	/* exact, or the prefix before {ref} */
	const char *action;	/* NULL for an exact path */
	int slashes;		/* in {ref}: exactly this many, or -1 for any */
	unsigned int methods;
	enum MHD_Result (*handler)(struct request *req);
} routes[] = {
	{ "/healthz", NULL, 0, GET, api_healthz },
	{ "/metrics", NULL, 0, GET, api_metrics },
	{ "/v1/cgroups", NULL, 0, GET, api_cgroups },
	{ "/v1/cgroups/", NULL, 0, GET, api_cgroups },
	{ "/v1/cgroups/", "status", -1, GET, api_status },
	{ "/v1/cgroups/", "samples", -1, GET, api_samples },
	{ "/v1/cgroups/", "scale", -1, GET, api_scale },
	{ "/v1/cgroups/", "client-errors", -1, POST, api_client_errors },
	{ "/v1/pods", NULL, 0, GET, api_pods },
	{ "/v1/pods/", "status", 1, GET, api_pod_status },
	{ "/v1/pods/", "scale", 1, GET, api_pod_scale },
	{ "/v1/workloads", NULL, 0, GET, api_workloads },
	{ "/v1/workloads/", "scale", 2, GET, api_workload_scale },
	{ "/v1/events", NULL, 0, GET, api_events },
	{ "/v1/overview", NULL, 0, GET, api_overview },
};

#define NR_ROUTES (sizeof(routes) / sizeof(routes[0]))

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
	return http_respond(req, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", body, sizeof(msg) - 1,
		       methods == POST ? "POST" : "GET, HEAD");
}

/* whether @s[0..@n) is exactly @slashes + 1 non-empty segments */
static bool segments(const char *s, size_t n, int slashes)
{
	bool empty = true;
	int c = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '/') {
			empty = false;
			continue;
		}
		if (empty)
			return false;
		c++;
		empty = true;
	}
	return !empty && c == slashes;
}

int http_match(const char *url, char *ref, size_t reflen)
{
	const char *rest, *slash;
	bool under = false;
	size_t i, l;

	for (i = 0; i < NR_ROUTES; i++)
		if (!routes[i].action && !strcmp(url, routes[i].path))
			return i;
	for (i = 0; i < NR_ROUTES; i++) {
		if (!routes[i].action)
			continue;
		l = strlen(routes[i].path);
		if (strncmp(url, routes[i].path, l))
			continue;
		under = true;
		rest = url + l;
		slash = strrchr(rest, '/');
		/* an empty reference (/v1/cgroups//status) is the root cgroup */
		if (!slash || (size_t)(slash - rest) >= reflen || strcmp(slash + 1, routes[i].action))
			continue;
		if (routes[i].slashes >= 0 && !segments(rest, slash - rest, routes[i].slashes))
			continue;
		snprintf(ref, reflen, "%.*s", (int)(slash - rest), rest);
		return i;
	}
	return under ? -2 : -1;
}

/* Answer 401 or 403 if the request may not use @r; returns whether it did. */
static bool check_auth(struct request *req, const struct route *r, unsigned int method)
{
	const char *hdr = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_AUTHORIZATION);
	const char *why = NULL;
	unsigned int status;

	status = auth_check(req->srv->auth, method == POST, r->handler == api_healthz, hdr, &why);
	if (!status)
		return false;
	req->unauthorized = status == MHD_HTTP_UNAUTHORIZED;
	http_error(req, status, "%s", why);
	return true;
}

static enum MHD_Result route(struct request *req, const char *url, const char *method)
{
	unsigned int m = !strcmp(method, "GET") || !strcmp(method, "HEAD") ? GET :
			 !strcmp(method, "POST") ? POST : 0;
	const struct route *r;
	char ref[4096];
	int i;

	i = http_match(url, ref, sizeof(ref));
	if (i == -2)
		return http_error(req, MHD_HTTP_NOT_FOUND, "no such resource: expected "
				  "/v1/cgroups/{path-or-id}/status, samples, scale or client-errors, "
				  "/v1/pods/{namespace}/{pod}/status or scale, "
				  "/v1/workloads/{namespace}/{kind}/{name}/scale");
	if (i < 0)
		return http_error(req, MHD_HTTP_NOT_FOUND, "no such resource '%s' (see /v1/cgroups, "
				  "/v1/overview, /v1/pods, /v1/workloads, /metrics, /healthz)", url);
	r = &routes[i];
	if (r->action)
		req->ref = ref;
	if (!(r->methods & m))
		return method_not_allowed(req, r->methods);
	return check_auth(req, r, m) ? MHD_YES : r->handler(req);
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
		req->srv = srv;
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
	conntrack_mark(&srv->ct, conn, true);
	return route(req, url, method);
}

int http_cgroups(struct request *req, enum agent_totals totals, struct agent_cgroup **out,
		 unsigned int *n)
{
	int err = agent__cgroups(req->ag, totals, out, n);

	if (!err && *n >= HTTP_TRIM_CGROUPS)
		req->trim = true;
	return err;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	conntrack_mark(&srv->ct, conn, false);
	/* the response (freed by libmicrohttpd) is gone by now */
	if (req && req->trim)
		malloc_trim(0);
	free(req);
	*con_cls = NULL;
}

/* the contents of @path (a PEM file, at most 1 MiB) in *@out */
static int read_pem(const char *path, char **out, char *err, size_t errlen)
{
	size_t len;
	int ret = read_file(path, 1 << 20, out, &len);

	if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	return ret;
}

/* how many connections the file descriptor limit allows, raised if it can be */
static unsigned int connection_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 64;
	if (rl.rlim_cur < HTTP_MAX_CONNECTIONS + 256 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < HTTP_MAX_CONNECTIONS + 256 ? rl.rlim_max :
									  HTTP_MAX_CONNECTIONS + 256;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < 128)
		return 64;
	return rl.rlim_cur - 64 < HTTP_MAX_CONNECTIONS ? rl.rlim_cur - 64 : HTTP_MAX_CONNECTIONS;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
}

static int prepare(struct http_server *srv, const struct http_opts *o,
		   const struct sockaddr_storage *ss, char *err, size_t errlen)
{
	srv->auth = auth_new(o->token_file, o->auth_all, is_loopback(ss), err, errlen);
	if (!srv->auth)
		return -1;
	if (!o->tls_cert != !o->tls_key) {
		snprintf(err, errlen, "--tls-cert and --tls-key go together");
		return -1;
	}
	if (!o->tls_cert)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "this libmicrohttpd has no TLS support");
		return -1;
	}
	if (read_pem(o->tls_cert, &srv->tls_cert, err, errlen) ||
	    read_pem(o->tls_key, &srv->tls_key, err, errlen))
		return -1;
	return 0;
}

struct http_server *http_start(const struct http_opts *o, struct agent *ag, char *err,
			       size_t errlen)
{
	/* suspend and resume: event streams wait for changes without a thread */
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			     MHD_ALLOW_SUSPEND_RESUME;
	unsigned int budget = connection_budget();
	struct sockaddr_storage ss;
	struct MHD_OptionItem tls[3] = {
		{ MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct http_server *srv;
	socklen_t len;

	if (addr_resolve(o->listen, &ss, &len)) {
		snprintf(err, errlen, "invalid listen address '%s': expected IP:PORT or "
				      "[IPV6]:PORT with a numeric address", o->listen);
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
	srv->metrics = o->metrics;
	srv->pods = o->pods;
	srv->kubelet = o->kubelet;
	srv->events = o->events;
	srv->events_max = o->events_max;
	conntrack_init(&srv->ct);
	if (prepare(srv, o, &ss, err, errlen))
		goto fail;
	if (srv->tls_cert) {
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key };
	}
	/* the logger first: libmicrohttpd uses its own for what comes before */
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, srv,
				    MHD_OPTION_EXTERNAL_LOGGER, conntrack_log, &srv->ct,
				    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				    MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
				    MHD_OPTION_NOTIFY_CONNECTION, conntrack_notify, &srv->ct,
				    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
				    MHD_OPTION_CONNECTION_LIMIT, budget,
				    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				    budget < HTTP_MAX_PER_ADDRESS ? budget : HTTP_MAX_PER_ADDRESS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_REQUEST_DEADLINE_S,
				    MHD_OPTION_ARRAY, tls,
				    MHD_OPTION_END);
	if (!srv->mhd) {
		snprintf(err, errlen, "cannot listen on %s: %s", o->listen,
			 errno ? strerror(errno) : "libmicrohttpd failed to start");
		goto fail;
	}
	conntrack_start(&srv->ct, HTTP_REQUEST_DEADLINE_S);
	return srv;
fail:
	http_stop(srv);
	return NULL;
}

const struct metrics_opts *http_metrics_opts(const struct http_server *srv)
{
	return &srv->metrics;
}

struct k8s_pods *http_k8s_pods(const struct http_server *srv)
{
	return srv->pods;
}

struct events *http_events(const struct http_server *srv)
{
	return srv->events;
}

unsigned int http_events_max(const struct http_server *srv)
{
	return srv->events_max;
}

struct kubelet *http_kubelet(const struct http_server *srv)
{
	return srv->kubelet;
}

const char *http_describe(const struct http_server *srv)
{
	return auth_describe(srv->auth);
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	conntrack_stop(&srv->ct);
	/* streams end (their suspended connections resumed) before the daemon */
	events__shutdown(srv->events);
	if (srv->mhd)
		MHD_stop_daemon(srv->mhd);
	auth_free(srv->auth);
	free(srv->tls_cert);
	free(srv->tls_key);
	conntrack_fini(&srv->ct);
	free(srv);
}
