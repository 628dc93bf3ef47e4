// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap run on Kubernetes end to end: names from a stand-in kubelet
 * (kubelet_stub.c) over HTTP and HTTPS, the downward API's sidecar, hostile
 * pod lists (identity from paths alone: test_run_k8s_paths.c).
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "accum.h"
#include "kubelet_stub.h"
#include "snapshotter.h"
#include "runlib.h"
#include "testlib.h"

/*
 * Kubernetes end to end: cgroups shaped as a kubelet makes them, with both
 * cgroup drivers, a stand-in kubelet serving their PodList (kubelet_stub.c),
 * and cgsnap naming them from it.
 */
#define WEB_UID "6b1f2e3d-4c5b-4a69-8877-665544332211"
#define WEB_UID_ "6b1f2e3d_4c5b_4a69_8877_665544332211"
#define DB_UID "0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9"
#define LOST_UID_ "99999999_8888_4777_8666_555555555555"
#define WEB_CID "1111111111111111111111111111111111111111111111111111111111111111"
#define DB_CID "2222222222222222222222222222222222222222222222222222222222222222"
#define LOST_CID "3333333333333333333333333333333333333333333333333333333333333333"

static struct kubelet_stub *kstub;
static char k8s_web[700], k8s_db[700], k8s_lost[700], k8s_dir[256];

/* the kubelet's tree under a test cgroup: a Deployment's pod (systemd
 * driver, containerd), a StatefulSet's pod (cgroupfs driver), and a pod the
 * kubelet's list will not have */
static const char *kubelet_tree(void)
{
	const char *parent;
	char cmd[4096];
	uint64_t id;

	parent = testlib_cgroup("k8s", &id);
	snprintf(k8s_web, sizeof(k8s_web), "%s/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod" WEB_UID_ ".slice/cri-containerd-" WEB_CID ".scope",
		 parent);
	snprintf(k8s_db, sizeof(k8s_db), "%s/kubepods/besteffort/pod" DB_UID "/" DB_CID, parent);
	snprintf(k8s_lost, sizeof(k8s_lost), "%s/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod" LOST_UID_ ".slice/cri-containerd-" LOST_CID ".scope",
		 parent);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s %s/%s %s/%s", testlib_v2_root(), k8s_web,
		 testlib_v2_root(), k8s_db, testlib_v2_root(), k8s_lost);
	cr_assert(eq(int, run_cmd(cmd), 0));
	return parent;
}

static char *podlist_json(void)
{
	json_t *l = json_pack(
		"{s:s,s:s,s:[{s:{s:s,s:s,s:s,s:{s:s,s:s},s:[{s:s,s:s,s:s,s:b}]},"
		"s:{s:s,s:[{s:s,s:s}]}},"
		"{s:{s:s,s:s,s:s,s:{s:s},s:[{s:s,s:s,s:s,s:b}]},"
		"s:{s:s,s:[{s:s,s:s}]}}]}",
		"kind", "PodList", "apiVersion", "v1", "items",
		"metadata", "name", "web-7d4b9c8f5-x2x9q", "namespace", "shop", "uid", WEB_UID,
		"labels", "app", "web", "pod-template-hash", "7d4b9c8f5",
		"ownerReferences", "apiVersion", "apps/v1", "kind", "ReplicaSet",
		"name", "web-7d4b9c8f5", "controller", 1,
		"status", "qosClass", "Burstable", "containerStatuses",
		"name", "app", "containerID", "containerd://" WEB_CID,
		"metadata", "name", "db-0", "namespace", "shop", "uid", DB_UID,
		"labels", "app", "db",
		"ownerReferences", "apiVersion", "apps/v1", "kind", "StatefulSet",
		"name", "db", "controller", 1,
		"status", "qosClass", "BestEffort", "containerStatuses",
		"name", "postgres", "containerID", "containerd://" DB_CID);
	char *s;

	cr_assert(ne(ptr, l, NULL));
	s = json_dumps(l, 0);
	json_decref(l);
	return s;
}

/* the stand-in kubelet's certificate and key, made now in k8s_dir (removed
 * by k8s_teardown): self-signed for 127.0.0.1 */
