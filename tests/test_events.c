// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * GET /v1/events end to end: verdict changes pushed as Server-Sent Events
 * to curl, filtered, resumed from Last-Event-ID, kept alive by heartbeats,
 * bounded in subscribers, behind the token with --auth all.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

#include "runlib.h"
#include "testlib.h"

static pid_t subs[8];
static char files[8][96];
static int nr_subs;

static void events_teardown(void)
{
	for (int i = 0; i < nr_subs; i++) {
		stop_pid(&subs[i], SIGKILL);
		unlink(files[i]);
	}
	nr_subs = 0;
	teardown();
}

/* a subscriber to @path with the extra curl options @opts: its file */
static const char *subscribe(const char *path, const char *opts)
{
	cr_assert(lt(int, nr_subs, 8));
	snprintf(files[nr_subs], sizeof(files[0]), "/tmp/cgsnap-test-%d-sse%d", getpid(), nr_subs);
	subs[nr_subs] = sse_follow(path, opts, files[nr_subs]);
	return files[nr_subs++];
}

/* the events of @file about cgroup @rel that are not the initial state */
static size_t changes_of(const char *file, const char *rel, json_t **last)
{
	json_t *evs = sse_events(file, "message"), *e;
	char want[600];
	size_t i, n = 0;

	snprintf(want, sizeof(want), "/%s", rel);
	*last = NULL;
	json_array_foreach(evs, i, e) {
		if (json_is_true(json_object_get(e, "initial")) ||
		    strcmp(json_string_value(json_object_get(e, "cgroup")), want))
			continue;
		n++;
		json_decref(*last);
		*last = json_incref(e);
	}
	json_decref(evs);
	return n;
}

/* wait up to @ms for a change of @rel to @overloaded in @file */
static bool wait_change(const char *file, const char *rel, bool overloaded, int ms)
{
	json_t *last;
	bool got;

	for (int i = 0; i < ms / 20; i++) {
		changes_of(file, rel, &last);
		got = last && json_is_true(json_object_get(last, "overloaded")) == overloaded;
		json_decref(last);
		if (got)
			return true;
		usleep(20000);
	}
	return false;
}

