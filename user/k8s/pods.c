// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pods.h"

int k8s_label_keys_add(struct k8s_label_keys *lk, const char *key)
{
	char **keys, **names, *name;
	size_t i, l = strlen(key);

	if (!l || l > 316)	/* a 253-byte prefix, "/", a 63-byte name */
		return -EINVAL;
	keys = realloc(lk->keys, (lk->n + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	lk->keys = keys;
	names = realloc(lk->names, (lk->n + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	lk->names = names;
	/* as kube-state-metrics names them: label_ + the key, [^a-zA-Z0-9_] as _ */
	name = malloc(strlen("label_") + l + 1);
	keys[lk->n] = strdup(key);
	if (!name || !keys[lk->n]) {
		free(name);
		free(keys[lk->n]);
		return -ENOMEM;
	}
	strcpy(name, "label_");
	for (i = 0; i <= l; i++)
		name[6 + i] = isalnum((unsigned char)key[i]) || !key[i] ? key[i] : '_';
	names[lk->n++] = name;
	return 0;
}

void k8s_label_keys_free(struct k8s_label_keys *lk)
{
	while (lk->n) {
		lk->n--;
		free(lk->keys[lk->n]);
		free(lk->names[lk->n]);
	}
	free(lk->keys);
	free(lk->names);
	lk->keys = lk->names = NULL;
}

static void pod_fini(struct k8s_pod *p, unsigned int nr_labels)
{
	unsigned int i;

	free(p->ns);
	free(p->name);
	free(p->qos);
	free(p->workload_kind);
	free(p->workload);
	for (i = 0; p->labels && i < nr_labels; i++)
		free(p->labels[i]);
	free(p->labels);
	for (i = 0; i < p->nr_containers; i++) {
		free(p->containers[i].id);
		free(p->containers[i].name);
	}
	free(p->containers);
}

static int by_uid(const void *a, const void *b)
{
	return strcmp(((const struct k8s_pod *)a)->uid, ((const struct k8s_pod *)b)->uid);
}

/* the labels' count travels with the list: the pods' arrays have that size */
struct podlist_priv {
	struct k8s_podlist pub;
	unsigned int nr_labels;
	unsigned int cap;	/* pods allocated */
};

struct k8s_podlist *k8s_podlist_new(unsigned int nr_labels)
{
	struct podlist_priv *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->pub.refs = 1;
	l->nr_labels = nr_labels;
	return &l->pub;
}

struct k8s_pod *k8s_podlist_add(struct k8s_podlist *l)
{
	struct podlist_priv *priv = (struct podlist_priv *)l;
	struct k8s_pod *pods, *p;

	if (l->n == priv->cap) {
		unsigned int cap = priv->cap ? 2 * priv->cap : 16;

		pods = realloc(l->pods, cap * sizeof(*pods));
		if (!pods)
			return NULL;
		l->pods = pods;
		priv->cap = cap;
	}
	p = &l->pods[l->n];
	memset(p, 0, sizeof(*p));
	p->labels = calloc(priv->nr_labels ? priv->nr_labels : 1, sizeof(*p->labels));
	if (!p->labels)
		return NULL;
	l->n++;		/* from here on k8s_podlist_put() frees what it holds */
	return p;
}

void k8s_podlist_seal(struct k8s_podlist *l)
{
	if (l->n)
		qsort(l->pods, l->n, sizeof(*l->pods), by_uid);
}

struct k8s_podlist *k8s_podlist_get(struct k8s_podlist *l)
{
	if (l)
		__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

void k8s_podlist_put(struct k8s_podlist *l)
{
	struct podlist_priv *priv = (struct podlist_priv *)l;
	unsigned int i;

	if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (i = 0; i < l->n; i++)
		pod_fini(&l->pods[i], priv->nr_labels);
	free(l->pods);
	free(priv);
}

const struct k8s_pod *k8s_podlist_find(const struct k8s_podlist *l, const char *uid)
{
	struct k8s_pod key;

	if (!l || !l->n || strlen(uid) >= sizeof(key.uid))
		return NULL;
	strcpy(key.uid, uid);
	return bsearch(&key, l->pods, l->n, sizeof(key), by_uid);
}

const char *k8s_pod_container(const struct k8s_pod *pod, const char *id)
{
	unsigned int i;

	for (i = 0; pod && i < pod->nr_containers; i++)
		if (!strcmp(pod->containers[i].id, id))
			return pod->containers[i].name;
	return NULL;
}

/* <base>-<suffix>: the length of base when the name ends so, else 0 */
static size_t base_before(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (!s || n <= s + 1 || name[n - s - 1] != '-' || strcmp(name + n - s, suffix))
		return 0;
	return n - s - 1;
}

void k8s_workload_of(const char *pod_name, const char *owner_kind, const char *owner_name,
		     const char *hash, const char **kind, const char **name, char *buf,
		     size_t len)
{
	size_t n, d;

	if (!owner_kind || !owner_name || !*owner_kind || !*owner_name) {
		*kind = "Pod";
		*name = pod_name;
		return;
	}
	*kind = owner_kind;
	*name = owner_name;
	if (!strcmp(owner_kind, "ReplicaSet") && hash) {
		n = base_before(owner_name, hash);
		if (n && n < len) {
			snprintf(buf, len, "%.*s", (int)n, owner_name);
			*kind = "Deployment";
			*name = buf;
		}
	} else if (!strcmp(owner_kind, "Job")) {
		n = strlen(owner_name);
		for (d = 0; d < n && isdigit((unsigned char)owner_name[n - 1 - d]); d++)
			;
		if (d >= 8 && d < n - 1 && owner_name[n - 1 - d] == '-' && n - 1 - d < len) {
			snprintf(buf, len, "%.*s", (int)(n - 1 - d), owner_name);
			*kind = "CronJob";
			*name = buf;
		}
	}
}

const char *k8s_runtime_id(const char *s)
{
	const char *p = strstr(s, "://");

	return p ? p + 3 : s;
}

int k8s_podlist_from_env(char *(*get)(const char *), const struct k8s_label_keys *lk,
			 struct k8s_podlist **out, char *err, size_t errlen)
{
	static const char *const required[] = { "POD_NAME", "POD_NAMESPACE", "POD_UID" };
	const char *kind = get("WORKLOAD_KIND"), *wname = get("WORKLOAD_NAME");
	struct k8s_identity id;
	struct k8s_podlist *l;
	struct k8s_pod *p;
	char path[64];
	unsigned int i;

	*out = NULL;
	for (i = 0; i < 3; i++)
		if (!get(required[i]) || !*get(required[i])) {
			snprintf(err, errlen, "--pod-from-env: %s is not set (give it from the "
				 "downward API: fieldRef metadata.%s)", required[i],
				 i == 0 ? "name" : i == 1 ? "namespace" : "uid");
			return -EINVAL;
		}
	/* a UID as the path would carry it */
	snprintf(path, sizeof(path), "kubepods/pod%s", get("POD_UID"));
	if (k8s_identify(path, &id) != K8S_POD) {
		snprintf(err, errlen, "--pod-from-env: POD_UID '%s' is not a pod UID", get("POD_UID"));
		return -EINVAL;
	}
	if (!kind != !wname || (kind && (!*kind || !*wname))) {
		snprintf(err, errlen, "--pod-from-env: WORKLOAD_KIND and WORKLOAD_NAME go together");
		return -EINVAL;
	}
	l = k8s_podlist_new(lk ? lk->n : 0);
	p = l ? k8s_podlist_add(l) : NULL;
	if (!p) {
		k8s_podlist_put(l);
		return -ENOMEM;
	}
	strcpy(p->uid, id.pod_uid);
	p->ns = strdup(get("POD_NAMESPACE"));
	p->name = strdup(get("POD_NAME"));
	p->qos = strdup("");
	p->workload_kind = strdup(kind ? kind : "Pod");
	p->workload = strdup(wname ? wname : get("POD_NAME"));
	if (!p->ns || !p->name || !p->qos || !p->workload_kind || !p->workload) {
		k8s_podlist_put(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

void k8s_resolve(const struct k8s_podlist *l, const char *path, struct k8s_names *out)
{
	const char *c;

	out->pod = NULL;
	out->container = "";
	if (k8s_identify(path, &out->id) == K8S_NONE)
		return;
	out->pod = k8s_podlist_find(l, out->id.pod_uid);
	if (out->id.kind != K8S_POD && (c = k8s_pod_container(out->pod, out->id.container_id)))
		out->container = c;
}

struct k8s_pods {
	pthread_mutex_t lock;
	struct k8s_podlist *list;
	const struct k8s_label_keys *lk;
};

struct k8s_pods *k8s_pods_new(const struct k8s_label_keys *lk)
{
	struct k8s_pods *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->lk = lk;
	return p;
}

void k8s_pods_free(struct k8s_pods *p)
{
	if (!p)
		return;
	k8s_podlist_put(p->list);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void k8s_pods_set(struct k8s_pods *p, struct k8s_podlist *l)
{
	struct k8s_podlist *old;

	pthread_mutex_lock(&p->lock);
	old = p->list;
	p->list = l;
	pthread_mutex_unlock(&p->lock);
	k8s_podlist_put(old);
}

struct k8s_podlist *k8s_pods_get(struct k8s_pods *p)
{
	struct k8s_podlist *l;

	if (!p)
		return NULL;
	pthread_mutex_lock(&p->lock);
	l = k8s_podlist_get(p->list);
	pthread_mutex_unlock(&p->lock);
	return l;
}

const struct k8s_label_keys *k8s_pods_label_keys(const struct k8s_pods *p)
{
	return p ? p->lk : NULL;
}

bool k8s_pods_has(struct k8s_pods *p, const char *uid)
{
	bool has;

	pthread_mutex_lock(&p->lock);
	has = k8s_podlist_find(p->list, uid);
	pthread_mutex_unlock(&p->lock);
	return has;
}