static void kubelet_cert(char cert[300], char key[300])
{
	char cmd[2048];

	snprintf(k8s_dir, sizeof(k8s_dir), "/tmp/cgsnap-test-kubelet-%d", getpid());
	snprintf(cert, 300, "%s/kubelet.crt", k8s_dir);
	snprintf(key, 300, "%s/kubelet.key", k8s_dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
		 "subjectAltName=IP:127.0.0.1 -keyout %s -out %s 2>/dev/null", k8s_dir, key, cert);
	cr_assert(eq(int, run_cmd(cmd), 0), "openssl cannot make a certificate");
}

static void write_token(const char *path, const char *token)
{
	FILE *f = fopen(path, "w");

	cr_assert(ne(ptr, f, NULL), "cannot write %s", path);
	fprintf(f, "%s\n", token);
	fclose(f);
}

static void k8s_teardown(void)
{
	kubelet_stub_stop(kstub);
	kstub = NULL;
	teardown();
	rm_rf(k8s_dir);
	k8s_dir[0] = '\0';
}


static json_t *k8s_of(const char *rel)
{
	json_t *list = get_json("/v1/cgroups"), *v, *k = NULL;
	size_t i;

	json_array_foreach(json_object_get(list, "cgroups"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "path")) + 1, rel))
			k = json_incref(json_object_get(v, "k8s"));
	json_decref(list);
	cr_assert(ne(ptr, k, NULL), "%s is not listed with a k8s object", rel);
	return k;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "(none)";
}

static double workload_load(const char *path)
{
	json_t *o = get_json(path);
	double load = json_number_value(json_object_get(o, "load"));

	json_decref(o);
	return load;
}

