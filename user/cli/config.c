// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "config.h"
#include "readfile.h"
#include "settings.h"

/* far beyond any config; a larger file is a mistake, not a config */
#define CONFIG_MAX_BYTES (16 << 20)

int run_options_add_pid(struct run_options *o, long long pid)
{
	int *v;

	if (pid < 1 || pid > INT32_MAX)
		return -ERANGE;
	v = realloc(o->pids, (o->nr_pids + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->pids = v;
	v[o->nr_pids++] = (int)pid;
	return 0;
}

void run_options_free(struct run_options *o)
{
	agent_opts_free(&o->agent);
	metrics_opts_free(&o->http.metrics);
	k8s_label_keys_free(&o->k8s.labels);
	free(o->pids);
	o->pids = NULL;
	json_decref(o->config);
	o->config = NULL;
}

int setting_from_json(const struct setting_desc *d, struct cgsnap_settings *s, json_t *v,
		      char *err, size_t errlen)
{
	char buf[64];

	if (json_is_string(v))
		return setting_parse(d, s, json_string_value(v), err, errlen);
	if (json_is_integer(v) && d->type != ST_DURATION && d->type != ST_STAT) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	if (json_is_real(v) && d->type == ST_RATIO) {
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return setting_parse(d, s, buf, err, errlen);
	}
	snprintf(err, errlen, "invalid %s: expected %s", d->name,
		 d->type == ST_DURATION || d->type == ST_STAT ? "a string" : "a number or a string");
	return -EINVAL;
}

/* the "settings" object (its own loop: json_object_foreach iterates by key,
 * so nesting two with the same variables ends the outer) */
static int apply_full_histograms(struct run_options *o, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "metrics_full_histograms: expected strings (path globs)");
			return -EINVAL;
		}
		if (metrics_opts_add_full(&o->http.metrics, json_string_value(v)))
			return -ENOMEM;
	}
	return 0;
}

int parse_kubelet_interval(const char *value, int64_t *ns)
{
	if (cgsnap_parse_duration(value, ns) || *ns < K8S_MIN_INTERVAL_NS)
		return -EINVAL;
	return 0;
}

int parse_idle_read_interval(const char *value, int64_t *ns)
{
	if (!strcmp(value, "0")) {	/* "0" alone turns it off */
		*ns = 0;
		return 0;
	}
	return cgsnap_parse_duration(value, ns);
}

int parse_pod_label(const char *key, struct k8s_opts *k)
{
	for (unsigned int i = 0; i < k->labels.n; i++)
		if (!strcmp(k->labels.keys[i], key))
			return 0;
	if (strpbrk(key, " \t\r\n\"=,{}"))
		return -EINVAL;
	return k8s_label_keys_add(&k->labels, key);
}

static int apply_pod_labels(struct run_options *o, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	int ret;

	json_array_foreach(arr, i, v) {
		ret = json_is_string(v) ? parse_pod_label(json_string_value(v), &o->k8s) : -EINVAL;
		if (ret == -EINVAL)
			snprintf(err, errlen, "pod_labels: expected label keys (strings without blanks, "
				 "quotes, '=', ',' or braces)");
		if (ret)
			return ret;
	}
	return 0;
}

static int apply_settings(struct run_options *o, json_t *settings, char *err, size_t errlen)
{
	const struct setting_desc *d;
	const char *key;
	json_t *v;

	json_object_foreach(settings, key, v) {
		d = setting_find(key);
		if (!d) {
			snprintf(err, errlen, "unknown setting \"%s\"", key);
			return -EINVAL;
		}
		if (setting_from_json(d, &o->agent.settings, v, err, errlen))
			return -EINVAL;
	}
	return 0;
}

static int apply_cgroups(struct run_options *o, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	int ret;

	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "\"cgroups\" must hold strings");
			return -EINVAL;
		}
		ret = agent_opts_add_cgroup(&o->agent, json_string_value(v));
		if (ret == -EINVAL)
			snprintf(err, errlen, "invalid cgroup path \"%s\" in \"cgroups\": '.' and "
				 "'..' components are not allowed", json_string_value(v));
		if (ret)
			return ret;
	}
	return 0;
}

static int apply_pids(struct run_options *o, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;
	int ret;

	json_array_foreach(arr, i, v) {
		ret = json_is_integer(v) ? run_options_add_pid(o, json_integer_value(v)) : -ERANGE;
		if (ret == -ERANGE)
			snprintf(err, errlen, "\"pids\" must hold process ids from 1 to %d",
				 INT32_MAX);
		if (ret)
			return ret == -ERANGE ? -EINVAL : ret;
	}
	return 0;
}

