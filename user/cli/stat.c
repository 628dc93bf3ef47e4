// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap stat: one-shot measurement per cgroup, like runqlat but per cgroup. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "clock.h"
#include "commands.h"
#include "agent.h"
#include "format.h"
#include "names.h"
#include "options.h"
#include "opts.h"
#include "report.h"

struct stat_args {
	struct agent_opts agent;
	int64_t duration_ns;	/* 0: until interrupted */
	bool json;
	bool all;
};

enum { OPT_ALL = 0x100, OPT_JSON, OPT_DURATION, OPT_MAX_CGROUPS };

static const struct argp_option stat_options[] = {
	{ "cgroup", 'c', "PATH", 0,
	  "Measure this cgroup (with its descendants); PATH is relative to the cgroup v2 "
	  "mount. Repeatable", 0 },
	{ "all", OPT_ALL, NULL, 0, "Print every cgroup, also those with no activity", 0 },
	{ "duration", 'd', "DUR", 0, "Measure for DUR (e.g. 10s), default until Ctrl-C", 0 },
	{ "json", OPT_JSON, NULL, 0, "Print one JSON object (docs/STAT.md)", 0 },
	{ "max-cgroups", OPT_MAX_CGROUPS, "N", 0, OPT_MAX_CGROUPS_DOC, 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's debug messages", 0 },
	{},
};

static error_t stat_parse(int key, char *arg, struct argp_state *state)
{
	struct stat_args *a = state->input;

	switch (key) {
	case 'c':
		return opt_cgroup(state, &a->agent, arg);
	case OPT_ALL:
		a->all = true;
		return 0;
	case 'd':
		if (opt_duration(state, arg, &a->duration_ns))
			return EINVAL;
		if (!a->duration_ns)
			argp_error(state, "--duration must be greater than 0");
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_MAX_CGROUPS:
		return opt_max_cgroups(state, arg, &a->agent.max_cgroups);
	case 'v':
		a->agent.verbose = true;
		return 0;
	default:
		return opt_no_args(key, arg, state);
	}
}

static const char stat_doc[] =
	"Load the BPF programs, measure for a while, and print per cgroup: run-queue waits "
	"(count, total, mean, p50/p90/p99/max, histogram), who held the CPU meanwhile "
	"(a task of the same cgroup, of another cgroup, a kernel thread, or nobody), reclaim "
	"stalls and their some-time, OOM kills, CPU used, memory working set and budget, and "
	"what the kernel side dropped.\v"
	"Without --cgroup every cgroup is measured and those with activity are printed. Each "
	"cgroup's figures include its descendants. Needs root, or CAP_BPF and CAP_PERFMON, "
	"and a kernel with BTF; it needs neither bpffs nor tracefs.\n"
	"Exit status: 0 on success, 1 on failure, 2 for bad options.";

static bool active(const struct agent_cgroup *c)
{
	return c->runq.count || c->mem.count[0] || c->mem.count[1] || c->mem.oom_kills;
}

/* rows of the text histogram: [0, 512 ns), one per power of two, the overflow */
#define NR_ROWS (CGSNAP_HIST_MAX_SHIFT - CGSNAP_HIST_MIN_SHIFT + 3)

static int row_of(int slot)
{
	if (slot == 0)
		return 0;
	if (slot == CGSNAP_HIST_SLOTS - 1)
		return NR_ROWS - 1;
	return 1 + (slot - 1) / CGSNAP_HIST_SUB;
}

static void print_hist_text(const uint64_t slots[CGSNAP_HIST_SLOTS])
{
	uint64_t rows[NR_ROWS] = {}, max = 0, lo;
	int first = -1, last = -1, r, i;
	char a[32], b[32], bar[41];

	for (i = 0; i < CGSNAP_HIST_SLOTS; i++)
		rows[row_of(i)] += slots[i];
	for (r = 0; r < NR_ROWS; r++) {
		if (!rows[r])
			continue;
		if (first < 0)
			first = r;
		last = r;
		if (rows[r] > max)
			max = rows[r];
	}
	if (first < 0)
		return;
	printf("    %-24s : %-10s distribution\n", "wait", "count");
	for (r = first; r <= last; r++) {
		int stars = (int)(rows[r] * 40 / max);

		lo = r ? 1ULL << (CGSNAP_HIST_MIN_SHIFT + r - 1) : 0;
		if (r == NR_ROWS - 1)
			snprintf(b, sizeof(b), "...");
		else
			fmt_ns(r ? lo * 2 : 1ULL << CGSNAP_HIST_MIN_SHIFT, b, sizeof(b));
		memset(bar, '*', stars);
		bar[stars] = '\0';
		printf("    %10s -> %-10s : %-10llu |%-40s|\n", fmt_ns(lo, a, sizeof(a)), b,
		       (unsigned long long)rows[r], bar);
	}
}

static void print_runq_text(const struct lat_acc *t)
{
	struct lat_summary s;
	char b[5][32];
	int h;

	lat_summarize(t->slots, t->count, t->sum_ns, t->max_ns, &s);
	printf("  run-queue waits  %llu, total %s, mean %s\n", (unsigned long long)s.count,
	       fmt_ns(s.sum_ns, b[0], 32), fmt_ns(s.mean_ns, b[1], 32));
	if (!s.count)
		return;
	printf("                   p50 %s, p90 %s, p99 %s, max %s\n", fmt_ns(s.p50_ns, b[0], 32),
	       fmt_ns(s.p90_ns, b[1], 32), fmt_ns(s.p99_ns, b[2], 32), fmt_ns(s.max_ns, b[3], 32));
	for (h = 0; h < CGSNAP_HOLDER_MAX; h++)
		printf("  %-16s %-14s %5.1f%% of waits  %s\n", h ? "" : "CPU held by",
		       holder_label(h), 100.0 * t->holder_count[h] / t->count,
		       fmt_ns(t->holder_ns[h], b[0], 32));
	print_hist_text(t->slots);
}

static void print_mem_text(const struct agent_cgroup *w, int64_t duration)
{
	const struct mem_acc *m = w->mem_full;
	char b[4][32];

	printf("  reclaim stalls   %llu (direct %llu, memcg %llu), total %s, max %s, some-time %s "
	       "(%.2f%%)\n",
	       (unsigned long long)(m->count[0] + m->count[1]), (unsigned long long)m->count[0],
	       (unsigned long long)m->count[1], fmt_ns(m->sum_ns[0] + m->sum_ns[1], b[0], 32),
	       fmt_ns(m->max_ns, b[1], 32), fmt_ns(m->some_ns, b[2], 32),
	       duration > 0 ? 100.0 * m->some_ns / duration : 0.0);
	printf("  OOM kills        %llu (cgroup limit %llu, host out of memory %llu)\n",
	       (unsigned long long)m->oom_kills, (unsigned long long)m->oom_kills_memcg,
	       (unsigned long long)(m->oom_kills - m->oom_kills_memcg));
	if (w->sys.valid) {
		printf("  memory           working set %s of %s budget",
		       fmt_bytes(w->sys.mem.working_set_bytes, b[0], 32),
		       fmt_bytes(w->sys.budget_bytes, b[1], 32));
		if (w->sys.mem.limit_bytes >= 0)
			printf(" (limit %s)\n", fmt_bytes(w->sys.mem.limit_bytes, b[2], 32));
		else
			printf(" (no limit: host memory)\n");
	}
}

static void print_cpu_text(const struct agent_cgroup *c)
{
	double r = c->cpu_ratio_overall;

	if (r >= 0)
		printf("  CPU              used %.2f of %.2f CPUs (%.1f%%)\n",
		       r * c->sys.cpu_capacity, c->sys.cpu_capacity, 100 * r);
}

static void print_text(const struct agent_cgroup *cgs, unsigned int n, const struct stat_args *a,
		       const struct agent_self *self, int64_t duration)
{
	unsigned int i;
	char b[32];

	printf("measured for %s\n", fmt_ns(duration, b, sizeof(b)));
	for (i = 0; i < n; i++) {
		const struct agent_cgroup *c = &cgs[i];

		if (!a->all && !active(c))
			continue;
		printf("\ncgroup /%s (id %llu)%s\n", c->path, (unsigned long long)c->id,
		       c->removed ? " (removed)" : "");
		print_runq_text(c->runq_full);
		print_mem_text(c, duration);
		print_cpu_text(c);
	}
	printf("\ndropped by the kernel side:");
	for (i = 0; i < CGSNAP_DROP_MAX; i++)
		printf(" %s %llu", drop_name(i), (unsigned long long)self->drops[i]);
	printf("\n");
}

static json_t *hist_json(const uint64_t slots[CGSNAP_HIST_SLOTS])
{
	json_t *arr = json_array();
	uint64_t lo, hi;
	int i;

	for (i = 0; arr && i < CGSNAP_HIST_SLOTS; i++) {
		if (!slots[i])
			continue;
		hist_slot_bounds(i, &lo, &hi);
		json_array_append_new(arr, json_pack("{s:I,s:o,s:I}", "lo_ns", (json_int_t)lo,
						     "hi_ns", hi == UINT64_MAX ? json_null() :
						     json_integer((json_int_t)hi),
						     "count", (json_int_t)slots[i]));
	}
	return arr;
}

static json_t *runq_json(const struct lat_acc *t)
{
	json_t *held = json_object();
	struct lat_summary s;
	int h;

	lat_summarize(t->slots, t->count, t->sum_ns, t->max_ns, &s);
	for (h = 0; h < CGSNAP_HOLDER_MAX; h++)
		json_object_set_new(held, holder_name(h),
				    json_pack("{s:I,s:I}", "count", (json_int_t)t->holder_count[h],
					      "sum_ns", (json_int_t)t->holder_ns[h]));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "count", (json_int_t)s.count,
			 "sum_ns", (json_int_t)s.sum_ns, "mean_ns", (json_int_t)s.mean_ns, "p50_ns",
			 (json_int_t)s.p50_ns, "p90_ns", (json_int_t)s.p90_ns, "p99_ns",
			 (json_int_t)s.p99_ns, "max_ns", (json_int_t)s.max_ns, "held_by", held,
			 "histogram", hist_json(t->slots));
}