Test(run, kubernetes_names_from_a_kubelet_over_https, .fini = k8s_teardown, .timeout = 180)
{
	char args[2048], cmd[2048], cert[300], key[300], token[300], *pods;
	const char *parent;
	json_t *k, *o;
	double load = 0;
	int i, kport;

	parent = kubelet_tree();
	kubelet_cert(cert, key);
	snprintf(token, sizeof(token), "%s/token", k8s_dir);
	write_token(token, "s3cret-token");
	pods = podlist_json();
	kstub = kubelet_stub_start(0, cert, key, "s3cret-token", pods);
	kport = kubelet_stub_port(kstub);

	/* the web pod's container is busy: 8 hogs on 2 CPUs wait far beyond 5 ms */
	snprintf(args, sizeof(args), "--all %s --kubelet-url https://127.0.0.1:%d "
		 "--kubelet-ca-file %s --kubelet-token-file %s --kubelet-interval 1s "
		 "--pod-label app --max-runq-delay 5ms --max-used-cpu-ratio 0.3", parent, kport,
		 cert, token);
	start_daemon(args);
	char *const stress[] = { "stress-ng", "--cpu", "8", "--timeout", "100s", "--quiet", NULL };
	testlib_spawn(k8s_web, stress);
	cr_assert(wait_log("kubelet: 2 pods on this node", 15), "no pod list from the kubelet");

	/* names on the API */
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "namespace"), "shop"));
	cr_assert(eq(str, (char *)jstr(k, "pod"), "web-7d4b9c8f5-x2x9q"));
	cr_assert(eq(str, (char *)jstr(k, "container"), "app"));
	cr_assert(eq(str, (char *)jstr(k, "workload_kind"), "Deployment"));
	cr_assert(eq(str, (char *)jstr(k, "workload"), "web"));
	json_decref(k);
	k = k8s_of(k8s_db);
	cr_assert(eq(str, (char *)jstr(k, "workload_kind"), "StatefulSet"));
	cr_assert(eq(str, (char *)jstr(k, "container"), "postgres"));
	cr_assert(eq(str, (char *)jstr(k, "qos"), "besteffort"));
	json_decref(k);
	/* a pod the list does not have: what its path says, no names */
	k = k8s_of(k8s_lost);
	cr_assert(eq(str, (char *)jstr(k, "pod_uid"), "99999999-8888-4777-8666-555555555555"));
	cr_assert(eq(str, (char *)jstr(k, "namespace"), "(none)"));
	json_decref(k);

	/* the busy Deployment is overloaded, the idle StatefulSet is not */
	for (i = 0; i < 240 && load <= 1; i++) {
		load = workload_load("/v1/workloads/shop/Deployment/web/scale");
		usleep(250000);
	}
	cr_assert(gt(dbl, load, 1.0), "shop/web never overloaded: load %g", load);
	o = get_json("/v1/workloads/shop/deployment/web/scale?current=4");
	cr_assert(eq(int, json_integer_value(json_object_get(o, "pods")), 1));
	cr_assert(eq(str, (char *)jstr(json_array_get(json_object_get(o, "per_pod"), 0), "pod"),
		     "web-7d4b9c8f5-x2x9q"));
	cr_assert(lt(int, json_integer_value(json_object_get(o, "desired_scale")), 4),
		  "an overloaded workload's concurrency should shrink");
	json_decref(o);
	cr_assert(lt(dbl, workload_load("/v1/workloads/shop/StatefulSet/db/scale"), 1.0));
	o = get_json("/v1/pods/shop/web-7d4b9c8f5-x2x9q/scale");
	cr_assert(gt(dbl, json_number_value(json_object_get(o, "load")), 1.0));
	json_decref(o);
	cr_assert(eq(int, http("GET", "/v1/workloads/shop/Deployment/nope/scale", NULL, cmd,
			       sizeof(cmd)), 404));
	cr_assert(ne(ptr, strstr(cmd, "\"error\""), NULL), "a 404 without a JSON error: %s", cmd);

	/* the labels on /metrics, promtool-clean, and the workload gauges */
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | promtool check "
		 "metrics", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "promtool rejects the scrape");
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | grep -q '^"
		 "cgsnap_cpu_used_ratio{cgroup=\"/%s\",id=\"[0-9]*\",namespace=\"shop\","
		 "pod=\"web-7d4b9c8f5-x2x9q\",container=\"app\",workload_kind=\"Deployment\","
		 "workload=\"web\",label_app=\"web\"} '", port, k8s_web);
	cr_assert(eq(int, run_cmd(cmd), 0), "no named cgsnap_cpu_used_ratio for web's container");
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | grep -q '^"
		 "cgsnap_workload_load{namespace=\"shop\",workload_kind=\"StatefulSet\","
		 "workload=\"db\"} 0'", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "no cgsnap_workload_load for shop/db");
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | grep -q '^"
		 "cgsnap_idle{cgroup=\"/%s\",id=\"[0-9]*\",namespace=\"\",pod=\"\",container=\"\","
		 "workload_kind=\"\",workload=\"\",label_app=\"\",window='", port, k8s_lost);
	cr_assert(eq(int, run_cmd(cmd), 0), "the unknown pod's series lack their empty names");
	/* every metric the dashboard and the autoscaling recipes of deploy/ query is there */
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics > %s/scrape && "
		 "python3 scripts/check-deploy.py %s deploy %s/scrape", port, k8s_dir,
		 getenv("CGSNAP_BIN"), k8s_dir);
	cr_assert(eq(int, run_cmd(cmd), 0), "deploy/ queries metrics the agent does not serve");
	/* the query of deploy/keda-prometheus.yaml, through a real Prometheus */
	cr_assert(prometheus_sees("", "max(cgsnap_workload_load%7Bnamespace%3D%22shop%22%2C"
				  "workload_kind%3D%22Deployment%22%2Cworkload%3D%22web%22%7D)",
				  "\"value\":\\[[0-9.]*,\"[1-9]"),
		  "Prometheus does not see shop/web's load above 1");

	/* the kubelet goes away: names stay, one line says so; it comes back */
	kubelet_stub_stop(kstub);
	kstub = NULL;
	cr_assert(wait_log("kubelet: GET https://127.0.0.1:[0-9]*/pods failed: ", 10),
		  "a kubelet that stopped answering is not logged");
	sleep(2);
	cr_assert(eq(int, log_count("kubelet: GET .* failed"), 1), "logged more than once");
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "workload"), "web"), "names lost with the kubelet");
	json_decref(k);
	kstub = kubelet_stub_start(kport, cert, key, "s3cret-token", pods);
	cr_assert(wait_log("kubelet: GET .* answers again: 2 pods", 10), "no recovery logged");
	free(pods);
}

