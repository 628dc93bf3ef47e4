/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The run suite (tests/test_run*.c): cgsnap run end to end, the real
 * daemon, real cgroups, curl, promtool and a real Prometheus server. The
 * suite's init and fini (runlib.c) stop whatever a test started and remove
 * what it made, also when it fails.
 */
#ifndef __RUNLIB_H
#define __RUNLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

/* a body over the API's 4 KiB limit */
#define HTTP_BIG 5000

extern pid_t daemon_pid, prom_pid;
extern int port;			/* the agent's, on 127.0.0.1 */
extern char logfile[64];		/* the agent's stderr */
/* made by a test, removed by the fini when set */
extern char pin_dir[128], prom_dir[64], rec_file[64], tiny_fs[64];
extern char curl_opts[512];		/* extra curl options: a token header, a CA */
extern const char *scheme;		/* "http" or "https" */
extern char daemon_cgroup[1600];	/* start_daemon() puts the agent there, if set */

/* run @cmd with sh; its exit status (-1 if it did not exit) */
int run_cmd(const char *cmd);
/* a free TCP port on loopback */
int free_port(void);
/* @sig to *@pid and reap it; *@pid becomes 0 */
void stop_pid(pid_t *pid, int sig);
void rm_rf(const char *dir);
/* the suite's fini, for tests with a fini of their own */
void teardown(void);

/* run curl; returns the HTTP status, the body in @body */
int http(const char *method, const char *path, const char *data, char *body, size_t len);
/* GET @path: asserts a 200 and returns its JSON */
json_t *get_json(const char *path);
/* @method @path answers @status with JSON holding @needle */
void expect(const char *method, const char *path, const char *data, int status,
	    const char *needle);
/* start cgsnap run with @args; wait until it answers */
void start_daemon(const char *args);

bool kind_in(json_t *status, const char *window, const char *kind);
json_t *status_of(const char *rel);
/* poll @rel's status until @pred holds, for up to @secs */
json_t *wait_status(const char *rel, bool (*pred)(json_t *), int secs);
bool cpu_and_runq_overloaded(json_t *st);
bool is_idle(json_t *st);
/* whether /v1/cgroups lists @path; how many it lists */
bool listed(const char *path);
size_t nr_listed(void);

/*
 * Start a real Prometheus server on loopback, in prom_dir (made here if need
 * be), scraping this agent every second with @job_extra (YAML lines of the
 * scrape job, "" for none). Then wait until @query (URL-encoded) answers
 * with something @match (a grep pattern) finds; returns whether it did.
 */
bool prometheus_sees(const char *job_extra, const char *query, const char *match);
/* lines of @body that start with @prefix and hold @needle */
int count_lines(const char *body, const char *prefix, const char *needle);
/* write @text to @path (replacing it atomically, as a secret rotation does) */
void write_file(const char *path, const char *text);
/* resident memory of process @pid, KiB */
long rss_kib(pid_t pid);
/* lines of the daemon's log matching the grep pattern @re; wait for one */
int log_count(const char *re);
bool wait_log(const char *re, int secs);

/* curl following the agent's GET @path event stream into @file (with the
 * extra curl options @opts), in the background: its pid */
pid_t sse_follow(const char *path, const char *opts, const char *file);
/* the events of @file so far (their data: JSON), and of which @type
 * ("message" for verdicts): a JSON array, the ids in the "event_id" member */
json_t *sse_events(const char *file, const char *type);
/* wait up to @ms for an event in @file whose data holds @needle */
bool sse_wait(const char *file, const char *needle, int ms);
/* CLOCK_MONOTONIC ns, as the events' t_ns */
int64_t mono_ns(void);

#endif /* __RUNLIB_H */
