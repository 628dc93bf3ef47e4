// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroupfs itself (cgroupfs.h): where the hierarchies are mounted, cgroup
 * paths and ids, opening and reading a cgroup's files, and the v1 cgroup
 * that goes with a v2 one. What the files say about a cgroup's resources is
 * resources.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cgroupfs.h"

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
int cgroup_open(const char *root, const char *cg, const char *file)
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

/* as cgroup_open(), as a stdio stream: 0 or -errno */
static int open_cg_file(const char *root, const char *cg, const char *file, FILE **f)
{
	int fd = cgroup_open(root, cg, file);

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

/* the first line of the file open at @fd, read from its start (a cgroup
 * file read again is formatted again) */
static int line_at(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int parse_u64(const char *buf, uint64_t *val)
{
	char *end;

	errno = 0;
	*val = strtoull(buf, &end, 10);
	return (errno || end == buf || *end) ? -EINVAL : 0;
}

int cgroup_read_line(const char *root, const char *cg, const char *file, char *buf, size_t len)
{
	int err, fd;

	/* no stdio: one open, one read, no buffer allocated (thousands a second) */
	if (len < 2)
		return -EINVAL;
	fd = cgroup_open(root, cg, file);
	if (fd < 0)
		return fd;
	err = line_at(fd, buf, len);
	close(fd);
	return err;
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

int cgroup_read_u64(const char *root, const char *cg, const char *file, uint64_t *val)
{
	char buf[64];
	int err;

	err = cgroup_read_line(root, cg, file, buf, sizeof(buf));
	return err ? err : parse_u64(buf, val);
}

int cgroup_read_u64_at(int fd, uint64_t *val)
{
	char buf[64];
	int err = line_at(fd, buf, sizeof(buf));

	return err ? err : parse_u64(buf, val);
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
