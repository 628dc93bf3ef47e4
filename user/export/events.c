// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "cgjson.h"
#include "clock.h"
#include "events.h"
#include "httpd.h"

/* one change, as sent: "id: N\ndata: {...}\n\n" */
struct event {
	uint64_t id;
	char *glob_path;	/* "/path", what ?cgroup=GLOB matches */
	char *text;
	size_t len;
};

struct events_sub {
	struct events *bus;
	struct MHD_Connection *conn;
	char *glob;
	uint64_t next_id;	/* the first event it has not had */
	char *out;		/* being sent: an event, a heartbeat, the initial state */
	size_t out_len, out_off;
	bool owned;		/* out is malloc'ed */
	int fd;			/* its socket, to see a client that went away */
	bool suspended, heartbeat, gone;
	struct events_sub *next, *prev;
};

struct events {
	pthread_mutex_t lock;
	struct k8s_pods *pods;
	struct event ring[EVENTS_RING];
	uint64_t first_id;	/* of this run's first event */
	uint64_t next_id;	/* of the next event published; the ring holds
				 * [max(first_id, next_id - EVENTS_RING), next_id) */
	struct events_sub *subs;
	unsigned int nr_subs, max_subs;
	bool closing;
	pthread_t heart;
	pthread_cond_t cond;
};

/* whether @s's client closed its end: it sends nothing after its request,
 * so anything to read is the end */
static bool hung_up(const struct events_sub *s)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN | POLLRDHUP };

	return s->fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP |
								   POLLERR));
}

