// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The run suite's helpers: the real daemon started and stopped, curl
 * against it, a real Prometheus server beside it. The suite's tests are in
 * test_run*.c; its init and fini are here.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "clock.h"
#include "runlib.h"
#include "testlib.h"

pid_t daemon_pid, prom_pid;
static bool bpffs_was_mounted;
int port;
char logfile[64], pin_dir[128], prom_dir[64], rec_file[64], tiny_fs[64];
char curl_opts[512];
const char *scheme = "http";
char daemon_cgroup[1600];

int run_cmd(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p;

	cr_assert(ge(int, fd, 0));
	cr_assert(eq(int, bind(fd, (struct sockaddr *)&a, sizeof(a)), 0));
	getsockname(fd, (struct sockaddr *)&a, &len);
	p = ntohs(a.sin_port);
	close(fd);
	return p;
}

static bool bpffs_mounted(void)
{
	return run_cmd("mountpoint -q /sys/fs/bpf") == 0;
}

static void setup(void)
{
	testlib_require_bpf();
	bpffs_was_mounted = bpffs_mounted();
	port = free_port();
	snprintf(logfile, sizeof(logfile), "/tmp/cgsnap-test-%d.log", getpid());
}

void stop_pid(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

void rm_rf(const char *dir)
{
	char cmd[512];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

void teardown(void)
{
	stop_pid(&prom_pid, SIGKILL);
	stop_pid(&daemon_pid, SIGKILL);
	daemon_cgroup[0] = '\0';
	testlib_cleanup();
	unlink(logfile);
	if (rec_file[0])
		unlink(rec_file);
	rm_rf(pin_dir);
	rm_rf(prom_dir);
	curl_opts[0] = '\0';
	scheme = "http";
	if (tiny_fs[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "umount %s", tiny_fs);
		if (run_cmd(cmd) || rmdir(tiny_fs))
			fprintf(stderr, "cannot remove %s\n", tiny_fs);
	}
	/* cgsnap run --pin mounted bpffs: leave the host as we found it */
	if (!bpffs_was_mounted && bpffs_mounted() && run_cmd("umount /sys/fs/bpf"))
		fprintf(stderr, "cannot unmount /sys/fs/bpf\n");
}

/* run curl; returns the HTTP status, the body in @body */
int http(const char *method, const char *path, const char *data, char *body, size_t len)
{
	char cmd[HTTP_BIG + 1024], *buf = NULL, *nl;
	size_t n = 0, cap = 0, got;
	int code = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s -m 10 %s -X %s %s%s%s -w '\\n%%{http_code}' "
		 "'%s://127.0.0.1:%d%s'", curl_opts, method, data ? "--data-binary '" : "",
		 data ? data : "", data ? "'" : "", scheme, port, path);
	p = popen(cmd, "r");
	/* all of it: the status is on the last line, after the body */
	do {
		if (cap - n < 4096) {
			cap = cap ? 2 * cap : 1 << 16;
			buf = realloc(buf, cap);
			cr_assert(ne(ptr, buf, NULL));
		}
		got = fread(buf + n, 1, cap - n - 1, p);
		n += got;
	} while (got);
	pclose(p);
	buf[n] = '\0';
	nl = strrchr(buf, '\n');
	if (nl) {
		code = atoi(nl + 1);
		*nl = '\0';
	}
	snprintf(body, len, "%s", buf);
	free(buf);
	return code;
}

json_t *get_json(const char *path)
{
	char body[1 << 16];
	int code = http("GET", path, NULL, body, sizeof(body));

	cr_assert(eq(int, code, 200), "GET %s: %d %s", path, code, body);
	return json_loads(body, 0, NULL);
}

/* start cgsnap run with @args; wait until it answers */
void start_daemon(const char *args)
{
	char cmd[4096];
	int i, code;
	char body[256];
	pid_t parent;

	/* in daemon_cgroup, if a test set one */
	snprintf(cmd, sizeof(cmd), "%s%s%s exec %s run --listen 127.0.0.1:%d %s 2>>%s",
		 daemon_cgroup[0] ? "echo $$ >" : "", daemon_cgroup,
		 daemon_cgroup[0] ? "/cgroup.procs &&" : "", getenv("CGSNAP_BIN"), port, args,
		 logfile);
	parent = getpid();
	daemon_pid = fork();
	cr_assert(ge(int, daemon_pid, 0));
	if (daemon_pid == 0) {
		/* SIGTERM: it removes its pins as it ends */
		testlib_die_with(parent, SIGTERM);
		execl("/bin/sh", "sh", "-c", cmd, NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		code = http("GET", "/healthz", NULL, body, sizeof(body));
		if (code == 200)
			return;
		usleep(100000);
	}
	cr_assert(eq(int, code, 200), "cgsnap run did not come up: %s", args);
}

bool kind_in(json_t *status, const char *window, const char *kind)
{
	json_t *arr = json_object_get(json_object_get(status, "overloaded_kinds"), window), *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (!strcmp(json_string_value(v), kind))
			return true;
	return false;
}

json_t *status_of(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "/v1/cgroups/%s/status", rel);
	return get_json(path);
}

/* poll @rel's status until @pred holds, for up to @secs */
json_t *wait_status(const char *rel, bool (*pred)(json_t *), int secs)
{
	int64_t end = clock_mono_ns() + secs * 1000000000LL;
	json_t *st = NULL;

	do {
		json_decref(st);
		st = status_of(rel);
		if (pred(st))
			return st;
		usleep(250000);
	} while (clock_mono_ns() < end);
	return st;
}

bool cpu_and_runq_overloaded(json_t *st)
{
	return kind_in(st, "current", "cpu") && kind_in(st, "current", "runq");
}

bool is_idle(json_t *st)
{
	return json_is_true(json_object_get(st, "idle"));
}

/*
 * Start a real Prometheus server on loopback, in prom_dir (made here if need
 * be), scraping this agent every second with @job_extra (YAML lines of the
 * scrape job, "" for none). Then wait until @query (URL-encoded) answers
 * with something @match (a grep pattern) finds; returns whether it did.
 */
bool prometheus_sees(const char *job_extra, const char *query, const char *match)
{
	char cfg[256], cmd[1024];
	int prom_port = free_port(), i;
	pid_t parent;
	FILE *f;

	if (!prom_dir[0])
		snprintf(prom_dir, sizeof(prom_dir), "/tmp/cgsnap-test-prom-%d", getpid());
	mkdir(prom_dir, 0700);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", prom_dir);
	f = fopen(cfg, "w");
	cr_assert(ne(ptr, f, NULL));
	fprintf(f, "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cgsnap\n%s"
		   "    static_configs:\n      - targets: ['127.0.0.1:%d']\n", job_extra, port);
	fclose(f);
	parent = getpid();
	prom_pid = fork();
	if (prom_pid == 0) {
		char listen[64], data[128], conf[300];

		testlib_die_with(parent, SIGTERM);

		snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", prom_port);
		snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", prom_dir);
		snprintf(conf, sizeof(conf), "--config.file=%s", cfg);
		freopen("/dev/null", "w", stderr);
		execlp("prometheus", "prometheus", conf, data, listen, NULL);
		_exit(127);
	}
	snprintf(cmd, sizeof(cmd), "curl -s 'http://127.0.0.1:%d/api/v1/query?query=%s' | "
		 "grep -q '%s'", prom_port, query, match);
	for (i = 0; i < 60; i++) {
		if (!run_cmd(cmd))
			return true;
		usleep(500000);
	}
	return false;
}

/* lines of @body that start with @prefix and hold @needle */
int count_lines(const char *body, const char *prefix, const char *needle)
{
	const char *l, *end;
	int n = 0;

	for (l = body; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		if (!strncmp(l, prefix, strlen(prefix)) && memmem(l, end - l, needle, strlen(needle)))
			n++;
	}
	return n;
}

void expect(const char *method, const char *path, const char *data, int status,
		   const char *needle)
{
	char body[8192];
	int code = http(method, path, data, body, sizeof(body));
	json_t *j = json_loads(body, 0, NULL);

	cr_assert(eq(int, code, status), "%s %s: %d %s", method, path, code, body);
	cr_assert(ne(ptr, j, NULL), "%s %s: not JSON: %s", method, path, body);
	cr_assert(ne(ptr, strstr(body, needle), NULL), "%s %s: '%s' lacks '%s'", method, path,
		  body, needle);
	json_decref(j);
}

bool listed(const char *path)
{
	json_t *list = get_json("/v1/cgroups"), *v;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(list, "cgroups"), i, v)
		found |= !strcmp(json_string_value(json_object_get(v, "path")), path);
	json_decref(list);
	return found;
}

