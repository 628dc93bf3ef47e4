/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Addresses of cgsnap run's HTTP interface, for the server and its clients. */
#ifndef __CGSNAP_ADDR_H
#define __CGSNAP_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define HTTP_DEFAULT_LISTEN "127.0.0.1:9465"

/* Parse "HOST:PORT" or "[V6]:PORT" into @host and *@port. 0 or -EINVAL. */
int addr_parse(const char *addr, char *host, size_t hostlen, unsigned int *port);

/* "IPV4:PORT" or "[IPV6]:PORT" (numeric only) as a socket address in @ss,
 * its length in *@len. Returns 0 or -EINVAL. */
int addr_resolve(const char *addr, struct sockaddr_storage *ss, socklen_t *len);

#endif /* __CGSNAP_ADDR_H */
