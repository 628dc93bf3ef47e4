// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The streaming JSON scanner (jscan.h): a byte at a time, no allocation. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"

int jscan_fail(struct jscan *j, int err, const char *fmt, ...)
{
	va_list ap;

	if (j->err)
		return j->err;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	j->err = err;
	return err;
}

static void str_put(struct jstr *s, unsigned char c)
{
	if (s->bad)
		return;
	if (s->len >= JSCAN_MAX_STR || !c) {
		s->bad = true;	/* too long for a name, or a NUL: not usable */
		return;
	}
	s->s[s->len++] = c;
}

/* append code point @cp as UTF-8 */
static void str_put_cp(struct jstr *s, unsigned int cp)
{
	if (cp < 0x80) {
		str_put(s, cp);
	} else if (cp < 0x800) {
		str_put(s, 0xC0 | cp >> 6);
		str_put(s, 0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		str_put(s, 0xE0 | cp >> 12);
		str_put(s, 0x80 | (cp >> 6 & 0x3F));
		str_put(s, 0x80 | (cp & 0x3F));
	} else {
		str_put(s, 0xF0 | cp >> 18);
		str_put(s, 0x80 | (cp >> 12 & 0x3F));
		str_put(s, 0x80 | (cp >> 6 & 0x3F));
		str_put(s, 0x80 | (cp & 0x3F));
	}
}

/* whether @s[0..@n) is UTF-8 (shortest forms, no surrogates) */
static bool utf8_valid(const unsigned char *s, unsigned int n)
{
	unsigned int i = 0, k, cp, min;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xE0) == 0xC0)
			k = 1, cp = s[i] & 0x1F, min = 0x80;
		else if ((s[i] & 0xF0) == 0xE0)
			k = 2, cp = s[i] & 0x0F, min = 0x800;
		else if ((s[i] & 0xF8) == 0xF0)
			k = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return false;
		for (unsigned int m = 1; m <= k; m++) {
			if (i + m >= n || (s[i + m] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + m] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

bool jstr_ok(const struct jstr *s)
{
	return s->set && !s->bad;
}

static void str_end(struct jstr *s)
{
	s->s[s->len] = '\0';
	if (!s->bad && !utf8_valid((const unsigned char *)s->s, s->len))
		s->bad = true;
	s->set = true;
}

void jstr_reset(struct jstr *s)
{
	s->len = 0;
	s->set = s->bad = false;
}

bool jscan_key_is(const struct jscan *j, const char *k)
{
	return !j->key_long && j->key_len == strlen(k) && !memcmp(j->key, k, j->key_len);
}

static bool is_array(const struct jscan *j, int level)
{
	return j->array[level / 8] & 1u << level % 8;
}

static int open_container(struct jscan *j, bool array)
{
	int err;

	if (j->depth >= JSCAN_MAX_DEPTH)
		return jscan_fail(j, -EINVAL, "too deep: nested deeper than %d levels at byte %zu",
				  JSCAN_MAX_DEPTH, j->offset);
	err = j->ops->open(j, j->ctx, array);
	if (err)
		return jscan_fail(j, err, "%s", strerror(-err));
	if (array)
		j->array[j->depth / 8] |= 1u << j->depth % 8;
	else
		j->array[j->depth / 8] &= ~(1u << j->depth % 8);
	j->depth++;
	j->lex = array ? JL_FIRST_VALUE : JL_FIRST_KEY;
	return 0;
}

static int close_container(struct jscan *j, bool array)
{
	int err;

	if (!j->depth || is_array(j, j->depth - 1) != array)
		return jscan_fail(j, -EINVAL, "not JSON: '%c' out of place at byte %zu",
				  array ? ']' : '}', j->offset);
	j->depth--;
	err = j->ops->close(j, j->ctx, array);
	if (err)
		return jscan_fail(j, err, "%s", strerror(-err));
	j->lex = j->depth ? JL_AFTER : JL_DONE;
	j->key_len = 0;	/* the enclosing object's key has been used */
	j->key_long = true;
	return 0;
}

/* a scalar ended (a string value was kept in j->dest already) */
static int scalar_end(struct jscan *j, const char *atom)
{
	int err = j->ops->scalar(j, j->ctx, atom);

	if (err)
		return jscan_fail(j, err, "%s", strerror(-err));
	j->lex = j->depth ? JL_AFTER : JL_DONE;
	return 0;
}

static int atom_end(struct jscan *j)
{
	const char *a = j->atom;

	j->atom[j->atom_len < JSCAN_MAX_ATOM ? j->atom_len : JSCAN_MAX_ATOM] = '\0';
	if (isalpha((unsigned char)a[0])) {
		if (j->atom_len > 5 || (strcmp(a, "true") && strcmp(a, "false") && strcmp(a, "null")))
			return jscan_fail(j, -EINVAL, "not JSON: '%s' at byte %zu", a, j->offset);
	} else if (!(a[0] == '-' || isdigit((unsigned char)a[0]))) {
		return jscan_fail(j, -EINVAL, "not JSON: unexpected '%c' at byte %zu", a[0],
				  j->offset);
	}
	return scalar_end(j, a);
}

static void string_begin(struct jscan *j, bool key)
{
	j->in_key = key;
	j->high = 0;
	if (key) {
		j->key_len = 0;
		j->key_long = false;
		j->dest = NULL;
	} else {
		j->dest = j->ops->keep(j, j->ctx);
		if (j->dest)
			jstr_reset(j->dest);
	}
	j->lex = JL_STRING;
}

/* a decoded byte of the string */
static void string_byte(struct jscan *j, unsigned char c)
{
	if (j->in_key) {
		if (j->key_len < JSCAN_MAX_STR && c)
			j->key[j->key_len++] = c;
		else
			j->key_long = true;
	} else if (j->dest) {
		str_put(j->dest, c);
	}
}

static void string_cp(struct jscan *j, unsigned int cp)
{
	struct jstr tmp = {};

	str_put_cp(&tmp, cp);
	for (unsigned int i = 0; i < tmp.len; i++)
		string_byte(j, tmp.s[i]);
	if (!cp)
		string_byte(j, 0);	/* \u0000: unusable, not an error */
}

/* half a surrogate pair: U+FFFD, and a kept string is not usable */
static void lone_surrogate(struct jscan *j)
{
	string_cp(j, 0xFFFD);
	if (j->dest)
		j->dest->bad = true;
	j->high = 0;
}

static int string_end(struct jscan *j)
{
	if (j->high)
		lone_surrogate(j);
	if (j->in_key) {
		j->lex = JL_COLON;
		return 0;
	}
	if (j->dest)
		str_end(j->dest);
	return scalar_end(j, NULL);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int escape_end(struct jscan *j)
{
	unsigned int cp = j->hex;

	j->lex = JL_STRING;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (j->high)
			lone_surrogate(j);
		j->high = cp;
		return 0;
	}
	if (cp >= 0xDC00 && cp <= 0xDFFF) {
		if (!j->high) {
			lone_surrogate(j);
			return 0;
		}
		cp = 0x10000 + ((j->high - 0xD800) << 10) + (cp - 0xDC00);
		j->high = 0;
	} else if (j->high) {
		lone_surrogate(j);
	}
	string_cp(j, cp);
	return 0;
}

static int in_string(struct jscan *j, char c)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int h;

	switch (j->lex) {
	case JL_STRING:
		if (c == '"')
			return string_end(j);
		if (c == '\\') {
			j->lex = JL_ESCAPE;
			return 0;
		}
		if ((unsigned char)c < 0x20)
			return jscan_fail(j, -EINVAL, "not JSON: a control character in a string "
					  "at byte %zu", j->offset);
		if (j->high)
			lone_surrogate(j);
		string_byte(j, c);
		return 0;
	case JL_ESCAPE:
		if (c == 'u') {
			j->lex = JL_HEX;
			j->hex = j->nr_hex = 0;
			return 0;
		}
		e = c ? strchr(esc_in, c) : NULL;
		if (!e)
			return jscan_fail(j, -EINVAL, "not JSON: bad escape at byte %zu", j->offset);
		j->lex = JL_STRING;
		if (j->high)
			lone_surrogate(j);
		string_byte(j, esc_out[e - esc_in]);
		return 0;
	default:	/* JL_HEX */
		h = hex_digit(c);
		if (h < 0)
			return jscan_fail(j, -EINVAL, "not JSON: bad \\u escape at byte %zu",
					  j->offset);
		j->hex = j->hex << 4 | h;
		return ++j->nr_hex == 4 ? escape_end(j) : 0;
	}
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool atom_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '+' || c == '.';
}

/* one byte outside strings and atoms */
static int structural(struct jscan *j, char c)
{
	if (blank(c))
		return 0;
	switch (j->lex) {
	case JL_DONE:
		return jscan_fail(j, -EINVAL, "not JSON: text after the value at byte %zu",
				  j->offset);
	case JL_FIRST_KEY:
	case JL_KEY:
		if (c == '}' && j->lex == JL_FIRST_KEY)
			return close_container(j, false);
		if (c != '"')
			return jscan_fail(j, -EINVAL, "not JSON: a key expected at byte %zu",
					  j->offset);
		string_begin(j, true);
		return 0;
	case JL_COLON:
		if (c != ':')
			return jscan_fail(j, -EINVAL, "not JSON: ':' expected at byte %zu", j->offset);
		j->lex = JL_VALUE;
		return 0;
	case JL_AFTER:
		if (c == ',') {
			j->lex = is_array(j, j->depth - 1) ? JL_VALUE : JL_KEY;
			return 0;
		}
		if (c == ']' || c == '}')
			return close_container(j, c == ']');
		return jscan_fail(j, -EINVAL, "not JSON: ',' expected at byte %zu", j->offset);
	default:	/* JL_VALUE, JL_FIRST_VALUE */
		if (c == ']' && j->lex == JL_FIRST_VALUE)
			return close_container(j, true);
		if (c == '{' || c == '[')
			return open_container(j, c == '[');
		if (c == '"') {
			string_begin(j, false);
			return 0;
		}
		if (!atom_char(c))
			return jscan_fail(j, -EINVAL, "not JSON: unexpected '%c' at byte %zu", c,
					  j->offset);
		j->lex = JL_ATOM;
		j->atom_len = 0;
		j->atom[j->atom_len++] = c;
		return 0;
	}
}

void jscan_init(struct jscan *j, const struct jscan_ops *ops, void *ctx)
{
	memset(j, 0, sizeof(*j));
	j->ops = ops;
	j->ctx = ctx;
	j->lex = JL_VALUE;
}

int jscan_feed(struct jscan *j, const char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len && !j->err; i++, j->offset++) {
		char c = data[i];

		if (j->lex >= JL_STRING && j->lex <= JL_HEX) {
			in_string(j, c);
			continue;
		}
		if (j->lex == JL_ATOM) {
			if (atom_char(c)) {
				if (j->atom_len < JSCAN_MAX_ATOM)
					j->atom[j->atom_len] = c;
				j->atom_len++;
				continue;
			}
			if (atom_end(j))
				break;
		}
		structural(j, c);
	}
	return j->err;
}

int jscan_end(struct jscan *j)
{
	if (!j->err && j->lex == JL_ATOM)
		atom_end(j);
	if (!j->err && j->lex != JL_DONE)
		jscan_fail(j, -EINVAL, "not JSON: the answer ends early (%zu bytes)", j->offset);
	return j->err;
}
