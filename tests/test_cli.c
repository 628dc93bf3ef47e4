// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The command line: help, config files, bad options, privileges. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char out[1 << 16];
static char cfg_path[64];	/* a config file a test wrote: removed even if it fails */

static void teardown(void)
{
	if (cfg_path[0])
		unlink(cfg_path);
}

/* run "cgsnap @args" (stderr too) into out[]; returns the exit status */
static int cgsnap(const char *args)
{
	char cmd[2048];
	size_t n;
	FILE *p;

	cr_assert(ne(ptr, getenv("CGSNAP_BIN"), NULL), "CGSNAP_BIN is not set (run make test)");
	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", getenv("CGSNAP_BIN"), args);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static void has(const char *needle)
{
	cr_assert(ne(ptr, strstr(out, needle), NULL), "output lacks '%s':\n%s", needle, out);
}

TestSuite(cli, .fini = teardown);

Test(cli, help_lists_commands_and_every_setting)
{
	cr_assert(eq(int, cgsnap("--help"), 0));
	has("run ");
	has("stat ");
	has("status ");
	has("replay ");
	cr_assert(eq(int, cgsnap("run --help"), 0));
	has("--max-runq-delay=DUR");
	has("--client-rate-limit-error-retry-count=N");
	has("--memory-warning-cooldown-period=DUR");
	has("--pin[=DIR]");
	cr_assert(eq(int, cgsnap("frobnicate"), 2));
	has("unknown command 'frobnicate'");
}

Test(cli, config_file_and_flags)
{
	cr_assert(eq(int, cgsnap("run --config docs/cgsnap.example.json --runq-statistic max "
				 "--check"), 0));
	has("max_runq_delay: 20ms");
	has("runq_statistic: max");	/* the flag overrides the file's p90 */
	has("max_memory_size: 8589934592");
	has("pin: /sys/fs/bpf/cgsnap");
	cr_assert(eq(int, cgsnap("run --cgroup a --pin /sys/fs/bpf/x --all sub --check"), 0));
	has("pin: /sys/fs/bpf/x");
	has("watch: all of /sub a");
	cr_assert(eq(int, cgsnap("run --check"), 0));
	has("watch: all of /");
	has("listen: 127.0.0.1:9465");
}

Test(cli, bad_configuration_is_rejected_before_anything_starts)
{
	char *path = cfg_path, args[128];
	FILE *f;

	cr_assert(eq(int, cgsnap("run --max-used-cpu-ratio 1.5 --check"), 2));
	has("invalid max_used_cpu_ratio '1.5'");
	cr_assert(eq(int, cgsnap("run --snapshot-history 30 --check"), 2));
	has("invalid snapshot_history '30'");
	cr_assert(eq(int, cgsnap("run --runq-interval 0s --check"), 2));
	has("runq_interval must be greater than 0");
	cr_assert(eq(int, cgsnap("run --pid 0 --check"), 2));
	cr_assert(eq(int, cgsnap("run --config /nonexistent.json --check"), 2));
	has("/nonexistent.json");
	snprintf(cfg_path, sizeof(cfg_path), "/tmp/cgsnap-test-%d.json", getpid());
	snprintf(args, sizeof(args), "run --config %s --check", path);
	f = fopen(path, "w");
	fputs("{\"settings\": {\"max_runq_delay\": \"5\"}}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	has("invalid max_runq_delay '5'");
	f = fopen(path, "w");
	fputs("{\"settings\": {\"max_runq_delay\": \"5ms\"}, \"listen\": 9}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	has("malformed key \"listen\": expected a string");
	f = fopen(path, "w");
	fputs("{\"settings\": {", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	has(".json:1:");
	/* reproducers: config pids out of range were accepted (and watched pid 1) */
	f = fopen(path, "w");
	fputs("{\"pids\": [4294967297]}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	has("\"pids\": expected a process id from 1 to 2147483647");
	f = fopen(path, "w");
	fputs("{\"pids\": [2147483648]}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	f = fopen(path, "w");
	fputs("{\"cgroups\": [\"a/../b\"]}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2));
	has("malformed key \"cgroups\": expected a cgroup path without '.' or '..'");
}

/* reproducers: paths with ".." started with "watching 0 cgroups" and no error */
Test(cli, cgroup_paths_cannot_leave_the_hierarchy)
{
	cr_assert(eq(int, cgsnap("run --cgroup ../../../../etc --check"), 2));
	has("invalid --cgroup '../../../../etc': expected a cgroup path without");
	cr_assert(eq(int, cgsnap("run --cgroup a/../b --check"), 2));
	has("invalid --cgroup 'a/../b'");
	cr_assert(eq(int, cgsnap("run --all=x/./y --check"), 2));
	cr_assert(eq(int, cgsnap("run --all .. --check"), 2));
	cr_assert(eq(int, cgsnap("stat --cgroup a/.. -d 1s"), 2));
	has("invalid cgroup path 'a/..'");
	cr_assert(eq(int, cgsnap("run --cgroup a..b/c.d --check"), 0), "dots inside names are fine");
}

Test(cli, status_without_an_agent)
{
	cr_assert(eq(int, cgsnap("status --server 127.0.0.1:1"), 1));
	has("cannot reach the agent at http://127.0.0.1:1");
}

Test(cli, missing_capability_is_named)
{
	if (system("command -v setpriv >/dev/null"))
		cr_skip_test("setpriv (util-linux) is not installed");
	testlib_require_bpf();
	char cmd[1024];
	FILE *p;

	/* as nobody, with no capability at all */
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups "
		 "--inh-caps=-all %s stat -d 1s 2>&1", getenv("CGSNAP_BIN"));
	p = popen(cmd, "r");
	size_t n = fread(out, 1, sizeof(out) - 1, p);

	out[n] = '\0';
	cr_assert(eq(int, WEXITSTATUS(pclose(p)), 1));
	has("missing capability CAP_BPF");
	/* with CAP_BPF but not CAP_PERFMON */
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups "
		 "--inh-caps=+bpf --ambient-caps=+bpf %s stat -d 1s 2>&1", getenv("CGSNAP_BIN"));
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, WEXITSTATUS(pclose(p)), 1));
	has("missing capability CAP_PERFMON");
}

Test(cli, bpf_and_perfmon_suffice)
{
	char cmd[1024];
	size_t n;
	FILE *p;

	if (system("command -v setpriv >/dev/null"))
		cr_skip_test("setpriv (util-linux) is not installed");
	testlib_require_bpf();
	snprintf(cmd, sizeof(cmd), "setpriv --reuid=65534 --regid=65534 --clear-groups "
		 "--inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon %s stat -d 1s --json 2>&1",
		 getenv("CGSNAP_BIN"));
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	cr_assert(eq(int, WEXITSTATUS(pclose(p)), 0), "as nobody with CAP_BPF+CAP_PERFMON:\n%s",
		  out);
	has("\"cgroups\"");
}

/* deploy/: valid YAML by yamllint, and every cgsnap container's arguments
 * accepted by `cgsnap run --check` (scripts/check-deploy.py) */
Test(cli, deploy_manifests_pass_yamllint_and_their_args_pass_check)
{
	char cmd[512];

	cr_assert(eq(int, WEXITSTATUS(system("yamllint -s deploy/")), 0),
		  "yamllint rejects deploy/ (see above)");
	snprintf(cmd, sizeof(cmd), "python3 scripts/check-deploy.py %s deploy", getenv("CGSNAP_BIN"));
	cr_assert(eq(int, WEXITSTATUS(system(cmd)), 0),
		  "a manifest starts cgsnap with arguments it rejects (see above)");
}

Test(cli, idle_read_interval_is_checked)
{
	char cfg[64], args[128];
	FILE *f;

	cr_assert(eq(int, cgsnap("run --check"), 0), "%s", out);
	cr_assert(ne(ptr, strstr(out, "idle cgroups: CPU usage kept, memory read every 10s"), NULL),
		  "the default: %s", out);
	cr_assert(eq(int, cgsnap("run --check --idle-read-interval 0"), 0), "%s", out);
	cr_assert(ne(ptr, strstr(out, "idle cgroups: read at every tick"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --idle-read-interval 10"), 2), "%s", out);
	cr_assert(ne(ptr, strstr(out, "invalid --idle-read-interval '10'"), NULL), "%s", out);
	snprintf(cfg, sizeof(cfg), "/tmp/cgsnap-test-%d.json", getpid());
	f = fopen(cfg, "w");
	cr_assert(ne(ptr, f, NULL));
	fputs("{\"idle_read_interval\": \"1m\"}", f);
	fclose(f);
	snprintf(args, sizeof(args), "run --check --config %s", cfg);
	cr_assert(eq(int, cgsnap(args), 0), "%s", out);
	cr_assert(ne(ptr, strstr(out, "memory read every 60s"), NULL), "%s", out);
	f = fopen(cfg, "w");
	cr_assert(ne(ptr, f, NULL));
	fputs("{\"idle_read_interval\": 10}", f);
	fclose(f);
	cr_assert(eq(int, cgsnap(args), 2), "%s", out);
	unlink(cfg);
	cr_assert(ne(ptr, strstr(out, "idle_read_interval"), NULL), "%s", out);
}

Test(cli, kubernetes_options_are_checked)
{
	cr_assert(eq(int, cgsnap("run --check --kubelet-url ftp://x"), 2));
	cr_assert(ne(ptr, strstr(out, "http:// or https://"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://10.0.0.1:10250 --pod-from-env"),
		     2));
	cr_assert(ne(ptr, strstr(out, "exclude each other"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --kubelet-interval 10s"), 2));
	cr_assert(ne(ptr, strstr(out, "need --kubelet-url"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --kubelet-url http://h:10255 --kubelet-interval 10ms"),
		     2));
	cr_assert(ne(ptr, strstr(out, "at least 1s"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --pod-label app"), 2));
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://h:10250 --kubelet-insecure-tls "
				 "--kubelet-ca-file /x"), 2));
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://h:10250 --pod-label app "
				 "--pod-label app.kubernetes.io/name --kubelet-interval 30s"), 0), "%s",
		  out);
	cr_assert(ne(ptr, strstr(out, "label_app_kubernetes_io_name"), NULL), "%s", out);
	cr_assert(ne(ptr, strstr(out, "every 30 s, at most 1000"), NULL), "%s", out);
	/* reproducer: two keys made one label name, and promtool refused the scrape */
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://h:10250 --pod-label app.x "
				 "--pod-label app_x"), 2), "%s", out);
	cr_assert(ne(ptr, strstr(out, "--pod-label app.x and --pod-label app_x would both be "
				      "label_app_x"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://h:10250 --kubelet-max-pods 250"),
		     0), "%s", out);
	cr_assert(ne(ptr, strstr(out, "at most 250"), NULL), "%s", out);
	cr_assert(eq(int, cgsnap("run --check --kubelet-url https://h:10250 --kubelet-max-pods 0"),
		     2));
	cr_assert(ne(ptr, strstr(out, "invalid --kubelet-max-pods '0'"), NULL), "%s", out);
	char cfg[64], args[128];
	FILE *f;

	snprintf(cfg, sizeof(cfg), "/tmp/cgsnap-test-%d.json", getpid());
	f = fopen(cfg, "w");
	cr_assert(ne(ptr, f, NULL));
	fputs("{\"kubelet_url\": \"http://h:10255\", \"pod_labels\": [\"app\"], "
	      "\"kubelet_interval\": \"5s\", \"kubelet_insecure_tls\": true}", f);
	fclose(f);
	snprintf(args, sizeof(args), "run --check --config %s", cfg);
	cr_assert(eq(int, cgsnap(args), 0), "%s", out);
	unlink(cfg);
	cr_assert(ne(ptr, strstr(out, "every 5 s"), NULL), "%s", out);
	cr_assert(ne(ptr, strstr(out, "not checked (insecure)"), NULL), "%s", out);
	/* a sidecar without its environment: a clear error, before anything starts */
	unsetenv("POD_NAME");
	cr_assert(eq(int, cgsnap("run --pod-from-env --listen 127.0.0.1:1"), 1), "%s", out);
	cr_assert(ne(ptr, strstr(out, "POD_NAME is not set"), NULL), "%s", out);
}
