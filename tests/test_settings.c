// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* docs/SPEC.md section 2: defaults, validation, budget resolution; durations. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <math.h>

#include "snap_helpers.h"

TestSuite(settings);

Test(settings, defaults_are_the_seed_defaults)
{
	struct cgsnap_settings s;

	cgsnap_settings__init(&s);
	cr_assert(eq(i64, s.runq_interval_ns, 500 * MS));
	cr_assert(eq(i64, s.client_interval_ns, 1 * SEC));
	cr_assert(eq(i64, s.system_info_interval_ns, 1 * SEC));
	cr_assert(eq(dbl, s.max_used_cpu_ratio, 0.95));
	cr_assert(eq(i64, s.max_memory_size, -1));
	cr_assert(eq(dbl, s.available_memory_ratio, -1));
	cr_assert(eq(dbl, s.max_used_memory_ratio, 0.9));
	cr_assert(eq(i64, s.max_runq_delay_ns, 50 * MS));
	cr_assert(eq(int, s.runq_statistic, CGSNAP_RUNQ_P99));
	cr_assert(eq(dbl, s.max_memory_stall_ratio, 0.1));
	cr_assert(eq(i64, s.max_client_errors, 1));
	cr_assert(eq(i64, s.client_rate_limit_error_retry_count, 2));
	cr_assert(eq(i64, s.snapshot_history_ns, 30 * SEC));
	cr_assert(eq(dbl, s.reserve_memory_ratio, 0.5));
	cr_assert(eq(i64, s.memory_warning_cooldown_ns, 10 * SEC));
	cr_assert(eq(i64, s.max_snapshot_age_ns, 5 * SEC));
	cr_assert(eq(dbl, s.overload_threshold[CGSNAP_KIND_CPU], 0.4));
	cr_assert(eq(dbl, s.overload_threshold[CGSNAP_KIND_MEMORY], 0.2));
	cr_assert(eq(dbl, s.overload_threshold[CGSNAP_KIND_RUNQ], 0.6));
	cr_assert(eq(dbl, s.overload_threshold[CGSNAP_KIND_CLIENT], 0.3));
	cr_assert(eq(int, cgsnap_settings__validate(&s, NULL), 0));
}

static void expect_invalid(void (*mutate)(struct cgsnap_settings *), const char *needle)
{
	struct cgsnap_settings s;
	const char *why = NULL;

	cgsnap_settings__init(&s);
	mutate(&s);
	cr_assert(eq(int, cgsnap_settings__validate(&s, &why), -EINVAL));
	cr_assert(ne(ptr, (void *)why, NULL));
	cr_assert(ne(ptr, strstr(why, needle), NULL), "'%s' should name %s", why, needle);
	errno = 0;
	cr_assert(eq(ptr, cgsnap_snapshotter__new(&s), NULL));
	cr_assert(eq(int, errno, EINVAL));
}

static void zero_interval(struct cgsnap_settings *s) { s->runq_interval_ns = 0; }
static void ratio_zero(struct cgsnap_settings *s) { s->max_used_cpu_ratio = 0; }
static void ratio_above_one(struct cgsnap_settings *s) { s->max_used_memory_ratio = 1.01; }
static void ratio_nan(struct cgsnap_settings *s) { s->reserve_memory_ratio = NAN; }
static void negative_history(struct cgsnap_settings *s) { s->snapshot_history_ns = -1; }
static void negative_size(struct cgsnap_settings *s) { s->max_memory_size = -5; }
static void threshold_zero(struct cgsnap_settings *s) { s->overload_threshold[CGSNAP_KIND_RUNQ] = 0; }
static void avail_ratio(struct cgsnap_settings *s) { s->available_memory_ratio = 2; }

Test(settings, bad_values_rejected_with_reason)
{
	expect_invalid(zero_interval, "runq_interval");
	expect_invalid(ratio_zero, "max_used_cpu_ratio");
	expect_invalid(ratio_above_one, "max_used_memory_ratio");
	expect_invalid(ratio_nan, "reserve_memory_ratio");
	expect_invalid(negative_history, "snapshot_history");
	expect_invalid(negative_size, "max_memory_size");
	expect_invalid(threshold_zero, "runq_overload_threshold");
	expect_invalid(avail_ratio, "available_memory_ratio");
}

