// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* docs/SPEC.md section 7: cgsnap replay. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "replay.h"

static struct replay_opts opts;
static char err[512];

static void setup(void)
{
	memset(&opts, 0, sizeof(opts));
	cgsnap_settings__init(&opts.settings);
	err[0] = '\0';
}

/* replay @input; returns the result (NULL on error, with *@ret set) */
static json_t *replay(const char *input, int *ret)
{
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	json_t *result = NULL;
	int r;

	cr_assert(ne(ptr, in, NULL));
	r = replay_stream(in, &opts, &result, err, sizeof(err));
	fclose(in);
	if (ret)
		*ret = r;
	else
		cr_assert(eq(int, r, 0), "replay failed: %s", err);
	return result;
}

static json_t *at(json_t *root, const char *path)
{
	json_t *v = json_object_get(root, "cgroups");
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, atoi(tok)) : json_object_get(v, tok);
	cr_assert(ne(ptr, v, NULL), "no %s in the result", path);
	return v;
}

static bool is_true(json_t *v) { return json_is_true(v); }
static bool is_false(json_t *v) { return json_is_false(v); }
static bool is_null(json_t *v) { return json_is_null(v); }

static double real_at(json_t *root, const char *path)
{
	return json_number_value(at(root, path));
}

TestSuite(replay, .init = setup);

Test(replay, spec_cpu_example_is_0667)
{
	json_t *r;

	opts.settings.snapshot_history_ns = 300 * CGSNAP_NSEC_PER_SEC;
	opts.settings.overload_threshold[CGSNAP_KIND_CPU] = 0.5;
	r = replay("{\"kind\":\"cpu\",\"t_ns\":-180000000000,\"used_ratio\":0.6,\"max_used_ratio\":0.75}\n"
		   "{\"kind\":\"cpu\",\"t_ns\":-120000000000,\"used_ratio\":0.7,\"max_used_ratio\":0.75}\n"
		   "{\"kind\":\"cpu\",\"t_ns\":-60000000000,\"used_ratio\":0.8,\"max_used_ratio\":0.75}\n"
		   "{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.9,\"max_used_ratio\":0.75}\n", NULL);
	cr_assert(eq(dbl, real_at(r, "default.historical.cpu.actual_ratio"), 0.667));
	cr_assert(is_true(at(r, "default.historical.cpu.overloaded")));
	cr_assert(is_false(at(r, "default.historical.idle")));
	cr_assert(eq(sz, json_array_size(at(r, "default.history.cpu")), 4));
	cr_assert(is_false(at(r, "default.history.cpu.1.overloaded")));
	cr_assert(is_true(at(r, "default.history.cpu.2.overloaded")));
	cr_assert(eq(dbl, real_at(r, "default.history.cpu.2.used_ratio"), 0.8));
	cr_assert(eq(ptr, json_object_get(at(r, "default"), "sample"), NULL),
		  "no sample without --sample-duration");
	json_decref(r);
}

Test(replay, spec_8gib_warning)
{
	json_t *r, *w;

	r = replay("{\"cgroup\":\"web\",\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":8160437862,"
		   "\"max_bytes\":8589934592,\"max_used_ratio\":0.9}\n"
		   "{\"cgroup\":\"web\",\"kind\":\"memory\",\"t_ns\":1000000,\"current_bytes\":8160437862,"
		   "\"max_bytes\":8589934592,\"max_used_ratio\":0.9}\n", NULL);
	w = at(r, "web.warnings");
	cr_assert(eq(sz, json_array_size(w), 1));
	cr_assert(eq(i64, json_integer_value(at(r, "web.warnings.0.threshold_bytes")), 8160437861));
	cr_assert(eq(i64, json_integer_value(at(r, "web.warnings.0.current_bytes")), 8160437862));
	cr_assert(eq(i64, json_integer_value(at(r, "web.warnings.0.budget_bytes")), 8589934592));
	cr_assert(eq(i64, json_integer_value(at(r, "web.warnings.0.t_ns")), 0));
	cr_assert(eq(ptr, json_object_get(json_object_get(r, "cgroups"), "default"), NULL),
		  "no lines without a cgroup: no \"default\"");
	json_decref(r);
}

