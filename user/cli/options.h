/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The settings table (lib/settings.h) as argp options and config-file keys. */
#ifndef __CGSNAP_OPTIONS_H
#define __CGSNAP_OPTIONS_H

#include <argp.h>
#include <jansson.h>

#include "agent.h"
#include "settings.h"

/* keys of the generated options: OPT_SETTING + index in settings_table */
#define OPT_SETTING 0x1000

/*
 * A new option vector: @base (terminated by an all-zero entry), then a
 * header @title and one option per setting whose scope includes @scope
 * (plus its alias), in argp group @group. NULL on ENOMEM.
 */
struct argp_option *setting_options_new(const struct argp_option *base, unsigned int scope,
					const char *title, int group);
void setting_options_free(struct argp_option *options);

/* If @key is a generated option's, parse @arg into @s (argp_error() on a bad
 * value) and return 1; return 0 for any other key. */
int setting_option_parse(int key, const char *arg, struct argp_state *state,
			 struct cgsnap_settings *s);

/* --cgroup PATH and --all PATH: add or check @arg, argp_error() on a path
 * that leaves the hierarchy. Return 0 or an argp error. */
error_t opt_cgroup(struct argp_state *state, struct agent_opts *o, const char *arg);
error_t opt_cgroup_root(struct argp_state *state, const char *arg);

/* Set the setting @d from a JSON value (a string as for flags, or a number
 * for ratios, sizes and counts). 0 or -EINVAL with the reason in @err. */
int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen);
/* every key of a config file's "settings" object: 0 or -EINVAL */
int settings_from_json(struct cgsnap_settings *s, json_t *settings, char *err, size_t errlen);

#endif /* __CGSNAP_OPTIONS_H */
