// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The verdict table: what is announced, and when a change waits for the hold. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "snapshotter.h"
#include "verdicts.h"

#define S 1000000000LL
#define CPU (1u << CGSNAP_KIND_CPU)
#define RUNQ (1u << CGSNAP_KIND_RUNQ)

static struct verdicts *t;
static enum verdict prev;

static void setup(void)
{
	t = verdicts__new();
	cr_assert(ne(ptr, t, NULL));
}

static void teardown(void)
{
	verdicts__free(t);
}

TestSuite(verdicts, .init = setup, .fini = teardown);

Test(verdicts, the_first_verdict_is_announced_then_only_changes)
{
	cr_assert(verdicts__update(t, 7, VERDICT_IDLE, 0, 0, S, &prev));
	cr_assert(eq(int, prev, VERDICT_NONE));
	cr_assert(not(verdicts__update(t, 7, VERDICT_IDLE, 0, 5 * S, S, &prev)));
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU, 6 * S, S, &prev));
	cr_assert(eq(int, prev, VERDICT_IDLE));
	cr_assert(eq(int, verdicts__get(t, 7), VERDICT_OVERLOADED));
	cr_assert(eq(int, verdicts__get(t, 8), VERDICT_NONE));
	cr_assert(eq(u32, verdicts__count(t), 1));
}

Test(verdicts, a_flip_back_waits_for_the_hold)
{
	cr_assert(verdicts__update(t, 7, VERDICT_IDLE, 0, 0, S, &prev));
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU, 2 * S, S, &prev));
	/* 0.5 s later: held */
	cr_assert(not(verdicts__update(t, 7, VERDICT_IDLE, 0, 2 * S + S / 2, S, &prev)));
	cr_assert(eq(int, verdicts__get(t, 7), VERDICT_OVERLOADED));
	cr_assert(verdicts__update(t, 7, VERDICT_IDLE, 0, 3 * S, S, &prev));
	cr_assert(eq(int, prev, VERDICT_OVERLOADED));
}

Test(verdicts, a_kind_that_joins_is_told_at_once_one_that_leaves_after_the_hold)
{
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU, 0, S, &prev));
	/* runq joins 100 ms later: told, though the hold has not passed */
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU | RUNQ, S / 10, S, &prev));
	cr_assert(eq(int, prev, VERDICT_OVERLOADED));
	cr_assert(not(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU | RUNQ, S / 5, S, &prev)));
	/* cpu leaves: only once the last announcement has held */
	cr_assert(not(verdicts__update(t, 7, VERDICT_OVERLOADED, RUNQ, S / 2, S, &prev)));
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, RUNQ, S + S / 10, S, &prev));
	/* one leaves while another joins: a join, told at once */
	cr_assert(verdicts__update(t, 7, VERDICT_OVERLOADED, CPU, S + S / 5, S, &prev));
}

Test(verdicts, forgotten_cgroups_start_over)
{
	for (uint64_t id = 1; id <= 1000; id++)
		cr_assert(verdicts__update(t, id, VERDICT_IDLE, 0, 0, S, &prev));
	cr_assert(eq(u32, verdicts__count(t), 1000));
	verdicts__forget(t, 500);
	cr_assert(eq(u32, verdicts__count(t), 999));
	cr_assert(eq(int, verdicts__get(t, 500), VERDICT_NONE));
	cr_assert(eq(int, verdicts__get(t, 501), VERDICT_IDLE));
	cr_assert(verdicts__update(t, 500, VERDICT_OVERLOADED, RUNQ, 0, S, &prev));
	cr_assert(eq(int, prev, VERDICT_NONE));
}