Test(replay, empty_input_reports_default_idle)
{
	json_t *r = replay("", NULL);
	const char *kinds[] = { "cpu", "memory", "runq", "client" };
	char path[128];
	int i;

	cr_assert(is_true(at(r, "default.current.idle")));
	cr_assert(is_true(at(r, "default.historical.idle")));
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "default.history.%s", kinds[i]);
		cr_assert(eq(sz, json_array_size(at(r, path)), 0));
		snprintf(path, sizeof(path), "default.current.%s.actual_ratio", kinds[i]);
		cr_assert(eq(dbl, real_at(r, path), 0.0));
	}
	cr_assert(eq(sz, json_array_size(at(r, "default.warnings")), 0));
	json_decref(r);
}

Test(replay, spec_example_lines_and_echo)
{
	json_t *r;

	r = replay("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":4294967296,\"max_bytes\":12884901888,"
		   "\"max_used_ratio\":0.8,\"system_used_bytes\":null,\"system_total_bytes\":null}\n"
		   "{\"kind\":\"runq\",\"t_ns\":0,\"delay_ns\":700000000,\"max_delay_ns\":500000000}\n"
		   "\n"
		   "{\"kind\":\"client\",\"t_ns\":0,\"error_count\":4,\"max_error_count\":2}\n", NULL);
	cr_assert(is_null(at(r, "default.history.memory.0.system_used_bytes")));
	cr_assert(is_false(at(r, "default.history.memory.0.overloaded")));
	cr_assert(is_true(at(r, "default.history.runq.0.overloaded")));
	cr_assert(eq(i64, json_integer_value(at(r, "default.history.client.0.new_error_count")), 4));
	cr_assert(is_true(at(r, "default.history.client.0.overloaded")));
	cr_assert(eq(dbl, real_at(r, "default.current.runq.actual_ratio"), 1.0));
	cr_assert(is_true(at(r, "default.current.client.overloaded")));
	json_decref(r);
}

Test(replay, optional_fields_and_sample)
{
	json_t *r;

	opts.sample = true;
	opts.sample_ns = 1 * CGSNAP_NSEC_PER_SEC;
	r = replay("{\"kind\":\"runq\",\"t_ns\":0,\"delay_ns\":1,\"max_delay_ns\":5,\"count\":3,"
		   "\"p99_ns\":9}\n"
		   "{\"kind\":\"runq\",\"t_ns\":2000000000,\"delay_ns\":1,\"max_delay_ns\":5}\n"
		   "{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":1,\"max_bytes\":100,"
		   "\"max_used_ratio\":0.9,\"stall_ratio\":0.5,\"max_stall_ratio\":0.2}\n", NULL);
	cr_assert(eq(i64, json_integer_value(at(r, "default.history.runq.0.count")), 3));
	cr_assert(eq(i64, json_integer_value(at(r, "default.history.runq.0.p99_ns")), 9));
	cr_assert(eq(ptr, json_object_get(at(r, "default.history.runq.0"), "p50_ns"), NULL),
		  "absent statistics are not invented");
	cr_assert(eq(sz, json_array_size(at(r, "default.sample.runq")), 1), "1 s window");
	cr_assert(is_true(at(r, "default.history.memory.0.overloaded")), "0.5 > 0.2 stall");
	json_decref(r);
}

Test(replay, client_new_error_count_given_or_computed)
{
	json_t *r;

	r = replay("{\"cgroup\":\"a\",\"kind\":\"client\",\"t_ns\":0,\"error_count\":1,\"max_error_count\":1}\n"
		   "{\"cgroup\":\"b\",\"kind\":\"client\",\"t_ns\":0,\"error_count\":9,\"max_error_count\":1}\n"
		   "{\"cgroup\":\"a\",\"kind\":\"client\",\"t_ns\":1,\"error_count\":5,\"max_error_count\":1}\n"
		   "{\"cgroup\":\"a\",\"kind\":\"client\",\"t_ns\":2,\"error_count\":6,\"new_error_count\":0,"
		   "\"max_error_count\":1}\n", NULL);
	cr_assert(eq(i64, json_integer_value(at(r, "a.history.client.1.new_error_count")), 4),
		  "5 - 1: cgroups do not share counts");
	cr_assert(eq(i64, json_integer_value(at(r, "a.history.client.2.new_error_count")), 0));
	cr_assert(eq(i64, json_integer_value(at(r, "b.history.client.0.new_error_count")), 9));
	json_decref(r);
}

