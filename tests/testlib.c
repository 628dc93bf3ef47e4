// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <dirent.h>
#include <poll.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "cgroupfs.h"

static char v2_root[1024];
/* created cgroups: full paths, removed in reverse order */
static char cgroups[TESTLIB_MAX_CGROUPS][1600];
static int nr_cgroups;
static pid_t procs_pids[TESTLIB_MAX_PROCS];
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
	char full[1600];
	char *rel;

	static char rels[TESTLIB_MAX_CGROUPS][128];

	cr_assert(nr_cgroups < TESTLIB_MAX_CGROUPS);
	rel = rels[nr_cgroups];
	snprintf(rel, sizeof(rels[0]), "cgsnap-test-%d-%s", getpid(), name);
	snprintf(full, sizeof(full), "%s/%s", testlib_v2_root(), rel);
	cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", full, strerror(errno));
	snprintf(cgroups[nr_cgroups++], sizeof(cgroups[0]), "%s", full);
	cr_assert(cgroup_path_to_id(v2_root, rel, id) == 0);
	return rel;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -errno;
}

/* process @pid (all its threads) into the cgroup of @procs: 0 or -errno */
static int write_pid(const char *procs, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d\n", pid);
	return write_str(procs, val);
}

static void enter(const char *procs)
{
	if (write_pid(procs, getpid()))
		_exit(127);
}

void testlib_move(const char *rel, pid_t pid)
{
	char procs[1600];
	int err;

	snprintf(procs, sizeof(procs), "%s/%s/cgroup.procs", testlib_v2_root(), rel);
	err = write_pid(procs, pid);
	cr_assert(err == 0, "cannot move %d into %s: %s", pid, procs, strerror(-err));
}

void testlib_die_with(pid_t parent, int sig)
{
	/* a parent gone before the prctl() took effect is not seen by it */
	if (prctl(PR_SET_PDEATHSIG, sig) || getppid() != parent)
		_exit(127);
}

