// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroupfs readers against fixture trees. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cgroupfs.h"
#include "host.h"

#define FIX "tests/fixtures"

TestSuite(cgroup);

Test(cgroup, finds_v2_mount_on_hybrid_and_pure_hosts)
{
	char buf[256];

	cr_assert(eq(int, cgroup_find_v2_mount(FIX "/mountinfo/hybrid", buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/sys/fs/cgroup/unified"));
	cr_assert(eq(int, cgroup_find_v2_mount(FIX "/mountinfo/pure-v2", buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/sys/fs/cgroup"));
	cr_assert(eq(int, cgroup_find_v2_mount(FIX "/mountinfo/no-cgroup", buf, sizeof(buf)),
		     -ENOENT));
	cr_assert(eq(int, cgroup_find_v2_mount(FIX "/mountinfo/missing", buf, sizeof(buf)),
		     -ENOENT));
	cr_assert(eq(int, cgroup_find_v2_mount(FIX "/mountinfo/hybrid", buf, 5), -ENAMETOOLONG));
}

Test(cgroup, finds_v1_controllers_by_super_option)
{
	char buf[256];

	cr_assert(eq(int, cgroup_find_v1_mount(FIX "/mountinfo/hybrid", "memory", buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/sys/fs/cgroup/memory"));
	cr_assert(eq(int, cgroup_find_v1_mount(FIX "/mountinfo/hybrid", "cpuacct", buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/sys/fs/cgroup/cpu,cpuacct"));
	cr_assert(eq(int, cgroup_find_v1_mount(FIX "/mountinfo/hybrid", "cpu", buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/sys/fs/cgroup/cpu,cpuacct"), "\"cpu\" must not match \"cpuset\"");
	cr_assert(eq(int, cgroup_find_v1_mount(FIX "/mountinfo/pure-v2", "memory", buf, sizeof(buf)),
		     -ENOENT));
}

Test(cgroup, path_to_id_is_the_directory_inode)
{
	struct stat st;
	uint64_t id;

	cr_assert(eq(int, stat(FIX "/mountinfo", &st), 0));
	cr_assert(eq(int, cgroup_path_to_id(FIX, "/mountinfo", &id), 0));
	cr_assert(eq(u64, id, (uint64_t)st.st_ino));
	cr_assert(eq(int, cgroup_path_to_id(FIX, "nope", &id), -ENOENT));
	cr_assert(eq(int, cgroup_path_to_id(FIX, "mountinfo/hybrid", &id), -ENOTDIR));
}

Test(cgroup, cgroup_of_pid_reads_the_v2_line)
{
	char buf[256];

	cr_assert(eq(int, cgroup_of_pid(FIX "/proc", 4242, buf, sizeof(buf)), 0));
	cr_assert(eq(str, buf, "/kubepods.slice/pod1.slice/cri-abc.scope"));
	cr_assert(eq(int, cgroup_of_pid(FIX "/proc", 4343, buf, sizeof(buf)), -ENOENT));
	cr_assert(eq(int, cgroup_of_pid(FIX "/proc", 1, buf, sizeof(buf)), -ESRCH));
}

#define CGFS FIX "/cgroupfs"

static struct cgroup_layout v2_host(void)
{
	struct cgroup_layout l = {};

	strcpy(l.v2, CGFS "/v2/cg");
	strcpy(l.proc, CGFS "/v2/proc");
	strcpy(l.sys_cpu, CGFS "/v2/sys");
	return l;
}

static struct cgroup_layout hybrid_host(void)
{
	struct cgroup_layout l = {};

	strcpy(l.v2, CGFS "/hybrid/unified");
	strcpy(l.cpu, CGFS "/hybrid/cpu");
	strcpy(l.cpuacct, CGFS "/hybrid/cpuacct");
	strcpy(l.cpuset, CGFS "/hybrid/cpuset");
	strcpy(l.memory, CGFS "/hybrid/memory");
	strcpy(l.proc, CGFS "/hybrid/proc");
	strcpy(l.sys_cpu, CGFS "/hybrid/sys");
	return l;
}

Test(cgroup, layout_detect_on_this_host)
{
	struct cgroup_layout l;

	cr_assert(eq(int, cgroup_layout_detect(&l, FIX "/mountinfo/hybrid"), 0));
	cr_assert(eq(str, l.v2, "/sys/fs/cgroup/unified"));
	cr_assert(eq(str, l.memory, "/sys/fs/cgroup/memory"));
	cr_assert(eq(str, l.cpuacct, "/sys/fs/cgroup/cpu,cpuacct"));
	cr_assert(eq(int, cgroup_layout_detect(&l, FIX "/mountinfo/pure-v2"), 0));
	cr_assert(eq(str, l.v2, "/sys/fs/cgroup"));
	cr_assert(eq(str, l.memory, ""));
	cr_assert(eq(int, cgroup_layout_detect(&l, FIX "/mountinfo/no-cgroup"), -ENOENT));
}

Test(cgroup, v2_cpu_usage_and_capacity)
{
	struct cgroup_layout l = v2_host();
	uint64_t ns;
	double cpus;

	cr_assert(eq(int, cgroup_cpu_usage(&l, "kubepods/pod1", &ns), 0));
	cr_assert(eq(u64, ns, 1500000000ULL));
	cr_assert(eq(int, cgroup_cpu_usage(&l, "kubepods/pod2", &ns), -ENOENT));
	cr_assert(eq(int, cgroup_cpu_capacity(&l, "kubepods/pod1", &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.5), "quota 50000/100000");
	cr_assert(eq(int, cgroup_cpu_capacity(&l, "kubepods/pod2", &cpus), 0));
	cr_assert(eq(dbl, cpus, 3.0), "unlimited: effective cpuset 0-1,4");
	cr_assert(eq(int, cgroup_cpu_capacity(&l, "kubepods/pod3", &cpus), 0));
	cr_assert(eq(dbl, cpus, 8.0), "no cpuset file: online CPUs 0-7");
}

Test(cgroup, v2_memory_working_set_and_limit)
{
	struct cgroup_layout l = v2_host();
	struct cgroup_memory m;
	uint64_t us;

	cr_assert(eq(int, cgroup_memory(&l, "kubepods/pod1", &m), 0));
	cr_assert(eq(i64, m.usage_bytes, 1073741824));
	cr_assert(eq(i64, m.working_set_bytes, 1073741824 - 268435456));
	cr_assert(eq(i64, m.limit_bytes, 2147483648), "pod1 is unlimited, its parent is not");
	cr_assert(eq(int, cgroup_memory(&l, "kubepods/pod2", &m), 0));
	cr_assert(eq(i64, m.working_set_bytes, 0), "inactive file above usage clamps to 0");
	cr_assert(eq(i64, m.limit_bytes, 536870912));
	cr_assert(eq(int, cgroup_psi_some_us(&l, "kubepods/pod1", "memory", &us), 0));
	cr_assert(eq(u64, us, 123456));
	cr_assert(eq(int, cgroup_psi_some_us(&l, "kubepods/pod2", "memory", &us), -ENOENT));
	cr_assert(eq(int, cgroup_memory(&l, "kubepods/gone", &m), -ENOENT));
}

/* the parts a caller that keeps its ancestors' limits reads: a cgroup's own */
Test(cgroup, v2_own_limits_and_limits_under_a_known_parent)
{
	struct cgroup_layout l = v2_host();
	struct cgroup_memory m;
	int64_t above = 1073741824, none = -1;
	double cpus;

	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "kubepods/pod1", NULL, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.5));
	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "kubepods/pod1", NULL, 0.25, &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.25), "the parent's, smaller");
	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "kubepods/pod2", NULL, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.0), "max: no quota of its own");
	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "kubepods/pod2", NULL, 1.5, &cpus), 0));
	cr_assert(eq(dbl, cpus, 1.5), "none of its own: the parent's");
	cr_assert(eq(int, cgroup_cpu_capacity_under(&l, "kubepods/pod2", NULL, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 3.0), "no quota: its cpuset 0-1,4");
	cr_assert(eq(int, cgroup_cpu_capacity_under(&l, "kubepods/pod2", NULL, 1.5, &cpus), 0));
	cr_assert(eq(dbl, cpus, 1.5));
	cr_assert(eq(i64, cgroup_memory_max_under(&l, "kubepods", -1), 2147483648));
	cr_assert(eq(i64, cgroup_memory_max_under(&l, "kubepods/pod1", -1), -1), "max");
	cr_assert(eq(i64, cgroup_memory_max_under(&l, "kubepods/pod1", 4096), 4096));
	cr_assert(eq(i64, cgroup_memory_max_under(&l, "kubepods/pod2", -1), 536870912));
	cr_assert(eq(i64, cgroup_memory_max_under(&l, "kubepods/gone", -1), -1));
	/* the parent's limit as the caller knows it, not read up the tree */
	cr_assert(eq(int, cgroup_memory_under(&l, "kubepods/pod1", &above, NULL, &m), 0));
	cr_assert(eq(i64, m.limit_bytes, 1073741824));
	cr_assert(eq(int, cgroup_memory_under(&l, "kubepods/pod1", &none, NULL, &m), 0));
	cr_assert(eq(i64, m.limit_bytes, -1), "no limit of its own, none above");
	cr_assert(eq(int, cgroup_memory_under(&l, "kubepods/pod2", &above, NULL, &m), 0));
	cr_assert(eq(i64, m.limit_bytes, 536870912), "its own, below the parent's");
	cr_assert(eq(i64, m.usage_bytes, 4096));
}

Test(cgroup, hybrid_reads_v1_controllers)
{
	struct cgroup_layout l = hybrid_host();
	struct cgroup_memory m;
	char v1[256];
	uint64_t ns;
	double cpus;

	cr_assert(eq(int, cgroup_cpu_usage(&l, "svc", &ns), 0));
	cr_assert(eq(u64, ns, 42000));
	cr_assert(eq(int, cgroup_cpu_capacity(&l, "svc", &cpus), 0));
	cr_assert(eq(dbl, cpus, 1.5), "v1 cfs quota 150000/100000");
	cr_assert(eq(int, cgroup_memory(&l, "svc", &m), 0));
	cr_assert(eq(i64, m.usage_bytes, 1000000));
	cr_assert(eq(i64, m.working_set_bytes, 700000));
	cr_assert(eq(i64, m.limit_bytes, -1), "v1 'unlimited' is a huge number");
	/* "moved" has no same-named v1 memory cgroup: found through its first task */
	cr_assert(eq(int, cgroup_v1_path(&l, l.memory, "memory", "moved", v1, sizeof(v1)), 0));
	cr_assert(eq(str, v1, "/docker/abc"));
	cr_assert(eq(int, cgroup_memory(&l, "moved", &m), 0));
	cr_assert(eq(i64, m.limit_bytes, 104857600));
	cr_assert(eq(i64, m.working_set_bytes, 0));
	cr_assert(eq(int, cgroup_cpu_capacity(&l, "moved", &cpus), 0));
	cr_assert(eq(dbl, cpus, 4.0), "no quota, no cpuset: online 0-3");
}

Test(cgroup, hybrid_v1_cpu_cgroups_found_at_once_and_kept)
{
	struct cgroup_layout l = hybrid_host();
	struct cgroup_cpu_twins t, gone = { "/gone", "/gone" };
	double cpus;

	/* "job" is in v2 alone: its task's v1 cgroups, from one read */
	cr_assert(eq(int, cgroup_cpu_twins_find(&l, "job", &t), 0));
	cr_assert(eq(str, t.cpu, "/batch/job"));
	cr_assert(eq(str, t.cpuset, "/pinned"));
	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "job", &t, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.5), "/batch/job's cfs quota 50000/100000");
	cr_assert(eq(int, cgroup_cpu_capacity_under(&l, "job", &t, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 2.0), "/pinned's cpus 0-1");
	cgroup_cpu_twins_free(&t);
	cr_assert(eq(ptr, t.cpu, NULL));
	/* kept ones that are gone: found again through the task */
	cr_assert(eq(int, cgroup_cpu_quota_under(&l, "job", &gone, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 0.5));
	cr_assert(eq(int, cgroup_cpu_capacity_under(&l, "job", &gone, 0, &cpus), 0));
	cr_assert(eq(dbl, cpus, 2.0));
	/* "svc" has cgroups of the same path in v1: those */
	cr_assert(eq(int, cgroup_cpu_twins_find(&l, "svc", &t), 0));
	cr_assert(eq(str, t.cpu, "svc"));
	cr_assert(eq(str, t.cpuset, "svc"));
	cgroup_cpu_twins_free(&t);
	/* no v1 cpu hierarchies: none */
	cr_assert(eq(int, cgroup_cpu_twins_find(&(struct cgroup_layout){ 0 }, "job", &t), 0));
	cr_assert(eq(ptr, t.cpu, NULL));
	cr_assert(eq(ptr, t.cpuset, NULL));
}

Test(cgroup, meminfo_and_cpulist)
{
	int64_t total, avail;

	cr_assert(eq(int, meminfo_read(CGFS "/v2/meminfo", &total, &avail), 0));
	cr_assert(eq(i64, total, 16384000LL * 1024));
	cr_assert(eq(i64, avail, 8192000LL * 1024));
	cr_assert(eq(int, meminfo_read(CGFS "/v2/sys/online", &total, &avail), -EINVAL));
	cr_assert(eq(int, cpulist_count("0-3,8,10-11\n"), 7));
	cr_assert(eq(int, cpulist_count("5"), 1));
	cr_assert(eq(int, cpulist_count("3-1"), -EINVAL));
	cr_assert(eq(int, cpulist_count("a"), -EINVAL));
}

/* cgroupfs allows paths beyond PATH_MAX: their files are read all the same */
Test(cgroup, files_of_paths_beyond_path_max_are_read)
{
	char root[64], name[256], path[8192] = "", cmd[128], line[64];
	uint64_t usage;
	int fd, next, i;
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/cgsnap-test-%d-long", getpid());
	cr_assert(eq(int, mkdir(root, 0755), 0));
	memset(name, 'y', 255);
	name[255] = '\0';
	fd = open(root, O_RDONLY | O_DIRECTORY);
	for (i = 0; i < 20; i++) {
		cr_assert(eq(int, mkdirat(fd, name, 0755), 0));
		next = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
		strcat(path, i ? "/" : "");
		strcat(path, name);
	}
	next = openat(fd, "cpu.stat", O_WRONLY | O_CREAT, 0644);
	f = fdopen(next, "w");
	fputs("usage_usec 4242\nuser_usec 1\n", f);
	fclose(f);
	close(fd);
	cr_assert(gt(sz, strlen(path), 4096));
	cr_assert(eq(int, cgroup_read_key(root, path, "cpu.stat", "usage_usec", &usage), 0));
	cr_assert(eq(u64, usage, 4242));
	cr_assert(eq(int, cgroup_read_line(root, path, "cpu.stat", line, sizeof(line)), 0));
	cr_assert(eq(str, line, "usage_usec 4242"));
	cr_assert(eq(int, cgroup_read_line(root, path, "nope", line, sizeof(line)), -ENOENT));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert(eq(int, system(cmd), 0));
}
