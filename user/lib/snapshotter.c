// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-cgroup histories and overload ratios (docs/SPEC.md sections 3-6).
 * The histories themselves, compact and sorted by t_ns, are history.c's.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "snapshotter.h"

/* the system-wide memory rule of docs/SPEC.md section 3 */
#define SYSTEM_MEMORY_MAX_RATIO 0.97

struct cgsnap_snapshotter {
	struct cgsnap_settings settings;
	bool active;
	bool warned;		/* a memory warning was raised before */
	int64_t last_warning_ns;
	int64_t client_errors;
	struct history hist[CGSNAP_KIND_COUNT];
};

static bool memory_is_overloaded(const struct cgsnap_memory_snapshot *m, uint32_t present)
{
	const uint32_t sys = CGSNAP_F_SYSTEM_USED | CGSNAP_F_SYSTEM_TOTAL;

	if ((present & sys) == sys && m->system_total_bytes > 0 &&
	    (double)m->system_used_bytes / (double)m->system_total_bytes > SYSTEM_MEMORY_MAX_RATIO)
		return true;
	if (m->max_bytes > 0 &&
	    (double)m->current_bytes / (double)m->max_bytes > m->max_used_ratio)
		return true;
	if ((present & CGSNAP_F_STALL) && m->stall_ratio > m->max_stall_ratio)
		return true;
	return false;
}

bool cgsnap_snapshot__is_overloaded(const struct cgsnap_snapshot *snap)
{
	switch (snap->kind) {
	case CGSNAP_KIND_CPU:
		return snap->cpu.used_ratio > snap->cpu.max_used_ratio;
	case CGSNAP_KIND_MEMORY:
		return memory_is_overloaded(&snap->memory, snap->present);
	case CGSNAP_KIND_RUNQ:
		return snap->runq.delay_ns > snap->runq.max_delay_ns;
	case CGSNAP_KIND_CLIENT:
		return snap->client.new_error_count > snap->client.max_error_count;
	default:
		return false;
	}
}

static bool fraction_ok(double r)
{
	return isfinite(r) && r >= 0 && r <= 1;
}

static const char *memory_invalid(const struct cgsnap_memory_snapshot *m, uint32_t present)
{
	if (m->current_bytes < 0)
		return "current_bytes must not be negative";
	if (m->max_bytes <= 0)
		return "max_bytes must be positive";
	if (!fraction_ok(m->max_used_ratio) || m->max_used_ratio == 0)
		return "max_used_ratio must be in (0, 1]";
	if ((present & CGSNAP_F_SYSTEM_USED) && m->system_used_bytes < 0)
		return "system_used_bytes must not be negative";
	if ((present & CGSNAP_F_SYSTEM_TOTAL) && m->system_total_bytes <= 0)
		return "system_total_bytes must be positive";
	if ((present & CGSNAP_F_STALL) && !fraction_ok(m->stall_ratio))
		return "stall_ratio must be in [0, 1]";
	if (!fraction_ok(m->max_stall_ratio) || m->max_stall_ratio == 0)
		return "max_stall_ratio must be in (0, 1]";
	return NULL;
}

static const char *runq_invalid(const struct cgsnap_runq_snapshot *r)
{
	if (r->delay_ns < 0)
		return "delay_ns must not be negative";
	if (r->max_delay_ns < 0)
		return "max_delay_ns must not be negative";
	if (r->count < 0 || r->mean_ns < 0 || r->p50_ns < 0 || r->p90_ns < 0 || r->p99_ns < 0 ||
	    r->max_ns < 0)
		return "run-queue statistics must not be negative";
	return NULL;
}

static const char *client_invalid(const struct cgsnap_client_snapshot *c)
{
	if (c->error_count < 0)
		return "error_count must not be negative";
	if (c->max_error_count < 0)
		return "max_error_count must not be negative";
	return NULL;
}

int cgsnap_snapshot__validate(const struct cgsnap_snapshot *snap, const char **why)
{
	const char *bad = NULL;

	switch (snap->kind) {
	case CGSNAP_KIND_CPU:
		if (!isfinite(snap->cpu.used_ratio) || snap->cpu.used_ratio < 0)
			bad = "used_ratio must be a finite number >= 0";
		else if (!fraction_ok(snap->cpu.max_used_ratio) || snap->cpu.max_used_ratio == 0)
			bad = "max_used_ratio must be in (0, 1]";
		break;
	case CGSNAP_KIND_MEMORY:
		bad = memory_invalid(&snap->memory, snap->present);
		break;
	case CGSNAP_KIND_RUNQ:
		bad = runq_invalid(&snap->runq);
		break;
	case CGSNAP_KIND_CLIENT:
		bad = client_invalid(&snap->client);
		break;
	default:
		bad = "unknown kind";
	}
	if (why)
		*why = bad;
	return bad ? -EINVAL : 0;
}

