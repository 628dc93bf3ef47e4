/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The rows of run's option table, for its two readers: argv and --check
 * (run_options.c), the config file (run_config.c). Not for other users. */
#ifndef __CGSNAP_RUN_OPTIONS_INT_H
#define __CGSNAP_RUN_OPTIONS_INT_H

#include <stddef.h>
#include <stdio.h>

#include "run_options.h"

/* what a config value may be */
#define J_STR	(1U << 0)
#define J_INT	(1U << 1)
#define J_BOOL	(1U << 2)
#define J_LIST	(1U << 3)	/* an array of the above, each applied in turn */

struct run_opt {
	const char *flag;	/* --flag */
	int key;		/* a letter, or 0: numbered from RUN_OPT_FIRST_PLAIN */
	const char *arg;	/* the value's placeholder; NULL: a switch */
	int argp_flags;
	const char *config;	/* the config file's key; NULL: a flag only */
	unsigned int json;
	int group;
	const char *doc;
	/* apply @v (NULL: a switch given): 0, or -EINVAL with what is expected
	 * in @err ("a duration ...") */
	int (*set)(struct run_options *o, const char *v, char *err, size_t len);
	/* its line(s) in --check, or NULL: another row's line shows it */
	void (*show)(const struct run_options *o, FILE *f);
};

/* the row whose config-file key is @key, or NULL */
const struct run_opt *run_opt_by_config(const char *key);

#endif /* __CGSNAP_RUN_OPTIONS_INT_H */
