// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Verdicts, load and the AutoscaledPool rule. Pure, no root. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <string.h>

#include "policy.h"

TestSuite(policy);

static struct cgsnap_status status(double cpu, double runq)
{
	struct cgsnap_status st = {};
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		st.kind[k].limit_ratio = 0.5;
	st.kind[CGSNAP_KIND_CPU].actual_ratio = cpu;
	st.kind[CGSNAP_KIND_RUNQ].actual_ratio = runq;
	st.kind[CGSNAP_KIND_CPU].overloaded = cpu > 0.5;
	st.kind[CGSNAP_KIND_RUNQ].overloaded = runq > 0.5;
	st.idle = cpu <= 0.5 && runq <= 0.5;
	return st;
}

Test(policy, load_is_the_largest_ratio_over_its_threshold)
{
	struct cgsnap_status st = status(0.25, 0.75);

	cr_assert(eq(dbl, policy_load(&st), 1.5));
	st = status(0, 0);
	cr_assert(eq(dbl, policy_load(&st), 0));
}

Test(policy, verdict_and_explanation)
{
	struct cgsnap_status st = status(0.667, 0.75);
	char why[128];

	cr_assert(eq(int, policy_verdict(&st), VERDICT_OVERLOADED));
	policy_explain(&st, why, sizeof(why));
	cr_assert(eq(str, why, "cpu 0.667 > 0.5, runq 0.750 > 0.5"));
	st = status(0.1, 0.1);
	cr_assert(eq(int, policy_verdict(&st), VERDICT_IDLE));
	policy_explain(&st, why, sizeof(why));
	cr_assert(eq(str, why, ""));
}

Test(policy, autoscaled_pool_steps_by_ceil_five_percent)
{
	cr_assert(eq(i64, policy_desired_scale(1, true), 2));
	cr_assert(eq(i64, policy_desired_scale(1, false), 1), "never below 1");
	cr_assert(eq(i64, policy_desired_scale(20, true), 21));
	cr_assert(eq(i64, policy_desired_scale(21, true), 23));
	cr_assert(eq(i64, policy_desired_scale(100, false), 95));
	cr_assert(eq(i64, policy_desired_scale(POLICY_MAX_SCALE, true),
		     POLICY_MAX_SCALE + POLICY_MAX_SCALE / 20));
}
