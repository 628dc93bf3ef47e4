// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's options that own memory: the --cgroup list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "cgroupfs.h"

int agent_opts_add_cgroup(struct agent_opts *o, const char *path)
{
	char **v;

	if (!cgroup_path_valid(path))
		return -EINVAL;
	v = realloc(o->cgroups, (o->nr_cgroups + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->cgroups = v;
	v[o->nr_cgroups] = strdup(path);
	if (!v[o->nr_cgroups])
		return -ENOMEM;
	o->nr_cgroups++;
	return 0;
}

void agent_opts_free(struct agent_opts *o)
{
	while (o->nr_cgroups)
		free(o->cgroups[--o->nr_cgroups]);
	free(o->cgroups);
	o->cgroups = NULL;
}
