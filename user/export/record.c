// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "record.h"
#include "report.h"
#include "snapjson.h"

struct record {
	FILE *f;
	char *path;
	int err;		/* the first write error; recording stopped */
};

struct record *record_open(const char *path)
{
	struct record *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->path = strdup(path);
	r->f = r->path ? fopen(path, "ae") : NULL;
	if (!r->f) {
		int err = r->path ? errno : ENOMEM;

		free(r->path);
		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

static int failed(struct record *r, int err)
{
	if (!r->err)
		report_err(err, "cannot write to %s; recording stopped", r->path);
	r->err = err;
	return err;
}

int record_snapshot(struct record *r, const char *cgroup, const struct cgsnap_snapshot *snap)
{
	json_t *o;
	int ret;

	if (r->err)
		return r->err;
	o = snapjson_snapshot(snap, NULL);
	if (!o || json_object_del(o, "overloaded") ||
	    json_object_set_new(o, "cgroup", json_pack("s+", "/", cgroup))) {
		json_decref(o);
		return failed(r, -ENOMEM);
	}
	/* 17 digits: replay must see the very same doubles */
	errno = 0;
	ret = json_dumpf(o, r->f, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(o);
	if (ret || fputc('\n', r->f) == EOF)
		return failed(r, errno ? -errno : -EIO);
	return 0;
}

int record_flush(struct record *r)
{
	if (r->err)
		return r->err;
	return fflush(r->f) ? failed(r, -errno) : 0;
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
	err = r->err;
	if (fclose(r->f) && !err)
		err = failed(r, -errno);
	free(r->path);
	free(r);
	return err;
}
