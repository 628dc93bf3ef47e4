// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kubernetes identity from cgroup paths, over the shapes the kubelet and the
 * container runtimes make (and some that must not match). Pure. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "k8s.h"

#define UID "3f2a9c1e-8b7d-4e6f-a5b4-0c1d2e3f4a5b"
#define UID_ "3f2a9c1e_8b7d_4e6f_a5b4_0c1d2e3f4a5b"
#define CID "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"

static const struct {
	const char *path;
	enum k8s_kind kind;
	const char *qos, *runtime;
} cases[] = {
	/* systemd driver, containerd */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice",
	  K8S_POD, "burstable", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" CID ".scope", K8S_CONTAINER, "burstable", "containerd" },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	  ".slice/cri-containerd-" CID ".scope", K8S_CONTAINER, "besteffort", "containerd" },
	/* guaranteed pods sit directly under kubepods.slice */
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice", K8S_POD, "guaranteed", "" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	  K8S_CONTAINER, "guaranteed", "containerd" },
	/* CRI-O, its conmon beside the container; Docker (cri-dockerd) */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/crio-" CID ".scope", K8S_CONTAINER, "burstable", "cri-o" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/crio-conmon-" CID ".scope", K8S_CONMON, "burstable", "cri-o" },
	{ "/kubepods.slice/kubepods-pod" UID_ ".slice/docker-" CID ".scope",
	  K8S_CONTAINER, "guaranteed", "docker" },
	/* cgroupfs driver */
	{ "/kubepods/burstable/pod" UID, K8S_POD, "burstable", "" },
	{ "/kubepods/burstable/pod" UID "/" CID, K8S_CONTAINER, "burstable", "" },
	{ "/kubepods/besteffort/pod" UID "/" CID, K8S_CONTAINER, "besteffort", "" },
	{ "/kubepods/pod" UID "/" CID, K8S_CONTAINER, "guaranteed", "" },
	{ "kubepods/pod" UID, K8S_POD, "guaranteed", "" },
	/* under a prefix: kind (kubelet.slice, kubelet-kubepods), a nested kubelet */
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" CID ".scope",
	  K8S_CONTAINER, "besteffort", "containerd" },
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_ ".slice",
	  K8S_POD, "guaranteed", "" },
	{ "/system.slice/docker-" CID ".scope/kubepods/burstable/pod" UID "/" CID,
	  K8S_CONTAINER, "burstable", "" },
	/* must not match */
	{ "/kubepods.slice", K8S_NONE, "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice", K8S_NONE, "", "" },
	{ "/kubepods/burstable", K8S_NONE, "", "" },
	{ "/system.slice/containerd.service", K8S_NONE, "", "" },
	{ "/system.slice/docker-" CID ".scope", K8S_NONE, "", "" },
	{ "/user.slice/user-1000.slice/session-2.scope", K8S_NONE, "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f2a.slice",
	  K8S_NONE, "", "" },
	/* the uid's separators are the driver's: underscores under systemd */
	{ "/kubepods.slice/kubepods-pod" UID ".slice", K8S_NONE, "", "" },
	{ "/kubepods/pod" UID_, K8S_NONE, "", "" },
	/* a QoS slice of another root, a short or upper-case id, below a container */
	{ "/kubepods.slice/other-burstable.slice/other-burstable-pod" UID_ ".slice",
	  K8S_NONE, "", "" },
	{ "/kubepods/burstable/pod" UID "/a1b2c3", K8S_NONE, "", "" },
	{ "/kubepods/burstable/pod" UID "/A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90",
	  K8S_NONE, "", "" },
	{ "/kubepods/burstable/pod" UID "/" CID "/init.scope", K8S_NONE, "", "" },
	{ "/mykubepods.slice/mykubepods-pod" UID_ ".slice", K8S_NONE, "", "" },
	{ "", K8S_NONE, "", "" },
};

Test(k8s, path_shapes)
{
	struct k8s_identity id;
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum k8s_kind k = k8s_identify(cases[i].path, &id);

		cr_assert(eq(int, k, cases[i].kind), "%s: %s, expected %s", cases[i].path,
			  k8s_kind_name(k), k8s_kind_name(cases[i].kind));
		cr_assert(eq(int, id.kind, k));
		cr_assert(eq(str, (char *)id.qos, (char *)cases[i].qos), "%s", cases[i].path);
		cr_assert(eq(str, (char *)id.runtime, (char *)cases[i].runtime), "%s",
			  cases[i].path);
		if (k == K8S_NONE) {
			cr_assert(eq(str, id.pod_uid, ""));
			continue;
		}
		/* the API's form of the uid, whatever the driver wrote */
		cr_assert(eq(str, id.pod_uid, UID), "%s", cases[i].path);
		cr_assert(eq(str, id.container_id, k == K8S_POD ? "" : CID), "%s", cases[i].path);
	}
}
