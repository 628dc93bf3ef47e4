// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kubelet's PodList parsed as it arrives (user/k8s/podlist.c): the same
 * list whatever the chunks, bounded memory whatever the answer, and one odd
 * pod costing only itself. Pure, no root.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pods.h"

TestSuite(podlist);

#define CID "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* a pod of a Deployment, with annotations and managed fields cgsnap skips */
static int pod(char *buf, size_t len, int i, const char *name, const char *annotation)
{
	return snprintf(buf, len,
		"{\"metadata\":{\"name\":\"%s\",\"namespace\":\"shop\","
		"\"uid\":\"00000000-0000-4000-8000-%012d\","
		"\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"5d9c7b6f4\"},"
		"\"annotations\":{\"note\":\"%s\"},"
		"\"managedFields\":[{\"fieldsV1\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"app\\\"}\":{}}}},"
		"\"time\":\"2026-12-01T00:00:00Z\",\"n\":-1.5e3,\"ok\":true,\"x\":null}],"
		"\"ownerReferences\":[{\"kind\":\"Node\",\"name\":\"n\"},"
		"{\"kind\":\"ReplicaSet\",\"name\":\"web-5d9c7b6f4\",\"controller\":true}]},"
		"\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"nginx\"}]},"
		"\"status\":{\"qosClass\":\"Burstable\",\"containerStatuses\":["
		"{\"name\":\"app\",\"containerID\":\"containerd://" CID "\"},"
		"{\"name\":\"waiting\"}]}}",
		name, i, annotation);
}

static char *podlist(int n, const char *odd_name, const char *odd_annotation)
{
	size_t cap = 4096 + (size_t)n * 2048, off;
	char *s = malloc(cap), name[64];

	cr_assert(ne(ptr, s, NULL));
	off = snprintf(s, cap, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "web-5d9c7b6f4-%05d", i);
		if (i)
			s[off++] = ',';
		off += pod(s + off, cap - off, i, i == 1 && odd_name ? odd_name : name,
			   i == 2 && odd_annotation ? odd_annotation : "fine");
	}
	snprintf(s + off, cap - off, "]}\n");
	return s;
}

static struct k8s_label_keys *labels(void)
{
	static struct k8s_label_keys lk;

	if (!lk.n)
		cr_assert(eq(int, k8s_label_keys_add(&lk, "app"), 0));
	return &lk;
}

/* @text fed in pieces of @chunk bytes (after a first one of @first) */
static int parse_chunked(const char *text, size_t first, size_t chunk, unsigned int max,
			 struct k8s_podlist **out, struct k8s_parse_stats *st, char *err,
			 size_t errlen)
{
	struct k8s_podlist_parser *p = k8s_podlist_parser_new(labels(), max);
	size_t len = strlen(text), off = first < len ? first : len;
	int ret;

	cr_assert(ne(ptr, p, NULL));
	k8s_podlist_parser_feed(p, text, off);
	for (; off < len; off += chunk)
		k8s_podlist_parser_feed(p, text + off, len - off < chunk ? len - off : chunk);
	ret = k8s_podlist_parser_end(p, out, st, err, errlen);
	k8s_podlist_parser_free(p);
	return ret;
}

static void assert_same(const struct k8s_podlist *a, const struct k8s_podlist *b)
{
	cr_assert(eq(uint, a->n, b->n));
	for (unsigned int i = 0; i < a->n; i++) {
		const struct k8s_pod *x = &a->pods[i], *y = &b->pods[i];

		cr_assert(eq(str, (char *)x->uid, (char *)y->uid));
		cr_assert(eq(str, x->name, y->name));
		cr_assert(eq(str, x->workload_kind, y->workload_kind));
		cr_assert(eq(str, x->workload, y->workload));
		cr_assert(eq(str, x->labels[0], y->labels[0]));
		cr_assert(eq(uint, x->nr_containers, y->nr_containers));
	}
}

