/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* JSON form of snapshots and statuses (docs/SPEC.md section 7), with jansson. */
#ifndef __CGSNAP_SNAPJSON_H
#define __CGSNAP_SNAPJSON_H

#include <stddef.h>
#include <jansson.h>

#include "snapshotter.h"

/*
 * Parse one replay line's object into *@snap. *@cgroup points into @obj (or
 * is NULL when the line names none). Returns 0, or -EINVAL with a
 * description of the problem in @err.
 */
int snapjson_parse(json_t *obj, struct cgsnap_snapshot *snap, const char **cgroup, char *err,
		   size_t errlen);

/* The snapshot's fields as a new object, as it was given (with "cgroup":
 * @cgroup if it named one), plus "overloaded"; NULL on ENOMEM. */
json_t *snapjson_snapshot(const struct cgsnap_snapshot *snap, const char *cgroup);

/* {"cpu":[...],"memory":[...],...}: one array of snapshots per kind */
json_t *snapjson_sample(const struct cgsnap_sample sample[CGSNAP_KIND_COUNT], const char *cgroup);

/* {"cpu":{"limit_ratio","actual_ratio","overloaded"},...,"idle"} */
json_t *snapjson_status(const struct cgsnap_status *status);

json_t *snapjson_warning(const struct cgsnap_memory_warning *w);

#endif /* __CGSNAP_SNAPJSON_H */
