// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Every cgroup's memory usage in one read (memiter.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "cgsnap.h"
#include "idhash.h"
#include "memiter.h"
#include "memusage.skel.h"

struct memiter {
	struct memusage_bpf *skel;
	struct bpf_link *link;
	int64_t page_size;
	struct cgsnap_mem_usage *recs;	/* the last read */
	size_t nr, cap;
	uint32_t *index;		/* open addressing on the id: recs index + 1 */
	uint32_t index_cap;		/* a power of two, at least twice nr */
};

struct memiter *memiter__open(const char *root, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = {};
	struct memiter *m = calloc(1, sizeof(*m));
	int fd, ret;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	m->page_size = sysconf(_SC_PAGESIZE);
	m->skel = memusage_bpf__open_and_load();
	if (!m->skel) {
		ret = -errno;
		snprintf(err, errlen, "cannot load the memory usage iterator: %s", strerror(-ret));
		goto fail;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", root, strerror(-ret));
		goto fail;
	}
	linfo.cgroup.cgroup_fd = fd;
	linfo.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	m->link = bpf_program__attach_iter(m->skel->progs.mem_usage, &opts);
	ret = m->link ? 0 : -errno;
	close(fd);
	if (ret) {
		snprintf(err, errlen, "cannot attach the memory usage iterator to %s: %s", root,
			 strerror(-ret));
		goto fail;
	}
	ret = memiter__read(m);
	if (ret) {
		snprintf(err, errlen, "cannot read the memory usage iterator: %s", strerror(-ret));
		goto fail;
	}
	return m;
fail:
	memiter__close(m);
	errno = -ret;
	return NULL;
}

void memiter__close(struct memiter *m)
{
	if (!m)
		return;
	bpf_link__destroy(m->link);
	memusage_bpf__destroy(m->skel);
	free(m->recs);
	free(m->index);
	free(m);
}

static int build_index(struct memiter *m)
{
	uint32_t cap = m->index_cap ? m->index_cap : 1024, i, h;

	while (cap < 2 * m->nr)
		cap *= 2;
	if (cap != m->index_cap) {
		uint32_t *index = realloc(m->index, cap * sizeof(*index));

		if (!index)
			return -ENOMEM;
		m->index = index;
		m->index_cap = cap;
	}
	memset(m->index, 0, cap * sizeof(*m->index));
	for (i = 0; i < m->nr; i++) {
		for (h = id_bucket(m->recs[i].id, cap); m->index[h]; h = (h + 1) & (cap - 1))
			;
		m->index[h] = i + 1;
	}
	return 0;
}

int memiter__read(struct memiter *m)
{
	size_t len = 0;
	ssize_t got;
	int fd, err = 0;

	fd = bpf_iter_create(bpf_link__fd(m->link));
	if (fd < 0)
		return -errno;
	for (;;) {
		if (m->cap * sizeof(*m->recs) - len < 4096) {
			size_t cap = m->cap ? m->cap * 2 : 1024;
			void *recs = realloc(m->recs, cap * sizeof(*m->recs));

			if (!recs) {
				err = -ENOMEM;
				break;
			}
			m->recs = recs;
			m->cap = cap;
		}
		got = read(fd, (char *)m->recs + len, m->cap * sizeof(*m->recs) - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : 0;
			break;
		}
		len += got;
	}
	close(fd);
	m->nr = err ? 0 : len / sizeof(*m->recs);
	return err ? err : build_index(m);
}

size_t memiter__count(const struct memiter *m)
{
	return m->nr;
}

int memiter__usage(const struct memiter *m, uint64_t id, int64_t *bytes)
{
	uint32_t h, i;

	if (!m->index_cap)
		return -ENOENT;
	for (h = id_bucket(id, m->index_cap); (i = m->index[h]); h = (h + 1) & (m->index_cap - 1)) {
		if (m->recs[i - 1].id == id) {
			*bytes = (int64_t)m->recs[i - 1].pages * m->page_size;
			return 0;
		}
	}
	return -ENOENT;
}
