// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgsnap run's HTTP interface end to end: requests good and bad, odd names,
 * /healthz, tokens, TLS, and clients that try to lock others out.
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

#include "accum.h"
#include "snapshotter.h"
#include "runlib.h"
#include "testlib.h"

Test(run, client_errors_and_bad_requests)
{
	char args[256], path[256], big[HTTP_BIG + 1];
	const char *rel;
	uint64_t id;
	json_t *st;
	int i;

	rel = testlib_cgroup("api", &id);
	snprintf(args, sizeof(args), "--cgroup %s --max-snapshot-age 3s", rel);
	start_daemon(args);

	snprintf(path, sizeof(path), "/v1/cgroups/%s/client-errors", rel);
	expect("POST", path, "{\"retry\": 1, \"count\": 50}", 200, "\"counted\":false");
	expect("POST", path, "{\"retry\": 2, \"count\": 3}", 200, "\"counted\":true");
	for (i = 0; i < 20; i++) {
		st = status_of(rel);
		if (kind_in(st, "current", "client"))
			break;
		json_decref(st);
		st = NULL;
		usleep(250000);
	}
	cr_assert(ne(ptr, st, NULL), "3 errors on retry 2 never made client overloaded");
	json_decref(st);
	/* the same by id, and its samples */
	snprintf(path, sizeof(path), "/v1/cgroups/%llu/samples?kind=client&duration=10s",
		 (unsigned long long)id);
	expect("GET", path, NULL, 200, "\"new_error_count\":3");

	expect("GET", "/v1/cgroups/no-such-cgroup/status", NULL, 404, "is not watched");
	expect("GET", "/v1/nothing", NULL, 404, "no such resource");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/samples?kind=disk", rel);
	expect("GET", path, NULL, 400, "unknown kind");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/samples", rel);
	expect("GET", path, NULL, 400, "kind parameter is missing");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/samples?kind=cpu&duration=5", rel);
	expect("GET", path, NULL, 400, "invalid duration");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/scale?current=-3", rel);
	expect("GET", path, NULL, 400, "invalid current");
	/* reproducers: a sign or a blank was accepted */
	snprintf(path, sizeof(path), "/v1/cgroups/%s/scale?current=%%2B5", rel);
	expect("GET", path, NULL, 400, "invalid current");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/scale?current=%%205", rel);
	expect("GET", path, NULL, 400, "invalid current");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/scale?current=5", rel);
	expect("GET", path, NULL, 200, "\"current\":5");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/client-errors", rel);
	expect("POST", path, "{not json", 400, "invalid JSON");
	expect("POST", path, "{\"retry\": \"two\"}", 400, "expected {");
	/* reproducer: unknown keys were ignored */
	expect("POST", path, "{\"retry\": 2, \"cuont\": 5}", 400, "no other key");
	/* reproducer: a count at its maximum refused every later report */
	expect("POST", path, "{\"retry\": 2, \"count\": 9223372036854775807}", 200,
	       "\"counted\":true");
	expect("POST", path, "{\"retry\": 2, \"count\": 1}", 200,
	       "\"error_count\":9223372036854775807");
	memset(big, ' ', HTTP_BIG);
	big[HTTP_BIG] = '\0';
	big[0] = '{';
	big[HTTP_BIG - 1] = '}';
	expect("POST", path, big, 413, "larger than");
	expect("GET", path, NULL, 405, "method not allowed");
	expect("POST", "/metrics", "x", 405, "method not allowed");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/status", rel);
	expect("DELETE", path, NULL, 405, "method not allowed");
	/* and the daemon is still there */
	expect("GET", "/healthz", NULL, 200, "\"ok\"");
	/* none of this is worth a warning in the log (nor is starting) */
	snprintf(args, sizeof(args), "grep -q 'warning' %s", logfile);
	cr_assert(ne(int, run_cmd(args), 0), "the log holds a warning");
}

/* a cgroup named @name (any bytes) under @parent, made by hand; testlib_cleanup()
 * removes it with its parent */
static void odd_cgroup(const char *parent, const char *name, uint64_t *id)
{
	char dir[1024];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/%s/%s", testlib_v2_root(), parent, name);
	cr_assert(eq(int, mkdir(dir, 0755), 0), "mkdir %s", dir);
	cr_assert(eq(int, stat(dir, &st), 0));
	*id = st.st_ino;
}