struct cgsnap_snapshotter *cgsnap_snapshotter__new(const struct cgsnap_settings *settings)
{
	struct cgsnap_snapshotter *s;
	int k;

	if (settings && cgsnap_settings__validate(settings, NULL)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		hist_init(&s->hist[k], k);
	if (settings)
		s->settings = *settings;
	else
		cgsnap_settings__init(&s->settings);
	return s;
}

void cgsnap_snapshotter__free(struct cgsnap_snapshotter *s)
{
	int k;

	if (!s)
		return;
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		hist_free(&s->hist[k]);
	free(s);
}

const struct cgsnap_settings *cgsnap_snapshotter__settings(const struct cgsnap_snapshotter *s)
{
	return &s->settings;
}

int cgsnap_snapshotter__start(struct cgsnap_snapshotter *s)
{
	if (s->active)
		return -EALREADY;
	s->active = true;
	return 0;
}

int cgsnap_snapshotter__stop(struct cgsnap_snapshotter *s)
{
	if (!s->active)
		return -ENOTCONN;
	s->active = false;
	return 0;
}

bool cgsnap_snapshotter__is_active(const struct cgsnap_snapshotter *s)
{
	return s->active;
}

/* docs/SPEC.md section 5: returns whether @snap raises a critical-memory warning */
static bool memory_warning(struct cgsnap_snapshotter *s, const struct cgsnap_snapshot *snap,
			   struct cgsnap_memory_warning *warning)
{
	const struct cgsnap_memory_snapshot *m = &snap->memory;
	int64_t threshold;

	/* t < last_warning + cooldown, i.e. not (t - last_warning >= cooldown) */
	if (s->warned &&
	    !hist_older_than(snap->t_ns, s->last_warning_ns, s->settings.memory_warning_cooldown_ns - 1))
		return false;
	threshold = cgsnap_memory_warning_threshold(m->max_bytes, m->max_used_ratio,
						    s->settings.reserve_memory_ratio);
	if (m->current_bytes <= threshold)
		return false;
	s->warned = true;
	s->last_warning_ns = snap->t_ns;
	if (warning)
		*warning = (struct cgsnap_memory_warning){
			.t_ns = snap->t_ns,
			.current_bytes = m->current_bytes,
			.threshold_bytes = threshold,
			.budget_bytes = m->max_bytes,
		};
	return true;
}

int cgsnap_snapshotter__add(struct cgsnap_snapshotter *s, const struct cgsnap_snapshot *snap,
			    struct cgsnap_memory_warning *warning)
{
	struct cgsnap_snapshot copy = *snap;
	struct history *h;
	int err;

	if (!s->active)
		return -ENOTCONN;
	if (cgsnap_snapshot__validate(snap, NULL))
		return -EINVAL;
	h = &s->hist[snap->kind];
	if (snap->kind == CGSNAP_KIND_CLIENT && !(snap->present & CGSNAP_F_NEW_ERRORS)) {
		int64_t prev = h->len ? h->newest.client.error_count : 0;

		copy.client.new_error_count = snap->client.error_count - prev;
	}
	copy.overloaded = cgsnap_snapshot__is_overloaded(&copy);
	err = hist_insert(h, &copy, s->settings.snapshot_history_ns);
	if (err)
		return err;
	hist_prune(h, s->settings.snapshot_history_ns);
	if (snap->kind == CGSNAP_KIND_MEMORY)
		return memory_warning(s, &copy, warning) ? 1 : 0;
	return 0;
}

static void sample_of(const struct history *h, int64_t duration_ns, struct cgsnap_sample *out)
{
	uint32_t first = hist_first_within(h, duration_ns);

	out->hist = h;
	out->first = first;
	out->len = h->len - first;
}

int cgsnap_snapshotter__sample(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind,
			       int64_t duration_ns, struct cgsnap_sample *out)
{
	if (!s->active)
		return -ENOTCONN;
	if ((unsigned int)kind >= CGSNAP_KIND_COUNT)
		return -EINVAL;
	sample_of(&s->hist[kind], duration_ns, out);
	return 0;
}

uint32_t cgsnap_sample__copy(const struct cgsnap_sample *sample, uint32_t from, uint32_t n,
			     struct cgsnap_snapshot *out)
{
	if (from >= sample->len)
		return 0;
	if (n > sample->len - from)
		n = sample->len - from;
	hist_copy(sample->hist, sample->first + from, n, out);
	return n;
}

bool cgsnap_snapshotter__latest(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind,
				struct cgsnap_snapshot *out)
{
	const struct cgsnap_snapshot *newest;

