/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checked parsing of command-line values for argp parsers. */
#ifndef __CGSNAP_OPTS_H
#define __CGSNAP_OPTS_H

#include <argp.h>
#include <stdint.h>

/* Each parses @arg into *@out or calls argp_error() naming the option's
 * value and what is expected; they return 0 or EINVAL (argp's convention). */
error_t opt_duration(struct argp_state *state, const char *arg, int64_t *out);
error_t opt_ratio(struct argp_state *state, const char *arg, double *out);
error_t opt_long(struct argp_state *state, const char *arg, long min, long max, long *out);

/* strtod/strtol wrappers checking errno, endptr and range: 0 or -EINVAL/-ERANGE */
int parse_double(const char *s, double *out);
int parse_long(const char *s, long min, long max, long *out);
/* bytes with an optional K, M, G, T suffix (powers of 1024) */
int parse_size(const char *s, int64_t *out);

#endif /* __CGSNAP_OPTS_H */
