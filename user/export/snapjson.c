// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapjson.h"

enum field_type {
	FT_INT,		/* int64_t, a JSON integer */
	FT_REAL,	/* double, any JSON number */
};

/*
 * A snapshot is written back as it was given: required fields, optional ones
 * given a value or null, plus what docs/SPEC.md section 7 adds (a computed new_error_count,
 * overloaded).
 */
enum field_use {
	FU_REQUIRED,
	FU_OPTIONAL,	/* may be absent or null; .flag says a value was given */
	FU_COMPUTED,	/* as FU_OPTIONAL, but always written (computed when absent) */
	FU_DEFAULT,	/* may be absent, then .def; .flag says it was given */
};

struct field {
	const char *name;
	enum field_type type;
	enum field_use use;
	size_t off;
	uint32_t flag;
	double def;
};

#define SNAP_OFF(member) offsetof(struct cgsnap_snapshot, member)

static const struct field cpu_fields[] = {
	{ "used_ratio", FT_REAL, FU_REQUIRED, SNAP_OFF(cpu.used_ratio), 0, 0 },
	{ "max_used_ratio", FT_REAL, FU_REQUIRED, SNAP_OFF(cpu.max_used_ratio), 0, 0 },
	{},
};

static const struct field memory_fields[] = {
	{ "current_bytes", FT_INT, FU_REQUIRED, SNAP_OFF(memory.current_bytes), 0, 0 },
	{ "max_bytes", FT_INT, FU_REQUIRED, SNAP_OFF(memory.max_bytes), 0, 0 },
	{ "max_used_ratio", FT_REAL, FU_REQUIRED, SNAP_OFF(memory.max_used_ratio), 0, 0 },
	{ "system_used_bytes", FT_INT, FU_OPTIONAL, SNAP_OFF(memory.system_used_bytes),
	  CGSNAP_F_SYSTEM_USED, 0 },
	{ "system_total_bytes", FT_INT, FU_OPTIONAL, SNAP_OFF(memory.system_total_bytes),
	  CGSNAP_F_SYSTEM_TOTAL, 0 },
	{ "stall_ratio", FT_REAL, FU_OPTIONAL, SNAP_OFF(memory.stall_ratio), CGSNAP_F_STALL, 0 },
	{ "max_stall_ratio", FT_REAL, FU_DEFAULT, SNAP_OFF(memory.max_stall_ratio),
	  CGSNAP_F_MAX_STALL, 0.1 },
	{},
};

static const struct field runq_fields[] = {
	{ "delay_ns", FT_INT, FU_REQUIRED, SNAP_OFF(runq.delay_ns), 0, 0 },
	{ "max_delay_ns", FT_INT, FU_REQUIRED, SNAP_OFF(runq.max_delay_ns), 0, 0 },
	{ "count", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.count), CGSNAP_F_RUNQ_COUNT, 0 },
	{ "mean_ns", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.mean_ns), CGSNAP_F_RUNQ_MEAN, 0 },
	{ "p50_ns", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.p50_ns), CGSNAP_F_RUNQ_P50, 0 },
	{ "p90_ns", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.p90_ns), CGSNAP_F_RUNQ_P90, 0 },
	{ "p99_ns", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.p99_ns), CGSNAP_F_RUNQ_P99, 0 },
	{ "max_ns", FT_INT, FU_OPTIONAL, SNAP_OFF(runq.max_ns), CGSNAP_F_RUNQ_MAX, 0 },
	{},
};

static const struct field client_fields[] = {
	{ "error_count", FT_INT, FU_REQUIRED, SNAP_OFF(client.error_count), 0, 0 },
	{ "new_error_count", FT_INT, FU_COMPUTED, SNAP_OFF(client.new_error_count),
	  CGSNAP_F_NEW_ERRORS, 0 },
	{ "max_error_count", FT_INT, FU_REQUIRED, SNAP_OFF(client.max_error_count), 0, 0 },
	{},
};

static const struct field *const kind_fields[CGSNAP_KIND_COUNT] = {
	[CGSNAP_KIND_CPU] = cpu_fields,
	[CGSNAP_KIND_MEMORY] = memory_fields,
	[CGSNAP_KIND_RUNQ] = runq_fields,
	[CGSNAP_KIND_CLIENT] = client_fields,
};

/* keys every line may have besides its kind's fields */
static const char *const common_keys[] = { "kind", "t_ns", "cgroup", "overloaded", NULL };

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_field(json_t *obj, const struct field *f, struct cgsnap_snapshot *snap,
		       char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, f->name);
	char *dst = (char *)snap + f->off;

	if (!v) {
		if (f->use == FU_REQUIRED)
			return fail(err, errlen, "\"%s\" is missing", f->name);
		if (f->use == FU_DEFAULT)
			*(double *)dst = f->def;
		return 0;
	}
	if (json_is_null(v)) {
		if (f->use == FU_REQUIRED || f->use == FU_DEFAULT)
			return fail(err, errlen, "\"%s\" must not be null", f->name);
		snap->present |= CGSNAP_F_NULL(f->flag);
		return 0;
	}
	if (f->type == FT_INT) {
		if (!json_is_integer(v))
			return fail(err, errlen, "\"%s\" must be an integer", f->name);
		if (json_integer_value(v) < 0)
			return fail(err, errlen, "\"%s\" must not be negative", f->name);
		*(int64_t *)dst = json_integer_value(v);
	} else {
		if (!json_is_number(v))
			return fail(err, errlen, "\"%s\" must be a number", f->name);
		*(double *)dst = json_number_value(v);
	}
	snap->present |= f->flag;
	return 0;
}

