// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap top: a live view of the watched cgroups, in the manner of
 * systemd-cgtop: a running agent's GET /v1/overview once a second, and at
 * once when its event stream tells of a verdict change; without an agent,
 * an agent of its own in this process (root, like stat). On a terminal:
 * keys, colours, the rows that fit; otherwise (or -b) plain frames.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <jansson.h>

#include "addr.h"
#include "agent.h"
#include "cgjson.h"
#include "client.h"
#include "clock.h"
#include "commands.h"
#include "opts.h"
#include "report.h"
#include "top.h"
#include "top_term.h"

struct top_args {
	const char *url, *token_file, *cacert;
	bool batch;
	long iterations;	/* 0: until q or interrupted */
	int64_t delay_ns;
	struct top_view view;
	char filter[256];
};

/* where frames come from: an agent over HTTP, or one in this process */
struct source {
	struct cli_server srv;
	char label[640];
	struct agent *ag;		/* measuring here */
	struct agent_opts opts;
	pthread_t thread;		/* agent__run(), or the event stream */
	bool thread_on;
	int wake[2];			/* a verdict changed: a byte */
	volatile bool quit;
};

enum { OPT_TOKEN = 0x100, OPT_CACERT, OPT_SORT, OPT_TREE };

static const struct argp_option top_options[] = {
	{ "url", 'u', "ADDR:PORT|URL", 0, "The agent to show (default " HTTP_DEFAULT_LISTEN "; "
	  "without one there, and as root, measure here)", 0 },
	{ "batch", 'b', NULL, 0, "Plain frames on standard output, no keys (the default when "
	  "it is not a terminal)", 0 },
	{ "iterations", 'n', "N", 0, "Stop after N frames (default: until q or interrupted)", 0 },
	{ "delay", 'd', "DUR", 0, "Between frames (default 1s)", 0 },
	{ "sort", OPT_SORT, "COL", 0, "Sort by load (default), kinds, cpu, memory, p99, waits, "
	  "behind, stall or cgroup", 0 },
	{ "tree", OPT_TREE, NULL, 0, "The cgroup tree, a parent above its children", 0 },
	{ "filter", 'f', "GLOB", 0, "Only the cgroups whose path or pod matches (a glob, or a "
	  "substring)", 0 },
	CLI_SERVER_OPTIONS(OPT_TOKEN, OPT_CACERT),
	{},
};

static const char top_doc[] =
	"Show the watched cgroups live: verdict, overloaded kinds, CPU of capacity, memory of "
	"budget, run-queue p99 and waits a second, the share of the wait behind another cgroup, "
	"memory stall; sorted by load, refreshed every second and at once on a verdict change."
	"\vKeys: q quit, s next sort column, < > sort column left/right, / filter (Enter keeps, "
	"Esc clears), t tree/flat, space pause, ? help.\n\n"
	"Examples:\n"
	"  cgsnap top                      the agent on this node, or measure here (root)\n"
	"  cgsnap top -b -n 3              three plain frames, one a second\n"
	"  cgsnap top --filter 'kubepods*' --sort p99\n";

static error_t top_parse(int key, char *arg, struct argp_state *state)
{
	struct top_args *a = state->input;
	int c;

	switch (key) {
	case 'u':
		a->url = arg;
		return 0;
	case 'b':
		a->batch = true;
		return 0;
	case 'n':
		return opt_long(state, arg, 1, 1000000000L, &a->iterations);
	case 'd':
		if (opt_duration(state, arg, &a->delay_ns))
			return EINVAL;
		if (a->delay_ns < 100000000LL)
			argp_error(state, "--delay: at least 100ms (got '%s')", arg);
		return 0;
	case OPT_SORT:
		for (c = 0; c < TOP_COL_COUNT && strcmp(arg, top_col_name(c)); c++)
			;
		if (c == TOP_COL_COUNT)
			argp_error(state, "--sort: unknown column '%s' (load, kinds, cpu, memory, p99, "
				   "waits, behind, stall or cgroup)", arg);
		a->view.sort = c;
		return 0;
	case OPT_TREE:
		a->view.tree = true;
		return 0;
	case 'f':
		snprintf(a->filter, sizeof(a->filter), "%s", arg);
		a->view.filter = a->filter;
		return 0;
	case OPT_TOKEN:
		a->token_file = arg;
		return 0;
	case OPT_CACERT:
		a->cacert = arg;
		return 0;
	default:
		return opt_no_args(key, arg, state);
	}
}

