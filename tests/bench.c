// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap-bench: the figures of docs/BENCHMARKS.md (run by make bench).
 *
 *   cgsnap-bench progs SECONDS [fast]
 *                                   ns per event of each BPF program, beside
 *                                   an empty tp_btf pair on the same events
 *                                   (fast: as cgsnap run --fast loads them)
 *   cgsnap-bench pingpong RUNS N    same-CPU pipe ping-pong round trips/s,
 *                                   bare vs cgsnap attached, alternating
 *   cgsnap-bench collector CGROUPS  collector CPU time per tick and RSS with
 *                                   CGROUPS cgroups that have map entries
 *   cgsnap-bench podlist PODS RUNS  one kubelet /pods refresh with PODS pods
 *                                   shaped like a real kubelet's: parse alone,
 *                                   and GET + parse from a loopback server
 *   cgsnap-bench detect CGSNAP SCENARIO ROUNDS [OPTION...]
 *                                   onset -> overloaded verdict of a real
 *                                   cgsnap run (bench_detect.c)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "cgsnap.skel.h"
#include "clock.h"
#include "floor.skel.h"
#include "collector.h"
#include "kubelet.h"
#include "loader.h"
#include "pods.h"
#include "snapshotter.h"
#include "bench.h"

char bench_workload[1024];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* run "cgsnap-workload ARGS" and return its stdout's first number */
static double run_workload(const char *args)
{
	char cmd[1200];
	double v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s", bench_workload, args);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%lf", &v) != 1)
		v = -1;
	if (p)
		pclose(p);
	return v;
}

static void print_prog(struct bpf_program *prog, const char *what)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return;
	printf("  %-24s %-9s %12llu events %8.1f ns/event\n", bpf_program__name(prog), what,
	       (unsigned long long)info.run_cnt,
	       info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0.0);
}

static int bench_progs(int seconds, bool fast)
{
	struct loader_opts lo = { .fast = fast, .wake_ns = 5000000 };
	struct cgsnap_bpf *skel;
	struct floor_bpf *floor;
	struct bpf_program *prog;
	char err[256], args[128];
	int stats_fd;

	skel = loader_open(&lo, err, sizeof(err));
	if (!skel) {
		fprintf(stderr, "cgsnap-bench: %s\n", err);
		return 1;
	}
	floor = floor_bpf__open_and_load();
	if (!floor || floor_bpf__attach(floor)) {
		fprintf(stderr, "cgsnap-bench: cannot load the floor programs\n");
		return 1;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "cgsnap-bench: cannot enable BPF stats: %s\n", strerror(errno));
		return 1;
	}
	/* a mixed load: spinners preempting each other and 500 us sleepers */
	snprintf(args, sizeof(args), "--pingpong %d --cpu 0", seconds * 50000);
	run_workload(args);
	close(stats_fd);
	printf("BPF run time per event (kernel.bpf_stats, %d s of same-CPU pipe ping-pong)%s:\n",
	       seconds, fast ? ", fast mode" : "");
	bpf_object__for_each_program(prog, floor->obj)
		print_prog(prog, "floor");
	bpf_object__for_each_program(prog, skel->obj)
		print_prog(prog, "cgsnap");
	floor_bpf__destroy(floor);
	loader_close(skel);
	return 0;
}

enum { BARE, FLOOR, CGSNAP, NR_MODES };

static int attach_mode(int mode, struct cgsnap_bpf *skel, struct floor_bpf *floor)
{
	if (mode == CGSNAP)
		return cgsnap_bpf__attach(skel);
	if (mode == FLOOR)
		return floor_bpf__attach(floor);
	return 0;
}

static void detach_mode(int mode, struct cgsnap_bpf *skel, struct floor_bpf *floor)
{
	if (mode == CGSNAP)
		cgsnap_bpf__detach(skel);
	else if (mode == FLOOR)
		floor_bpf__detach(floor);
}

