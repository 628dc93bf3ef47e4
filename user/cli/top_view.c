// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap top's rows: read, rated, ordered and rendered (top.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "top.h"

static const char *const col_names[TOP_COL_COUNT] = {
	[TOP_VERDICT] = "load", [TOP_KINDS] = "kinds", [TOP_CPU] = "cpu",
	[TOP_MEM] = "memory", [TOP_RUNQ_P99] = "p99", [TOP_WAITS] = "waits",
	[TOP_BEHIND] = "behind", [TOP_STALL] = "stall", [TOP_CGROUP] = "cgroup",
};

const char *top_col_name(enum top_col c)
{
	return c < TOP_COL_COUNT ? col_names[c] : "?";
}

static double real_or(json_t *o, const char *key, double none)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : none;
}

static int64_t int_or(json_t *o, const char *key, int64_t none)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : none;
}

/* namespace/pod[/container] from the "k8s" object, when it has names */
static char *k8s_name(json_t *k)
{
	const char *ns = json_string_value(json_object_get(k, "namespace"));
	const char *pod = json_string_value(json_object_get(k, "pod"));
	const char *ctr = json_string_value(json_object_get(k, "container"));
	char *s;

	if (!ns || !pod)
		return NULL;
	if (asprintf(&s, "%s/%s%s%s", ns, pod, ctr ? "/" : "", ctr ? ctr : "") < 0)
		return NULL;
	return s;
}

static const struct top_row *find_prev(const struct top_frame *prev, uint64_t id)
{
	for (unsigned int i = 0; prev && i < prev->n; i++)
		if (prev->rows[i].id == id)
			return &prev->rows[i];
	return NULL;
}

static int row_read(struct top_row *r, json_t *o, const struct top_frame *prev, int64_t t_ns)
{
	const char *path = json_string_value(json_object_get(o, "path"));
	const struct top_row *p;
	json_t *k;
	size_t i, n = 0;

	if (!path || !json_is_integer(json_object_get(o, "id")))
		return -EINVAL;
	r->path = strdup(path);
	if (!r->path)
		return -ENOMEM;
	r->id = json_integer_value(json_object_get(o, "id"));
	r->name = k8s_name(json_object_get(o, "k8s"));
	r->overloaded = json_is_false(json_object_get(o, "idle"));
	json_array_foreach(json_object_get(o, "kinds"), i, k)
		n += snprintf(r->kinds + n, n < sizeof(r->kinds) ? sizeof(r->kinds) - n : 0, "%s%s",
			      n ? "," : "", json_string_value(k) ?: "?");
	r->cpu = real_or(o, "cpu_used_ratio", -1);
	r->mem = int_or(o, "memory_bytes", -1);
	r->budget = int_or(o, "memory_budget_bytes", -1);
	r->stall = real_or(o, "memory_stall_ratio", -1);
	r->p99_ns = int_or(o, "runq_p99_ns", -1);
	r->has_totals = json_is_integer(json_object_get(o, "runq_waits"));
	r->waits = int_or(o, "runq_waits", 0);
	r->wait_ns = int_or(o, "runq_wait_ns", 0);
	r->other_ns = int_or(o, "runq_behind_other_ns", 0);
	r->waits_s = r->behind = -1;
	p = find_prev(prev, r->id);
	if (p && r->has_totals && p->has_totals && t_ns > prev->t_ns && r->waits >= p->waits &&
	    r->wait_ns >= p->wait_ns && r->other_ns >= p->other_ns) {
		r->waits_s = (r->waits - p->waits) * 1e9 / (t_ns - prev->t_ns);
		r->behind = r->wait_ns > p->wait_ns ?
			    (double)(r->other_ns - p->other_ns) / (r->wait_ns - p->wait_ns) : 0;
	}
	return 0;
}