int parse_auth(const char *value, bool *all)
{
	if (!strcmp(value, "writes"))
		*all = false;
	else if (!strcmp(value, "all"))
		*all = true;
	else
		return -EINVAL;
	return 0;
}

static bool is_count(json_t *v, json_int_t max)
{
	return json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= max;
}

static int apply(struct run_options *o, json_t *root, char *err, size_t errlen)
{
	const char *key;
	int ret = 0;
	json_t *v;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "the top level must be an object");
		return -EINVAL;
	}
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "settings") && json_is_object(v)) {
			ret = apply_settings(o, v, err, errlen);
		} else if (!strcmp(key, "cgroups") && json_is_array(v)) {
			ret = apply_cgroups(o, v, err, errlen);
		} else if (!strcmp(key, "pids") && json_is_array(v)) {
			ret = apply_pids(o, v, err, errlen);
		} else if (!strcmp(key, "all") && json_is_string(v) &&
			   cgroup_path_valid(json_string_value(v))) {
			o->agent.watch_all = true;
			o->agent.all_root = json_string_value(v);
		} else if (!strcmp(key, "listen") && json_is_string(v)) {
			o->http.listen = json_string_value(v);
		} else if (!strcmp(key, "token_file") && json_is_string(v)) {
			o->http.token_file = json_string_value(v);
		} else if (!strcmp(key, "auth") && json_is_string(v) &&
			   parse_auth(json_string_value(v), &o->http.auth_all) == 0) {
		} else if (!strcmp(key, "tls_cert") && json_is_string(v)) {
			o->http.tls_cert = json_string_value(v);
		} else if (!strcmp(key, "tls_key") && json_is_string(v)) {
			o->http.tls_key = json_string_value(v);
		} else if (!strcmp(key, "metrics_histograms") && json_is_string(v) &&
			   !metrics_histograms_parse(json_string_value(v),
						     &o->http.metrics.histograms)) {
		} else if (!strcmp(key, "metrics_full_histograms") && json_is_array(v)) {
			ret = apply_full_histograms(o, v, err, errlen);
		} else if (!strcmp(key, "kubelet_url") && json_is_string(v)) {
			o->k8s.kubelet_url = json_string_value(v);
		} else if (!strcmp(key, "kubelet_token_file") && json_is_string(v)) {
			o->k8s.token_file = json_string_value(v);
		} else if (!strcmp(key, "kubelet_ca_file") && json_is_string(v)) {
			o->k8s.ca_file = json_string_value(v);
		} else if (!strcmp(key, "kubelet_insecure_tls") && json_is_boolean(v)) {
			o->k8s.insecure_tls = json_is_true(v);
		} else if (!strcmp(key, "kubelet_interval") && json_is_string(v) &&
			   !parse_kubelet_interval(json_string_value(v), &o->k8s.interval_ns)) {
		} else if (!strcmp(key, "pod_labels") && json_is_array(v)) {
			ret = apply_pod_labels(o, v, err, errlen);
		} else if (!strcmp(key, "pod_from_env") && json_is_boolean(v)) {
			o->k8s.pod_from_env = json_is_true(v);
		} else if (!strcmp(key, "pin") && json_is_string(v)) {
			o->pin = true;
			o->pin_dir = json_string_value(v);
		} else if (!strcmp(key, "record") && json_is_string(v)) {
			o->record = json_string_value(v);
		} else if (!strcmp(key, "idle_read_interval") && json_is_string(v) &&
			   !parse_idle_read_interval(json_string_value(v), &o->agent.idle_read_ns)) {
		} else if (!strcmp(key, "max_cgroups") && is_count(v, CGSNAP_MAX_SLOTS)) {
			o->agent.max_cgroups = json_integer_value(v);
		} else {
			snprintf(err, errlen, "unknown or malformed key \"%s\"", key);
			ret = -EINVAL;
		}
		if (ret)
			return ret;
	}
	return 0;
}

int config_parse(const char *text, size_t len, const char *name, struct run_options *o,
		 char *err, size_t errlen)
{
	char why[512] = "";
	json_error_t jerr;
	int ret;

	json_decref(o->config);
	o->config = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o->config) {
		snprintf(err, errlen, "%s:%d: %s", name, jerr.line, jerr.text);
		return -EINVAL;
	}
	ret = apply(o, o->config, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "%s: %s", name, ret == -ENOMEM ? "out of memory" : why);
	return ret;
}

int config_load(const char *path, struct run_options *o, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int ret;

	ret = read_file(path, CONFIG_MAX_BYTES, &text, &len);
	if (ret) {
		snprintf(err, errlen, "%s:0: cannot read: %s", path, strerror(-ret));
		return -EINVAL;
	}
	ret = config_parse(text, len, path, o, err, errlen);
	free(text);
	return ret;
}