	if ((unsigned int)kind >= CGSNAP_KIND_COUNT || !(newest = hist_latest(&s->hist[kind])))
		return false;
	*out = *newest;
	return true;
}

size_t cgsnap_snapshotter__heap_bytes(const struct cgsnap_snapshotter *s)
{
	size_t n = sizeof(*s);
	int k;

	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		n += hist_heap_bytes(&s->hist[k]);
	return n;
}

uint64_t cgsnap_snapshotter__dropped(const struct cgsnap_snapshotter *s, enum cgsnap_kind kind)
{
	return s->hist[kind].dropped;
}

double cgsnap_round3(double x)
{
	char buf[512];

	/* glibc's printf is exact and rounds ties to even, as CPython's round() */
	snprintf(buf, sizeof(buf), "%.3f", x);
	return strtod(buf, NULL);
}

double cgsnap_sample__overload_ratio(const struct cgsnap_sample *sample)
{
	const struct history *h = sample->hist;
	int64_t overloaded = 0, total = 0;
	uint32_t i, at = sample->first;

	if (!sample->len)
		return 0;
	if (sample->len == 1)
		return hist_overloaded(h, at) ? 1.0 : 0.0;
	for (i = 1; i < sample->len; i++) {
		int64_t dt = hist_dt(h, at + i);

		if (hist_overloaded(h, at + i))
			overloaded += dt;
		total += dt;
	}
	if (!total)
		return 0;
	return cgsnap_round3((double)overloaded / (double)total);
}

static int status_of(const struct cgsnap_snapshotter *s, int64_t duration_ns,
		     struct cgsnap_status *out)
{
	struct cgsnap_sample sample;
	int k;

	if (!s->active)
		return -ENOTCONN;
	out->idle = true;
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		struct cgsnap_load_ratio *r = &out->kind[k];

		r->limit_ratio = s->settings.overload_threshold[k];
		/* most histories of most cgroups hold nothing overloaded */
		if (s->hist[k].nr_overloaded) {
			sample_of(&s->hist[k], duration_ns, &sample);
			r->actual_ratio = cgsnap_sample__overload_ratio(&sample);
		} else {
			r->actual_ratio = 0;
		}
		r->overloaded = r->actual_ratio > r->limit_ratio;
		if (r->overloaded)
			out->idle = false;
	}
	return 0;
}

int cgsnap_snapshotter__current_status(const struct cgsnap_snapshotter *s,
				       struct cgsnap_status *out)
{
	return status_of(s, s->settings.max_snapshot_age_ns, out);
}

int cgsnap_snapshotter__historical_status(const struct cgsnap_snapshotter *s,
					  struct cgsnap_status *out)
{
	return status_of(s, 0, out);
}

int cgsnap_snapshotter__report_client_errors(struct cgsnap_snapshotter *s, int64_t retry,
					     int64_t count)
{
	if (retry < 0 || count < 0)
		return -EINVAL;
	if (retry != s->settings.client_rate_limit_error_retry_count)
		return 0;
	/* saturate: a count at its maximum must not refuse every later report */
	s->client_errors = count > INT64_MAX - s->client_errors ? INT64_MAX :
								 s->client_errors + count;
	return 1;
}

int64_t cgsnap_snapshotter__client_error_count(const struct cgsnap_snapshotter *s)
{
	return s->client_errors;
}

int cgsnap_snapshotter__take_client_snapshot(struct cgsnap_snapshotter *s, int64_t t_ns)
{
	struct cgsnap_snapshot snap = {
		.t_ns = t_ns,
		.kind = CGSNAP_KIND_CLIENT,
		.client = {
			.error_count = s->client_errors,
			.max_error_count = s->settings.max_client_errors,
		},
	};

	return cgsnap_snapshotter__add(s, &snap, NULL);
}
