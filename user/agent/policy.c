// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

enum verdict policy_verdict(const struct cgsnap_status *st)
{
	return st->idle ? VERDICT_IDLE : VERDICT_OVERLOADED;
}

void policy_explain(const struct cgsnap_status *st, char *buf, size_t len)
{
	size_t n = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < CGSNAP_KIND_COUNT && n < len; k++) {
		if (!st->kind[k].overloaded)
			continue;
		n += snprintf(buf + n, len - n, "%s%s %.3f > %g", n ? ", " : "",
			      cgsnap_kind_name(k), st->kind[k].actual_ratio,
			      st->kind[k].limit_ratio);
	}
}

double policy_load(const struct cgsnap_status *st)
{
	double load = 0;
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		double r = st->kind[k].actual_ratio / st->kind[k].limit_ratio;

		if (r > load)
			load = r;
	}
	return load;
}

int64_t policy_desired_scale(int64_t current, bool idle)
{
	int64_t step = (int64_t)ceil((double)current * POLICY_SCALE_STEP_RATIO);
	int64_t desired = idle ? current + step : current - step;

	return desired < 1 ? 1 : desired;
}