Test(run, events_stream_filter_resume_heartbeat_bound_and_auth, .fini = events_teardown,
     .timeout = 180)
{
	char args[1024], path[700], tok[160], opts[400], body[1024], lei[96];
	const char *busy, *quiet, *all, *only_busy, *only_quiet, *resumed, *lost;
	json_t *e, *first;
	json_int_t id;
	uint64_t cid;
	pid_t spid;
	int code;

	busy = testlib_cgroup("busy", &cid);
	quiet = testlib_cgroup("quiet", &cid);
	snprintf(pin_dir, sizeof(pin_dir), "/tmp/cgsnap-test-%d-events", getpid());
	cr_assert(eq(int, mkdir(pin_dir, 0700), 0));
	snprintf(tok, sizeof(tok), "%s/token", pin_dir);
	write_file(tok, "ev3nts\n");
	snprintf(args, sizeof(args), "--cgroup %s --cgroup %s --fast --max-used-cpu-ratio 0.3 "
		 "--token-file %s --auth all --events-max-subscribers 3", busy, quiet, tok);
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer ev3nts'");
	start_daemon(args);
	/* --auth all: the stream too */
	curl_opts[0] = '\0';
	cr_assert(eq(int, http("GET", "/v1/events", NULL, body, sizeof(body)), 401), "%s", body);
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer ev3nts'");

	all = subscribe("/v1/events", NULL);
	snprintf(path, sizeof(path), "/v1/events?cgroup=/%s", busy);
	only_busy = subscribe(path, NULL);
	snprintf(path, sizeof(path), "/v1/events?cgroup=*-quiet");
	only_quiet = subscribe(path, NULL);
	cr_assert(sse_wait(all, "\"initial\"", 5000), "no initial state");
	cr_assert(sse_wait(only_busy, "\"initial\"", 5000));
	cr_assert(sse_wait(only_quiet, "\"initial\"", 5000));
	/* a fourth subscriber is one too many */
	code = http("GET", "/v1/events", NULL, body, sizeof(body));
	cr_assert(eq(int, code, 503), "%d %s", code, body);
	cr_assert(ne(ptr, strstr(body, "--events-max-subscribers 3"), NULL), "%s", body);

	/* a change, to every subscriber whose filter takes it */
	char *const stress[] = { "stress-ng", "--cpu", "8", "--timeout", "60s", "--quiet", NULL };
	spid = testlib_spawn(busy, stress);
	cr_assert(wait_change(all, busy, true, 30000), "no overloaded event");
	testlib_kill_cgroup(busy);
	waitpid(spid, NULL, 0);
	if (!wait_change(only_busy, busy, false, 30000)) {
		json_t *st = status_of(busy);

		char tail[400] = "";
		FILE *f = fopen(only_busy, "r");

		/* what the subscriber had last: an event, heartbeats, nothing */
		if (f) {
			if (fseek(f, -(long)(sizeof(tail) - 1), SEEK_END))
				rewind(f);
			tail[fread(tail, 1, sizeof(tail) - 1, f)] = '\0';
			fclose(f);
		}
		changes_of(only_busy, busy, &e);
		cr_fail("no idle event after the load; the last: %s; status now: %s; the "
			"subscriber's last bytes: %s", e ? json_dumps(e, 0) : "none",
			json_dumps(st, 0), tail);
	}
	cr_assert(ge(sz, changes_of(only_busy, busy, &e), 2));
	json_decref(e);
	cr_assert(eq(sz, changes_of(only_busy, quiet, &e), 0), "the filter let the sibling through");
	cr_assert(eq(sz, changes_of(only_quiet, busy, &e), 0), "the glob let busy through");
	cr_assert(eq(sz, changes_of(all, quiet, &e), 0), "an event for the idle sibling");

	/* resume: after the first change, exactly what came after it */
	first = NULL;
	json_t *evs = sse_events(all, "message");
	size_t i;

	json_array_foreach(evs, i, e)
		if (!first && json_object_get(e, "event_id"))
			first = e;
	cr_assert(ne(ptr, first, NULL), "no event with an id");
	id = json_integer_value(json_object_get(first, "event_id"));
	snprintf(lei, sizeof(lei), "-H 'Last-Event-ID: %lld'", (long long)id);
	/* room for it: one goes away; the next request, refused, frees its place */
	stop_pid(&subs[0], SIGKILL);
	cr_assert(eq(int, http("GET", "/v1/events", NULL, body, sizeof(body)), 503));
	usleep(300000);
	resumed = subscribe("/v1/events", lei);
	cr_assert(sse_wait(resumed, "\"overloaded\":false", 5000), "the resumed stream is empty");
	json_t *got = sse_events(resumed, "message");

	cr_assert(gt(sz, json_array_size(got), 0));
	json_array_foreach(got, i, e) {
		bool initial = json_is_true(json_object_get(e, "initial"));

		cr_assert(not(initial), "resumed with the state");
		cr_assert(gt(i64, json_integer_value(json_object_get(e, "event_id")), id));
	}
	cr_assert(eq(i64, json_integer_value(json_object_get(json_array_get(got, 0), "event_id")),
		     id + 1), "the first event after Last-Event-ID");
	json_decref(got);
	json_decref(evs);
	/* an id older than the ring: told what was lost */
	stop_pid(&subs[nr_subs - 1], SIGKILL);
	cr_assert(eq(int, http("GET", "/v1/events", NULL, body, sizeof(body)), 503));
	usleep(300000);
	lost = subscribe("/v1/events", "-H 'Last-Event-ID: 1'");
	cr_assert(sse_wait(lost, "event: lost", 5000), "no lost event for an old id");
	/* a quiet stream hears the heartbeat (every 15 s) */
	cr_assert(sse_wait(only_quiet, ": heartbeat", 20000), "no heartbeat");
	/* a Last-Event-ID that is not one: a clear 400 */
	snprintf(opts, sizeof(opts), "%s", curl_opts);
	snprintf(curl_opts, sizeof(curl_opts), "%s -H 'Last-Event-ID: x'", opts);
	code = http("GET", "/v1/events", NULL, body, sizeof(body));
	cr_assert(eq(int, code, 400), "%d %s", code, body);
	cr_assert(ne(ptr, strstr(body, "invalid Last-Event-ID"), NULL), "%s", body);
	snprintf(curl_opts, sizeof(curl_opts), "%s", opts);
	/* SIGTERM ends the agent and its streams at once */
	kill(daemon_pid, SIGTERM);
	for (i = 0; i < 300 && waitpid(daemon_pid, NULL, WNOHANG) != daemon_pid; i++)
		usleep(10000);
	cr_assert(lt(sz, i, 300), "SIGTERM with subscribers: still running after 3 s");
	daemon_pid = 0;
	for (i = 0; i < 300 && waitpid(subs[1], NULL, WNOHANG) != subs[1]; i++)
		usleep(10000);
	cr_assert(lt(sz, i, 300), "a stream outlived the agent");
	subs[1] = 0;
}
