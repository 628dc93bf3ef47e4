// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The settings table and what is generated from it: flags, config keys,
 * validation and formatting. No root. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_options.h"
#include "options.h"
#include "settings.h"

TestSuite(options);

static const struct argp_option *find(const struct argp_option *o, const char *name)
{
	for (; o->name || o->key || o->doc; o++)
		if (o->name && !strcmp(o->name, name))
			return o;
	return NULL;
}

Test(options, every_setting_is_a_run_flag_and_replay_gets_its_own)
{
	static const struct argp_option base[] = { { "pretty", 'p', NULL, 0, "x", 0 }, {} };
	struct argp_option *run = setting_options_new(base, SETTING_RUN, "S:", 3);
	struct argp_option *replay = setting_options_new(base, SETTING_REPLAY, "S:", 1);
	char flag[64];
	size_t i;

	cr_assert(ne(ptr, run, NULL));
	cr_assert(ne(ptr, replay, NULL));
	cr_assert(ne(ptr, (void *)find(run, "pretty"), NULL), "the base options come first");
	for (i = 0; i < settings_table_len; i++) {
		const struct setting_desc *d = &settings_table[i];
		const struct argp_option *o = find(run, setting_flag(d, flag, sizeof(flag)));

		cr_assert(ne(ptr, (void *)o, NULL), "--%s", flag);
		cr_assert(ne(ptr, strstr(o->doc, "(default "), NULL), "--%s says its default", flag);
		cr_assert(eq(int, find(replay, flag) != NULL, (d->scope & SETTING_REPLAY) != 0),
			  "replay --%s", flag);
	}
	cr_assert(ne(ptr, (void *)find(replay, "memory-warning-cooldown"), NULL), "the alias");
	cr_assert(eq(ptr, (void *)find(replay, "runq-interval"), NULL));
	setting_options_free(run);
	setting_options_free(replay);
}

Test(options, names_are_unique_and_defaults_format_back)
{
	struct cgsnap_settings s, t;
	char v[64], w[64], err[256];
	size_t i, j;

	cgsnap_settings__init(&s);
	cgsnap_settings__init(&t);
	for (i = 0; i < settings_table_len; i++) {
		for (j = i + 1; j < settings_table_len; j++)
			cr_assert(ne(int, strcmp(settings_table[i].name, settings_table[j].name), 0));
		cr_assert(eq(ptr, (void *)setting_find(settings_table[i].name),
			     (void *)&settings_table[i]));
		setting_format(&settings_table[i], &s, v, sizeof(v));
		/* a value cannot be "none": parse something else first, then the default */
		if (strcmp(v, "none")) {
			cr_assert(eq(int, setting_parse(&settings_table[i], &t, "1", err, sizeof(err)) &&
				     setting_parse(&settings_table[i], &t, "1s", err, sizeof(err)) &&
				     setting_parse(&settings_table[i], &t, "p50", err, sizeof(err)), 0));
			cr_assert(eq(int, setting_parse(&settings_table[i], &t, v, err, sizeof(err)),
				     0), "%s: %s", settings_table[i].name, err);
		}
	}
	for (i = 0; i < settings_table_len; i++) {
		setting_format(&settings_table[i], &s, v, sizeof(v));
		setting_format(&settings_table[i], &t, w, sizeof(w));
		cr_assert(eq(str, v, w), "%s parses back to itself", settings_table[i].name);
	}
}

Test(options, parse_errors_name_the_setting_and_what_is_expected)
{
	const struct setting_desc *d = setting_find("max_used_cpu_ratio");
	struct cgsnap_settings s;
	char err[256];

	cgsnap_settings__init(&s);
	cr_assert(eq(int, setting_parse(d, &s, "1.5", err, sizeof(err)), -EINVAL));
	cr_assert(eq(str, err, "invalid max_used_cpu_ratio '1.5': expected a number in (0, 1]"));
	cr_assert(eq(dbl, s.max_used_cpu_ratio, 0.95), "unchanged");
	d = setting_find("runq_interval");
	cr_assert(eq(int, setting_parse(d, &s, "0s", err, sizeof(err)), -EINVAL));
	cr_assert(ne(ptr, strstr(err, "runq_interval must be greater than 0"), NULL), "%s", err);
	d = setting_find("max_client_errors");
	cr_assert(eq(int, setting_parse(d, &s, "4294967296", err, sizeof(err)), -EINVAL));
	d = setting_find("max_memory_size");
	cr_assert(eq(int, setting_parse(d, &s, "2G", err, sizeof(err)), 0));
	cr_assert(eq(i64, s.max_memory_size, 2LL << 30));
	cr_assert(eq(int, setting_parse(d, &s, "0", err, sizeof(err)), -EINVAL));
}

/* write @text to a temporary config file and load it */
static int load(const char *text, struct run_options *o, char *err, size_t len)
{
	char path[64];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/tmp/cgsnap-test-%d.json", getpid());
	f = fopen(path, "w");
	cr_assert(ne(ptr, f, NULL));
	fputs(text, f);
	fclose(f);
	cgsnap_settings__init(&o->agent.settings);
	ret = config_load(path, o, err, len);
	unlink(path);
	return ret;
}