/* Names are data: reproducers of a scrape broken by one odd cgroup name, a
 * listing that left it out, and URLs that got no answer at all. */
Test(run, hostile_names_and_urls_get_answers)
{
	static const char *const names[] = {
		"x\377y", "q\"b\\s", "esc\033[31mred", "\342\202\254uro",
	};
	char args[512], cmd[1024], path[2048], body[1 << 16];
	const char *parent;
	uint64_t id, ids[4];
	json_t *list;
	size_t i;

	parent = testlib_cgroup("names", &id);
	for (i = 0; i < 4; i++)
		odd_cgroup(parent, names[i], &ids[i]);
	snprintf(args, sizeof(args), "-v --all %s", parent);
	start_daemon(args);

	list = get_json("/v1/cgroups");
	cr_assert(eq(sz, json_array_size(json_object_get(list, "cgroups")), 5),
		  "every cgroup is listed, whatever its name");
	json_decref(list);
	snprintf(path, sizeof(path), "/%s/x\\xffy", parent);
	cr_assert(listed(path), "the invalid byte is shown as \\xff");
	snprintf(path, sizeof(path), "/%s/esc\\x1b[31mred", parent);
	cr_assert(listed(path), "a control character is shown as \\x1b");
	snprintf(path, sizeof(path), "/%s/\342\202\254uro", parent);
	cr_assert(listed(path), "valid UTF-8 stays as it is");
	snprintf(cmd, sizeof(cmd), "curl -s -f http://127.0.0.1:%d/metrics | promtool check "
		 "metrics", port);
	cr_assert(eq(int, run_cmd(cmd), 0), "promtool rejects the scrape");

	/* the odd cgroup by id, by its raw bytes and by its printable form */
	snprintf(path, sizeof(path), "/v1/cgroups/%llu/status", (unsigned long long)ids[0]);
	expect("GET", path, NULL, 200, "x\\\\xffy");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/x%%FFy/status", parent);
	expect("GET", path, NULL, 200, "\"idle\"");
	snprintf(path, sizeof(path), "/v1/cgroups/%s/x%%5Cxffy/scale", parent);
	expect("GET", path, NULL, 200, "desired_scale");

	expect("GET", "/%ff", NULL, 404, "no such resource '/\\\\xff'");
	expect("GET", "/v1/cgroups/%ff/status", NULL, 404, "is not watched");
	snprintf(path, sizeof(path), "/v1/cgroups/%llu/samples?kind=%%ff", (unsigned long long)id);
	expect("GET", path, NULL, 400, "unknown kind");
	snprintf(path, sizeof(path), "/v1/cgroups/%llu/samples?kind=cpu&duration=%%ff",
		 (unsigned long long)id);
	expect("GET", path, NULL, 400, "invalid duration");
	snprintf(path, sizeof(path), "/v1/cgroups/%llu/scale?current=%%ff", (unsigned long long)id);
	expect("GET", path, NULL, 400, "invalid current");
	strcpy(path, "/v1/cgroups/");
	for (i = 0; i < 200; i++)
		strcat(path, "%e2%82%ac");
	strcat(path, "/status");
	expect("GET", path, NULL, 404, "is not watched");
	cr_assert(eq(int, http("GET", "/healthz", NULL, body, sizeof(body)), 200), "%s", body);

	/* logs: a name cannot send control characters to a terminal (the kernel
	 * itself refuses a newline in a cgroup name) */
	snprintf(cmd, sizeof(cmd), "grep -q 'watching /%s/esc\\\\x1b\\[31mred' %s && "
		 "! grep -q \"$(printf '\\033')\" %s", parent, logfile, logfile);
	cr_assert(eq(int, run_cmd(cmd), 0), "the name reached the log unescaped");
}

/* /healthz means something: 503 with the reason when nothing is watched */
Test(run, healthz_says_why_it_is_unhealthy)
{
	char args[256], dir[1024], body[4096];
	const char *rel;
	uint64_t id;
	int i, code = 0;

	rel = testlib_cgroup("lonely", &id);
	snprintf(args, sizeof(args), "--cgroup %s", rel);
	start_daemon(args);
	expect("GET", "/healthz?verbose", NULL, 200, "since_last_tick_ns");
	snprintf(dir, sizeof(dir), "%s/%s", testlib_v2_root(), rel);
	cr_assert(eq(int, rmdir(dir), 0));
	for (i = 0; i < 40; i++) {
		code = http("GET", "/healthz", NULL, body, sizeof(body));
		if (code == 503)
			break;
		usleep(250000);
	}
	cr_assert(eq(int, code, 503), "healthz after its only cgroup went: %d %s", code, body);
	cr_assert(ne(ptr, strstr(body, "watching no cgroup"), NULL), "%s", body);
}

