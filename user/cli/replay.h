/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgsnap replay: recorded snapshots through the daemon's snapshotter (docs/SPEC.md section 7). */
#ifndef __CGSNAP_REPLAY_H
#define __CGSNAP_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "snapshotter.h"

#define REPLAY_DEFAULT_CGROUP "default"

struct replay_opts {
	struct cgsnap_settings settings;
	bool sample;		/* add "sample" per cgroup */
	int64_t sample_ns;	/* its duration; 0: whole history */
};

/*
 * Read JSON Lines from @in, one snapshot per line, and build the result
 * object of docs/SPEC.md section 7 in *@result. Blank lines are skipped.
 * Returns 0; -EINVAL for a malformed line, with "line N: problem" in @err;
 * -EIO if @in cannot be read; -ENOMEM.
 */
int replay_stream(FILE *in, const struct replay_opts *opts, json_t **result, char *err,
		  size_t errlen);

#endif /* __CGSNAP_REPLAY_H */