static int bench_pingpong(int runs, int rounds)
{
	static const char *const names[NR_MODES] = { "bare", "empty tp_btf pair", "cgsnap" };
	struct loader_opts lo = {};
	double v[NR_MODES][runs], ratio[NR_MODES][runs];
	struct cgsnap_bpf *skel;
	struct floor_bpf *floor;
	char err[256], args[64];
	int i, k, m;

	skel = loader_open(&lo, err, sizeof(err));
	floor = floor_bpf__open_and_load();
	if (!skel || !floor) {
		fprintf(stderr, "cgsnap-bench: %s\n", skel ? "cannot load the floor programs" : err);
		return 1;
	}
	cgsnap_bpf__detach(skel);
	snprintf(args, sizeof(args), "--pingpong %d --cpu 0", rounds);
	run_workload(args);	/* warm-up */
	for (i = 0; i < runs; i++) {
		/* rotate which mode goes first, so drift hits all alike */
		for (k = 0; k < NR_MODES; k++) {
			m = (i + k) % NR_MODES;
			if (attach_mode(m, skel, floor))
				return 1;
			v[m][i] = run_workload(args);
			detach_mode(m, skel, floor);
		}
		for (m = 0; m < NR_MODES; m++)
			ratio[m][i] = v[m][i] / v[BARE][i];
	}
	printf("same-CPU pipe ping-pong, %d rounds of %d round trips per mode, modes rotating:\n",
	       runs, rounds);
	for (m = 0; m < NR_MODES; m++)
		printf("  %-18s median %9.0f round trips/s, paired ratio to bare %.3f\n", names[m],
		       median(v[m], runs), median(ratio[m], runs));
	floor_bpf__destroy(floor);
	loader_close(skel);
	return 0;
}

