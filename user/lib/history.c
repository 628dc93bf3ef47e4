// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Compact histories (history.h). An entry is 8 bytes: its time as the gap
 * since the entry before, and where its code starts. Its code holds its
 * values as changes from the entry before: a varint mask of the fields
 * that changed, then each changed field, an integer as the zigzag varint
 * of its difference, a double as its 8 bytes (and first, for a gap of 4.3
 * s or more, the gap's 8 bytes). The oldest entry is kept in full beside
 * the codes, so dropping it decodes the next one into its place and
 * leaves the codes alone; the newest in full codes the next append.
 * The entries are a ring the size of the window; the codes an array whose
 * dead head is compacted away once it is a quarter of the live codes, or
 * when room is short, and which grows by a quarter: it holds at most about
 * 1.6 times its live codes. Steady appends and prunes allocate nothing, and
 * cost O(1) amortized (a compaction moves the live codes once every quarter
 * of them appended). A snapshot inserted before the newest (rare) rebuilds
 * the codes.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"

#define INIT_CAP	8U
#define MAX_FIELDS	9
/* a far gap (8 bytes), a mask varint (2) and every field at its widest (10) */
#define MAX_CODE	(8 + 2 + MAX_FIELDS * 10)

struct field {
	uint16_t off;
	uint8_t size;		/* 4 or 8 */
	bool real;		/* a double: its bits, not a difference */
};

#define INT(m)	{ offsetof(struct cgsnap_snapshot, m), sizeof(((struct cgsnap_snapshot *)0)->m), false }
#define REAL(m)	{ offsetof(struct cgsnap_snapshot, m), 8, true }

static const struct field cpu_fields[] = {
	INT(present), REAL(cpu.used_ratio), REAL(cpu.max_used_ratio),
};
static const struct field memory_fields[] = {
	INT(present), INT(memory.current_bytes), INT(memory.max_bytes),
	REAL(memory.max_used_ratio), INT(memory.system_used_bytes),
	INT(memory.system_total_bytes), REAL(memory.stall_ratio), REAL(memory.max_stall_ratio),
};
static const struct field runq_fields[] = {
	INT(present), INT(runq.delay_ns), INT(runq.max_delay_ns), INT(runq.count),
	INT(runq.mean_ns), INT(runq.p50_ns), INT(runq.p90_ns), INT(runq.p99_ns), INT(runq.max_ns),
};
static const struct field client_fields[] = {
	INT(present), INT(client.error_count), INT(client.new_error_count),
	INT(client.max_error_count),
};

static const struct {
	const struct field *f;
	unsigned int n;
} kinds[CGSNAP_KIND_COUNT] = {
	[CGSNAP_KIND_CPU] = { cpu_fields, sizeof(cpu_fields) / sizeof(cpu_fields[0]) },
	[CGSNAP_KIND_MEMORY] = { memory_fields, sizeof(memory_fields) / sizeof(memory_fields[0]) },
	[CGSNAP_KIND_RUNQ] = { runq_fields, sizeof(runq_fields) / sizeof(runq_fields[0]) },
	[CGSNAP_KIND_CLIENT] = { client_fields, sizeof(client_fields) / sizeof(client_fields[0]) },
};

_Static_assert(sizeof(runq_fields) / sizeof(runq_fields[0]) <= MAX_FIELDS, "MAX_FIELDS");
_Static_assert(sizeof(memory_fields) / sizeof(memory_fields[0]) <= MAX_FIELDS, "MAX_FIELDS");

static uint64_t get(const struct cgsnap_snapshot *s, const struct field *f)
{
	const char *p = (const char *)s + f->off;
	uint64_t v;
	uint32_t v32;

	if (f->size == 4) {
		memcpy(&v32, p, 4);
		return v32;
	}
	memcpy(&v, p, 8);
	return v;
}

static void put(struct cgsnap_snapshot *s, const struct field *f, uint64_t v)
{
	char *p = (char *)s + f->off;
	uint32_t v32 = (uint32_t)v;

	if (f->size == 4)
		memcpy(p, &v32, 4);
	else
		memcpy(p, &v, 8);
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)v | 0x80;
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static size_t get_varint(const uint8_t *p, uint64_t *v)
{
	size_t n = 0;
	unsigned int shift = 0;

	*v = 0;
	do {
		*v |= (uint64_t)(p[n] & 0x7f) << shift;
		shift += 7;
	} while (p[n++] & 0x80);
	return n;
}

/* @cur's values as changes from @prev's, into @p (MAX_CODE bytes) */
static size_t encode(uint32_t kind, const struct cgsnap_snapshot *prev,
		     const struct cgsnap_snapshot *cur, uint8_t *p)
{
	const struct field *f = kinds[kind].f;
	uint8_t body[MAX_CODE];
	uint64_t mask = 0;
	size_t n = 0, m;
	unsigned int i;

	for (i = 0; i < kinds[kind].n; i++) {
		uint64_t a = get(prev, &f[i]), b = get(cur, &f[i]), d;

		if (a == b)
			continue;
		mask |= 1U << i;
		if (f[i].real) {
			memcpy(body + n, &b, 8);
			n += 8;
		} else {
			d = b - a;	/* the difference, modulo 2^64: zigzag */
			n += put_varint(body + n, (d << 1) ^ (uint64_t)-(int64_t)(d >> 63));
		}
	}
	if (!mask)
		return 0;
	m = put_varint(p, mask);
	memcpy(p + m, body, n);
	return m + n;
}

/* apply the changes coded at @p (@len bytes) to @s */
static void decode(uint32_t kind, const uint8_t *p, uint16_t len, struct cgsnap_snapshot *s)
{
	const struct field *f = kinds[kind].f;
	uint64_t mask, v;
	size_t n = 0;
	unsigned int i;

	n += get_varint(p, &mask);
	for (i = 0; i < kinds[kind].n; i++) {
		if (!(mask & (1U << i)))
			continue;
		if (f[i].real) {
			memcpy(&v, p + n, 8);
			n += 8;
			put(s, &f[i], v);
		} else {
			n += get_varint(p + n, &v);
			put(s, &f[i], get(s, &f[i]) + ((v >> 1) ^ (uint64_t)-(int64_t)(v & 1)));
		}
	}
}

void hist_init(struct history *h, enum cgsnap_kind kind)
{
	memset(h, 0, sizeof(*h));
	h->kind = kind;
}

void hist_free(struct history *h)
{
	free(h->e);
	free(h->data);
	h->e = NULL;
	h->data = NULL;
	h->first = h->len = h->cap = h->data_used = h->data_cap = 0;
}

size_t hist_heap_bytes(const struct history *h)
{
	return (size_t)h->cap * sizeof(*h->e) + h->data_cap;
}

bool hist_older_than(int64_t newest, int64_t t, int64_t window)
{
	int64_t age;

	if (__builtin_sub_overflow(newest, t, &age))
		return newest > t;
	return age > window;
}

const struct cgsnap_snapshot *hist_latest(const struct history *h)
{
	return h->len ? &h->newest : NULL;
}

/* where the code of entry @i starts and ends */
static uint32_t code_start(const struct history *h, uint32_t i)
{
	return hist_entry(h, i)->code >> 1;
}

static uint32_t code_end(const struct history *h, uint32_t i)
{
	return i + 1 < h->len ? code_start(h, i + 1) : h->data_used;
}

static uint64_t gap_at(const struct history *h, uint32_t i)
{
	uint64_t gap;

	if (hist_entry(h, i)->dt != HIST_DT_FAR)
		return hist_entry(h, i)->dt;
	memcpy(&gap, h->data + code_start(h, i), 8);
	return gap;
}

int64_t hist_dt(const struct history *h, uint32_t i)
{
	return (int64_t)gap_at(h, i);
}

/* @s, entry @i - 1, becomes entry @i */
static void step(const struct history *h, uint32_t i, struct cgsnap_snapshot *s)
{
	uint32_t start = code_start(h, i), end = code_end(h, i);

	s->t_ns = (int64_t)((uint64_t)s->t_ns + gap_at(h, i));
	s->overloaded = hist_overloaded(h, i);
	if (hist_entry(h, i)->dt == HIST_DT_FAR)
		start += 8;
	/* nothing changed: no code, and maybe no codes at all (data NULL) */
	if (end > start)
		decode(h->kind, h->data + start, end - start, s);
}

void hist_copy(const struct history *h, uint32_t from, uint32_t n, struct cgsnap_snapshot *out)
{
	struct cgsnap_snapshot cur = h->oldest;
	uint32_t i;

	for (i = 0; i < from + n; i++) {
		if (i)
			step(h, i, &cur);
		if (i >= from)
			out[i - from] = cur;
	}
}

/* the oldest entry leaves: the next one, decoded, takes its place */
static void pop_front(struct history *h)
{
	h->nr_overloaded -= hist_overloaded(h, 0);
	if (h->len == 1) {
		h->len = 0;
		h->first = 0;
		h->data_used = 0;
		return;
	}
	step(h, 1, &h->oldest);
	h->first = (h->first + 1) & (h->cap - 1);
	h->len--;
}

static void prune_to(struct history *h, int64_t newest, int64_t window)
{
	while (h->len && hist_older_than(newest, h->oldest.t_ns, window))
		pop_front(h);
}

void hist_prune(struct history *h, int64_t window)
{
	if (h->len)
		prune_to(h, h->newest.t_ns, window);
}

/* the codes' dead head: those of entries pruned already */
static uint32_t dead_codes(const struct history *h)
{
	return h->len ? code_start(h, 0) : h->data_used;
}

/* what the codes grow to, to hold @need bytes: a quarter more */
static size_t grown(size_t need)
{
	size_t want = need + need / 4;

	return want < MAX_CODE ? MAX_CODE : want;
}

/* move the live codes to the front; keep at most twice what they would
 * grow to (memory is returned when a busy cgroup goes quiet) */
static void compact(struct history *h)
{
	uint32_t base = dead_codes(h), i;
	size_t want;
	uint8_t *data;

	if (h->data_used > base)
		memmove(h->data, h->data + base, h->data_used - base);
	h->data_used -= base;
	for (i = 0; i < h->len; i++)
		h->e[hist_index(h, i)].code -= base << 1;
	want = grown((size_t)h->data_used + MAX_CODE);
	if (h->data_cap > 2 * want && (data = realloc(h->data, want))) {
		h->data = data;
		h->data_cap = (uint32_t)want;
	}
}

/* room for one more entry at the end */
static int reserve(struct history *h, int64_t t_ns, int64_t window)
{
	if (h->len == h->cap && h->len) {
		int64_t newest = h->newest.t_ns;

		/* what the window leaves behind once @t_ns is in goes first: a
		 * history is sized by what the window holds, not by one more */
		prune_to(h, t_ns > newest ? t_ns : newest, window);
	}
	if (h->len == h->cap) {
		if (h->cap >= CGSNAP_HISTORY_MAX) {
			pop_front(h);
			h->dropped++;
		} else {
			uint32_t cap = h->cap ? h->cap * 2 : INIT_CAP, i;
			struct hist_entry *e = malloc(cap * sizeof(*e));

			if (!e)
				return -ENOMEM;
			for (i = 0; i < h->len; i++)
				e[i] = *hist_entry(h, i);
			free(h->e);
			h->e = e;
			h->cap = cap;
			h->first = 0;
		}
	}
	/* the codes' dead head: compacted once it is a quarter of the live */
	if (h->len && 5 * (uint64_t)dead_codes(h) > (uint64_t)h->data_used + 4 * MAX_CODE)
		compact(h);
	return 0;
}

/* room for @n more bytes of codes (none at all while nothing changes) */
static int reserve_data(struct history *h, size_t n)
{
	size_t want;
	uint8_t *data;

	if (h->data_used + n <= h->data_cap)
		return 0;
	if (dead_codes(h)) {	/* the dead head first */
		compact(h);
		if (h->data_used + n <= h->data_cap)
			return 0;
	}
	want = grown(h->data_used + n);
	if (want > UINT32_MAX / 2)
		return -ENOMEM;
	data = realloc(h->data, want);
	if (!data)
		return -ENOMEM;
	h->data = data;
	h->data_cap = (uint32_t)want;
	return 0;
}

/* append @snap, not older than the newest, room made: fails only for want
 * of room for its code */
static int append(struct history *h, const struct cgsnap_snapshot *snap)
{
	struct hist_entry *e = &h->e[hist_index(h, h->len)];
	uint64_t gap = h->len ? (uint64_t)snap->t_ns - (uint64_t)h->newest.t_ns : 0;
	uint8_t code[MAX_CODE];
	size_t n = 0;

	if (gap >= HIST_DT_FAR) {
		memcpy(code, &gap, 8);
		n = 8;
	}
	if (h->len)
		n += encode(h->kind, &h->newest, snap, code + n);
	if (reserve_data(h, n))
		return -ENOMEM;
	if (n)
		memcpy(h->data + h->data_used, code, n);
	e->dt = gap >= HIST_DT_FAR ? HIST_DT_FAR : (uint32_t)gap;
	e->code = h->data_used << 1 | (snap->overloaded ? 1 : 0);
	h->data_used += n;
	if (!h->len)
		h->oldest = *snap;
	h->newest = *snap;
	h->len++;
	h->nr_overloaded += snap->overloaded;
	return 0;
}

/* first entry with t > @t_ns, looked for from the newest back */
static uint32_t upper_bound(const struct history *h, int64_t t_ns)
{
	int64_t t = h->newest.t_ns;
	uint32_t i = h->len;

	if (!i || t <= t_ns)
		return i;
	for (i--; i > 0; i--) {
		t = (int64_t)((uint64_t)t - gap_at(h, i));
		if (t <= t_ns)
			break;
	}
	return i;
}

/* a snapshot before the newest: decode all, put it in place, code again */
static int insert_before(struct history *h, uint32_t pos, const struct cgsnap_snapshot *snap)
{
	uint32_t n = h->len, i;
	struct cgsnap_snapshot *all = malloc((n + 1) * sizeof(*all));
	int err;

	if (!all)
		return -ENOMEM;
	hist_copy(h, 0, pos, all);
	all[pos] = *snap;
	hist_copy(h, pos, n - pos, all + pos + 1);
	/* room first, so that the history is never left half rebuilt */
	err = reserve_data(h, h->data_used + 2 * MAX_CODE);
	if (err) {
		free(all);
		return err;
	}
	h->first = h->len = h->data_used = h->nr_overloaded = 0;
	for (i = 0; i <= n && !err; i++)
		err = append(h, &all[i]);
	free(all);
	return err;
}

int hist_insert(struct history *h, const struct cgsnap_snapshot *snap, int64_t window)
{
	uint32_t pos;
	int err;

	err = reserve(h, snap->t_ns, window);
	if (err)
		return err;
	pos = upper_bound(h, snap->t_ns);
	if (pos < h->len)
		return insert_before(h, pos, snap);
	return append(h, snap);
}

uint32_t hist_first_within(const struct history *h, int64_t duration_ns)
{
	int64_t newest = h->newest.t_ns, t = newest;
	uint32_t i;

	if (!h->len || duration_ns <= 0)
		return 0;
	for (i = h->len - 1; i > 0; i--) {
		int64_t before = (int64_t)((uint64_t)t - gap_at(h, i));

		if (hist_older_than(newest, before, duration_ns))
			break;
		t = before;
	}
	return i;
}
