// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lines are collected in memory during a tick and written at its end with
 * write(2). The file's size after the last complete write is remembered: if
 * a write fails or is short (a full disk), the file is cut back to it, so
 * that it never ends in half a line, and recording stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

#include "record.h"
#include "report.h"
#include "snapjson.h"

struct record {
	int fd;
	char *path;
	off_t committed;	/* the file's size after the last complete write */
	char *buf;		/* lines not written yet */
	size_t len, cap;
	int err;		/* the first error; recording stopped */
};

struct record *record_open(const char *path)
{
	struct record *r = calloc(1, sizeof(*r));
	struct stat st;
	int err;

	if (!r)
		return NULL;
	r->path = strdup(path);
	r->fd = r->path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	if (r->fd < 0 || fstat(r->fd, &st)) {
		err = r->path ? errno : ENOMEM;
		if (r->fd >= 0)
			close(r->fd);
		free(r->path);
		free(r);
		errno = err;
		return NULL;
	}
	r->committed = st.st_size;
	return r;
}

static int failed(struct record *r, int err)
{
	if (!r->err)
		report_err(err, "cannot write to %s; recording stopped at a line boundary",
			   r->path);
	r->err = err;
	r->len = 0;
	return err;
}

/* append @line and a newline to the pending lines */
static int append(struct record *r, const char *line)
{
	size_t n = strlen(line);
	char *nb;

	if (r->len + n + 1 > r->cap) {
		size_t cap = (r->len + n + 1) * 2;

		nb = realloc(r->buf, cap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, line, n);
	r->buf[r->len + n] = '\n';
	r->len += n + 1;
	return 0;
}

int record_snapshot(struct record *r, const char *cgroup, const struct cgsnap_snapshot *snap)
{
	json_t *o;
	char *line = NULL;
	int err;

	if (r->err)
		return r->err;
	o = snapjson_snapshot(snap, NULL);
	if (o && !json_object_del(o, "overloaded") &&
	    !json_object_set_new(o, "cgroup", json_pack("s+", "/", cgroup)))
		/* 17 digits: replay must see the very same doubles */
		line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(o);
	err = line ? append(r, line) : -ENOMEM;
	free(line);
	return err ? failed(r, err) : 0;
}

int record_flush(struct record *r)
{
	size_t done = 0;
	ssize_t n;
	int err;

	if (r->err)
		return r->err;
	while (done < r->len) {
		n = write(r->fd, r->buf + done, r->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -ENOSPC;
			/* cut the partial line off; what came before stays */
			if (ftruncate(r->fd, r->committed))
				report_err(-errno, "cannot cut %s back to its last line", r->path);
			return failed(r, err);
		}
		done += n;
	}
	r->committed += r->len;
	r->len = 0;
	return 0;
}

bool record_failed(const struct record *r)
{
	return r->err;
}

int record_close(struct record *r)
{
	int err;

	if (!r)
		return 0;
	record_flush(r);
	err = r->err;
	if (close(r->fd) && !err)
		err = failed(r, -errno);
	free(r->buf);
	free(r->path);
	free(r);
	return err;
}
