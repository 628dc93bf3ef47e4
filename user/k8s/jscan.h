/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A streaming JSON scanner with bounded memory: it takes a document in
 * whatever chunks arrive, checks it is JSON, and tells its user, through
 * four callbacks, where containers open and close and where scalars end.
 * Nothing is stored but the nesting (a bit per level, at most
 * JSCAN_MAX_DEPTH levels), the current key (JSCAN_MAX_STR bytes) and the
 * string values the user asks to keep, decoded, in a struct jstr of its
 * own. Strings are decoded (escapes, surrogate pairs) and checked as UTF-8;
 * a string that cannot be kept as it is (too long, a NUL, a lone surrogate,
 * bytes that are not UTF-8) is marked bad, never an error: the document
 * stays readable around it.
 */
#ifndef __CGSNAP_JSCAN_H
#define __CGSNAP_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH	512	/* nesting beyond is refused (jansson allows 2048) */
#define JSCAN_MAX_STR	320	/* a kept string or key, decoded: a 253-byte name */
#define JSCAN_MAX_ATOM	8	/* true, false, null; numbers are only checked */

/* a string value being kept: decoded bytes, or why it cannot be kept */
struct jstr {
	char s[JSCAN_MAX_STR + 1];
	unsigned int len;
	bool set, bad;
};

/* set (a string value was kept in it), not bad, and UTF-8 */
bool jstr_ok(const struct jstr *s);
void jstr_reset(struct jstr *s);

struct jscan;

/*
 * What the scanner tells its user. Each returns 0 or a negative errno that
 * stops the scan (with jscan_fail() for the reason). jscan_key_is() and
 * jscan_depth() tell where the scanner stands: inside the container at
 * depth jscan_depth() (0: none yet), at the value of the current key.
 */
struct jscan_ops {
	/* a container opens here (the depth is still the enclosing one's) */
	int (*open)(struct jscan *j, void *ctx, bool array);
	/* the container at depth jscan_depth() + 1 closed */
	int (*close)(struct jscan *j, void *ctx, bool array);
	/* a string value begins here: where to keep it, or NULL to skip it */
	struct jstr *(*keep)(struct jscan *j, void *ctx);
	/* a scalar ended here: @atom is true, false, null or a number, NULL
	 * for a string (kept already, if asked) */
	int (*scalar)(struct jscan *j, void *ctx, const char *atom);
};

enum jscan_lex {
	JL_VALUE,	/* a value is expected */
	JL_FIRST_VALUE,	/* just after '[': a value or ']' */
	JL_FIRST_KEY,	/* just after '{': a key or '}' */
	JL_KEY,		/* after ',' in an object */
	JL_COLON,
	JL_AFTER,	/* after a value: ',', or the container's end */
	JL_STRING, JL_ESCAPE, JL_HEX,
	JL_ATOM,
	JL_DONE,	/* the root value is complete */
};

struct jscan {
	const struct jscan_ops *ops;
	void *ctx;
	int err;
	char why[160];
	size_t offset;				/* bytes fed so far */
	enum jscan_lex lex;
	unsigned char array[JSCAN_MAX_DEPTH / 8];	/* per level: an array */
	int depth;
	char key[JSCAN_MAX_STR + 1];		/* the current key of the innermost object */
	unsigned int key_len;
	bool key_long, in_key;
	struct jstr *dest;			/* the string being kept, or NULL */
	unsigned int hex, nr_hex;
	unsigned int high;			/* a high surrogate waiting for its low half */
	char atom[JSCAN_MAX_ATOM + 1];
	unsigned int atom_len;
};

void jscan_init(struct jscan *j, const struct jscan_ops *ops, void *ctx);
/* scan @len more bytes: 0, or the error that stopped the scan */
int jscan_feed(struct jscan *j, const char *data, size_t len);
/* the document ended: 0 if it was one complete JSON value */
int jscan_end(struct jscan *j);
/* stop the scan with @err and the reason (the first one stays): @err */
int jscan_fail(struct jscan *j, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the current key (of the innermost object) is @k */
bool jscan_key_is(const struct jscan *j, const char *k);
static inline int jscan_depth(const struct jscan *j)
{
	return j->depth;
}

#endif /* __CGSNAP_JSCAN_H */
