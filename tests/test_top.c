// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap top against a real agent and a loaded cgroup: batch frames, and
 * the live view in tmux (send-keys, capture-pane): the verdict and kinds
 * shown, sorting, the filter, q.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "readfile.h"
#include "runlib.h"
#include "testlib.h"

static char session[64], rc_file[64];

static void top_teardown(void)
{
	char cmd[128];

	if (*session) {
		snprintf(cmd, sizeof(cmd), "tmux kill-session -t %s 2>/dev/null", session);
		run_cmd(cmd);
	}
	if (*rc_file)
		unlink(rc_file);
	teardown();
}

static bool overloaded_now(json_t *st)
{
	return json_is_false(json_object_get(st, "idle"));
}

/* a busy and a quiet cgroup under a --fast agent; the busy one overloaded */
static void loaded_agent(const char **busy, const char **quiet)
{
	char args[512];
	uint64_t id;
	json_t *st;

	*busy = testlib_cgroup("busy", &id);
	*quiet = testlib_cgroup("quiet", &id);
	snprintf(args, sizeof(args), "--fast --cgroup %s --cgroup %s --max-runq-delay 5ms "
		 "--max-used-cpu-ratio 0.3", *busy, *quiet);
	start_daemon(args);
	char *const argv[] = { (char *)testlib_workload(), "--spinners", "8", "--duration-ms",
			       "100000", NULL };
	testlib_spawn(*busy, argv);
	st = wait_status(*busy, overloaded_now, 30);
	cr_assert(overloaded_now(st), "busy never overloaded");
	json_decref(st);
}

/* the pane's text, or "" */
static char *capture(char *buf, size_t len)
{
	char cmd[128];
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tmux capture-pane -p -t %s 2>/dev/null", session);
	buf[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return buf;
	n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
	return buf;
}

/* the line of the pane that ends with @path (a row), or NULL */
static const char *row_of(const char *screen, const char *path, char *line, size_t len)
{
	const char *l = screen, *nl;

	for (; *l; l = nl + 1) {
		nl = strchrnul(l, '\n');
		snprintf(line, len, "%.*s", (int)(nl - l), l);
		while (*line && line[strlen(line) - 1] == ' ')
			line[strlen(line) - 1] = '\0';
		if (strlen(line) > strlen(path) && !strcmp(line + strlen(line) - strlen(path), path))
			return line;
		if (!*nl)
			break;
	}
	return NULL;
}

/* wait up to @ms for the pane to show @needle */
static bool pane_shows(const char *needle, int ms, char *screen, size_t len)
{
	for (int t = 0; t < ms / 50; t++) {
		if (strstr(capture(screen, len), needle))
			return true;
		usleep(50000);
	}
	return false;
}

static void keys(const char *k)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "tmux send-keys -t %s %s", session, k);
	cr_assert(eq(int, run_cmd(cmd), 0), "%s", cmd);
}

Test(run, top_batch_prints_n_frames_overloaded_first, .fini = top_teardown, .timeout = 120)
{
	char cmd[512], *out = NULL, busy_path[600], line[512];
	const char *busy, *quiet, *l;
	size_t len = 0;
	int frames = 0, rows = 0;
	FILE *p;

	loaded_agent(&busy, &quiet);
	snprintf(busy_path, sizeof(busy_path), "/%s", busy);
	snprintf(cmd, sizeof(cmd), "%s top -b -n 3 -d 300ms --url 127.0.0.1:%d", getenv("CGSNAP_BIN"),
		 port);
	p = popen(cmd, "r");
	cr_assert(ne(ptr, p, NULL));
	while (getline(&out, &len, p) > 0) {
		frames += !strncmp(out, "cgsnap top - ", 13);
		if (!strncmp(out, "VERDICT", 7)) {
			/* sorted by load: the busy cgroup's row comes first */
			cr_assert(gt(long, (long)getline(&out, &len, p), 0L));
			out[strcspn(out, "\n")] = '\0';
			cr_assert(ne(ptr, strstr(out, busy_path), NULL), "first row: %s", out);
			cr_assert(eq(int, strncmp(out, "OVERLOADED", 10), 0), "first row: %s", out);
			l = row_of(out, busy_path, line, sizeof(line));
			cr_assert(ne(ptr, (void *)l, NULL));
			cr_assert(ne(ptr, strstr(l, "runq"), NULL), "no runq kind: %s", l);
			rows++;
		}
	}
	free(out);
	cr_assert(eq(int, WEXITSTATUS(pclose(p)), 0));
	cr_assert(eq(int, frames, 3));
	cr_assert(eq(int, rows, 3));
	snprintf(cmd, sizeof(cmd), "%s top -b -n 1 --url 127.0.0.1:1 2>&1 | grep -q 'no agent at'",
		 getenv("CGSNAP_BIN"));
	cr_assert(eq(int, run_cmd(cmd), 0), "an unreachable --url is not named");
}

