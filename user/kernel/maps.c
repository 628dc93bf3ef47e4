// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maps.h"

struct kmaps {
	struct kmaps_fds fds;
	int ncpus;
	unsigned int nr_used;
	__u64 *owners;			/* cg_owner[nr_slots] */
	struct cgsnap_runq *runq;	/* cg_runq[nr_slots x ncpus] */
	struct cgsnap_hist *hists;	/* cg_runq_hist[nr_slots] */
	size_t owners_len, runq_len, hists_len;
	struct ring_buffer *events;
	void (*event_fn)(const struct cgsnap_cg_event *e, void *ctx);
	void *event_ctx;
	struct ring_buffer *wakes;	/* fast mode */
	void (*wake_fn)(const struct cgsnap_wake *w, void *ctx);
	void *wake_ctx;
};

/* map array map @fd of @entries values of @value_size; NULL on failure */
static void *map_array(int fd, size_t value_size, size_t entries, size_t *len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	*len = (((value_size + 7) & ~7UL) * entries + page - 1) / page * page;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	struct kmaps *m = ctx;
	struct cgsnap_cg_event e;

	if (size < sizeof(e))
		return 0;	/* not ours: skip it */
	memcpy(&e, data, sizeof(e));
	e.name[sizeof(e.name) - 1] = '\0';
	m->event_fn(&e, m->event_ctx);
	return 0;
}

static int on_wake(void *ctx, void *data, size_t size)
{
	struct kmaps *m = ctx;
	struct cgsnap_wake w;

	if (size < sizeof(w) || !m->wake_fn)
		return 0;
	memcpy(&w, data, sizeof(w));
	m->wake_fn(&w, m->wake_ctx);
	return 0;
}

struct kmaps *kmaps__open(const struct kmaps_fds *fds)
{
	struct kmaps *m;

	if (!fds->nr_slots) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->fds = *fds;
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0) {
		free(m);
		errno = EINVAL;
		return NULL;
	}
	m->owners = map_array(fds->owner_fd, sizeof(*m->owners), fds->nr_slots, &m->owners_len);
	m->runq = map_array(fds->runq_fd, sizeof(*m->runq), (size_t)fds->nr_slots * m->ncpus,
			    &m->runq_len);
	m->hists = map_array(fds->hist_fd, sizeof(*m->hists), fds->nr_slots, &m->hists_len);
	if (m->owners && m->runq && m->hists && fds->events_fd >= 0)
		m->events = ring_buffer__new(fds->events_fd, on_ringbuf, m, NULL);
	if (m->owners && m->runq && m->hists && fds->wake_fd >= 0)
		m->wakes = ring_buffer__new(fds->wake_fd, on_wake, m, NULL);
	if (!m->owners || !m->runq || !m->hists || (fds->events_fd >= 0 && !m->events) ||
	    (fds->wake_fd >= 0 && !m->wakes)) {
		int err = errno;

		kmaps__close(m);
		errno = err;
		return NULL;
	}
	return m;
}

void kmaps__close(struct kmaps *m)
{
	if (!m)
		return;
	if (m->owners)
		munmap(m->owners, m->owners_len);
	if (m->runq)
		munmap(m->runq, m->runq_len);
	if (m->hists)
		munmap(m->hists, m->hists_len);
	ring_buffer__free(m->events);
	ring_buffer__free(m->wakes);
	free(m);
}

uint32_t kmaps__scan_slots(struct kmaps *m)
{
	uint32_t hi = 0, i;

	m->nr_used = 0;
	for (i = 0; i < m->fds.nr_slots; i++) {
		if (!m->owners[i])
			continue;
		hi = i + 1;
		m->nr_used++;
	}
	return hi;
}

unsigned int kmaps__nr_used(const struct kmaps *m)
{
	return m->nr_used;
}

const uint64_t *kmaps__owners(const struct kmaps *m)
{
	return (const uint64_t *)m->owners;
}

uint64_t kmaps__runq_count(const struct kmaps *m, uint32_t slot)
{
	const struct cgsnap_runq *vals = &m->runq[(size_t)slot * m->ncpus];
	uint64_t n = 0;
	int cpu;

	for (cpu = 0; cpu < m->ncpus; cpu++)
		n += vals[cpu].count;
	return n;
}

