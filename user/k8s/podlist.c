// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kubelet's PodList, read as it arrives: the streaming scanner
 * (jscan.h) takes the answer in whatever chunks libcurl hands over, and this
 * keeps only what names a pod (metadata's uid, name, namespace, the selected
 * labels, the controller ownerReference; status's qosClass and container
 * statuses), by the role of each container in the list. Nothing else is
 * stored, so the memory a list costs is that of the pods it keeps, at most
 * max_pods of them, whatever the answer holds: 5,000,000 empty objects or a
 * 200 MB body cost nothing but the time to read them. A pod with a field
 * cgsnap cannot use (a NUL, bytes that are not UTF-8, a name longer than the
 * API allows) is left out alone; malformed JSON refuses the whole answer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jscan.h"
#include "pods.h"

#define MAX_CONTAINERS	64	/* statuses kept per pod; more are left out */

/* what a container (object or array) is, by where it stands */
enum role {
	R_OTHER, R_ROOT, R_ITEMS, R_POD, R_META, R_LABELS, R_OWNERS, R_OWNER, R_STATUS,
	R_STATUSES, R_CSTATUS,
};

struct owner {
	struct jstr kind, name;
	bool controller;
};

struct cstatus {
	struct jstr name, id;
};

struct pod_acc {
	struct jstr uid, name, ns, qos, hash;
	struct jstr *labels;		/* lk->n */
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
	struct jscan scan;
	unsigned char role[JSCAN_MAX_DEPTH];	/* per level: its enum role */
	struct pod_acc pod;
};

static bool key_is(const struct k8s_podlist_parser *p, const char *k)
{
	return jscan_key_is(&p->scan, k);
}

static enum role top_role(const struct k8s_podlist_parser *p)
{
	int depth = jscan_depth(&p->scan);

	return depth ? p->role[depth - 1] : R_OTHER;
}

/* the role of a container opening in the current position */
static enum role child_role(const struct k8s_podlist_parser *p, bool array)
{
	if (!jscan_depth(&p->scan))
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
static struct jstr *value_dest(struct k8s_podlist_parser *p)
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
	jstr_reset(&o->kind);
	jstr_reset(&o->name);
	o->controller = false;
}

/* a new pod: what the last one left is forgotten (not cleared: pod objects
 * come by the million in a hostile answer, and the slots are 40 KB) */
static void pod_begin(struct k8s_podlist_parser *p)
{
	struct pod_acc *a = &p->pod;
	unsigned int i;

	jstr_reset(&a->uid);
	jstr_reset(&a->name);
	jstr_reset(&a->ns);
	jstr_reset(&a->qos);
	jstr_reset(&a->hash);
	for (i = 0; p->lk && i < p->lk->n; i++)
		jstr_reset(&a->labels[i]);
	owner_reset(&a->owner);
	a->have_controller = false;
	jstr_reset(&a->cur.name);
	jstr_reset(&a->cur.id);
	a->nr_containers = 0;
}

static char *dup_ok(const struct jstr *s)
{
	return strdup(jstr_ok(s) ? s->s : "");
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
	if (!jstr_ok(&a->uid) || a->uid.len != 36 || !jstr_ok(&a->name) || !a->name.len ||
	    !jstr_ok(&a->ns) || !a->ns.len) {
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
			jstr_ok(&a->hash) ? a->hash.s : NULL, &kind, &name, buf, sizeof(buf));
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
		if (jstr_ok(&a->labels[i]) && !(pod->labels[i] = strdup(a->labels[i].s)))
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
		if (a->owner.controller && !a->have_controller && jstr_ok(&a->owner.kind) &&
		    jstr_ok(&a->owner.name)) {
			a->controller = a->owner;
			a->have_controller = true;
		}
		owner_reset(&a->owner);
		return 0;
	case R_CSTATUS:
		/* started only (an id), and not more than are kept */
		if (jstr_ok(&a->cur.name) && jstr_ok(&a->cur.id) && *k8s_runtime_id(a->cur.id.s) &&
		    a->nr_containers < MAX_CONTAINERS)
			a->containers[a->nr_containers++] = a->cur;
		jstr_reset(&a->cur.name);
		jstr_reset(&a->cur.id);
		return 0;
	default:
		return 0;
	}
}

static int on_open(struct jscan *j, void *ctx, bool array)
{
	struct k8s_podlist_parser *p = ctx;
	enum role role = child_role(p, array);

	if (!jscan_depth(j) && array)
		return jscan_fail(j, -EINVAL, "not a PodList: the answer is not an object");
	if (role != R_ITEMS && top_role(p) == R_ROOT && key_is(p, "items"))
		return jscan_fail(j, -EINVAL, "not a PodList: \"items\" is not an array");
	if (role == R_POD)
		pod_begin(p);
	p->role[jscan_depth(j)] = role;
	return 0;
}

static int on_close(struct jscan *j, void *ctx, bool array)
{
	struct k8s_podlist_parser *p = ctx;
	int err = container_end(p, p->role[jscan_depth(j)]);

	(void)array;
	return err ? jscan_fail(j, err, "out of memory") : 0;
}

static struct jstr *on_keep(struct jscan *j, void *ctx)
{
	(void)j;
	return value_dest(ctx);
}

static int on_scalar(struct jscan *j, void *ctx, const char *atom)
{
	struct k8s_podlist_parser *p = ctx;

	if (!jscan_depth(j))
		return jscan_fail(j, -EINVAL, "not a PodList: the answer is not an object");
	if (top_role(p) == R_ROOT && key_is(p, "items") && (!atom || strcmp(atom, "null")))
		return jscan_fail(j, -EINVAL, "not a PodList: \"items\" is not an array");
	if (atom && top_role(p) == R_OWNER && key_is(p, "controller"))
		p->pod.owner.controller = !strcmp(atom, "true");
	return 0;
}

static const struct jscan_ops podlist_ops = {
	.open = on_open, .close = on_close, .keep = on_keep, .scalar = on_scalar,
};

int k8s_podlist_parser_feed(struct k8s_podlist_parser *p, const char *data, size_t len)
{
	return jscan_feed(&p->scan, data, len);
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
	jscan_init(&p->scan, &podlist_ops, p);
	return p;
}

int k8s_podlist_parser_end(struct k8s_podlist_parser *p, struct k8s_podlist **out,
			   struct k8s_parse_stats *stats, char *err, size_t errlen)
{
	int ret = jscan_end(&p->scan);

	*out = NULL;
	if (stats)
		*stats = p->stats;
	if (ret) {
		snprintf(err, errlen, "%s", p->scan.why);
		return ret;
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
