/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kubernetes identity from a cgroup path alone, as the kubelet names its
 * cgroups: the systemd cgroup driver
 *   kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
 *       cri-containerd-<id>.scope
 * (guaranteed pods directly under kubepods.slice; the uid's dashes as
 * underscores), and the cgroupfs driver
 *   kubepods/burstable/pod<uid>/<id>
 * under any prefix (a nested kubelet, kind's kubelet.slice, a container).
 * Runtimes: containerd (cri-containerd-), CRI-O (crio-, and crio-conmon- for
 * its monitor), Docker (docker-). Pure: no I/O.
 */
#ifndef __CGSNAP_K8S_IDENTITY_H
#define __CGSNAP_K8S_IDENTITY_H

#include <stdbool.h>

enum k8s_kind {
	K8S_NONE = 0,		/* not a pod or container cgroup */
	K8S_POD,
	K8S_CONTAINER,		/* a container of the pod (its sandbox included) */
	K8S_CONMON,		/* CRI-O's container monitor, beside its container */
};

struct k8s_identity {
	enum k8s_kind kind;
	const char *qos;	/* "guaranteed", "burstable", "besteffort" */
	char pod_uid[37];	/* with dashes, as the API has it */
	char container_id[65];	/* K8S_CONTAINER, K8S_CONMON: the runtime's id */
	const char *runtime;	/* "containerd", "cri-o", "docker", or "" (cgroupfs
				 * driver: the path does not say) */
};

/* Fill @out from cgroup path @path ("/"-separated, leading "/" optional);
 * returns out->kind. */
enum k8s_kind k8s_identify(const char *path, struct k8s_identity *out);

const char *k8s_kind_name(enum k8s_kind kind);

#endif /* __CGSNAP_K8S_IDENTITY_H */