void kmaps__runq_read(const struct kmaps *m, uint32_t slot, struct cgsnap_runq *sum,
		      __u32 slots[CGSNAP_HIST_SLOTS])
{
	const volatile struct cgsnap_runq *vals = &m->runq[(size_t)slot * m->ncpus];
	int cpu, h;

	/*
	 * The writer adds to a CPU's count, then to its sums, then to the
	 * histogram (account_waits() in bpf/cgsnap.bpf.c); read backwards, each
	 * read sees at least the events of the one before it. The fences cost
	 * nothing on x86, whose loads are not reordered anyway.
	 */
	memcpy(slots, m->hists[slot].slots, sizeof(m->hists[slot].slots));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < m->ncpus; cpu++) {
		const volatile struct cgsnap_runq *v = &vals[cpu];

		sum->sum_ns += v->sum_ns;
		if (v->max_ns > sum->max_ns)
			sum->max_ns = v->max_ns;
		for (h = 0; h < CGSNAP_HOLDER_MAX; h++) {
			sum->holder_count[h] += v->holder_count[h];
			sum->holder_ns[h] += v->holder_ns[h];
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		sum->count += v->count;
	}
}

void kmaps__recycle(struct kmaps *m, uint32_t slot, uint64_t id)
{
	__u64 key = id;

	bpf_map_delete_elem(m->fds.slot_fd, &key);
	memset(&m->runq[(size_t)slot * m->ncpus], 0, m->ncpus * sizeof(*m->runq));
	memset(&m->hists[slot], 0, sizeof(m->hists[slot]));
	m->owners[slot] = 0;
	bpf_map_update_elem(m->fds.free_fd, NULL, &slot, BPF_ANY);
}

void kmaps__forget_mem(struct kmaps *m, uint64_t id)
{
	__u64 key = id;

	bpf_map_delete_elem(m->fds.mem_fd, &key);
}

int kmaps__for_each_mem(struct kmaps *m,
			void (*fn)(uint64_t id, const struct cgsnap_mem *v, void *ctx), void *ctx)
{
	__u64 key, next, *prev = NULL;
	struct cgsnap_mem v;

	/* few entries (cgroups that ever reclaimed): plain iteration */
	while (!bpf_map_get_next_key(m->fds.mem_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem_flags(m->fds.mem_fd, &key, &v, BPF_F_LOCK))
			continue;	/* removed meanwhile */
		fn(key, &v, ctx);
	}
	return 0;
}

int kmaps__drops(const struct kmaps *m, uint64_t out[CGSNAP_DROP_MAX])
{
	__u64 vals[m->ncpus];
	__u32 i;
	int cpu;

	for (i = 0; i < CGSNAP_DROP_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(m->fds.drops_fd, &i, vals))
			return -errno;
		for (cpu = 0; cpu < m->ncpus; cpu++)
			out[i] += vals[cpu];
	}
	return 0;
}

/* the online CPUs, from sysfs ("0-3,6"): @online[cpu] for cpu < @n */
static int online_cpus(bool *online, int n)
{
	char buf[1024], *p = buf, *end;
	unsigned long lo, hi;
	FILE *f;

	f = fopen("/sys/devices/system/cpu/online", "re");
	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	memset(online, 0, n * sizeof(*online));
	while (*p && *p != '\n') {
		lo = hi = strtoul(p, &end, 10);
		if (end == p)
			return -EINVAL;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				return -EINVAL;
		}
		for (; lo <= hi && lo < (unsigned long)n; lo++)
			online[lo] = true;
		p = *end == ',' ? end + 1 : end;
	}
	return 0;
}

