/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --record FILE: every snapshot appended as the JSON Lines `cgsnap replay`
 * reads. Every write is checked: on the first failure the reason is
 * reported once (with the path and strerror), the file is cut back to its
 * last complete line, and recording stops; the agent goes on.
 */
#ifndef __CGSNAP_RECORD_H
#define __CGSNAP_RECORD_H

#include <stdbool.h>

#include "snapshotter.h"

struct record;

/* NULL with errno set */
struct record *record_open(const char *path);
/* Append @snap of the cgroup @cgroup (relative path). Returns 0, or -errno
 * once recording has stopped. */
int record_snapshot(struct record *r, const char *cgroup, const struct cgsnap_snapshot *snap);
/* write the lines of this tick to the file */
int record_flush(struct record *r);
/* whether recording stopped after a write error */
bool record_failed(const struct record *r);
/* Close; returns 0 or the -errno of the last write. */
int record_close(struct record *r);

#endif /* __CGSNAP_RECORD_H */
