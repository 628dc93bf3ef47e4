// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stddef.h>
#include <string.h>

#include "identity.h"

#define MAX_DEPTH	64
#define ID_LEN		64	/* containerd, CRI-O and Docker ids: 64 hex digits */

struct comp {
	const char *s;
	size_t n;
};

static bool is(const struct comp *c, const char *lit)
{
	return c->n == strlen(lit) && !memcmp(c->s, lit, c->n);
}

static bool has_suffix(const struct comp *c, const char *suffix)
{
	size_t l = strlen(suffix);

	return c->n >= l && !memcmp(c->s + c->n - l, suffix, l);
}

static bool has_prefix(const struct comp *c, const char *p, size_t l)
{
	return c->n >= l && !memcmp(c->s, p, l);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* a pod UID, 8-4-4-4-12 hex digits separated by @sep, into @out with dashes */
static bool parse_uid(const char *s, size_t n, char sep, char out[37])
{
	static const size_t groups[] = { 8, 4, 4, 4, 12 };
	size_t g, at = 0;

	if (n != 36)
		return false;
	for (g = 0; g < 5; g++) {
		if (!is_hex(s + at, groups[g]))
			return false;
		at += groups[g];
		if (g < 4 && s[at++] != sep)
			return false;
	}
	memcpy(out, s, 36);
	out[36] = '\0';
	for (at = 0; at < 36; at++)
		if (out[at] == sep)
			out[at] = '-';
	return true;
}

/* the systemd unit @c with ".slice" cut off, as a prefix for its children */
static struct comp slice_stem(const struct comp *c)
{
	struct comp stem = { c->s, c->n - strlen(".slice") };

	return stem;
}

/* @c is @stem + @mid + the rest: point @rest at the rest */
static bool stem_then(const struct comp *c, const struct comp *stem, const char *mid,
		      struct comp *rest)
{
	size_t m = strlen(mid);

	if (c->n < stem->n + m || memcmp(c->s, stem->s, stem->n) || memcmp(c->s + stem->n, mid, m))
		return false;
	rest->s = c->s + stem->n + m;
	rest->n = c->n - stem->n - m;
	return true;
}

/* a container cgroup's name: @out's runtime, id and kind */
static bool parse_container(const struct comp *c, struct k8s_identity *out)
{
	static const struct {
		const char *prefix, *runtime;
		enum k8s_kind kind;
	} runtimes[] = {
		{ "cri-containerd-", "containerd", K8S_CONTAINER },
		{ "crio-conmon-", "cri-o", K8S_CONMON },
		{ "crio-", "cri-o", K8S_CONTAINER },
		{ "docker-", "docker", K8S_CONTAINER },
	};
	struct comp id = *c;
	unsigned int i;

	if (has_suffix(&id, ".scope"))
		id.n -= strlen(".scope");
	out->kind = K8S_CONTAINER;
	out->runtime = "";
	for (i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		size_t l = strlen(runtimes[i].prefix);

		if (has_prefix(&id, runtimes[i].prefix, l)) {
			id.s += l;
			id.n -= l;
			out->runtime = runtimes[i].runtime;
			out->kind = runtimes[i].kind;
			break;
		}
	}
	if (id.n != ID_LEN || !is_hex(id.s, id.n))
		return false;
	/* the cgroupfs driver's bare id has no ".scope", the systemd driver's always */
	if (!*out->runtime && id.n != c->n)
		return false;
	memcpy(out->container_id, id.s, id.n);
	out->container_id[id.n] = '\0';
	return true;
}

/* the kubepods tree rooted at component @i of @c[0..@n): 0 if it does not match */
static enum k8s_kind from_root(const struct comp *c, int i, int n, struct k8s_identity *out)
{
	static const char *const qos[] = { "burstable", "besteffort" };
	bool systemd = !is(&c[i], "kubepods");
	struct comp stem, rest;
	unsigned int q;
	int j = i + 1;

	if (j >= n)
		return K8S_NONE;
	out->qos = "guaranteed";
	stem = systemd ? slice_stem(&c[i]) : (struct comp){ NULL, 0 };
	for (q = 0; q < 2; q++) {
		char mid[32];

		if (!systemd && is(&c[j], qos[q])) {
			out->qos = qos[q];
			j++;
			break;
		}
		if (!systemd)
			continue;
		strcpy(mid, "-");
		strcat(mid, qos[q]);
		strcat(mid, ".slice");
		if (stem_then(&c[j], &stem, mid, &rest) && !rest.n) {
			out->qos = qos[q];
			stem = slice_stem(&c[j]);
			j++;
			break;
		}
	}
	if (j >= n)
		return K8S_NONE;
	/* the pod: <stem>-pod<uid_>.slice, or pod<uid> */
	if (systemd) {
		if (!has_suffix(&c[j], ".slice") || !stem_then(&c[j], &stem, "-pod", &rest) ||
		    !parse_uid(rest.s, rest.n - strlen(".slice"), '_', out->pod_uid))
			return K8S_NONE;
	} else if (!has_prefix(&c[j], "pod", 3) ||
		   !parse_uid(c[j].s + 3, c[j].n - 3, '-', out->pod_uid)) {
		return K8S_NONE;
	}
	if (j + 1 == n)
		return out->kind = K8S_POD;
	/* a container, the last component: what is below it is the container's own */
	if (j + 2 != n || !parse_container(&c[j + 1], out))
		return K8S_NONE;
	return out->kind;
}

enum k8s_kind k8s_identify(const char *path, struct k8s_identity *out)
{
	struct comp c[MAX_DEPTH];
	const char *p = path, *slash;
	struct k8s_identity id;
	int n = 0, i;

	memset(out, 0, sizeof(*out));
	out->qos = "";
	out->runtime = "";
	while (*p && n < MAX_DEPTH) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		slash = strchrnul(p, '/');
		c[n].s = p;
		c[n++].n = slash - p;
		p = slash;
	}
	if (*p)
		return K8S_NONE;	/* deeper than any kubelet nests */
	/* the kubepods root: "kubepods", or a slice ending in "kubepods.slice"
	 * (kubepods.slice, kind's kubelet-kubepods.slice) */
	for (i = 0; i < n; i++) {
		if (!is(&c[i], "kubepods") &&
		    !(has_suffix(&c[i], "kubepods.slice") &&
		      (c[i].n == strlen("kubepods.slice") || c[i].s[c[i].n - 15] == '-')))
			continue;
		memset(&id, 0, sizeof(id));
		id.qos = "";
		id.runtime = "";
		if (from_root(c, i, n, &id) != K8S_NONE) {
			*out = id;
			return out->kind;
		}
	}
	return K8S_NONE;
}

const char *k8s_kind_name(enum k8s_kind kind)
{
	switch (kind) {
	case K8S_POD: return "pod";
	case K8S_CONTAINER: return "container";
	case K8S_CONMON: return "conmon";
	case K8S_NONE: break;
	}
	return "none";
}