Test(run, writes_need_the_token_and_it_rotates)
{
	char args[512], path[256], tok[192];
	const char *rel;
	uint64_t id;

	snprintf(pin_dir, sizeof(pin_dir), "/tmp/cgsnap-test-%d-auth", getpid());
	cr_assert(eq(int, mkdir(pin_dir, 0700), 0));
	snprintf(tok, sizeof(tok), "%s/token", pin_dir);
	write_file(tok, "s3cret-1\n");
	rel = testlib_cgroup("auth", &id);
	snprintf(args, sizeof(args), "--cgroup %s --token-file %s", rel, tok);
	start_daemon(args);
	snprintf(path, sizeof(path), "/v1/cgroups/%s/client-errors", rel);
	expect("POST", path, "{\"retry\": 2}", 401, "needs an Authorization: Bearer token");
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer s3cret-2'");
	expect("POST", path, "{\"retry\": 2}", 401, "invalid token");
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer s3cret-1'");
	expect("POST", path, "{\"retry\": 2}", 200, "\"counted\":true");
	curl_opts[0] = '\0';
	expect("GET", "/v1/cgroups", NULL, 200, "\"cgroups\"");	/* reads stay open */
	/* rotation: the file is read again when it changes */
	write_file(tok, "s3cret-2\n");
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer s3cret-1'");
	expect("POST", path, "{\"retry\": 2}", 401, "invalid token");
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer s3cret-2'");
	expect("POST", path, "{\"retry\": 2}", 200, "\"counted\":true");
	stop_pid(&daemon_pid, SIGTERM);

	/* --auth all: every route but /healthz */
	curl_opts[0] = '\0';
	snprintf(args, sizeof(args), "--cgroup %s --token-file %s --auth all", rel, tok);
	start_daemon(args);
	expect("GET", "/metrics", NULL, 401, "needs an Authorization");
	expect("GET", "/healthz", NULL, 200, "\"ok\"");
	snprintf(curl_opts, sizeof(curl_opts), "-H 'Authorization: Bearer s3cret-2'");
	expect("GET", "/v1/cgroups", NULL, 200, "\"cgroups\"");
	stop_pid(&daemon_pid, SIGTERM);

	/* beyond loopback without a token: reads open, writes refused, and said so */
	curl_opts[0] = '\0';
	snprintf(args, sizeof(args), "--cgroup %s --listen 0.0.0.0:%d", rel, port);
	start_daemon(args);
	expect("GET", "/v1/cgroups", NULL, 200, "\"cgroups\"");
	expect("POST", path, "{\"retry\": 2}", 403, "listens beyond loopback without --token-file");
	snprintf(args, sizeof(args), "grep -q 'writes refused' %s", logfile);
	cr_assert(eq(int, run_cmd(args), 0), "the start-up log does not say writes are refused");
}

Test(run, tls_with_curl_and_prometheus)
{
	char args[1024], cmd[2048], job[300], cert[200], key[200];
	const char *rel;
	uint64_t id;

	snprintf(prom_dir, sizeof(prom_dir), "/tmp/cgsnap-test-prom-%d", getpid());
	cr_assert(eq(int, mkdir(prom_dir, 0700), 0));
	snprintf(cert, sizeof(cert), "%s/cert.pem", prom_dir);
	snprintf(key, sizeof(key), "%s/key.pem", prom_dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -keyout %s "
		 "-out %s -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null", key, cert);
	cr_assert(eq(int, run_cmd(cmd), 0), "openssl could not make a certificate");
	rel = testlib_cgroup("tls", &id);
	snprintf(args, sizeof(args), "--cgroup %s --tls-cert %s --tls-key %s", rel, cert, key);
	scheme = "https";
	snprintf(curl_opts, sizeof(curl_opts), "--cacert %s", cert);
	start_daemon(args);
	expect("GET", "/v1/cgroups", NULL, 200, "\"cgroups\"");
	snprintf(cmd, sizeof(cmd), "curl -s -m 5 http://127.0.0.1:%d/healthz | grep -q ok", port);
	cr_assert(ne(int, run_cmd(cmd), 0), "plain HTTP must not be answered on a TLS port");

	/* a real Prometheus server scrapes it over TLS, checking the certificate */
	snprintf(job, sizeof(job), "    scheme: https\n    tls_config:\n      ca_file: %s\n", cert);
	cr_assert(prometheus_sees(job, "up%7Bjob%3D%22cgsnap%22%7D",
				  "\"value\":\\[[0-9.]*,\"1\"\\]"),
		  "Prometheus did not scrape cgsnap over TLS");
}