static bool known_key(const struct field *fields, const char *key)
{
	int i;

	for (i = 0; common_keys[i]; i++)
		if (!strcmp(key, common_keys[i]))
			return true;
	for (i = 0; fields[i].name; i++)
		if (!strcmp(key, fields[i].name))
			return true;
	return false;
}

static int parse_common(json_t *obj, struct cgsnap_snapshot *snap, const char **cgroup,
			char *err, size_t errlen)
{
	json_t *kind = json_object_get(obj, "kind");
	json_t *t = json_object_get(obj, "t_ns");
	json_t *cg = json_object_get(obj, "cgroup");
	int k;

	if (!kind)
		return fail(err, errlen, "\"kind\" is missing");
	if (!json_is_string(kind))
		return fail(err, errlen, "\"kind\" must be a string");
	k = cgsnap_kind_from_name(json_string_value(kind));
	if (k < 0)
		return fail(err, errlen, "unknown kind \"%s\" (expected cpu, memory, runq or client)",
			    json_string_value(kind));
	snap->kind = k;
	if (!t)
		return fail(err, errlen, "\"t_ns\" is missing");
	if (!json_is_integer(t))
		return fail(err, errlen, "\"t_ns\" must be an integer (nanoseconds)");
	snap->t_ns = json_integer_value(t);
	if (cg && !json_is_string(cg))
		return fail(err, errlen, "\"cgroup\" must be a string");
	if (cg && !json_string_length(cg))
		return fail(err, errlen, "\"cgroup\" must not be empty");
	*cgroup = cg ? json_string_value(cg) : NULL;
	if (cg)
		snap->present |= CGSNAP_F_CGROUP;
	return 0;
}

int snapjson_parse(json_t *obj, struct cgsnap_snapshot *snap, const char **cgroup, char *err,
		   size_t errlen)
{
	const struct field *fields;
	const char *key, *why;
	json_t *v;
	int err2, i;

	if (!json_is_object(obj))
		return fail(err, errlen, "a snapshot must be a JSON object");
	memset(snap, 0, sizeof(*snap));
	err2 = parse_common(obj, snap, cgroup, err, errlen);
	if (err2)
		return err2;
	fields = kind_fields[snap->kind];
	json_object_foreach(obj, key, v) {
		if (!known_key(fields, key))
			return fail(err, errlen, "unknown field \"%s\" for kind %s", key,
				    cgsnap_kind_name(snap->kind));
	}
	for (i = 0; fields[i].name; i++) {
		err2 = parse_field(obj, &fields[i], snap, err, errlen);
		if (err2)
			return err2;
	}
	if (cgsnap_snapshot__validate(snap, &why))
		return fail(err, errlen, "%s", why);
	return 0;
}

json_t *snapjson_snapshot(const struct cgsnap_snapshot *snap, const char *cgroup)
{
	const struct field *f = kind_fields[snap->kind];
	json_t *o = json_object();
	int fail = 0;

	if (!o)
		return NULL;
	if (cgroup && (snap->present & CGSNAP_F_CGROUP))
		fail |= json_object_set_new(o, "cgroup", json_string(cgroup));
	fail |= json_object_set_new(o, "kind", json_string(cgsnap_kind_name(snap->kind)));
	fail |= json_object_set_new(o, "t_ns", json_integer(snap->t_ns));
	for (; f->name; f++) {
		const char *src = (const char *)snap + f->off;
		bool absent = f->flag && !(snap->present & f->flag);
		json_t *v;

		if (absent && (snap->present & CGSNAP_F_NULL(f->flag)))
			v = json_null();
		else if (absent && f->use != FU_COMPUTED)
			continue;
		else if (f->type == FT_INT)
			v = json_integer(*(const int64_t *)src);
		else
			v = json_real(*(const double *)src);
		fail |= json_object_set_new(o, f->name, v);
	}
	fail |= json_object_set_new(o, "overloaded", json_boolean(snap->overloaded));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *snapjson_sample(const struct cgsnap_sample sample[CGSNAP_KIND_COUNT], const char *cgroup)
{
	json_t *o = json_object();
	int k, fail = !o;
	uint32_t i;

	for (k = 0; !fail && k < CGSNAP_KIND_COUNT; k++) {
		struct cgsnap_snapshot *snaps = malloc((sample[k].len + 1) * sizeof(*snaps));
		json_t *arr = snaps ? json_array() : NULL;
		uint32_t n = snaps ? cgsnap_sample__copy(&sample[k], 0, sample[k].len, snaps) : 0;

		for (i = 0; arr && i < n; i++)
			if (json_array_append_new(arr, snapjson_snapshot(&snaps[i], cgroup)))
				break;
		free(snaps);
		fail |= !arr || i < sample[k].len;
		fail |= json_object_set_new(o, cgsnap_kind_name(k), arr);
	}
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *snapjson_status(const struct cgsnap_status *status)
{
	json_t *o = json_object();
	int k, fail = !o;

	for (k = 0; !fail && k < CGSNAP_KIND_COUNT; k++) {
		const struct cgsnap_load_ratio *r = &status->kind[k];

		fail |= json_object_set_new(o, cgsnap_kind_name(k),
					    json_pack("{s:f,s:f,s:b}", "limit_ratio", r->limit_ratio,
						      "actual_ratio", r->actual_ratio, "overloaded",
						      r->overloaded));
	}
	if (!fail)
		fail |= json_object_set_new(o, "idle", json_boolean(status->idle));
	if (fail) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *snapjson_warning(const struct cgsnap_memory_warning *w)
{
	return json_pack("{s:I,s:I,s:I,s:I}", "t_ns", (json_int_t)w->t_ns, "current_bytes",
			 (json_int_t)w->current_bytes, "threshold_bytes",
			 (json_int_t)w->threshold_bytes, "budget_bytes", (json_int_t)w->budget_bytes);
}