Test(podlist, fields_of_a_kubelet_list)
{
	char *text = podlist(3, NULL, NULL), err[256];
	struct k8s_parse_stats st;
	struct k8s_podlist *l;
	const struct k8s_pod *p;

	cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 0, &l, &st, err,
					    sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, l->n, 3));
	cr_assert(eq(uint, st.items, 3));
	p = k8s_podlist_find(l, "00000000-0000-4000-8000-000000000001");
	cr_assert(ne(ptr, (void *)p, NULL));
	cr_assert(eq(str, p->ns, "shop"));
	cr_assert(eq(str, p->qos, "burstable"));
	cr_assert(eq(str, p->workload_kind, "Deployment"), "the controller, not the first owner");
	cr_assert(eq(str, p->workload, "web"));
	cr_assert(eq(str, p->labels[0], "web"));
	cr_assert(eq(uint, p->nr_containers, 1), "a status without an id is not started");
	cr_assert(eq(str, (char *)k8s_pod_container(p, CID), "app"));
	k8s_podlist_put(l);
	free(text);
}

/* the answer arrives in whatever pieces libcurl hands over */
Test(podlist, every_split_gives_the_same_list)
{
	char *text = podlist(2, NULL, NULL), err[256];
	struct k8s_podlist *whole, *l;
	size_t len = strlen(text), i;

	cr_assert(eq(int, parse_chunked(text, len, 1, 0, &whole, NULL, err, sizeof(err)), 0),
		  "%s", err);
	for (i = 0; i <= len; i++) {
		cr_assert(eq(int, parse_chunked(text, i, len, 0, &l, NULL, err, sizeof(err)), 0),
			  "split at %zu: %s", i, err);
		assert_same(whole, l);
		k8s_podlist_put(l);
	}
	cr_assert(eq(int, parse_chunked(text, 0, 1, 0, &l, NULL, err, sizeof(err)), 0));
	assert_same(whole, l);
	k8s_podlist_put(l);
	k8s_podlist_put(whole);
	free(text);
}

/* reproducer: one pod with \u0000 in an annotation refused the whole list */
Test(podlist, one_odd_pod_costs_only_itself)
{
	static const char *const odd_names[] = {
		"web-\\u0000x",			/* a NUL */
		"web-\\ud800x",			/* half a surrogate pair */
		"web-\xff",			/* not UTF-8 */
		"",				/* empty */
	};
	char *text, err[256], longname[400];
	struct k8s_parse_stats st;
	struct k8s_podlist *l;

	text = podlist(4, NULL, "\\u0000 and \\udc00 and \xfe");
	cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 0, &l, &st, err,
					    sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, l->n, 4), "what cgsnap does not keep does not matter");
	k8s_podlist_put(l);
	free(text);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 0; i <= sizeof(odd_names) / sizeof(odd_names[0]); i++) {
		text = podlist(4, i < 4 ? odd_names[i] : longname, NULL);
		cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 0, &l, &st, err,
						    sizeof(err)), 0), "%s", err);
		cr_assert(eq(uint, l->n, 3), "case %zu: only the odd pod is left out", i);
		cr_assert(eq(uint, st.left_out, 1));
		cr_assert(eq(ptr, (void *)k8s_podlist_find(l, "00000000-0000-4000-8000-000000000001"),
			     NULL));
		k8s_podlist_put(l);
		free(text);
	}
	/* UTF-8 spelt as escapes is a name like any other */
	text = podlist(2, "caf\\u00e9-\\ud83d\\ude00", NULL);
	cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 0, &l, &st, err,
					    sizeof(err)), 0), "%s", err);
	cr_assert(eq(str, (char *)k8s_podlist_find(l, "00000000-0000-4000-8000-000000000001")->name,
		     "caf\xc3\xa9-\xf0\x9f\x98\x80"));
	k8s_podlist_put(l);
	free(text);
}

Test(podlist, a_list_is_cut_at_its_bound)
{
	char *text = podlist(3000, NULL, NULL), err[256];
	struct k8s_parse_stats st;
	struct k8s_podlist *l;

	cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 1000, &l, &st, err,
					    sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, l->n, 1000));
	cr_assert(eq(uint, st.items, 3000));
	cr_assert(eq(uint, st.over, 2000));
	cr_assert(ne(ptr, (void *)k8s_podlist_find(l, "00000000-0000-4000-8000-000000000999"),
		     NULL), "the first ones are kept");
	k8s_podlist_put(l);
	cr_assert(eq(int, k8s_podlist_parse(text, strlen(text), labels(), 0, &l, &st, err,
					    sizeof(err)), 0));
	cr_assert(eq(uint, l->n, K8S_DEFAULT_MAX_PODS), "the default bound");
	k8s_podlist_put(l);
	free(text);
}

