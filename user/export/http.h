/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgsnap run's HTTP interface (libmicrohttpd): /metrics and the JSON API
 * of docs/API.md. */
#ifndef __CGSNAP_HTTP_H
#define __CGSNAP_HTTP_H

#include <stddef.h>

#include "addr.h"
#include "agent.h"

struct http_server;

/*
 * Serve on @listen ("127.0.0.1:9465", "[::1]:9465", "0.0.0.0:9465") from
 * a thread of libmicrohttpd's, answering from what @ag's queries copy out.
 * Returns NULL with the reason in @err.
 */
struct http_server *http_start(const char *listen, struct agent *ag, char *err, size_t errlen);
void http_stop(struct http_server *srv);

#endif /* __CGSNAP_HTTP_H */
