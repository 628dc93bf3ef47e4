// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <string.h>

#include "accum.h"

static uint32_t hist_sum(const __u32 slots[CGSNAP_HIST_SLOTS])
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		n += slots[i];
	return n;
}

bool runq_prev_set(struct runq_prev *p, const struct cgsnap_runq *cur,
		   const __u32 slots[CGSNAP_HIST_SLOTS])
{
	p->sum = *cur;
	p->max_ns = cur->max_ns;
	memcpy(p->slots, slots, sizeof(p->slots));
	p->hist_sum = hist_sum(slots);
	return (uint32_t)cur->count == p->hist_sum;
}

/* the histogram's new waits in @dd (listed by slot), and @p moved on to @slots */
static uint64_t hist_delta(struct runq_prev *p, const __u32 slots[CGSNAP_HIST_SLOTS],
			   struct lat_delta *dd)
{
	uint64_t n = 0;
	int b, i;

	/* few slots change in an interval: skip equal blocks of 8 with memcmp */
	dd->nr_nz = 0;
	for (b = 0; b < CGSNAP_HIST_SLOTS; b += 8) {
		int end = b + 8 < CGSNAP_HIST_SLOTS ? b + 8 : CGSNAP_HIST_SLOTS;

		if (!memcmp(&slots[b], &p->slots[b], (end - b) * sizeof(__u32)))
			continue;
		for (i = b; i < end; i++) {
			if (slots[i] == p->slots[i])
				continue;
			dd->acc.slots[i] = delta32(slots[i], p->slots[i]);
			n += dd->acc.slots[i];
			p->slots[i] = slots[i];
			dd->nz[dd->nr_nz++] = i;
		}
	}
	p->hist_sum += (uint32_t)n;
	return n;
}

bool runq_delta(struct runq_prev *p, const struct cgsnap_runq *cur,
		const __u32 slots[CGSNAP_HIST_SLOTS], struct lat_delta *dd)
{
	struct lat_acc *d = &dd->acc;
	bool agree;
	int i;

	if (cur->count < p->sum.count)	/* the entry was reset: count from zero */
		memset(p, 0, sizeof(*p));
	d->count = hist_delta(p, slots, dd);
	/* the count and the histogram tell the same waits (mod 2^32, as the
	 * histogram's slots wrap): the sums are the same waits' too */
	agree = (uint32_t)cur->count == p->hist_sum;
	memset(d->holder_count, 0, sizeof(d->holder_count));
	memset(d->holder_ns, 0, sizeof(d->holder_ns));
	d->sum_ns = 0;
	if (agree) {
		d->sum_ns = cur->sum_ns - p->sum.sum_ns;
		for (i = 0; i < CGSNAP_HOLDER_MAX; i++) {
			d->holder_count[i] = cur->holder_count[i] - p->sum.holder_count[i];
			d->holder_ns[i] = cur->holder_ns[i] - p->sum.holder_ns[i];
		}
	}
	/* a new record is this interval's max; else its highest slot bounds it
	 * (the listed slots only: the others may hold an earlier delta's) */
	if (agree && cur->max_ns > p->max_ns)
		d->max_ns = cur->max_ns;
	else
		d->max_ns = dd->nr_nz ? hist_slot_max(dd->nz[dd->nr_nz - 1], cur->max_ns) : 0;
	if (cur->max_ns > p->max_ns)
		p->max_ns = cur->max_ns;
	if (!agree)
		return d->count;
	if (!d->count && cur->count == p->sum.count)
		return false;
	p->sum = *cur;
	return true;
}

/* [lo, hi) of @lo, @hi widened to @d's listed slots */
static void widen(uint16_t *lo, uint16_t *hi, const struct lat_delta *d)
{
	if (!d->nr_nz)
		return;
	if (*lo >= *hi || d->nz[0] < *lo)
		*lo = d->nz[0];
	if (d->nz[d->nr_nz - 1] + 1 > *hi)
		*hi = d->nz[d->nr_nz - 1] + 1;
}

void lat_add(struct lat_acc *a, const struct lat_delta *d)
{
	unsigned int i;

	a->count += d->acc.count;
	a->sum_ns += d->acc.sum_ns;
	if (d->acc.max_ns > a->max_ns)
		a->max_ns = d->acc.max_ns;
	for (i = 0; i < CGSNAP_HOLDER_MAX; i++) {
		a->holder_count[i] += d->acc.holder_count[i];
		a->holder_ns[i] += d->acc.holder_ns[i];
	}
	for (i = 0; i < d->nr_nz; i++)
		a->slots[d->nz[i]] += d->acc.slots[d->nz[i]];
	widen(&a->lo, &a->hi, d);
}