/* write @text to @path (replacing it atomically, as a secret rotation does) */
void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	cr_assert(ne(ptr, f, NULL));
	fputs(text, f);
	cr_assert(eq(int, fclose(f), 0));
	cr_assert(eq(int, rename(tmp, path), 0));
}

/* resident memory of process @pid, KiB */
long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

size_t nr_listed(void)
{
	json_t *list = get_json("/v1/cgroups");
	size_t n = json_array_size(json_object_get(list, "cgroups"));

	json_decref(list);
	return n;
}

/* lines of the daemon's log matching the grep pattern @re */
int log_count(const char *re)
{
	char cmd[512], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "grep -c -- '%s' %s", re, logfile);
	p = popen(cmd, "r");
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	pclose(p);
	return atoi(out);
}

bool wait_log(const char *re, int secs)
{
	for (int i = 0; i < secs * 10; i++) {
		if (log_count(re) > 0)
			return true;
		usleep(100000);
	}
	return false;
}

pid_t sse_follow(const char *path, const char *opts, const char *file)
{
	char cmd[1024];
	pid_t pid, parent;

	snprintf(cmd, sizeof(cmd), "exec curl -sN %s %s '%s://127.0.0.1:%d%s' > %s", curl_opts,
		 opts ? opts : "", scheme, port, path, file);
	parent = getpid();
	pid = fork();
	cr_assert(ge(int, pid, 0));
	if (pid == 0) {
		testlib_die_with(parent, SIGTERM);
		execl("/bin/sh", "sh", "-c", cmd, NULL);
		_exit(127);
	}
	return pid;
}

