/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * GET /v1/events: verdict changes pushed as Server-Sent Events (docs/API.md).
 * The tick thread publishes each change into a bounded ring; every
 * subscriber's connection is suspended while it has nothing to send and
 * resumed by the next change (or the heartbeat), so that a decision reaches
 * its subscribers as soon as it is made, without a thread per subscriber.
 */
#ifndef __CGSNAP_EVENTS_H
#define __CGSNAP_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

#include "pods.h"
#include "snapshotter.h"

#define EVENTS_RING		1024	/* changes kept for Last-Event-ID */
#define EVENTS_HEARTBEAT_S	15
#define EVENTS_DEFAULT_SUBSCRIBERS 64

struct events;

/* NULL with errno ENOMEM; @pods (may be NULL) names Kubernetes cgroups */
struct events *events__new(unsigned int max_subscribers, struct k8s_pods *pods);
/* end every stream (their readers say end of stream), for MHD_stop_daemon() */
void events__shutdown(struct events *e);
void events__free(struct events *e);

/* Cgroup @id (@path: printable, relative to the v2 mount) turned overloaded
 * (@overloaded) or idle at @t_ns, by @st. */
void events__publish(struct events *e, const char *path, uint64_t id, bool overloaded,
		     const struct cgsnap_status *st, int64_t t_ns);

/* a subscriber's state */
struct events_sub;

/*
 * A subscriber on @conn: events of the cgroups whose path (with its leading
 * /) matches @glob (NULL: all), from the one after @last_id (-1: only new
 * ones, after @initial: a text of events, the verdicts now, taken). Returns
 * the response to queue, NULL with errno EBUSY when there are already as
 * many subscribers as allowed, or ENOMEM.
 */
struct MHD_Response *events__subscribe(struct events *e, struct MHD_Connection *conn,
				       const char *glob, int64_t last_id, char *initial);

/* the text of one event of a verdict (data: line), for @initial: malloc'ed */
char *events_format(const char *path, uint64_t id, bool overloaded,
		    const struct cgsnap_status *st, int64_t t_ns, struct k8s_pods *pods,
		    bool initial, int64_t event_id);

unsigned int events__subscribers(struct events *e);
/* events published so far; the id of the last one */
uint64_t events__last_id(struct events *e);

#endif /* __CGSNAP_EVENTS_H */