void lat_clear(struct lat_acc *a)
{
	if (a->lo < a->hi)
		memset(&a->slots[a->lo], 0, (a->hi - a->lo) * sizeof(a->slots[0]));
	memset(a, 0, offsetof(struct lat_acc, slots));
}

void lat_interval_add(struct lat_interval *a, const struct lat_delta *d)
{
	unsigned int i;
	uint64_t v;

	a->count += d->acc.count;
	a->sum_ns += d->acc.sum_ns;
	if (d->acc.max_ns > a->max_ns)
		a->max_ns = d->acc.max_ns;
	for (i = 0; i < d->nr_nz; i++) {
		v = (uint64_t)a->slots[d->nz[i]] + d->acc.slots[d->nz[i]];
		a->slots[d->nz[i]] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	widen(&a->lo, &a->hi, d);
}

void lat_interval_clear(struct lat_interval *a)
{
	if (a->lo < a->hi)
		memset(&a->slots[a->lo], 0, (a->hi - a->lo) * sizeof(a->slots[0]));
	memset(a, 0, offsetof(struct lat_interval, slots));
}

void mem_current(const struct cgsnap_mem *v, int64_t now, struct mem_prev *cur)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		cur->count[i] = v->count[i];
		cur->sum_ns[i] = v->sum_ns[i];
	}
	cur->max_ns = v->max_ns;
	cur->some_ns = v->some_ns;
	if (v->nr_stalled && (__u64)now > v->stall_start_ns)
		cur->some_ns += now - v->stall_start_ns;
	cur->oom_kills = v->oom_kills;
	cur->oom_kills_memcg = v->oom_kills_memcg;
	memcpy(cur->slots, v->slots, sizeof(cur->slots));
}

void mem_delta(struct mem_prev *p, const struct mem_prev *cur, struct mem_acc *d)
{
	int i;

	if (cur->count[0] + cur->count[1] < p->count[0] + p->count[1] ||
	    cur->oom_kills < p->oom_kills || cur->oom_kills_memcg < p->oom_kills_memcg)
		memset(p, 0, sizeof(*p));	/* the entry was reset */
	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		d->count[i] = cur->count[i] - p->count[i];
		d->sum_ns[i] = cur->sum_ns[i] - p->sum_ns[i];
	}
	d->max_ns = cur->max_ns > p->max_ns ? cur->max_ns : 0;
	d->some_ns = cur->some_ns > p->some_ns ? cur->some_ns - p->some_ns : 0;
	d->oom_kills = cur->oom_kills - p->oom_kills;
	d->oom_kills_memcg = cur->oom_kills_memcg - p->oom_kills_memcg;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		d->slots[i] = delta32(cur->slots[i], p->slots[i]);
	*p = *cur;
}

void mem_add(struct mem_acc *a, const struct mem_acc *d)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		a->count[i] += d->count[i];
		a->sum_ns[i] += d->sum_ns[i];
	}
	if (d->max_ns > a->max_ns)
		a->max_ns = d->max_ns;
	a->some_ns += d->some_ns;
	a->oom_kills += d->oom_kills;
	a->oom_kills_memcg += d->oom_kills_memcg;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		a->slots[i] += d->slots[i];
}

void lat_total_add(struct lat_total *t, const struct lat_delta *d)
{
	unsigned int i;

	t->count += d->acc.count;
	t->sum_ns += d->acc.sum_ns;
	if (d->acc.max_ns > t->max_ns)
		t->max_ns = d->acc.max_ns;
	for (i = 0; i < CGSNAP_HOLDER_MAX; i++) {
		t->holder_count[i] += d->acc.holder_count[i];
		t->holder_ns[i] += d->acc.holder_ns[i];
	}
	for (i = 0; i < d->nr_nz; i++)
		t->octaves[hist_octave(d->nz[i])] += d->acc.slots[d->nz[i]];
}

void mem_total_add(struct mem_total *t, const struct mem_acc *d)
{
	int i;

	for (i = 0; i < CGSNAP_RECLAIM_MAX; i++) {
		t->count[i] += d->count[i];
		t->sum_ns[i] += d->sum_ns[i];
	}
	if (d->max_ns > t->max_ns)
		t->max_ns = d->max_ns;
	t->some_ns += d->some_ns;
	t->oom_kills += d->oom_kills;
	t->oom_kills_memcg += d->oom_kills_memcg;
	if (!d->count[0] && !d->count[1])
		return;
	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		t->octaves[hist_octave(i)] += d->slots[i];
}
