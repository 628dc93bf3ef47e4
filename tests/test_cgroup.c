// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* cgroupfs readers against fixture trees. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <sys/stat.h>

#include "../user/cgroup.h"

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