Test(run, kubernetes_kubelet_refusing_the_token_leaves_path_identity, .fini = k8s_teardown,
     .timeout = 120)
{
	char args[2048], token[300], cmd[1024], *pods;
	const char *parent;
	json_t *k, *o;

	parent = kubelet_tree();
	snprintf(k8s_dir, sizeof(k8s_dir), "/tmp/cgsnap-test-kubelet-%d", getpid());
	mkdir(k8s_dir, 0700);
	snprintf(token, sizeof(token), "%s/token", k8s_dir);
	write_token(token, "wrong");
	pods = podlist_json();
	kstub = kubelet_stub_start(0, NULL, NULL, "s3cret-token", pods);
	free(pods);
	snprintf(args, sizeof(args), "--all %s --kubelet-url http://127.0.0.1:%d "
		 "--kubelet-token-file %s --kubelet-interval 1s", parent, kubelet_stub_port(kstub),
		 token);
	start_daemon(args);
	cr_assert(wait_log("kubelet: GET http://127.0.0.1:[0-9]*/pods failed: HTTP 401", 10),
		  "the 401 is not logged");
	/* three more refusals, still one line */
	for (int i = 0; i < 100 && kubelet_stub_requests(kstub) < 4; i++)
		usleep(100000);
	cr_assert(ge(int, kubelet_stub_requests(kstub), 4));
	cr_assert(eq(int, log_count("kubelet: GET"), 1), "the 401 is logged more than once");
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "pod_uid"), WEB_UID), "path identity lost");
	cr_assert(eq(str, (char *)jstr(k, "qos"), "burstable"));
	cr_assert(eq(str, (char *)jstr(k, "namespace"), "(none)"));
	json_decref(k);
	o = get_json("/v1/workloads");
	cr_assert(eq(sz, json_array_size(json_object_get(o, "workloads")), 0));
	json_decref(o);
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | grep -q "
		 "'^cgsnap_kubelet_up 0$'", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "cgsnap_kubelet_up is not 0");

	/* the token is read for every request: a rotated token is used */
	write_token(token, "s3cret-token");
	cr_assert(wait_log("kubelet: GET .* answers again: 2 pods", 10), "no recovery logged");
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "workload"), "web"));
	json_decref(k);
}

Test(run, kubernetes_sidecar_finds_its_pod_from_the_downward_api, .fini = k8s_teardown)
{
	char pod[700], body[4096];
	json_t *o, *k;

	kubelet_tree();
	snprintf(pod, sizeof(pod), "%s", k8s_web);
	*strrchr(pod, '/') = '\0';
	setenv("POD_NAME", "web-7d4b9c8f5-x2x9q", 1);
	setenv("POD_NAMESPACE", "shop", 1);
	setenv("POD_UID", WEB_UID, 1);
	setenv("WORKLOAD_KIND", "Deployment", 1);
	setenv("WORKLOAD_NAME", "web", 1);
	start_daemon("--pod-from-env");
	unsetenv("POD_NAME");
	unsetenv("POD_NAMESPACE");
	unsetenv("POD_UID");
	unsetenv("WORKLOAD_KIND");
	unsetenv("WORKLOAD_NAME");
	/* its pod's cgroup (its containers included), nothing else */
	o = get_json("/v1/cgroups");
	cr_assert(eq(sz, json_array_size(json_object_get(o, "cgroups")), 1), "%s",
		  json_dumps(o, 0));
	json_decref(o);
	k = k8s_of(pod);
	cr_assert(eq(str, (char *)jstr(k, "kind"), "pod"));
	cr_assert(eq(str, (char *)jstr(k, "pod"), "web-7d4b9c8f5-x2x9q"));
	cr_assert(eq(str, (char *)jstr(k, "workload_kind"), "Deployment"));
	json_decref(k);
	o = get_json("/v1/pods/shop/web-7d4b9c8f5-x2x9q/status");
	cr_assert(eq(str, (char *)jstr(o, "path") + 1, pod));
	json_decref(o);
	o = get_json("/v1/workloads/shop/Deployment/web/scale");
	cr_assert(eq(int, json_integer_value(json_object_get(o, "pods")), 1));
	json_decref(o);
	cr_assert(eq(int, http("GET", "/v1/pods/shop/db-0/status", NULL, body, sizeof(body)), 404));
}

/* a pod's cgroup appears before the next periodic refresh: the list is asked
 * for again within seconds, not after the interval */
