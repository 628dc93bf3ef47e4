// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The settings table, and everything derived from it: defaults, validation,
 * parsing and formatting; kind and statistic names; the memory budget. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OFF(f) offsetof(struct cgsnap_settings, f)
#define TH(k) (OFF(overload_threshold) + (k) * sizeof(double))
#define MS CGSNAP_NSEC_PER_MSEC
#define SEC CGSNAP_NSEC_PER_SEC
#define BOTH (SETTING_RUN | SETTING_REPLAY)

/* name, alias, type, offset, min, integer default, ratio default, scope, help */
const struct setting_desc settings_table[] = {
	{ "runq_interval", NULL, ST_DURATION, OFF(runq_interval_ns), 1, 500 * MS, 0, SETTING_RUN,
	  "How often a runq snapshot is taken" },
	{ "client_snapshot_interval", NULL, ST_DURATION, OFF(client_interval_ns), 1, SEC, 0,
	  SETTING_RUN, "How often a client snapshot is taken" },
	{ "system_info_interval", NULL, ST_DURATION, OFF(system_info_interval_ns), 1, SEC, 0,
	  SETTING_RUN, "How often cpu and memory snapshots are taken" },
	{ "max_used_cpu_ratio", NULL, ST_RATIO, OFF(max_used_cpu_ratio), 0, 0, 0.95, SETTING_RUN,
	  "A cpu snapshot is overloaded above this share of the cgroup's CPUs" },
	{ "max_memory_size", NULL, ST_SIZE, OFF(max_memory_size), 1, -1, 0, SETTING_RUN,
	  "Explicit memory budget in bytes, K/M/G/T suffixes allowed" },
	{ "available_memory_ratio", NULL, ST_RATIO, OFF(available_memory_ratio), 0, 0, -1,
	  SETTING_RUN, "Budget = this x the cgroup's memory limit, or host MemTotal" },
	{ "max_used_memory_ratio", NULL, ST_RATIO, OFF(max_used_memory_ratio), 0, 0, 0.9,
	  SETTING_RUN, "A memory snapshot is overloaded above this share of the budget" },
	{ "max_runq_delay", NULL, ST_DURATION, OFF(max_runq_delay_ns), 0, 50 * MS, 0, SETTING_RUN,
	  "A runq snapshot is overloaded when its delay exceeds this" },
	{ "runq_statistic", NULL, ST_STAT, OFF(runq_statistic), 0, CGSNAP_RUNQ_P99, 0, SETTING_RUN,
	  "Which statistic of an interval's waits is the delay: p50, p90, p99, max, mean" },
	{ "max_memory_stall_ratio", NULL, ST_RATIO, OFF(max_memory_stall_ratio), 0, 0, 0.1,
	  SETTING_RUN, "A memory snapshot is also overloaded above this stall share" },
	{ "max_client_errors", NULL, ST_COUNT, OFF(max_client_errors), 0, 1, 0, SETTING_RUN,
	  "A client snapshot is overloaded above this many new errors" },
	{ "client_rate_limit_error_retry_count", NULL, ST_COUNT,
	  OFF(client_rate_limit_error_retry_count), 0, 2, 0, SETTING_RUN,
	  "Only errors reported on this retry attempt count" },
	{ "snapshot_history", NULL, ST_DURATION, OFF(snapshot_history_ns), 0, 30 * SEC, 0, BOTH,
	  "How long snapshots are kept" },
	{ "reserve_memory_ratio", NULL, ST_RATIO, OFF(reserve_memory_ratio), 0, 0, 0.5, BOTH,
	  "Share of the headroom above max_used_memory_ratio kept in reserve by the "
	  "critical-memory warning" },
	{ "memory_warning_cooldown_period", "memory-warning-cooldown", ST_DURATION,
	  OFF(memory_warning_cooldown_ns), 0, 10 * SEC, 0, BOTH,
	  "Minimum gap between two critical-memory warnings" },
	{ "max_snapshot_age", NULL, ST_DURATION, OFF(max_snapshot_age_ns), 0, 5 * SEC, 0, BOTH,
	  "Window of the current status" },
	{ "fast", NULL, ST_SWITCH, OFF(fast), 0, 0, 0, SETTING_RUN,
	  "Decisions in under a second: runq snapshots every 100ms, cpu and memory every 250ms, "
	  "a 1s current window, a verdict held 1s, waits in progress counted, and long waits "
	  "and PSI triggers acted on at once (settings given explicitly stay)" },
	{ "verdict_hold", NULL, ST_DURATION, OFF(verdict_hold_ns), 0, 0, 0, SETTING_RUN,
	  "A cgroup's verdict holds at least this long before it flips back (--fast: 1s)" },
	{ "cpu_overload_threshold", NULL, ST_RATIO, TH(CGSNAP_KIND_CPU), 0, 0, 0.4, BOTH,
	  "cpu is overloaded when its time-weighted overloaded ratio exceeds this" },
	{ "memory_overload_threshold", NULL, ST_RATIO, TH(CGSNAP_KIND_MEMORY), 0, 0, 0.2, BOTH,
	  "memory is overloaded when its time-weighted overloaded ratio exceeds this" },
	{ "runq_overload_threshold", NULL, ST_RATIO, TH(CGSNAP_KIND_RUNQ), 0, 0, 0.6, BOTH,
	  "runq is overloaded when its time-weighted overloaded ratio exceeds this" },
	{ "client_overload_threshold", NULL, ST_RATIO, TH(CGSNAP_KIND_CLIENT), 0, 0, 0.3, BOTH,
	  "client is overloaded when its time-weighted overloaded ratio exceeds this" },
};