static long rss_kib(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* give every @every-th cgroup's slot new waits, as if those ran */
static void touch_entries(struct cgsnap_bpf *skel, const uint64_t *ids, int n, int round,
			  int every)
{
	int ncpu = libbpf_num_possible_cpus(), c;
	struct cgsnap_runq vals[ncpu];
	struct cgsnap_hist h = {};
	__u32 i;

	memset(vals, 0, sizeof(vals));
	for (i = 0; i < (__u32)n; i++) {
		if (round > 1 && i % every)
			continue;
		for (c = 0; c < ncpu; c++) {
			vals[c].count = round * 10 + c;
			vals[c].sum_ns = vals[c].count * 20000;
			vals[c].max_ns = 90000;
			vals[c].holder_count[CGSNAP_HOLDER_SAME] = vals[c].count;
			vals[c].holder_ns[CGSNAP_HOLDER_SAME] = vals[c].sum_ns;
		}
		h.slots[cgsnap_hist_slot(20000)] = round * 10 * ncpu;
		if (round == 1) {	/* allocate slot i, as the BPF side would */
			bpf_map_update_elem(bpf_map__fd(skel->maps.cg_slot), &ids[i], &i, BPF_ANY);
			bpf_map_update_elem(bpf_map__fd(skel->maps.cg_owner), &i, &ids[i], BPF_ANY);
		}
		for (c = 0; c < ncpu; c++) {
			__u32 idx = i * ncpu + c;

			bpf_map_update_elem(bpf_map__fd(skel->maps.cg_runq), &idx, &vals[c], BPF_ANY);
		}
		bpf_map_update_elem(bpf_map__fd(skel->maps.cg_runq_hist), &i, &h, BPF_ANY);
	}
}

static int bench_collector(int n)
{
	char root[1100], path[1200];
	struct cgroup_layout layout;
	struct collector_opts co = {};
	struct collector *c;
	struct cgsnap_bpf *skel;
	double runq[20], sys[20], scan[5], some[20];
	uint64_t *ids = calloc(n, sizeof(*ids));
	long rss0 = rss_kib();
	int i, r;

	if (cgroup_layout_detect(&layout, PROC_MOUNTINFO))
		return 1;
	skel = cgsnap_bpf__open();
	if (!skel)
		return 1;
	/* sized as cgsnap sizes them for a host with these cgroups */
	loader_size_maps(skel, loader_slots_for(n + 100));
	/* bump past the slots this benchmark hands out itself */
	skel->bss->next_slot = n;
	if (cgsnap_bpf__load(skel))
		return 1;
	snprintf(root, sizeof(root), "%s/cgsnap-bench-%d", layout.v2, getpid());
	mkdir(root, 0755);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/c%d", root, i);
		if (mkdir(path, 0755) || cgroup_path_to_id(path, "", &ids[i])) {
			fprintf(stderr, "cgsnap-bench: mkdir %s: %s\n", path, strerror(errno));
			n = i;
			goto out;
		}
	}
	co.layout = &layout;
	loader_map_fds(skel, &co.maps);
	c = collector__new(&co);
	collector__watch_all(c, root + strlen(layout.v2) + 1);
	touch_entries(skel, ids, n, 1, 1);
	collector__start(c, clock_mono_ns());
	for (r = 0; r < 20; r++) {
		int64_t t0;

		/* 1% of the cgroups ran */
		touch_entries(skel, ids, n, r + 2, 100);
		t0 = clock_thread_ns();
		collector__tick_runq(c, clock_mono_ns());
		some[r] = (clock_thread_ns() - t0) / 1e6;
	}
	for (r = 0; r < 20; r++) {
		int64_t t0;

		/* all of them ran */
		touch_entries(skel, ids, n, r + 22, 1);
		t0 = clock_thread_ns();
		collector__tick_runq(c, clock_mono_ns());
		runq[r] = (clock_thread_ns() - t0) / 1e6;
		t0 = clock_thread_ns();
		if (!getenv("CGSNAP_BENCH_RUNQ_ONLY"))	/* for profiling the runq tick */
			collector__tick_system(c, clock_mono_ns());
		sys[r] = (clock_thread_ns() - t0) / 1e6;
	}
	for (r = 0; r < 5; r++) {
		int64_t t0 = clock_thread_ns();

		collector__scan(c);
		scan[r] = (clock_thread_ns() - t0) / 1e6;
	}
	printf("collector, %d watched cgroups with run-queue slots (%u in use):\n", n,
	       collector__nr_map_entries(c));
	printf("  runq tick   median %8.2f ms CPU  with 1%% of them active (%d runq snapshots)\n",
	       median(some, 20), n);
	printf("  runq tick   median %8.2f ms CPU  with all of them active\n", median(runq, 20));
	printf("  system tick median %8.2f ms CPU  (cgroupfs read, %d cpu + memory snapshots)\n",
	       median(sys, 20), n);
	printf("  tree scan   median %8.2f ms CPU\n", median(scan, 5));
	printf("  RSS         %8ld KiB (%ld KiB before the collector)\n", rss_kib(), rss0);
	collector__free(c);
out:
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/c%d", root, i);
		rmdir(path);
	}
	rmdir(root);
	cgsnap_bpf__destroy(skel);
	free(ids);
	return 0;
}

/* a pod as the kubelet's /pods has it: metadata, a spec of two containers
 * with env, resources, mounts and probes, and a status */
