// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: whatever a kubelet (or something in its place) answers to
 * GET /pods: a list or an error, never a crash; every pod of a list has a
 * UID in the API's form, names, a workload, and can be found by its UID;
 * and the answer in two pieces, split anywhere, gives the same. */
#include <string.h>

#include "pods.h"

static int parse_split(const char *data, size_t size, size_t at, const struct k8s_label_keys *lk,
		       struct k8s_podlist **l)
{
	struct k8s_podlist_parser *p = k8s_podlist_parser_new(lk, 8);
	char err[256];
	int ret;

	if (!p)
		return -1;
	k8s_podlist_parser_feed(p, data, at);
	k8s_podlist_parser_feed(p, data + at, size - at);
	ret = k8s_podlist_parser_end(p, l, NULL, err, sizeof(err));
	k8s_podlist_parser_free(p);
	return ret;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct k8s_label_keys lk;
	struct k8s_podlist *l, *split;
	struct k8s_names nm;
	char err[256];
	int ret;

	if (!lk.n && (k8s_label_keys_add(&lk, "app") || k8s_label_keys_add(&lk, "a.b/c")))
		return 0;
	ret = k8s_podlist_parse((const char *)data, size, &lk, 8, &l, NULL, err, sizeof(err));
	if (parse_split((const char *)data, size, size ? data[0] % size : 0, &lk, &split) != ret)
		__builtin_trap();
	if (ret)
		return 0;
	if (split->n != l->n)
		__builtin_trap();
	for (unsigned int i = 0; i < l->n; i++) {
		const struct k8s_pod *p = &l->pods[i];

		if (strlen(p->uid) != 36 || !p->ns || !p->name || !p->workload_kind ||
		    !*p->workload_kind || !p->workload || k8s_podlist_find(l, p->uid) == NULL ||
		    strcmp(p->name, split->pods[i].name))
			__builtin_trap();
		for (unsigned int c = 0; c < p->nr_containers; c++)
			if (k8s_pod_container(p, p->containers[c].id) == NULL)
				__builtin_trap();
	}
	k8s_resolve(l, "kubepods/pod00000000-0000-4000-8000-000000000001", &nm);
	k8s_podlist_put(l);
	k8s_podlist_put(split);
	return 0;
}
