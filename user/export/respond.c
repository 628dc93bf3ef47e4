// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Responses: a body handed to libmicrohttpd with its headers, JSON, the
 * {"error": "..."} of every 4xx and 5xx, and bodies written with stdio,
 * gzip-compressed as they are written when the client accepts it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "escape.h"
#include "httpd.h"

/* how a body may be encoded: it varies with Accept-Encoding; it is gzip */
enum { ENC_VARY = 1, ENC_GZIP = 2 };

static enum MHD_Result respond_encoded(struct request *req, unsigned int status,
				       const char *type, char *body, size_t len, const char *allow,
				       unsigned int enc)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	if (enc & ENC_GZIP)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (enc & ENC_VARY)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (req->unauthorized)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	if (allow)
		MHD_add_response_header(resp, "Allow", allow);
	ret = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_respond(struct request *req, unsigned int status, const char *type,
			     char *body, size_t len, const char *allow)
{
	return respond_encoded(req, status, type, body, len, allow, 0);
}

enum MHD_Result http_body(struct request *req, unsigned int status, const char *type, char *body,
			  size_t len)
{
	return http_respond(req, status, type, body, len, NULL);
}

/* whether Accept-Encoding lists gzip (without q=0) */
static bool accepts_gzip(struct request *req)
{
	const char *ae = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *p = ae ? strcasestr(ae, "gzip") : NULL;

	return p && strncmp(p + 4, ";q=0", 4) != 0 && strncmp(p + 4, "; q=0", 5) != 0;
}

/*
 * A response body written with stdio, gzip-compressed as it is written when
 * the client accepts it: the plain text of a large /metrics is never held
 * whole, and the compressed one grows in place.
 */
static int stream_grow(struct http_stream *s)
{
	size_t cap = s->cap ? s->cap * 2 : 64 << 10;
	char *p;

	if (s->cap - s->len >= 16 << 10)
		return 0;
	p = realloc(s->out, cap);
	if (!p)
		return -ENOMEM;
	s->out = p;
	s->cap = cap;
	return 0;
}

static int stream_deflate(struct http_stream *s, const char *buf, size_t size, int flush)
{
	int ret;

	s->z.next_in = (Bytef *)buf;
	s->z.avail_in = size;
	do {
		if (stream_grow(s))
			return -ENOMEM;
		s->z.next_out = (Bytef *)s->out + s->len;
		s->z.avail_out = s->cap - s->len;
		ret = deflate(&s->z, flush);
		s->len = s->cap - s->z.avail_out;
		if (ret == Z_STREAM_ERROR)
			return -ENOMEM;
	} while (s->z.avail_in || (flush == Z_FINISH && ret != Z_STREAM_END));
	return 0;
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	struct http_stream *s = cookie;

	if (s->err || (s->err = stream_deflate(s, buf, size, Z_NO_FLUSH)))
		return -1;
	return size;
}

FILE *http_stream_open(struct request *req, struct http_stream *s)
{
	static const cookie_io_functions_t io = { .write = stream_write };

	memset(s, 0, sizeof(*s));
	if (!accepts_gzip(req)) {
		s->f = open_memstream(&s->out, &s->len);
		return s->f;
	}
	/* 15 + 16: a gzip header; level 1: scrapes are frequent, text compresses anyway */
	if (deflateInit2(&s->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	s->gzip = true;
	s->f = fopencookie(s, "w", io);
	if (!s->f) {
		deflateEnd(&s->z);
		return NULL;
	}
	setvbuf(s->f, NULL, _IOFBF, 64 << 10);
	return s->f;
}

static int stream_close(struct http_stream *s)
{
	int err = fclose(s->f) ? -EIO : 0;

	s->f = NULL;
	if (s->gzip) {
		if (!err && !s->err)
			err = stream_deflate(s, NULL, 0, Z_FINISH);
		deflateEnd(&s->z);
	}
	return s->err ? s->err : err;
}

enum MHD_Result http_stream_respond(struct request *req, struct http_stream *s,
				    unsigned int status, const char *type)
{
	if (stream_close(s)) {
		free(s->out);
		return http_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the response");
	}
	return respond_encoded(req, status, type, s->out, s->len, NULL,
			       ENC_VARY | (s->gzip ? ENC_GZIP : 0));
}

void http_stream_abort(struct http_stream *s)
{
	if (s->f)
		stream_close(s);
	free(s->out);
	s->out = NULL;
}

/* the answer when a response cannot be built */
static enum MHD_Result internal_error(struct request *req)
{
	static const char msg[] = "{\"error\":\"cannot build the response\"}\n";
	char *body = strdup(msg);

	if (!body)
		return MHD_NO;
	return http_respond(req, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", body,
		       sizeof(msg) - 1, NULL);
}

enum MHD_Result http_json(struct request *req, unsigned int status, json_t *obj)
{
	char *body = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	size_t len;
	char *nb;

	json_decref(obj);
	if (!body)
		return internal_error(req);
	len = strlen(body);
	/* a trailing newline for people using curl */
	nb = realloc(body, len + 2);
	if (!nb) {
		free(body);
		return internal_error(req);
	}
	nb[len++] = '\n';
	nb[len] = '\0';
	return http_body(req, status, "application/json", nb, len);
}

enum MHD_Result http_error(struct request *req, unsigned int status, const char *fmt, ...)
{
	char raw[1024], msg[4 * sizeof(raw)];
	va_list ap;

	/* the message may quote the request: make it valid UTF-8 */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	return http_json(req, status, json_pack("{s:s}", "error",
						escape_text(raw, msg, sizeof(msg))));
}