int top_frame_read(struct top_frame *frame, json_t *o, const struct top_frame *prev)
{
	json_t *arr = json_object_get(o, "cgroups"), *row;
	size_t i;
	int err;

	memset(frame, 0, sizeof(*frame));
	if (!json_is_array(arr) || !json_is_integer(json_object_get(o, "t_ns")))
		return -EINVAL;
	frame->t_ns = json_integer_value(json_object_get(o, "t_ns"));
	frame->rows = calloc(json_array_size(arr) ?: 1, sizeof(*frame->rows));
	if (!frame->rows)
		return -ENOMEM;
	json_array_foreach(arr, i, row) {
		err = row_read(&frame->rows[frame->n], row, prev, frame->t_ns);
		if (err) {
			top_frame_free(frame);
			return err;
		}
		frame->n++;
	}
	return 0;
}

void top_frame_free(struct top_frame *frame)
{
	for (unsigned int i = 0; i < frame->n; i++) {
		free(frame->rows[i].path);
		free(frame->rows[i].name);
	}
	free(frame->rows);
	memset(frame, 0, sizeof(*frame));
}

static bool shown(const struct top_row *r, const char *filter)
{
	if (!filter || !*filter)
		return true;
	if (strpbrk(filter, "*?["))
		return !fnmatch(filter, r->path, 0) || (r->name && !fnmatch(filter, r->name, 0));
	return strstr(r->path, filter) || (r->name && strstr(r->name, filter));
}

