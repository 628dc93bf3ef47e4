// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Conventions of node_exporter and cAdvisor: the cgsnap_ prefix, base units
 * (seconds, bytes), _total on counters, labels cgroup (its path) and id.
 * Histograms are cumulative since the cgroup is watched; their bucket bounds
 * are powers of two (the BPF histogram's octaves, so every bucket is exact):
 * every other one from 2^12 to 2^32 ns (coarse, the default), or each.
 *
 * Cardinality: the run-queue series of a cgroup appear with its first wait,
 * the reclaim series with its first stall, and stay (the totals only grow):
 * an idle cgroup costs its verdict, memory, CPU and OOM series only.
 */
#include <fnmatch.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "names.h"

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_label(FILE *f, const char *s)
{
	size_t n;

	while (*s) {
		n = strcspn(s, "\\\"\n");
		fwrite(s, 1, n, f);
		s += n;
		if (!*s)
			break;
		fputc('\\', f);
		fputc(*s == '\n' ? 'n' : *s, f);
		s++;
	}
}

static void label(FILE *f, const char *name, const char *value)
{
	fprintf(f, ",%s=\"", name);
	metrics_label(f, value ? value : "");
	fputc('"', f);
}

/*
 * The labels of each cgroup's series, rendered once per scrape into one
 * buffer: cgroup="/path",id="N", and with a pod source, on the cgroups of
 * pods and containers, namespace, pod, container, workload_kind, workload
 * and the selected pod labels ("" where unknown).
 */
static char **label_strings(const struct agent_cgroup *ws, unsigned int n,
			    const struct k8s_view *kv, char **buf)
{
	size_t *off = malloc((n + 1) * sizeof(*off)), len;
	char **v = malloc((n + 1) * sizeof(*v));
	FILE *f = open_memstream(buf, &len);
	unsigned int i, l;

	if (!off || !v || !f)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct k8s_names *nm = kv ? &kv->names[i] : NULL;
		const struct k8s_pod *p = nm ? nm->pod : NULL;

		off[i] = ftell(f);
		fputs("cgroup=\"/", f);
		metrics_label(f, ws[i].path);
		fprintf(f, "\",id=\"%llu\"", (unsigned long long)ws[i].id);
		if (nm && kv->source && nm->id.kind != K8S_NONE) {
			label(f, "namespace", p ? p->ns : "");
			label(f, "pod", p ? p->name : "");
			label(f, "container", nm->container);
			label(f, "workload_kind", p ? p->workload_kind : "");
			label(f, "workload", p ? p->workload : "");
			for (l = 0; kv->lk && l < kv->lk->n; l++)
				label(f, kv->lk->names[l], p ? p->labels[l] : "");
		}
		fputc('\0', f);
	}
	if (fclose(f)) {
		f = NULL;
		goto fail;
	}
	for (i = 0; i < n; i++)
		v[i] = *buf + off[i];
	free(off);
	return v;
fail:
	if (f)
		fclose(f);
	free(*buf);
	*buf = NULL;
	free(off);
	free(v);
	return NULL;
}

#define COARSE_MIN_ORDER	12	/* 4.096 us */
#define COARSE_MAX_ORDER	32	/* 4.295 s */

