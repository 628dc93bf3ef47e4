// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What a cgroup uses and may use, from its cgroupfs files (cgroupfs.h):
 * CPU usage, quota, cpuset and capacity; memory usage, limits and working
 * set; PSI. v2 first, else the v1 controller's cgroup of the same tasks.
 * The files themselves are opened and read by cgroupfs.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "host.h"

/* v1 "unlimited" is PAGE_COUNTER_MAX pages: anything this large */
#define V1_UNLIMITED (1ULL << 62)

int cgroup_cpu_usage(const struct cgroup_layout *l, const char *cg, uint64_t *ns)
{
	char v1[4096];
	uint64_t us;
	int err;

	err = cgroup_read_key(l->v2, cg, "cpu.stat", "usage_usec", &us);
	if (!err) {
		*ns = us * 1000;
		return 0;
	}
	if (cgroup_v1_path(l, l->cpuacct, "cpuacct", cg, v1, sizeof(v1)))
		return err;
	return cgroup_read_u64(l->cpuacct, v1, "cpuacct.usage", ns);
}

/* the parent of cgroup path @cg in place; false at the root */
static bool to_parent(char *cg)
{
	char *slash;

	while (*cg == '/')
		cg++;
	if (!*cg)
		return false;
	slash = strrchr(cg, '/');
	if (slash)
		*slash = '\0';
	else
		*cg = '\0';
	return true;
}

/*
 * The first line of @file of @cg's cgroup in v1 hierarchy @v1root (of
 * @controller): through the @twin the caller kept, else (none, or it is
 * gone) through the one found now into @found. Returns the v1 path read,
 * or NULL.
 */
static const char *v1_read_line(const struct cgroup_layout *l, const char *v1root,
				const char *controller, const char *cg, const char *twin,
				const char *file, char *buf, size_t len, char *found, size_t flen)
{
	if (twin && !cgroup_read_line(v1root, twin, file, buf, len))
		return twin;
	if (cgroup_v1_path(l, v1root, controller, cg, found, flen) ||
	    cgroup_read_line(v1root, found, file, buf, len))
		return NULL;
	return found;
}

/* CPUs of the quota of @cg alone: 0 if unlimited, <0 on error */
static double quota_of(const struct cgroup_layout *l, const char *cg, const char *twin)
{
	char buf[128], found[4096];
	uint64_t quota, period;
	const char *v1;
	long long q;

	/* a controller is bound to one hierarchy: no v2 file where v1 has it */
	if (!l->cpu[0] && !cgroup_read_line(l->v2, cg, "cpu.max", buf, sizeof(buf))) {
		if (!strncmp(buf, "max", 3))
			return 0;
		if (sscanf(buf, "%" SCNu64 " %" SCNu64, &quota, &period) != 2 || !period)
			return -EINVAL;
		return (double)quota / (double)period;
	}
	v1 = v1_read_line(l, l->cpu, "cpu", cg, twin, "cpu.cfs_quota_us", buf, sizeof(buf), found,
			  sizeof(found));
	if (!v1)
		return 0;
	if (sscanf(buf, "%lld", &q) != 1 || q < 0 ||
	    cgroup_read_u64(l->cpu, v1, "cpu.cfs_period_us", &period) || !period)
		return 0;
	return (double)q / (double)period;
}

static int cpuset_count(const struct cgroup_layout *l, const char *cg, const char *twin)
{
	char buf[4096], found[4096];
	int err;

	if (!l->cpuset[0] &&
	    !cgroup_read_line(l->v2, cg, "cpuset.cpus.effective", buf, sizeof(buf)) && buf[0])
		return cpulist_count(buf);
	if (v1_read_line(l, l->cpuset, "cpuset", cg, twin, "cpuset.effective_cpus", buf,
			 sizeof(buf), found, sizeof(found)) && buf[0])
		return cpulist_count(buf);
	/* the online CPUs: one line, read as a cgroup file is */
	err = cgroup_read_line(l->sys_cpu, "", "online", buf, sizeof(buf));
	if (err)
		return err == -ENODATA ? -EINVAL : err;
	return cpulist_count(buf);
}

int cgroup_cpu_quota_under(const struct cgroup_layout *l, const char *cg,
			   const struct cgroup_cpu_twins *twins, double above, double *cpus)
{
	double q = quota_of(l, cg, twins ? twins->cpu : NULL);

	if (q < 0)
		return (int)q;
	*cpus = above > 0 && (q == 0 || above < q) ? above : q;
	return 0;
}

int cgroup_cpu_capacity_under(const struct cgroup_layout *l, const char *cg,
			      const struct cgroup_cpu_twins *twins, double quota, double *cpus)
{
	int n;

	if (quota > 0) {
		*cpus = quota;
		return 0;
	}
	n = cpuset_count(l, cg, twins ? twins->cpuset : NULL);
	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	*cpus = n;
	return 0;
}

int cgroup_cpu_capacity(const struct cgroup_layout *l, const char *cg, double *cpus)
{
	char *walk = strdup(cg);	/* a path may outgrow PATH_MAX */
	double quota = 0;
	int err = 0;

	if (!walk)
		return -ENOMEM;
	/* the smallest is the same taken from either end of the path */
	do
		err = cgroup_cpu_quota_under(l, walk, NULL, quota, &quota);
	while (!err && to_parent(walk));
	free(walk);
	return err ? err : cgroup_cpu_capacity_under(l, cg, NULL, quota, cpus);
}

