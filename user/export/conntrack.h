/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP server's connections, from accept to close: a request must
 * arrive whole within a deadline that trickled bytes do not extend (a
 * watchdog shuts such sockets down, and libmicrohttpd closes them), and
 * libmicrohttpd's own messages become one rate-limited log line.
 */
#ifndef __CGSNAP_CONNTRACK_H
#define __CGSNAP_CONNTRACK_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

struct conn;

struct conntrack {
	pthread_mutex_t lock;	/* everything below */
	struct conn *conns;
	int64_t deadline_ns;
	pthread_t watchdog;
	bool watching, stopping;
	int64_t log_window;	/* the rate-limited log: its 10 s window */
	unsigned int log_suppressed;
};

void conntrack_init(struct conntrack *t);
void conntrack_fini(struct conntrack *t);
/* start and stop the watchdog that cuts requests older than @deadline_s */
void conntrack_start(struct conntrack *t, unsigned int deadline_s);
void conntrack_stop(struct conntrack *t);

/* MHD_OPTION_NOTIFY_CONNECTION, with @cls the conntrack */
void conntrack_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code);
/* the request on @conn arrived whole (@answering), or was answered */
void conntrack_mark(struct conntrack *t, struct MHD_Connection *conn, bool answering);
/* MHD_OPTION_EXTERNAL_LOGGER, with @cls the conntrack */
void conntrack_log(void *cls, const char *fmt, va_list ap);

#endif /* __CGSNAP_CONNTRACK_H */
