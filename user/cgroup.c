// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"

static int copy_str(char *buf, size_t len, const char *s)
{
	if (strlen(s) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, s);
	return 0;
}

/* whether the comma-separated @opts contains @word */
static int has_option(const char *opts, const char *word)
{
	size_t n = strlen(word);
	const char *p = opts;

	while ((p = strstr(p, word))) {
		if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * mountinfo lines: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS". Find a line of @fstype whose super options hold
 * @option (if given).
 */
static int find_mount(const char *mountinfo, const char *fstype, const char *option, char *buf,
		      size_t len)
{
	char *line = NULL, *sep, mnt[4096], type[64], super[1024];
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	f = fopen(mountinfo, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		if (sscanf(sep + 3, "%63s %*s %1023s", type, super) != 2)
			continue;
		if (strcmp(type, fstype) || (option && !has_option(super, option)))
			continue;
		err = copy_str(buf, len, mnt);
		break;
	}
	free(line);
	fclose(f);
	return err;
}

int cgroup_find_v2_mount(const char *mountinfo, char *buf, size_t len)
{
	return find_mount(mountinfo, "cgroup2", NULL, buf, len);
}

int cgroup_find_v1_mount(const char *mountinfo, const char *controller, char *buf, size_t len)
{
	return find_mount(mountinfo, "cgroup", controller, buf, len);
}

int cgroup_path_to_id(const char *root, const char *path, uint64_t *id)
{
	char full[4096];
	struct stat st;

	while (*path == '/')
		path++;
	if (snprintf(full, sizeof(full), "%s/%s", root, path) >= (int)sizeof(full))
		return -ENAMETOOLONG;
	if (stat(full, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

int cgroup_of_pid(const char *proc, int pid, char *buf, size_t len)
{
	char path[256], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = copy_str(buf, len, line + 3);
		break;
	}
	free(line);
	fclose(f);
	return err;
}