/* the event stream: a byte into the wake pipe per verdict change */
static int on_change(const char *type, const char *id, const char *data, void *ctx)
{
	struct source *s = ctx;
	char b = 1;

	(void)data;
	if (id && !strcmp(type, "message") && write(s->wake[1], &b, 1) < 0) {
		/* full: a wake is pending already */
	}
	return s->quit;
}

static void *follow_events(void *ctx)
{
	struct source *s = ctx;
	char err[256];
	long status;

	while (!s->quit) {
		cli_events(&s->srv, "/v1/events", on_change, s, &status, err, sizeof(err));
		for (int i = 0; i < 10 && !s->quit; i++)
			usleep(100000);	/* the agent restarts: try again */
	}
	return NULL;
}

static void on_agent_event(const struct agent_event *ev, void *ctx)
{
	struct source *s = ctx;
	char b = 1;

	if (ev->type == AGENT_VERDICT && ev->previous != VERDICT_NONE &&
	    write(s->wake[1], &b, 1) < 0) {
		/* full: a wake is pending already */
	}
}

static void *run_agent(void *ctx)
{
	struct source *s = ctx;

	agent__run(s->ag, INT64_MAX);
	return NULL;
}

/* the agent at @a->url, or, with none given and none there, one here */
static int source_open(struct source *s, const struct top_args *a)
{
	char err[512], *body = NULL;
	long status = 0;
	int ret;

	if (pipe2(s->wake, O_NONBLOCK | O_CLOEXEC))
		return -errno;
	ret = cli_server_init(&s->srv, a->url ? a->url : HTTP_DEFAULT_LISTEN, a->token_file,
			      a->cacert, err, sizeof(err));
	if (ret) {
		report("%s", err);
		return ret;
	}
	ret = cli_get(&s->srv, "/v1/overview", &status, &body, err, sizeof(err));
	free(body);
	if (!ret && status == 200) {
		snprintf(s->label, sizeof(s->label), "%s", s->srv.base);
		s->thread_on = !pthread_create(&s->thread, NULL, follow_events, s);
		return 0;
	}
	if (!ret) {
		report("%s/v1/overview: HTTP %ld%s", s->srv.base, status,
		       status == 401 || status == 403 ? " (give the agent's token: --token-file)" :
		       status == 404 ? " (an agent older than cgsnap top)" : "");
		return -EPROTO;
	}
	if (a->url) {
		report("no agent at %s: %s", s->srv.base, err);
		return -EIO;
	}
	/* none there: measure here, as stat does */
	if (geteuid()) {
		report("no agent at %s, and measuring here needs root (BPF): run cgsnap run, or "
		       "sudo cgsnap top", s->srv.base);
		return -EPERM;
	}
	cgsnap_settings__init(&s->opts.settings);
	s->opts.watch_all = true;
	s->opts.keep_totals = true;
	s->opts.on_event = on_agent_event;
	s->opts.ctx = s;
	s->ag = agent__open(&s->opts);
	if (!s->ag)
		return -errno;
	ret = agent__start(s->ag, clock_mono_ns());
	if (ret)
		return ret;
	snprintf(s->label, sizeof(s->label), "measured here (no agent at %s)", s->srv.base);
	s->thread_on = !pthread_create(&s->thread, NULL, run_agent, s);
	return s->thread_on ? 0 : -EAGAIN;
}

static void source_close(struct source *s)
{
	s->quit = true;
	if (s->ag) {
		agent_exiting = 1;
		if (s->thread_on) {
			pthread_kill(s->thread, SIGTERM);	/* out of its sleep */
			pthread_join(s->thread, NULL);
		}
		agent__close(s->ag);
		agent_opts_free(&s->opts);
	} else if (s->thread_on) {
		pthread_detach(s->thread);	/* in curl until the next event: let it be */
	}
	if (s->wake[0] > 0) {
		close(s->wake[0]);
		close(s->wake[1]);
	}
}

/* the next frame, rated against @prev; what went wrong in @why */
static int source_read(struct source *s, const struct top_frame *prev, struct top_frame *out,
		       char *why, size_t whylen)
{
	struct agent_cgroup *cgs;
	char err[512], *body = NULL;
	json_error_t jerr;
	unsigned int n;
	json_t *o;
	long status;
	int ret;

	memset(out, 0, sizeof(*out));
	if (s->ag) {
		ret = agent__cgroups(s->ag, AGENT_TOTALS, &cgs, &n);
		if (ret) {
			snprintf(why, whylen, "%s", strerror(-ret));
			return ret;
		}
		o = cgjson_overview(cgs, n, NULL, NULL, clock_mono_ns());
		agent_cgroups_free(cgs, n);
	} else {
		ret = cli_get(&s->srv, "/v1/overview", &status, &body, err, sizeof(err));
		if (ret || status != 200) {
			free(body);
			snprintf(why, whylen, "%s/v1/overview: %s%.0ld", s->srv.base,
				 ret ? err : "HTTP ", ret ? 0L : status);
			return ret ?: -EPROTO;
		}
		o = json_loads(body, 0, &jerr);
		free(body);
	}
	if (!o) {
		snprintf(why, whylen, "%s/v1/overview: not JSON", s->srv.base);
		return -EPROTO;
	}
	ret = top_frame_read(out, o, prev);
	json_decref(o);
	if (ret)
		snprintf(why, whylen, "%s/v1/overview: not an overview", s->srv.base);
	return ret;
}

