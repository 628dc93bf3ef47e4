// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>

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
