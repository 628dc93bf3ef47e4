/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The settings table: one description of every snapshotter setting (its
 * name, type, default, range, and help). Defaults, validation, the command
 * line flags of `cgsnap run` and `cgsnap replay`, the config-file keys,
 * `--check`'s output and the help text are all generated from it.
 * Pure: no I/O. Not part of the installed API.
 */
#ifndef __CGSNAP_SETTINGS_H
#define __CGSNAP_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshotter.h"

enum setting_type {
	ST_DURATION,	/* int64 ns, "500ms" */
	ST_RATIO,	/* double in (0, 1] */
	ST_SIZE,	/* int64 bytes, "4G" */
	ST_COUNT,	/* int64, 0 .. INT32_MAX */
	ST_STAT,	/* enum cgsnap_runq_stat: p50, p90, p99, max, mean */
	ST_SWITCH,	/* int64 0 or 1: a flag without a value, true or false in a config */
};

/* which commands take the setting as a flag */
#define SETTING_RUN	(1U << 0)
#define SETTING_REPLAY	(1U << 1)

struct setting_desc {
	const char *name;	/* as in docs/SPEC.md and the config file */
	const char *alias;	/* another accepted flag, or NULL */
	enum setting_type type;
	size_t off;		/* in struct cgsnap_settings */
	int64_t min;		/* durations, sizes, counts: the smallest valid value */
	int64_t idef;		/* default of an integer setting (-1: none) */
	double ddef;		/* default of a ratio (-1: none) */
	unsigned int scope;	/* SETTING_RUN, SETTING_REPLAY */
	const char *help;	/* without the default, which is appended */
};

extern const struct setting_desc settings_table[];
extern const size_t settings_table_len;

/* the setting named @name (as in the config file), or NULL */
const struct setting_desc *setting_find(const char *name);

/* Whether the value of @d in @s is valid; if not, what is expected in @why. */
int setting_check(const struct setting_desc *d, const struct cgsnap_settings *s, char *why,
		  size_t len);

/* Set @d of @s from the text @value. Returns 0, or -EINVAL with what was
 * expected in @err. */
int setting_parse(const struct setting_desc *d, struct cgsnap_settings *s, const char *value,
		  char *err, size_t errlen);

/* The value of @d in @s as text ("500ms", "0.95", "none"). */
void setting_format(const struct setting_desc *d, const struct cgsnap_settings *s, char *buf,
		    size_t len);

/* The default of @d as text. */
/* @ns as the shortest exact "<n>s", "<n>ms" or "<n>ns" */
void format_duration(int64_t ns, char *buf, size_t len);

void setting_format_default(const struct setting_desc *d, char *buf, size_t len);

/* @d's flag name: its name with '-' for '_', in @buf. */
const char *setting_flag(const struct setting_desc *d, char *buf, size_t len);

/* the placeholder of its value in help texts: DUR, RATIO, BYTES, N, STAT */
const char *setting_arg_name(const struct setting_desc *d);

/*
 * --fast: where @s still has the seed's default, the fast one: runq every
 * 100 ms, cpu, memory and client every 250 ms, a 1 s current window, a
 * verdict held 1 s. What was set explicitly stays. Does nothing unless
 * s->fast.
 */
void settings_apply_fast(struct cgsnap_settings *s);

/* checked number parsing: 0, -EINVAL if malformed, -ERANGE if out of range */
int parse_double(const char *s, double *out);
int parse_long(const char *s, long min, long max, long *out);
/* bytes with an optional K, M, G, T suffix (powers of 1024) */
int parse_size(const char *s, int64_t *out);

#endif /* __CGSNAP_SETTINGS_H */
