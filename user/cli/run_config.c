// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap run's JSON config file: its keys are the option table's (run_options.c)
 * and, under "settings", the settings table's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "readfile.h"
#include "run_options_int.h"

/* far beyond any config; a larger file is a mistake, not a config */
#define CONFIG_MAX_BYTES (16 << 20)

/* one JSON value of row @r: its type checked, as text to its setter */
static int apply_value(const struct run_opt *r, struct run_options *o, json_t *v, char *err,
		       size_t len)
{
	char num[32];

	if (json_is_string(v) && (r->json & J_STR))
		return r->set(o, json_string_value(v), err, len);
	if (json_is_integer(v) && (r->json & J_INT)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return r->set(o, num, err, len);
	}
	if (json_is_boolean(v) && (r->json & J_BOOL))
		return r->set(o, json_is_true(v) ? "true" : "false", err, len);
	snprintf(err, len, "expected %s", r->json & J_BOOL ? "true or false" :
		 r->json & J_INT ? "an integer" : "a string");
	return -EINVAL;
}

static int apply_key(const struct run_opt *r, struct run_options *o, json_t *v, char *why,
		     size_t len)
{
	size_t i;
	json_t *e;
	int ret;

	if (!(r->json & J_LIST) || !json_is_array(v))
		return apply_value(r, o, v, why, len);
	json_array_foreach(v, i, e) {
		ret = apply_value(r, o, e, why, len);
		if (ret)
			return ret;
	}
	return 0;
}

static int apply(struct run_options *o, json_t *root, char *err, size_t errlen)
{
	const struct run_opt *r;
	char why[256];
	const char *key;
	int ret;
	json_t *v;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "the top level must be an object");
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "settings") && json_is_object(v)) {
			ret = settings_from_json(&o->agent.settings, v, err, errlen);
			if (ret)
				return ret;
			continue;
		}
		r = run_opt_by_config(key);
		if (!r) {
			snprintf(err, errlen, "unknown key \"%s\"", key);
			return -EINVAL;
		}
		ret = apply_key(r, o, v, why, sizeof(why));
		if (ret == -EINVAL)
			snprintf(err, errlen, "malformed key \"%s\": %s%s", key, why,
				 r->json & J_LIST ? " (or a list of them)" : "");
		if (ret)
			return ret;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *name, struct run_options *o,
		 char *err, size_t errlen)
{
	char why[512] = "";
	json_error_t jerr;
	int ret;

	json_decref(o->config);
	o->config = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o->config) {
		snprintf(err, errlen, "%s:%d: %s", name, jerr.line, jerr.text);
		return -EINVAL;
	}
	ret = apply(o, o->config, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "%s: %s", name, ret == -ENOMEM ? "out of memory" : why);
	return ret;
}

int config_load(const char *path, struct run_options *o, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int ret;

	ret = read_file(path, CONFIG_MAX_BYTES, &text, &len);
	if (ret) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(-ret));
		return -EINVAL;
	}
	ret = config_parse(text, len, path, o, err, errlen);
	free(text);
	return ret;
}