int metrics_histograms_parse(const char *s, enum metrics_histograms *out)
{
	static const enum metrics_histograms all[] = { METRICS_HIST_COARSE, METRICS_HIST_FULL,
						       METRICS_HIST_NONE };

	for (unsigned int i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, metrics_histograms_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	return -EINVAL;
}

const char *metrics_histograms_name(enum metrics_histograms h)
{
	switch (h) {
	case METRICS_HIST_COARSE: return "coarse";
	case METRICS_HIST_FULL: return "full";
	case METRICS_HIST_NONE: return "none";
	}
	return "unknown";
}

int metrics_opts_add_full(struct metrics_opts *mo, const char *glob)
{
	char **v = realloc(mo->full, (mo->nr_full + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	mo->full = v;
	v[mo->nr_full] = strdup(glob);
	if (!v[mo->nr_full])
		return -ENOMEM;
	mo->nr_full++;
	return 0;
}

void metrics_opts_free(struct metrics_opts *mo)
{
	while (mo->nr_full)
		free(mo->full[--mo->nr_full]);
	free(mo->full);
	mo->full = NULL;
}

/* the histograms of @w: full if a glob of @mo selects its path */
static enum metrics_histograms hist_mode(const struct metrics_opts *mo,
					 const struct agent_cgroup *w)
{
	char path[4096];

	if (!mo->nr_full)
		return mo->histograms;
	snprintf(path, sizeof(path), "/%s", w->path);
	for (unsigned int i = 0; i < mo->nr_full; i++)
		if (!fnmatch(mo->full[i], path, 0))
			return METRICS_HIST_FULL;
	return mo->histograms;
}

static void histogram(FILE *f, const char *name, const char *lbl,
		      enum metrics_histograms mode, const uint64_t oct[AGENT_OCTAVES],
		      uint64_t count, uint64_t sum_ns)
{
	uint64_t cum = oct[0];
	int o, order;

	if (mode == METRICS_HIST_NONE)
		return;
	/* bucket le=2^order ns holds everything below: octave o is [2^(order-1), 2^order) */
	for (o = 1; o < AGENT_OCTAVES - 1; o++) {
		cum += oct[o];
		order = CGSNAP_HIST_MIN_SHIFT + o;
		if (mode == METRICS_HIST_COARSE &&
		    (order < COARSE_MIN_ORDER || order > COARSE_MAX_ORDER ||
		     (order - COARSE_MIN_ORDER) % 2))
			continue;
		fprintf(f, "%s_bucket{", name);
		fputs(lbl, f);
		fprintf(f, ",le=\"%.9g\"} %llu\n", (double)(1ULL << order) / 1e9,
			(unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{", name);
	fputs(lbl, f);
	fprintf(f, ",le=\"+Inf\"} %llu\n%s_sum{", (unsigned long long)count, name);
	fputs(lbl, f);
	fprintf(f, "} %.9f\n%s_count{", sum_ns / 1e9, name);
	fputs(lbl, f);
	fprintf(f, "} %llu\n", (unsigned long long)count);
}

/* one sample of @name per watched cgroup: @fmt renders its value */
#define PER_CGROUP(f, ws, n, name, type, help, cond, ...)				\
	do {										\
		header(f, name, type, help);						\
		for (unsigned int _i = 0; _i < (n); _i++) {				\
			const struct agent_cgroup *w = &(ws)[_i];			\
			if (!(cond))							\
				continue;						\
			fprintf(f, "%s{%s} ", name, lbls[_i]);				\
			fprintf(f, __VA_ARGS__);					\
		}									\
	} while (0)

static bool waited(const struct agent_cgroup *w)
{
	return w->runq.count;
}

static bool stalled(const struct agent_cgroup *w)
{
	return w->mem.count[0] + w->mem.count[1];
}

static void runq_metrics(FILE *f, const struct agent_cgroup *ws, unsigned int n,
			 char *const *lbls, const enum metrics_histograms *modes)
{
	unsigned int i;
	int h;

	header(f, "cgsnap_runqueue_wait_seconds", "histogram",
	       "Time runnable tasks of the cgroup waited for a CPU (run-queue latency).");
	for (i = 0; i < n; i++)
		if (waited(&ws[i]))
			histogram(f, "cgsnap_runqueue_wait_seconds", lbls[i], modes[i],
				  ws[i].runq.octaves, ws[i].runq.count, ws[i].runq.sum_ns);
	header(f, "cgsnap_runqueue_waits_by_holder_total", "counter",
	       "Run-queue waits by who ran on the CPU just before the waiting task got it.");
	for (i = 0; i < n; i++)
		for (h = 0; h < CGSNAP_HOLDER_MAX && waited(&ws[i]); h++) {
			fputs("cgsnap_runqueue_waits_by_holder_total{", f);
			fputs(lbls[i], f);
			fprintf(f, ",holder=\"%s\"} %llu\n", holder_name(h),
				(unsigned long long)ws[i].runq.holder_count[h]);
		}
	header(f, "cgsnap_runqueue_wait_by_holder_seconds_total", "counter",
	       "Run-queue wait time by who ran on the CPU just before the waiting task got it.");
	for (i = 0; i < n; i++)
		for (h = 0; h < CGSNAP_HOLDER_MAX && waited(&ws[i]); h++) {
			fputs("cgsnap_runqueue_wait_by_holder_seconds_total{", f);
			fputs(lbls[i], f);
			fprintf(f, ",holder=\"%s\"} %.9f\n", holder_name(h),
				ws[i].runq.holder_ns[h] / 1e9);
		}
}

static void memory_metrics(FILE *f, const struct agent_cgroup *ws, unsigned int n,
			   char *const *lbls, const enum metrics_histograms *modes)
{
	unsigned int i;

	header(f, "cgsnap_memory_reclaim_stall_seconds", "histogram",
	       "Time tasks of the cgroup stalled in direct or memcg reclaim.");
	for (i = 0; i < n; i++) {
		const struct mem_total *m = &ws[i].mem;

		if (stalled(&ws[i]))
			histogram(f, "cgsnap_memory_reclaim_stall_seconds", lbls[i], modes[i],
				  m->octaves, m->count[0] + m->count[1], m->sum_ns[0] + m->sum_ns[1]);
	}
	header(f, "cgsnap_memory_reclaim_stalls_total", "counter",
	       "Reclaim stalls by kind: direct (global) or memcg (limit).");
	for (i = 0; i < n; i++)
		for (int k = 0; k < CGSNAP_RECLAIM_MAX && stalled(&ws[i]); k++) {
			fputs("cgsnap_memory_reclaim_stalls_total{", f);
			fputs(lbls[i], f);
			fprintf(f, ",kind=\"%s\"} %llu\n", reclaim_name(k),
				(unsigned long long)ws[i].mem.count[k]);
		}
	PER_CGROUP(f, ws, n, "cgsnap_memory_stall_some_seconds_total", "counter",
		   "Time during which at least one task of the cgroup was stalled in reclaim.",
		   stalled(w),
		   "%.9f\n", w->mem.some_ns / 1e9);
	header(f, "cgsnap_oom_kills_total", "counter",
	       "Tasks of the cgroup chosen as OOM victims, by cause: memcg (a cgroup's "
	       "memory limit) or global (the host ran out of memory).");
	for (i = 0; i < n; i++) {
		const struct mem_total *m = &ws[i].mem;

		fputs("cgsnap_oom_kills_total{", f);
		fputs(lbls[i], f);
		fprintf(f, ",cause=\"memcg\"} %llu\n", (unsigned long long)m->oom_kills_memcg);
		fputs("cgsnap_oom_kills_total{", f);
		fputs(lbls[i], f);
		fprintf(f, ",cause=\"global\"} %llu\n",
			(unsigned long long)(m->oom_kills - m->oom_kills_memcg));
	}
	PER_CGROUP(f, ws, n, "cgsnap_memory_working_set_bytes", "gauge",
		   "Memory usage minus inactive file cache, as the kubelet computes it.",
		   w->sys.valid, "%lld\n", (long long)w->sys.mem.working_set_bytes);
	PER_CGROUP(f, ws, n, "cgsnap_memory_budget_bytes", "gauge",
		   "The memory budget the memory snapshots are judged against.", w->sys.valid,
		   "%lld\n", (long long)w->sys.budget_bytes);
	PER_CGROUP(f, ws, n, "cgsnap_memory_limit_bytes", "gauge",
		   "The cgroup's effective memory limit (absent when unlimited).",
		   w->sys.valid && w->sys.mem.limit_bytes >= 0, "%lld\n",
		   (long long)w->sys.mem.limit_bytes);
	PER_CGROUP(f, ws, n, "cgsnap_memory_stall_ratio", "gauge",
		   "Share of the last interval stalled on memory (reclaim some-time or PSI).",
		   w->sys.valid, "%.6f\n", w->sys.stall_ratio);
}

static void cpu_metrics(FILE *f, const struct agent_cgroup *ws, unsigned int n,
			char *const *lbls)
{
	PER_CGROUP(f, ws, n, "cgsnap_cpu_used_ratio", "gauge",
		   "CPU time used in the last interval over the CPUs the cgroup may use.",
		   w->sys.cpu_ratio_valid, "%.6f\n", w->sys.cpu_used_ratio);
	PER_CGROUP(f, ws, n, "cgsnap_cpu_capacity_cpus", "gauge",
		   "CPUs the cgroup may use: its quota, else its cpuset, else the online CPUs.",
		   w->sys.cpu_capacity > 0, "%.6f\n", w->sys.cpu_capacity);
}

static void verdict_metrics(FILE *f, const struct agent_cgroup *ws, unsigned int n,
			    char *const *lbls)
{
	static const char *const windows[2] = { "current", "historical" };
	struct cgsnap_status st[2];
	unsigned int i;
	int k, win;

	header(f, "cgsnap_overload_ratio", "gauge",
	       "Time-weighted share of overloaded snapshots per kind (current: the last "
	       "max_snapshot_age; historical: the whole history).");
	header(f, "cgsnap_overloaded", "gauge",
	       "1 when the kind's overload ratio exceeds its threshold.");
	header(f, "cgsnap_idle", "gauge", "1 when no kind of the cgroup is overloaded.");
	for (i = 0; i < n; i++) {
		if (!ws[i].active)
			continue;
		st[0] = ws[i].current;
		st[1] = ws[i].historical;
		for (win = 0; win < 2; win++) {
			for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
				fputs("cgsnap_overload_ratio{", f);
				fputs(lbls[i], f);
				fprintf(f, ",kind=\"%s\",window=\"%s\"} %.3f\n", cgsnap_kind_name(k),
					windows[win], st[win].kind[k].actual_ratio);
				fputs("cgsnap_overloaded{", f);
				fputs(lbls[i], f);
				fprintf(f, ",kind=\"%s\",window=\"%s\"} %d\n", cgsnap_kind_name(k),
					windows[win], st[win].kind[k].overloaded);
			}
			fputs("cgsnap_idle{", f);
			fputs(lbls[i], f);
			fprintf(f, ",window=\"%s\"} %d\n", windows[win], st[win].idle);
		}
	}
}

static void threshold_metrics(FILE *f, const struct cgsnap_settings *s)
{
	int k;

	header(f, "cgsnap_overload_threshold", "gauge",
	       "Overload ratio above which a kind is overloaded.");
	for (k = 0; k < CGSNAP_KIND_COUNT; k++)
		fprintf(f, "cgsnap_overload_threshold{kind=\"%s\"} %g\n", cgsnap_kind_name(k),
			s->overload_threshold[k]);
}

/* cgsnap's own cost */
static void self_metrics(FILE *f, const struct agent_self *self)
{
	static const char *const ticks[2] = { "runq", "system" };
	static const char *const reading_sources[COLL_READING_MAX] = {
		[COLL_CPU_READ] = "read", [COLL_CPU_KEPT] = "kept",
		[COLL_CPU_FLUSH] = "flush",
		[COLL_CPU_KERNEL] = "kernel", [COLL_MEM_READ] = "read",
		[COLL_MEM_KEPT] = "kept", [COLL_MEM_CHECKED] = "checked",
		[COLL_MEM_MOVED] = "moved", [COLL_MEM_KERNEL] = "kernel",
		[COLL_RUNQ_READ] = "read", [COLL_RUNQ_TORN] = "torn",
		[COLL_TREE_SCAN] = "scan",
	};
	unsigned int i;

	header(f, "cgsnap_bpf_run_seconds_total", "counter",
	       "Time the kernel spent in each cgsnap BPF program (needs kernel.bpf_stats_enabled=1; "
	       "absent when the programs belong to a previous run).");
	header(f, "cgsnap_bpf_runs_total", "counter", "Runs of each cgsnap BPF program.");
	for (i = 0; i < self->nr_progs; i++) {
		fprintf(f, "cgsnap_bpf_run_seconds_total{program=\"%s\"} %.9f\n",
			self->progs[i].name, self->progs[i].run_time_ns / 1e9);
		fprintf(f, "cgsnap_bpf_runs_total{program=\"%s\"} %llu\n", self->progs[i].name,
			(unsigned long long)self->progs[i].run_cnt);
	}
	header(f, "cgsnap_dropped_events_total", "counter",
	       "Events the kernel side could not record, by reason.");
	for (i = 0; i < CGSNAP_DROP_MAX; i++)
		fprintf(f, "cgsnap_dropped_events_total{reason=\"%s\"} %llu\n", drop_name(i),
			(unsigned long long)self->drops[i]);
	header(f, "cgsnap_collector_tick_cpu_seconds_total", "counter",
	       "CPU time the collector spent in its ticks.");
	header(f, "cgsnap_collector_ticks_total", "counter", "Collector ticks.");
	header(f, "cgsnap_collector_last_tick_cpu_seconds", "gauge",
	       "CPU time of the collector's last tick.");
	for (i = 0; i < 2; i++) {
		fprintf(f, "cgsnap_collector_tick_cpu_seconds_total{tick=\"%s\"} %.9f\n", ticks[i],
			self->tick_cpu_total_ns[i] / 1e9);
		fprintf(f, "cgsnap_collector_ticks_total{tick=\"%s\"} %llu\n", ticks[i],
			(unsigned long long)self->ticks[i]);
		fprintf(f, "cgsnap_collector_last_tick_cpu_seconds{tick=\"%s\"} %.9f\n", ticks[i],
			self->tick_cpu_ns[i] / 1e9);
	}
	header(f, "cgsnap_collector_readings_total", "counter",
	       "Cgroup CPU and memory readings of the system ticks: from cgroupfs (read), kept "
	       "from the last because the cgroup did not run since (kept), from the CPU time the "
	       "kernel side charged per cgroup (kernel), or kept after its "
	       "memory usage alone was read and found unchanged (checked), and the parents of many "
	       "busy cgroups read first to flush their CPU counts at once (flush); and the "
	       "run-queue slots read (read), of which some caught waits being written (torn: "
	       "their sums are counted at the next reading); and the scans of the watched trees "
	       "(resource tree, source scan).");
	for (i = 0; i < COLL_READING_MAX; i++)
		fprintf(f, "cgsnap_collector_readings_total{resource=\"%s\",source=\"%s\"} %llu\n",
			i < COLL_MEM_READ ? "cpu" : i < COLL_RUNQ_READ ? "memory" :
			i < COLL_TREE_SCAN ? "runq" : "tree",
			reading_sources[i], (unsigned long long)self->readings[i]);
	header(f, "cgsnap_watched_cgroups", "gauge", "Cgroups watched.");
	fprintf(f, "cgsnap_watched_cgroups %u\n", self->nr_watched);
	header(f, "cgsnap_runqueue_slots_used", "gauge", "Run-queue map slots in use.");
	fprintf(f, "cgsnap_runqueue_slots_used %u\n", self->slots_used);
	header(f, "cgsnap_build_info", "gauge", "cgsnap's version.");
	fprintf(f, "cgsnap_build_info{version=\"%s\"} 1\n", CGSNAP_VERSION);
}

static void workload_labels(FILE *f, const char *name, const struct k8s_workload *w)
{
	fprintf(f, "%s{namespace=\"", name);
	metrics_label(f, w->ns);
	fputc('"', f);
	label(f, "workload_kind", w->kind);
	label(f, "workload", w->name);
	fputs("} ", f);
}

/* per workload of this node: what the autoscalers read across nodes */
static void workload_metrics(FILE *f, const struct k8s_view *kv)
{
	unsigned int i;

	if (!kv || !kv->source)
		return;
	header(f, "cgsnap_workload_load", "gauge",
	       "The largest load (historical overload ratio over its threshold, the largest "
	       "kind) over the workload's pods on this node; above 1 it is overloaded.");
	for (i = 0; i < kv->nr_workloads; i++) {
		workload_labels(f, "cgsnap_workload_load", &kv->workloads[i]);
		fprintf(f, "%.6f\n", kv->workloads[i].load);
	}
	header(f, "cgsnap_workload_pods", "gauge", "The workload's pods on this node.");
	for (i = 0; i < kv->nr_workloads; i++) {
		workload_labels(f, "cgsnap_workload_pods", &kv->workloads[i]);
		fprintf(f, "%u\n", kv->workloads[i].n);
	}
}

static void kubelet_metrics(FILE *f, const struct kubelet_stats *ks)
{
	if (!ks)
		return;
	header(f, "cgsnap_kubelet_up", "gauge", "1 when the last GET /pods from the kubelet succeeded.");
	fprintf(f, "cgsnap_kubelet_up %d\n", ks->up);
	header(f, "cgsnap_kubelet_pods", "gauge", "Pods on the last pod list from the kubelet.");
	fprintf(f, "cgsnap_kubelet_pods %u\n", ks->pods);
	header(f, "cgsnap_kubelet_pods_not_kept", "gauge",
	       "Pods of the kubelet's last answer not kept: beyond --kubelet-max-pods (over_limit), "
	       "or without a usable UID, name or namespace (unusable); they have their cgroup "
	       "path's identity only.");
	fprintf(f, "cgsnap_kubelet_pods_not_kept{reason=\"over_limit\"} %u\n", ks->over_limit);
	fprintf(f, "cgsnap_kubelet_pods_not_kept{reason=\"unusable\"} %u\n", ks->unusable);
	header(f, "cgsnap_kubelet_refreshes_total", "counter", "GET /pods requests to the kubelet.");
	fprintf(f, "cgsnap_kubelet_refreshes_total %llu\n", (unsigned long long)ks->refreshes);
	header(f, "cgsnap_kubelet_refresh_failures_total", "counter",
	       "GET /pods requests that failed (the last good list was kept).");
	fprintf(f, "cgsnap_kubelet_refresh_failures_total %llu\n",
		(unsigned long long)ks->failures);
	header(f, "cgsnap_kubelet_last_refresh_seconds", "gauge",
	       "How long the last GET /pods and its parsing took.");
	fprintf(f, "cgsnap_kubelet_last_refresh_seconds %.6f\n", ks->last_seconds);
}

int metrics_write(FILE *f, const struct agent_cgroup *cgs, unsigned int n,
		  const struct cgsnap_settings *settings, const struct agent_self *self,
		  const struct metrics_opts *mo, const struct k8s_view *kv,
		  const struct kubelet_stats *ks)
{
	enum metrics_histograms *modes = malloc((n + 1) * sizeof(*modes));
	char *buf = NULL, **lbls = modes ? label_strings(cgs, n, kv, &buf) : NULL;

	if (!lbls) {
		free(modes);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < n; i++)
		modes[i] = hist_mode(mo, &cgs[i]);
	runq_metrics(f, cgs, n, lbls, modes);
	memory_metrics(f, cgs, n, lbls, modes);
	free(modes);
	cpu_metrics(f, cgs, n, lbls);
	verdict_metrics(f, cgs, n, lbls);
	free(lbls);
	free(buf);
	workload_metrics(f, kv);
	threshold_metrics(f, settings);
	kubelet_metrics(f, ks);
	self_metrics(f, self);
	return ferror(f) ? -EIO : 0;
}
