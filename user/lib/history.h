/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One kind's history of snapshots, kept compact: per snapshot its time, its
 * overloaded flag and its values as they changed from the one before (a
 * few bytes; none when nothing changed, as for an idle cgroup). Lossless:
 * what is read back is what was added. Private to libcgsnap.
 */
#ifndef __CGSNAP_HISTORY_H
#define __CGSNAP_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshotter.h"

/* an entry: its time as the gap since the entry before, and where its
 * values' code starts (it ends where the next one's starts) */
struct hist_entry {
	uint32_t dt;		/* ns; HIST_DT_FAR: the gap is the code's first 8 bytes */
	uint32_t code;		/* its code's offset in data[] << 1 | overloaded */
};

#define HIST_DT_FAR	UINT32_MAX

struct history {
	uint32_t kind;
	uint32_t first, len, cap;	/* a ring: entry i is e[(first + i) & (cap - 1)],
					 * cap 0 or a power of two */
	struct hist_entry *e;
	uint8_t *data;
	uint32_t data_used, data_cap;	/* data[0, data_used) holds dead bytes too */
	uint32_t nr_overloaded;		/* entries with .overloaded */
	uint64_t dropped;		/* popped at CGSNAP_HISTORY_MAX */
	/* the oldest and newest entries in full: where the times and values
	 * are decoded from, what the next entry is coded against */
	struct cgsnap_snapshot oldest, newest;
};

void hist_init(struct history *h, enum cgsnap_kind kind);
void hist_free(struct history *h);

/* where in the ring entry @i is (i == len: where the next one goes) */
static inline uint32_t hist_index(const struct history *h, uint32_t i)
{
	return (h->first + i) & (h->cap - 1);
}

static inline const struct hist_entry *hist_entry(const struct history *h, uint32_t i)
{
	return &h->e[hist_index(h, i)];
}

static inline bool hist_overloaded(const struct history *h, uint32_t i)
{
	return hist_entry(h, i)->code & 1;
}

/* the gap between entries @i - 1 and @i (0 < @i < len), ns */
int64_t hist_dt(const struct history *h, uint32_t i);

/* Insert @snap (with .overloaded set) in time order, after equal times;
 * first drop what @window leaves behind when the history is full. */
int hist_insert(struct history *h, const struct cgsnap_snapshot *snap, int64_t window);

/* drop the oldest snapshots older than @window relative to the newest */
void hist_prune(struct history *h, int64_t window);

/* the newest snapshot, or NULL */
const struct cgsnap_snapshot *hist_latest(const struct history *h);

/* copy entries [@from, @from + @n) to @out (@from + @n <= len) */
void hist_copy(const struct history *h, uint32_t from, uint32_t n, struct cgsnap_snapshot *out);

/* first entry not older than @duration_ns before the newest (0: all) */
uint32_t hist_first_within(const struct history *h, int64_t duration_ns);

/* newest - t > window, where a difference too large for int64 is "older" */
bool hist_older_than(int64_t newest, int64_t t, int64_t window);

/* bytes the history holds on the heap */
size_t hist_heap_bytes(const struct history *h);

#endif /* __CGSNAP_HISTORY_H */
