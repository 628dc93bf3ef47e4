// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Kubernetes identity from cgroup paths, over the shapes the kubelet and the
 * container runtimes make (and some that must not match). Pure. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>

#include "httpd.h"
#include "identity.h"
#include "k8sview.h"

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

/* the kubelet's pod list (k8s/pods.c) */

#define POD(uid, ns, name, owner, hash, statuses)					\
	"{\"metadata\":{\"uid\":\"" uid "\",\"namespace\":\"" ns "\",\"name\":\"" name "\","	\
	"\"labels\":{\"app\":\"" name "\"" hash "}" owner "},\"status\":{\"qosClass\":"	\
	"\"Burstable\"" statuses "}}"
#define OWNER(kind, name)								\
	",\"ownerReferences\":[{\"kind\":\"Other\",\"name\":\"x\"},{\"kind\":\"" kind	\
	"\",\"name\":\"" name "\",\"controller\":true}]"
#define HASH(h) ",\"pod-template-hash\":\"" h "\""

static const char podlist[] = "{\"kind\":\"PodList\",\"items\":["
	POD("00000000-0000-4000-8000-000000000005", "shop", "web-5d9c7b6f4-abcde",
	    OWNER("ReplicaSet", "web-5d9c7b6f4"), HASH("5d9c7b6f4"),
	    ",\"containerStatuses\":[{\"name\":\"app\",\"containerID\":\"containerd://" CID "\"},"
	    "{\"name\":\"waiting\"}],\"initContainerStatuses\":[{\"name\":\"init\","
	    "\"containerID\":\"cri-o://abc\"}]") ","
	POD("00000000-0000-4000-8000-000000000004", "shop", "db-0", OWNER("StatefulSet", "db"), "",
	    "") ","
	POD("00000000-0000-4000-8000-000000000003", "kube-system", "fluentd-x7k2p",
	    OWNER("DaemonSet", "fluentd"), "", "") ","
	POD("00000000-0000-4000-8000-000000000002", "batch", "backup-29012345-q8w2z",
	    OWNER("Job", "backup-29012345"), "", "") ","
	POD("00000000-0000-4000-8000-000000000001", "batch", "migrate-v2-7xk9t",
	    OWNER("Job", "migrate-v2"), "", "") ","
	POD("00000000-0000-4000-8000-000000000000", "default", "debug", "", "", "") ","
	/* a ReplicaSet of no Deployment: no pod-template-hash */
	POD("00000000-0000-4000-8000-000000000006", "shop", "legacy-abcde",
	    OWNER("ReplicaSet", "legacy"), "", "") ","
	/* no UID: left out */
	"{\"metadata\":{\"namespace\":\"x\",\"name\":\"y\"}}"
	"]}";

static struct k8s_podlist *parsed(struct k8s_label_keys *lk)
{
	struct k8s_podlist *l;
	char err[256];

	cr_assert(eq(int, k8s_podlist_parse(podlist, strlen(podlist), lk, 0, &l, NULL, err,
					    sizeof(err)), 0),
		  "%s", err);
	return l;
}

Test(k8s, podlist_workloads_from_owners)
{
	static const struct {
		const char *uid_tail, *ns, *name, *kind, *workload;
	} want[] = {
		{ "5", "shop", "web-5d9c7b6f4-abcde", "Deployment", "web" },
		{ "4", "shop", "db-0", "StatefulSet", "db" },
		{ "3", "kube-system", "fluentd-x7k2p", "DaemonSet", "fluentd" },
		{ "2", "batch", "backup-29012345-q8w2z", "CronJob", "backup" },
		{ "1", "batch", "migrate-v2-7xk9t", "Job", "migrate-v2" },
		{ "0", "default", "debug", "Pod", "debug" },
		{ "6", "shop", "legacy-abcde", "ReplicaSet", "legacy" },
	};
	struct k8s_podlist *l = parsed(NULL);
	char uid[64];

	cr_assert(eq(uint, l->n, 7), "the pod without a UID is left out");
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct k8s_pod *p;

		snprintf(uid, sizeof(uid), "00000000-0000-4000-8000-00000000000%s", want[i].uid_tail);
		p = k8s_podlist_find(l, uid);
		cr_assert(ne(ptr, (void *)p, NULL), "%s", uid);
		cr_assert(eq(str, p->ns, (char *)want[i].ns));
		cr_assert(eq(str, p->name, (char *)want[i].name));
		cr_assert(eq(str, p->workload_kind, (char *)want[i].kind), "%s", p->name);
		cr_assert(eq(str, p->workload, (char *)want[i].workload), "%s", p->name);
		cr_assert(eq(str, p->qos, "burstable"));
	}
	cr_assert(eq(ptr, (void *)k8s_podlist_find(l, "00000000-0000-4000-8000-000000000009"),
		     NULL));
	k8s_podlist_put(l);
}

