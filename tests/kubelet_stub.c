// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>
#include <pthread.h>

#include "kubelet_stub.h"
#include "readfile.h"

struct kubelet_stub {
	struct MHD_Daemon *mhd;
	char *cert, *key, *token, *podlist;
	int port;
	unsigned int requests;
	pthread_mutex_t lock;	/* podlist, gen */
	struct gen {
		char head[256], item[4096], tail[256];
		unsigned long count;
	} gen;			/* count > 0: a generated answer instead of podlist */
};

/* one generated answer being sent */
struct gen_state {
	struct gen g;
	unsigned long i;	/* items written */
	int part;		/* 0 head, 1 items, 2 tail, 3 done */
	char buf[64 * 1024];
	size_t len, off;
};

/* the next piece of the answer into st->buf; false at its end */
static bool gen_next(struct gen_state *st)
{
	if (st->part == 3)
		return false;
	st->off = 0;
	if (st->part == 0) {
		st->len = snprintf(st->buf, sizeof(st->buf), "%s", st->g.head);
		st->part = st->g.count ? 1 : 2;
	} else if (st->part == 1) {
		/* items up to a buffer's worth at a time: millions of them are sent */
		size_t item = strlen(st->g.item) + 64;
		bool fixed = !strchr(st->g.item, '%');

		st->len = 0;
		while (st->part == 1 && st->len + item < sizeof(st->buf)) {
			if (st->i)
				st->buf[st->len++] = ',';
			if (fixed) {
				memcpy(st->buf + st->len, st->g.item, item - 64);
				st->len += item - 64;
			} else {
				st->len += snprintf(st->buf + st->len, sizeof(st->buf) - st->len,
						    st->g.item, st->i, st->i, st->i, st->i);
			}
			if (++st->i == st->g.count)
				st->part = 2;
		}
	} else if (st->part == 2) {
		st->len = snprintf(st->buf, sizeof(st->buf), "%s", st->g.tail);
		st->part = 3;
	}
	return true;
}

/* as much of the answer as @max bytes hold */
static ssize_t gen_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct gen_state *st = cls;
	size_t n, done = 0;

	while (done < max) {
		if (st->off == st->len && !gen_next(st))
			break;
		n = st->len - st->off < max - done ? st->len - st->off : max - done;
		memcpy(out + done, st->buf + st->off, n);
		st->off += n;
		done += n;
	}
	return done ? (ssize_t)done : MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result reply_generated(struct MHD_Connection *conn, const struct gen *g)
{
	struct gen_state *st = calloc(1, sizeof(*st));
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!st)
		return MHD_NO;
	st->g = *g;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, gen_read, st, free);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

void kubelet_stub_set_generated(struct kubelet_stub *s, const char *head, const char *item_fmt,
				unsigned long count, const char *tail)
{
	pthread_mutex_lock(&s->lock);
	snprintf(s->gen.head, sizeof(s->gen.head), "%s", head);
	snprintf(s->gen.item, sizeof(s->gen.item), "%s", item_fmt);
	snprintf(s->gen.tail, sizeof(s->gen.tail), "%s", tail);
	s->gen.count = count;
	pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct kubelet_stub *s = cls;
	const char *auth;
	char want[512];

	if (strcmp(url, "/pods"))
		return reply(conn, 404, "{\"kind\":\"Status\",\"code\":404}");
	__atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
	if (s->token) {
		auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		snprintf(want, sizeof(want), "Bearer %s", s->token);
		if (!auth || strcmp(auth, want))
			return reply(conn, 401, "Unauthorized");
	}
	pthread_mutex_lock(&s->lock);
	enum MHD_Result ret = s->gen.count || s->gen.head[0] ? reply_generated(conn, &s->gen) :
			      reply(conn, 200, s->podlist);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void kubelet_stub_set_podlist(struct kubelet_stub *s, const char *podlist)
{
	char *dup = strdup(podlist), *old;

	cr_assert(dup);
	pthread_mutex_lock(&s->lock);
	old = s->podlist;
	s->podlist = dup;
	memset(&s->gen, 0, sizeof(s->gen));
	pthread_mutex_unlock(&s->lock);
	free(old);
}

static char *slurp(const char *path)
{
	size_t len;
	char *buf;

	cr_assert(read_file(path, 1 << 20, &buf, &len) == 0, "cannot read %s", path);
	return buf;
}

struct kubelet_stub *kubelet_stub_start(int port, const char *cert_file, const char *key_file,
					const char *token, const char *podlist)
{
	struct kubelet_stub *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
	const union MHD_DaemonInfo *info;

	cr_assert(s);
	pthread_mutex_init(&s->lock, NULL);
	s->token = token ? strdup(token) : NULL;
	s->podlist = strdup(podlist);
	if (cert_file) {
		s->cert = slurp(cert_file);
		s->key = slurp(key_file);
		flags |= MHD_USE_TLS;
	}
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
				  MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
				  cert_file ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->cert,
				  MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
	cr_assert(s->mhd, "the stand-in kubelet cannot listen on port %d", port);
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : port;
	return s;
}

int kubelet_stub_port(const struct kubelet_stub *s)
{
	return s->port;
}

unsigned int kubelet_stub_requests(struct kubelet_stub *s)
{
	return __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
}

void kubelet_stub_stop(struct kubelet_stub *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	pthread_mutex_destroy(&s->lock);
	free(s->cert);
	free(s->key);
	free(s->token);
	free(s->podlist);
	free(s);
}