static json_t *mem_json(const struct mem_acc *m, int64_t duration)
{
	return json_pack("{s:{s:I,s:I},s:{s:I,s:I},s:I,s:I,s:f,s:I,s:{s:I,s:I},s:o}",
			 "direct", "count", (json_int_t)m->count[0], "sum_ns", (json_int_t)m->sum_ns[0],
			 "memcg", "count", (json_int_t)m->count[1], "sum_ns", (json_int_t)m->sum_ns[1],
			 "max_ns", (json_int_t)m->max_ns, "some_ns", (json_int_t)m->some_ns,
			 "some_ratio", duration > 0 ? (double)m->some_ns / duration : 0.0,
			 "oom_kills", (json_int_t)m->oom_kills, "oom_kills_by_cause", "memcg",
			 (json_int_t)m->oom_kills_memcg, "global",
			 (json_int_t)(m->oom_kills - m->oom_kills_memcg), "histogram",
			 hist_json(m->slots));
}

static json_t *cgroup_json(const struct agent_cgroup *c, int64_t duration)
{
	json_t *cpu = json_null(), *mem = json_null();

	if (c->cpu_ratio_overall >= 0)
		cpu = json_pack("{s:f,s:f}", "used_ratio", c->cpu_ratio_overall, "capacity_cpus",
				c->sys.cpu_capacity);
	if (c->sys.valid)
		mem = json_pack("{s:I,s:I,s:o,s:I}", "working_set_bytes",
				(json_int_t)c->sys.mem.working_set_bytes, "usage_bytes",
				(json_int_t)c->sys.mem.usage_bytes, "limit_bytes",
				c->sys.mem.limit_bytes < 0 ? json_null() :
				json_integer(c->sys.mem.limit_bytes),
				"budget_bytes", (json_int_t)c->sys.budget_bytes);
	return json_pack("{s:s+,s:I,s:b,s:o,s:o,s:o,s:o}", "path", "/", c->path, "id",
			 (json_int_t)c->id, "removed", c->removed, "runq", runq_json(c->runq_full),
			 "reclaim", mem_json(c->mem_full, duration), "cpu", cpu, "memory", mem);
}

