/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The commands' HTTP client of a running `cgsnap run` (status, top):
 * libcurl, over HTTP or HTTPS, with the agent's bearer token when it wants
 * one; GET requests and the /v1/events stream.
 */
#ifndef __CGSNAP_CLIENT_H
#define __CGSNAP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct cli_server {
	char base[600];		/* "http://127.0.0.1:9465" */
	char auth[8200];	/* "Authorization: Bearer ..." or "" */
	const char *cacert;	/* check the agent's certificate against this CA */
};

/* the argp rows of the options cli_server_init() takes, with these keys */
#define CLI_SERVER_OPTIONS(token_key, cacert_key)						\
	{ "token-file", (token_key), "FILE", 0,							\
	  "The agent's bearer token (cgsnap run --auth all)", 0 },				\
	{ "cacert", (cacert_key), "FILE", 0,							\
	  "Check an https:// agent's certificate against this CA", 0 }

/* @server is ADDR:PORT or an http(s):// URL; @token_file (may be NULL)
 * holds the agent's token. 0, or -EINVAL with the reason in @err. */
int cli_server_init(struct cli_server *s, const char *server, const char *token_file,
		    const char *cacert, char *err, size_t errlen);

/* GET @path: the HTTP status in *@status and the body (malloc'ed) in
 * *@body. 0, or -EIO with libcurl's reason in @err (the agent is not there). */
int cli_get(const struct cli_server *s, const char *path, long *status, char **body, char *err,
	    size_t errlen);

/*
 * Follow the event stream at @path: @fn gets each event's type ("message"
 * unless named), id (or NULL) and data; a non-zero return ends the stream.
 * Returns 0 when @fn ended it or the agent closed it, -EIO (why in @err)
 * when the agent is not reached or goes silent past two heartbeats, -EPROTO
 * for an HTTP error (its status in *@status).
 */
int cli_events(const struct cli_server *s, const char *path,
	       int (*fn)(const char *type, const char *id, const char *data, void *ctx), void *ctx,
	       long *status, char *err, size_t errlen);

/* the cgroup path @in, percent-encoded for a URL path (slashes kept) */
void cli_url_path(const char *in, char *out, size_t len);

#endif /* __CGSNAP_CLIENT_H */
