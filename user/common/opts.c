// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>

#include <linux/bpf.h>

#include "cgsnap.h"
#include "opts.h"
#include "settings.h"

error_t opt_duration(struct argp_state *state, const char *arg, int64_t *out)
{
	int err = cgsnap_parse_duration(arg, out);

	if (err == -ERANGE)
		argp_error(state, "duration '%s' is too large", arg);
	else if (err)
		argp_error(state, "invalid duration '%s': expected a non-negative integer "
				  "with a unit (ns, us, ms, s, m, h), e.g. 500ms", arg);
	return err ? EINVAL : 0;
}

error_t opt_long(struct argp_state *state, const char *arg, long min, long max, long *out)
{
	if (parse_long(arg, min, max, out)) {
		argp_error(state, "invalid number '%s': expected an integer from %ld to %ld", arg,
			   min, max);
		return EINVAL;
	}
	return 0;
}

error_t opt_max_cgroups(struct argp_state *state, const char *arg, unsigned int *out)
{
	long n;

	if (opt_long(state, arg, 1, CGSNAP_MAX_SLOTS, &n))
		return EINVAL;
	*out = n;
	return 0;
}

error_t opt_no_args(int key, const char *arg, struct argp_state *state)
{
	if (key != ARGP_KEY_ARG)
		return ARGP_ERR_UNKNOWN;
	argp_error(state, "unexpected argument '%s'", arg);
	return EINVAL;
}
