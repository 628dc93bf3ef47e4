/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checked parsing of command-line values for argp parsers. */
#ifndef __CGSNAP_OPTS_H
#define __CGSNAP_OPTS_H

#include <argp.h>
#include <stdint.h>

/* Each parses @arg into *@out or calls argp_error() naming the option's
 * value and what is expected; they return 0 or EINVAL (argp's convention). */
error_t opt_duration(struct argp_state *state, const char *arg, int64_t *out);
error_t opt_long(struct argp_state *state, const char *arg, long min, long max, long *out);

/* The end of a parser without arguments: an argument is an error, any
 * other key is not ours (ARGP_ERR_UNKNOWN). */
error_t opt_no_args(int key, const char *arg, struct argp_state *state);

/* --max-cgroups N: the run-queue slots, 1 .. CGSNAP_MAX_SLOTS */
#define OPT_MAX_CGROUPS_DOC \
	"Cgroups the run-queue maps can hold (default: the cgroups there are, a quarter more " \
	"and 512, in steps of 1024)"
error_t opt_max_cgroups(struct argp_state *state, const char *arg, unsigned int *out);

#endif /* __CGSNAP_OPTS_H */