Test(options, config_file_keys_are_the_settings_names)
{
	struct run_options o = {};
	char err[512];

	cr_assert(eq(int, load("{\"settings\": {\"snapshot_history\": \"60s\", "
			       "\"max_used_cpu_ratio\": 0.5, \"max_client_errors\": 3}, "
			       "\"cgroups\": [\"a\", \"b\"], \"pids\": [1, 2147483647], "
			       "\"listen\": \"127.0.0.1:1\"}", &o, err, sizeof(err)), 0), "%s", err);
	cr_assert(eq(i64, o.agent.settings.snapshot_history_ns, 60 * CGSNAP_NSEC_PER_SEC));
	cr_assert(eq(dbl, o.agent.settings.max_used_cpu_ratio, 0.5));
	cr_assert(eq(i64, o.agent.settings.max_client_errors, 3));
	cr_assert(eq(u32, o.agent.nr_cgroups, 2));
	cr_assert(eq(u32, o.nr_pids, 2));
	cr_assert(eq(str, (char *)o.http.listen, "127.0.0.1:1"));
	run_options_free(&o);
}

/* every key of the option table, as the config file gives it */
Test(options, config_file_takes_every_option)
{
	struct run_options o = {};
	char err[512];

	cr_assert(eq(int, load("{\"all\": \"kubepods.slice\", \"pin\": \"/sys/fs/bpf/x\", "
			       "\"record\": \"/tmp/r\", \"token_file\": \"/t\", \"auth\": \"all\", "
			       "\"tls_cert\": \"/c\", \"tls_key\": \"/k\", "
			       "\"metrics_histograms\": \"full\", "
			       "\"metrics_full_histograms\": [\"/a/*\", \"/b\"], "
			       "\"idle_read_interval\": \"0\", \"max_cgroups\": 4096, "
			       "\"kubelet_url\": \"https://n:10250\", \"kubelet_token_file\": \"/kt\", "
			       "\"kubelet_ca_file\": \"/ca\", \"kubelet_insecure_tls\": false, "
			       "\"kubelet_interval\": \"30s\", \"kubelet_max_pods\": 250, "
			       "\"pod_labels\": [\"app\", \"app\"], \"pod_from_env\": false}",
			       &o, err, sizeof(err)), 0), "%s", err);
	cr_assert(o.agent.watch_all);
	cr_assert(eq(str, (char *)o.agent.all_root, "kubepods.slice"));
	cr_assert(o.pin);
	cr_assert(eq(str, (char *)o.pin_dir, "/sys/fs/bpf/x"));
	cr_assert(o.http.auth_all);
	cr_assert(eq(int, o.http.metrics.histograms, METRICS_HIST_FULL));
	cr_assert(eq(u32, o.http.metrics.nr_full, 2));
	cr_assert(eq(i64, o.agent.idle_read_ns, 0));
	cr_assert(eq(u32, o.agent.max_cgroups, 4096));
	cr_assert(eq(i64, o.k8s.interval_ns, 30 * CGSNAP_NSEC_PER_SEC));
	cr_assert(eq(u32, o.k8s.max_pods, 250));
	cr_assert(eq(u32, o.k8s.labels.n, 1), "a label given twice is kept once");
	cr_assert(not(o.k8s.insecure_tls));
	run_options_free(&o);
}

Test(options, config_file_errors)
{
	static const struct {
		const char *text, *needle;
	} cases[] = {
		{ "[]", "the top level must be an object" },
		{ "{\"settings\": {\"nope\": 1}}", "unknown setting \"nope\"" },
		{ "{\"settings\": {\"runq_interval\": 5}}", "expected a string" },
		{ "{\"frobnicate\": 1}", "unknown key \"frobnicate\"" },
		{ "{\"pids\": [4294967297]}", "\"pids\": expected a process id from 1" },
		{ "{\"pids\": [0]}", "\"pids\": expected a process id from 1" },
		{ "{\"pids\": [\"1\"]}", "\"pids\": expected an integer" },
		{ "{\"cgroups\": [1]}", "\"cgroups\": expected a string" },
		{ "{\"cgroups\": [\"a/../b\"]}", "without '.' or '..'" },
		{ "{\"kubelet_max_pods\": 0}", "\"kubelet_max_pods\": expected an integer from 1" },
		{ "{\"kubelet_insecure_tls\": \"yes\"}", "expected true or false" },
		{ "{\"verbose\": true}", "unknown key \"verbose\"" },
		{ "{\"max_cgroups\": 0}", "malformed key \"max_cgroups\"" },
		{ "{", "expected" },
	};
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run_options o = {};

		cr_assert(eq(int, load(cases[i].text, &o, err, sizeof(err)), -EINVAL), "%s",
			  cases[i].text);
		cr_assert(ne(ptr, strcasestr(err, cases[i].needle), NULL), "%s: %s", cases[i].text,
			  err);
		run_options_free(&o);
	}
}
