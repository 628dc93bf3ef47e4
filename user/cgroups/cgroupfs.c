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

/*
 * The lines of a file open at @fd, read through a buffer of their own, not
 * stdio: no fstat and no allocation for each of the thousands of files a
 * tick may read. A line longer than the buffer is an error.
 */
struct lines {
	int fd;
	int err;		/* 0, or why the lines ended early */
	bool eof;
	size_t len, pos;	/* bytes in buf; the next line starts at pos */
	char buf[4096];
};

static void lines_init(struct lines *r, int fd)
{
	r->fd = fd;
	r->err = 0;
	r->eof = false;
	r->len = r->pos = 0;
}

/* the next line, its newline removed; NULL at the end or on error (r->err) */
static char *lines_next(struct lines *r)
{
	char *line, *nl;
	ssize_t n;

	for (;;) {
		line = r->buf + r->pos;
		nl = memchr(line, '\n', r->len - r->pos);
		if (nl) {
			*nl = '\0';
			r->pos = nl + 1 - r->buf;
			return line;
		}
		if (r->eof) {
			if (r->pos == r->len)
				return NULL;
			/* the last line, without its newline */
			r->buf[r->len] = '\0';
			r->pos = r->len;
			return line;
		}
		memmove(r->buf, line, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
		if (r->len == sizeof(r->buf) - 1) {
			r->err = -ENAMETOOLONG;
			return NULL;
		}
		n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = -errno;
			return NULL;
		}
		r->eof = n == 0;
		r->len += n;
	}
}

int cgroup_of_pid(const char *proc, int pid, char *buf, size_t len)
{
	char path[256], *line;
	struct lines r;
	int err = -ENOENT, fd;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	lines_init(&r, fd);
	while ((line = lines_next(&r))) {
		if (!strncmp(line, "0::", 3)) {
			err = copy_str(buf, len, line + 3);
			break;
		}
	}
	close(fd);
	return r.err ? r.err : err;
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
	struct lines r;
	size_t klen;
	char *line, *end;
	int fd, err = 0;

	fd = cgroup_open(root, cg, file);
	if (fd < 0)
		return fd;
	lines_init(&r, fd);
	while (!err && found != want && (line = lines_next(&r))) {
		for (i = 0; i < n; i++) {
			klen = strlen(keys[i]);
			if (strncmp(line, keys[i], klen) || line[klen] != ' ')
				continue;
			errno = 0;
			vals[i] = strtoull(line + klen + 1, &end, 10);
			if (errno || end == line + klen + 1)
				err = -EINVAL;
			found |= 1U << i;
			break;
		}
	}
	close(fd);
	return err ? err : r.err ? r.err : (int)found;
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

/*
 * The v1 cgroups of the first task in @cg's cgroup.procs, from one read of
 * its /proc/PID/cgroup: @fn(controllers, path, @ctx) for each v1 line
 * ("ID:CONTROLLERS:PATH") until it returns non-zero. Returns -ENOENT if
 * there is no task (or no file), -errno if the file's read failed, else
 * what @fn returned last (0: none said stop).
 */
static int task_v1_lines(const struct cgroup_layout *l, const char *cg,
			 int (*fn)(char *ctrls, char *path, void *ctx), void *ctx)
{
	char pidbuf[32], path[256], *line, *ctrls, *p;
	struct lines r;
	int ret = -ENOENT, fd;

	if (cgroup_read_line(l->v2, cg, "cgroup.procs", pidbuf, sizeof(pidbuf)))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/%s/cgroup", l->proc, pidbuf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	lines_init(&r, fd);
	while ((line = lines_next(&r))) {
		ctrls = strchr(line, ':');
		p = ctrls ? strchr(ctrls + 1, ':') : NULL;
		if (!p || p == ctrls + 1)	/* "0::PATH": v2's */
			continue;
		*p++ = '\0';
		ret = fn(ctrls + 1, p, ctx);
		if (ret)
			break;
	}
	close(fd);
	return ret <= 0 && r.err ? r.err : ret;
}

struct v1_want {
	const char *controller;
	char *buf;
	size_t len;
};

static int v1_line_of(char *ctrls, char *path, void *ctx)
{
	struct v1_want *w = ctx;
	int err;

	if (!has_option(ctrls, w->controller))
		return 0;
	err = copy_str(w->buf, w->len, path);
	return err ? err : 1;
}

/* the v1 path of the first task in @cg's cgroup.procs for @controller */
static int v1_path_of_task(const struct cgroup_layout *l, const char *controller, const char *cg,
			   char *buf, size_t len)
{
	struct v1_want w = { controller, buf, len };
	int ret = task_v1_lines(l, cg, v1_line_of, &w);

	return ret > 0 ? 0 : ret < 0 ? ret : -ENOENT;
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

static int twin_of_line(char *ctrls, char *path, void *ctx)
{
	struct cgroup_cpu_twins *t = ctx;

	if (!t->cpu && has_option(ctrls, "cpu") && !(t->cpu = strdup(path)))
		return -ENOMEM;
	if (!t->cpuset && has_option(ctrls, "cpuset") && !(t->cpuset = strdup(path)))
		return -ENOMEM;
	return 0;
}

/* @cg itself where v1 hierarchy @v1root has it: 1, 0, or -ENOMEM */
static int twin_same(const char *v1root, const char *cg, char **twin)
{
	if (!v1root[0] || !is_dir(v1root, cg))
		return 0;
	*twin = strdup(cg);
	return *twin ? 1 : -ENOMEM;
}

int cgroup_cpu_twins_find(const struct cgroup_layout *l, const char *cg,
			  struct cgroup_cpu_twins *t)
{
	int err;

	t->cpu = t->cpuset = NULL;
	if ((err = twin_same(l->cpu, cg, &t->cpu)) < 0 ||
	    (err = twin_same(l->cpuset, cg, &t->cpuset)) < 0)
		goto fail;
	/* the rest through one task, if a v1 hierarchy lacks @cg */
	if ((l->cpu[0] && !t->cpu) || (l->cpuset[0] && !t->cpuset)) {
		err = task_v1_lines(l, cg, twin_of_line, t);
		if (err == -ENOMEM)
			goto fail;
	}
	return 0;
fail:
	cgroup_cpu_twins_free(t);
	return err;
}

void cgroup_cpu_twins_free(struct cgroup_cpu_twins *t)
{
	free(t->cpu);
	free(t->cpuset);
	t->cpu = t->cpuset = NULL;
}