static int print_json(const struct agent_cgroup *cgs, unsigned int n, const struct stat_args *a,
		      const struct agent_self *self, int64_t duration)
{
	json_t *root, *arr = json_array(), *drops = json_object();
	unsigned int i;
	int err;

	for (i = 0; i < n; i++)
		if (a->all || active(&cgs[i]))
			json_array_append_new(arr, cgroup_json(&cgs[i], duration));
	for (i = 0; i < CGSNAP_DROP_MAX; i++)
		json_object_set_new(drops, drop_name(i), json_integer((json_int_t)self->drops[i]));
	root = json_pack("{s:I,s:o,s:o}", "duration_ns", (json_int_t)duration, "cgroups", arr,
			 "dropped", drops);
	if (!root)
		return -ENOMEM;
	err = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(root);
	if (err || fputc('\n', stdout) == EOF || fflush(stdout))
		return -EIO;
	return 0;
}

static int print_results(struct agent *ag, const struct stat_args *a, int64_t duration)
{
	struct agent_cgroup *cgs;
	struct agent_self self;
	unsigned int n;
	int err;

	err = agent__cgroups(ag, AGENT_TOTALS_FULL, &cgs, &n);
	if (err) {
		report_err(err, "cannot collect the results");
		return err;
	}
	agent__self(ag, &self);
	if (a->json)
		err = print_json(cgs, n, a, &self, duration);
	else
		print_text(cgs, n, a, &self, duration);
	if (!a->json && (ferror(stdout) || fflush(stdout)))
		err = -EIO;
	if (err)
		report_err(err, "cannot write the results");
	agent_cgroups_free(cgs, n);
	return err;
}

int cmd_stat(int argc, char **argv)
{
	const struct argp argp = {
		.options = stat_options,
		.parser = stat_parse,
		.doc = stat_doc,
	};
	struct stat_args a = {};
	struct agent *ag = NULL;
	int64_t start, end;
	int err;

	cgsnap_settings__init(&a.agent.settings);
	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	a.agent.keep_totals = true;
	a.agent.full_totals = true;
	/* a cgroup removed during the measurement is listed, marked removed */
	a.agent.keep_removed = true;
	if (!a.agent.nr_cgroups)
		a.agent.watch_all = true;
	ag = agent__open(&a.agent);
	if (!ag) {
		err = -errno;
		goto out;
	}
	agent_handle_signals();
	if (!a.json && !a.duration_ns)
		fprintf(stderr, "measuring; press Ctrl-C to print the results\n");
	start = clock_mono_ns();
	err = agent__start(ag, start);
	if (!err)
		err = agent__run(ag, a.duration_ns ? start + a.duration_ns : INT64_MAX);
	end = clock_mono_ns();
	if (!err)
		err = print_results(ag, &a, end - start);
out:
	agent__close(ag);
	agent_opts_free(&a.agent);
	return err ? 1 : 0;
}