pid_t testlib_spawn_ex(const char *rel, const char *extra_procs, char *const argv[], int *out_fd)
{
	char procs[8192];
	int fds[2] = { -1, -1 };
	pid_t pid, parent;

	cr_assert(nr_procs < TESTLIB_MAX_PROCS);
	snprintf(procs, sizeof(procs), "%s/%s/cgroup.procs", testlib_v2_root(), rel);
	cr_assert(!out_fd || pipe2(fds, O_CLOEXEC) == 0);
	parent = getpid();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		testlib_die_with(parent, SIGKILL);
		if (extra_procs)
			enter(extra_procs);
		enter(procs);
		if (out_fd)
			dup2(fds[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	procs_pids[nr_procs++] = pid;
	if (out_fd) {
		close(fds[1]);
		*out_fd = fds[0];
	}
	return pid;
}

pid_t testlib_spawn(const char *rel, char *const argv[])
{
	return testlib_spawn_ex(rel, NULL, argv, NULL);
}

bool testlib_wait_done(int fd, int timeout_ms)
{
	return testlib_wait_line(fd, "done", timeout_ms);
}

bool testlib_wait_line(int fd, const char *line, int timeout_ms)
{
	char want[64];
	char buf[256];
	size_t n = 0;
	ssize_t r;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (poll(&pfd, 1, timeout_ms) > 0) {
		r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			return false;
		n += r;
		buf[n] = '\0';
		snprintf(want, sizeof(want), "%s\n", line);
		if (strstr(buf, want))
			return true;
		if (n == sizeof(buf) - 1)
			n = 0;
	}
	return false;
}

bool testlib_wait_blocked(pid_t pid, int timeout_ms)
{
	char path[512], buf[512], *state;
	struct dirent *de;
	bool running;
	DIR *dir;

	for (int waited = 0;; waited++) {
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		dir = opendir(path);
		if (!dir)
			return false;
		running = false;
		while (!running && (de = readdir(dir))) {
			FILE *f;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			/* the state follows the command's closing parenthesis */
			if (fgets(buf, sizeof(buf), f) && (state = strrchr(buf, ')')))
				running = state[1] == ' ' && state[2] == 'R';
			fclose(f);
		}
		closedir(dir);
		if (!running)
			return true;
		if (waited >= timeout_ms)
			return false;
		usleep(1000);
	}
}

void testlib_schedstat_of(pid_t pid, pid_t tid, uint64_t *run_delay_ns, uint64_t *timeslices)
{
	unsigned long long run, delay = 0, slices = 0;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	f = fopen(path, "r");
	cr_assert(f != NULL, "no %s", path);
	cr_assert(fscanf(f, "%llu %llu %llu", &run, &delay, &slices) == 3, "%s unreadable", path);
	fclose(f);
	*run_delay_ns = delay;
	*timeslices = slices;
}

void testlib_schedstat(pid_t pid, uint64_t *run_delay_ns, uint64_t *timeslices)
{
	char path[512];
	struct dirent *de;
	DIR *dir;

	*run_delay_ns = *timeslices = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	cr_assert(dir != NULL, "no %s", path);
	while ((de = readdir(dir))) {
		unsigned long long run, delay, slices;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu %llu %llu", &run, &delay, &slices) == 3) {
			*run_delay_ns += delay;
			*timeslices += slices;
		}
		fclose(f);
	}
	closedir(dir);
}

const char *testlib_memory_limit(const char *rel, uint64_t bytes, char *oom_kills_file,
				 size_t len)
{
	static char procs[2048];
	char mem_root[512], dir[1600], path[1700], val[32];

	snprintf(val, sizeof(val), "%llu", (unsigned long long)bytes);
	if (!cgroup_find_v1_mount(PROC_MOUNTINFO, "memory", mem_root, sizeof(mem_root))) {
		cr_assert(nr_cgroups < TESTLIB_MAX_CGROUPS);
		snprintf(dir, sizeof(dir), "%s/%s", mem_root, rel);
		cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir,
			  strerror(errno));
		snprintf(cgroups[nr_cgroups++], sizeof(cgroups[0]), "%s", dir);
		snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
		cr_assert(write_str(path, val) == 0, "cannot write %s", path);
		snprintf(oom_kills_file, len, "%s/memory.oom_control", dir);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		return procs;
	}
	/* pure v2: the memory controller must be enabled for the children */
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", testlib_v2_root());
	write_str(path, "+memory");
	snprintf(path, sizeof(path), "%s/%s/memory.max", v2_root, rel);
	cr_assert(write_str(path, val) == 0, "cannot write %s (no memory controller?)", path);
	snprintf(oom_kills_file, len, "%s/%s/memory.events", v2_root, rel);
	return NULL;
}