const size_t settings_table_len = ARRAY_SIZE(settings_table);

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

static int64_t *int_at(const struct setting_desc *d, const struct cgsnap_settings *s)
{
	return (int64_t *)((char *)s + d->off);
}

static double *ratio_at(const struct setting_desc *d, const struct cgsnap_settings *s)
{
	return (double *)((char *)s + d->off);
}

static enum cgsnap_runq_stat *stat_at(const struct setting_desc *d,
				      const struct cgsnap_settings *s)
{
	return (enum cgsnap_runq_stat *)((char *)s + d->off);
}

const struct setting_desc *setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < settings_table_len; i++)
		if (!strcmp(settings_table[i].name, name))
			return &settings_table[i];
	return NULL;
}

void cgsnap_settings__init(struct cgsnap_settings *s)
{
	const struct setting_desc *d;

	memset(s, 0, sizeof(*s));
	for (d = settings_table; d < settings_table + settings_table_len; d++) {
		if (d->type == ST_RATIO)
			*ratio_at(d, s) = d->ddef;
		else if (d->type == ST_STAT)
			*stat_at(d, s) = (enum cgsnap_runq_stat)d->idef;
		else
			*int_at(d, s) = d->idef;
	}
}

/* a ratio in (0, 1] */
static bool ratio_ok(double r)
{
	return isfinite(r) && r > 0 && r <= 1;
}

int setting_check(const struct setting_desc *d, const struct cgsnap_settings *s, char *why,
		  size_t len)
{
	const char *bad = NULL;
	int64_t v;

	switch (d->type) {
	case ST_RATIO:
		if (!(d->ddef < 0 && *ratio_at(d, s) == -1) && !ratio_ok(*ratio_at(d, s)))
			bad = "must be in (0, 1]";
		break;
	case ST_STAT:
		if ((unsigned int)*stat_at(d, s) >= ARRAY_SIZE(runq_stat_names))
			bad = "must be one of p50, p90, p99, max, mean";
		break;
	default:
		v = *int_at(d, s);
		if (d->idef < 0 && v == -1)
			break;
		if (v < d->min)
			bad = d->type == ST_SIZE ? "must be a positive number of bytes" :
			      d->min > 0 ? "must be greater than 0" : "must not be negative";
		else if (d->type == ST_COUNT && v > INT32_MAX)
			bad = "must be at most 2147483647";
		break;
	}
	if (bad)
		snprintf(why, len, "%s %s", d->name, bad);
	return bad ? -EINVAL : 0;
}

