/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The settings of SPEC section 2 by name, for `cgsnap run`'s flags
 * (--snapshot-history 30s) and its JSON config file ("snapshot_history":
 * "30s"): one table, so a setting is declared once.
 */
#ifndef __CGSNAP_CONFIG_H
#define __CGSNAP_CONFIG_H

#include <stddef.h>
#include <jansson.h>

#include "snapshotter.h"

enum setting_type {
	ST_DURATION,	/* "500ms" */
	ST_RATIO,	/* (0, 1] */
	ST_SIZE,	/* bytes, "4G" */
	ST_COUNT,	/* non-negative integer */
	ST_STAT,	/* p50, p90, p99, max, mean */
};

struct setting_desc {
	const char *name;	/* SPEC name; the flag is the same with '-' for '_' */
	enum setting_type type;
	size_t off;		/* in struct cgsnap_settings */
	const char *help;
};

extern const struct setting_desc settings_table[];
extern const size_t settings_table_len;

/* Set the setting @d of @s from the string @value. Returns 0, or -EINVAL
 * with what was expected in @err. */
int setting_parse(const struct setting_desc *d, struct cgsnap_settings *s, const char *value,
		  char *err, size_t errlen);

/* Set the setting @d from a JSON value (a string as for flags, or a number
 * for ratios, sizes and counts). */
int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen);

const struct setting_desc *setting_find(const char *name);

/* the setting's current value as text ("500ms", "0.95", "none") */
void setting_format(const struct setting_desc *d, const struct cgsnap_settings *s, char *buf,
		    size_t len);

#endif /* __CGSNAP_CONFIG_H */