/* reproducer: 5,000,000 empty objects (15 MB) took the agent to 1.1 GB */
Test(podlist, millions_of_empty_objects_cost_no_memory)
{
	static char chunk[3 * 10000];
	struct k8s_podlist_parser *p = k8s_podlist_parser_new(labels(), 0);
	struct k8s_parse_stats st;
	struct k8s_podlist *l;
	size_t before, peak = 0;
	char err[256];
	int i;

	cr_assert(ne(ptr, p, NULL));
	for (i = 0; i < 10000; i++)
		memcpy(chunk + 3 * i, "{},", 3);
	before = mallinfo2().uordblks;
	k8s_podlist_parser_feed(p, "{\"items\":[", 10);
	for (i = 0; i < 500; i++) {
		cr_assert(eq(int, k8s_podlist_parser_feed(p, chunk, sizeof(chunk)), 0));
		if (mallinfo2().uordblks > peak)
			peak = mallinfo2().uordblks;
	}
	cr_assert(eq(int, k8s_podlist_parser_feed(p, "{}]}", 4), 0));
	cr_assert(eq(int, k8s_podlist_parser_end(p, &l, &st, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, st.items, 5000001));
	cr_assert(eq(uint, st.left_out, 5000001));
	cr_assert(eq(uint, l->n, 0));
	cr_assert(lt(u64, peak - before, 64 * 1024), "%zu bytes held while parsing", peak - before);
	k8s_podlist_put(l);
	k8s_podlist_parser_free(p);
}

Test(podlist, what_is_not_a_pod_list_is_refused_with_a_reason)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "", "ends early" },
		{ "[]", "not an object" },
		{ "\"x\"", "not an object" },
		{ "{\"items\": 3}", "\"items\" is not an array" },
		{ "{\"items\": {}}", "\"items\" is not an array" },
		{ "{\"items\": [", "ends early" },
		{ "{\"items\": [\"abc", "ends early" },
		{ "{\"items\": []} x", "text after" },
		{ "{\"items\": [\"\\q\"]}", "bad escape" },
		{ "{\"items\": [\"\\u12g4\"]}", "bad \\u escape" },
		{ "{\"items\": [tru]}", "'tru'" },
		{ "{\"items\": [1,]}", "unexpected ']'" },
		{ "{\"a\" 1}", "':' expected" },
		{ "{\"a\": 1 \"b\": 2}", "',' expected" },
		{ "{\"items\": [\"a\nb\"]}", "control character" },
		{ "{\"items\": []]", "out of place" },
	};
	struct k8s_podlist *l;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert(eq(int, k8s_podlist_parse(bad[i].text, strlen(bad[i].text), NULL, 0, &l,
						    NULL, err, sizeof(err)), -EINVAL), "%s", bad[i].text);
		cr_assert(eq(ptr, l, NULL));
		cr_assert(ne(ptr, strstr(err, bad[i].why), NULL), "'%s': %s", bad[i].text, err);
	}
	/* no items, or null: an empty list */
	cr_assert(eq(int, k8s_podlist_parse("{\"kind\":\"PodList\"}", 18, NULL, 0, &l, NULL, err,
					    sizeof(err)), 0), "%s", err);
	cr_assert(eq(uint, l->n, 0));
	k8s_podlist_put(l);
	cr_assert(eq(int, k8s_podlist_parse("{\"items\":null}", 14, NULL, 0, &l, NULL, err,
					    sizeof(err)), 0), "%s", err);
	k8s_podlist_put(l);
}

Test(podlist, nesting_is_bounded)
{
	size_t n = 100000, i;
	char *deep = malloc(2 * n + 64), err[256];
	struct k8s_podlist *l;
	int off;

	cr_assert(ne(ptr, deep, NULL));
	off = sprintf(deep, "{\"items\":[],\"x\":");
	for (i = 0; i < 400; i++)
		deep[off + i] = '[';
	for (i = 0; i < 400; i++)
		deep[off + 400 + i] = ']';
	strcpy(deep + off + 800, "}");
	cr_assert(eq(int, k8s_podlist_parse(deep, strlen(deep), NULL, 0, &l, NULL, err,
					    sizeof(err)), 0), "400 levels: %s", err);
	k8s_podlist_put(l);
	for (i = 0; i < n; i++)
		deep[off + i] = '[';
	deep[off + n] = '\0';
	cr_assert(eq(int, k8s_podlist_parse(deep, strlen(deep), NULL, 0, &l, NULL, err,
					    sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "nested deeper than 512 levels"), NULL), "%s", err);
	free(deep);
}