int cgsnap_settings__validate(const struct cgsnap_settings *s, const char **why)
{
	static __thread char buf[128];
	size_t i;

	for (i = 0; i < settings_table_len; i++) {
		if (setting_check(&settings_table[i], s, buf, sizeof(buf)))
			break;
	}
	if (why)
		*why = i < settings_table_len ? buf : NULL;
	return i < settings_table_len ? -EINVAL : 0;
}

static const char *expected(const struct setting_desc *d)
{
	switch (d->type) {
	case ST_DURATION:
		return d->min > 0 ? "a positive duration such as 500ms (units ns, us, ms, s, m, h)" :
				    "a duration such as 500ms (units ns, us, ms, s, m, h)";
	case ST_RATIO:
		return "a number in (0, 1]";
	case ST_SIZE:
		return "a positive size in bytes (K, M, G, T allowed)";
	case ST_COUNT:
		return "an integer from 0 to 2147483647";
	case ST_SWITCH:
		return "true or false";
	default:
		return "one of p50, p90, p99, max, mean";
	}
}

int setting_parse(const struct setting_desc *d, struct cgsnap_settings *s, const char *value,
		  char *err, size_t errlen)
{
	struct cgsnap_settings tmp = *s;
	char why[128];
	int64_t i;
	double r;
	long n;
	int k;

	switch (d->type) {
	case ST_DURATION:
	case ST_SIZE:
		if ((d->type == ST_DURATION ? cgsnap_parse_duration(value, &i) :
					      parse_size(value, &i)))
			goto bad;
		*int_at(d, &tmp) = i;
		break;
	case ST_RATIO:
		if (parse_double(value, &r) || !ratio_ok(r))
			goto bad;
		*ratio_at(d, &tmp) = r;
		break;
	case ST_COUNT:
		if (parse_long(value, 0, INT32_MAX, &n))
			goto bad;
		*int_at(d, &tmp) = n;
		break;
	case ST_STAT:
		k = cgsnap_runq_stat_from_name(value);
		if (k < 0)
			goto bad;
		*stat_at(d, &tmp) = k;
		break;
	case ST_SWITCH:
		if (!value || !strcmp(value, "true") || !strcmp(value, "1"))
			*int_at(d, &tmp) = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "0"))
			*int_at(d, &tmp) = 0;
		else
			goto bad;
		break;
	}
	/* "none" is a default, never a value to give */
	if (d->type == ST_SIZE && *int_at(d, &tmp) <= 0)
		goto bad;
	if (setting_check(d, &tmp, why, sizeof(why))) {
		snprintf(err, errlen, "invalid %s '%s': %s", d->name, value, why);
		return -EINVAL;
	}
	*s = tmp;
	return 0;
bad:
	snprintf(err, errlen, "invalid %s '%s': expected %s", d->name, value ? value : "",
		 expected(d));
	return -EINVAL;
}

void settings_apply_fast(struct cgsnap_settings *s)
{
	static const struct {
		size_t off;
		int64_t seed, fast;
	} fast[] = {
		{ OFF(runq_interval_ns), 500 * MS, 100 * MS },
		{ OFF(system_info_interval_ns), SEC, 250 * MS },
		{ OFF(client_interval_ns), SEC, 250 * MS },
		{ OFF(max_snapshot_age_ns), 5 * SEC, SEC },
		{ OFF(verdict_hold_ns), 0, SEC },
	};
	size_t i;

	if (!s->fast)
		return;
	for (i = 0; i < ARRAY_SIZE(fast); i++) {
		int64_t *v = (int64_t *)((char *)s + fast[i].off);

		if (*v == fast[i].seed)
			*v = fast[i].fast;
	}
}

