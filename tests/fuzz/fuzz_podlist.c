// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer: whatever a kubelet (or something in its place) answers to
 * GET /pods: a list or an error, never a crash; every pod of a list has a
 * UID in the API's form, names, a workload, and can be found by its UID. */
#include <string.h>

#include "pods.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct k8s_label_keys lk;
	struct k8s_podlist *l;
	struct k8s_names nm;
	char err[256];

	if (!lk.n && (k8s_label_keys_add(&lk, "app") || k8s_label_keys_add(&lk, "a.b/c")))
		return 0;
	if (k8s_podlist_parse((const char *)data, size, &lk, &l, err, sizeof(err)))
		return 0;
	for (unsigned int i = 0; i < l->n; i++) {
		const struct k8s_pod *p = &l->pods[i];

		if (strlen(p->uid) != 36 || !p->ns || !p->name || !p->workload_kind ||
		    !*p->workload_kind || !p->workload || k8s_podlist_find(l, p->uid) == NULL)
			__builtin_trap();
		for (unsigned int c = 0; c < p->nr_containers; c++)
			if (k8s_pod_container(p, p->containers[c].id) == NULL)
				__builtin_trap();
	}
	k8s_resolve(l, "kubepods/pod00000000-0000-4000-8000-000000000001", &nm);
	k8s_podlist_put(l);
	return 0;
}