/* the first line of a frame: where from, how many, how shown */
static void frame_title(FILE *f, const struct top_frame *fr, const unsigned int *idx,
			unsigned int n, const struct top_args *a, const char *label, bool paused)
{
	unsigned int over = 0;

	for (unsigned int i = 0; i < n; i++)
		over += fr->rows[idx[i]].overloaded;
	fprintf(f, "cgsnap top - %s - %u cgroup%s, %u overloaded - sort: %s%s%s%s\n", label, n,
		n == 1 ? "" : "s", over, a->view.tree ? "tree" : top_col_name(a->view.sort),
		a->view.filter ? " - filter: " : "", a->view.filter ? a->view.filter : "",
		paused ? " - PAUSED" : "");
}

static void print_frame(const struct top_frame *f, const struct top_args *a, const char *label)
{
	unsigned int *idx, n, i;

	idx = top_frame_order(f, &a->view, &n);
	frame_title(stdout, f, idx, n, a, label, false);
	top_render_header(stdout, &a->view, 0);
	for (i = 0; i < n; i++)
		top_render_row(stdout, &f->rows[idx[i]], &a->view, 0);
	free(idx);
}

static const char help_text[] =
	"cgsnap top: keys\n"
	"\n"
	"  q        quit\n"
	"  s        sort by the next column (load, kinds, cpu, memory, p99, waits, behind,\n"
	"           stall, cgroup)\n"
	"  < >      sort by the column to the left / right\n"
	"  /        filter: a glob (kubepods*) or a substring of the path or pod; Enter keeps\n"
	"           it, Esc clears it\n"
	"  t        the cgroup tree, or flat\n"
	"  space    pause / resume\n"
	"  ?        this help (any key closes it)\n"
	"\n"
	"Columns: VERDICT the agent's current verdict; KINDS what makes it; CPU% of the\n"
	"cgroup's capacity; MEMORY/BUDGET and its share; P99 run-queue wait of the latest\n"
	"interval; WAITS/s; BEHIND% of the waiting spent behind another cgroup's task;\n"
	"STALL% of the time in memory reclaim.\n";

/* the screen: title, header, the rows that fit, the key line or the prompt */
static void draw(const struct top_frame *fr, const struct top_args *a, const char *label,
		 bool paused, bool help, const char *prompt)
{
	unsigned int rows, cols, *idx, n, i;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	term_size(&rows, &cols);
	f = open_memstream(&text, &len);
	if (!f)
		return;
	idx = top_frame_order(fr, &a->view, &n);
	frame_title(f, fr, idx, n, a, label, paused);
	if (help) {
		fputs(help_text, f);
	} else {
		top_render_header(f, &a->view, cols);
		for (i = 0; i < n && i + 3 < rows; i++)
			top_render_row(f, &fr->rows[idx[i]], &a->view, cols);
		for (; i + 3 < rows; i++)
			fputc('\n', f);
	}
	if (prompt)
		fprintf(f, "filter: %s", prompt);
	else
		fprintf(f, "q quit  s < > sort  / filter  t tree  space pause  ? help");
	free(idx);
	fclose(f);
	term_show(text, len);
	free(text);
}

/* '/' pressed: read the filter, a key at a time, shown as it is typed */
static void read_filter(struct source *s, struct top_args *a, const struct top_frame *fr,
			bool paused)
{
	char buf[sizeof(a->filter)] = "";
	size_t n = 0;
	int c;

	for (;;) {
		draw(fr, a, s->label, paused, false, buf);
		c = term_key(60000, -1);
		if (c == TERM_INTR || c == TERM_TIMEOUT || c == 27) {	/* Esc: no filter */
			a->view.filter = NULL;
			return;
		}
		if (c == '\r' || c == '\n') {
			snprintf(a->filter, sizeof(a->filter), "%s", buf);
			a->view.filter = *a->filter ? a->filter : NULL;
			return;
		}
		if ((c == 127 || c == 8) && n) {
			buf[--n] = '\0';
		} else if (c >= 32 && c < 127 && n + 1 < sizeof(buf)) {
			buf[n++] = c;
			buf[n] = '\0';
		}
	}
}