void format_duration(int64_t ns, char *buf, size_t len)
{
	if (ns % CGSNAP_NSEC_PER_SEC == 0)
		snprintf(buf, len, "%llds", (long long)(ns / CGSNAP_NSEC_PER_SEC));
	else if (ns % CGSNAP_NSEC_PER_MSEC == 0)
		snprintf(buf, len, "%lldms", (long long)(ns / CGSNAP_NSEC_PER_MSEC));
	else
		snprintf(buf, len, "%lldns", (long long)ns);
}

void setting_format(const struct setting_desc *d, const struct cgsnap_settings *s, char *buf,
		    size_t len)
{
	int64_t v = d->type == ST_RATIO || d->type == ST_STAT ? 0 : *int_at(d, s);

	switch (d->type) {
	case ST_DURATION:
		format_duration(v, buf, len);
		return;
	case ST_RATIO:
		if (*ratio_at(d, s) < 0)
			snprintf(buf, len, "none");
		else
			snprintf(buf, len, "%g", *ratio_at(d, s));
		return;
	case ST_SIZE:
	case ST_COUNT:
		if (v < 0)
			snprintf(buf, len, "none");
		else
			snprintf(buf, len, "%lld", (long long)v);
		return;
	case ST_STAT:
		snprintf(buf, len, "%s", cgsnap_runq_stat_name(*stat_at(d, s)));
		return;
	case ST_SWITCH:
		snprintf(buf, len, "%s", v ? "true" : "false");
		return;
	}
}

void setting_format_default(const struct setting_desc *d, char *buf, size_t len)
{
	struct cgsnap_settings s;

	cgsnap_settings__init(&s);
	setting_format(d, &s, buf, len);
}

const char *setting_flag(const struct setting_desc *d, char *buf, size_t len)
{
	char *p;

	snprintf(buf, len, "%s", d->name);
	for (p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
	return buf;
}

const char *setting_arg_name(const struct setting_desc *d)
{
	static const char *const names[] = {
		[ST_DURATION] = "DUR", [ST_RATIO] = "RATIO", [ST_SIZE] = "BYTES",
		[ST_COUNT] = "N", [ST_STAT] = "STAT", [ST_SWITCH] = NULL,
	};

	return names[d->type];
}

int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
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

	if (!s || !*s || isspace((unsigned char)*s))
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
	int i;

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
		for (i = 0; i <= u - units; i++) {
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

/* trunc(@x) as an int64, saturated at the type's bounds instead of
 * overflowing (a budget near INT64_MAX times a ratio can round up to 2^63) */
static int64_t trunc_i64(double x)
{
	if (!(x == x))
		return 0;
	if (x >= 9223372036854775808.0)
		return INT64_MAX;
	if (x <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)x;
}

int64_t cgsnap_settings__memory_budget(const struct cgsnap_settings *s, int64_t limit_bytes,
				       int64_t host_total_bytes)
{
	int64_t base = limit_bytes >= 0 ? limit_bytes : host_total_bytes;

	if (s->max_memory_size > 0)
		return s->max_memory_size;
	if (s->available_memory_ratio > 0)
		return trunc_i64(s->available_memory_ratio * (double)base);
	return base;
}

int64_t cgsnap_memory_warning_threshold(int64_t budget, double max_used_ratio,
					double reserve_memory_ratio)
{
	int64_t max_used = trunc_i64((double)budget * max_used_ratio);
	int64_t headroom = trunc_i64((double)budget * (1 - max_used_ratio));
	int64_t reserve = trunc_i64((double)headroom * reserve_memory_ratio);

	return reserve > INT64_MAX - max_used ? INT64_MAX : max_used + reserve;
}