Test(k8s, podlist_containers_and_labels)
{
	struct k8s_label_keys lk = {};
	struct k8s_podlist *l;
	const struct k8s_pod *p;
	struct k8s_names nm;
	char path[512];

	cr_assert(eq(int, k8s_label_keys_add(&lk, "app"), 0));
	cr_assert(eq(int, k8s_label_keys_add(&lk, "app.kubernetes.io/part-of"), 0));
	cr_assert(eq(str, lk.names[1], "label_app_kubernetes_io_part_of"));
	l = parsed(&lk);
	p = k8s_podlist_find(l, "00000000-0000-4000-8000-000000000005");
	cr_assert(eq(str, p->labels[0], "web-5d9c7b6f4-abcde"));
	cr_assert(eq(ptr, p->labels[1], NULL), "an absent label is NULL");
	/* started containers only, init containers too, the runtime prefix cut */
	cr_assert(eq(uint, p->nr_containers, 2));
	cr_assert(eq(str, (char *)k8s_pod_container(p, CID), "app"));
	cr_assert(eq(str, (char *)k8s_pod_container(p, "abc"), "init"));
	cr_assert(eq(ptr, (void *)k8s_pod_container(p, "def"), NULL));

	snprintf(path, sizeof(path), "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
		 "pod00000000_0000_4000_8000_000000000005.slice/cri-containerd-%s.scope", CID);
	k8s_resolve(l, path, &nm);
	cr_assert(eq(ptr, (void *)nm.pod, (void *)p));
	cr_assert(eq(str, (char *)nm.container, "app"));
	*strrchr(path, '/') = '\0';
	k8s_resolve(l, path, &nm);
	cr_assert(eq(int, nm.id.kind, K8S_POD));
	cr_assert(eq(str, (char *)nm.container, ""));
	k8s_resolve(l, "system.slice/ssh.service", &nm);
	cr_assert(eq(int, nm.id.kind, K8S_NONE));
	cr_assert(eq(ptr, (void *)nm.pod, NULL));
	/* a list that does not have the pod: path identity only */
	k8s_resolve(NULL, path, &nm);
	cr_assert(eq(int, nm.id.kind, K8S_POD));
	cr_assert(eq(ptr, (void *)nm.pod, NULL));
	k8s_podlist_put(l);
	k8s_label_keys_free(&lk);
}

Test(k8s, podlist_rejects_what_is_not_one)
{
	static const char *const bad[] = { "", "[]", "{\"items\": 3}", "{\"items\": [", "null" };
	struct k8s_podlist *l;
	char err[256];

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert(eq(int, k8s_podlist_parse(bad[i], strlen(bad[i]), NULL, 0, &l, NULL, err,
						    sizeof(err)), -EINVAL), "%s", bad[i]);
		cr_assert(eq(ptr, l, NULL));
		cr_assert(ne(str, err, ""), "no reason for '%s'", bad[i]);
	}
	/* an empty list is a list */
	cr_assert(eq(int, k8s_podlist_parse("{\"items\":[]}", 12, NULL, 0, &l, NULL, err,
					    sizeof(err)), 0));
	cr_assert(eq(uint, l->n, 0));
	k8s_podlist_put(l);
}

static const char *env[16];

static char *fake_getenv(const char *name)
{
	for (unsigned int i = 0; env[i]; i += 2)
		if (!strcmp(env[i], name))
			return (char *)env[i + 1];
	return NULL;
}

