// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cgroupfs.h"
#include "options.h"

static size_t count(const struct argp_option *o)
{
	size_t n = 0;

	while (o[n].name || o[n].key || o[n].doc)
		n++;
	return n;
}

static bool generated(const struct argp_option *o)
{
	return o->key >= OPT_SETTING && o->key < OPT_SETTING + (int)settings_table_len;
}

void setting_options_free(struct argp_option *options)
{
	struct argp_option *o;

	if (!options)
		return;
	for (o = options; o->name || o->key || o->doc; o++) {
		if (!generated(o))
			continue;
		free((char *)o->name);
		free((char *)o->doc);
	}
	free(options);
}

/* the option of setting @d, and its alias: returns how many it filled */
static int add_setting(struct argp_option *o, const struct setting_desc *d, int key, int group)
{
	char flag[64], def[64], *doc;

	setting_format_default(d, def, sizeof(def));
	if (asprintf(&doc, "%s (default %s)", d->help, def) < 0)
		return -1;
	o[0] = (struct argp_option){
		.name = strdup(setting_flag(d, flag, sizeof(flag))),
		.key = key,
		.arg = setting_arg_name(d),
		.doc = doc,
		.group = group,
	};
	if (!o[0].name)
		return -1;
	if (!d->alias)
		return 1;
	o[1] = (struct argp_option){ .name = strdup(d->alias), .key = key,
				     .flags = OPTION_ALIAS, .group = group };
	return o[1].name ? 2 : -1;
}

struct argp_option *setting_options_new(const struct argp_option *base, unsigned int scope,
					const char *title, int group)
{
	size_t nbase = count(base), i, n;
	struct argp_option *o = calloc(nbase + 2 * settings_table_len + 2, sizeof(*o));
	int added;

	if (!o)
		return NULL;
	memcpy(o, base, nbase * sizeof(*o));
	n = nbase;
	o[n++] = (struct argp_option){ .doc = title, .group = group };
	for (i = 0; i < settings_table_len; i++) {
		if (!(settings_table[i].scope & scope))
			continue;
		added = add_setting(&o[n], &settings_table[i], OPT_SETTING + (int)i, group);
		if (added < 0) {
			setting_options_free(o);
			return NULL;
		}
		n += added;
	}
	return o;
}

int setting_option_parse(int key, const char *arg, struct argp_state *state,
			 struct cgsnap_settings *s)
{
	char err[256];

	if (key < OPT_SETTING || key >= OPT_SETTING + (int)settings_table_len)
		return 0;
	if (setting_parse(&settings_table[key - OPT_SETTING], s, arg, err, sizeof(err)))
		argp_error(state, "%s", err);
	return 1;
}

#define BAD_PATH "invalid cgroup path '%s': '.' and '..' components are not allowed"

error_t opt_cgroup(struct argp_state *state, struct agent_opts *o, const char *arg)
{
	int err = agent_opts_add_cgroup(o, arg);

	if (err == -EINVAL)
		argp_error(state, BAD_PATH, arg);
	return err ? -err : 0;
}

error_t opt_cgroup_root(struct argp_state *state, const char *arg)
{
	if (arg && !cgroup_path_valid(arg)) {
		argp_error(state, BAD_PATH, arg);
		return EINVAL;
	}
	return 0;
}

int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen)
{
	char buf[64];

	if (json_is_boolean(v) && d->type == ST_SWITCH)
		return setting_parse(d, s, json_is_true(v) ? "true" : "false", err, errlen);
	if (json_is_string(v) && d->type != ST_SWITCH)
		return setting_parse(d, s, json_string_value(v), err, errlen);
	if (json_is_integer(v) && d->type != ST_DURATION && d->type != ST_STAT &&
	    d->type != ST_SWITCH) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	if (json_is_real(v) && d->type == ST_RATIO) {
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	snprintf(err, errlen, "invalid %s: expected %s", d->name,
		 d->type == ST_SWITCH ? "true or false" :
		 d->type == ST_DURATION || d->type == ST_STAT ? "a string" : "a number or a string");
	return -EINVAL;
}

int settings_from_json(struct cgsnap_settings *s, json_t *settings, char *err, size_t errlen)
{
	const struct setting_desc *d;
	const char *key;
	json_t *v;

	json_object_foreach(settings, key, v) {
		d = setting_find(key);
		if (!d) {
			snprintf(err, errlen, "unknown setting \"%s\"", key);
			return -EINVAL;
		}
		if (setting_from_json(d, s, v, err, errlen))
			return -EINVAL;
	}
	return 0;
}
