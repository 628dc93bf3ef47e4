// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>

#include "clock.h"
#include "kubelet.h"
#include "readfile.h"

struct kubelet {
	struct kubelet_opts o;
	struct k8s_pods *pods;
	char *url;			/* .../pods */
	CURL *curl;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, wanted;
	struct kubelet_stats stats;	/* under lock */
	/* the thread's own */
	struct k8s_podlist_parser *parser;	/* the GET under way's */
	size_t len;				/* bytes of its answer so far */
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	bool failing, ever_ok, over;
	uint64_t failed_since;		/* failures in a row */
	int64_t failing_since_ns;
};


__attribute__((format(printf, 3, 4)))
static void klog(struct kubelet *k, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!k->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->o.log(level, msg);
}

int kubelet_check_url(const char *url, char *err, size_t errlen)
{
	const char *host;

	if (!strncasecmp(url, "https://", 8))
		host = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		host = url + 7;
	else {
		snprintf(err, errlen, "invalid --kubelet-url '%s': expected http:// or https:// "
			 "and the kubelet's address, e.g. https://$(NODE_IP):10250", url);
		return -EINVAL;
	}
	if (!*host || *host == '/' || *host == ':') {
		snprintf(err, errlen, "invalid --kubelet-url '%s': no host", url);
		return -EINVAL;
	}
	if (strpbrk(url, " \t\r\n?#")) {
		snprintf(err, errlen, "invalid --kubelet-url '%s': no blanks, query or fragment",
			 url);
		return -EINVAL;
	}
	return 0;
}

/* the answer is parsed as it arrives: nothing of it is held but the pods */
static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct kubelet *k = ctx;
	size_t n = size * nmemb;
	long status = 0;

	k->len += n;
	if (k->len > KUBELET_MAX_BODY) {
		k->too_big = true;
		return 0;	/* CURLE_WRITE_ERROR */
	}
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return n;	/* an error page: read, not parsed */
	/* not a pod list: no need to read the rest */
	return k8s_podlist_parser_feed(k->parser, data, n) ? 0 : n;
}

/* a GET under way ends when the agent stops */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct kubelet *k = ctx;

	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED);
}

static const char *http_reason(long status)
{
	switch (status) {
	case 401: return " Unauthorized (the bearer token was refused)";
	case 403: return " Forbidden (the service account may not get nodes/proxy)";
	case 404: return " Not Found (is this a kubelet?)";
	default: return "";
	}
}

static bool tls_error(CURLcode c)
{
	return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_PEER_FAILED_VERIFICATION ||
	       c == CURLE_SSL_CERTPROBLEM || c == CURLE_SSL_CIPHER ||
	       c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_ISSUER_ERROR ||
	       c == CURLE_SSL_PINNEDPUBKEYNOTMATCH || c == CURLE_SSL_INVALIDCERTSTATUS ||
	       c == CURLE_SSL_CRL_BADFILE || c == CURLE_SSL_ENGINE_INITFAILED;
}

/* what the GET that ended with @c brought: 0 and the list, or -errno and why */
static int parsed(struct kubelet *k, CURLcode c, struct k8s_parse_stats *stats,
		  struct k8s_podlist **out, char *why, size_t len)
{
	long status = 0;
	char perr[256];
	int ret;