Test(run, top_live_view_in_tmux_sorts_filters_and_quits, .fini = top_teardown, .timeout = 120)
{
	char cmd[4608], screen[16384], line[512], busy_path[600], quiet_path[600];
	char bin[4096];
	const char *busy, *quiet, *r;
	char *rc = NULL;

	if (run_cmd("command -v tmux >/dev/null"))
		cr_skip_test("tmux is not installed (make setup installs it)");
	loaded_agent(&busy, &quiet);
	snprintf(busy_path, sizeof(busy_path), "/%s", busy);
	snprintf(quiet_path, sizeof(quiet_path), "/%s", quiet);
	snprintf(session, sizeof(session), "cgsnap-test-%d", getpid());
	snprintf(rc_file, sizeof(rc_file), "/tmp/cgsnap-test-%d-top-rc", getpid());
	cr_assert(ne(ptr, realpath(getenv("CGSNAP_BIN"), bin), NULL));
	snprintf(cmd, sizeof(cmd), "tmux new-session -d -s %s -x 200 -y 30 "
		 "'%s top --url 127.0.0.1:%d; echo rc=$? > %s; sleep 30'", session, bin, port,
		 rc_file);
	cr_assert(eq(int, run_cmd(cmd), 0), "%s", cmd);

	cr_assert(pane_shows("OVERLOADED", 10000, screen, sizeof(screen)), "%s", screen);
	r = row_of(screen, busy_path, line, sizeof(line));
	cr_assert(ne(ptr, (void *)r, NULL), "no row for busy: %s", screen);
	cr_assert(eq(int, strncmp(r, "OVERLOADED", 10), 0), "%s", r);
	cr_assert(ne(ptr, strstr(r, "runq"), NULL), "busy's kinds: %s", r);
	r = row_of(screen, quiet_path, line, sizeof(line));
	cr_assert(ne(ptr, (void *)r, NULL), "no row for quiet: %s", screen);
	cr_assert(eq(int, strncmp(r, "idle", 4), 0), "%s", r);
	cr_assert(lt(ptr, (void *)strstr(screen, busy_path), (void *)strstr(screen, quiet_path)),
		  "not sorted by load: %s", screen);

	/* s: the next column; > and <: right and left */
	keys("s");
	cr_assert(pane_shows("sort: kinds", 3000, screen, sizeof(screen)), "%s", screen);
	keys("'>'");
	cr_assert(pane_shows("sort: cpu", 3000, screen, sizeof(screen)), "%s", screen);
	keys("'<' '<'");
	cr_assert(pane_shows("sort: load", 3000, screen, sizeof(screen)), "%s", screen);
	/* t: the tree */
	keys("t");
	cr_assert(pane_shows("sort: tree", 3000, screen, sizeof(screen)), "%s", screen);
	keys("t");
	/* /: only the quiet cgroup */
	keys("/");
	cr_assert(pane_shows("filter:", 3000, screen, sizeof(screen)), "%s", screen);
	snprintf(cmd, sizeof(cmd), "-l '%s'", strrchr(quiet, '/') ? strrchr(quiet, '/') + 1 : quiet);
	keys(cmd);
	keys("Enter");
	cr_assert(pane_shows("1 cgroup,", 3000, screen, sizeof(screen)), "%s", screen);
	cr_assert(ne(ptr, strstr(screen, quiet_path), NULL), "%s", screen);
	cr_assert(eq(ptr, strstr(screen, busy_path), NULL), "busy shown through the filter: %s",
		  screen);
	/* q: out, with 0 */
	keys("q");
	for (int t = 0; t < 100 && !rc; t++) {
		size_t n = 0;

		if (read_file(rc_file, 64, &rc, &n))
			usleep(50000);
	}
	cr_assert(ne(ptr, rc, NULL), "top did not exit on q");
	cr_assert(eq(int, strncmp(rc, "rc=0", 4), 0), "%s", rc);
	free(rc);
}