/* a key that changes the view: handled (true), or not one */
static bool view_key(int c, struct top_args *a, bool *paused, bool *help)
{
	switch (c) {
	case 's':
		a->view.sort = (a->view.sort + 1) % TOP_COL_COUNT;
		a->view.tree = false;
		return true;
	case '>':
		a->view.sort += a->view.sort + 1 < TOP_COL_COUNT;
		a->view.tree = false;
		return true;
	case '<':
		a->view.sort -= a->view.sort > 0;
		a->view.tree = false;
		return true;
	case 't':
		a->view.tree = !a->view.tree;
		return true;
	case ' ':
		*paused = !*paused;
		return true;
	case '?':
		*help = true;
		return true;
	default:
		return false;
	}
}

static int top_interactive(struct source *s, struct top_args *a)
{
	struct top_frame cur, fresh;
	bool paused = false, help = false;
	char why[700] = "";
	long frames = 1;
	int64_t next;
	int ret, c;

	a->view.color = true;
	ret = source_read(s, NULL, &cur, why, sizeof(why));
	if (ret) {
		report("%s", why);
		return ret;
	}
	ret = term_raw();
	if (ret) {
		report_err(ret, "cannot set up the terminal");
		top_frame_free(&cur);
		return ret;
	}
	next = clock_mono_ns() + a->delay_ns;
	while (!agent_exiting) {
		draw(&cur, a, s->label, paused, help, NULL);
		c = term_key((int)((next - clock_mono_ns()) / 1000000), s->wake[0]);
		if (c == TERM_INTR)
			continue;	/* a signal: agent_exiting says which */
		if (help && c >= 0) {
			help = false;
			continue;
		}
		if (c == 'q' || c == 'Q')
			break;
		if (c == '/')
			read_filter(s, a, &cur, paused);
		if (c >= 0)
			view_key(c, a, &paused, &help);
		if (c >= 0)
			continue;
		if (c == TERM_TIMEOUT)
			next = clock_mono_ns() + a->delay_ns;
		if (paused)
			continue;
		ret = source_read(s, &cur, &fresh, why, sizeof(why));
		if (ret)
			break;
		top_frame_free(&cur);
		cur = fresh;
		if (a->iterations && ++frames > a->iterations)
			break;
	}
	term_restore();
	if (ret)
		report("%s", why);
	top_frame_free(&cur);
	return ret;
}

/* plain frames: the first once the rates have a second reading */
static int top_batch(struct source *s, struct top_args *a)
{
	struct top_frame prev, cur;
	char why[700] = "";
	int ret;

	if (s->ag) {
		/* measuring here: the first system tick, with CPU and memory */
		struct timespec first = { 1, 200000000 };

		nanosleep(&first, NULL);
	}
	ret = source_read(s, NULL, &prev, why, sizeof(why));
	for (long i = 0; !ret && (!a->iterations || i < a->iterations) && !agent_exiting; i++) {
		struct timespec ts = { a->delay_ns / 1000000000, a->delay_ns % 1000000000 };

		nanosleep(&ts, NULL);
		if (agent_exiting)
			break;
		ret = source_read(s, &prev, &cur, why, sizeof(why));
		if (ret)
			break;
		if (i)
			putchar('\n');
		print_frame(&cur, a, s->label);
		if (fflush(stdout)) {
			ret = -errno;
			snprintf(why, sizeof(why), "cannot write the frame: %s", strerror(-ret));
			top_frame_free(&cur);
			break;
		}
		top_frame_free(&prev);
		prev = cur;
	}
	top_frame_free(&prev);
	if (ret == -EPIPE)
		return 0;	/* | head: the reader has what it wanted */
	if (ret)
		report("%s", ret < 0 && *why ? why : strerror(-ret));
	return ret;
}

int cmd_top(int argc, char **argv)
{
	const struct argp argp = { .options = top_options, .parser = top_parse, .doc = top_doc };
	struct top_args a = { .delay_ns = 1000000000LL };
	struct source s = { .wake = { -1, -1 } };
	int ret;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		a.batch = true;
	agent_handle_signals();
	ret = source_open(&s, &a);
	if (!ret)
		ret = a.batch ? top_batch(&s, &a) : top_interactive(&s, &a);
	source_close(&s);
	return ret ? 1 : 0;
}