Test(run, kubernetes_new_pod_refreshes_the_list_soon, .fini = k8s_teardown, .timeout = 120)
{
	char args[1024], cmd[2048], *pods;
	const char *parent;
	unsigned int before;
	json_t *k = NULL;
	int i;

	parent = kubelet_tree();
	pods = podlist_json();
	/* the list does not have the web pod yet */
	kstub = kubelet_stub_start(0, NULL, NULL, NULL, "{\"kind\":\"PodList\",\"items\":[]}");
	snprintf(args, sizeof(args), "--all %s --kubelet-url http://127.0.0.1:%d "
		 "--kubelet-interval 10m", parent, kubelet_stub_port(kstub));
	start_daemon(args);
	cr_assert(wait_log("kubelet: 0 pods on this node", 10));
	/* the pods found at start asked for one more refresh (2 s later) if they
	 * came after the first: let it pass, then only the new cgroup can ask */
	for (i = 0; i < 40 && kubelet_stub_requests(kstub) < 2; i++)
		usleep(100000);
	usleep(500000);
	kubelet_stub_set_podlist(kstub, pods);
	free(pods);
	before = kubelet_stub_requests(kstub);
	/* a new container cgroup of the web pod */
	snprintf(cmd, sizeof(cmd), "mkdir %s/%s/kubepods.slice/kubepods-burstable.slice/"
		 "kubepods-burstable-pod" WEB_UID_ ".slice/cri-containerd-"
		 "4444444444444444444444444444444444444444444444444444444444444444.scope",
		 testlib_v2_root(), parent);
	cr_assert(eq(int, run_cmd(cmd), 0));
	for (i = 0; i < 100; i++) {
		json_decref(k);
		k = k8s_of(k8s_web);
		if (!strcmp(jstr(k, "workload"), "web"))
			break;
		usleep(100000);
	}
	cr_assert(eq(str, (char *)jstr(k, "workload"), "web"),
		  "a new pod's cgroup did not refresh the list within 10 s (interval 10 min)");
	json_decref(k);
	/* rate-limited: the pod cgroup and its containers asked once or twice, not per cgroup */
	cr_assert(le(int, kubelet_stub_requests(kstub) - before, 3));
}

/* the cause of a failing kubelet, named: an unchecked certificate, a timeout */
Test(run, kubernetes_kubelet_tls_failure_is_named, .fini = k8s_teardown)
{
	char args[1024], cert[300], key[300];
	const char *parent;
	char *pods;

	parent = kubelet_tree();
	kubelet_cert(cert, key);
	pods = podlist_json();
	kstub = kubelet_stub_start(0, cert, key, NULL, pods);
	free(pods);
	/* a self-signed certificate the system's CAs do not know */
	snprintf(args, sizeof(args), "--all %s --kubelet-url https://127.0.0.1:%d "
		 "--kubelet-interval 1s", parent, kubelet_stub_port(kstub));
	start_daemon(args);
	cr_assert(wait_log("kubelet: GET https://127.0.0.1:[0-9]*/pods failed: TLS: .*certificate",
			   10), "the TLS failure is not named");
	cr_assert(wait_log("pods are known by their cgroup paths only", 1));
}

Test(run, kubernetes_kubelet_timeout_is_named, .fini = k8s_teardown)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char args[1024];
	const char *parent;
	int fd;

	parent = kubelet_tree();
	/* a kubelet that takes connections and never answers */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&a, sizeof(a)), 0));
	cr_assert(eq(int, listen(fd, 16), 0));
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(args, sizeof(args), "--all %s --kubelet-url http://127.0.0.1:%d "
		 "--kubelet-interval 1s", parent, ntohs(a.sin_port));
	start_daemon(args);
	/* the collector goes on meanwhile: /healthz answered for start_daemon() */
	cr_assert(wait_log("kubelet: GET http://127.0.0.1:[0-9]*/pods failed: timeout: ", 10),
		  "the timeout is not named");
	cr_assert(eq(int, http("GET", "/healthz", NULL, args, sizeof(args)), 200));
	close(fd);
}

/* the agent's cgsnap_kubelet_refreshes_total, -1 if not served */
static long kubelet_refreshes(void)
{
	char cmd[256], out[64] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s http://127.0.0.1:%d/metrics | sed -n "
		 "'s/^cgsnap_kubelet_refreshes_total //p'", port);
	p = popen(cmd, "r");
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return out[0] ? atol(out) : -1;
}

/* until the agent has GET /pods twice more (the second one surely the new answer) */
static void two_more_refreshes(void)
{
	long start = kubelet_refreshes(), now = start;

	for (int i = 0; i < 300 && now < start + 2; i++) {
		usleep(100000);
		now = kubelet_refreshes();
	}
	cr_assert(ge(long, now, start + 2), "the agent stopped asking the kubelet");
}

/* RSS beyond @base, in MiB (0 under ASan: its allocator's, not ours) */
static long rss_growth_mib(long base)
{
#ifdef __SANITIZE_ADDRESS__
	return 0;
#else
	return (rss_kib(daemon_pid) - base) / 1024;
#endif
}

