// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kubelet's PodList, parsed as it arrives: a JSON tokenizer that takes
 * the answer in whatever chunks libcurl hands over and keeps only what names
 * a pod (metadata's uid, name, namespace, the selected labels, the
 * controller ownerReference; status's qosClass and container statuses).
 * Nothing else is stored, so the memory a list costs is that of the pods it
 * keeps, at most max_pods of them, whatever the answer holds: 5,000,000 empty
 * objects or a 200 MB body cost nothing but the time to read them. A pod
 * with a field cgsnap cannot use (a NUL, bytes that are not UTF-8, a name
 * longer than the API allows) is left out alone; malformed JSON refuses the
 * whole answer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pods.h"

#define MAX_DEPTH	512	/* nesting beyond is refused (jansson allows 2048) */
#define MAX_STR		320	/* a kept string, decoded: a 253-byte name, a label key */
#define MAX_CONTAINERS	64	/* statuses kept per pod; more are left out */
#define MAX_ATOM	8	/* true, false, null; numbers are only checked */

/* what a container (object or array) is, by where it stands */
enum role {
	R_OTHER, R_ROOT, R_ITEMS, R_POD, R_META, R_LABELS, R_OWNERS, R_OWNER, R_STATUS,
	R_STATUSES, R_CSTATUS,
};

enum lex {
	L_VALUE,	/* a value is expected */
	L_FIRST_VALUE,	/* just after '[': a value or ']' */
	L_FIRST_KEY,	/* just after '{': a key or '}' */
	L_KEY,		/* after ',' in an object */
	L_COLON,
	L_AFTER,	/* after a value: ',', or the container's end */
	L_STRING, L_ESCAPE, L_HEX,
	L_ATOM,
	L_DONE,		/* the root value is complete */
};

/* a string being kept: decoded bytes, or why it cannot be kept */
struct str {
	char s[MAX_STR + 1];
	unsigned int len;
	bool set, bad;
};

struct owner {
	struct str kind, name;
	bool controller;
};

struct cstatus {
	struct str name, id;
};

struct pod_acc {
	struct str uid, name, ns, qos, hash;
	struct str *labels;		/* lk->n */
	struct owner owner, controller;	/* the one being read, the controller found */
	bool have_controller;
	struct cstatus cur;
	struct cstatus containers[MAX_CONTAINERS];
	unsigned int nr_containers;
};

struct k8s_podlist_parser {
	const struct k8s_label_keys *lk;
	unsigned int max_pods;
	struct k8s_podlist *list;
	struct k8s_parse_stats stats;
	int err;
	char why[160];
	size_t offset;			/* bytes fed so far */
	/* the tokenizer */
	enum lex lex;
	struct {
		unsigned char array : 1;
		unsigned char role : 7;
	} stack[MAX_DEPTH];
	int depth;
	char key[MAX_STR + 1];		/* the current key of the innermost object */
	unsigned int key_len;
	bool key_long;
	bool in_key;
	struct str *dest;		/* the string being kept, or NULL (skipped) */
	unsigned int hex, nr_hex;
	unsigned int high;		/* a high surrogate waiting for its low half */
	char atom[MAX_ATOM + 1];
	unsigned int atom_len;
	struct pod_acc pod;
};

static int fail(struct k8s_podlist_parser *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (p->err)
		return p->err;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	p->err = err;
	return err;
}

static void str_put(struct str *s, unsigned char c)
{
	if (s->bad)
		return;
	if (s->len >= MAX_STR || !c) {
		s->bad = true;	/* too long for a name, or a NUL: not usable */
		return;
	}
	s->s[s->len++] = c;
}

/* append code point @cp as UTF-8 */
static void str_put_cp(struct str *s, unsigned int cp)
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
		for (unsigned int j = 1; j <= k; j++) {
			if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* a kept string, finished: usable if set, not bad, and UTF-8 */
static bool str_ok(const struct str *s)
{
	return s->set && !s->bad;
}

static void str_end(struct str *s)
{
	s->s[s->len] = '\0';
	if (!s->bad && !utf8_valid((const unsigned char *)s->s, s->len))
		s->bad = true;
	s->set = true;
}

static void str_reset(struct str *s)
{
	s->len = 0;
	s->set = s->bad = false;
}

static bool key_is(const struct k8s_podlist_parser *p, const char *k)
{
	return !p->key_long && p->key_len == strlen(k) && !memcmp(p->key, k, p->key_len);
}

static enum role top_role(const struct k8s_podlist_parser *p)
{
	return p->depth ? p->stack[p->depth - 1].role : R_OTHER;
}

/* the role of a container opening in the current position */
static enum role child_role(const struct k8s_podlist_parser *p, bool array)
{
	if (!p->depth)
		return array ? R_OTHER : R_ROOT;
	switch (top_role(p)) {
	case R_ROOT:
		return array && key_is(p, "items") ? R_ITEMS : R_OTHER;
	case R_ITEMS:
		return array ? R_OTHER : R_POD;
	case R_POD:
		if (array)
			return R_OTHER;
		return key_is(p, "metadata") ? R_META : key_is(p, "status") ? R_STATUS : R_OTHER;
	case R_META:
		if (!array && key_is(p, "labels"))
			return R_LABELS;
		return array && key_is(p, "ownerReferences") ? R_OWNERS : R_OTHER;
	case R_OWNERS:
		return array ? R_OTHER : R_OWNER;
	case R_STATUS:
		return array && (key_is(p, "containerStatuses") ||
				 key_is(p, "initContainerStatuses") ||
				 key_is(p, "ephemeralContainerStatuses")) ? R_STATUSES : R_OTHER;
	case R_STATUSES:
		return array ? R_OTHER : R_CSTATUS;
	default:
		return R_OTHER;
	}
}

/* where a string value in the current position is kept, or NULL */
static struct str *value_dest(struct k8s_podlist_parser *p)
{
	struct pod_acc *a = &p->pod;
	unsigned int i;

	switch (top_role(p)) {
	case R_META:
		return key_is(p, "uid") ? &a->uid : key_is(p, "name") ? &a->name :
		       key_is(p, "namespace") ? &a->ns : NULL;
	case R_LABELS:
		if (key_is(p, "pod-template-hash"))
			return &a->hash;
		for (i = 0; p->lk && i < p->lk->n; i++)
			if (key_is(p, p->lk->keys[i]))
				return &a->labels[i];
		return NULL;
	case R_OWNER:
		return key_is(p, "kind") ? &a->owner.kind : key_is(p, "name") ? &a->owner.name : NULL;
	case R_STATUS:
		return key_is(p, "qosClass") ? &a->qos : NULL;
	case R_CSTATUS:
		return key_is(p, "name") ? &a->cur.name : key_is(p, "containerID") ? &a->cur.id : NULL;
	default:
		return NULL;
	}
}

static void owner_reset(struct owner *o)
{
	str_reset(&o->kind);
	str_reset(&o->name);
	o->controller = false;
}

/* a new pod: what the last one left is forgotten (not cleared: pod objects
 * come by the million in a hostile answer, and the slots are 40 KB) */
static void pod_begin(struct k8s_podlist_parser *p)
{
	struct pod_acc *a = &p->pod;
	unsigned int i;

	str_reset(&a->uid);
	str_reset(&a->name);
	str_reset(&a->ns);
	str_reset(&a->qos);
	str_reset(&a->hash);
	for (i = 0; p->lk && i < p->lk->n; i++)
		str_reset(&a->labels[i]);
	owner_reset(&a->owner);
	a->have_controller = false;
	str_reset(&a->cur.name);
	str_reset(&a->cur.id);
	a->nr_containers = 0;
}

static char *dup_ok(const struct str *s)
{
	return strdup(str_ok(s) ? s->s : "");
}

/* the pod read, into the list: 0, or -ENOMEM */
static int pod_end(struct k8s_podlist_parser *p)
{
	struct pod_acc *a = &p->pod;
	const char *kind, *name;
	struct k8s_pod *pod;
	char buf[256];
	unsigned int i;

	p->stats.items++;
	if (!str_ok(&a->uid) || a->uid.len != 36 || !str_ok(&a->name) || !a->name.len ||
	    !str_ok(&a->ns) || !a->ns.len) {
		p->stats.left_out++;
		return 0;
	}
	if (p->list->n >= p->max_pods) {
		p->stats.over++;
		return 0;
	}
	pod = k8s_podlist_add(p->list);
	if (!pod)
		return -ENOMEM;
	for (i = 0; i < 36; i++)
		pod->uid[i] = tolower((unsigned char)a->uid.s[i]);
	k8s_workload_of(a->name.s, a->have_controller ? a->controller.kind.s : NULL,
			a->have_controller ? a->controller.name.s : NULL,
			str_ok(&a->hash) ? a->hash.s : NULL, &kind, &name, buf, sizeof(buf));
	pod->ns = strdup(a->ns.s);
	pod->name = strdup(a->name.s);
	pod->qos = dup_ok(&a->qos);
	for (char *c = pod->qos; c && *c; c++)
		*c = tolower((unsigned char)*c);
	pod->workload_kind = strdup(kind);
	pod->workload = strdup(name);
	if (!pod->ns || !pod->name || !pod->qos || !pod->workload_kind || !pod->workload)
		return -ENOMEM;
	for (i = 0; p->lk && i < p->lk->n; i++)
		if (str_ok(&a->labels[i]) && !(pod->labels[i] = strdup(a->labels[i].s)))
			return -ENOMEM;
	pod->containers = calloc(a->nr_containers ? a->nr_containers : 1,
				 sizeof(*pod->containers));
	if (!pod->containers)
		return -ENOMEM;
	for (i = 0; i < a->nr_containers; i++) {
		struct k8s_container *c = &pod->containers[pod->nr_containers];

		c->id = strdup(k8s_runtime_id(a->containers[i].id.s));
		c->name = strdup(a->containers[i].name.s);
		if (!c->id || !c->name) {
			free(c->id);
			free(c->name);
			return -ENOMEM;
		}
		pod->nr_containers++;
	}
	return 0;
}

/* a container ends: what it was in its place */
static int container_end(struct k8s_podlist_parser *p, enum role role)
{
	struct pod_acc *a = &p->pod;

	switch (role) {
	case R_POD:
		return pod_end(p);
	case R_OWNER:
		if (a->owner.controller && !a->have_controller && str_ok(&a->owner.kind) &&
		    str_ok(&a->owner.name)) {
			a->controller = a->owner;
			a->have_controller = true;
		}
		owner_reset(&a->owner);
		return 0;
	case R_CSTATUS:
		/* started only (an id), and not more than are kept */
		if (str_ok(&a->cur.name) && str_ok(&a->cur.id) && *k8s_runtime_id(a->cur.id.s) &&
		    a->nr_containers < MAX_CONTAINERS)
			a->containers[a->nr_containers++] = a->cur;
		str_reset(&a->cur.name);
		str_reset(&a->cur.id);
		return 0;
	default:
		return 0;
	}
}

static int open_container(struct k8s_podlist_parser *p, bool array)
{
	enum role role = child_role(p, array);

	if (!p->depth && array)
		return fail(p, -EINVAL, "not a PodList: the answer is not an object");
	if (p->depth >= MAX_DEPTH)
		return fail(p, -EINVAL, "not a PodList: nested deeper than %d levels at byte %zu",
			    MAX_DEPTH, p->offset);
	if (role != R_ITEMS && top_role(p) == R_ROOT && key_is(p, "items"))
		return fail(p, -EINVAL, "not a PodList: \"items\" is not an array");
	if (role == R_POD)
		pod_begin(p);
	p->stack[p->depth].array = array;
	p->stack[p->depth].role = role;
	p->depth++;
	p->lex = array ? L_FIRST_VALUE : L_FIRST_KEY;
	return 0;
}

static int close_container(struct k8s_podlist_parser *p, bool array)
{
	enum role role;
	int err;

	if (!p->depth || p->stack[p->depth - 1].array != array)
		return fail(p, -EINVAL, "not JSON: '%c' out of place at byte %zu", array ? ']' : '}',
			    p->offset);
	role = p->stack[--p->depth].role;
	err = container_end(p, role);
	if (err)
		return fail(p, err, "out of memory");
	p->lex = p->depth ? L_AFTER : L_DONE;
	p->key_len = 0;	/* the enclosing object's key has been used */
	p->key_long = true;
	return 0;
}

/* a scalar ended (a string value was kept in p->dest already) */
static int scalar_end(struct k8s_podlist_parser *p, bool is_string)
{
	if (!p->depth)
		return fail(p, -EINVAL, "not a PodList: the answer is not an object");
	if (top_role(p) == R_ROOT && key_is(p, "items") &&
	    (is_string || strcmp(p->atom, "null")))
		return fail(p, -EINVAL, "not a PodList: \"items\" is not an array");
	if (!is_string && top_role(p) == R_OWNER && key_is(p, "controller"))
		p->pod.owner.controller = !strcmp(p->atom, "true");
	p->lex = L_AFTER;
	return 0;
}

static int atom_end(struct k8s_podlist_parser *p)
{
	const char *a = p->atom;

	p->atom[p->atom_len < MAX_ATOM ? p->atom_len : MAX_ATOM] = '\0';
	if (isalpha((unsigned char)a[0])) {
		if (p->atom_len > 5 || (strcmp(a, "true") && strcmp(a, "false") && strcmp(a, "null")))
			return fail(p, -EINVAL, "not JSON: '%s' at byte %zu", a, p->offset);
	} else if (!(a[0] == '-' || isdigit((unsigned char)a[0]))) {
		return fail(p, -EINVAL, "not JSON: unexpected '%c' at byte %zu", a[0], p->offset);
	}
	return scalar_end(p, false);
}

static void string_begin(struct k8s_podlist_parser *p, bool key)
{
	p->in_key = key;
	p->high = 0;
	if (key) {
		p->key_len = 0;
		p->key_long = false;
		p->dest = NULL;
	} else {
		p->dest = value_dest(p);
		if (p->dest)
			str_reset(p->dest);
	}
	p->lex = L_STRING;
}

/* a decoded byte of the string */
static void string_byte(struct k8s_podlist_parser *p, unsigned char c)
{
	if (p->in_key) {
		if (p->key_len < MAX_STR && c)
			p->key[p->key_len++] = c;
		else
			p->key_long = true;
	} else if (p->dest) {
		str_put(p->dest, c);
	}
}

static void string_cp(struct k8s_podlist_parser *p, unsigned int cp)
{
	struct str tmp = {};

	str_put_cp(&tmp, cp);
	for (unsigned int i = 0; i < tmp.len; i++)
		string_byte(p, tmp.s[i]);
	if (!cp)
		string_byte(p, 0);	/* \u0000: unusable, not an error */
}

/* half a surrogate pair: U+FFFD, and a kept string is not usable */
static void lone_surrogate(struct k8s_podlist_parser *p)
{
	string_cp(p, 0xFFFD);
	if (p->dest)
		p->dest->bad = true;
	p->high = 0;
}

static int string_end(struct k8s_podlist_parser *p)
{
	if (p->high)
		lone_surrogate(p);
	if (p->in_key) {
		p->lex = L_COLON;
		return 0;
	}
	if (p->dest)
		str_end(p->dest);
	return scalar_end(p, true);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int escape_end(struct k8s_podlist_parser *p)
{
	unsigned int cp = p->hex;

	p->lex = L_STRING;
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (p->high)
			lone_surrogate(p);
		p->high = cp;
		return 0;
	}
	if (cp >= 0xDC00 && cp <= 0xDFFF) {
		if (!p->high) {
			lone_surrogate(p);
			return 0;
		}
		cp = 0x10000 + ((p->high - 0xD800) << 10) + (cp - 0xDC00);
		p->high = 0;
	} else if (p->high) {
		lone_surrogate(p);
	}
	string_cp(p, cp);
	return 0;
}

static int in_string(struct k8s_podlist_parser *p, char c)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int h;

	switch (p->lex) {
	case L_STRING:
		if (c == '"')
			return string_end(p);
		if (c == '\\') {
			p->lex = L_ESCAPE;
			return 0;
		}
		if ((unsigned char)c < 0x20)
			return fail(p, -EINVAL, "not JSON: a control character in a string at byte %zu",
				    p->offset);
		if (p->high)
			lone_surrogate(p);
		string_byte(p, c);
		return 0;
	case L_ESCAPE:
		if (c == 'u') {
			p->lex = L_HEX;
			p->hex = p->nr_hex = 0;
			return 0;
		}
		e = c ? strchr(esc_in, c) : NULL;
		if (!e)
			return fail(p, -EINVAL, "not JSON: bad escape at byte %zu", p->offset);
		p->lex = L_STRING;
		if (p->high)
			lone_surrogate(p);
		string_byte(p, esc_out[e - esc_in]);
		return 0;
	default:	/* L_HEX */
		h = hex_digit(c);
		if (h < 0)
			return fail(p, -EINVAL, "not JSON: bad \\u escape at byte %zu", p->offset);
		p->hex = p->hex << 4 | h;
		return ++p->nr_hex == 4 ? escape_end(p) : 0;
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
static int structural(struct k8s_podlist_parser *p, char c)
{
	if (blank(c))
		return 0;
	switch (p->lex) {
	case L_DONE:
		return fail(p, -EINVAL, "not JSON: text after the PodList at byte %zu", p->offset);
	case L_FIRST_KEY:
	case L_KEY:
		if (c == '}' && p->lex == L_FIRST_KEY)
			return close_container(p, false);
		if (c != '"')
			return fail(p, -EINVAL, "not JSON: a key expected at byte %zu", p->offset);
		string_begin(p, true);
		return 0;
	case L_COLON:
		if (c != ':')
			return fail(p, -EINVAL, "not JSON: ':' expected at byte %zu", p->offset);
		p->lex = L_VALUE;
		return 0;
	case L_AFTER:
		if (c == ',') {
			p->lex = p->stack[p->depth - 1].array ? L_VALUE : L_KEY;
			return 0;
		}
		if (c == ']' || c == '}')
			return close_container(p, c == ']');
		return fail(p, -EINVAL, "not JSON: ',' expected at byte %zu", p->offset);
	default:	/* L_VALUE, L_FIRST_VALUE */
		if (c == ']' && p->lex == L_FIRST_VALUE)
			return close_container(p, true);
		if (c == '{' || c == '[')
			return open_container(p, c == '[');
		if (c == '"') {
			if (!p->depth)
				return fail(p, -EINVAL, "not a PodList: the answer is not an object");
			string_begin(p, false);
			return 0;
		}
		if (!atom_char(c))
			return fail(p, -EINVAL, "not JSON: unexpected '%c' at byte %zu", c, p->offset);
		p->lex = L_ATOM;
		p->atom_len = 0;
		p->atom[p->atom_len++] = c;
		return 0;
	}
}

int k8s_podlist_parser_feed(struct k8s_podlist_parser *p, const char *data, size_t len)
{
	size_t i;
	int err;

	for (i = 0; i < len && !p->err; i++, p->offset++) {
		char c = data[i];

		if (p->lex >= L_STRING && p->lex <= L_HEX) {
			in_string(p, c);
			continue;
		}
		if (p->lex == L_ATOM) {
			if (atom_char(c)) {
				if (p->atom_len < MAX_ATOM)
					p->atom[p->atom_len] = c;
				p->atom_len++;
				continue;
			}
			err = atom_end(p);
			if (err)
				break;
		}
		structural(p, c);
	}
	return p->err;
}

struct k8s_podlist_parser *k8s_podlist_parser_new(const struct k8s_label_keys *lk,
						  unsigned int max_pods)
{
	struct k8s_podlist_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->lk = lk;
	p->max_pods = max_pods ? max_pods : K8S_DEFAULT_MAX_PODS;
	p->pod.labels = calloc(lk && lk->n ? lk->n : 1, sizeof(*p->pod.labels));
	p->list = p->pod.labels ? k8s_podlist_new(lk ? lk->n : 0) : NULL;
	if (!p->list) {
		k8s_podlist_parser_free(p);
		errno = ENOMEM;
		return NULL;
	}
	p->lex = L_VALUE;
	return p;
}

int k8s_podlist_parser_end(struct k8s_podlist_parser *p, struct k8s_podlist **out,
			   struct k8s_parse_stats *stats, char *err, size_t errlen)
{
	*out = NULL;
	if (!p->err && p->lex == L_ATOM)
		atom_end(p);
	if (!p->err && p->lex != L_DONE)
		fail(p, -EINVAL, "not JSON: the answer ends early (%zu bytes)", p->offset);
	if (stats)
		*stats = p->stats;
	if (p->err) {
		snprintf(err, errlen, "%s", p->why);
		return p->err;
	}
	k8s_podlist_seal(p->list);
	*out = p->list;
	p->list = NULL;
	return 0;
}

void k8s_podlist_parser_free(struct k8s_podlist_parser *p)
{
	if (!p)
		return;
	k8s_podlist_put(p->list);
	free(p->pod.labels);
	free(p);
}

int k8s_podlist_parse(const char *json, size_t len, const struct k8s_label_keys *lk,
		      unsigned int max_pods, struct k8s_podlist **out,
		      struct k8s_parse_stats *stats, char *err, size_t errlen)
{
	struct k8s_podlist_parser *p = k8s_podlist_parser_new(lk, max_pods);
	int ret;

	*out = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k8s_podlist_parser_feed(p, json, len);
	ret = k8s_podlist_parser_end(p, out, stats, err, errlen);
	k8s_podlist_parser_free(p);
	return ret;
}