static json_t *bench_pod(int i)
{
	char uid[40], name[64], cid[80];
	json_t *env = json_array(), *ctrs = json_array(), *sts = json_array();

	snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012x", i, i);
	snprintf(name, sizeof(name), "web-7d4b9c8f5-%05d", i);
	for (int e = 0; e < 12; e++)
		json_array_append_new(env, json_pack("{s:s,s:s}", "name", "SETTING_NAME_NUMBER",
						     "value", "a-typical-value-of-thirty-chars"));
	for (int c = 0; c < 2; c++) {
		snprintf(cid, sizeof(cid), "containerd://%064x", i * 2 + c);
		json_array_append_new(ctrs, json_pack(
			"{s:s,s:s,s:O,s:{s:{s:s,s:s},s:{s:s}},s:[{s:s,s:s,s:b}],"
			"s:{s:{s:s,s:i},s:i,s:i},s:[{s:s,s:i,s:s}]}",
			"name", c ? "sidecar" : "app", "image", "registry.example.com/shop/web:1.42.0",
			"env", env, "resources", "requests", "cpu", "250m", "memory", "256Mi",
			"limits", "memory", "512Mi", "volumeMounts", "name", "kube-api-access-x7k2p",
			"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly", 1,
			"readinessProbe", "httpGet", "path", "/healthz", "port", 8080,
			"periodSeconds", 5, "timeoutSeconds", 1, "ports", "name", "http",
			"containerPort", 8080, "protocol", "TCP"));
		json_array_append_new(sts, json_pack(
			"{s:s,s:s,s:s,s:s,s:b,s:i,s:{s:{s:s}}}", "name", c ? "sidecar" : "app",
			"containerID", cid, "image", "registry.example.com/shop/web:1.42.0",
			"imageID", "registry.example.com/shop/web@sha256:0123456789abcdef0123456789"
			"abcdef0123456789abcdef0123456789abcdef", "ready", 1, "restartCount", 0,
			"state", "running", "startedAt", "2026-11-30T08:12:44Z"));
	}
	json_decref(env);
	return json_pack("{s:{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s},s:{s:s},"
			 "s:[{s:s,s:s,s:s,s:s,s:b,s:b}]},s:{s:o,s:s,s:s},"
			 "s:{s:s,s:s,s:s,s:s,s:o}}",
			 "metadata", "name", name, "namespace", "shop", "uid", uid,
			 "creationTimestamp", "2026-11-30T08:12:40Z", "labels", "app", "web",
			 "pod-template-hash", "7d4b9c8f5", "app.kubernetes.io/part-of", "shop",
			 "annotations", "kubernetes.io/config.seen", "2026-11-30T08:12:40.123456789Z",
			 "ownerReferences", "apiVersion", "apps/v1", "kind", "ReplicaSet",
			 "name", "web-7d4b9c8f5", "uid", uid, "controller", 1,
			 "blockOwnerDeletion", 1,
			 "spec", "containers", ctrs, "nodeName", "node-17", "serviceAccountName", "web",
			 "status", "phase", "Running", "qosClass", "Burstable", "podIP", "10.244.17.9",
			 "startTime", "2026-11-30T08:12:40Z", "containerStatuses", sts);
}

static char *bench_body;

static enum MHD_Result bench_serve(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(bench_body), bench_body,
								  MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);

	MHD_destroy_response(r);
	return ret;
}

static int bench_podlist(int npods, int runs)
{
	double *parse = calloc(runs, sizeof(double)), *get = calloc(runs, sizeof(double));
	json_t *items = json_array();
	struct k8s_label_keys lk = {};
	struct k8s_podlist *l;
	struct MHD_Daemon *mhd;
	struct kubelet_stats st;
	char err[256], url[64];
	int64_t t0;
	int i;

	for (i = 0; i < npods; i++)
		json_array_append_new(items, bench_pod(i));
	bench_body = json_dumps(json_pack("{s:s,s:s,s:o}", "kind", "PodList", "apiVersion", "v1",
					  "items", items), JSON_COMPACT);
	k8s_label_keys_add(&lk, "app");
	for (i = 0; i < runs; i++) {
		t0 = clock_thread_ns();
		if (k8s_podlist_parse(bench_body, strlen(bench_body), &lk, 0, &l, NULL, err,
				      sizeof(err))) {
			fprintf(stderr, "bench: %s\n", err);
			return 1;
		}
		parse[i] = (clock_thread_ns() - t0) / 1e6;
		k8s_podlist_put(l);
	}
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, bench_serve, NULL,
			       MHD_OPTION_END);
	if (!mhd)
		return 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d",
		 MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < runs; i++) {
		struct k8s_pods *pods = k8s_pods_new(&lk);
		struct kubelet_opts ko = { .url = url, .interval_ns = 3600000000000LL };
		struct kubelet *k = kubelet_start(&ko, pods, err, sizeof(err));

		do {
			usleep(1000);
			kubelet_stats(k, &st);
		} while (!st.refreshes);
		get[i] = st.last_seconds * 1e3;
		kubelet_stop(k);
		k8s_pods_free(pods);
	}
	MHD_stop_daemon(mhd);
	curl_global_cleanup();
	printf("kubelet /pods refresh, %d pods (%zu KB of JSON, %.1f KB per pod), median of %d:\n",
	       npods, strlen(bench_body) / 1000, strlen(bench_body) / 1000.0 / npods, runs);
	printf("  parse           %8.2f ms CPU\n", median(parse, runs));
	printf("  GET + parse     %8.2f ms wall (loopback HTTP)\n", median(get, runs));
	free(bench_body);
	free(parse);
	free(get);
	k8s_label_keys_free(&lk);
	return 0;
}

