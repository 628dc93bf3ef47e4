// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "clock.h"
#include "conntrack.h"
#include "escape.h"
#include "report.h"

/* a connection: when its current request began */
struct conn {
	int fd;
	int64_t since;		/* accepted, or its previous request answered */
	bool answering;		/* the request arrived whole */
	bool cut;
	struct conn *prev, *next;
};


void conntrack_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	struct conntrack *t = cls;
	const union MHD_ConnectionInfo *info;
	struct conn *c = *socket_context;

	pthread_mutex_lock(&t->lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		if (c && info) {
			c->fd = info->connect_fd;
			c->since = clock_mono_ns();
			c->next = t->conns;
			if (t->conns)
				t->conns->prev = c;
			t->conns = c;
		} else {
			free(c);
			c = NULL;
		}
		*socket_context = c;
	} else if (c) {
		if (c->prev)
			c->prev->next = c->next;
		else
			t->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		free(c);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&t->lock);
}

void conntrack_mark(struct conntrack *t, struct MHD_Connection *conn, bool answering)
{
	const union MHD_ConnectionInfo *info;
	struct conn *c;

	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = info ? info->socket_context : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	c->answering = answering;
	if (!answering)
		c->since = clock_mono_ns();
	pthread_mutex_unlock(&t->lock);
}

/* Cut connections whose request is not whole after the deadline: activity
 * (one byte every few seconds) does not extend it. shutdown() lets
 * libmicrohttpd see the end and close the connection itself. */
static void *watchdog(void *arg)
{
	struct conntrack *t = arg;
	const int64_t deadline = t->deadline_ns;
	struct conn *c;

	for (;;) {
		pthread_mutex_lock(&t->lock);
		if (t->stopping) {
			pthread_mutex_unlock(&t->lock);
			return NULL;
		}
		for (c = t->conns; c; c = c->next) {
			if (c->answering || c->cut || clock_mono_ns() - c->since < deadline)
				continue;
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
		}
		pthread_mutex_unlock(&t->lock);
		usleep(250000);
	}
}

/* libmicrohttpd's messages (refused connections, above all): one structured
 * line per 10 s at most, with how many were held back */
void conntrack_log(void *cls, const char *fmt, va_list ap)
{
	struct conntrack *t = cls;
	int64_t now = clock_mono_ns();
	char raw[512], msg[2048];
	size_t n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	n = strlen(raw);
	while (n && raw[n - 1] == '\n')
		raw[--n] = '\0';
	pthread_mutex_lock(&t->lock);
	if (now - t->log_window < 10 * 1000000000LL && t->log_window) {
		t->log_suppressed++;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	report_log(REPORT_WARN, "http: %s%s", escape_text(raw, msg, sizeof(msg)),
		   t->log_suppressed ? " (and more messages in the last 10 s)" : "");
	t->log_window = now;
	t->log_suppressed = 0;
	pthread_mutex_unlock(&t->lock);
}

void conntrack_init(struct conntrack *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
}

void conntrack_start(struct conntrack *t, unsigned int deadline_s)
{
	t->deadline_ns = deadline_s * 1000000000LL;
	t->watching = !pthread_create(&t->watchdog, NULL, watchdog, t);
}

void conntrack_stop(struct conntrack *t)
{
	if (!t->watching)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->watchdog, NULL);
	t->watching = false;
}

/* after the daemon stopped: it told every connection's close already */
void conntrack_fini(struct conntrack *t)
{
	pthread_mutex_destroy(&t->lock);
}