/*
 * Reproducers of what a kubelet (or something in its place) could send:
 * 5,000,000 empty objects took the agent from 85 MB to 1.1 GB for good; a
 * refused 200 MB answer left 80 MB behind; 20,000 pods 137 MB; one pod with
 * \u0000 in an annotation cost every pod its names.
 */
Test(run, kubernetes_hostile_pod_lists_cost_neither_memory_nor_names, .fini = k8s_teardown,
     .timeout = 240)
{
	static const char big_item[] = "{\"metadata\":{\"name\":\"p%lu\",\"annotations\":{\"x\":\""
		"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
		"2345678901234567890123456789012345678901234567890123456789012345678901234567890123"
		"4567890123456789012345678901234567890123456789012345678901234567890123456789012345"
		"6789012345678901234567890123456789012345678901234567890123456789012345678901234567"
		"89012345678901234567890123456789012345678901234567890123456789\"}}}";
	static const char pod_item[] = "{\"metadata\":{\"name\":\"x-%lu\",\"namespace\":\"many\","
		"\"uid\":\"11111111-2222-4333-8444-%012lu\"},\"status\":{\"qosClass\":\"BestEffort\"}}";
	char args[2048], cmd[512], *pods, *odd;
	const char *parent, *at;
	long base, grew;
	json_t *k;

	parent = kubelet_tree();
	pods = podlist_json();
	kstub = kubelet_stub_start(0, NULL, NULL, NULL, pods);
	/* 3 s: a GET may take as long as the interval, and 64 MiB take a while */
	snprintf(args, sizeof(args), "--all %s --kubelet-url http://127.0.0.1:%d "
		 "--kubelet-interval 3s", parent, kubelet_stub_port(kstub));
	start_daemon(args);
	cr_assert(wait_log("kubelet: 2 pods on this node", 10), "no first pod list");
	base = rss_kib(daemon_pid);

	kubelet_stub_set_generated(kstub, "{\"items\":[", "{}", 5000000, "]}");
	two_more_refreshes();
	grew = rss_growth_mib(base);
	cr_log_info("5,000,000 empty objects: RSS %+ld MiB", grew);
	cr_assert(le(long, grew, 16), "5,000,000 empty objects took %ld MiB", grew);

	kubelet_stub_set_generated(kstub, "{\"items\":[", big_item, 400000, "]}");
	cr_assert(wait_log("larger than 64 MiB: refused", 30), "the 200 MB answer was not refused");
	kubelet_stub_set_podlist(kstub, pods);
	cr_assert(wait_log("answers again: 2 pods", 20), "no recovery");
	grew = rss_growth_mib(base);
	cr_log_info("a refused 200 MB answer, then recovery: RSS %+ld MiB", grew);
	cr_assert(le(long, grew, 16), "a refused answer left %ld MiB behind", grew);

	kubelet_stub_set_generated(kstub, "{\"items\":[", pod_item, 20000, "]}");
	cr_assert(wait_log("holds 20000 pods, more than --kubelet-max-pods 1000: the first 1000 are "
			   "named, the other 19000 by their cgroup paths only", 30),
		  "the bound was not said");
	grew = rss_growth_mib(base);
	cr_log_info("20,000 pods: RSS %+ld MiB", grew);
	cr_assert(le(long, grew, 16), "20,000 pods took %ld MiB", grew);
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "pod_uid"), WEB_UID), "path identity lost");
	json_decref(k);

	/* one pod with a NUL in an annotation: the others keep their names */
	at = strstr(pods, "\"metadata\": {");
	cr_assert(ne(ptr, (void *)at, NULL));
	cr_assert(ge(int, asprintf(&odd, "%.*s\"annotations\": {\"x\": \"a\\u0000b\"}, %s",
				   (int)(at - pods + 13), pods, at + 13), 0));
	kubelet_stub_set_podlist(kstub, odd);
	free(odd);
	cr_assert(wait_log("within --kubelet-max-pods again (2 pods)", 20), "back to 2 pods");
	k = k8s_of(k8s_web);
	cr_assert(eq(str, (char *)jstr(k, "workload"), "web"), "the pod lost its names");
	json_decref(k);
	k = k8s_of(k8s_db);
	cr_assert(eq(str, (char *)jstr(k, "workload"), "db"));
	json_decref(k);
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | grep -q "
		 "'^cgsnap_kubelet_up 1$'", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "cgsnap_kubelet_up is not 1");
	free(pods);
}
