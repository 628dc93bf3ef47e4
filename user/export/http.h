/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgsnap run's HTTP interface (libmicrohttpd): /metrics and the JSON API
 * of docs/API.md. */
#ifndef __CGSNAP_HTTP_H
#define __CGSNAP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "agent.h"
#include "metrics.h"

/* a request must arrive whole (headers and body) within this, whatever it
 * trickles; an idle keep-alive connection is closed after it too */
#define HTTP_REQUEST_DEADLINE_S	10
#define HTTP_THREADS		4
#define HTTP_MAX_CONNECTIONS	4096	/* fewer when RLIMIT_NOFILE is lower */
#define HTTP_MAX_PER_ADDRESS	2048

struct http_opts {
	const char *listen;	/* "127.0.0.1:9465", "[::1]:9465", "0.0.0.0:9465" */
	const char *token_file;	/* NULL: no token (see auth.h) */
	bool auth_all;		/* the token for every route but /healthz */
	const char *tls_cert;	/* PEM files: serve HTTPS; both or neither */
	const char *tls_key;
	struct metrics_opts metrics;	/* GET /metrics; its strings must outlive the server */
	struct k8s_pods *pods;		/* NULL: no pod source (names from paths only) */
	struct kubelet *kubelet;	/* NULL: no kubelet client */
	struct events *events;		/* GET /v1/events; NULL: no stream */
	unsigned int events_max;	/* its subscribers at most */
};

struct http_server;

/*
 * Serve @o->listen from libmicrohttpd's threads, answering from what @ag's
 * queries copy out. Returns NULL with the reason in @err.
 */
struct http_server *http_start(const struct http_opts *o, struct agent *ag, char *err,
			       size_t errlen);
/* who may read and write, for the start-up log */
const char *http_describe(const struct http_server *srv);
void http_stop(struct http_server *srv);

#endif /* __CGSNAP_HTTP_H */
