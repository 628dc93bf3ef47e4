// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "opts.h"

#define OFF(f) offsetof(struct cgsnap_settings, f)
#define TH(k) (OFF(overload_threshold) + (k) * sizeof(double))

const struct setting_desc settings_table[] = {
	{ "runq_interval", ST_DURATION, OFF(runq_interval_ns),
	  "How often a runq snapshot is taken (500ms)" },
	{ "client_snapshot_interval", ST_DURATION, OFF(client_interval_ns),
	  "How often a client snapshot is taken (1s)" },
	{ "system_info_interval", ST_DURATION, OFF(system_info_interval_ns),
	  "How often cpu and memory snapshots are taken (1s)" },
	{ "max_used_cpu_ratio", ST_RATIO, OFF(max_used_cpu_ratio),
	  "A cpu snapshot is overloaded above this share of the cgroup's CPUs (0.95)" },
	{ "max_memory_size", ST_SIZE, OFF(max_memory_size),
	  "Explicit memory budget in bytes, K/M/G/T suffixes allowed (none)" },
	{ "available_memory_ratio", ST_RATIO, OFF(available_memory_ratio),
	  "Budget = this x the cgroup's memory limit, or host MemTotal (none)" },
	{ "max_used_memory_ratio", ST_RATIO, OFF(max_used_memory_ratio),
	  "A memory snapshot is overloaded above this share of the budget (0.9)" },
	{ "max_runq_delay", ST_DURATION, OFF(max_runq_delay_ns),
	  "A runq snapshot is overloaded when its delay exceeds this (50ms)" },
	{ "runq_statistic", ST_STAT, OFF(runq_statistic),
	  "Which statistic of an interval's waits is the delay: p50, p90, p99, max, mean (p99)" },
	{ "max_memory_stall_ratio", ST_RATIO, OFF(max_memory_stall_ratio),
	  "A memory snapshot is also overloaded above this stall share (0.1)" },
	{ "max_client_errors", ST_COUNT, OFF(max_client_errors),
	  "A client snapshot is overloaded above this many new errors (1)" },
	{ "client_rate_limit_error_retry_count", ST_COUNT, OFF(client_rate_limit_error_retry_count),
	  "Only errors reported on this retry attempt count (2)" },
	{ "snapshot_history", ST_DURATION, OFF(snapshot_history_ns),
	  "How long snapshots are kept (30s)" },
	{ "reserve_memory_ratio", ST_RATIO, OFF(reserve_memory_ratio),
	  "Reserve share in the critical-memory warning threshold (0.5)" },
	{ "memory_warning_cooldown_period", ST_DURATION, OFF(memory_warning_cooldown_ns),
	  "Minimum gap between two critical-memory warnings (10s)" },
	{ "max_snapshot_age", ST_DURATION, OFF(max_snapshot_age_ns),
	  "Window of the current status (5s)" },
	{ "cpu_overload_threshold", ST_RATIO, TH(CGSNAP_KIND_CPU),
	  "cpu is overloaded when its time-weighted overloaded ratio exceeds this (0.4)" },
	{ "memory_overload_threshold", ST_RATIO, TH(CGSNAP_KIND_MEMORY),
	  "Likewise for memory (0.2)" },
	{ "runq_overload_threshold", ST_RATIO, TH(CGSNAP_KIND_RUNQ), "Likewise for runq (0.6)" },
	{ "client_overload_threshold", ST_RATIO, TH(CGSNAP_KIND_CLIENT),
	  "Likewise for client (0.3)" },
};

const size_t settings_table_len = sizeof(settings_table) / sizeof(settings_table[0]);

const struct setting_desc *setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < settings_table_len; i++)
		if (!strcmp(settings_table[i].name, name))
			return &settings_table[i];
	return NULL;
}

int setting_parse(const struct setting_desc *d, struct cgsnap_settings *s, const char *value,
		  char *err, size_t errlen)
{
	void *p = (char *)s + d->off;
	double r;
	long n;
	int k;

	switch (d->type) {
	case ST_DURATION:
		if (cgsnap_parse_duration(value, (int64_t *)p))
			goto bad;
		return 0;
	case ST_RATIO:
		if (parse_double(value, &r) || !(r > 0 && r <= 1))
			goto bad;
		*(double *)p = r;
		return 0;
	case ST_SIZE:
		if (parse_size(value, (int64_t *)p) || *(int64_t *)p <= 0)
			goto bad;
		return 0;
	case ST_COUNT:
		if (parse_long(value, 0, INT32_MAX, &n))
			goto bad;
		*(int64_t *)p = n;
		return 0;
	case ST_STAT:
		k = cgsnap_runq_stat_from_name(value);
		if (k < 0)
			goto bad;
		*(enum cgsnap_runq_stat *)p = k;
		return 0;
	}
bad:
	snprintf(err, errlen, "invalid %s '%s': expected %s", d->name, value,
		 d->type == ST_DURATION ? "a duration such as 500ms (units ns, us, ms, s, m, h)" :
		 d->type == ST_RATIO ? "a number in (0, 1]" :
		 d->type == ST_SIZE ? "a positive size in bytes (K, M, G, T allowed)" :
		 d->type == ST_COUNT ? "a non-negative integer" : "one of p50, p90, p99, max, mean");
	return -EINVAL;
}

int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen)
{
	char buf[64];

	if (json_is_string(v))
		return setting_parse(d, s, json_string_value(v), err, errlen);
	if (json_is_integer(v) && d->type != ST_DURATION && d->type != ST_STAT) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	if (json_is_real(v) && d->type == ST_RATIO) {
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	snprintf(err, errlen, "invalid %s: expected %s", d->name,
		 d->type == ST_DURATION || d->type == ST_STAT ? "a string" : "a number or a string");
	return -EINVAL;
}

void setting_format(const struct setting_desc *d, const struct cgsnap_settings *s, char *buf,
		    size_t len)
{
	const void *p = (const char *)s + d->off;
	int64_t ns;

	switch (d->type) {
	case ST_DURATION:
		ns = *(const int64_t *)p;
		if (ns % CGSNAP_NSEC_PER_SEC == 0)
			snprintf(buf, len, "%llds", (long long)(ns / CGSNAP_NSEC_PER_SEC));
		else if (ns % CGSNAP_NSEC_PER_MSEC == 0)
			snprintf(buf, len, "%lldms", (long long)(ns / CGSNAP_NSEC_PER_MSEC));
		else
			snprintf(buf, len, "%lldns", (long long)ns);
		return;
	case ST_RATIO:
		if (*(const double *)p < 0)
			snprintf(buf, len, "none");
		else
			snprintf(buf, len, "%g", *(const double *)p);
		return;
	case ST_SIZE:
		if (*(const int64_t *)p < 0)
			snprintf(buf, len, "none");
		else
			snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
		return;
	case ST_COUNT:
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
		return;
	case ST_STAT:
		snprintf(buf, len, "%s", cgsnap_runq_stat_name(*(const enum cgsnap_runq_stat *)p));
		return;
	}
}
