// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgsnap status: ask a running cgsnap run for its verdicts. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <jansson.h>

#include "commands.h"
#include "addr.h"
#include "opts.h"
#include "report.h"
#include "snapshotter.h"

struct status_args {
	const char *server;
	char **cgroups;
	unsigned int nr_cgroups;
	bool json;
	bool color;
};

static const struct argp_option status_options[] = {
	{ "server", 's', "ADDR:PORT", 0, "The agent to ask (default " HTTP_DEFAULT_LISTEN ")", 0 },
	{ "cgroup", 'c', "PATH|ID", 0, "Only this cgroup. Repeatable", 0 },
	{ "json", 'j', NULL, 0, "Print the agent's JSON (one status object per line)", 0 },
	{},
};

static error_t status_parse(int key, char *arg, struct argp_state *state)
{
	struct status_args *a = state->input;
	char **v;

	switch (key) {
	case 's':
		a->server = arg;
		return 0;
	case 'c':
		v = realloc(a->cgroups, (a->nr_cgroups + 1) * sizeof(*v));
		if (!v)
			return ENOMEM;
		a->cgroups = v;
		v[a->nr_cgroups++] = arg;
		return 0;
	case 'j':
		a->json = true;
		return 0;
	default:
		return opt_no_args(key, arg, state);
	}
}

/* GET @path from @server: the body in *@body (malloc'ed), the status returned, -errno */
static int http_get(const char *server, const char *path, char **body)
{
	struct sockaddr_storage ss;
	struct timeval tv = { .tv_sec = 10 };
	char req[12400 + 256], *buf = NULL, *p;
	size_t len = 0, cap = 0;
	socklen_t sl;
	ssize_t n;
	int fd, status = -EPROTO;

	if (addr_resolve(server, &ss, &sl))
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sl)) {
		status = -errno;
		goto out;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, server);
	if (write(fd, req, n) != n) {
		status = -EIO;
		goto out;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb)
				goto out;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	if (!buf)
		goto out;
	buf[len] = '\0';
	p = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/%*s %d", &status) != 1 || !p) {
		status = -EPROTO;
		goto out;
	}
	*body = strdup(p + 4);
out:
	free(buf);
	close(fd);
	return status;
}

/* the cgroup path, percent-encoded for a URL path (slashes kept) */
static void url_path(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in && o + 4 < len; in++) {
		unsigned char c = *in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("/-_.~@:", c)) {
			out[o++] = c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

static void print_row(const struct status_args *a, json_t *st)
{
		json_t *cur = json_object_get(st, "current"), *hist = json_object_get(st, "historical");
	bool idle = json_is_true(json_object_get(st, "idle"));
	int k;

	printf("%-40s %s%-10s%s", json_string_value(json_object_get(st, "path")),
	       a->color ? (idle ? "\033[32m" : "\033[1;31m") : "", idle ? "idle" : "OVERLOADED",
	       a->color ? "\033[0m" : "");
	for (k = 0; k < CGSNAP_KIND_COUNT; k++) {
		json_t *c = json_object_get(cur, cgsnap_kind_name(k));
		json_t *h = json_object_get(hist, cgsnap_kind_name(k));
		bool over = json_is_true(json_object_get(c, "overloaded"));
		char cell[32];

		snprintf(cell, sizeof(cell), "%.3f/%.3f%s",
			 json_number_value(json_object_get(c, "actual_ratio")),
			 json_number_value(json_object_get(h, "actual_ratio")), over ? "*" : "");
		printf(" %s%-14s%s", a->color && over ? "\033[1;31m" : "", cell,
		       a->color && over ? "\033[0m" : "");
	}
	printf("\n");
}

static int show(const struct status_args *a, const char *ref, bool header)
{
	char path[12400], enc[4096 * 3], *body = NULL;
	json_t *st;
	int code;

	url_path(ref, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/v1/cgroups/%s/status", *enc == '/' ? enc + 1 : enc);
	code = http_get(a->server, path, &body);
	if (code < 0) {
		report_err(code, "cannot reach the agent at %s (is cgsnap run running?)", a->server);
		return 1;
	}
	st = json_loads(body ? body : "", 0, NULL);
	if (code != 200 || !st) {
		report("%s: %s", ref,
		       st ? json_string_value(json_object_get(st, "error")) : "bad response");
		json_decref(st);
		free(body);
		return 1;
	}
	if (a->json) {
		printf("%s", body);
	} else {
		if (header)
			printf("%-40s %-10s %-14s %-14s %-14s %-14s\n", "CGROUP", "VERDICT",
			       "CPU cur/hist", "MEMORY", "RUNQ", "CLIENT");
		print_row(a, st);
	}
	json_decref(st);
	free(body);
	return 0;
}

static const char status_doc[] =
	"Ask a running `cgsnap run` for the verdict of its cgroups and print a table: per kind, "
	"the current/historical overload ratio, * when the kind overloads the cgroup now.";

int cmd_status(int argc, char **argv)
{
	const struct argp argp = { .options = status_options, .parser = status_parse,
				   .doc = status_doc };
	struct status_args a = { .server = HTTP_DEFAULT_LISTEN };
	char *body = NULL;
	json_t *list = NULL, *cg;
	unsigned int i;
	size_t j;
	int code, ret = 0;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return 2;
	a.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	if (a.nr_cgroups) {
		for (i = 0; i < a.nr_cgroups; i++)
			ret |= show(&a, a.cgroups[i], i == 0);
		free(a.cgroups);
		return ret;
	}
	code = http_get(a.server, "/v1/cgroups", &body);
	if (code < 0) {
		report_err(code, "cannot reach the agent at %s (is cgsnap run running?)", a.server);
		return 1;
	}
	list = body ? json_loads(body, 0, NULL) : NULL;
	free(body);
	json_array_foreach(json_object_get(list, "cgroups"), j, cg)
		ret |= show(&a, json_string_value(json_object_get(cg, "path")), j == 0);
	json_decref(list);
	return ret;
}