int64_t cgroup_memory_max_under(const struct cgroup_layout *l, const char *cg, int64_t above)
{
	char buf[64];
	long long v;

	if (cgroup_read_line(l->v2, cg, "memory.max", buf, sizeof(buf)) ||
	    sscanf(buf, "%lld", &v) != 1 || v < 0)
		return above;	/* "max", or no memory controller */
	return above >= 0 && above < v ? above : v;
}

/* smallest memory.max along @cg's ancestors; -1 if none is set */
static int64_t v2_memory_limit(const struct cgroup_layout *l, const char *cg)
{
	char *walk = strdup(cg);
	int64_t best = -1;

	if (!walk)
		return -1;
	do
		best = cgroup_memory_max_under(l, walk, best);
	while (to_parent(walk));
	free(walk);
	return best;
}

static void set_working_set(struct cgroup_memory *m, uint64_t inactive_file)
{
	m->working_set_bytes = m->usage_bytes;
	if ((uint64_t)m->working_set_bytes > inactive_file)
		m->working_set_bytes -= inactive_file;
	else
		m->working_set_bytes = 0;
}

int cgroup_memory(const struct cgroup_layout *l, const char *cg, struct cgroup_memory *m)
{
	return cgroup_memory_under(l, cg, NULL, NULL, m);
}

int cgroup_memory_under(const struct cgroup_layout *l, const char *cg, const int64_t *above,
			const int64_t *usage, struct cgroup_memory *m)
{
	static const char *const v1_keys[] = { "total_inactive_file", "hierarchical_memory_limit" };
	uint64_t cur, inactive = 0, limit, vals[2];
	char found_path[4096];
	const char *v1 = cg;
	int err, found;

	/* a controller is bound to one hierarchy: v1's when it is mounted there */
	if (!l->memory[0]) {
		if (usage)
			cur = (uint64_t)*usage;
		else if ((err = cgroup_read_u64(l->v2, cg, "memory.current", &cur)))
			return err;
		m->usage_bytes = cur;
		cgroup_read_key(l->v2, cg, "memory.stat", "inactive_file", &inactive);
		set_working_set(m, inactive);
		m->limit_bytes = above ? cgroup_memory_max_under(l, cg, *above) :
					 v2_memory_limit(l, cg);
		return 0;
	}
	/* one pass: the inactive file pages, and the effective limit (the
	 * smallest along the ancestors); from the same path in v1 first, else
	 * the v1 cgroup of a task of @cg */
	found = cgroup_read_keys(l->memory, v1, "memory.stat", v1_keys, vals, 2);
	if (found == -ENOENT) {
		err = cgroup_v1_path(l, l->memory, "memory", cg, found_path, sizeof(found_path));
		if (err)
			return err;
		v1 = found_path;
		found = cgroup_read_keys(l->memory, v1, "memory.stat", v1_keys, vals, 2);
	}
	if (usage)
		cur = (uint64_t)*usage;
	else if ((err = cgroup_read_u64(l->memory, v1, "memory.usage_in_bytes", &cur)))
		return err;
	m->usage_bytes = cur;
	if (found < 0)
		found = 0;
	inactive = found & 1 ? vals[0] : 0;
	set_working_set(m, inactive);
	if (found & 2)
		limit = vals[1];
	else if (cgroup_read_u64(l->memory, v1, "memory.limit_in_bytes", &limit))
		limit = V1_UNLIMITED;
	m->limit_bytes = limit >= V1_UNLIMITED ? -1 : (int64_t)limit;
	return 0;
}

int cgroup_memory_usage_open(const struct cgroup_layout *l, const char *cg)
{
	/* in v1, the cgroup of the same path only: a twin found through a
	 * task's /proc/PID/cgroup may change when that task moves */
	return l->memory[0] ? cgroup_open(l->memory, cg, "memory.usage_in_bytes") :
			      cgroup_open(l->v2, cg, "memory.current");
}

int cgroup_memory_usage(const struct cgroup_layout *l, const char *cg, int64_t *bytes)
{
	uint64_t usage;
	char v1[4096];
	int err, fd;

	/* v2, or the same path in v1 first, without looking for the directory */
	fd = cgroup_memory_usage_open(l, cg);
	if (fd >= 0) {
		err = cgroup_read_u64_at(fd, &usage);
		close(fd);
	} else if (fd == -ENOENT && l->memory[0]) {
		err = cgroup_v1_path(l, l->memory, "memory", cg, v1, sizeof(v1));
		if (!err)
			err = cgroup_read_u64(l->memory, v1, "memory.usage_in_bytes", &usage);
	} else {
		err = fd;
	}
	if (!err)
		*bytes = (int64_t)usage;
	return err;
}

int cgroup_psi_some_us(const struct cgroup_layout *l, const char *cg, const char *resource,
		       uint64_t *us)
{
	char file[32], buf[256], *total;

	snprintf(file, sizeof(file), "%s.pressure", resource);
	if (cgroup_read_line(l->v2, cg, file, buf, sizeof(buf)))
		return -ENOENT;
	total = strstr(buf, "total=");
	if (strncmp(buf, "some ", 5) || !total)
		return -EINVAL;
	return sscanf(total, "total=%" SCNu64, us) == 1 ? 0 : -EINVAL;
}
