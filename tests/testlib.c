// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "../user/cgroup.h"

static char v2_root[1024];
static char cgroups[TESTLIB_MAX_CGROUPS][512];
static int nr_cgroups;
static pid_t procs[TESTLIB_MAX_PROCS];
static int nr_procs;

void testlib_require_bpf(void)
{
	const char *why = NULL;

	if (geteuid() != 0)
		why = "needs root to load BPF programs and create cgroups";
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		why = "needs kernel BTF at /sys/kernel/btf/vmlinux";
	if (!why)
		return;
	if (getenv("CI")) {
		bool in_ci_bpf_must_work = false;

		cr_assert(in_ci_bpf_must_work, "%s, and CI must not skip the BPF tests", why);
	}
	cr_skip_test("%s", why);
}

const char *testlib_v2_root(void)
{
	int err;

	if (v2_root[0])
		return v2_root;
	err = cgroup_find_v2_mount(PROC_MOUNTINFO, v2_root, sizeof(v2_root));
	cr_assert(err == 0, "no cgroup v2 mount: %s", strerror(-err));
	return v2_root;
}

const char *testlib_cgroup(const char *name, uint64_t *id)
{
	char full[4096];
	char *rel;

	cr_assert(nr_cgroups < TESTLIB_MAX_CGROUPS);
	rel = cgroups[nr_cgroups];
	snprintf(rel, sizeof(cgroups[0]), "cgsnap-test-%d-%s", getpid(), name);
	snprintf(full, sizeof(full), "%s/%s", testlib_v2_root(), rel);
	cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", full, strerror(errno));
	nr_cgroups++;
	cr_assert(cgroup_path_to_id(v2_root, rel, id) == 0);
	return rel;
}

static void enter_cgroup(const char *rel)
{
	char path[4096], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", v2_root, rel);
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, pid, n) != n)
		_exit(127);
	close(fd);
}

pid_t testlib_spawn(const char *rel, char *const argv[])
{
	pid_t pid;

	cr_assert(nr_procs < TESTLIB_MAX_PROCS);
	testlib_v2_root();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		enter_cgroup(rel);
		execvp(argv[0], argv);
		_exit(127);
	}
	procs[nr_procs++] = pid;
	return pid;
}

void testlib_cleanup(void)
{
	char full[4096];
	int i;

	for (i = 0; i < nr_procs; i++)
		kill(procs[i], SIGKILL);
	for (i = 0; i < nr_procs; i++)
		waitpid(procs[i], NULL, 0);
	nr_procs = 0;
	for (i = nr_cgroups - 1; i >= 0; i--) {
		snprintf(full, sizeof(full), "%s/%s", v2_root, cgroups[i]);
		/* a killed task leaves its cgroup asynchronously: retry briefly */
		for (int tries = 0; rmdir(full) && errno == EBUSY && tries < 100; tries++)
			usleep(10000);
	}
	nr_cgroups = 0;
}
