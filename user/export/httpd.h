/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Between the HTTP transport (http.c) and the API's handlers (api.c). */
#ifndef __CGSNAP_HTTPD_H
#define __CGSNAP_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <zlib.h>
#include <microhttpd.h>
#include <jansson.h>

#include "agent.h"
#include "pods.h"

#define HTTP_MAX_BODY 4096

struct http_server;

/* one request, as a handler sees it */
struct request {
	struct MHD_Connection *conn;
	struct http_server *srv;
	struct agent *ag;
	bool unauthorized;		/* a 401: say which scheme */
	const char *ref;		/* the {ref} of /v1/cgroups/{ref}/..., /v1/pods/{ref}/... */
	char body[HTTP_MAX_BODY + 1];
	size_t len;
	bool too_big;
	bool trim;			/* give freed memory back once it is answered */
};

/*
 * Every watched cgroup copied out of the agent for @req (agent__cgroups()).
 * A copy of HTTP_TRIM_CGROUPS or more marks the request to give the heap's
 * free pages back to the system when it completes: the copies, the view
 * over them and the rendered text of a node's 10,000 cgroups come to tens
 * of MiB, which glibc keeps (in the HTTP thread's arena, between small
 * blocks that live on) as resident memory until the next scrape.
 */
#define HTTP_TRIM_CGROUPS	1000
int http_cgroups(struct request *req, enum agent_totals totals, struct agent_cgroup **out,
		 unsigned int *n);

/* respond with @obj (its reference is taken) */
enum MHD_Result http_json(struct request *req, unsigned int status, json_t *obj);
/* respond with {"error": "..."} */
__attribute__((format(printf, 3, 4)))
enum MHD_Result http_error(struct request *req, unsigned int status, const char *fmt, ...);
/* respond with @body (malloc'ed, taken) of @len bytes and @type, and an
 * Allow header if @allow */
enum MHD_Result http_respond(struct request *req, unsigned int status, const char *type,
			     char *body, size_t len, const char *allow);
/* respond with @body (malloc'ed, taken) of @len bytes and @type */
enum MHD_Result http_body(struct request *req, unsigned int status, const char *type, char *body,
			  size_t len);
/* a response body written with stdio, gzip-compressed on the fly when the
 * client accepts it (http_stream_open()) */
struct http_stream {
	FILE *f;
	bool gzip;
	z_stream z;
	char *out;
	size_t len, cap;
	int err;
};
/* the FILE to write the body to, or NULL (no memory) */
FILE *http_stream_open(struct request *req, struct http_stream *s);
/* close @s and respond with what was written (500 if writing failed) */
enum MHD_Result http_stream_respond(struct request *req, struct http_stream *s,
				    unsigned int status, const char *type);
/* close @s and drop what was written */
void http_stream_abort(struct http_stream *s);

/* how GET /metrics renders histograms */
const struct metrics_opts *http_metrics_opts(const struct http_server *srv);
/* the event stream's bus, or NULL; how many subscribers it takes */
struct events *http_events(const struct http_server *srv);
unsigned int http_events_max(const struct http_server *srv);
/* the pod source and the kubelet client, or NULL */
struct k8s_pods *http_k8s_pods(const struct http_server *srv);
struct kubelet *http_kubelet(const struct http_server *srv);
/* the query argument @name, or NULL */
const char *http_arg(struct request *req, const char *name);
/* whether the query has argument @name, with or without a value (?verbose) */
bool http_has_arg(struct request *req, const char *name);

/* The route @url names: its index, with /v1/cgroups/{ref}/...'s (or
 * /v1/pods/'s, /v1/workloads/') ref in @ref; -1 for no route, -2 for no
 * such action (or a ref of the wrong shape) under one of those. */
int http_match(const char *url, char *ref, size_t reflen);

/* the handlers of docs/API.md */
enum MHD_Result api_healthz(struct request *req);
enum MHD_Result api_metrics(struct request *req);
enum MHD_Result api_cgroups(struct request *req);
enum MHD_Result api_status(struct request *req);
enum MHD_Result api_overview(struct request *req);
enum MHD_Result api_samples(struct request *req);
enum MHD_Result api_scale(struct request *req);
enum MHD_Result api_client_errors(struct request *req);
enum MHD_Result api_pods(struct request *req);
enum MHD_Result api_pod_status(struct request *req);
enum MHD_Result api_pod_scale(struct request *req);
enum MHD_Result api_workloads(struct request *req);
enum MHD_Result api_workload_scale(struct request *req);
enum MHD_Result api_events(struct request *req);

#endif /* __CGSNAP_HTTPD_H */