/*
 * cgsnap_snapshotter__add() of runq snapshots every 0.5 s into the default
 * 30 s window, full: an idle cgroup's (all zeros) and a busy one's (every
 * statistic moving), ns per add, median of @runs runs of 200,000.
 */
static int bench_history(int runs)
{
	const int n = 200000;
	double ns[2][64];
	int busy, r, i;

	if (runs < 1 || runs > 64)
		return 2;
	for (busy = 0; busy < 2; busy++)
		for (r = 0; r < runs; r++) {
			struct cgsnap_snapshotter *s = cgsnap_snapshotter__new(NULL);
			int64_t t0;

			if (!s || cgsnap_snapshotter__start(s))
				return 1;
			t0 = clock_mono_ns();
			for (i = 0; i < n; i++) {
				struct cgsnap_snapshot sn = {
					.t_ns = i * 500000000LL + i * 7919 % 1000,
					.kind = CGSNAP_KIND_RUNQ,
					.present = CGSNAP_F_RUNQ_COUNT,
					.runq.max_delay_ns = 50000000,
				};

				if (busy)
					sn.runq = (struct cgsnap_runq_snapshot){
						20000 + i % 977 * 64, 50000000, 100 + i % 37,
						15000 + i % 101, 16384, 32768 + i % 3 * 4096, 65536,
						70000 + i % 1000,
					};
				if (cgsnap_snapshotter__add(s, &sn, NULL) < 0)
					return 1;
			}
			ns[busy][r] = (double)(clock_mono_ns() - t0) / n;
			cgsnap_snapshotter__free(s);
		}
	printf("cgsnap_snapshotter__add, runq every 0.5 s into a full 30 s window, median of %d "
	       "x %d:\n", runs, n);
	printf("  idle (nothing changes)  %7.1f ns\n", median(ns[0], runs));
	printf("  busy (all moves)        %7.1f ns\n", median(ns[1], runs));
	return 0;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');

	snprintf(bench_workload, sizeof(bench_workload), "%.*scgsnap-workload",
		 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	libbpf_set_print(NULL);
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "fast"))) && !strcmp(argv[1], "progs"))
		return bench_progs(atoi(argv[2]), argc == 4);
	if (argc == 4 && !strcmp(argv[1], "pingpong"))
		return bench_pingpong(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "collector"))
		return bench_collector(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "podlist"))
		return bench_podlist(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "history"))
		return bench_history(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "detect"))
		return bench_detect(argv[2], argv[3], atoi(argv[4]), argv + 5, argc - 5);
	fprintf(stderr, "usage: cgsnap-bench progs SECONDS [fast] | pingpong RUNS ROUNDS | collector N | "
		"podlist PODS RUNS | history RUNS | detect CGSNAP saturate|neighbour ROUNDS [OPTION...]\n");
	return 2;
}
