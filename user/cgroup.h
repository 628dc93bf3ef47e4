/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading cgroupfs. Library code: no logging; commands return 0 or -errno.
 * Every function takes the filesystem location it reads as a parameter so
 * tests can point it at fixture trees.
 */
#ifndef __CGSNAP_CGROUP_H
#define __CGSNAP_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define PROC_MOUNTINFO "/proc/self/mountinfo"

/*
 * Find the cgroup v2 mount point in @mountinfo (a /proc/PID/mountinfo file):
 * /sys/fs/cgroup on pure v2 hosts, /sys/fs/cgroup/unified on hybrid ones.
 * Returns 0, -ENOENT if there is none, -ENAMETOOLONG, or -errno from reading.
 */
int cgroup_find_v2_mount(const char *mountinfo, char *buf, size_t len);

/* Find the mount point of the v1 hierarchy carrying @controller (e.g.
 * "memory", "cpu", "cpuacct", "cpuset"). Returns as cgroup_find_v2_mount(). */
int cgroup_find_v1_mount(const char *mountinfo, const char *controller, char *buf, size_t len);

/* The cgroup v2 id of @path (relative to the v2 mount @root, "" or "/" for
 * the root): the inode number of its directory. Returns 0, -ENOENT,
 * -ENOTDIR or -errno. */
int cgroup_path_to_id(const char *root, const char *path, uint64_t *id);

/* The cgroup v2 path (relative to its mount) of process @pid, read from
 * @proc (normally "/proc"). Returns 0, -ESRCH if there is no such process,
 * -ENOENT if it has no v2 cgroup line, -errno. */
int cgroup_of_pid(const char *proc, int pid, char *buf, size_t len);

#endif /* __CGSNAP_CGROUP_H */