/* a TCP connection to the agent, @req sent; -1 on failure */
static int dial(const char *req)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* seconds a fresh request for @path took, -1 if it failed or took over 1 s */
static double timed_get(const char *path)
{
	char cmd[256], out[64] = "";
	double t = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "curl -s -f -o /dev/null -m 1 -w '%%{time_total}' "
		 "http://127.0.0.1:%d%s", port, path);
	p = popen(cmd, "r");
	if (fgets(out, sizeof(out), p))
		t = atof(out);
	return pclose(p) == 0 ? t : -1;
}

/* reproducer: 32 slow connections locked every local client out, for as long
 * as each sent a byte every 5 s */
Test(run, many_and_slow_clients_cannot_lock_out_healthz_and_metrics, .timeout = 180)
{
	enum { KEEPALIVE = 1000, SLOW = 100 };
	static int ka[KEEPALIVE], slow[SLOW];
	struct rlimit rl = { 4096, 4096 };
	double worst = 0, t;
	char args[256], buf[256];
	const char *rel;
	int64_t t0;
	uint64_t id;
	int i, n, ok = 0, tries = 0, cut = 0, sent = 1;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
	cr_assert(eq(int, setrlimit(RLIMIT_NOFILE, &rl), 0));
	cr_assert(ge(u64, (uint64_t)rl.rlim_cur, KEEPALIVE + SLOW + 64), "needs 1,200 descriptors");
	rel = testlib_cgroup("crowd", &id);
	snprintf(args, sizeof(args), "--cgroup %s", rel);
	start_daemon(args);
	for (i = 0; i < KEEPALIVE; i++) {
		ka[i] = dial("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
		cr_assert(ge(int, ka[i], 0), "keep-alive client %d could not connect", i);
	}
	for (i = 0; i < KEEPALIVE; i++) {
		n = read(ka[i], buf, sizeof(buf) - 1);
		cr_assert(gt(int, n, 12), "keep-alive client %d got no answer", i);
		buf[n] = '\0';
		cr_assert(ne(ptr, strstr(buf, " 200 "), NULL), "client %d: %s", i, buf);
	}
	for (i = 0; i < SLOW; i++) {
		slow[i] = dial("G");
		cr_assert(ge(int, slow[i], 0), "slow client %d could not connect", i);
	}
	t0 = time(NULL);
	while (time(NULL) - t0 < 12) {
		/* one more byte every 5 s: activity that must not extend the deadline */
		if (time(NULL) - t0 >= 5 * sent) {
			for (i = 0; i < SLOW; i++)
				if (write(slow[i], "E", 1) != 1)
					break;
			sent++;
		}
		t = timed_get(tries % 2 ? "/metrics" : "/healthz");
		tries++;
		if (t >= 0)
			ok++;
		if (t > worst)
			worst = t;
		usleep(200000);
	}
	/* past the 10 s deadline the trickling connections are gone */
	for (i = 0; i < SLOW; i++) {
		struct pollfd pfd = { .fd = slow[i], .events = POLLIN };

		if (poll(&pfd, 1, 2000) == 1 && read(slow[i], buf, sizeof(buf)) <= 0)
			cut++;
	}
	for (i = 0; i < KEEPALIVE; i++)
		close(ka[i]);
	for (i = 0; i < SLOW; i++)
		close(slow[i]);
	cr_log_info("%d of %d requests answered within 1 s beside %d keep-alive and %d slow "
		    "clients, the slowest in %.3f s; %d slow connections cut at the deadline", ok,
		    tries, KEEPALIVE, SLOW, worst, cut);
	cr_assert(eq(int, ok, tries), "only %d of %d /healthz and /metrics requests were answered "
		  "within 1 s", ok, tries);
	cr_assert(eq(int, cut, SLOW), "%d of %d trickling connections outlived the deadline", cut,
		  SLOW);
}