/* those gone are let go at once, not at their next write */
static void reap(struct events *e)
{
	for (struct events_sub *s = e->subs; s; s = s->next)
		if (s->suspended && hung_up(s)) {
			s->gone = true;
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
}

static void resume(struct events_sub *s)
{
	if (!s->suspended)
		return;
	s->suspended = false;
	MHD_resume_connection(s->conn);
}

/* every EVENTS_HEARTBEAT_S: a comment on every stream, that keeps proxies
 * and clients from taking a quiet stream for a dead one */
static void *heartbeat(void *arg)
{
	struct events *e = arg;
	struct timespec ts;

	pthread_mutex_lock(&e->lock);
	while (!e->closing) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += EVENTS_HEARTBEAT_S;
		if (pthread_cond_timedwait(&e->cond, &e->lock, &ts) != ETIMEDOUT)
			continue;
		reap(e);
		for (struct events_sub *s = e->subs; s; s = s->next) {
			s->heartbeat = true;
			resume(s);
		}
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

struct events *events__new(unsigned int max_subscribers, struct k8s_pods *pods)
{
	struct events *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;

	if (!e)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->pods = pods;
	e->max_subs = max_subscribers;
	/* ids from the wall clock in microseconds: a restarted agent's are
	 * larger than its predecessor's, so that a client resuming with an old
	 * Last-Event-ID is told it lost events, not made to wait for ids that
	 * come much later */
	e->next_id = e->first_id = clock_real_us();
	if (pthread_create(&e->heart, NULL, heartbeat, e)) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	return e;
}

void events__shutdown(struct events *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->closing = true;
	for (struct events_sub *s = e->subs; s; s = s->next)
		resume(s);
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

void events__free(struct events *e)
{
	if (!e)
		return;
	events__shutdown(e);
	pthread_join(e->heart, NULL);
	for (unsigned int i = 0; i < EVENTS_RING; i++) {
		free(e->ring[i].glob_path);
		free(e->ring[i].text);
	}
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

char *events_format(const char *path, uint64_t id, bool overloaded,
		    const struct cgsnap_status *st, int64_t t_ns, struct k8s_pods *pods,
		    bool initial, int64_t event_id)
{
	struct k8s_podlist *l = k8s_pods_get(pods);
	json_t *o = cgjson_ref(path, id, l, k8s_pods_label_keys(pods));
	char *data, *text = NULL;

	k8s_podlist_put(l);
	if (!o)
		return NULL;
	/* "cgroup" is the path as /v1/cgroups lists it */
	json_object_set(o, "cgroup", json_object_get(o, "path"));
	json_object_del(o, "path");
	json_object_set_new(o, "overloaded", json_boolean(overloaded));
	json_object_set_new(o, "kinds", cgjson_kinds(st));
	json_object_set_new(o, "t_ns", json_integer(t_ns));
	if (initial)
		json_object_set_new(o, "initial", json_true());
	data = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(o);
	if (!data)
		return NULL;
	if ((event_id >= 0 ? asprintf(&text, "id: %lld\ndata: %s\n\n", (long long)event_id, data) :
			     asprintf(&text, "data: %s\n\n", data)) < 0)
		text = NULL;
	free(data);
	return text;
}

void events__publish(struct events *e, const char *path, uint64_t id, bool overloaded,
		     const struct cgsnap_status *st, int64_t t_ns)
{
	struct event *ev;
	char *text, *gp;
	uint64_t eid;

	pthread_mutex_lock(&e->lock);
	eid = e->next_id;
	pthread_mutex_unlock(&e->lock);
	/* formatted outside the lock: the tick thread alone publishes */
	text = events_format(path, id, overloaded, st, t_ns, e->pods, false, (int64_t)eid);
	if (!text || asprintf(&gp, "/%s", path) < 0) {
		free(text);
		return;
	}
	pthread_mutex_lock(&e->lock);
	ev = &e->ring[eid % EVENTS_RING];
	free(ev->text);
	free(ev->glob_path);
	ev->id = eid;
	ev->text = text;
	ev->len = strlen(text);
	ev->glob_path = gp;
	e->next_id = eid + 1;
	for (struct events_sub *s = e->subs; s; s = s->next)
		resume(s);
	pthread_mutex_unlock(&e->lock);
}

/* call locked: the next thing @s is to send into s->out, false if none */
static bool next_out(struct events *e, struct events_sub *s)
{
	uint64_t oldest = e->next_id - e->first_id > EVENTS_RING ? e->next_id - EVENTS_RING :
			  e->first_id;
	char lost[160];

	if (s->owned)
		free(s->out);
	s->out = NULL;
	s->owned = false;
	s->out_off = 0;
	if (s->next_id < oldest) {
		/* it fell behind the ring: say what it missed, then go on */
		snprintf(lost, sizeof(lost), "event: lost\ndata: {\"first\":%llu,\"last\":%llu}\n\n",
			 (unsigned long long)s->next_id, (unsigned long long)oldest - 1);
		s->next_id = oldest;
		s->out = strdup(lost);
		s->owned = s->out != NULL;
	}
	for (; !s->out && s->next_id < e->next_id; s->next_id++) {
		struct event *ev = &e->ring[s->next_id % EVENTS_RING];

		if (ev->id != s->next_id || (s->glob && fnmatch(s->glob, ev->glob_path, 0)))
			continue;
		s->out = strdup(ev->text);
		s->owned = s->out != NULL;
	}
	if (!s->out && s->heartbeat) {
		s->out = ": heartbeat\n\n";
		s->heartbeat = false;
	}
	s->out_len = s->out ? strlen(s->out) : 0;
	return s->out;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct events_sub *s = cls;
	struct events *e = s->bus;
	size_t n = 0, k;

	pthread_mutex_lock(&e->lock);
	if (e->closing || s->gone) {
		pthread_mutex_unlock(&e->lock);
		return s->gone ? MHD_CONTENT_READER_END_WITH_ERROR : MHD_CONTENT_READER_END_OF_STREAM;
	}
	while (n < max && (s->out_off < s->out_len || next_out(e, s))) {
		k = s->out_len - s->out_off < max - n ? s->out_len - s->out_off : max - n;
		memcpy(buf + n, s->out + s->out_off, k);
		s->out_off += k;
		n += k;
	}
	if (!n) {
		/* nothing to send: parked until a change or the heartbeat */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
	}
	pthread_mutex_unlock(&e->lock);
	return n;
}

static void sub_free(void *cls)
{
	struct events_sub *s = cls;
	struct events *e = s->bus;

	pthread_mutex_lock(&e->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		e->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	e->nr_subs--;
	pthread_mutex_unlock(&e->lock);
	if (s->owned)
		free(s->out);
	free(s->glob);
	free(s);
}

struct MHD_Response *events__subscribe(struct events *e, struct MHD_Connection *conn,
				       const char *glob, int64_t last_id, char *initial)
{
	struct events_sub *s = calloc(1, sizeof(*s));
	const union MHD_ConnectionInfo *info;
	struct MHD_Response *r;

	if (!s || (glob && !(s->glob = strdup(glob)))) {
		free(s);
		free(initial);
		errno = ENOMEM;
		return NULL;
	}
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->bus = e;
	s->conn = conn;
	s->fd = info ? info->connect_fd : -1;
	s->out = initial;
	s->owned = initial != NULL;
	s->out_len = initial ? strlen(initial) : 0;
	pthread_mutex_lock(&e->lock);
	if (e->nr_subs >= e->max_subs || e->closing) {
		/* a subscriber that went away goes unseen while its connection
		 * is parked: those are let go now, for the next to come */
		reap(e);
		pthread_mutex_unlock(&e->lock);
		free(initial);
		free(s->glob);
		free(s);
		errno = EBUSY;
		return NULL;
	}
	/* an id from the future (a clock set back): as if none was given */
	s->next_id = last_id >= 0 && (uint64_t)last_id < e->next_id ? (uint64_t)last_id + 1 :
		     e->next_id;
	s->next = e->subs;
	if (e->subs)
		e->subs->prev = s;
	e->subs = s;
	e->nr_subs++;
	pthread_mutex_unlock(&e->lock);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, sub_free);
	if (!r) {
		sub_free(s);
		errno = ENOMEM;
		return NULL;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return r;
}

unsigned int events__subscribers(struct events *e)
{
	unsigned int n;

	pthread_mutex_lock(&e->lock);
	n = e->nr_subs;
	pthread_mutex_unlock(&e->lock);
	return n;
}

uint64_t events__last_id(struct events *e)
{
	uint64_t id;

	pthread_mutex_lock(&e->lock);
	id = e->next_id - 1;
	pthread_mutex_unlock(&e->lock);
	return id;
}
