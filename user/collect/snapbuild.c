// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "snapbuild.h"

void build_start(struct sys_state *st, int64_t now, bool have_usage, uint64_t usage, bool have_psi,
		 uint64_t psi_us)
{
	memset(st, 0, sizeof(*st));
	st->prev_t = now;
	if (have_usage) {
		st->prev_cpu_ns = st->first_cpu_ns = st->last_cpu_ns = usage;
		st->first_cpu_t = st->last_cpu_t = now;
		st->have_cpu = true;
	}
	if (have_psi) {
		st->prev_psi_us = psi_us;
		st->prev_psi_t = now;
		st->have_psi = true;
	}
}

static int64_t interval(const struct sys_state *st, int64_t now)
{
	return st->prev_t ? now - st->prev_t : 0;
}

bool build_cpu(const struct cgsnap_settings *s, struct sys_state *st, struct sys_reading *r,
	       uint64_t usage, int64_t now, struct cgsnap_snapshot *snap)
{
	int64_t dt = interval(st, now);
	bool made = false;

	if (st->have_cpu && dt > 0 && usage >= st->prev_cpu_ns) {
		r->cpu_used_ratio = (double)(usage - st->prev_cpu_ns) /
				    ((double)dt * r->cpu_capacity);
		r->cpu_ratio_valid = true;
		*snap = (struct cgsnap_snapshot){
			.t_ns = now,
			.kind = CGSNAP_KIND_CPU,
			.cpu = { .used_ratio = r->cpu_used_ratio,
				 .max_used_ratio = s->max_used_cpu_ratio },
		};
		made = true;
	}
	if (!st->have_cpu) {
		st->first_cpu_ns = usage;
		st->first_cpu_t = now;
	}
	st->prev_cpu_ns = st->last_cpu_ns = usage;
	st->last_cpu_t = now;
	st->have_cpu = true;
	return made;
}

bool build_stall_ratio(struct sys_state *st, uint64_t some_ns, bool have_psi, uint64_t psi_us,
		       int64_t now, double *ratio)
{
	int64_t dt = interval(st, now);
	bool known = false;

	*ratio = 0;
	if (dt > 0) {
		*ratio = (double)some_ns / (double)dt;
		known = true;
	}
	if (have_psi) {
		int64_t psi_dt = st->prev_psi_t ? now - st->prev_psi_t : dt;

		if (st->have_psi && psi_dt > 0 && psi_us >= st->prev_psi_us) {
			double r = (double)(psi_us - st->prev_psi_us) * 1000.0 / (double)psi_dt;

			if (r > *ratio)
				*ratio = r;
			known = true;
		}
		st->prev_psi_us = psi_us;
		st->prev_psi_t = now;
		st->have_psi = true;
	}
	if (*ratio > 1)
		*ratio = 1;
	return known;
}

bool build_memory(const struct cgsnap_settings *s, const struct cgroup_memory *mem,
		  const struct host_memory *host, bool stall_known, double stall, int64_t now,
		  struct sys_reading *r, struct cgsnap_snapshot *snap)
{
	struct cgsnap_memory_snapshot *m = &snap->memory;

	r->mem = *mem;
	r->budget_bytes = cgsnap_settings__memory_budget(s, mem->limit_bytes, host->total_bytes);
	if (r->budget_bytes <= 0)
		return false;
	*snap = (struct cgsnap_snapshot){ .t_ns = now, .kind = CGSNAP_KIND_MEMORY };
	m->current_bytes = mem->working_set_bytes;
	m->max_bytes = r->budget_bytes;
	m->max_used_ratio = s->max_used_memory_ratio;
	m->max_stall_ratio = s->max_memory_stall_ratio;
	snap->present |= CGSNAP_F_MAX_STALL;	/* recorded, so replay judges alike */
	if (host->total_bytes > 0) {
		m->system_total_bytes = host->total_bytes;
		m->system_used_bytes = host->total_bytes - host->available_bytes;
		snap->present |= CGSNAP_F_SYSTEM_USED | CGSNAP_F_SYSTEM_TOTAL;
	}
	if (stall_known) {
		m->stall_ratio = stall;
		snap->present |= CGSNAP_F_STALL;
		r->stall_ratio = stall;
	}
	r->valid = true;
	return true;
}

static int64_t runq_statistic(const struct cgsnap_settings *s, const struct lat_summary *l)
{
	switch (s->runq_statistic) {
	case CGSNAP_RUNQ_P50:
		return l->p50_ns;
	case CGSNAP_RUNQ_P90:
		return l->p90_ns;
	case CGSNAP_RUNQ_MAX:
		return l->max_ns;
	case CGSNAP_RUNQ_MEAN:
		return l->mean_ns;
	default:
		return l->p99_ns;
	}
}

void build_runq(const struct cgsnap_settings *s, const struct lat_interval *acc, int64_t now,
		struct lat_summary *l, struct cgsnap_snapshot *snap)
{
	uint64_t slots[CGSNAP_HIST_SLOTS];	/* only [lo, hi) is read */
	unsigned int i;

	for (i = acc->lo; i < acc->hi; i++)
		slots[i] = acc->slots[i];
	lat_summarize_range(slots, acc->lo, acc->hi, acc->count, acc->sum_ns, acc->max_ns, l);
	*snap = (struct cgsnap_snapshot){
		.t_ns = now,
		.kind = CGSNAP_KIND_RUNQ,
		.present = CGSNAP_F_RUNQ_COUNT | CGSNAP_F_RUNQ_MEAN | CGSNAP_F_RUNQ_P50 |
			   CGSNAP_F_RUNQ_P90 | CGSNAP_F_RUNQ_P99 | CGSNAP_F_RUNQ_MAX,
		.runq = {
			.delay_ns = runq_statistic(s, l),
			.max_delay_ns = s->max_runq_delay_ns,
			.count = l->count,
			.mean_ns = l->mean_ns,
			.p50_ns = l->p50_ns,
			.p90_ns = l->p90_ns,
			.p99_ns = l->p99_ns,
			.max_ns = l->max_ns,
		},
	};
}

void build_runq_waiting(uint64_t waiting, uint64_t waiting_ns, struct lat_summary *sum,
			struct cgsnap_snapshot *snap)
{
	uint64_t mean = waiting ? waiting_ns / waiting : 0;

	sum->waiting = waiting;
	sum->waiting_ns = waiting_ns;
	if ((int64_t)mean > snap->runq.delay_ns)
		snap->runq.delay_ns = mean;
}

void build_client(const struct cgsnap_settings *s, int64_t error_count, int64_t now,
		  struct cgsnap_snapshot *snap)
{
	*snap = (struct cgsnap_snapshot){
		.t_ns = now,
		.kind = CGSNAP_KIND_CLIENT,
		.client = { .error_count = error_count, .max_error_count = s->max_client_errors },
	};
}

double build_cpu_ratio_overall(const struct sys_state *st, double capacity)
{
	int64_t dt = st->last_cpu_t - st->first_cpu_t;

	if (!st->have_cpu || dt <= 0 || capacity <= 0 || st->last_cpu_ns < st->first_cpu_ns)
		return -1;
	return (double)(st->last_cpu_ns - st->first_cpu_ns) / ((double)dt * capacity);
}
