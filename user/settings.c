// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Settings, their defaults and validation, names and duration parsing. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snapshotter.h"

static const char *const kind_names[CGSNAP_KIND_COUNT] = {
	[CGSNAP_KIND_CPU] = "cpu",
	[CGSNAP_KIND_MEMORY] = "memory",
	[CGSNAP_KIND_RUNQ] = "runq",
	[CGSNAP_KIND_CLIENT] = "client",
};

static const char *const runq_stat_names[] = {
	[CGSNAP_RUNQ_P50] = "p50",
	[CGSNAP_RUNQ_P90] = "p90",
	[CGSNAP_RUNQ_P99] = "p99",
	[CGSNAP_RUNQ_MAX] = "max",
	[CGSNAP_RUNQ_MEAN] = "mean",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void cgsnap_settings__init(struct cgsnap_settings *s)
{
	*s = (struct cgsnap_settings){
		.runq_interval_ns = 500 * CGSNAP_NSEC_PER_MSEC,
		.client_interval_ns = CGSNAP_NSEC_PER_SEC,
		.system_info_interval_ns = CGSNAP_NSEC_PER_SEC,
		.max_used_cpu_ratio = 0.95,
		.max_memory_size = -1,
		.available_memory_ratio = -1,
		.max_used_memory_ratio = 0.9,
		.max_runq_delay_ns = 50 * CGSNAP_NSEC_PER_MSEC,
		.runq_statistic = CGSNAP_RUNQ_P99,
		.max_memory_stall_ratio = 0.1,
		.max_client_errors = 1,
		.client_rate_limit_error_retry_count = 2,
		.snapshot_history_ns = 30 * CGSNAP_NSEC_PER_SEC,
		.reserve_memory_ratio = 0.5,
		.memory_warning_cooldown_ns = 10 * CGSNAP_NSEC_PER_SEC,
		.max_snapshot_age_ns = 5 * CGSNAP_NSEC_PER_SEC,
		.overload_threshold = {
			[CGSNAP_KIND_CPU] = 0.4,
			[CGSNAP_KIND_MEMORY] = 0.2,
			[CGSNAP_KIND_RUNQ] = 0.6,
			[CGSNAP_KIND_CLIENT] = 0.3,
		},
	};
}

/* a ratio in (0, 1] */
static bool ratio_ok(double r)
{
	return isfinite(r) && r > 0 && r <= 1;
}

int cgsnap_settings__validate(const struct cgsnap_settings *s, const char **why)
{
	static const char *const threshold_why[CGSNAP_KIND_COUNT] = {
		"cpu_overload_threshold must be in (0, 1]",
		"memory_overload_threshold must be in (0, 1]",
		"runq_overload_threshold must be in (0, 1]",
		"client_overload_threshold must be in (0, 1]",
	};
	const char *bad = NULL;
	int k;

	if (s->runq_interval_ns <= 0)
		bad = "runq_interval must be greater than 0";
	else if (s->client_interval_ns <= 0)
		bad = "client_snapshot_interval must be greater than 0";
	else if (s->system_info_interval_ns <= 0)
		bad = "system_info_interval must be greater than 0";
	else if (!ratio_ok(s->max_used_cpu_ratio))
		bad = "max_used_cpu_ratio must be in (0, 1]";
	else if (s->max_memory_size != -1 && s->max_memory_size <= 0)
		bad = "max_memory_size must be a positive number of bytes";
	else if (s->available_memory_ratio != -1 && !ratio_ok(s->available_memory_ratio))
		bad = "available_memory_ratio must be in (0, 1]";
	else if (!ratio_ok(s->max_used_memory_ratio))
		bad = "max_used_memory_ratio must be in (0, 1]";
	else if (s->max_runq_delay_ns < 0)
		bad = "max_runq_delay must not be negative";
	else if ((unsigned int)s->runq_statistic >= ARRAY_SIZE(runq_stat_names))
		bad = "runq_statistic must be one of p50, p90, p99, max, mean";
	else if (!ratio_ok(s->max_memory_stall_ratio))
		bad = "max_memory_stall_ratio must be in (0, 1]";
	else if (s->max_client_errors < 0)
		bad = "max_client_errors must not be negative";
	else if (s->client_rate_limit_error_retry_count < 0)
		bad = "client_rate_limit_error_retry_count must not be negative";
	else if (s->snapshot_history_ns < 0)
		bad = "snapshot_history must not be negative";
	else if (!ratio_ok(s->reserve_memory_ratio))
		bad = "reserve_memory_ratio must be in (0, 1]";
	else if (s->memory_warning_cooldown_ns < 0)
		bad = "memory_warning_cooldown_period must not be negative";
	else if (s->max_snapshot_age_ns < 0)
		bad = "max_snapshot_age must not be negative";
	for (k = 0; !bad && k < CGSNAP_KIND_COUNT; k++)
		if (!ratio_ok(s->overload_threshold[k]))
			bad = threshold_why[k];
	if (why)
		*why = bad;
	return bad ? -EINVAL : 0;
}

int cgsnap_parse_duration(const char *str, int64_t *ns)
{
	static const struct {
		const char *name;
		int64_t mult;
	} units[] = {
		{ "ns", 1 },
		{ "us", CGSNAP_NSEC_PER_USEC },
		{ "ms", CGSNAP_NSEC_PER_MSEC },
		{ "s", CGSNAP_NSEC_PER_SEC },
		{ "m", 60 * CGSNAP_NSEC_PER_SEC },
		{ "h", 3600 * CGSNAP_NSEC_PER_SEC },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!str || !isdigit((unsigned char)str[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(str, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].name))
			continue;
		if (v > (unsigned long long)(INT64_MAX / units[i].mult))
			return -ERANGE;
		*ns = (int64_t)v * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

const char *cgsnap_kind_name(enum cgsnap_kind kind)
{
	if ((unsigned int)kind >= CGSNAP_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

int cgsnap_kind_from_name(const char *name)
{
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		if (name && !strcmp(name, kind_names[k]))
			return k;
	return -EINVAL;
}

const char *cgsnap_runq_stat_name(enum cgsnap_runq_stat stat)
{
	if ((unsigned int)stat >= ARRAY_SIZE(runq_stat_names))
		return "unknown";
	return runq_stat_names[stat];
}

int cgsnap_runq_stat_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(runq_stat_names); i++)
		if (name && !strcmp(name, runq_stat_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *cgsnap_strerror(int err)
{
	switch (err) {
	case -EALREADY:
		return "snapshotter is already active";
	case -ENOTCONN:
		return "snapshotter is not active";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

int64_t cgsnap_settings__memory_budget(const struct cgsnap_settings *s, int64_t limit_bytes,
				       int64_t host_total_bytes)
{
	int64_t base = limit_bytes >= 0 ? limit_bytes : host_total_bytes;

	if (s->max_memory_size > 0)
		return s->max_memory_size;
	if (s->available_memory_ratio > 0)
		return (int64_t)(s->available_memory_ratio * (double)base);
	return base;
}

int64_t cgsnap_memory_warning_threshold(int64_t budget, double max_used_ratio,
					double reserve_memory_ratio)
{
	int64_t max_used = (int64_t)((double)budget * max_used_ratio);
	int64_t headroom = (int64_t)((double)budget * (1 - max_used_ratio));

	return max_used + (int64_t)((double)headroom * reserve_memory_ratio);
}
