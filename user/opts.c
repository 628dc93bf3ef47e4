// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "snapshotter.h"

int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (*end || !isfinite(v))
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_size(const char *s, int64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;

	if (!s || !(*s >= '0' && *s <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		u = strchr(units, *end);
		if (!u || (end[1] && strcmp(end + 1, "i") && strcmp(end + 1, "iB") &&
			   strcmp(end + 1, "B")))
			return -EINVAL;
		for (int i = 0; i <= u - units; i++) {
			if (v > (unsigned long long)INT64_MAX / 1024)
				return -ERANGE;
			v *= 1024;
		}
	}
	if (v > (unsigned long long)INT64_MAX)
		return -ERANGE;
	*out = (int64_t)v;
	return 0;
}

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

error_t opt_ratio(struct argp_state *state, const char *arg, double *out)
{
	double v;

	if (parse_double(arg, &v) || !(v > 0 && v <= 1)) {
		argp_error(state, "invalid ratio '%s': expected a number in (0, 1]", arg);
		return EINVAL;
	}
	*out = v;
	return 0;
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