int kmaps__running(const struct kmaps *m, struct cgsnap_cpu_note *out, int max)
{
	struct cgsnap_cpu_note notes[m->ncpus];
	bool online[m->ncpus];
	__u32 zero = 0;
	int cpu, err;

	if (m->fds.notes_fd < 0)
		return -ENODATA;
	err = online_cpus(online, m->ncpus);
	if (err)
		return err;
	if (bpf_map_lookup_elem(m->fds.notes_fd, &zero, notes))
		return -errno;
	for (cpu = 0; cpu < m->ncpus && cpu < max; cpu++) {
		/* an online CPU that has not switched since the programs were
		 * attached runs a task nobody noted */
		if (online[cpu] && !notes[cpu].task)
			return -ENODATA;
		if (online[cpu])
			out[cpu] = notes[cpu];
		else
			memset(&out[cpu], 0, sizeof(out[cpu]));
	}
	return cpu;
}

uint64_t kmaps__runq_cpu(const struct kmaps *m, uint32_t slot)
{
	const volatile struct cgsnap_runq *vals = &m->runq[(size_t)slot * m->ncpus];
	uint64_t ns = 0;
	int cpu;

	for (cpu = 0; cpu < m->ncpus; cpu++)
		ns += vals[cpu].cpu_ns;
	return ns;
}

int kmaps__nr_cpus(const struct kmaps *m)
{
	return m->ncpus;
}

int kmaps__slot_of(const struct kmaps *m, uint64_t id, uint32_t *slot)
{
	__u64 key = id;
	__u32 v;

	if (bpf_map_lookup_elem(m->fds.slot_fd, &key, &v))
		return -ENOENT;
	*slot = v;
	return 0;
}

int kmaps__mem_of(const struct kmaps *m, uint64_t id, struct cgsnap_mem *out)
{
	__u64 key = id;

	if (bpf_map_lookup_elem_flags(m->fds.mem_fd, &key, out, BPF_F_LOCK))
		return -ENOENT;
	return 0;
}

int kmaps__events(struct kmaps *m, void (*fn)(const struct cgsnap_cg_event *e, void *ctx),
		  void *ctx)
{
	if (!m->events)
		return 0;
	m->event_fn = fn;
	m->event_ctx = ctx;
	return ring_buffer__consume(m->events);
}

int kmaps__wake_fd(const struct kmaps *m)
{
	return m->wakes ? ring_buffer__epoll_fd(m->wakes) : -1;
}

int kmaps__wakes(struct kmaps *m, void (*fn)(const struct cgsnap_wake *w, void *ctx), void *ctx)
{
	if (!m->wakes)
		return 0;
	m->wake_fn = fn;
	m->wake_ctx = ctx;
	return ring_buffer__consume(m->wakes);
}

int64_t kmaps__wait_clock(const struct kmaps *m, int64_t mono_now)
{
	struct cgsnap_cpu_note notes[m->ncpus];
	__u64 latest = 0;
	__u32 zero = 0;
	int cpu;

	if (!m->fds.rq_clock || m->fds.notes_fd < 0)
		return mono_now;
	if (bpf_map_lookup_elem(m->fds.notes_fd, &zero, notes))
		return mono_now;	/* ENOMEM at worst: ages then come out 0 */
	for (cpu = 0; cpu < m->ncpus; cpu++)
		if (notes[cpu].clock > latest)
			latest = notes[cpu].clock;
	return latest;
}

uint64_t kmaps__runq_waiting(const struct kmaps *m, uint32_t slot, int64_t now,
			     uint64_t *age_ns)
{
	const volatile struct cgsnap_runq *vals = &m->runq[(size_t)slot * m->ncpus];
	uint64_t n = 0, since = 0;
	int64_t age;
	int cpu;

	/*
	 * Each CPU's share may be negative (a wait begun on one, ended on
	 * another): the sums, mod 2^64, are not. The count first, then the
	 * stamps (the BPF side stores them the other way round at a start,
	 * this way at an end): a wait caught half-written makes the ages come
	 * out smaller, never larger. Stamps taken after the @now the run
	 * queues last noted do the same: the total is at least 0.
	 */
	for (cpu = 0; cpu < m->ncpus; cpu++) {
		n += vals[cpu].waiting;
		since += vals[cpu].waiting_since_sum;
	}
	*age_ns = 0;
	if ((int64_t)n <= 0)
		return 0;
	age = (int64_t)(n * (uint64_t)now - since);
	*age_ns = age > 0 ? age : 0;
	return n;
}
