// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap run on Kubernetes without a kubelet: identity from cgroup paths alone. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "runlib.h"
#include "testlib.h"

/* the kubelet's layout under a prefix: /v1/cgroups says which is a pod and
 * which a container, with the pod's UID, QoS class and the container runtime */
Test(run, kubernetes_identity_from_cgroup_paths)
{
	static const char uid_[] = "3f2a9c1e_8b7d_4e6f_a5b4_0c1d2e3f4a5b";
	static const char cid[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
	char pod[600], ctr[800], full[1600], args[700];
	const char *parent;
	json_t *list, *v, *k;
	uint64_t id;
	size_t i;
	int found = 0;

	parent = testlib_cgroup("k8s", &id);
	snprintf(pod, sizeof(pod), "%s/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod%s.slice", parent, uid_);
	snprintf(ctr, sizeof(ctr), "%s/cri-containerd-%s.scope", pod, cid);
	snprintf(full, sizeof(full), "mkdir -p %s/%s", testlib_v2_root(), ctr);
	cr_assert(eq(int, run_cmd(full), 0));
	snprintf(args, sizeof(args), "--all %s", parent);
	start_daemon(args);
	list = get_json("/v1/cgroups");
	json_array_foreach(json_object_get(list, "cgroups"), i, v) {
		const char *path = json_string_value(json_object_get(v, "path"));

		k = json_object_get(v, "k8s");
		if (!strcmp(path + 1, pod)) {
			cr_assert(ne(ptr, k, NULL), "the pod has no k8s object");
			cr_assert(eq(str, (char *)json_string_value(json_object_get(k, "kind")), "pod"));
			cr_assert(eq(str, (char *)json_string_value(json_object_get(k, "pod_uid")),
				     "3f2a9c1e-8b7d-4e6f-a5b4-0c1d2e3f4a5b"));
			cr_assert(eq(str, (char *)json_string_value(json_object_get(k, "qos")),
				     "burstable"));
			found++;
		} else if (!strcmp(path + 1, ctr)) {
			cr_assert(ne(ptr, k, NULL), "the container has no k8s object");
			cr_assert(eq(str, (char *)json_string_value(json_object_get(k, "kind")),
				     "container"));
			cr_assert(eq(str, (char *)json_string_value(
					     json_object_get(k, "container_id")), (char *)cid));
			cr_assert(eq(str, (char *)json_string_value(json_object_get(k, "runtime")),
				     "containerd"));
			found++;
		} else {
			cr_assert(eq(ptr, k, NULL), "%s is not a pod or container", path);
		}
	}
	json_decref(list);
	cr_assert(eq(int, found, 2));
}
