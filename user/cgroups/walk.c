// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "walk.h"

struct walk {
	const struct cgroup_walk_ops *ops;
	void *ctx;
	char *path;		/* of the directory being walked; grows as needed */
	size_t len, cap;
};

/* @w->path + "/" + @name; false without memory */
static bool path_push(struct walk *w, const char *name)
{
	size_t n = strlen(name) + 2;

	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		char *p;

		while (cap < w->len + n)
			cap *= 2;
		p = realloc(w->path, cap);
		if (!p)
			return false;
		w->path = p;
		w->cap = cap;
	}
	if (w->len)
		w->path[w->len++] = '/';
	strcpy(w->path + w->len, name);
	w->len += n - 2;
	return true;
}

/* whether the directory @dir (read from its start) has a sub-directory */
static bool has_subdir(DIR *dir)
{
	struct dirent *de;

	while ((de = readdir(dir)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.')
			return true;
	return false;
}

static int walk_dir(struct walk *w, int dfd, unsigned int depth, void *parent)
{
	size_t plen = w->len;
	void *self = NULL;
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int err, fd;

	if (fstat(dfd, &st))
		return -errno;
	w->path[plen] = '\0';
	err = w->ops->visit(w->path, st.st_ino, depth, parent, &self, w->ctx);
	if (err)
		return err;
	fd = dup(dfd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (w->ops->max_depth && depth >= w->ops->max_depth) {
		/* deeper cgroups count in this one: the caller may say so */
		if (w->ops->beyond && has_subdir(dir))
			w->ops->beyond(w->path, self, w->ctx);
		closedir(dir);
		return 0;
	}
	while (!err && (de = readdir(dir))) {
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cfd < 0)
			continue;	/* removed meanwhile */
		if (!path_push(w, de->d_name)) {
			close(cfd);
			err = -ENOMEM;
			break;
		}
		err = walk_dir(w, cfd, depth + 1, self);
		w->len = plen;
		w->path[plen] = '\0';
		close(cfd);
	}
	closedir(dir);
	return err;
}

int cgroup_walk(const char *root, const struct cgroup_walk_ops *ops, void *ctx)
{
	struct walk w = { .ops = ops, .ctx = ctx };
	int fd, err;

	w.path = calloc(1, 1024);
	if (!w.path)
		return -ENOMEM;
	w.cap = 1024;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(w.path);
		return err;
	}
	err = walk_dir(&w, fd, 0, NULL);
	close(fd);
	free(w.path);
	return err;
}

static int count_one(const char *path, uint64_t id, unsigned int depth, void *parent,
		     void **self, void *ctx)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

unsigned int cgroup_count(const char *root, unsigned int max_depth)
{
	struct cgroup_walk_ops ops = { .visit = count_one, .max_depth = max_depth };
	unsigned int n = 0;

	return cgroup_walk(root, &ops, &n) ? 0 : n;
}
