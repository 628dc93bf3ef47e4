/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgsnap run's HTTP interface (libmicrohttpd): /metrics and the JSON API. */
#ifndef __CGSNAP_HTTP_H
#define __CGSNAP_HTTP_H

#include <stddef.h>

#include "agent.h"

#define HTTP_DEFAULT_LISTEN "127.0.0.1:9465"
#define HTTP_MAX_BODY 4096

struct http_server;

/*
 * Serve on @listen ("127.0.0.1:9465", "[::1]:9465", "0.0.0.0:9465") from
 * a thread of libmicrohttpd's, reading @ag under its lock. Returns NULL with
 * the reason in @err.
 */
struct http_server *http_start(const char *listen, struct agent *ag, char *err, size_t errlen);
void http_stop(struct http_server *srv);

/* Parse "HOST:PORT" or "[V6]:PORT" into @host and *@port. 0 or -EINVAL. */
int http_parse_listen(const char *listen, char *host, size_t hostlen, unsigned int *port);

#endif /* __CGSNAP_HTTP_H */
