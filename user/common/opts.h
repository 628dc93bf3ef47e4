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

#endif /* __CGSNAP_OPTS_H */