const char *testlib_cpu_quota(const char *rel, unsigned int quota_us, unsigned int period_us)
{
	static char procs[2048];
	char cpu_root[512], dir[1600], path[1700], val[64];

	if (!cgroup_find_v1_mount(PROC_MOUNTINFO, "cpu", cpu_root, sizeof(cpu_root))) {
		cr_assert(nr_cgroups < TESTLIB_MAX_CGROUPS);
		snprintf(dir, sizeof(dir), "%s/%s", cpu_root, rel);
		cr_assert(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir,
			  strerror(errno));
		snprintf(cgroups[nr_cgroups++], sizeof(cgroups[0]), "%s", dir);
		snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
		snprintf(val, sizeof(val), "%u", period_us);
		cr_assert(write_str(path, val) == 0, "cannot write %s", path);
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
		snprintf(val, sizeof(val), "%u", quota_us);
		cr_assert(write_str(path, val) == 0, "cannot write %s", path);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		return procs;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", testlib_v2_root());
	write_str(path, "+cpu");
	snprintf(path, sizeof(path), "%s/%s/cpu.max", v2_root, rel);
	snprintf(val, sizeof(val), "%u %u", quota_us, period_us);
	cr_assert(write_str(path, val) == 0, "cannot write %s (no cpu controller?)", path);
	return NULL;
}

uint64_t testlib_oom_kills(const char *file)
{
	unsigned long long v = 0;
	char line[256];
	FILE *f = fopen(file, "r");

	cr_assert(f != NULL, "cannot read %s", file);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

const char *testlib_workload(void)
{
	static char path[1024];
	const char *bin = getenv("CGSNAP_BIN");
	const char *slash;

	cr_assert(bin != NULL, "CGSNAP_BIN is not set (run the tests with make test)");
	slash = strrchr(bin, '/');
	snprintf(path, sizeof(path), "%.*scgsnap-workload", slash ? (int)(slash - bin + 1) : 0, bin);
	cr_assert(access(path, X_OK) == 0, "%s is missing", path);
	return path;
}

/* a sub-directory's name of @fd's directory into @name, or false */
static bool first_subdir(int fd, char name[256])
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	bool found = false;

	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while (!found && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(name, 256, "%s", de->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

/* a killed task leaves its cgroup asynchronously: retry briefly */
static void rmdir_at(int dfd, const char *name)
{
	for (int tries = 0; unlinkat(dfd, name, AT_REMOVEDIR) && errno == EBUSY && tries < 100;
	     tries++)
		usleep(10000);
}

/*
 * Remove the cgroup @top and everything below it, deepest first, a level at
 * a time relative to the one above: a chain deeper than PATH_MAX or than the
 * descriptors a process may hold goes too. One descriptor at a time.
 */
static void rmdir_tree(const char *top)
{
	char (*names)[256] = NULL, (*more)[256];
	int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;
	size_t depth = 0, cap = 0;

	while (fd >= 0) {
		if (depth == cap) {
			cap = cap ? 2 * cap : 64;
			more = realloc(names, cap * sizeof(*names));
			if (!more)
				break;
			names = more;
		}
		if (first_subdir(fd, names[depth])) {
			next = openat(fd, names[depth], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (next < 0)
				break;
			close(fd);
			fd = next;
			depth++;
			continue;
		}
		if (!depth)
			break;
		next = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd >= 0)
			rmdir_at(fd, names[--depth]);
	}
	if (fd >= 0)
		close(fd);
	free(names);
	rmdir_at(AT_FDCWD, top);
}

void testlib_cpu_weight(const char *rel, unsigned int weight)
{
	char path[1700], val[16];

	snprintf(path, sizeof(path), "%s/%s/cpu.weight", testlib_v2_root(), rel);
	if (access(path, F_OK))
		return;	/* no cpu controller there (a hybrid host's v2) */
	snprintf(val, sizeof(val), "%u", weight);
	cr_assert(write_str(path, val) == 0, "cannot write %s", path);
}

static int killed_some;

static int kill_procs(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char procs[PATH_MAX];
	long pid;
	FILE *f;

	if (type != FTW_D)
		return 0;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	f = fopen(procs, "re");
	if (!f)
		return 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (pid > 0 && !kill((pid_t)pid, SIGKILL))
			killed_some = 1;
	fclose(f);
	return 0;
}

void testlib_kill_cgroup(const char *rel)
{
	char full[1600], kill_file[1700];
	int tries;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s%s", rel[0] == '/' ? "" : testlib_v2_root(),
		 rel[0] == '/' ? "" : "/", rel);
	/* cgroup.kill (5.14) takes the whole subtree, however deep; then the
	 * walk, for what forks meanwhile and where there is no cgroup.kill */
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", full);
	f = fopen(kill_file, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	/* what forks while we kill is killed on the next pass */
	for (tries = 0; tries < 500; tries++) {
		killed_some = 0;
		nftw(full, kill_procs, 16, FTW_PHYS);
		if (!killed_some)
			return;
		usleep(10000);
	}
}

void testlib_cleanup(void)
{
	int i;

	for (i = 0; i < nr_procs; i++)
		kill(procs_pids[i], SIGKILL);
	/* and what they started: stress-ng's workers, a shell's children */
	for (i = nr_cgroups - 1; i >= 0; i--)
		testlib_kill_cgroup(cgroups[i]);
	for (i = 0; i < nr_procs; i++)
		waitpid(procs_pids[i], NULL, 0);
	nr_procs = 0;
	/* children a test made by hand included, deepest first */
	for (i = nr_cgroups - 1; i >= 0; i--)
		rmdir_tree(cgroups[i]);
	nr_cgroups = 0;
}
