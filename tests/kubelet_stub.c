// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
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
	pthread_mutex_t lock;	/* podlist */
};

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
	enum MHD_Result ret = reply(conn, 200, s->podlist);
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
