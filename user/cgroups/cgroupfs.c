// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cgroupfs.h"
#include "host.h"

static int copy_str(char *buf, size_t len, const char *s)
{
	if (strlen(s) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, s);
	return 0;
}

/* whether the comma-separated @opts contains @word */
static int has_option(const char *opts, const char *word)
{
	size_t n = strlen(word);
	const char *p = opts;

	while ((p = strstr(p, word))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS". Find a line of @fstype whose super options hold
 * @option (if given).
 */
static int find_mount(const char *mountinfo, const char *fstype, const char *option, char *buf,
		      size_t len)
{
	char *line = NULL, *sep, mnt[4096], type[64], super[1024];
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	f = fopen(mountinfo, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (sscanf(sep + 3, "%63s %*s %1023s", type, super) != 2)
			continue;
		if (strcmp(type, fstype) || (option && !has_option(super, option)))
			continue;
		err = copy_str(buf, len, mnt);
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_find_v2_mount(const char *mountinfo, char *buf, size_t len)
{
	return find_mount(mountinfo, "cgroup2", NULL, buf, len);
}

int cgroup_find_v1_mount(const char *mountinfo, const char *controller, char *buf, size_t len)
{
	return find_mount(mountinfo, "cgroup", controller, buf, len);
}

bool cgroup_path_valid(const char *path)
{
	const char *p = path, *end;
	size_t n;

	while (*p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		n = end - p;
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p = end;
	}
	return true;
}

int cgroup_path_to_id(const char *root, const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	while (*path == '/')
		path++;
	if (snprintf(full, sizeof(full), "%s/%s", root, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

int cgroup_of_pid(const char *proc, int pid, char *buf, size_t len)
{
	char path[256], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = copy_str(buf, len, line + 3);
		break;
	}
	free(line);
	fclose(f);
	return err;
}

/* v1 "unlimited" is PAGE_COUNTER_MAX pages: anything this large */
#define V1_UNLIMITED (1ULL << 62)

int cgroup_layout_detect(struct cgroup_layout *l, const char *mountinfo)
{
	int err;

	memset(l, 0, sizeof(*l));
	strcpy(l->proc, "/proc");
	strcpy(l->sys_cpu, "/sys/devices/system/cpu");
	err = cgroup_find_v2_mount(mountinfo, l->v2, sizeof(l->v2));
	if (err)
		return err;
	/* absent v1 controllers (pure v2 hosts) leave their field empty */
	cgroup_find_v1_mount(mountinfo, "cpu", l->cpu, sizeof(l->cpu));
	cgroup_find_v1_mount(mountinfo, "cpuacct", l->cpuacct, sizeof(l->cpuacct));
	cgroup_find_v1_mount(mountinfo, "cpuset", l->cpuset, sizeof(l->cpuset));
	cgroup_find_v1_mount(mountinfo, "memory", l->memory, sizeof(l->memory));
	return 0;
}

static int join(char *buf, size_t len, const char *root, const char *cg, const char *file)
{
	while (*cg == '/')
		cg++;
	if (snprintf(buf, len, "%s/%s%s%s", root, cg, *cg ? "/" : "", file) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * @file of cgroup @cg under @root, opened for reading: an fd, or -errno. A
 * path beyond PATH_MAX (cgroupfs allows them) is walked a directory at a
 * time, relative to the one before.
 */
static int open_cg(const char *root, const char *cg, const char *file)
{
	char path[4096], name[256];
	const char *p = cg, *end;
	int fd, next;

	if (!join(path, sizeof(path), root, cg, file)) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	while (fd >= 0 && *p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end == p)
			break;
		if (end - p >= (long)sizeof(name)) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, end - p);
		name[end - p] = '\0';
		next = openat(fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
		p = end;
	}
	if (fd < 0)
		return -errno;
	next = openat(fd, file, O_RDONLY | O_CLOEXEC);
	close(fd);
	return next < 0 ? -errno : next;
}

/* as open_cg(), as a stdio stream: 0 or -errno */
static int open_cg_file(const char *root, const char *cg, const char *file, FILE **f)
{
	int fd = open_cg(root, cg, file);

	if (fd < 0)
		return fd;
	*f = fdopen(fd, "re");
	if (!*f) {
		int err = -errno;

		close(fd);
		return err;
	}
	return 0;
}

int cgroup_read_line(const char *root, const char *cg, const char *file, char *buf, size_t len)
{
	ssize_t n;
	int err, fd;

	/* no stdio: one open, one read, no buffer allocated (thousands a second) */
	if (len < 2)
		return -EINVAL;
	fd = open_cg(root, cg, file);
	if (fd < 0)
		return fd;
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : n == 0 ? -ENODATA : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int cgroup_read_keys(const char *root, const char *cg, const char *file, const char *const *keys,
		     uint64_t *vals, unsigned int n)
{
	unsigned int found = 0, want = (1U << n) - 1, i;
	size_t cap = 0, klen;
	char *line = NULL, *end;
	FILE *f;
	int err;

	err = open_cg_file(root, cg, file, &f);
	if (err)
		return err;
	while (found != want && getline(&line, &cap, f) > 0) {
		for (i = 0; i < n; i++) {
			klen = strlen(keys[i]);
			if (strncmp(line, keys[i], klen) || line[klen] != ' ')
				continue;
			errno = 0;
			vals[i] = strtoull(line + klen + 1, &end, 10);
			if (errno || end == line + klen + 1) {
				err = -EINVAL;
				goto out;
			}
			found |= 1U << i;
			break;
		}
	}
	err = (int)found;
out:
	free(line);
	fclose(f);
	return err;
}

int cgroup_read_key(const char *root, const char *cg, const char *file, const char *key,
		    uint64_t *val)
{
	int found = cgroup_read_keys(root, cg, file, &key, val, 1);

	return found < 0 ? found : found ? 0 : -ENOENT;
}

static int read_u64(const char *root, const char *cg, const char *file, uint64_t *val)
{
	char buf[64], *end;
	int err;

	err = cgroup_read_line(root, cg, file, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	return (errno || end == buf || *end) ? -EINVAL : 0;
}

static bool is_dir(const char *root, const char *cg)
{
	char path[4096];
	struct stat st;

	return !join(path, sizeof(path), root, cg, "") && !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* the v1 path of the first task in @cg's cgroup.procs for @controller */
static int v1_path_of_task(const struct cgroup_layout *l, const char *controller, const char *cg,
			   char *buf, size_t len)
{
	char pidbuf[32], path[256], *line = NULL, *ctrls, *p;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	if (cgroup_read_line(l->v2, cg, "cgroup.procs", pidbuf, sizeof(pidbuf)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s/cgroup", l->proc, pidbuf);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		/* "ID:CONTROLLERS:PATH" */
		ctrls = strchr(line, ':');
		p = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!p)
			continue;
		*p++ = '\0';
		if (!has_option(ctrls + 1, controller))
			continue;
		p[strcspn(p, "\n")] = '\0';
		err = copy_str(buf, len, p);
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_v1_path(const struct cgroup_layout *l, const char *v1root, const char *controller,
		   const char *cg, char *buf, size_t len)
{
	if (!v1root[0])
		return -ENOENT;
	if (is_dir(v1root, cg))
		return copy_str(buf, len, cg);
	return v1_path_of_task(l, controller, cg, buf, len);
}

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
	return read_u64(l->cpuacct, v1, "cpuacct.usage", ns);
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

/* CPUs of the quota of @cg alone: 0 if unlimited, <0 on error */
static double quota_of(const struct cgroup_layout *l, const char *cg)
{
	char buf[128], v1[4096];
	uint64_t quota, period;
	long long q;

	if (!cgroup_read_line(l->v2, cg, "cpu.max", buf, sizeof(buf))) {
		if (!strncmp(buf, "max", 3))
			return 0;
		if (sscanf(buf, "%" SCNu64 " %" SCNu64, &quota, &period) != 2 || !period)
			return -EINVAL;
		return (double)quota / (double)period;
	}
	if (cgroup_v1_path(l, l->cpu, "cpu", cg, v1, sizeof(v1)) ||
	    cgroup_read_line(l->cpu, v1, "cpu.cfs_quota_us", buf, sizeof(buf)))
		return 0;
	if (sscanf(buf, "%lld", &q) != 1 || q < 0 ||
	    read_u64(l->cpu, v1, "cpu.cfs_period_us", &period) || !period)
		return 0;
	return (double)q / (double)period;
}

static int cpuset_count(const struct cgroup_layout *l, const char *cg)
{
	char buf[4096], v1[4096], path[256];
	FILE *f;
	int n;

	if (!cgroup_read_line(l->v2, cg, "cpuset.cpus.effective", buf, sizeof(buf)) && buf[0])
		return cpulist_count(buf);
	if (!cgroup_v1_path(l, l->cpuset, "cpuset", cg, v1, sizeof(v1)) &&
	    !cgroup_read_line(l->cpuset, v1, "cpuset.effective_cpus", buf, sizeof(buf)) && buf[0])
		return cpulist_count(buf);
	snprintf(path, sizeof(path), "%s/online", l->sys_cpu);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fgets(buf, sizeof(buf), f) ? cpulist_count(buf) : -EINVAL;
	fclose(f);
	return n;
}

int cgroup_cpu_capacity(const struct cgroup_layout *l, const char *cg, double *cpus)
{
	char *walk = strdup(cg);	/* a path may outgrow PATH_MAX */
	double q, best = 0;
	int n;

	if (!walk)
		return -ENOMEM;
	do {
		q = quota_of(l, walk);
		if (q < 0) {
			free(walk);
			return (int)q;
		}
		if (q > 0 && (best == 0 || q < best))
			best = q;
	} while (to_parent(walk));
	free(walk);
	if (best > 0) {
		*cpus = best;
		return 0;
	}
	n = cpuset_count(l, cg);
	if (n <= 0)
		return n < 0 ? n : -EINVAL;
	*cpus = n;
	return 0;
}

/* smallest memory.max along @cg's ancestors; -1 if none is set */
static int64_t v2_memory_limit(const struct cgroup_layout *l, const char *cg)
{
	char *walk = strdup(cg), buf[64];
	int64_t best = -1;
	long long v;

	if (!walk)
		return -1;
	do {
		if (cgroup_read_line(l->v2, walk, "memory.max", buf, sizeof(buf)) ||
		    sscanf(buf, "%lld", &v) != 1)
			continue;
		if (best < 0 || v < best)
			best = v;
	} while (to_parent(walk));
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
	static const char *const v1_keys[] = { "total_inactive_file", "hierarchical_memory_limit" };
	uint64_t usage, inactive = 0, limit, vals[2];
	char v1[4096];
	int err, found;

	/* a controller is bound to one hierarchy: v1's when it is mounted there */
	if (!l->memory[0] && !read_u64(l->v2, cg, "memory.current", &usage)) {
		m->usage_bytes = usage;
		cgroup_read_key(l->v2, cg, "memory.stat", "inactive_file", &inactive);
		set_working_set(m, inactive);
		m->limit_bytes = v2_memory_limit(l, cg);
		return 0;
	}
	err = cgroup_v1_path(l, l->memory, "memory", cg, v1, sizeof(v1));
	if (err)
		return err;
	err = read_u64(l->memory, v1, "memory.usage_in_bytes", &usage);
	if (err)
		return err;
	m->usage_bytes = usage;
	/* one pass: the inactive file pages, and the effective limit (the
	 * smallest along the ancestors) */
	found = cgroup_read_keys(l->memory, v1, "memory.stat", v1_keys, vals, 2);
	if (found < 0)
		found = 0;
	inactive = found & 1 ? vals[0] : 0;
	set_working_set(m, inactive);
	if (found & 2)
		limit = vals[1];
	else if (read_u64(l->memory, v1, "memory.limit_in_bytes", &limit))
		limit = V1_UNLIMITED;
	m->limit_bytes = limit >= V1_UNLIMITED ? -1 : (int64_t)limit;
	return 0;
}

int cgroup_memory_usage_open(const struct cgroup_layout *l, const char *cg)
{
	/* in v1, the cgroup of the same path only: a twin found through a
	 * task's /proc/PID/cgroup may change when that task moves */
	return l->memory[0] ? open_cg(l->memory, cg, "memory.usage_in_bytes") :
			      open_cg(l->v2, cg, "memory.current");
}

int cgroup_read_u64_at(int fd, uint64_t *val)
{
	char buf[32], *end;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	*val = strtoull(buf, &end, 10);
	return (errno || end == buf || *end) ? -EINVAL : 0;
}

int cgroup_memory_usage(const struct cgroup_layout *l, const char *cg, int64_t *bytes)
{
	uint64_t usage;
	char v1[4096];
	int err;

	if (!l->memory[0]) {
		err = read_u64(l->v2, cg, "memory.current", &usage);
	} else {
		/* the same path in v1 first, without looking for the directory */
		err = read_u64(l->memory, cg, "memory.usage_in_bytes", &usage);
		if (err == -ENOENT) {
			err = cgroup_v1_path(l, l->memory, "memory", cg, v1, sizeof(v1));
			if (!err)
				err = read_u64(l->memory, v1, "memory.usage_in_bytes", &usage);
		}
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
