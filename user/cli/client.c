// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "client.h"
#include "readfile.h"

int cli_server_init(struct cli_server *s, const char *server, const char *token_file,
		    const char *cacert, char *err, size_t errlen)
{
	char *token;
	size_t n;
	int ret;

	memset(s, 0, sizeof(*s));
	s->cacert = cacert;
	if (!strncasecmp(server, "http://", 7) || !strncasecmp(server, "https://", 8))
		ret = snprintf(s->base, sizeof(s->base), "%s", server);
	else
		ret = snprintf(s->base, sizeof(s->base), "http://%s", server);
	if (ret >= (int)sizeof(s->base) || strpbrk(server, " \t\r\n?#")) {
		snprintf(err, errlen, "invalid agent address '%s': expected ADDR:PORT or a URL",
			 server);
		return -EINVAL;
	}
	n = strlen(s->base);
	if (n && s->base[n - 1] == '/')
		s->base[n - 1] = '\0';
	if (!token_file)
		return 0;
	ret = read_file(token_file, 4096, &token, &n);
	if (ret) {
		snprintf(err, errlen, "cannot read the token file %s: %s", token_file, strerror(-ret));
		return -EINVAL;
	}
	while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
		token[--n] = '\0';
	snprintf(s->auth, sizeof(s->auth), "Authorization: Bearer %s", token);
	free(token);
	return 0;
}

struct buf {
	char *p;
	size_t len, cap;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 8192;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* a handle for @path, with the headers in *@hdrs (freed by the caller) */
static CURL *handle(const struct cli_server *s, const char *path, struct curl_slist **hdrs)
{
	char url[sizeof(s->base) + 13000];
	CURL *c = curl_easy_init();

	*hdrs = NULL;
	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cgsnap/" CGSNAP_VERSION);
	if (s->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->cacert);
	if (s->auth[0]) {
		*hdrs = curl_slist_append(NULL, s->auth);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	}
	return c;
}

int cli_get(const struct cli_server *s, const char *path, long *status, char **body, char *err,
	    size_t errlen)
{
	struct curl_slist *hdrs;
	struct buf b = {};
	CURL *c = handle(s, path, &hdrs);
	CURLcode rc;

	*body = NULL;
	if (!c)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		free(b.p);
		return -EIO;
	}
	*body = b.p ? b.p : strdup("");
	return 0;
}

/* an event stream being read: the text of the event in progress */
struct stream {
	CURL *c;
	struct buf line;		/* the line being read */
	char type[64], id[64];
	struct buf data;
	int (*fn)(const char *type, const char *id, const char *data, void *ctx);
	void *ctx;
	bool stopped, http_error;
};

/* one line of the stream (without its newline) */
static void stream_line(struct stream *st, char *l)
{
	char *v;

	if (!*l) {	/* an event ends */
		if (st->data.len && st->fn(st->type[0] ? st->type : "message",
					   st->id[0] ? st->id : NULL, st->data.p, st->ctx))
			st->stopped = true;
		st->type[0] = '\0';
		st->data.len = 0;
		if (st->data.p)
			st->data.p[0] = '\0';
		return;
	}
	if (*l == ':')
		return;	/* a comment: the heartbeat */
	v = strchr(l, ':');
	if (v) {
		*v++ = '\0';
		if (*v == ' ')
			v++;
	} else {
		v = l + strlen(l);
	}
	if (!strcmp(l, "data")) {
		if (st->data.len)
			collect("\n", 1, 1, &st->data);
		collect(v, 1, strlen(v), &st->data);
	} else if (!strcmp(l, "event")) {
		snprintf(st->type, sizeof(st->type), "%s", v);
	} else if (!strcmp(l, "id")) {
		snprintf(st->id, sizeof(st->id), "%s", v);
	}
}

static size_t on_stream(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct stream *st = ctx;
	size_t n = size * nmemb, i;
	long status = 0;

	curl_easy_getinfo(st->c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		st->http_error = true;
		return 0;
	}
	for (i = 0; i < n && !st->stopped; i++) {
		if (data[i] == '\r')
			continue;
		if (data[i] != '\n') {
			if (!collect(&data[i], 1, 1, &st->line))
				return 0;
			continue;
		}
		stream_line(st, st->line.p ? st->line.p : (char *)"");
		st->line.len = 0;
		if (st->line.p)
			st->line.p[0] = '\0';
	}
	return st->stopped ? 0 : n;
}

int cli_events(const struct cli_server *s, const char *path,
	       int (*fn)(const char *type, const char *id, const char *data, void *ctx), void *ctx,
	       long *status, char *err, size_t errlen)
{
	struct stream st = { .fn = fn, .ctx = ctx };
	struct curl_slist *hdrs;
	CURLcode rc;

	st.c = handle(s, path, &hdrs);
	if (!st.c)
		return -ENOMEM;
	hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
	curl_easy_setopt(st.c, CURLOPT_HTTPHEADER, hdrs);
	/* the heartbeat comes every 15 s: silent for two, the agent is gone */
	curl_easy_setopt(st.c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(st.c, CURLOPT_LOW_SPEED_TIME, 35L);
	curl_easy_setopt(st.c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(st.c, CURLOPT_WRITEDATA, &st);
	rc = curl_easy_perform(st.c);
	curl_easy_getinfo(st.c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(st.c);
	curl_slist_free_all(hdrs);
	free(st.line.p);
	free(st.data.p);
	if (st.http_error)
		return -EPROTO;
	if (st.stopped || rc == CURLE_OK)
		return 0;
	snprintf(err, errlen, "%s", curl_easy_strerror(rc));
	return -EIO;
}

void cli_url_path(const char *in, char *out, size_t len)
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