static void set_env(const char *const *kv)
{
	unsigned int i;

	for (i = 0; kv[i]; i++)
		env[i] = kv[i];
	env[i] = NULL;
}

Test(k8s, pod_from_the_downward_api)
{
	struct k8s_podlist *l;
	char err[256];

	set_env((const char *[]){ "POD_NAME", "web-0", "POD_NAMESPACE", "shop", "POD_UID", UID,
				  NULL });
	cr_assert(eq(int, k8s_podlist_from_env(fake_getenv, NULL, &l, err, sizeof(err)), 0), "%s",
		  err);
	cr_assert(eq(uint, l->n, 1));
	cr_assert(eq(str, l->pods[0].workload_kind, "Pod"));
	cr_assert(eq(str, l->pods[0].workload, "web-0"));
	cr_assert(ne(ptr, (void *)k8s_podlist_find(l, UID), NULL));
	k8s_podlist_put(l);

	set_env((const char *[]){ "POD_NAME", "web-0", "POD_NAMESPACE", "shop", "POD_UID", UID,
				  "WORKLOAD_KIND", "StatefulSet", "WORKLOAD_NAME", "web", NULL });
	cr_assert(eq(int, k8s_podlist_from_env(fake_getenv, NULL, &l, err, sizeof(err)), 0));
	cr_assert(eq(str, l->pods[0].workload_kind, "StatefulSet"));
	cr_assert(eq(str, l->pods[0].workload, "web"));
	k8s_podlist_put(l);

	set_env((const char *[]){ "POD_NAME", "web-0", "POD_UID", UID, NULL });
	cr_assert(eq(int, k8s_podlist_from_env(fake_getenv, NULL, &l, err, sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "POD_NAMESPACE"), NULL), "%s", err);
	set_env((const char *[]){ "POD_NAME", "web-0", "POD_NAMESPACE", "shop", "POD_UID",
				  "not-a-uid", NULL });
	cr_assert(eq(int, k8s_podlist_from_env(fake_getenv, NULL, &l, err, sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "not-a-uid"), NULL), "%s", err);
	set_env((const char *[]){ "POD_NAME", "web-0", "POD_NAMESPACE", "shop", "POD_UID", UID,
				  "WORKLOAD_KIND", "Deployment", NULL });
	cr_assert(eq(int, k8s_podlist_from_env(fake_getenv, NULL, &l, err, sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "WORKLOAD_NAME"), NULL), "%s", err);
}