static void expect_error(const char *input, const char *needle)
{
	int ret = 0;
	json_t *r = replay(input, &ret);

	cr_assert(eq(ptr, r, NULL));
	cr_assert(eq(int, ret, -EINVAL), "input %s", input);
	cr_assert(ne(ptr, strstr(err, needle), NULL), "error '%s' should contain '%s'", err, needle);
}

#define OK_CPU "{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.5,\"max_used_ratio\":0.9}\n"

Test(replay, malformed_lines_name_line_and_problem)
{
	expect_error(OK_CPU "{\"kind\":\"cpu\",", "line 2: invalid JSON");
	expect_error(OK_CPU OK_CPU "{\"kind\":\"disk\",\"t_ns\":0}", "line 3: unknown kind \"disk\"");
	expect_error("{\"t_ns\":0}", "line 1: \"kind\" is missing");
	expect_error("{\"kind\":\"cpu\",\"used_ratio\":0.5,\"max_used_ratio\":0.9}",
		     "\"t_ns\" is missing");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"max_used_ratio\":0.9}",
		     "\"used_ratio\" is missing");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":\"0\",\"used_ratio\":0.5,\"max_used_ratio\":0.9}",
		     "\"t_ns\" must be an integer");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":1.5,\"used_ratio\":0.5,\"max_used_ratio\":0.9}",
		     "\"t_ns\" must be an integer");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":\"high\",\"max_used_ratio\":0.9}",
		     "\"used_ratio\" must be a number");
	expect_error("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":-1,\"max_bytes\":10,"
		     "\"max_used_ratio\":0.9}", "\"current_bytes\" must not be negative");
	expect_error("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":1.5,\"max_bytes\":10,"
		     "\"max_used_ratio\":0.9}", "\"current_bytes\" must be an integer");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.5,\"max_used_ratio\":1.5}",
		     "max_used_ratio must be in (0, 1]");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":NaN,\"max_used_ratio\":0.5}",
		     "line 1: invalid JSON");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":1e999,\"max_used_ratio\":0.5}",
		     "line 1: invalid JSON");
	expect_error("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":1,\"max_bytes\":10,"
		     "\"max_used_ratio\":0.9,\"stall_ratio\":2}", "stall_ratio must be in [0, 1]");
	expect_error("[1,2]", "line 1: a snapshot must be a JSON object");
	expect_error("{\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.5,\"max_used_ratio\":0.9,"
		     "\"used_ration\":1}", "unknown field \"used_ration\"");
	expect_error("{\"kind\":\"cpu\",\"kind\":\"cpu\",\"t_ns\":0}", "duplicate");
	expect_error("{\"cgroup\":7,\"kind\":\"cpu\",\"t_ns\":0,\"used_ratio\":0.5,"
		     "\"max_used_ratio\":0.9}", "\"cgroup\" must be a string");
	expect_error("{\"kind\":\"client\",\"t_ns\":0,\"error_count\":99999999999999999999,"
		     "\"max_error_count\":1}", "invalid JSON");
}

