// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "idhash.h"
#include "verdicts.h"

struct entry {
	uint64_t id;
	int64_t since;
	enum verdict v;
	unsigned int kinds;
	struct entry *next;
};

struct verdicts {
	struct entry **buckets;
	uint32_t nbuckets, n;
};

struct verdicts *verdicts__new(void)
{
	struct verdicts *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 64;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void verdicts__free(struct verdicts *t)
{
	struct entry *e, *next;

	if (!t)
		return;
	for (uint32_t i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	free(t);
}

static struct entry *find(const struct verdicts *t, uint64_t id)
{
	struct entry *e;

	for (e = t->buckets[id_bucket(id, t->nbuckets)]; e; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

static void grow(struct verdicts *t)
{
	uint32_t nb = 2 * t->nbuckets, i;
	struct entry **b = calloc(nb, sizeof(*b)), *e, *next;

	if (!b)
		return;	/* longer chains, still right */
	for (i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			e->next = b[id_bucket(e->id, nb)];
			b[id_bucket(e->id, nb)] = e;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

bool verdicts__update(struct verdicts *t, uint64_t id, enum verdict v, unsigned int kinds,
		      int64_t now, int64_t hold_ns, enum verdict *prev)
{
	struct entry *e = find(t, id);

	if (!e) {
		if (t->n >= t->nbuckets)
			grow(t);
		e = calloc(1, sizeof(*e));
		if (!e)
			return false;
		e->id = id;
		e->next = t->buckets[id_bucket(id, t->nbuckets)];
		t->buckets[id_bucket(id, t->nbuckets)] = e;
		t->n++;
	}
	if (e->v == v && e->kinds == kinds)
		return false;
	/* flips back, or drops a kind, only once it has held; a kind that
	 * joins is told at once */
	if (e->v != VERDICT_NONE && now - e->since < hold_ns && (e->v != v || !(kinds & ~e->kinds)))
		return false;
	*prev = e->v;
	e->v = v;
	e->kinds = kinds;
	e->since = now;
	return true;
}

enum verdict verdicts__get(const struct verdicts *t, uint64_t id)
{
	const struct entry *e = find(t, id);

	return e ? e->v : VERDICT_NONE;
}

void verdicts__forget(struct verdicts *t, uint64_t id)
{
	struct entry **pp, *e;

	for (pp = &t->buckets[id_bucket(id, t->nbuckets)]; (e = *pp); pp = &e->next)
		if (e->id == id) {
			*pp = e->next;
			free(e);
			t->n--;
			return;
		}
}

unsigned int verdicts__count(const struct verdicts *t)
{
	return t->n;
}
