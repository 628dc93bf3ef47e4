/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who may use the HTTP interface. With a token file, writes (POST) need
 * "Authorization: Bearer <token>", and with --auth all every route but
 * /healthz does. Without one, reads stay open (as Prometheus exporters'
 * do) and writes are allowed on loopback only. The token file is read
 * again whenever it changes (rotation); tokens are compared in constant
 * time.
 */
#ifndef __CGSNAP_AUTH_H
#define __CGSNAP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct auth;

/* NULL with the reason in @err (an unreadable or empty token file). */
struct auth *auth_new(const char *token_file, bool all_routes, bool loopback, char *err,
		      size_t errlen);
void auth_free(struct auth *a);

/*
 * May a request with @authorization (the header, or NULL) do this? @write
 * for POST, @open for /healthz. Returns 0, or the HTTP status to answer
 * (401, 403) with the reason in *@why.
 */
unsigned int auth_check(struct auth *a, bool write, bool open, const char *authorization,
			const char **why);

/* one line for the start-up log: who may read and write */
const char *auth_describe(const struct auth *a);

#endif /* __CGSNAP_AUTH_H */