/* the binary: exit statuses and messages */
static int run_cli(const char *args, const char *input, char *out, size_t outlen)
{
	const char *bin = getenv("CGSNAP_BIN");
	char cmd[1024], tmp[] = "/tmp/cgsnap-test-XXXXXX";
	int fd, status;
	ssize_t written;
	FILE *p;
	size_t n;

	cr_assert(ne(ptr, (void *)bin, NULL), "CGSNAP_BIN is not set (run the tests with make test)");
	fd = mkstemp(tmp);
	cr_assert(ge(int, fd, 0));
	written = write(fd, input, strlen(input));
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s replay %s %s 2>&1", bin, args, tmp);
	p = popen(cmd, "r");
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
	unlink(tmp);	/* before any assertion can end the test */
	cr_assert(eq(sz, (size_t)written, strlen(input)));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(replay, cli_exit_status_2_on_malformed_line)
{
	char out[4096];

	cr_assert(eq(int, run_cli("", OK_CPU "not json\n", out, sizeof(out)), 2));
	cr_assert(ne(ptr, strstr(out, "line 2"), NULL), "got: %s", out);
	cr_assert(eq(int, run_cli("--cpu-overload-threshold 0", OK_CPU, out, sizeof(out)), 2));
	cr_assert(ne(ptr, strstr(out, "invalid cpu_overload_threshold '0'"), NULL), "got: %s", out);
	cr_assert(eq(int, run_cli("--sample-duration 5", OK_CPU, out, sizeof(out)), 2));
	cr_assert(ne(ptr, strstr(out, "invalid duration '5'"), NULL), "got: %s", out);
	cr_assert(eq(int, run_cli("--sample-duration 0s", OK_CPU, out, sizeof(out)), 0));
	cr_assert(ne(ptr, strstr(out, "\"sample\":{\"cpu\":[{"), NULL), "got: %s", out);
}

Test(replay, history_entries_echo_their_lines_exactly)
{
	static const char *const lines[] = {
		"{\"kind\":\"cpu\",\"t_ns\":1,\"used_ratio\":0.6,\"max_used_ratio\":0.75}",
		"{\"kind\":\"memory\",\"t_ns\":1,\"current_bytes\":4294967296,\"max_bytes\":12884901888,"
		"\"max_used_ratio\":0.8,\"system_used_bytes\":null,\"system_total_bytes\":null}",
		"{\"kind\":\"memory\",\"t_ns\":2,\"current_bytes\":1,\"max_bytes\":10,"
		"\"max_used_ratio\":0.8,\"stall_ratio\":0.05,\"max_stall_ratio\":0.2}",
		"{\"kind\":\"runq\",\"t_ns\":1,\"delay_ns\":7,\"max_delay_ns\":5,\"count\":3,"
		"\"p99_ns\":null}",
		"{\"kind\":\"client\",\"t_ns\":1,\"error_count\":4,\"max_error_count\":2}",
		"{\"cgroup\":\"web\",\"kind\":\"client\",\"t_ns\":1,\"error_count\":4,"
		"\"new_error_count\":1,\"max_error_count\":2}",
	};
	static const char *const where[] = {
		"default.history.cpu.0", "default.history.memory.0", "default.history.memory.1",
		"default.history.runq.0", "default.history.client.0", "web.history.client.0",
	};
	char input[2048] = "";
	size_t i;
	json_t *r;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		strcat(input, lines[i]);
		strcat(input, "\n");
	}
	r = replay(input, NULL);
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		json_t *line = json_loads(lines[i], 0, NULL);
		json_t *entry = json_deep_copy(at(r, where[i]));

		bool has_verdict = json_is_boolean(json_object_get(entry, "overloaded"));

		cr_assert(has_verdict, "%s has no overloaded verdict", where[i]);
		json_object_del(entry, "overloaded");
		/* docs/SPEC.md section 7: a computed new_error_count is filled in */
		if (!json_object_get(line, "new_error_count") &&
		    json_object_get(entry, "new_error_count")) {
			cr_assert(eq(i64, json_integer_value(json_object_get(entry, "new_error_count")), 4));
			json_object_del(entry, "new_error_count");
		}
		bool same = json_equal(line, entry);

		cr_assert(same, "%s echoes\n%s\nas\n%s", where[i], lines[i],
			  json_dumps(entry, JSON_SORT_KEYS));
		json_decref(line);
		json_decref(entry);
	}
	json_decref(r);
}

Test(replay, null_where_a_value_is_required_is_an_error)
{
	int ret = 0;
	json_t *r = replay("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":1,\"max_bytes\":10,"
			   "\"max_used_ratio\":0.9,\"max_stall_ratio\":null}\n", &ret);

	cr_assert(eq(ptr, r, NULL));
	cr_assert(eq(int, ret, -EINVAL));
	cr_assert(ne(ptr, strstr(err, "line 1: \"max_stall_ratio\" must not be null"), NULL), "%s", err);
}

/* the reproducer of a float-to-integer overflow in the warning threshold */
Test(replay, huge_memory_figures_neither_overflow_nor_warn)
{
	json_t *r = replay("{\"kind\":\"memory\",\"t_ns\":0,\"current_bytes\":9223372036854775807,"
			   "\"max_bytes\":9223372036854775807,\"max_used_ratio\":1}\n", NULL);

	cr_assert(eq(sz, json_array_size(at(r, "default.warnings")), 0),
		  "usage equal to the budget at ratio 1 is not above the threshold");
	json_decref(r);
}