	if (k->too_big) {
		snprintf(why, len, "the answer is larger than %u MiB: refused",
			 KUBELET_MAX_BODY >> 20);
		return -EFBIG;
	}
	curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
	if (c != CURLE_OK && !(c == CURLE_WRITE_ERROR && status == 200)) {
		snprintf(why, len, "%s%s%s%s", tls_error(c) ? "TLS: " :
			 c == CURLE_OPERATION_TIMEDOUT ? "timeout: " : "",
			 curl_easy_strerror(c), *k->errbuf ? ": " : "", k->errbuf);
		return c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (status != 200) {
		snprintf(why, len, "HTTP %ld%s", status, http_reason(status));
		return -EIO;
	}
	/* a write error with a 200: the parser refused the answer */
	ret = k8s_podlist_parser_end(k->parser, out, stats, perr, sizeof(perr));
	if (ret)
		snprintf(why, len, "the answer is not a pod list: %s",
			 ret == -ENOMEM ? "out of memory" : perr);
	return ret;
}

/* the Authorization header of @k's token file, in *@hdrs: 0 or -errno and why */
static int auth_header(struct kubelet *k, struct curl_slist **hdrs, char *why, size_t len)
{
	char auth[8192], *token = NULL;
	size_t n;
	int ret;

	*hdrs = NULL;
	if (!k->o.token_file)
		return 0;
	ret = read_file(k->o.token_file, 64 * 1024, &token, &n);
	if (ret) {
		snprintf(why, len, "cannot read the token file %s: %s", k->o.token_file,
			 strerror(-ret));
		return ret;
	}
	while (n && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
		token[--n] = '\0';
	ret = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token) >= (int)sizeof(auth);
	explicit_bzero(token, n);
	free(token);
	if (ret) {
		snprintf(why, len, "the token in %s is too long", k->o.token_file);
		return -EINVAL;
	}
	*hdrs = curl_slist_append(NULL, auth);
	explicit_bzero(auth, sizeof(auth));
	return *hdrs ? 0 : -ENOMEM;
}

/* GET /pods into a new list; 0, or -errno with the cause in @why */
static int fetch(struct kubelet *k, struct k8s_podlist **out, struct k8s_parse_stats *stats,
		 char *why, size_t len)
{
	struct curl_slist *hdrs;
	CURLcode c;
	int ret;

	*out = NULL;
	ret = auth_header(k, &hdrs, why, len);
	if (ret)
		return ret;
	k->parser = k8s_podlist_parser_new(k8s_pods_label_keys(k->pods), k->o.max_pods);
	if (!k->parser) {
		curl_slist_free_all(hdrs);
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	k->len = 0;
	k->too_big = false;
	k->errbuf[0] = '\0';
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, hdrs);
	c = curl_easy_perform(k->curl);
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	ret = parsed(k, c, stats, out, why, len);
	k8s_podlist_parser_free(k->parser);
	k->parser = NULL;
	return ret;
}

/* a list cut at --kubelet-max-pods: said when it starts and when it ends */
static void warn_over(struct kubelet *k, const struct k8s_parse_stats *ps)
{
	if (ps->over && !k->over)
		klog(k, KUBELET_LOG_WARN, "kubelet: the pod list holds %u pods, more than "
		     "--kubelet-max-pods %u: the first %u are named, the other %u by their cgroup "
		     "paths only", ps->items - ps->left_out, k->o.max_pods, k->o.max_pods, ps->over);
	else if (!ps->over && k->over)
		klog(k, KUBELET_LOG_INFO, "kubelet: the pod list is within --kubelet-max-pods "
		     "again (%u pods)", ps->items - ps->left_out);
	k->over = ps->over;
}

static void refresh(struct kubelet *k)
{
	struct k8s_parse_stats ps = {};
	struct k8s_podlist *l, *prev;
	int64_t t0 = clock_mono_ns();
	char why[512];
	unsigned int n;
	int ret;

	ret = fetch(k, &l, &ps, why, sizeof(why));
	pthread_mutex_lock(&k->lock);
	k->stats.refreshes++;
	k->stats.last_seconds = (clock_mono_ns() - t0) / 1e9;
	k->stats.up = !ret;
	if (ret) {
		k->stats.failures++;
	} else {
		k->stats.pods = l->n;
		k->stats.over_limit = ps.over;
		k->stats.unusable = ps.left_out;
	}
	pthread_mutex_unlock(&k->lock);
	if (!ret)
		warn_over(k, &ps);
	if (ret) {
		if (!k->failing) {
			prev = k8s_pods_get(k->pods);
			klog(k, KUBELET_LOG_WARN, "kubelet: GET %s failed: %s; %s", k->url, why,
			     prev ? "keeping the last pod list until it answers" :
				    "pods are known by their cgroup paths only until it answers");
			k8s_podlist_put(prev);
			k->failing = true;
			k->failing_since_ns = t0;
			k->failed_since = 0;
		} else {
			klog(k, KUBELET_LOG_DEBUG, "kubelet: GET %s failed again: %s", k->url, why);
		}
		k->failed_since++;
		return;
	}
	n = l->n;
	k8s_pods_set(k->pods, l);
	if (k->failing)
		klog(k, KUBELET_LOG_INFO, "kubelet: GET %s answers again: %u pods (after %llu "
		     "failed attempts in %.0f s)", k->url, n, (unsigned long long)k->failed_since,
		     (t0 - k->failing_since_ns) / 1e9);
	else if (!k->ever_ok)
		klog(k, KUBELET_LOG_INFO, "kubelet: %u pods on this node (GET %s: %.3f s)", n, k->url,
		     (clock_mono_ns() - t0) / 1e9);
	else
		klog(k, KUBELET_LOG_DEBUG, "kubelet: %u pods", n);
	k->failing = false;
	k->ever_ok = true;
}

static void deadline_ts(int64_t ns, struct timespec *ts)
{
	ts->tv_sec = ns / 1000000000LL;
	ts->tv_nsec = ns % 1000000000LL;
}

static void *run(void *arg)
{
	struct kubelet *k = arg;
	int64_t last, next, earliest, now;
	struct timespec ts;

	pthread_mutex_lock(&k->lock);
	while (!k->stop) {
		k->wanted = false;
		pthread_mutex_unlock(&k->lock);
		last = clock_mono_ns();
		refresh(k);
		pthread_mutex_lock(&k->lock);
		next = last + k->o.interval_ns;
		earliest = last + KUBELET_MIN_GAP_NS;
		while (!k->stop) {
			now = clock_mono_ns();
			if (now >= next || (k->wanted && now >= earliest))
				break;
			deadline_ts(k->wanted && earliest < next ? earliest : next, &ts);
			pthread_cond_timedwait(&k->cond, &k->lock, &ts);
		}
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

struct kubelet *kubelet_start(const struct kubelet_opts *o, struct k8s_pods *pods, char *err,
			      size_t errlen)
{
	long timeout = KUBELET_TIMEOUT_MS;
	struct kubelet *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	int ret;

	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (kubelet_check_url(o->url, err, errlen)) {
		free(k);
		return NULL;
	}
	k->o = *o;
	if (!k->o.max_pods)
		k->o.max_pods = K8S_DEFAULT_MAX_PODS;
	k->pods = pods;
	if (asprintf(&k->url, "%s%spods", o->url, o->url[strlen(o->url) - 1] == '/' ? "" : "/") < 0) {
		snprintf(err, errlen, "out of memory");
		free(k);
		return NULL;
	}
	k->curl = curl_easy_init();
	if (!k->curl) {
		snprintf(err, errlen, "cannot start libcurl");
		free(k->url);
		free(k);
		return NULL;
	}
	if (o->interval_ns / 1000000 < timeout)
		timeout = o->interval_ns / 1000000 > 1000 ? o->interval_ns / 1000000 : 1000;
	curl_easy_setopt(k->curl, CURLOPT_URL, k->url);
	curl_easy_setopt(k->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT_MS, KUBELET_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(k->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(k->curl, CURLOPT_USERAGENT, "cgsnap/" CGSNAP_VERSION);
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, k);
	curl_easy_setopt(k->curl, CURLOPT_ERRORBUFFER, k->errbuf);
	curl_easy_setopt(k->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k->curl, CURLOPT_XFERINFODATA, k);
	if (o->ca_file)
		curl_easy_setopt(k->curl, CURLOPT_CAINFO, o->ca_file);
	if (o->insecure_tls) {
		curl_easy_setopt(k->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(k->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = pthread_create(&k->thread, NULL, run, k);
	if (ret) {
		snprintf(err, errlen, "cannot start the kubelet thread: %s", strerror(ret));
		curl_easy_cleanup(k->curl);
		pthread_cond_destroy(&k->cond);
		pthread_mutex_destroy(&k->lock);
		free(k->url);
		free(k);
		return NULL;
	}
	return k;
}

void kubelet_notice(struct kubelet *k, const char *uid)
{
	if (!k || k8s_pods_has(k->pods, uid))
		return;
	pthread_mutex_lock(&k->lock);
	k->wanted = true;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

void kubelet_stats(struct kubelet *k, struct kubelet_stats *out)
{
	pthread_mutex_lock(&k->lock);
	*out = k->stats;
	pthread_mutex_unlock(&k->lock);
}

void kubelet_stop(struct kubelet *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	__atomic_store_n(&k->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
	/* a GET under way ends at its next progress callback (on_progress) */
	pthread_join(k->thread, NULL);
	curl_easy_cleanup(k->curl);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	free(k->url);
	free(k);
}