json_t *sse_events(const char *file, const char *type)
{
	char *text = NULL, *ev, *l, *save, *data, *id, *end;
	json_t *arr = json_array(), *o;
	const char *etype;
	size_t len = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return arr;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = NULL;
	}
	fclose(f);
	/* events end with a blank line; a last one without is still coming */
	for (ev = text; ev && (end = strstr(ev, "\n\n")); ev = end + 2) {
		*end = '\0';
		data = id = NULL;
		etype = "message";
		for (l = strtok_r(ev, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(l, "data: ", 6))
				data = l + 6;
			else if (!strncmp(l, "id: ", 4))
				id = l + 4;
			else if (!strncmp(l, "event: ", 7))
				etype = l + 7;
		}
		if (!data || strcmp(etype, type) || !(o = json_loads(data, 0, NULL)))
			continue;
		if (id)
			json_object_set_new(o, "event_id", json_integer(atoll(id)));
		json_array_append_new(arr, o);
	}
	free(text);
	return arr;
}

bool sse_wait(const char *file, const char *needle, int ms)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "grep -qs -- '%s' %s", needle, file);
	for (int i = 0; i < ms / 20; i++) {
		if (!run_cmd(cmd))
			return true;
		usleep(20000);
	}
	return !run_cmd(cmd);
}

int64_t mono_ns(void)
{
	return clock_mono_ns();
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 120);