/* tree order: component by component, a parent before its children */
static int path_cmp(const char *a, const char *b)
{
	for (; *a && *a == *b; a++, b++)
		;
	if (*a == *b)
		return 0;
	if (*a == '/' || !*a)
		return -1;
	if (*b == '/' || !*b)
		return 1;
	return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_num(double a, double b)
{
	return a > b ? -1 : a < b;	/* larger first */
}

static const struct top_view *sort_view;
static const struct top_row *sort_rows;

static int cmp_rows(const void *x, const void *y)
{
	const struct top_row *a = &sort_rows[*(const unsigned int *)x];
	const struct top_row *b = &sort_rows[*(const unsigned int *)y];
	double ma = a->budget > 0 ? (double)a->mem / a->budget : -1;
	double mb = b->budget > 0 ? (double)b->mem / b->budget : -1;
	int c = 0;

	if (sort_view->tree)
		return path_cmp(a->path, b->path);
	switch (sort_view->sort) {
	case TOP_VERDICT:
		c = (int)b->overloaded - (int)a->overloaded;
		if (!c)
			c = cmp_num(a->cpu, b->cpu);
		break;
	case TOP_KINDS:
		c = strcmp(b->kinds, a->kinds);
		break;
	case TOP_CPU:
		c = cmp_num(a->cpu, b->cpu);
		break;
	case TOP_MEM:
		c = cmp_num(ma, mb);
		break;
	case TOP_RUNQ_P99:
		c = cmp_num(a->p99_ns, b->p99_ns);
		break;
	case TOP_WAITS:
		c = cmp_num(a->waits_s, b->waits_s);
		break;
	case TOP_BEHIND:
		c = cmp_num(a->behind, b->behind);
		break;
	case TOP_STALL:
		c = cmp_num(a->stall, b->stall);
		break;
	default:
		break;
	}
	return c ? c : path_cmp(a->path, b->path);
}

static int levels(const char *path)
{
	int n = 0;

	if (!strcmp(path, "/"))
		return 0;	/* the root: above every other */
	for (; *path; path++)
		n += *path == '/';
	return n;
}

unsigned int *top_frame_order(const struct top_frame *frame, const struct top_view *v,
			      unsigned int *n)
{
	unsigned int *idx = malloc((frame->n ?: 1) * sizeof(*idx)), i;
	int top = 1 << 30;

	*n = 0;
	if (!idx)
		return NULL;
	for (i = 0; i < frame->n; i++)
		if (shown(&frame->rows[i], v->filter)) {
			idx[(*n)++] = i;
			if (levels(frame->rows[i].path) < top)
				top = levels(frame->rows[i].path);
		}
	for (i = 0; i < *n; i++)
		frame->rows[idx[i]].depth = v->tree ? levels(frame->rows[idx[i]].path) - top : 0;
	sort_view = v;
	sort_rows = frame->rows;
	qsort(idx, *n, sizeof(*idx), cmp_rows);
	return idx;
}

#define VERDICT_W 10

void top_render_header(FILE *f, const struct top_view *v, unsigned int width)
{
	static const char *const heads[TOP_COL_COUNT] = {
		"VERDICT", "KINDS", "CPU%", "MEMORY/BUDGET", "P99", "WAITS/s", "BEHIND%", "STALL%",
		"CGROUP",
	};
	static const int widths[TOP_COL_COUNT] = { -VERDICT_W, -12, 6, 24, 9, 8, 8, 7, 0 };
	char line[512];
	size_t n = 0;

	for (int c = 0; c < TOP_COL_COUNT && n < sizeof(line); c++) {
		char h[32];

		snprintf(h, sizeof(h), "%s%s", heads[c], !v->tree && (int)v->sort == c ? "*" : "");
		n += snprintf(line + n, sizeof(line) - n, c ? " %*s" : "%*s", widths[c], h);
	}
	if (width && strlen(line) > width)
		line[width] = '\0';
	fprintf(f, "%s%s%s\n", v->color ? "\033[7m" : "", line, v->color ? "\033[0m" : "");
}

static void fmt_pct(char *buf, size_t len, double ratio)
{
	if (ratio < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", 100 * ratio);
}

void top_render_row(FILE *f, const struct top_row *r, const struct top_view *v,
		    unsigned int width)
{
	char cpu[16], mem[40], used[16], budget[16], p99[16], waits[16], behind[16], stall[16];
	char line[1024];
	const char *verdict = r->overloaded ? "OVERLOADED" : "idle";
	int off;

	fmt_pct(cpu, sizeof(cpu), r->cpu);
	if (r->mem < 0) {
		snprintf(mem, sizeof(mem), "-");
	} else {
		fmt_bytes(r->mem, used, sizeof(used));
		if (r->budget > 0) {
			fmt_bytes(r->budget, budget, sizeof(budget));
			snprintf(mem, sizeof(mem), "%s/%s %3.0f%%", used, budget,
				 100.0 * r->mem / r->budget);
		} else {
			snprintf(mem, sizeof(mem), "%s", used);
		}
	}
	if (r->p99_ns < 0)
		snprintf(p99, sizeof(p99), "-");
	else
		fmt_ns(r->p99_ns, p99, sizeof(p99));
	if (r->waits_s < 0)
		snprintf(waits, sizeof(waits), "-");
	else
		snprintf(waits, sizeof(waits), "%.0f", r->waits_s);
	fmt_pct(behind, sizeof(behind), r->behind);
	fmt_pct(stall, sizeof(stall), r->stall);
	off = snprintf(line, sizeof(line), "%-*s %-12s %6s %24s %9s %8s %8s %7s %*s%s%s%s%s",
		       VERDICT_W, verdict, *r->kinds ? r->kinds : "-", cpu, mem, p99, waits, behind,
		       stall, 2 * r->depth, "", r->depth ? strrchr(r->path, '/') + 1 : r->path,
		       r->name ? " (" : "", r->name ? r->name : "", r->name ? ")" : "");
	if (width && off > 0 && (unsigned int)off > width)
		line[width] = '\0';
	if (!v->color) {
		fprintf(f, "%s\n", line);
		return;
	}
	/* the verdict in colour: red for overloaded, green for idle */
	fprintf(f, "%s%.*s\033[0m%s\n", r->overloaded ? "\033[1;31m" : "\033[32m",
		(int)strnlen(line, VERDICT_W), line, strlen(line) > VERDICT_W ? line + VERDICT_W : "");
}
