/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgsnap top's model and view (top_view.c): the rows of one frame, read
 * from the JSON of GET /v1/overview, their rates against the frame before,
 * sorted, filtered, flat or as a tree, and rendered as lines of text. Pure:
 * no terminal, no I/O but the FILE it renders to; top.c drives it.
 */
#ifndef __CGSNAP_TOP_H
#define __CGSNAP_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* the columns, in their order on screen; the sort keys */
enum top_col {
	TOP_VERDICT,	/* by load: overloaded first, then by CPU */
	TOP_KINDS,
	TOP_CPU,
	TOP_MEM,
	TOP_RUNQ_P99,
	TOP_WAITS,
	TOP_BEHIND,
	TOP_STALL,
	TOP_CGROUP,
	TOP_COL_COUNT,
};

struct top_row {
	char *path;		/* as /v1/cgroups lists it: "/kubepods.slice/..." */
	char *name;		/* namespace/pod[/container] when known, else NULL */
	uint64_t id;
	bool overloaded;
	char kinds[48];		/* "cpu,runq" */
	double cpu;		/* of its capacity, 0..1; < 0: not known */
	int64_t mem, budget;	/* bytes; budget <= 0: not known */
	double stall;		/* memory stall ratio, 0..1; < 0: not known */
	int64_t p99_ns;		/* run-queue p99 of the latest interval; < 0: none */
	double waits_s;		/* waits a second, since the frame before; < 0: not known */
	double behind;		/* share of the wait behind another cgroup; < 0: not known */
	bool has_totals;
	uint64_t waits, wait_ns, other_ns;	/* totals, for the next frame's rates */
	int depth;		/* tree mode: levels below the shallowest row */
};

struct top_frame {
	struct top_row *rows;
	unsigned int n;
	int64_t t_ns;
};

struct top_view {
	enum top_col sort;
	bool tree;
	bool color;
	const char *filter;	/* a glob (with * ? [) or a substring; NULL: all */
};

/* @frame from the overview JSON @o, rates against @prev (may be NULL): 0 or
 * -EINVAL (not an overview) */
int top_frame_read(struct top_frame *frame, json_t *o, const struct top_frame *prev);
void top_frame_free(struct top_frame *frame);
/* the rows @v shows, in its order: indices into frame->rows, *@n of them
 * (malloc'ed; NULL with *@n 0 when there are none or no memory) */
unsigned int *top_frame_order(const struct top_frame *frame, const struct top_view *v,
			      unsigned int *n);
/* the column header line, the sort column marked */
void top_render_header(FILE *f, const struct top_view *v, unsigned int width);
/* one row, cut at @width columns (0: not cut) */
void top_render_row(FILE *f, const struct top_row *r, const struct top_view *v,
		    unsigned int width);
const char *top_col_name(enum top_col c);

#endif /* __CGSNAP_TOP_H */