Test(settings, memory_budget_resolution_order)
{
	struct cgsnap_settings s;

	cgsnap_settings__init(&s);
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, 4 * GIB, 16 * GIB), 4 * GIB),
		  "the cgroup's own limit");
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, -1, 16 * GIB), 16 * GIB),
		  "unlimited: host MemTotal");
	s.available_memory_ratio = 0.3;
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, 1000, 16 * GIB), 300));
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, 10, 16 * GIB), 3), "trunc(0.3 x 10)");
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, -1, 1001), 300), "trunc(300.3)");
	s.max_memory_size = 123456;
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, 1000, 16 * GIB), 123456),
		  "max_memory_size first");
}

/* near INT64_MAX, budget x ratio rounds up to 2^63: saturate, never wrap
 * (issue: a threshold of -9223372036854775808 and a warning every 10 s) */
Test(settings, memory_rules_saturate_instead_of_overflowing)
{
	struct cgsnap_settings s;

	cr_assert(eq(i64, cgsnap_memory_warning_threshold(INT64_MAX, 1, 0.5), INT64_MAX));
	cr_assert(eq(i64, cgsnap_memory_warning_threshold(INT64_MAX, 0.9, 1), INT64_MAX));
	cr_assert(eq(i64, cgsnap_memory_warning_threshold(8LL << 30, 0.9, 0.5), 8160437861));
	cgsnap_settings__init(&s);
	s.available_memory_ratio = 1;
	cr_assert(eq(i64, cgsnap_settings__memory_budget(&s, INT64_MAX, 0), INT64_MAX));
}

Test(settings, durations)
{
	int64_t ns;

	cr_assert(eq(int, cgsnap_parse_duration("0s", &ns), 0));
	cr_assert(eq(i64, ns, 0));
	cr_assert(eq(int, cgsnap_parse_duration("500ms", &ns), 0));
	cr_assert(eq(i64, ns, 500 * MS));
	cr_assert(eq(int, cgsnap_parse_duration("7us", &ns), 0));
	cr_assert(eq(i64, ns, 7000));
	cr_assert(eq(int, cgsnap_parse_duration("3m", &ns), 0));
	cr_assert(eq(i64, ns, 180 * SEC));
	cr_assert(eq(int, cgsnap_parse_duration("2h", &ns), 0));
	cr_assert(eq(i64, ns, 7200 * SEC));
	cr_assert(eq(int, cgsnap_parse_duration("12ns", &ns), 0));
	cr_assert(eq(i64, ns, 12));
	cr_assert(eq(int, cgsnap_parse_duration("5", &ns), -EINVAL), "a unit is required");
	cr_assert(eq(int, cgsnap_parse_duration("-1s", &ns), -EINVAL));
	cr_assert(eq(int, cgsnap_parse_duration("1.5s", &ns), -EINVAL));
	cr_assert(eq(int, cgsnap_parse_duration("10x", &ns), -EINVAL));
	cr_assert(eq(int, cgsnap_parse_duration(" 1s", &ns), -EINVAL));
	cr_assert(eq(int, cgsnap_parse_duration("", &ns), -EINVAL));
	cr_assert(eq(int, cgsnap_parse_duration("9999999999h", &ns), -ERANGE));
	cr_assert(eq(int, cgsnap_parse_duration("99999999999999999999999s", &ns), -ERANGE));
}

Test(settings, names)
{
	cr_assert(eq(int, cgsnap_kind_from_name("runq"), CGSNAP_KIND_RUNQ));
	cr_assert(eq(int, cgsnap_kind_from_name("disk"), -EINVAL));
	cr_assert(eq(str, (char *)cgsnap_kind_name(CGSNAP_KIND_CLIENT), "client"));
	cr_assert(eq(int, cgsnap_runq_stat_from_name("p90"), CGSNAP_RUNQ_P90));
	cr_assert(eq(int, cgsnap_runq_stat_from_name("p95"), -EINVAL));
}
