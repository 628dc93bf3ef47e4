/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A stand-in kubelet for the tests: GET /pods answers a PodList given by the
 * test, over HTTP or HTTPS (a certificate made at test time), and only with
 * the right bearer token. libmicrohttpd, in the test's own process.
 */
#ifndef __CGSNAP_KUBELET_STUB_H
#define __CGSNAP_KUBELET_STUB_H

struct kubelet_stub;

/* On @port (0: any free one), HTTPS if @cert_file and @key_file; a 401
 * unless "Authorization: Bearer @token" (NULL: no token needed). */
struct kubelet_stub *kubelet_stub_start(int port, const char *cert_file, const char *key_file,
					const char *token, const char *podlist);
int kubelet_stub_port(const struct kubelet_stub *s);
/* GET /pods requests answered, 401s included */
unsigned int kubelet_stub_requests(struct kubelet_stub *s);
/* answer @podlist from now on */
void kubelet_stub_set_podlist(struct kubelet_stub *s, const char *podlist);
/* answer @head, then @count items made by printf(@item_fmt, i, ...) for
 * i = 0 .. @count - 1 (up to 4 %lu, each i) separated by commas, then @tail, streamed as it is sent (the
 * test holds none of it): large or pathological answers */
void kubelet_stub_set_generated(struct kubelet_stub *s, const char *head, const char *item_fmt,
				unsigned long count, const char *tail);
void kubelet_stub_stop(struct kubelet_stub *s);

#endif /* __CGSNAP_KUBELET_STUB_H */