/* workloads over watched cgroups (export/k8sview.c) */
Test(k8s, workload_load_is_the_largest_of_its_pods)
{
	static const char list[] = "{\"items\":["
		POD("00000000-0000-4000-8000-00000000000a", "shop", "web-5d9c7b6f4-aaaaa",
		    OWNER("ReplicaSet", "web-5d9c7b6f4"), HASH("5d9c7b6f4"), "") ","
		POD("00000000-0000-4000-8000-00000000000b", "shop", "web-5d9c7b6f4-bbbbb",
		    OWNER("ReplicaSet", "web-5d9c7b6f4"), HASH("5d9c7b6f4"), "") ","
		POD("00000000-0000-4000-8000-00000000000c", "shop", "db-0",
		    OWNER("StatefulSet", "db"), "", "") "]}";
	struct k8s_label_keys lk = {};
	struct agent_cgroup cg[4] = {};
	const struct k8s_workload *w;
	struct k8s_podlist *l;
	struct k8s_pods *pods;
	struct k8s_view v;
	char err[128];

	cg[0].path = "kubepods/burstable/pod00000000-0000-4000-8000-00000000000a";
	cg[1].path = "kubepods/burstable/pod00000000-0000-4000-8000-00000000000b";
	cg[2].path = "kubepods/besteffort/pod00000000-0000-4000-8000-00000000000c/" CID;
	cg[3].path = "system.slice";
	for (int i = 0; i < 4; i++) {
		cg[i].active = true;
		cg[i].historical.idle = true;
		for (int k = 0; k < CGSNAP_KIND_COUNT; k++)
			cg[i].historical.kind[k].limit_ratio = 0.4;
	}
	/* pod a: runq at 0.6 of 0.4 (load 1.5), pod b at 0.2 (0.5), db idle */
	cg[0].historical.kind[CGSNAP_KIND_RUNQ].actual_ratio = 0.6;
	cg[0].historical.kind[CGSNAP_KIND_RUNQ].overloaded = true;
	cg[0].historical.idle = false;
	cg[1].historical.kind[CGSNAP_KIND_CPU].actual_ratio = 0.2;

	pods = k8s_pods_new(&lk);
	cr_assert(eq(int, k8s_podlist_parse(list, strlen(list), &lk, 0, &l, NULL, err,
					    sizeof(err)), 0));
	k8s_pods_set(pods, l);
	cr_assert(eq(int, k8s_view_build(&v, pods, cg, 4), 0));
	cr_assert(eq(uint, v.nr_pods, 3));
	cr_assert(eq(uint, v.nr_workloads, 2));
	w = k8s_view_workload(&v, "shop", "deployment", "web");
	cr_assert(ne(ptr, (void *)w, NULL), "the kind is matched case-insensitively");
	cr_assert(eq(uint, w->n, 2));
	cr_assert(ieee_ulp_eq(dbl, w->load, 1.5, 4), "%g", w->load);
	cr_assert(ieee_ulp_eq(dbl, w->load_mean, 1.0, 4), "%g", w->load_mean);
	cr_assert(not(w->idle));
	cr_assert(w->overloaded[CGSNAP_KIND_RUNQ]);
	cr_assert(not(w->overloaded[CGSNAP_KIND_CPU]));
	w = k8s_view_workload(&v, "shop", "StatefulSet", "db");
	cr_assert(eq(dbl, w->load, 0));
	cr_assert(w->idle);
	cr_assert(eq(int, v.pods[w->first].cgroup, -1), "db's pod cgroup is not watched");
	cr_assert(eq(ptr, (void *)k8s_view_workload(&v, "shop", "Deployment", "db"), NULL));
	cr_assert(eq(ptr, (void *)k8s_view_workload(&v, "other", "Deployment", "web"), NULL));
	cr_assert(ne(ptr, (void *)k8s_view_pod(&v, "shop", "web-5d9c7b6f4-bbbbb"), NULL));
	k8s_view_free(&v);
	k8s_pods_free(pods);
}

/* the routes of /v1/pods and /v1/workloads (export/http.c) */
Test(k8s, routes)
{
	char ref[256];

	cr_assert(ge(int, http_match("/v1/pods/shop/web-0/status", ref, sizeof(ref)), 0));
	cr_assert(eq(str, ref, "shop/web-0"));
	cr_assert(ge(int, http_match("/v1/workloads/shop/Deployment/web/scale", ref, sizeof(ref)),
		     0));
	cr_assert(eq(str, ref, "shop/Deployment/web"));
	cr_assert(ge(int, http_match("/v1/pods", ref, sizeof(ref)), 0));
	cr_assert(ge(int, http_match("/v1/workloads", ref, sizeof(ref)), 0));
	cr_assert(eq(int, http_match("/v1/pods/shop/status", ref, sizeof(ref)), -2));
	cr_assert(eq(int, http_match("/v1/pods/shop//status", ref, sizeof(ref)), -2));
	cr_assert(eq(int, http_match("/v1/pods//web/status", ref, sizeof(ref)), -2));
	cr_assert(eq(int, http_match("/v1/pods/a/b/c/status", ref, sizeof(ref)), -2));
	cr_assert(eq(int, http_match("/v1/workloads/shop/web/scale", ref, sizeof(ref)), -2));
	cr_assert(eq(int, http_match("/v1/workloads/shop/Deployment/web/status", ref, sizeof(ref)),
		     -2));
	/* cgroup paths keep their slashes */
	cr_assert(ge(int, http_match("/v1/cgroups/a/b/c/status", ref, sizeof(ref)), 0));
	cr_assert(eq(str, ref, "a/b/c"));
}
